"""
Disclosure, requests and complaints through HTTP (issue 5).

  - The export (GET /v1/me/export, JSON and CSV) holds this member's fields, survey answers,
    consents, diary, requests, complaints, notices and access history, and nothing of
    another member registered with distinctive values; it is audited.
  - Requests: a refusal of a disclosure without one of the policy's three grounds is 422;
    with a ground it is final, the member reads the reasons, another member gets 404.
    An applied amendment changes the data, the audit names the fields (no values), the
    member is notified.  An applied erasure leaves the member unreadable and unable to log
    in, and returns a signed certificate that `custodian receipt verify` accepts (and
    refuses once altered), also retrievable with the certificate token alone.
  - The clock, on a server of this module's own: a request whose target has passed (the
    store's dates moved back while the server is stopped) is on the officer's overdue list.
  - Complaints: filed, assigned to an officer, answered, closed with a response; closing
    without any response is refused; the member reads the thread.
  - Malformed bodies and parameters: a 4xx with the one error shape, nothing echoed,
    nothing written.
"""
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

import pytest

from conftest import Server, assert_error_body, assert_no_personal, check_access_log

PASSWORD = "requests suite password 5"
DAY_US = 86400 * 1000000


def member(srv, survey=True, **over):
    m = srv.register(srv.new_values(survey=survey, **over), role=None, password=PASSWORD)
    srv.login(m)
    return m


def file_request(srv, m, body, status=201):
    r = srv.post("/v1/requests", member=m, json=body)
    assert r.status_code == status, r.text
    return r.json()


def decide(srv, rid, status=200, **body):
    r = srv.post(f"/v1/requests/{rid}/decision", role="officer", json=body)
    assert r.status_code == status, r.text
    return r.json()


def notices(srv, m):
    r = srv.get("/v1/me/notices", member=m)
    assert r.status_code == 200, r.text
    return r.json()["notices"]


def refused(r, status, code):
    assert r.status_code == status, r.text
    return assert_error_body(r, code)


# ---- the export ------------------------------------------------------------------------------

def test_export_holds_exactly_this_member(srv):
    a = member(srv)
    b = member(srv)
    for m, tag in ((a, "A"), (b, "B")):
        r = srv.post("/v1/me/diaries", member=m,
                     json={"title": f"diary-{tag}-{m.id[:6]}", "body": f"entry of {m.values['name']}"})
        assert r.status_code == 201, r.text
        file_request(srv, m, {"type": "amendment",
                              "details": {"changes": {"occupation": f"occ-{tag}-{m.id[:6]}"},
                                          "reason": f"reason-{tag}-{m.id[:6]}"}})
        r = srv.post("/v1/complaints", member=m,
                     json={"about": "use", "text": f"complaint-{tag}-{m.id[:6]}"})
        assert r.status_code == 201, r.text
        r = srv.request("PUT", "/v1/me/consents", member=m,
                        json={"kind": "cookie", "target": "statistics", "granted": False})
        assert r.status_code == 200, r.text
    # Staff read A: it shows in A's access history.
    assert srv.get(f"/v1/members/{a.id}", role="staff", params={"purpose": "support"}).status_code == 200
    head = srv.audit_head()

    r = srv.get("/v1/me/export", member=a)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert "attachment" in r.headers.get("Content-Disposition", "")
    doc = r.json()
    text = r.text
    # Every value A gave, and A's words in the diary, request and complaint.
    for k, v in a.values.items():
        assert v in text, k
    for needle in (f"diary-A-{a.id[:6]}", f"occ-A-{a.id[:6]}", f"reason-A-{a.id[:6]}",
                   f"complaint-A-{a.id[:6]}"):
        assert needle in text, needle
    # Nothing of B: no value, no word, no id.
    for v in b.values.values():
        if len(v) >= 6 and v not in a.values.values():   # a shared birth date is no leak
            assert v not in text, v
    for needle in (b.id, f"diary-B-{b.id[:6]}", f"occ-B-{b.id[:6]}", f"complaint-B-{b.id[:6]}"):
        assert needle not in text, needle
    assert doc["member"]["id"] == a.id
    assert doc["fields"]["name"] == a.values["name"]
    assert doc["survey"]["hobbies"] == a.values["hobbies"]
    assert len(doc["diaries"]) == 1 and len(doc["requests"]) == 1 and len(doc["complaints"]) == 1
    assert doc["requests"][0]["details"]["changes"] == {"occupation": f"occ-A-{a.id[:6]}"}
    assert "statistics" in [c["target"] for c in doc["consents"]]
    assert isinstance(doc["provisions"], list) and isinstance(doc["shares"], list)
    assert len(doc["notices"]) >= 2
    assert any(e["actor"] == srv.token_names["staff"] and e["purpose"] == "support"
               for e in doc["access_history"])
    # Another member is named by role only; the member's own sign-up is "self".
    assert all(e["role"] != "member" or e["actor"] in ("another member", "self")
               for e in doc["access_history"])
    # Audited before it left: the field read, the diary read and the export itself.
    assert srv.audit_head() == head + 3
    entries = srv.audit(member=a.id, limit=1000)
    assert entries[-1]["action"] == "export" and entries[-1]["reason"] == "format=json"
    assert entries[-1]["actor"] == a.id
    assert_no_personal(srv, json.dumps(entries))

    # CSV: one document, a section column, the same values, nothing of B.
    r = srv.get("/v1/me/export", member=a, params={"format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert rows[0] == ["section", "item", "key", "value"]
    assert all(len(row) == 4 for row in rows)
    assert ["fields", "", "name", a.values["name"]] in rows
    assert ["fields", "", "address", a.values["address"]] in rows
    sections = {row[0] for row in rows[1:]}
    assert {"export", "member", "fields", "survey", "consents", "diaries", "requests",
            "complaints", "notices", "access_history"} <= sections
    assert b.id not in r.text and b.values["name"] not in r.text


def test_export_reports_a_damaged_diary_entry_and_serves_the_rest(srv):
    """Issue 8, defect 11d: one corrupt sealed diary title made the whole export a 500."""
    m = member(srv)
    ids = []
    for i in range(3):
        r = srv.post("/v1/me/diaries", member=m,
                     json={"title": f"damage-title-{i}-{m.id[:6]}", "body": f"damage-body-{i}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    bad = ids[1]
    db = sqlite3.connect(os.path.join(srv.data, "custodian.db"), timeout=10)
    with db:
        (title,) = db.execute("SELECT title FROM diaries WHERE id = ?", (bad,)).fetchone()
        flipped = bytearray(title)
        flipped[len(flipped) // 2] ^= 0x01
        assert db.execute("UPDATE diaries SET title = ? WHERE id = ?",
                          (bytes(flipped), bad)).rowcount == 1
    db.close()

    r = srv.get("/v1/me/export", member=m)
    assert r.status_code == 200, r.text
    doc = r.json()
    by_id = {d["id"]: d for d in doc["diaries"]}
    assert set(by_id) == set(ids)
    for i, did in enumerate(ids):
        if did == bad:
            assert by_id[did]["unreadable"] is True
            assert by_id[did]["title"] is None and by_id[did]["body"] is None
        else:
            assert by_id[did]["title"] == f"damage-title-{i}-{m.id[:6]}"
            assert by_id[did]["body"] == f"damage-body-{i}"
    assert doc["errors"] == [{"section": "diaries", "id": bad, "error": "unreadable",
                              "message": doc["errors"][0]["message"]}]
    # The rest of the export is whole: fields, and the CSV form too.
    assert doc["fields"]["name"] == m.values["name"]
    r = srv.get("/v1/me/export", member=m, params={"format": "csv"})
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert ["errors", bad, "error", "unreadable"] in rows
    # The diary list itself names the damaged entry and shows the others.
    r = srv.get("/v1/me/diaries", member=m)
    assert r.status_code == 200, r.text
    listed = {d["id"]: d for d in r.json()["entries"]}
    assert listed[bad]["unreadable"] is True and listed[bad]["title"] is None
    assert listed[ids[0]]["title"] == f"damage-title-0-{m.id[:6]}"


@pytest.mark.parametrize("params,status,code", [
    ({"format": "xml"}, 400, "invalid_argument"),
    ({"format": ""}, 400, "invalid_argument"),
    ({"member": "x"}, 400, "invalid_argument"),
])
def test_export_bad_parameters(srv, portal_member, params, status, code):
    head = srv.audit_head()
    refused(srv.get("/v1/me/export", member=portal_member, params=params), status, code)
    assert srv.audit_head() == head


def test_export_is_the_members_own(srv, full_member):
    refused(srv.get("/v1/me/export", role="officer"), 403, "forbidden")
    refused(srv.get("/v1/me/export"), 401, "unauthenticated")


# ---- requests ------------------------------------------------------------------------------

def test_refusal_needs_one_of_the_three_grounds(srv):
    m = member(srv)
    other = member(srv)
    req = file_request(srv, m, {"type": "disclosure", "details": {"note": "everything please"}})
    rid = req["request"]["id"]
    assert req["request"]["state"] == "received" and "certificate_token" not in req
    assert req["request"]["days_left"] == 13 or req["request"]["days_left"] == 14
    assert notices(srv, m)[0]["subject"] == f"Your disclosure request {rid} was received"

    err = refused(srv.post(f"/v1/requests/{rid}/decision", role="officer",
                           json={"action": "refuse", "reasons": "Ratatosk reasons"}),
                  422, "invalid_field")
    assert err["fields"] == {"ground": "required"}
    err = refused(srv.post(f"/v1/requests/{rid}/decision", role="officer",
                           json={"action": "refuse", "ground": "because",
                                 "reasons": "Ratatosk reasons"}), 422, "invalid_field")
    assert err["fields"] == {"ground": "unknown"}
    err = refused(srv.post(f"/v1/requests/{rid}/decision", role="officer",
                           json={"action": "refuse", "ground": "business_interference"}),
                  422, "invalid_field")
    assert err["fields"] == {"reasons": "required"}
    assert srv.get(f"/v1/requests/{rid}", role="officer").json()["state"] == "received"

    decide(srv, rid, action="investigate")
    refused(srv.post(f"/v1/requests/{rid}/decision", role="officer",
                     json={"action": "investigate"}), 409, "conflict")
    out = decide(srv, rid, action="refuse", ground="business_interference",
                 reasons="Ratatosk reasons: the archive is being migrated")
    assert out["request"]["state"] == "refused"
    assert out["request"]["ground"] == "business_interference"
    refused(srv.post(f"/v1/requests/{rid}/decision", role="officer",
                     json={"action": "apply"}), 409, "conflict")

    # The member reads the reasons and the history; the notice has the ground, not the reasons.
    view = srv.get(f"/v1/requests/{rid}", member=m).json()
    assert [h["state"] for h in view["history"]] == ["received", "investigating", "refused"]
    assert view["history"][-1]["reasons"] == "Ratatosk reasons: the archive is being migrated"
    assert view["details"] == {"note": "everything please"}
    n = notices(srv, m)[0]
    assert "refused" in n["subject"] and "interfere" in n["body"] and "Ratatosk" not in n["body"]
    # Another member, and other roles, do not see it.
    refused(srv.get(f"/v1/requests/{rid}", member=other), 404, "not_found")
    refused(srv.get(f"/v1/requests/{rid}", role="staff"), 403, "forbidden")
    entries = srv.audit(member=m.id, limit=1000)
    assert any(e["action"] == "request_decide" and "ground=business_interference" in e["reason"]
               for e in entries)
    assert "Ratatosk" not in json.dumps(entries)


# ---- refusals and the self-service export (issue 8, defect 7) -------------------------------

def refuse_disclosure(srv, m, ground):
    rid = file_request(srv, m, {"type": "disclosure"})["request"]["id"]
    out = decide(srv, rid, action="refuse", ground=ground,
                 reasons="Refusal reasons for the export test")
    assert out["request"]["state"] == "refused"
    return rid


@pytest.mark.parametrize("ground", ["harm_to_life_or_rights", "breach_of_law"])
def test_refusal_on_a_ground_about_the_data_suspends_the_export(srv, ground):
    m = member(srv)
    assert srv.get("/v1/me/export", member=m).status_code == 200
    rid = refuse_disclosure(srv, m, ground)
    head = srv.audit_head()
    # JSON and CSV alike: 403 naming the refusal (its id and ground), nothing of the data.
    for params in (None, {"format": "csv"}):
        r = srv.get("/v1/me/export", member=m, params=params)
        err = refused(r, 403, "disclosure_refused")
        assert rid in err["message"] and ground in err["message"]
        assert m.values["name"] not in r.text
    # Audited: one denied export entry each, naming the refusal; no field was read.
    entries = srv.audit(member=m.id, after=head, limit=100)
    assert [(e["action"], e["decision"]) for e in entries] == [("export", "deny")] * 2
    assert all(f"disclosure_refused request={rid} ground={ground}" in e["reason"]
               for e in entries)
    # The member was told the export is suspended.
    assert "suspended" in notices(srv, m)[0]["body"]
    # Only a standing refusal is lifted, by an officer; then the export works again.
    refused(srv.post(f"/v1/requests/{rid}/decision", role="staff", json={"action": "lift"}),
            403, "forbidden")
    out = decide(srv, rid, action="lift", reasons="The order was withdrawn.")
    assert out["request"]["state"] == "lifted" and out["request"]["ground"] == ground
    refused(srv.post(f"/v1/requests/{rid}/decision", role="officer", json={"action": "lift"}),
            409, "conflict")
    assert "lifted" in notices(srv, m)[0]["subject"]
    view = srv.get(f"/v1/requests/{rid}", member=m).json()
    assert [h["state"] for h in view["history"]] == ["received", "refused", "lifted"]
    r = srv.get("/v1/me/export", member=m)
    assert r.status_code == 200, r.text
    assert r.json()["fields"]["name"] == m.values["name"]


def test_refusal_for_business_interference_leaves_the_export(srv):
    m = member(srv)
    rid = refuse_disclosure(srv, m, "business_interference")
    assert srv.get("/v1/me/export", member=m).status_code == 200
    # Nothing to lift; and an open request cannot be "lifted" either.
    refused(srv.post(f"/v1/requests/{rid}/decision", role="officer", json={"action": "lift"}),
            409, "conflict")
    open_rid = file_request(srv, m, {"type": "disclosure"})["request"]["id"]
    refused(srv.post(f"/v1/requests/{open_rid}/decision", role="officer",
                     json={"action": "lift"}), 409, "conflict")


def test_export_agrees_with_consents_and_names_the_sign_up_self(srv):
    m = member(srv)
    r = srv.get("/v1/me/consents", member=m)
    assert r.status_code == 200, r.text
    version = r.json()["policy"]["accepted"]
    assert version
    doc = srv.get("/v1/me/export", member=m).json()
    # The version /v1/me/consents names, and on what basis (registered under it).
    assert doc["accepted_policy"] is not None
    assert doc["accepted_policy"]["version"] == version
    assert doc["accepted_policy"]["basis"] == "registration"
    # The member's own sign-up is theirs: "self", never "another member".
    signup = [e for e in doc["access_history"] if e["action"] == "register"]
    assert [(e["actor"], e["role"]) for e in signup] == [("self", "member")]
    assert all(e["actor"] != "another member" for e in doc["access_history"])
    # The access log names it the same way.
    log = srv.get("/v1/me/access-log", member=m).json()["entries"]
    assert [e["actor"] for e in log if e["action"] == "register"] == ["self"]
    # After an explicit acceptance the export says so, as the consents do.
    r = srv.post("/v1/me/policy/accept", member=m)
    assert r.status_code == 200, r.text
    doc = srv.get("/v1/me/export", member=m).json()
    assert doc["accepted_policy"]["version"] == srv.get(
        "/v1/me/consents", member=m).json()["policy"]["accepted"]
    assert doc["accepted_policy"]["basis"] == "accepted"


def test_amendment_applied_changes_data_and_notifies(srv):
    m = member(srv)
    new_address = f"{m.id[:5]} Amended-Street, Sapporo"
    srv.remember({"address": new_address})
    req = file_request(srv, m, {"type": "amendment",
                                "details": {"changes": {"address": new_address, "hobbies": None},
                                            "reason": "I moved; and I gave up hobbies."}})
    rid = req["request"]["id"]
    assert req["request"]["fields"] == ["address", "hobbies"]
    assert srv.get("/v1/me", member=m).json()["fields"]["address"] == m.values["address"]

    out = decide(srv, rid, action="apply")
    assert out["request"]["state"] == "applied"
    fields = srv.get("/v1/me", member=m).json()["fields"]
    assert fields["address"] == new_address
    assert "hobbies" not in fields
    amend = [e for e in srv.audit(member=m.id, limit=1000) if e["action"] == "amend"]
    assert len(amend) == 1
    assert amend[0]["fields"] == "address,hobbies"
    assert amend[0]["actor"] == srv.token_names["officer"] and amend[0]["purpose"] == "amendment"
    assert "before=address,hobbies" in amend[0]["reason"] and "after=address" in amend[0]["reason"]
    assert new_address not in json.dumps(amend)
    n = notices(srv, m)[0]
    assert n["kind"] == "amendment" and "applied" in n["subject"]
    assert "Amended: address" in n["body"] and "Deleted: hobbies" in n["body"]
    assert new_address not in n["body"]


def test_erasure_applied_with_a_certificate(srv, tmp_path):
    m = member(srv)
    req = file_request(srv, m, {"type": "erasure"})
    rid = req["request"]["id"]
    token = req["certificate_token"]
    assert len(token) == 43
    refused(srv.get(f"/v1/requests/{rid}/certificate", headers={"X-Certificate-Token": token}),
            404, "not_found")

    out = decide(srv, rid, action="apply")
    assert out["request"]["state"] == "applied"
    cert = out["certificate"]
    assert cert["certificate"]["member"] == m.id and cert["certificate"]["request"] == rid
    assert cert["certificate"]["type"] == "erasure"
    assert "email" in cert["certificate"]["destroyed"]["fields"]
    assert_no_personal(srv, json.dumps(cert))

    # Unreadable and logged out.
    refused(srv.get(f"/v1/members/{m.id}", role="staff", params={"purpose": "support"}),
            404, "erased")
    refused(srv.get("/v1/me", member=m), 401, "unauthenticated")
    r = srv.post("/v1/session", json={"email": m.email, "password": PASSWORD})
    assert r.status_code == 401
    assert srv.search("email", m.email).status_code == 404

    # The certificate, with the token alone; not with another; the same as issued.
    r = srv.get(f"/v1/requests/{rid}/certificate", headers={"X-Certificate-Token": token})
    assert r.status_code == 200, r.text
    assert r.json() == cert
    wrong = ("A" if token[0] != "A" else "B") + token[1:]
    refused(srv.get(f"/v1/requests/{rid}/certificate", headers={"X-Certificate-Token": wrong}),
            401, "unauthenticated")
    refused(srv.get(f"/v1/requests/{rid}/certificate"), 401, "unauthenticated")
    assert srv.get(f"/v1/requests/{rid}/certificate", role="officer").json() == cert

    # It verifies (signature and key), and an altered copy does not.
    path = os.path.join(tmp_path, "certificate.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(r.text)
    res = subprocess.run([srv.binary, "--data", srv.data, "receipt", "verify", path],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "certificate valid" in res.stdout and "this custodian" in res.stdout
    altered = dict(cert, certificate=dict(cert["certificate"], erased="2000-01-01T00:00:00Z"))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(altered, f)
    res = subprocess.run([srv.binary, "--data", srv.data, "receipt", "verify", path],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "altered" in res.stderr
    # Also checked here, with the public key it names (when the library is at hand).
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return
    c = cert["certificate"]
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(c["public_key"]))
    key.verify(bytes.fromhex(cert["signature"]),
               json.dumps(c, separators=(",", ":"), sort_keys=True,
                          ensure_ascii=False).encode("utf-8"))


# ---- the clock, on a server of its own ---------------------------------------------------------

@pytest.fixture(scope="module")
def clock(request):
    """A server of its own: its store's dates are moved while it is stopped."""
    binary = request.config.getoption("--custodian")
    root = tempfile.mkdtemp(prefix="cu-api-clock-")
    s = Server(os.path.abspath(binary), root)
    try:
        s.setup()
        s.start()
        yield s
        status = s.stop()
        assert status == 0, f"no graceful stop (status {status}): {s.stderr()}"
        check_access_log(s, s.access_log())
        assert_no_personal(s, s.stderr(limit=None))
    finally:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def move_back(server, table, rid, days):
    """Moves a case's dates back by `days` less an hour, as if filed that long ago.  (Days
    left are whole days rounded down: the hour keeps the seconds the test takes from
    tipping a count over.)"""
    shift = days * DAY_US - 3600 * 1000000
    db = sqlite3.connect(os.path.join(server.data, "custodian.db"))
    cols = ("received_us", "due_us", "hard_due_us") if table == "requests" else ("received_us",
                                                                                  "due_us")
    with db:
        n = db.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = {c} - ?" for c in cols) +
                       " WHERE id = ?", (*([shift] * len(cols)), rid)).rowcount
    db.close()
    assert n == 1


def test_overdue_lists_follow_the_clock(clock):
    m = member(clock)
    late = file_request(clock, m, {"type": "disclosure"})["request"]["id"]
    fresh = file_request(clock, m, {"type": "erasure"})["request"]["id"]
    cid = clock.post("/v1/complaints", member=m,
                     json={"about": "disclosure", "text": "Still no answer."}).json()["complaint"]["id"]
    assert clock.get("/v1/requests", role="officer", params={"status": "overdue"}).json()["requests"] == []
    open_ids = [x["id"] for x in clock.get("/v1/requests", role="officer").json()["requests"]]
    assert set(open_ids) == {late, fresh}

    assert clock.stop() == 0
    move_back(clock, "requests", late, 20)
    move_back(clock, "complaints", cid, 31)
    clock.start()

    body = clock.get("/v1/requests", role="officer", params={"status": "overdue"}).json()
    assert body["status"] == "overdue"
    assert [x["id"] for x in body["requests"]] == [late]
    row = body["requests"][0]
    assert row["overdue"] is True and row["days_left"] == -6 and row["hard_days_left"] == 10
    # Earliest target first in the open list.
    assert [x["id"] for x in clock.get("/v1/requests", role="officer").json()["requests"]] == [late, fresh]
    body = clock.get("/v1/complaints", role="officer", params={"status": "overdue"}).json()
    assert [x["id"] for x in body["complaints"]] == [cid]
    assert body["complaints"][0]["days_left"] == -1
    # Decided or closed: off the lists.
    srv = clock
    m2 = srv.login(m)
    decide(srv, late, action="apply")
    assert srv.get("/v1/requests", role="officer", params={"status": "overdue"}).json()["requests"] == []
    r = srv.post(f"/v1/complaints/{cid}/responses", role="officer",
                 json={"text": "Answered, late: sorry.", "close": True})
    assert r.status_code == 201, r.text
    assert srv.get("/v1/complaints", role="officer", params={"status": "overdue"}).json()["complaints"] == []
    assert m2.status_code == 200


# ---- complaints ------------------------------------------------------------------------------

def test_complaint_lifecycle(srv):
    m = member(srv)
    r = srv.post("/v1/complaints", member=m,
                 json={"about": "provision", "text": "Quokkafield Ltd wrote to me; who told them?"})
    assert r.status_code == 201, r.text
    c = r.json()["complaint"]
    cid = c["id"]
    assert c["state"] == "received" and c["about"] == "provision" and c["days_left"] in (29, 30)
    assert any(x["id"] == cid for x in srv.get("/v1/complaints", role="officer").json()["complaints"])

    # Closing with nothing to read is refused.
    err = refused(srv.post(f"/v1/complaints/{cid}/responses", role="officer", json={"close": True}),
                  422, "invalid_field")
    assert err["fields"] == {"text": "response_required"}
    # Assigned to an officer (a token holder), not to anyone.
    err = refused(srv.post(f"/v1/complaints/{cid}/assign", role="officer",
                           json={"officer": srv.token_names["staff"]}), 422, "invalid_field")
    assert err["fields"] == {"officer": "not_an_officer"}
    r = srv.post(f"/v1/complaints/{cid}/assign", role="officer",
                 json={"officer": srv.token_names["officer"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": cid, "assigned": srv.token_names["officer"]}

    r = srv.post(f"/v1/complaints/{cid}/responses", role="officer",
                 json={"text": "We are checking our provision records."})
    assert r.status_code == 201 and r.json()["complaint"]["state"] == "answered"
    r = srv.post(f"/v1/complaints/{cid}/responses", role="officer",
                 json={"text": "No provision was made; the letter was a mailing error.",
                       "close": True})
    assert r.status_code == 201 and r.json()["complaint"]["state"] == "closed"
    refused(srv.post(f"/v1/complaints/{cid}/responses", role="officer",
                     json={"text": "again"}), 409, "conflict")

    view = srv.get(f"/v1/complaints/{cid}", member=m).json()
    assert view["state"] == "closed" and view["note"] == "answered"
    assert view["text"] == "Quokkafield Ltd wrote to me; who told them?"
    assert [x["text"] for x in view["responses"]] == [
        "We are checking our provision records.",
        "No provision was made; the letter was a mailing error."]
    assert view["responses"][-1]["closing"] is True
    assert view["assigned"] == srv.token_names["officer"]
    subjects = [n["subject"] for n in notices(srv, m)]
    assert f"Your complaint {cid} was closed" in subjects
    assert all("Quokkafield" not in n["body"] for n in notices(srv, m))
    other = member(srv)
    refused(srv.get(f"/v1/complaints/{cid}", member=other), 404, "not_found")
    assert "Quokkafield" not in json.dumps(srv.audit(member=m.id, limit=1000))


# ---- malformed ------------------------------------------------------------------------------

CASES = []
SQL = "' OR 1=1 --"
UNKNOWN = "AAAAAAAAAAAAAAAAAAAAAA"


def C(id, method, path, status, code, *, auth="member", json_body=None, body=None,
      ctype="application/json", headers=None):
    if json_body is not None:
        body = json.dumps(json_body).encode()
    CASES.append(pytest.param(dict(method=method, path=path, status=status, code=code, auth=auth,
                                   body=body, ctype=ctype, headers=headers or {}), id=id))


for label, b in [("truncated", b'{"type":'), ("array", b"[]"), ("empty", b""),
                 ("deep", b'{"type":' + b"[" * 9 + b"]" * 9 + b"}"), ("invalid utf-8", b'{"type":"\xff"}')]:
    C(f"file bad json: {label}", "POST", "/v1/requests", 400, "invalid_json", body=b)
for label, j in [("no type", {}), ("type unknown", {"type": "deletion"}), ("type a number", {"type": 3}),
                 ("type sql", {"type": SQL}), ("extra key", {"type": "disclosure", "member": UNKNOWN}),
                 ("details a string", {"type": "disclosure", "details": "x"}),
                 ("note a number", {"type": "disclosure", "details": {"note": 5}}),
                 ("disclosure with changes", {"type": "disclosure", "details": {"changes": {}}}),
                 ("amendment without details", {"type": "amendment"}),
                 ("changes a list", {"type": "amendment", "details": {"changes": ["address"], "reason": "x"}}),
                 ("reason a list", {"type": "amendment", "details": {"changes": {"address": "x"}, "reason": []}})]:
    C(f"file wrong shape: {label}", "POST", "/v1/requests", 400, "invalid_argument", json_body=j)
for label, j in [("no changes", {"type": "amendment", "details": {"changes": {}, "reason": "moved"}}),
                 ("no reason", {"type": "amendment", "details": {"changes": {"address": "9 Wouldbe Road"}}}),
                 ("unknown field", {"type": "amendment", "details": {"changes": {"shoe": "44"}, "reason": "x"}}),
                 ("bad email", {"type": "amendment", "details": {"changes": {"email": "wouldbe-at-example"}, "reason": "x"}}),
                 ("value a list", {"type": "amendment", "details": {"changes": {"address": ["x"]}, "reason": "x"}}),
                 ("clearing a required field", {"type": "amendment", "details": {"changes": {"email": None}, "reason": "x"}}),
                 ("2001-byte note", {"type": "erasure", "details": {"note": "n" * 2001}}),
                 ("control character in reason", {"type": "amendment", "details": {"changes": {"age": 40}, "reason": "a\u0001b"}})]:
    C(f"file refused: {label}", "POST", "/v1/requests", 422, "invalid_field", json_body=j)
C("file: text/plain", "POST", "/v1/requests", 415, "unsupported_media_type",
  json_body={"type": "disclosure"}, ctype="text/plain")
C("file: huge body", "POST", "/v1/requests", 413, "too_large",
  body=b'{"type":"erasure","details":{"note":"' + b"n" * (70 * 1024) + b'"}}')
C("file: no csrf", "POST", "/v1/requests", 403, "csrf_required", json_body={"type": "disclosure"},
  headers={"X-CSRF-Token": "nonsense"})
C("file: a query parameter", "POST", "/v1/requests?member=x", 400, "invalid_argument",
  json_body={"type": "disclosure"})
C("file: staff", "POST", "/v1/requests", 403, "forbidden", auth="staff", json_body={"type": "disclosure"})
C("list: status closed", "GET", "/v1/requests?status=closed", 400, "invalid_argument", auth="officer")
C("list: unknown parameter", "GET", "/v1/requests?member=x", 400, "invalid_argument", auth="officer")
C("get: unknown id", "GET", f"/v1/requests/{UNKNOWN}", 404, "not_found", auth="officer")
C("get: sql id", "GET", "/v1/requests/%27%20OR%201%3D1%20--", 404, "not_found", auth="officer")
C("get: 70-char id", "GET", "/v1/requests/" + "A" * 70, 404, "not_found", auth="officer")
C("get: a query parameter", "GET", f"/v1/requests/{UNKNOWN}?full=1", 400, "invalid_argument", auth="officer")
DEC = f"/v1/requests/{UNKNOWN}/decision"
for label, b in [("truncated", b'{"action":'), ("array", b"[]"), ("empty", b"")]:
    C(f"decide bad json: {label}", "POST", DEC, 400, "invalid_json", auth="officer", body=b)
for label, j in [("no action", {}), ("action unknown", {"action": "ignore"}),
                 ("ground a number", {"action": "refuse", "ground": 1, "reasons": "x"}),
                 ("reasons a list", {"action": "reject", "reasons": ["x"]}),
                 ("extra key", {"action": "apply", "state": "applied"})]:
    C(f"decide wrong shape: {label}", "POST", DEC, 400, "invalid_argument", auth="officer", json_body=j)
C("decide: unknown request", "POST", DEC, 404, "not_found", auth="officer", json_body={"action": "apply"})
C("decide: member", "POST", DEC, 403, "forbidden", json_body={"action": "apply"})
C("certificate: unknown id, a token", "GET", f"/v1/requests/{UNKNOWN}/certificate", 401,
  "unauthenticated", auth=None, headers={"X-Certificate-Token": "t" * 43})
C("certificate: a short token", "GET", f"/v1/requests/{UNKNOWN}/certificate", 401,
  "unauthenticated", auth=None, headers={"X-Certificate-Token": "short"})
C("certificate: unknown id, officer", "GET", f"/v1/requests/{UNKNOWN}/certificate", 404,
  "not_found", auth="officer")
for label, b in [("truncated", b'{"about":'), ("array", b"[]")]:
    C(f"complaint bad json: {label}", "POST", "/v1/complaints", 400, "invalid_json", body=b)
for label, j in [("no text", {"about": "use"}), ("text a number", {"about": "use", "text": 5}),
                 ("extra key", {"about": "use", "text": "x", "member": UNKNOWN}), ("empty", {})]:
    C(f"complaint wrong shape: {label}", "POST", "/v1/complaints", 400, "invalid_argument", json_body=j)
for label, j in [("about unknown", {"about": "weather", "text": "It rains on Wouldbe Street."}),
                 ("about sql", {"about": SQL, "text": "x"}), ("text blank", {"about": "use", "text": " \n"}),
                 ("text 4001 bytes", {"about": "use", "text": "w" * 4001})]:
    C(f"complaint refused: {label}", "POST", "/v1/complaints", 422, "invalid_field", json_body=j)
C("complaints list: status all", "GET", "/v1/complaints?status=all", 400, "invalid_argument", auth="officer")
C("complaint get: unknown", "GET", f"/v1/complaints/{UNKNOWN}", 404, "not_found", auth="officer")
ASSIGN = f"/v1/complaints/{UNKNOWN}/assign"
C("assign: officer a number", "POST", ASSIGN, 400, "invalid_argument", auth="officer", json_body={"officer": 1})
C("assign: empty officer", "POST", ASSIGN, 422, "invalid_field", auth="officer", json_body={"officer": ""})
C("assign: unknown complaint", "POST", ASSIGN, 404, "not_found", auth="officer",
  json_body={"officer": "api-test officer"})
RESP = f"/v1/complaints/{UNKNOWN}/responses"
for label, j in [("empty object", {}), ("close a string", {"text": "x", "close": "yes"}),
                 ("text null", {"text": None}), ("extra key", {"text": "x", "to": "member"})]:
    C(f"respond wrong shape: {label}", "POST", RESP, 400, "invalid_argument", auth="officer", json_body=j)
C("respond: blank text", "POST", RESP, 422, "invalid_field", auth="officer", json_body={"text": "  "})
C("respond: unknown complaint", "POST", RESP, 404, "not_found", auth="officer", json_body={"text": "hello"})
C("respond: staff", "POST", RESP, 403, "forbidden", auth="staff", json_body={"text": "hello"})


def test_there_are_enough_malformed_cases():
    assert len(CASES) >= 50


@pytest.fixture(scope="module")
def victim(srv):
    return member(srv)


@pytest.mark.parametrize("case", CASES)
def test_malformed(srv, victim, case):
    c = case
    head = srv.audit_head()
    headers = dict(c["headers"])
    if c["body"] is not None and c["ctype"]:
        headers["Content-Type"] = c["ctype"]
    kw = {"headers": headers, "data": c["body"]}
    if c["auth"] == "member":
        kw["member"] = victim
        if headers.get("X-CSRF-Token") == "nonsense":
            kw["csrf"] = False
    elif c["auth"]:
        kw["role"] = c["auth"]
    r = srv.request(c["method"], c["path"], **kw)
    assert r.status_code == c["status"], (r.status_code, r.text[:300])
    assert_error_body(r, c["code"])
    assert_no_personal(srv, r.text, [v for v in victim.values.values() if len(v) >= 6] +
                       ["Wouldbe", "wouldbe-at-example", "n" * 100, "w" * 100])
    # Nothing written, nothing audited; still serving.
    assert srv.audit_head() == head
    assert srv.get("/healthz").status_code == 200
