"""
Members' diaries over HTTP (issue 5): the author writes, lists, edits and deletes
their own entries under /v1/me/diaries; staff read a member's entries only with
GET /v1/members/{id}/diaries?purpose=tos_review&case=... — no case reference, no
diary — and every such read, allowed or denied, is audited with its case and never
with the content.  Then malformed requests to these routes, data-driven like
test_malformed.py: a 4xx with the one error shape, nothing echoed, nothing written.
"""
import json
import os
import sqlite3
import urllib.parse

import pytest

from conftest import assert_error_body, assert_no_personal

PASSWORD = "diary suite password 5"
Q = urllib.parse.quote


def entries(srv, member, **params):
    r = srv.get("/v1/me/diaries", member=member, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def staff_read(srv, member_id, role="staff", **params):
    return srv.get(f"/v1/members/{member_id}/diaries", role=role, params=params)


def audit_since(srv, member_id, head):
    return [e for e in srv.audit(member=member_id, after=head, limit=1000)]


@pytest.fixture
def author(srv):
    """A fresh logged-in member with a distinctive entry."""
    m = srv.register(srv.new_values(), role=None, password=PASSWORD)
    srv.login(m)
    u = srv.unique("")
    m.title = f"Quillwhistle {u}"
    m.body = f"The Zembla lantern {u}\nis under the stairs."
    srv.remember({"t": m.title, "b": m.body, "line": f"Zembla lantern {u}"})
    r = srv.post("/v1/me/diaries", member=m, json={"title": m.title, "body": m.body})
    assert r.status_code == 201, r.text
    m.entry = r.json()["id"]
    return m


# ---- the author ------------------------------------------------------------------------------

def test_write_list_edit_delete(srv, author):
    body = entries(srv, author)
    assert set(body) == {"entries"}
    [e] = body["entries"]
    assert set(e) == {"id", "title", "body", "created", "updated"}
    assert (e["id"], e["title"], e["body"]) == (author.entry, author.title, author.body)

    r = srv.post("/v1/me/diaries", member=author, json={"title": "Second", "body": ""})
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    assert set(r.json()) == {"id"} and second != author.entry
    assert [x["id"] for x in entries(srv, author)["entries"]] == [second, author.entry]

    r = srv.request("PATCH", f"/v1/me/diaries/{second}", member=author,
                    json={"body": "Now with words.\r\n\tIndented."})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": second, "updated": ["body"]}
    r = srv.request("PATCH", f"/v1/me/diaries/{author.entry}", member=author,
                    json={"title": "Renamed", "body": "Rewritten."})
    assert r.json() == {"id": author.entry, "updated": ["title", "body"]}
    got = {x["id"]: x for x in entries(srv, author)["entries"]}
    assert (got[second]["title"], got[second]["body"]) == ("Second", "Now with words.\r\n\tIndented.")
    assert (got[author.entry]["title"], got[author.entry]["body"]) == ("Renamed", "Rewritten.")

    r = srv.request("DELETE", f"/v1/me/diaries/{second}", member=author)
    assert r.status_code == 204 and r.content == b""
    r = srv.request("DELETE", f"/v1/me/diaries/{second}", member=author)
    assert r.status_code == 404
    assert_error_body(r, "not_found")
    assert [x["id"] for x in entries(srv, author)["entries"]] == [author.entry]


def test_writes_are_audited_without_content(srv, author):
    head = srv.audit_head()
    r = srv.request("PATCH", f"/v1/me/diaries/{author.entry}", member=author,
                    json={"title": author.title + " again"})
    assert r.status_code == 200
    srv.request("DELETE", f"/v1/me/diaries/{author.entry}", member=author)
    got = [(e["action"], e["actor"], e["role"], e["decision"], e["fields"])
           for e in audit_since(srv, author.id, head)]
    assert got == [("diary_edit", author.id, "member", "done", "title"),
                   ("diary_delete", author.id, "member", "done", "")]
    full = srv.audit(member=author.id, limit=1000)
    assert [e for e in full if e["action"] == "diary_write" and author.entry in e["reason"]]
    assert_no_personal(srv, json.dumps(full))


def test_unicode_round_trip(srv, author):
    title, text = "日記 \U0001f4d3", "今日は雨でした。\n" * 100
    r = srv.post("/v1/me/diaries", member=author, json={"title": title, "body": text})
    assert r.status_code == 201
    e = entries(srv, author, limit=1)["entries"][0]
    assert (e["title"], e["body"]) == (title, text)


def test_paging(srv, author):
    ids = [author.entry]
    for i in range(4):
        r = srv.post("/v1/me/diaries", member=author, json={"title": f"page {i}", "body": ""})
        ids.append(r.json()["id"])
    newest_first = ids[::-1]
    first = entries(srv, author, limit=2)
    assert [e["id"] for e in first["entries"]] == newest_first[:2]
    assert first["next_before"] == newest_first[1]
    second = entries(srv, author, limit=2, before=first["next_before"])
    assert [e["id"] for e in second["entries"]] == newest_first[2:4]
    last = entries(srv, author, limit=2, before=second["next_before"])
    assert [e["id"] for e in last["entries"]] == newest_first[4:]
    assert "next_before" not in last
    # The staff read pages the same way.
    r = staff_read(srv, author.id, purpose="tos_review", case="TOS-PAGE", limit=3)
    assert [e["id"] for e in r.json()["entries"]] == newest_first[:3]
    assert r.json()["next_before"] == newest_first[2]


def test_other_members_entry_is_not_found(srv, author):
    other = srv.register(srv.new_values(), role=None, password=PASSWORD)
    srv.login(other)
    for method, kw in [("PATCH", {"json": {"title": "Overwritten by another"}}), ("DELETE", {})]:
        r = srv.request(method, f"/v1/me/diaries/{author.entry}", member=other, **kw)
        assert r.status_code == 404, r.text
        assert_error_body(r, "not_found")
        assert author.entry not in r.text
    # The same answer as an id that never existed: nothing tells them apart.
    r = srv.request("DELETE", "/v1/me/diaries/AAAAAAAAAAAAAAAAAAAAAA", member=other)
    assert r.status_code == 404 and r.json()["error"] == \
        srv.request("DELETE", f"/v1/me/diaries/{author.entry}", member=other).json()["error"]
    assert entries(srv, other) == {"entries": []}
    [e] = entries(srv, author)["entries"]
    assert (e["title"], e["body"]) == (author.title, author.body)
    # A member session cannot use the staff route, for anyone.
    for mid in (author.id, other.id):
        r = srv.get(f"/v1/members/{mid}/diaries", member=other,
                    params={"purpose": "tos_review", "case": "TOS-1"})
        assert r.status_code == 403
        assert_error_body(r, "forbidden")


def test_csrf_guards_every_change(srv, author):
    head = srv.audit_head()
    for method, path, body in [("POST", "/v1/me/diaries", {"title": "csrf-forged", "body": ""}),
                               ("PATCH", f"/v1/me/diaries/{author.entry}", {"title": "csrf-forged"}),
                               ("DELETE", f"/v1/me/diaries/{author.entry}", None)]:
        r = srv.request(method, path, member=author, csrf=False, json=body)
        assert r.status_code == 403
        assert_error_body(r, "csrf_required")
    assert srv.audit_head() == head
    [e] = entries(srv, author)["entries"]
    assert e["title"] == author.title


def test_sealed_on_disk(srv, author):
    """The distinctive title and body are nowhere in the database or its log."""
    u = author.title.split()[-1]
    for name in ("custodian.db", "custodian.db-wal"):
        path = os.path.join(srv.data, name)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        assert f"Quillwhistle {u}".encode() not in data, name
        assert f"Zembla lantern {u}".encode() not in data, name
    # The entry really was written (the search would find nothing otherwise).
    assert any(author.entry.encode() in open(os.path.join(srv.data, n), "rb").read()
               for n in ("custodian.db", "custodian.db-wal")
               if os.path.exists(os.path.join(srv.data, n)))


# ---- staff: no case reference, no diary ------------------------------------------------------

def test_staff_read_without_a_case_is_refused_and_audited(srv, author):
    for params in ({"purpose": "tos_review"}, {"purpose": "tos_review", "case": ""}):
        head = srv.audit_head()
        r = staff_read(srv, author.id, **params)
        assert r.status_code == 403, r.text
        assert_error_body(r, "case_required")
        assert author.title not in r.text and author.body not in r.text
        assert srv.audit_head() == head + 1
        [e] = audit_since(srv, author.id, head)
        assert (e["action"], e["role"], e["purpose"], e["decision"], e["fields"]) == \
            ("read_diaries", "staff", "tos_review", "deny", "diaries")
        assert e["case"] == ""
        assert e["reason"].startswith("case_required")


def test_staff_read_with_a_malformed_case_is_refused_unwritten(srv, author):
    # Given but blank or not one line of text: 400 case_invalid before the door, nothing written.
    for case in ("   ", "\t", "TOS-1\nX", "\u3000", "TOS\u2028" "1", "C" * 129):
        head = srv.audit_head()
        r = staff_read(srv, author.id, purpose="tos_review", case=case)
        assert r.status_code == 400, r.text
        assert_error_body(r, "case_invalid")
        assert author.title not in r.text and author.body not in r.text
        assert srv.audit_head() == head


def test_staff_read_with_a_case(srv, author):
    for role in ("staff", "officer"):
        head = srv.audit_head()
        r = staff_read(srv, author.id, role=role, purpose="tos_review", case="TOS-2026-0042")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["member"], body["purpose"], body["case"]) == \
            (author.id, "tos_review", "TOS-2026-0042")
        [e] = body["entries"]
        assert (e["id"], e["title"], e["body"]) == (author.entry, author.title, author.body)
        [a] = audit_since(srv, author.id, head)
        assert (a["action"], a["actor"], a["role"], a["decision"], a["case"], a["fields"]) == \
            ("read_diaries", srv.token_names[role], role, "allow", "TOS-2026-0042", "diaries")
        assert_no_personal(srv, json.dumps(a))
    # The member sees each read, with its case, in their access log.
    log = srv.get("/v1/me/access-log", member=author).json()["entries"]
    reads = [e for e in log if e["action"] == "read_diaries"]
    assert len(reads) == 2 and all(e["case"] == "TOS-2026-0042" for e in reads)
    assert {e["role"] for e in reads} == {"staff", "officer"}


@pytest.mark.parametrize("role,purpose,code", [
    ("staff", "support", "purpose_not_allowed"),
    ("staff", "site_management", "purpose_not_allowed"),
    ("subcontractor", "support", "purpose_not_allowed"),
    ("analyst", "tos_review", "purpose_not_allowed"),
    ("service", "tos_review", "purpose_not_allowed"),
    ("admin", "tos_review", "purpose_not_allowed"),
    ("subcontractor", "tos_review", "purpose_not_allowed"),
    ("staff", "nonesuch", "purpose_unknown"),
    ("staff", "self", "purpose_unknown"),
])
def test_staff_read_wrong_purpose_or_role(srv, author, role, purpose, code):
    head = srv.audit_head()
    r = staff_read(srv, author.id, role=role, purpose=purpose, case="TOS-9")
    assert r.status_code == (400 if code == "purpose_unknown" else 403), r.text
    assert_error_body(r, code)
    assert author.title not in r.text
    [e] = audit_since(srv, author.id, head)
    assert (e["action"], e["decision"], e["case"]) == ("read_diaries", "deny", "TOS-9")


def test_erased_members_diary_is_gone(srv, author):
    r = srv.cli("member", "erase", author.id)
    assert r.returncode == 0, r.stderr
    head = srv.audit_head()
    r = staff_read(srv, author.id, role="officer", purpose="tos_review", case="TOS-ERASED")
    assert r.status_code == 404
    assert_error_body(r, "erased")
    # (The head the metrics show lags the command line's own entries: look at the entries.)
    reads = [e for e in audit_since(srv, author.id, head) if e["action"] == "read_diaries"]
    assert [(e["decision"], e["case"]) for e in reads] == [("deny", "TOS-ERASED")]
    assert reads[0]["reason"].startswith("erased")
    assert srv.get("/v1/me/diaries", member=author).status_code == 401
    # The rows went with the erasure.
    db = sqlite3.connect(os.path.join(srv.data, "custodian.db"), timeout=10)
    try:
        n = db.execute("SELECT count(*) FROM diaries WHERE member = ?", (author.id,)).fetchone()[0]
    finally:
        db.close()
    assert n == 0


# ---- malformed requests, data-driven -----------------------------------------------------------

CASES = []
ME = "/v1/me/diaries"
ONE = "/v1/me/diaries/{DID}"
STAFF = "/v1/members/{ID}/diaries"
SQL = "x'); DROP TABLE diaries;--"


def C(id, method, path, status, code=None, *, auth="member", json_body=None, body=None,
      ctype="application/json", audited=False, csrf=True, allow=None):
    """auth: "member" (the victim's session), a token role, or None.  audited: False
    (the audit head is unchanged), or the number of entries the refusal adds.  Every
    would-be string value of 6 bytes or more must not come back."""
    secrets = []
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        secrets = [v for v in json_body.values() if isinstance(v, str) and len(v) >= 6]
    CASES.append(pytest.param(dict(method=method, path=path, status=status, code=code, auth=auth,
                                   body=body, ctype=ctype, audited=audited, csrf=csrf,
                                   allow=allow, secrets=secrets), id=id))


for target, method in ((ME, "POST"), (ONE, "PATCH")):
    for label, b in [("open brace", b"{"), ("trailing comma", b'{"title":"x",}'),
                     ("empty", b""), ("array", b'[{"title":"x"}]'), ("string", b'"x"'),
                     ("null", b"null"), ("duplicate keys", b'{"title":"a","title":"b"}'),
                     ("invalid utf-8", b'{"title":"\xff\xfe"}'),
                     ("overlong utf-8", b'{"title":"t","body":"\xc0\xaf"}'),
                     ("nul escape", b'{"title":"a\\u0000b"}'),
                     ("lone surrogate", b'{"title":"t","body":"\\ud800"}'),
                     ("9 levels", b'{"title":' + b'{"a":' * 8 + b'"x"' + b"}" * 9)]:
        C(f"{method} bad json: {label}", method, target, 400, "invalid_json", body=b)
    for label, obj, field in [
        ("title number", {"title": 5, "body": "b"}, "title"),
        ("title null", {"title": None, "body": "b"}, "title"),
        ("body array", {"title": "t", "body": ["b"]}, "body"),
        ("body object", {"title": "t", "body": {"text": "b"}}, "body"),
        ("unknown key", {"title": "t", "body": "b", "mood": "wouldbe-diary-mood"}, "mood"),
        ("id key", {"title": "t", "body": "b", "id": "AAAAAAAAAAAAAAAAAAAAAA"}, "id"),
        ("member key", {"title": "t", "body": "b", "member": "AAAAAAAAAAAAAAAAAAAAAA"},
         "member"),
        ("title too long", {"title": "T" * 201, "body": "b"}, "title"),
        ("title newline", {"title": "wouldbe\ndiary title", "body": "b"}, "title"),
        ("title control", {"title": "wouldbe\u0007title", "body": "b"}, "title"),
        ("title C1", {"title": "wouldbe\u0085title", "body": "b"}, "title"),
        ("blank title", {"title": "   ", "body": "b"}, "title"),
        ("body control", {"title": "t", "body": "wouldbe\u001bdiary body"}, "body"),
        ("body DEL", {"title": "t", "body": "wouldbe\u007fdiary body"}, "body"),
        ("body too long", {"title": "t", "body": "b" * (60 * 1024 + 1)}, "body"),
    ]:
        C(f"{method} wrong field: {label}", method, target, 422, "invalid_field",
          json_body=obj)
    C(f"{method} huge body", method, target, 413, "too_large",
      json_body={"title": "t", "body": "b" * (70 * 1024)})
    C(f"{method} wrong content type", method, target, 415, "unsupported_media_type",
      body=b'{"title":"t","body":"b"}', ctype="text/plain")
    C(f"{method} no content type", method, target, 415, "unsupported_media_type",
      body=b'{"title":"t","body":"b"}', ctype=None)
    C(f"{method} query parameter", method, target + "?x=1", 400, "invalid_argument",
      json_body={"title": "t", "body": "b"})
    C(f"{method} without the CSRF header", method, target, 403, "csrf_required", csrf=False,
      json_body={"title": "csrf-forged-title", "body": "b"})
    C(f"{method} with a bearer token", method, target, 403, "forbidden", auth="staff",
      json_body={"title": "t", "body": "b"})
    C(f"{method} without credentials", method, target, 401, "unauthenticated", auth=None,
      json_body={"title": "t", "body": "b"})
C("POST missing title", "POST", ME, 422, "invalid_field", json_body={"body": "b"})
C("POST missing body", "POST", ME, 422, "invalid_field", json_body={"title": "t"})
C("POST empty object", "POST", ME, 422, "invalid_field", json_body={})
C("PATCH empty object", "PATCH", ONE, 400, "invalid_argument", json_body={})
# A well-formed id that is no entry of this member's: refused, and the refusal audited.
C("PATCH unknown entry", "PATCH", "/v1/me/diaries/AAAAAAAAAAAAAAAAAAAAAA", 404, "not_found",
  json_body={"title": "t"}, audited=1)
C("DELETE unknown entry", "DELETE", "/v1/me/diaries/AAAAAAAAAAAAAAAAAAAAAA", 404, "not_found",
  audited=1)
# A malformed id names nothing at all.
for label, mid in [("sql", SQL), ("short", "abc"), ("long", "A" * 60), ("traversal", "../me")]:
    C(f"DELETE malformed id: {label}", "DELETE", "/v1/me/diaries/" + Q(mid, safe=""), 404,
      "not_found")
C("DELETE query parameter", "DELETE", ONE + "?force=1", 400, "invalid_argument")
C("DELETE without the CSRF header", "DELETE", ONE, 403, "csrf_required", csrf=False)

# The author's list.
for label, q in [("limit 0", "limit=0"), ("limit 101", "limit=101"), ("limit text", "limit=ten"),
                 ("limit negative", "limit=-1"), ("limit plus", "limit=+5"),
                 ("limit huge", "limit=99999999999999999999"), ("before short", "before=abc"),
                 ("before sql", "before=" + Q(SQL)), ("unknown", "x=1"),
                 ("purpose", "purpose=tos_review")]:
    C(f"GET own list: {label}", "GET", ME + "?" + q, 400, "invalid_argument")
C("GET own list: before names no entry", "GET", ME + "?before=AAAAAAAAAAAAAAAAAAAAAA", 404,
  "not_found", audited=1)
C("GET own list: bearer token", "GET", ME, 403, "forbidden", auth="officer")

# The staff read.  Refused before the door: not audited; refused by the door: audited once.
C("staff: no purpose", "GET", STAFF + "?case=TOS-1", 400, "purpose_required", auth="staff")
C("staff: empty purpose", "GET", STAFF + "?purpose=&case=TOS-1", 400, "purpose_required",
  auth="staff")
C("staff: unknown parameter", "GET", STAFF + "?purpose=tos_review&case=TOS-1&fields=name", 400,
  "invalid_argument", auth="staff")
C("staff: e-mail in the URL", "GET",
  STAFF + "?purpose=tos_review&case=TOS-1&email=wouldbe-diary@leak-example.org", 400,
  "invalid_argument", auth="staff")
for label, q in [("limit 0", "limit=0"), ("limit 101", "limit=101"), ("before sql", "before=" + Q(SQL))]:
    C(f"staff: {label}", "GET", STAFF + "?purpose=tos_review&case=TOS-1&" + q, 400,
      "invalid_argument", auth="staff")
C("staff: no case", "GET", STAFF + "?purpose=tos_review", 403, "case_required", auth="staff",
  audited=1)
C("staff: blank case", "GET", STAFF + "?purpose=tos_review&case=%20%20", 400, "case_invalid",
  auth="officer")
C("staff: CRLF case", "GET", STAFF + "?purpose=tos_review&case=" + Q("TOS-1\r\nSet-Cookie: evil=1"),
  400, "case_invalid", auth="staff")
C("staff: case over 128 bytes", "GET", STAFF + "?purpose=tos_review&case=" + "C" * 129, 400,
  "case_invalid", auth="staff")
C("staff: purpose sql", "GET", STAFF + "?case=TOS-1&purpose=" + Q(SQL), 400, "purpose_unknown",
  auth="staff", audited=1)
C("staff: unknown member", "GET",
  "/v1/members/AAAAAAAAAAAAAAAAAAAAAA/diaries?purpose=tos_review&case=TOS-1", 404, "not_found",
  auth="staff", audited=1)
C("staff: member id sql", "GET",
  "/v1/members/" + Q(SQL, safe="") + "/diaries?purpose=tos_review&case=TOS-1", 400,
  "invalid_argument", auth="staff", audited=1)
C("staff: before names no entry", "GET",
  STAFF + "?purpose=tos_review&case=TOS-1&before=AAAAAAAAAAAAAAAAAAAAAA", 404, "not_found",
  auth="staff", audited=1)
C("staff: member session", "GET", STAFF + "?purpose=tos_review&case=TOS-1", 403, "forbidden")
C("staff: no credentials", "GET", STAFF + "?purpose=tos_review&case=TOS-1", 401,
  "unauthenticated", auth=None)

# Methods.
for method, path, allow in [("PUT", ME, "POST, GET"), ("DELETE", ME, "POST, GET"),
                            ("GET", ONE, "PATCH, DELETE"), ("POST", ONE, "PATCH, DELETE"),
                            ("POST", STAFF, "GET"), ("DELETE", STAFF, "GET")]:
    C(f"method: {method} {path}", method, path, 405, "method_not_allowed", auth="officer",
      allow=allow, body=b"{}" if method in ("PUT", "POST") else None)
for path in ["/v1/me/diaries/", "/v1/me/diaries/{DID}/x", "/v1/members/{ID}/diaries/x",
             "/v1/members/{ID}/diary"]:
    C(f"route: {path}", "GET", path, 404, "not_found", auth="officer")


@pytest.fixture(scope="module")
def victim(srv):
    """A logged-in member with one entry; the malformed requests must not change it."""
    m = srv.register(srv.new_values(), role=None, password=PASSWORD)
    srv.login(m)
    m.title, m.body = "Victim's entry", "wouldbe-untouched diary body"
    srv.remember({"b": m.body})
    r = srv.post("/v1/me/diaries", member=m, json={"title": m.title, "body": m.body})
    assert r.status_code == 201
    m.entry = r.json()["id"]
    return m


def test_there_are_enough_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("case", CASES)
def test_malformed(srv, victim, case):
    c = case
    path = c["path"].replace("{DID}", victim.entry).replace("{ID}", victim.id)
    headers = {}
    if c["body"] is not None and c["ctype"]:
        headers["Content-Type"] = c["ctype"]
    kw = {"headers": headers, "data": c["body"]}
    if c["auth"] == "member":
        kw["member"] = victim
        kw["csrf"] = c["csrf"]
    elif c["auth"]:
        kw["role"] = c["auth"]
    head = srv.audit_head()

    r = srv.request(c["method"], path, **kw)

    assert r.status_code == c["status"], (r.status_code, r.text[:300])
    assert_error_body(r, c["code"])
    if c["allow"]:
        assert sorted(r.headers["Allow"].split(", ")) == sorted(c["allow"].split(", "))
    assert "Set-Cookie" not in r.headers and "evil" not in str(r.headers)
    assert_no_personal(srv, r.text, c["secrets"] + [victim.title, victim.body])
    after = srv.audit_head()
    assert after == head + (c["audited"] or 0), "the audit moved"
    # Nothing written: the victim's diary is the one entry it was.
    [e] = entries(srv, victim)["entries"]
    assert (e["id"], e["title"], e["body"]) == (victim.entry, victim.title, victim.body)
    assert srv.get("/healthz").status_code == 200
