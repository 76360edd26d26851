"""
Consent and the limits of purpose, policy versions and the three statutory exceptions,
through HTTP (issue 5).

  - A use outside the purposes of use (`testimonials`, consent_required) is refused with
    403 consent_required until the member consents (PUT /v1/me/consents, CSRF applies);
    then the staff read gets exactly name and occupation; after a withdrawal the very
    next read is refused.  Each choice comes with a signed receipt that
    `custodian receipt verify` accepts, and refuses once altered.
  - Cookie categories: `necessary` cannot be refused (422); `advertising` can.
  - Policy versions, on a server of this module's own (publishing changes the policy in
    force for the rest of that server's life): a new purpose is refused for an existing
    member until they consent to it or accept the version; a field added to a purpose
    is withheld until they accept; the member sees the diff; both versions are listed;
    a version is published once; only an officer (or admin) publishes.
  - Legal exceptions: an officer with a written justification reads without consent and
    opens a review; the review queue shows the justification; closing is once only;
    the audit shows the consents, the exceptional read and the review.
  - Malformed requests to these routes: a 4xx with the one error shape, nothing echoed,
    nothing written.
"""
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import (POLICY, Server, assert_error_body, assert_no_personal,
                      check_access_log)

PASSWORD = "consent suite password 7"
JUSTIFICATION = "Court order 2026-W-117 (Tokyo District Court) requires these details."
Q = urllib.parse.quote


def member(srv, survey=True):
    """A fresh member who signed up on the public form and is logged in."""
    m = srv.register(srv.new_values(survey=survey), role=None, password=PASSWORD)
    srv.login(m)
    return m


def read(srv, m, purpose, role="staff", **params):
    return srv.get(f"/v1/members/{m.id}", role=role, params=dict(params, purpose=purpose))


def choose(srv, m, kind, target, granted, **kw):
    return srv.request("PUT", "/v1/me/consents", member=m,
                       json={"kind": kind, "target": target, "granted": granted}, **kw)


def consent(srv, m, target, granted=True):
    r = choose(srv, m, "purpose", target, granted)
    assert r.status_code == 200, r.text
    return r.json()


def refused(r, status, code):
    assert r.status_code == status, r.text
    return assert_error_body(r, code)


def verify_receipt(srv, tmp_path, doc, name="receipt.json", data=None):
    path = os.path.join(tmp_path, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return subprocess.run([srv.binary, "--data", data or srv.data, "receipt", "verify", path],
                          capture_output=True, text=True, timeout=120)


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).hexdigest()


# ---- consent to a use outside the purposes ---------------------------------------------------

def test_out_of_scope_use_needs_consent_and_stops_at_withdrawal(srv):
    m = member(srv)

    # Outside the purposes of use: refused, with the reason in the code.
    refused(read(srv, m, "testimonials"), 403, "consent_required")

    # Only the member decides, only with the CSRF token.
    refused(choose(srv, m, "purpose", "testimonials", True, csrf=False), 403, "csrf_required")
    r = srv.request("PUT", "/v1/me/consents", role="staff",
                    json={"kind": "purpose", "target": "testimonials", "granted": True})
    refused(r, 403, "forbidden")
    refused(read(srv, m, "testimonials"), 403, "consent_required")

    body = consent(srv, m, "testimonials")
    assert set(body) == {"consent", "receipt"}
    c = body["consent"]
    assert set(c) == {"id", "kind", "target", "granted", "policy_version", "time"}
    assert (c["kind"], c["target"], c["granted"]) == ("purpose", "testimonials", True)
    assert c["policy_version"] == POLICY["version"]
    rec = body["receipt"]["receipt"]
    assert rec["id"] == c["id"] and rec["member"] == m.id and rec["choice"] == "granted"
    assert rec["policy_version"] == POLICY["version"]
    assert re.fullmatch(r"[0-9a-f]{128}", body["receipt"]["signature"])

    # Consented: the staff read gets exactly what the purpose allows.
    r = read(srv, m, "testimonials")
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == {"name": m.values["name"], "occupation": m.values["occupation"]}
    # Another role is still not granted the purpose, consent or not.
    refused(read(srv, m, "testimonials", role="service"), 403, "purpose_not_allowed")

    # Withdrawn: the very next read is refused (a withdrawn consent used a second later).
    w = consent(srv, m, "testimonials", granted=False)
    assert w["consent"]["granted"] is False and w["receipt"]["receipt"]["choice"] == "withdrawn"
    refused(read(srv, m, "testimonials"), 403, "consent_required")

    # The member sees the choice in force and what they can decide.
    r = srv.get("/v1/me/consents", member=m)
    assert r.status_code == 200, r.text
    ov = r.json()
    assert ov["policy"] == {"in_force": POLICY["version"], "accepted": POLICY["version"]}
    assert [(x["kind"], x["target"], x["granted"]) for x in ov["choices"]] == \
        [("purpose", "testimonials", False)]
    assert ov["choices"][0]["id"] == w["consent"]["id"]
    assert {"id": "testimonials", "reason": "outside_purposes_of_use"}.items() <= \
        next(p for p in ov["choosable"]["purposes"] if p["id"] == "testimonials").items()
    assert [p["id"] for p in ov["choosable"]["purposes"]] == ["testimonials"]
    assert {x["id"]: x["required"] for x in ov["choosable"]["cookies"]} == \
        {x["id"]: bool(x.get("required")) for x in POLICY["cookies"]}

    # Consent again: open again.
    consent(srv, m, "testimonials")
    assert read(srv, m, "testimonials").status_code == 200

    # Every choice and every read is audited, with names only.
    entries = srv.audit(member=m.id, limit=1000)
    cons = [(e["decision"], e["purpose"]) for e in entries if e["action"] == "consent"]
    assert cons == [("granted", "testimonials"), ("withdrawn", "testimonials"),
                    ("granted", "testimonials")]
    reads = [(e["decision"], e["reason"].split(":")[0].split(";")[0])
             for e in entries if e["action"] == "read" and e["purpose"] == "testimonials"
             and e["role"] == "staff"]
    assert reads == [("deny", "consent_required"), ("deny", "consent_required"),
                     ("partial", "by consent"), ("deny", "consent_required"),
                     ("partial", "by consent")]
    assert all(e["actor"] == m.id and e["role"] == "member"
               for e in entries if e["action"] == "consent")
    assert_no_personal(srv, json.dumps(entries))


def test_the_purposes_of_use_are_not_consent_based(srv):
    """A purpose of the accepted version is not the member's to refuse; an unknown one is
    not theirs to grant."""
    m = member(srv, survey=False)
    for target in ("support", "membership", "no_such_purpose", "x" * 300, "' OR 1=1 --"):
        err = refused(choose(srv, m, "purpose", target, False), 422, "invalid_field")
        assert err["fields"] == {"target": "not_choosable"}
    assert read(srv, m, "support").status_code == 200
    assert srv.get("/v1/me/consents", member=m).json()["choices"] == []


def test_cookie_categories(srv):
    m = member(srv, survey=False)
    for granted in (False, True):
        err = refused(choose(srv, m, "cookie", "necessary", granted), 422, "invalid_field")
        assert err["fields"] == {"target": "not_choosable"}
    refused(choose(srv, m, "cookie", "tracking_pixels", True), 422, "invalid_field")
    r = choose(srv, m, "cookie", "advertising", False)
    assert r.status_code == 200, r.text
    assert r.json()["receipt"]["receipt"]["kind"] == "cookie"
    r = choose(srv, m, "cookie", "statistics", True)
    assert r.status_code == 200, r.text
    ov = srv.get("/v1/me/consents", member=m).json()
    assert {(x["kind"], x["target"], x["granted"]) for x in ov["choices"]} == \
        {("cookie", "advertising", False), ("cookie", "statistics", True)}
    # Only cookie choices went into the audit: no purpose, no fields, no values.
    cons = [e for e in srv.audit(member=m.id, limit=1000) if e["action"] == "consent"]
    assert [(e["decision"], e["purpose"], e["fields"]) for e in cons] == \
        [("withdrawn", "", ""), ("granted", "", "")]
    assert "cookie advertising" in cons[0]["reason"]


def test_third_party_consent_is_recorded(srv):
    m = member(srv, survey=False)
    tp = srv.unique("tp-")
    r = srv.post("/v1/third-parties", role="officer",
                 json={"id": tp, "name": "Acme Printing Co.", "contact": "privacy@acme.example",
                       "purpose": "Printing certificates.", "fields": ["name"]})
    assert r.status_code == 201, r.text
    r = choose(srv, m, "third_party", tp, True)
    assert r.status_code == 200, r.text
    assert r.json()["consent"]["kind"] == "third_party"
    refused(choose(srv, m, "third_party", "Not An Id!", True), 422, "invalid_field")
    # Consent goes to a party the registry names (docs/consent.md), nothing is recorded
    # for another; withdrawing may name one the registry no longer holds.
    head = srv.audit_head()
    refused(choose(srv, m, "third_party", srv.unique("unregistered-"), True), 422,
            "invalid_field")
    assert srv.audit_head() == head
    r = choose(srv, m, "third_party", srv.unique("unregistered-"), False)
    assert r.status_code == 200, r.text


# ---- receipts --------------------------------------------------------------------------------

def test_receipts_verify_and_altered_ones_do_not(srv, tmp_path):
    m = member(srv)
    other = member(srv, survey=False)
    body = consent(srv, m, "testimonials")
    cid = body["consent"]["id"]

    # The same receipt again, from its own route (receipts are deterministic).
    r = srv.get(f"/v1/me/consents/{cid}/receipt", member=m)
    assert r.status_code == 200, r.text
    assert r.json() == body

    # Valid, and signed by this custodian: exit 0.
    res = verify_receipt(srv, tmp_path, body["receipt"])
    assert res.returncode == 0, res.stderr
    assert "receipt valid" in res.stdout and "purpose testimonials granted" in res.stdout
    assert "signed by this custodian" in res.stdout
    # The whole answer of the API, as saved by a browser, verifies too.
    assert verify_receipt(srv, tmp_path, r.text, "whole.json").returncode == 0

    # Altered in any way: exit 1, one line naming the problem.
    for key, value in [("choice", "withdrawn"), ("target", "support"),
                       ("member", other.id), ("policy_version", "2099-01-01.1"),
                       ("time_us", body["receipt"]["receipt"]["time_us"] + 1)]:
        altered = copy.deepcopy(body["receipt"])
        altered["receipt"][key] = value
        res = verify_receipt(srv, tmp_path, altered, "altered.json")
        assert res.returncode == 1, (key, res.stdout, res.stderr)
        assert res.stderr.startswith("custodian: receipt not valid:"), res.stderr
        assert "altered" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    bad_sig = copy.deepcopy(body["receipt"])
    bad_sig["signature"] = ("0" if bad_sig["signature"][0] != "0" else "1") + bad_sig["signature"][1:]
    assert verify_receipt(srv, tmp_path, bad_sig, "sig.json").returncode == 1
    assert verify_receipt(srv, tmp_path, {"receipt": 1}, "shape.json").returncode == 1
    assert verify_receipt(srv, tmp_path, "not json", "text.json").returncode == 1
    assert srv.cli("receipt", "verify").returncode == 2
    assert srv.cli("receipt", "verify", os.path.join(tmp_path, "missing.json")).returncode == 1

    # The digest names the very document of the version it was given under.
    rec = body["receipt"]["receipt"]
    doc = srv.get(f"/v1/policy/versions/{rec['policy_version']}")
    assert doc.status_code == 200
    assert blake2b256(doc.content) == rec["policy_digest"]

    # Another member's consent id answers like an unknown one.
    refused(srv.get(f"/v1/me/consents/{cid}/receipt", member=other), 404, "not_found")
    refused(srv.get("/v1/me/consents/AAAAAAAAAAAAAAAAAAAAAA/receipt", member=m), 404, "not_found")
    refused(srv.get(f"/v1/me/consents/{cid}/receipt", role="officer"), 403, "forbidden")
    refused(srv.get(f"/v1/me/consents/{cid}/receipt"), 401, "unauthenticated")


# ---- legal exceptions ------------------------------------------------------------------------

def exception_read(srv, m, role="officer", **over):
    body = {"member": m.id, "purpose": "testimonials", "exception": "law",
            "justification": JUSTIFICATION, "fields": ["name", "occupation"]}
    body.update(over)
    return srv.post("/v1/exceptions", role=role,
                    json={k: v for k, v in body.items() if v is not None})


def reviews(srv, status=None):
    r = srv.get("/v1/exceptions", role="officer",
                params={"status": status} if status else None)
    assert r.status_code == 200, r.text
    return r.json()["exceptions"]


def test_legal_exception_opens_the_read_and_a_review(srv):
    m = member(srv)
    head = srv.audit_head()
    refused(read(srv, m, "testimonials"), 403, "consent_required")

    # Staff may not invoke one; nor anyone without credentials.
    refused(exception_read(srv, m, role="staff"), 403, "forbidden")
    refused(srv.post("/v1/exceptions", json={"member": m.id}), 401, "unauthenticated")
    # No justification, a short one, an unknown exception: 400.
    refused(exception_read(srv, m, justification=None), 400, "invalid_argument")
    refused(exception_read(srv, m, justification="because"), 400, "invalid_argument")
    refused(exception_read(srv, m, justification="x" * 19), 400, "invalid_argument")
    refused(exception_read(srv, m, justification="x" * 2001), 400, "invalid_argument")
    refused(exception_read(srv, m, exception="curiosity"), 400, "invalid_argument")
    refused(exception_read(srv, m, exception=None), 400, "invalid_argument")
    # An exception stands in for consent and the role's grant, never for a case reference
    # or an aggregate-only purpose.
    refused(exception_read(srv, m, purpose="tos_review"), 403, "case_required")
    refused(exception_read(srv, m, purpose="materials"), 403, "aggregate_only")
    refused(exception_read(srv, m, purpose="marketing"), 400, "purpose_unknown")
    assert not [x for x in reviews(srv, "all") if x["member"] == m.id]

    # The officer, in writing: the read is opened without the member's consent.
    r = exception_read(srv, m)
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == {"name": m.values["name"], "occupation": m.values["occupation"]}
    # The other two exceptions of the policy work the same way, for other purposes.
    r = exception_read(srv, m, exception="life_body_assets", purpose="support",
                       justification="A member reported a threat to another member's life.",
                       fields=["name", "phone", "email"])
    assert r.status_code == 200, r.text
    assert set(r.json()["fields"]) == {"name", "phone", "email"}
    r = exception_read(srv, m, exception="government", purpose="tos_review", case="GOV-2026-7",
                       justification="Request from the Personal Information Protection Commission.",
                       fields=["name"])
    assert r.status_code == 200, r.text
    # ... and it opened nothing for anybody else: staff are still refused.
    refused(read(srv, m, "testimonials"), 403, "consent_required")

    # The review queue shows each, open, with its justification.
    mine = [x for x in reviews(srv) if x["member"] == m.id]
    assert [x["exception"] for x in mine] == ["law", "life_body_assets", "government"]
    law = mine[0]
    assert set(law) == {"id", "member", "officer", "exception", "purpose", "fields",
                        "justification", "opened"}
    assert law["fields"] == ["name", "occupation"]
    assert law["justification"] == JUSTIFICATION and law["purpose"] == "testimonials"
    assert law["officer"] == srv.token_names["officer"]
    assert mine == [x for x in reviews(srv, "open") if x["member"] == m.id]
    refused(srv.get("/v1/exceptions", role="staff"), 403, "forbidden")

    # Closing: once.
    for x in mine:
        r = srv.post(f"/v1/exceptions/{x['id']}/close", role="officer",
                     json={"review": f"Checked: {x['exception']} applies; the read was limited."})
        assert r.status_code == 200, r.text
        assert r.json() == {"id": x["id"], "closed": True}
    again = srv.post(f"/v1/exceptions/{law['id']}/close", role="officer",
                     json={"review": "Closing it twice."})
    refused(again, 409, "conflict")
    refused(srv.post("/v1/exceptions/AAAAAAAAAAAAAAAAAAAAAA/close", role="officer",
                     json={"review": "No such review."}), 404, "not_found")
    refused(srv.post(f"/v1/exceptions/{law['id']}/close", role="staff",
                     json={"review": "Not mine to close."}), 403, "forbidden")
    assert not [x for x in reviews(srv) if x["member"] == m.id]
    closed = [x for x in reviews(srv, "all") if x["member"] == m.id]
    assert all(x["closed_by"] == srv.token_names["officer"] and x["review"].startswith("Checked:")
               for x in closed)

    # The audit: the denials, the exceptional reads (naming exception and review) and the
    # reviews, with the member and purpose; never a justification.
    entries = srv.audit(member=m.id, after=head, limit=1000)
    by_exc = [e for e in entries if e["action"] == "read" and "by exception" in e["reason"]]
    assert [(e["purpose"], e["role"], e["decision"]) for e in by_exc] == \
        [("testimonials", "officer", "allow"), ("support", "officer", "allow"),
         ("tos_review", "officer", "allow")]
    assert f"exception law, review {law['id']}" in by_exc[0]["reason"]
    assert by_exc[2]["case"] == "GOV-2026-7"
    denied = [e["reason"] for e in entries if e["action"] == "read" and e["role"] == "officer"
              and e["decision"] == "deny"]
    assert sum("justification" in x for x in denied) == 3
    assert sum("unknown legal exception" in x for x in denied) == 1
    rev = [e for e in entries if e["action"] == "exception_review"]
    assert [(e["purpose"], e["decision"], e["role"]) for e in rev] == \
        [("testimonials", "done", "officer"), ("support", "done", "officer"),
         ("tos_review", "done", "officer")]
    assert f"review {law['id']} of exception law closed" in rev[0]["reason"]
    text = json.dumps(entries)
    assert "Court order" not in text and "Checked:" not in text
    assert_no_personal(srv, text)
    # The member sees who read them under an exception.
    log = srv.get("/v1/me/access-log", member=m).json()["entries"]
    assert [e["purpose"] for e in log if e["action"] == "read" and e["role"] == "officer"
            and e["decision"] != "deny"] == ["tos_review", "support", "testimonials"]


def test_legal_exception_reads_exactly_the_fields_the_officer_names(srv):
    """Issue 8, defect 6: a statute may need fields no purpose grants (an address, a date of
    birth). The officer names them; exactly those are read, audited and put up for review."""
    m = member(srv)
    head = srv.audit_head()
    # No purpose of the policy grants address or date_of_birth to anybody.
    r = exception_read(srv, m, purpose="support", fields=["address", "date_of_birth"])
    assert r.status_code == 200, r.text
    # Exactly the named fields: not even what the purpose grants (name, phone, email).
    assert r.json()["fields"] == {"address": m.values["address"],
                                  "date_of_birth": m.values["date_of_birth"]}
    # A name that is not the policy's: 400, nothing read, nothing audited, no review.
    n_reviews = len(reviews(srv, "all"))
    refused(exception_read(srv, m, purpose="support", fields=["address", "passport"]),
            400, "invalid_argument")
    refused(exception_read(srv, m, purpose="support", fields=[]), 400, "invalid_argument")
    refused(exception_read(srv, m, purpose="support", fields=None), 400, "invalid_argument")
    assert len(reviews(srv, "all")) == n_reviews
    # The review shows the field list with the justification.
    mine = [x for x in reviews(srv) if x["member"] == m.id]
    assert len(mine) == 1
    assert mine[0]["fields"] == ["address", "date_of_birth"]
    assert mine[0]["justification"] == JUSTIFICATION
    # The audit entry names the fields and the review, never a value or the justification.
    entries = srv.audit(member=m.id, after=head, limit=1000)
    reads = [e for e in entries if e["action"] == "read" and e["role"] == "officer"]
    assert [(e["fields"], e["decision"]) for e in reads] == [("address,date_of_birth", "allow")]
    assert f"review {mine[0]['id']}" in reads[0]["reason"]
    text = json.dumps(entries)
    assert "Court order" not in text
    assert_no_personal(srv, text)


# ---- policy versions: a server of this module's own ------------------------------------------

@pytest.fixture(scope="module")
def pub(request):
    """A server of its own: publishing changes the policy in force for its whole life."""
    binary = request.config.getoption("--custodian")
    root = tempfile.mkdtemp(prefix="cu-api-pub-")
    s = Server(os.path.abspath(binary), root)
    try:
        s.setup()
        s.start()
        yield s
        status = s.stop()
        assert status == 0, f"no graceful stop (status {status}): {s.stderr()}"
        check_access_log(s, s.access_log())
        err = s.stderr(limit=None)
        assert_no_personal(s, err)
    finally:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        shutil.rmtree(root, ignore_errors=True)


V2 = POLICY["version"] + ".v2"


def version2(pub):
    """A modified copy of the served policy: a new purpose granted to staff, and support
    with one more field."""
    served = pub.get(f"/v1/policy/versions/{POLICY['version']}")
    assert served.status_code == 200
    doc = served.json()
    doc["version"] = V2
    for p in doc["purposes"]:
        if p["id"] == "support":
            p["fields"].append("occupation")
    doc["purposes"].append({"id": "community", "number": 11,
                            "text": "to introduce members with shared hobbies to one another",
                            "roles": ["staff"], "fields": ["name", "hobbies"]})
    return doc


def test_publishing_a_new_version(pub, tmp_path):
    early = member(pub)          # accepts nothing: held to version 1
    accepter = member(pub)       # will accept version 2
    consenter = member(pub)      # will consent to the new purpose only
    r1 = consent(pub, early, "testimonials")
    assert r1["consent"]["policy_version"] == POLICY["version"]
    doc = version2(pub)

    # Only an officer (or an admin) publishes.
    for role in ("staff", "analyst", "service", "subcontractor"):
        refused(pub.post("/v1/policy/versions", role=role, json=doc), 403, "forbidden")
    refused(pub.post("/v1/policy/versions", member=early, json=doc), 403, "forbidden")
    refused(pub.post("/v1/policy/versions", json=doc), 401, "unauthenticated")
    # Not a policy: refused, nothing published.
    bad = dict(doc, purposes=doc["purposes"] + [{"id": "x", "number": 12, "text": "x",
                                                 "roles": ["intern"], "fields": ["name"]}])
    err = refused(pub.post("/v1/policy/versions", role="officer", json=bad), 422,
                  "policy_invalid")
    assert "role" in err["message"]
    # The version in force again: a version names one document.
    served = pub.get(f"/v1/policy/versions/{POLICY['version']}").json()
    refused(pub.post("/v1/policy/versions", role="officer", json=served), 409, "conflict")
    assert pub.get("/v1/policy").json()["version"] == POLICY["version"]

    head = pub.audit_head()
    r = pub.post("/v1/policy/versions", role="officer", json=doc)
    assert r.status_code == 201, r.text
    assert r.json() == {"version": V2}
    # Published once: the same again (or changed under the same version) is a conflict.
    err = refused(pub.post("/v1/policy/versions", role="officer", json=doc), 409, "conflict")
    assert V2 in err["message"]
    changed = dict(doc, title="Changed without a new version")
    refused(pub.post("/v1/policy/versions", role="admin", json=changed), 409, "conflict")

    # In force at once, listed, kept as published, and in the data directory's file.
    pol = pub.get("/v1/policy").json()
    assert pol["version"] == V2 and "community" in [p["id"] for p in pol["purposes"]]
    lst = pub.get("/v1/policy/versions").json()
    assert lst["in_force"] == V2
    assert [(v["version"], v["by"]) for v in lst["versions"]] == \
        [(POLICY["version"], "operator"), (V2, pub.token_names["officer"])]
    kept = pub.get(f"/v1/policy/versions/{V2}")
    assert kept.json() == doc
    with open(os.path.join(pub.data, "policy.json"), "rb") as f:
        assert f.read() == kept.content
    refused(pub.get("/v1/policy/versions/2099-01-01.1"), 404, "not_found")
    res = pub.cli("policy", "versions")
    assert res.returncode == 0, res.stderr
    assert [l.split("\t")[0] for l in res.stdout.splitlines()] == ["VERSION", POLICY["version"], V2]
    assert [(e["action"], e["decision"], e["reason"]) for e in pub.audit(after=head)
            if e["action"] == "policy_publish"] == [("policy_publish", "done", V2)]

    # The new purpose: not used for a member who accepted version 1 (out-of-scope read before
    # re-consent) ...
    for m in (early, accepter, consenter):
        refused(read(pub, m, "community"), 403, "consent_required")
    # ... and the field version 2 adds to support stays withheld.
    r = read(pub, early, "support")
    assert r.status_code == 200, r.text
    assert set(r.json()["fields"]) == {"name", "phone", "email"}
    assert r.json()["withheld"]["occupation"] == "not in the policy version the member accepted"

    # What the member sees: the diff, and the new purpose among what they can decide.
    ch = pub.get("/v1/me/policy/changes", member=early)
    assert ch.status_code == 200, ch.text
    diff = ch.json()
    assert (diff["from"], diff["to"], diff["text_changed"]) == (POLICY["version"], V2, False)
    assert [(p["id"], p["fields"], p["roles"], p["consent_required"])
            for p in diff["purposes_added"]] == [("community", ["name", "hobbies"], ["staff"], False)]
    [sup] = diff["purposes_changed"]
    assert sup["id"] == "support" and sup["fields_added"] == ["occupation"]
    assert sup["fields_removed"] == [] and "occupation" not in sup["before"]["fields"]
    assert diff["purposes_removed"] == [] and diff["fields_added"] == [] and \
        diff["fields_removed"] == []
    ov = pub.get("/v1/me/consents", member=early).json()
    assert ov["policy"] == {"in_force": V2, "accepted": POLICY["version"]}
    assert {p["id"]: p["reason"] for p in ov["choosable"]["purposes"]} == \
        {"testimonials": "outside_purposes_of_use", "community": "added_since_accepted"}

    # Consent to the one purpose opens it alone.
    c = consent(pub, consenter, "community")
    assert c["consent"]["policy_version"] == V2
    r = read(pub, consenter, "community")
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == {"name": consenter.values["name"],
                                  "hobbies": consenter.values["hobbies"]}
    assert "occupation" not in read(pub, consenter, "support").json()["fields"]

    # Accepting the version opens everything it says (CSRF applies).
    refused(pub.post("/v1/me/policy/accept", member=accepter, csrf=False), 403, "csrf_required")
    refused(pub.post("/v1/me/policy/accept", role="officer"), 403, "forbidden")
    refused(read(pub, accepter, "community"), 403, "consent_required")
    r = pub.post("/v1/me/policy/accept", member=accepter)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": V2}
    assert read(pub, accepter, "community").status_code == 200
    r = read(pub, accepter, "support")
    assert r.json()["fields"]["occupation"] == accepter.values["occupation"]
    diff = pub.get("/v1/me/policy/changes", member=accepter).json()
    assert (diff["from"], diff["to"], diff["purposes_added"], diff["purposes_changed"]) == \
        (V2, V2, [], [])
    assert pub.get("/v1/me/consents", member=accepter).json()["policy"]["accepted"] == V2

    # Still held to version 1: the one who did neither.
    refused(read(pub, early, "community"), 403, "consent_required")
    assert "occupation" not in read(pub, early, "support").json()["fields"]
    # A consent given under version 1 stays in force under version 2.
    assert read(pub, early, "testimonials").status_code == 200

    # A member who registers now is under version 2 from the start.
    late = member(pub)
    assert read(pub, late, "community").status_code == 200
    assert pub.get("/v1/me/consents", member=late).json()["policy"]["accepted"] == V2

    # Receipts name the version they were given under, and still verify.
    assert c["receipt"]["receipt"]["policy_version"] == V2
    assert blake2b256(kept.content) == c["receipt"]["receipt"]["policy_digest"]
    assert verify_receipt(pub, tmp_path, r1["receipt"]).returncode == 0
    assert verify_receipt(pub, tmp_path, c["receipt"], "v2.json").returncode == 0

    # The audit of each member tells the story.
    acts = [(e["action"], e["decision"]) for e in pub.audit(member=accepter.id, after=head)]
    assert ("policy_accept", "done") in acts
    reasons = [e["reason"] for e in pub.audit(member=early.id, after=head)
               if e["action"] == "read" and e["purpose"] == "community"]
    assert reasons and all("the policy version the member accepted lacked this purpose" in x
                           for x in reasons)


def test_a_receipt_of_another_custodian_is_not_ours(srv, pub, tmp_path):
    """Two custodians, two signing keys: a receipt verifies against the one that issued it."""
    m = member(pub, survey=False)
    r = choose(pub, m, "cookie", "preferences", True)
    assert r.status_code == 200, r.text
    receipt = r.json()["receipt"]
    assert verify_receipt(pub, tmp_path, receipt).returncode == 0
    res = verify_receipt(srv, tmp_path, receipt)
    assert res.returncode == 1
    assert "not this custodian's" in res.stderr
    # Without a data directory only the signature is checked, and the output says so.
    res = verify_receipt(srv, tmp_path, receipt, data=os.path.join(tmp_path, "no-such-dir"))
    assert res.returncode == 0, res.stderr
    assert "no data directory" in res.stdout


# ---- malformed requests to these routes ------------------------------------------------------

CASES = []


def C(id, method, path, status, code, *, auth=None, json_body=None, body=None,
      ctype="application/json", audited=False, csrf=True):
    if json_body is not None:
        body = json.dumps(json_body).encode()
    CASES.append(pytest.param(dict(method=method, path=path, status=status, code=code,
                                   auth=auth, body=body, ctype=ctype, audited=audited,
                                   csrf=csrf), id=id))


SQL = "' OR 1=1 --"
BIG = b'{"kind":"purpose","target":"' + b"t" * (70 * 1024) + b'","granted":true}'
CONSENTS = "/v1/me/consents"

# PUT /v1/me/consents
for label, b in [("truncated", b'{"kind":"purpose"'), ("empty", b""), ("array", b"[]"),
                 ("string", b'"purpose"'), ("duplicate key",
                                            b'{"kind":"cookie","kind":"purpose","target":"x",'
                                            b'"granted":true}'),
                 ("deep", b'{"kind":' + b"[" * 9 + b"]" * 9 + b"}"), ("invalid utf-8",
                                                                     b'{"kind":"\xff"}')]:
    C(f"consents bad json: {label}", "PUT", CONSENTS, 400, "invalid_json", auth="member", body=b)
for label, j in [("granted a string", {"kind": "purpose", "target": "testimonials", "granted": "yes"}),
                 ("granted null", {"kind": "purpose", "target": "testimonials", "granted": None}),
                 ("granted 1", {"kind": "purpose", "target": "testimonials", "granted": 1}),
                 ("target a number", {"kind": "purpose", "target": 10, "granted": True}),
                 ("target a list", {"kind": "purpose", "target": ["testimonials"], "granted": True}),
                 ("kind unknown", {"kind": "telepathy", "target": "testimonials", "granted": True}),
                 ("kind upper case", {"kind": "PURPOSE", "target": "testimonials", "granted": True}),
                 ("kind sql", {"kind": SQL, "target": "testimonials", "granted": True}),
                 ("kind missing", {"target": "testimonials", "granted": True}),
                 ("extra key", {"kind": "purpose", "target": "testimonials", "granted": True,
                                "member": "AAAAAAAAAAAAAAAAAAAAAA"}),
                 ("empty object", {})]:
    C(f"consents wrong shape: {label}", "PUT", CONSENTS, 400, "invalid_argument", auth="member",
      json_body=j)
for label, target in [("sql", SQL), ("5000 chars", "t" * 5000), ("empty", ""),
                      ("traversal", "../testimonials"), ("crlf", "testimonials\r\nX: y")]:
    C(f"consents target: {label}", "PUT", CONSENTS, 422, "invalid_field", auth="member",
      json_body={"kind": "purpose", "target": target, "granted": True})
C("consents: necessary cookie refused", "PUT", CONSENTS, 422, "invalid_field", auth="member",
  json_body={"kind": "cookie", "target": "necessary", "granted": False})
C("consents: huge body", "PUT", CONSENTS, 413, "too_large", auth="member", body=BIG)
C("consents: text/plain", "PUT", CONSENTS, 415, "unsupported_media_type", auth="member",
  json_body={"kind": "cookie", "target": "advertising", "granted": False}, ctype="text/plain")
C("consents: no csrf", "PUT", CONSENTS, 403, "csrf_required", auth="member", csrf=False,
  json_body={"kind": "cookie", "target": "advertising", "granted": False})
C("consents: no credentials", "PUT", CONSENTS, 401, "unauthenticated",
  json_body={"kind": "cookie", "target": "advertising", "granted": False})
C("consents: a query parameter", "GET", CONSENTS + "?member=AAAAAAAAAAAAAAAAAAAAAA", 400,
  "invalid_argument", auth="member")
C("consents PUT: a query parameter", "PUT", CONSENTS + "?granted=true", 400, "invalid_argument",
  auth="member", json_body={"kind": "cookie", "target": "advertising", "granted": False})
C("receipt: a query parameter", "GET", CONSENTS + "/AAAAAAAAAAAAAAAAAAAAAA/receipt?format=pdf",
  400, "invalid_argument", auth="member")
C("publish: a query parameter", "POST", "/v1/policy/versions?force=1", 400, "invalid_argument",
  auth="officer", json_body={"version": "2099-01-01.1"})
C("exception: a query parameter", "POST", "/v1/exceptions?purpose=support", 400,
  "invalid_argument", auth="officer", json_body={"member": "AAAAAAAAAAAAAAAAAAAAAA"})
C("close: a query parameter", "POST", "/v1/exceptions/AAAAAAAAAAAAAAAAAAAAAA/close?x=1", 400,
  "invalid_argument", auth="officer", json_body={"review": "ok"})
C("receipt: unknown id", "GET", CONSENTS + "/AAAAAAAAAAAAAAAAAAAAAA/receipt", 404, "not_found",
  auth="member")
C("receipt: sql id", "GET", CONSENTS + "/" + Q(SQL, safe="") + "/receipt", 404, "not_found",
  auth="member")
C("receipt: 71-char id", "GET", CONSENTS + "/" + "A" * 71 + "/receipt", 404, "not_found",
  auth="member")
C("policy accept: a query parameter", "POST", "/v1/me/policy/accept?version=x", 400,
  "invalid_argument", auth="member")
C("policy accept: no csrf", "POST", "/v1/me/policy/accept", 403, "csrf_required",
  auth="member", csrf=False)
C("policy changes: a query parameter", "GET", "/v1/me/policy/changes?from=x", 400,
  "invalid_argument", auth="member")
C("policy: a query parameter", "GET", "/v1/policy?version=x", 400, "invalid_argument")
C("policy versions: a query parameter", "GET", "/v1/policy/versions?limit=1", 400,
  "invalid_argument")
C("policy version: unknown", "GET", "/v1/policy/versions/1999-01-01.1", 404, "not_found")
C("policy version: sql", "GET", "/v1/policy/versions/" + Q(SQL, safe=""), 404, "not_found")
C("policy version: 65 chars", "GET", "/v1/policy/versions/" + "v" * 65, 404, "not_found")

# POST /v1/policy/versions (nothing here may publish: the suite's server keeps its policy)
PUB = "/v1/policy/versions"
for label, b in [("truncated", b'{"version":'), ("array", b"[]"), ("number", b"5"),
                 ("deep", b'{"fields":' + b"[" * 9 + b"]" * 9 + b"}"), ("empty", b"")]:
    C(f"publish bad json: {label}", "POST", PUB, 400, "invalid_json", auth="officer", body=b)
for label, j in [("empty object", {}), ("version a number", {"version": 5}),
                 ("only a version", {"version": "2099-01-01.1"}),
                 ("unknown key", {"nonsense": True}),
                 ("bad version", {"version": "../../etc", "title": "t", "text": "t",
                                  "fields": [], "purposes": []})]:
    C(f"publish not a policy: {label}", "POST", PUB, 422, "policy_invalid", auth="officer",
      json_body=j)
C("publish: huge body", "POST", PUB, 413, "too_large", auth="officer",
  body=b'{"text":"' + b"p" * (70 * 1024) + b'"}')
C("publish: text/plain", "POST", PUB, 415, "unsupported_media_type", auth="officer",
  json_body={"version": "2099-01-01.1"}, ctype="text/plain")
C("publish: staff", "POST", PUB, 403, "forbidden", auth="staff", json_body={})
C("publish: member", "POST", PUB, 403, "forbidden", auth="member", json_body={})

# POST /v1/exceptions (refused before the door: not audited; at the door: one denial each)
EXC = "/v1/exceptions"
GOOD = {"member": "{ID}", "purpose": "support", "exception": "law",
        "justification": "Court order 2026-W-118 requires the contact details.",
        "fields": ["name", "address"]}
for label, b in [("truncated", b'{"member":'), ("array", b"[]"), ("empty", b""),
                 ("deep", b'{"member":' + b"[" * 9 + b"]" * 9 + b"}")]:
    C(f"exception bad json: {label}", "POST", EXC, 400, "invalid_json", auth="officer", body=b)
def without(d, key):
    return {k: v for k, v in d.items() if k != key}


for label, j in [("member a number", dict(GOOD, member=5)),
                 ("justification a list", dict(GOOD, justification=["a" * 30])),
                 ("case null", dict(GOOD, case=None)),
                 ("unknown key", dict(GOOD, reason="x")),
                 ("no justification", without(GOOD, "justification")),
                 ("no exception", without(GOOD, "exception")),
                 ("no member", without(GOOD, "member")),
                 ("no purpose", without(GOOD, "purpose")),
                 # The fields the exception needs: named, and only the policy's names.
                 ("no fields", without(GOOD, "fields")),
                 ("fields empty", dict(GOOD, fields=[])),
                 ("fields a string", dict(GOOD, fields="address")),
                 ("fields an unknown name", dict(GOOD, fields=["address", "shoe_size"])),
                 ("fields a number", dict(GOOD, fields=["address", 3])),
                 ("fields an e-mail", dict(GOOD, fields=["someone@example.com"]))]:
    C(f"exception wrong shape: {label}", "POST", EXC, 400, "invalid_argument", auth="officer",
      json_body=j)
for label, over in [("unknown exception", {"exception": "curiosity"}),
                    ("exception sql", {"exception": SQL}),
                    ("short justification", {"justification": "because I can"}),
                    ("2001-byte justification", {"justification": "j" * 2001}),
                    ("control character in justification",
                     {"justification": "Court order\u0001 2026-W-119 requires it."})]:
    C(f"exception refused at the door: {label}", "POST", EXC, 400, "invalid_argument",
      auth="officer", json_body=dict(GOOD, **over), audited=1)
C("exception: unknown purpose", "POST", EXC, 400, "purpose_unknown", auth="officer",
  json_body=dict(GOOD, purpose="marketing"), audited=1)
C("exception: unknown member", "POST", EXC, 404, "not_found", auth="officer",
  json_body=dict(GOOD, member="AAAAAAAAAAAAAAAAAAAAAA"), audited=1)
C("exception: member id sql", "POST", EXC, 404, "not_found", auth="officer",
  json_body=dict(GOOD, member=SQL), audited=1)
C("exception: huge body", "POST", EXC, 413, "too_large", auth="officer",
  body=b'{"justification":"' + b"j" * (70 * 1024) + b'"}')
C("exception: text/plain", "POST", EXC, 415, "unsupported_media_type", auth="officer",
  json_body=GOOD, ctype="text/plain")
C("exception: staff", "POST", EXC, 403, "forbidden", auth="staff", json_body=GOOD)
C("exceptions list: status closed", "GET", EXC + "?status=closed", 400, "invalid_argument",
  auth="officer")
C("exceptions list: unknown parameter", "GET", EXC + "?member=x", 400, "invalid_argument",
  auth="officer")
CLOSE = "/v1/exceptions/AAAAAAAAAAAAAAAAAAAAAA/close"
for label, b in [("truncated", b'{"review":'), ("array", b'["ok"]'), ("empty", b"")]:
    C(f"close bad json: {label}", "POST", CLOSE, 400, "invalid_json", auth="officer", body=b)
for label, j in [("review a number", {"review": 1}), ("review null", {"review": None}),
                 ("extra key", {"review": "ok", "closed": True}), ("empty object", {})]:
    C(f"close wrong shape: {label}", "POST", CLOSE, 400, "invalid_argument", auth="officer",
      json_body=j)
C("close: empty review", "POST", CLOSE, 422, "invalid_field", auth="officer",
  json_body={"review": ""})
C("close: 2001-byte review", "POST", CLOSE, 422, "invalid_field", auth="officer",
  json_body={"review": "r" * 2001})
C("close: unknown review", "POST", CLOSE, 404, "not_found", auth="officer",
  json_body={"review": "Nothing to close."})
C("close: huge body", "POST", CLOSE, 413, "too_large", auth="officer",
  body=b'{"review":"' + b"r" * (70 * 1024) + b'"}')
C("close: text/plain", "POST", CLOSE, 415, "unsupported_media_type", auth="officer",
  json_body={"review": "ok"}, ctype="text/plain")


@pytest.fixture(scope="module")
def victim(srv):
    return member(srv)


def test_there_are_enough_malformed_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES)
def test_malformed(srv, full_member, victim, case):
    c = case
    path = c["path"]
    body = c["body"]
    if body is not None:
        body = body.replace(b'"{ID}"', json.dumps(full_member.id).encode())
    head = srv.audit_head()
    version = srv.get("/v1/policy").json()["version"]
    kw = {"headers": {"Content-Type": c["ctype"]} if body is not None and c["ctype"] else {},
          "data": body}
    if c["auth"] == "member":
        kw["member"] = victim
        kw["csrf"] = c["csrf"]
    elif c["auth"]:
        kw["role"] = c["auth"]
    r = srv.request(c["method"], path, **kw)
    assert r.status_code == c["status"], (r.status_code, r.text[:300])
    assert_error_body(r, c["code"])
    assert_no_personal(srv, r.text, [v for v in victim.values.values() if len(v) >= 6] +
                       ["Court order 2026-W-118", "because I can", "j" * 100, "t" * 100])
    assert "Set-Cookie" not in r.headers
    after = srv.audit_head()
    if c["audited"] is False:
        assert after == head, "the audit moved"
    else:
        assert after == head + c["audited"]
    # Nothing published, no choice recorded, still serving.
    assert srv.get("/v1/policy").json()["version"] == version == POLICY["version"]
    assert srv.get("/v1/me/consents", member=victim).json()["choices"] == []
    assert srv.get("/healthz").status_code == 200
