"""
Malformed and hostile requests, data-driven.  For each case:

  - the status is the expected 4xx (never a 5xx),
  - the body is the one error model {"error": {"code": ..., "message": ...}}
    (except where libmicrohttpd itself answers before any handler runs),
  - no personal value of any member (nor the would-be values sent) is echoed,
  - nothing is written: the audit head is unchanged for requests refused
    before the access door (denied READS are audited by design: exactly one
    entry), and a would-be registration's e-mail finds no member afterwards,
  - the server still answers /healthz.
"""
import json
import urllib.parse

import pytest

from conftest import assert_error_body, assert_no_personal

CASES = []
_n = [0]


def wouldbe(**over):
    """A registration body that would be valid, with distinctive would-be values."""
    _n[0] += 1
    k = _n[0]
    v = {"name": f"Wouldbe Person{k:03d}", "address": f"{k:03d} Wouldbe-Street, Osaka",
         "phone": f"+8180{k:08d}", "email": f"wouldbe-{k:03d}@leak-example.org"}
    v.update(over)
    return {a: b for a, b in v.items() if b is not None}


def C(id, method, path, status, code=None, *, auth=None, json_body=None, body=None,
      ctype="application/json", headers=None, audited=False, email=None, secrets=(),
      allow=None, raw=None, mhd=False, csrf=True, closed_ok=False):
    """One case.  auth: a token role, "member", "expired", "revoked", or None.
    json_body: an object sent as JSON; body: raw bytes.  audited: False (audit head
    unchanged), an int (exactly that many entries), or None (not checked).
    raw: bytes sent on a socket as they are ({TOKEN} and {ID} are filled in)."""
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        if email is None and isinstance(json_body, dict) and path == "/v1/members":
            email = json_body.get("email") if isinstance(json_body.get("email"), str) else None
        secrets = list(secrets) + [x for x in (json_body.values() if isinstance(json_body, dict)
                                               else []) if isinstance(x, str) and len(x) >= 6]
    CASES.append(pytest.param(dict(method=method, path=path, status=status, code=code, auth=auth,
                                   body=body, ctype=ctype, headers=headers or {},
                                   audited=audited, email=email, secrets=list(secrets),
                                   allow=allow, raw=raw, mhd=mhd, csrf=csrf,
                                   closed_ok=closed_ok), id=id))


Q = urllib.parse.quote
READ = "/v1/members/{ID}"
SQL1 = "' OR 1=1 --"
SQL2 = "x'); DROP TABLE members;--"
FMT = "%s%n%x%s%s%s%p"
CRLF = "support\r\nSet-Cookie: evil=1"


def deep(n, inner='"x"'):
    return ('{"a":' * n + inner + "}" * n).encode()


# ---- bad JSON (400 invalid_json) -------------------------------------------------------------
for i, (label, b) in enumerate([
    ("open brace", b"{"),
    ("missing value", b'{"name": }'),
    ("single quotes", b"{'name': 'x'}"),
    ("trailing comma", b'{"email": "a@b.co",}'),
    ("bare word", b"nul"),
    ("whitespace only", b"   \n\t "),
    ("two documents", b'{"email":"a@b.co"} {"email":"c@d.co"}'),
    ("duplicate keys", b'{"email":"wouldbe-dup1@leak-example.org","email":"wouldbe-dup2@leak-example.org"}'),
    ("NaN", b'{"age": NaN}'),
    ("real overflow", b'{"age": 1e999}'),
    ("integer overflow", b'{"age": 999999999999999999999999999}'),
    ("byte order mark", b'\xef\xbb\xbf{"email":"a@b.co"}'),
    ("comment", b'/* hi */ {"email":"a@b.co"}'),
    ("unterminated string", b'{"email":"a@b.co'),
    ("control char in string", b'{"email":"a\x01@b.co"}'),
]):
    path = ["/v1/members", "/v1/members/search", "/v1/session"][i % 3]
    auth = {"/v1/members": "service", "/v1/members/search": "staff", "/v1/session": None}[path]
    C(f"bad json: {label} -> {path}", "POST", path, 400, "invalid_json", auth=auth, body=b)
C("bad json: empty body", "POST", "/v1/members", 400, "invalid_json", auth="service", body=b"")
C("bad json: PATCH /v1/me truncated", "PATCH", "/v1/me", 400, "invalid_json", auth="member",
  body=b'{"hobbies": "ches')

# ---- not an object -----------------------------------------------------------------------
for label, b in [("array", b"[]"), ("array of object", b'[{"email":"a@b.co"}]'),
                 ("string", b'"a@b.co"'), ("number", b"42"), ("null", b"null"),
                 ("true", b"true")]:
    C(f"not an object: {label}", "POST", "/v1/members/search", 400, "invalid_json",
      auth="staff", body=b)
C("not an object: array to PATCH /v1/me", "PATCH", "/v1/me", 400, "invalid_json", auth="member",
  body=b'[{"hobbies":"x"}]')
C("not an object: array to sign-up", "POST", "/v1/members", 400, "invalid_json",
  body=json.dumps([wouldbe(password="long enough pw")]).encode())

# ---- wrong types ---------------------------------------------------------------------------
for label, over, field in [
    ("name true", {"name": True}, "name"),
    ("name array", {"name": ["Wouldbe", "Person"]}, "name"),
    ("name object", {"name": {"first": "Wouldbe"}}, "name"),
    ("age real", {"age": 1.5}, "age"),
    ("phone false", {"phone": False}, "phone"),
    ("email number", {"email": 42}, "email"),
]:
    C(f"wrong type: {label}", "POST", "/v1/members", 422, "invalid_field", auth="service",
      json_body=wouldbe(**over), email=None)
C("wrong type: password number", "POST", "/v1/members", 422, "invalid_field",
  json_body=wouldbe(password=12345678))
C("wrong type: password null", "POST", "/v1/members", 422, "invalid_field",
  json_body=wouldbe(password=None) | {"password": None})
for label, b in [("email number", {"email": 5}), ("email null", {"email": None}),
                 ("email array", {"email": ["a@b.co"]}), ("phone object", {"phone": {"n": 1}}),
                 ("empty object", {}), ("both keys", {"email": "a@b.co", "phone": "+819011112222"}),
                 ("other key", {"name": "Wouldbe Searcher"})]:
    C(f"search wrong shape: {label}", "POST", "/v1/members/search", 400, "invalid_argument",
      auth="staff", json_body=b)
for label, b in [("email number", {"email": 1, "password": "long enough pw"}),
                 ("no password", {"email": "wouldbe-login@leak-example.org"}),
                 ("extra key", {"email": "wouldbe-login@leak-example.org",
                                "password": "long enough pw", "stay": True}),
                 ("remember not a boolean", {"email": "wouldbe-login@leak-example.org",
                                             "password": "long enough pw", "remember": "yes"}),
                 ("password null", {"email": "wouldbe-login@leak-example.org", "password": None})]:
    C(f"login wrong shape: {label}", "POST", "/v1/session", 400, "invalid_argument",
      json_body=b)
C("PATCH wrong type: list value", "PATCH", "/v1/me", 422, "invalid_field", auth="member",
  json_body={"hobbies": ["chess", "go"]})
C("PATCH wrong type: bool", "PATCH", "/v1/me", 422, "invalid_field", auth="member",
  json_body={"age": True})

# ---- huge bodies (413) ---------------------------------------------------------------------
big_name = "N" * (70 * 1024)
C("huge: 70 KiB registration", "POST", "/v1/members", 413, "too_large", auth="service",
  json_body=wouldbe(name=big_name))
C("huge: 64 KiB + 1 search", "POST", "/v1/members/search", 413, "too_large", auth="staff",
  body=b'{"email":"' + b"a" * (65537 - 12) + b'"}')
C("huge: 100 KiB login", "POST", "/v1/session", 413, "too_large",
  body=b'{"email":"a@b.co","password":"' + b"p" * 100000 + b'"}')
C("huge: 1 MiB PATCH", "PATCH", "/v1/me", 413, "too_large", auth="member",
  body=b'{"hobbies":"' + b"h" * (1024 * 1024) + b'"}')
C("huge: 70 KiB with the wrong type", "POST", "/v1/members", 413, "too_large", auth="service",
  body=b"x" * (70 * 1024), ctype="text/plain")
_exact = wouldbe()
_exact["name"] = ""
_pad = 65536 - len(json.dumps(_exact).encode())
_exact["name"] = "n" * _pad
C("limit: exactly 64 KiB is read (then the name is too long)", "POST", "/v1/members", 422,
  "invalid_field", auth="service", json_body=_exact)

# ---- deep nesting (400) --------------------------------------------------------------------
C("deep: 9 objects", "POST", "/v1/members/search", 400, "invalid_json", auth="staff",
  body=deep(9))
C("deep: 9 arrays in a field", "POST", "/v1/members", 400, "invalid_json", auth="service",
  body=b'{"name":' + b"[" * 8 + b"]" * 8 + b"}")
C("deep: 1000 levels", "POST", "/v1/members/search", 400, "invalid_json", auth="staff",
  body=deep(1000))
C("deep: 60000 open brackets", "POST", "/v1/members", 400, "invalid_json", auth="service",
  body=b"[" * 60000)
C("deep: 30000 unbalanced closers", "POST", "/v1/members/search", 400, "invalid_json",
  auth="staff", body=b"]" * 30000)
C("deep: 8 levels is parsed (then a malformed field)", "POST", "/v1/members", 422,
  "invalid_field", auth="service",
  body=json.dumps(wouldbe(occupation=[[[[[[["x"]]]]]]])).encode())
C("deep: brackets inside a string do not count", "POST", "/v1/members/search", 422,
  "invalid_field", auth="staff", json_body={"email": "[" * 40 + "{" * 40})
C("deep: escaped quote then brackets", "POST", "/v1/members/search", 422, "invalid_field",
  auth="staff", body=b'{"email":"\\"' + b"[" * 20 + b'"}')
C("deep: PATCH 9 levels", "PATCH", "/v1/me", 400, "invalid_json", auth="member",
  body=b'{"hobbies":' + deep(8) + b"}")

# ---- invalid UTF-8 and NUL (400) -----------------------------------------------------------
for label, raw_bytes in [("ff fe", b"\xff\xfe"), ("overlong slash", b"\xc0\xaf"),
                         ("UTF-8 surrogate", b"\xed\xa0\x80"), ("truncated", b"\xe3\x81"),
                         ("lone continuation", b"\x80abc"), ("5-byte form", b"\xf8\x88\x80\x80\x80")]:
    C(f"utf-8: {label} in a value", "POST", "/v1/members", 400, "invalid_json", auth="service",
      body=b'{"name":"Wouldbe ' + raw_bytes + b'","address":"x","phone":"+819011112222",'
           b'"email":"wouldbe-utf8@leak-example.org"}', email="wouldbe-utf8@leak-example.org")
C("utf-8: invalid key", "POST", "/v1/members/search", 400, "invalid_json", auth="staff",
  body=b'{"em\xffail":"a@b.co"}')
C("utf-8: lone surrogate escape", "POST", "/v1/members/search", 400, "invalid_json",
  auth="staff", body=b'{"email":"\\ud800@b.co"}')
C("utf-8: invalid in PATCH", "PATCH", "/v1/me", 400, "invalid_json", auth="member",
  body=b'{"hobbies":"\xc3\x28"}')
C("nul: in a registration value", "POST", "/v1/members", 400, "invalid_json", auth="service",
  body=json.dumps(wouldbe(name="Wouldbe\u0000Person")).encode())
C("nul: in a search value", "POST", "/v1/members/search", 400, "invalid_json", auth="staff",
  body=b'{"email":"a\\u0000@b.co"}')
C("nul: in a password", "POST", "/v1/session", 400, "invalid_json",
  body=b'{"email":"wouldbe-nul@leak-example.org","password":"long enough\\u0000pw"}')
C("nul: in a key", "PATCH", "/v1/me", 400, "invalid_json", auth="member",
  body=b'{"hob\\u0000bies":"x"}')
C("control: SOH in a name", "POST", "/v1/members", 422, "invalid_field", auth="service",
  json_body=wouldbe(name="Wouldbe\u0001Person"))
C("control: newline in an e-mail", "POST", "/v1/members", 422, "invalid_field",
  auth="service", json_body=wouldbe(email="wouldbe-nl\n@leak-example.org"))

# ---- unknown fields (422 unknown_field) ----------------------------------------------------
for label, key in [("nickname", "nickname"), ("__proto__", "__proto__"), ("id", "id"),
                   ("sql key", SQL1), ("long key", "k" * 100), ("role", "role")]:
    C(f"unknown field: {label}", "POST", "/v1/members", 422, "invalid_field", auth="service",
      json_body=wouldbe() | {key: "value"})
C("unknown field: password in PATCH", "PATCH", "/v1/me", 422, "invalid_field", auth="member",
  json_body={"password": "a new password 123"})
C("unknown field: role in PATCH", "PATCH", "/v1/me", 422, "invalid_field", auth="member",
  json_body={"role": "officer"})

C("too many fields: 70 keys in a registration", "POST", "/v1/members", 422, "invalid_field",
  auth="service", json_body=wouldbe() | {f"extra{i}": "x" for i in range(70)})
C("too many fields: 70 keys in a PATCH", "PATCH", "/v1/me", 422, "invalid_field",
  auth="member", json_body={f"extra{i}": "x" for i in range(70)})
C("too many fields: 40 bad values", "POST", "/v1/members", 422, "invalid_field",
  auth="service", json_body=wouldbe() | {f"extra{i}": 1.5 for i in range(40)})

# ---- injection strings ---------------------------------------------------------------------
for label, v in [("sql or", SQL1), ("sql drop", SQL2), ("format", "%s%n%x"),
                 ("traversal", "../../etc/passwd"), ("crlf", "a@b.co\r\nBcc: x@y.z"),
                 ("html", "<script>alert(1)</script>")]:
    C(f"injection: search email {label}", "POST", "/v1/members/search", 422, "invalid_field",
      auth="staff", json_body={"email": v})
C("injection: search phone sql", "POST", "/v1/members/search", 422, "invalid_field",
  auth="staff", json_body={"phone": SQL1})
C("injection: registration e-mail sql", "POST", "/v1/members", 422, "invalid_field",
  auth="service", json_body=wouldbe(email=SQL2), email=None)
C("injection: registration name format string, bad phone", "POST", "/v1/members", 422,
  "invalid_field", auth="service", json_body=wouldbe(name=FMT, phone="%n%n%n"))
C("injection: registration name CRLF", "POST", "/v1/members", 422, "invalid_field",
  auth="service", json_body=wouldbe(name="Wouldbe\r\nSet-Cookie: evil=1"))
for label, v in [("sql", SQL1), ("crlf", "wouldbe@leak-example.org\r\nX: y"),
                 ("format", FMT + "@"), ("empty", ""), ("300 chars", "e" * 300)]:
    C(f"injection: login email {label}", "POST", "/v1/session", 401, "unauthenticated",
      json_body={"email": v, "password": "long enough pw"})
C("login: password over 1024 bytes", "POST", "/v1/session", 401, "unauthenticated",
  json_body={"email": "wouldbe-longpw@leak-example.org", "password": "p" * 2000})
C("injection: member id sql", "GET", "/v1/members/" + Q(SQL1, safe="") + "?purpose=support",
  404, "not_found", auth="staff", audited=1)
# Ids are at most 22 characters: a longer one is refused as malformed (400), still audited.
C("injection: member id drop", "GET", "/v1/members/" + Q(SQL2, safe="") + "?purpose=support",
  400, "invalid_argument", auth="staff", audited=1)
C("injection: member id format", "GET", "/v1/members/" + Q(FMT, safe="") + "?purpose=support",
  404, "not_found", auth="staff", audited=1)
C("injection: member id CRLF", "GET",
  "/v1/members/" + Q("abc\r\nSet-Cookie: evil=1", safe="") + "?purpose=support", 400,
  "invalid_argument", auth="staff", audited=1)
C("injection: member id encoded traversal", "GET",
  "/v1/members/" + Q("../../etc/passwd", safe="") + "?purpose=support", 404, "not_found",
  auth="staff")
C("injection: purpose sql", "GET", READ + "?purpose=" + Q(SQL1), 400, "purpose_unknown",
  auth="staff", audited=1)
C("injection: purpose format", "GET", READ + "?purpose=" + Q(FMT), 400, "purpose_unknown",
  auth="staff", audited=1)
C("injection: purpose CRLF", "GET", READ + "?purpose=" + Q(CRLF), 400, "purpose_unknown",
  auth="staff", audited=1)
C("injection: purpose traversal", "GET", READ + "?purpose=" + Q("../support"), 400,
  "purpose_unknown", auth="staff", audited=1)
C("injection: case sql (role not allowed)", "GET",
  READ + "?purpose=tos_review&case=" + Q(SQL2), 403, "purpose_not_allowed", auth="analyst",
  audited=1)
C("injection: fields sql", "GET", READ + "?purpose=support&fields=" + Q(SQL1), 400,
  "invalid_argument", auth="staff")
C("injection: service traversal", "GET",
  "/v1/services/" + Q("../../etc", safe="") + "/eligibility/{ID}", 404, "not_found",
  auth="service")
C("injection: service format", "GET", "/v1/services/" + Q(FMT, safe="") + "/eligibility/{ID}",
  404, "not_found", auth="service")
C("injection: audit member sql", "GET", "/v1/audit?member=" + Q(SQL1), 200, None,
  auth="officer")

# ---- very long purpose / case / ids --------------------------------------------------------
C("long: purpose 41", "GET", READ + "?purpose=" + "p" * 41, 400, "invalid_argument",
  auth="staff", audited=1)
C("long: purpose 5000", "GET", READ + "?purpose=" + "p" * 5000, 400, "invalid_argument",
  auth="staff", audited=1)
# A case reference given that is not well-formed is refused before the door: nothing written.
C("long: case 129", "GET", READ + "?purpose=tos_review&case=" + "c" * 129, 400,
  "case_invalid", auth="officer")
C("long: case 10000", "GET", READ + "?purpose=tos_review&case=" + "c" * 10000, 400,
  "case_invalid", auth="officer")
C("long: id 65", "GET", "/v1/members/" + "A" * 65 + "?purpose=support", 400,
  "invalid_argument", auth="staff", audited=1)
C("long: id 72", "GET", "/v1/members/" + "A" * 72 + "?purpose=support", 404, "not_found",
  auth="staff")
C("long: id 5000", "GET", "/v1/members/" + "A" * 5000 + "?purpose=support", 404, "not_found",
  auth="staff")
C("long: service id 71", "GET", "/v1/services/" + "s" * 71 + "/eligibility/{ID}", 404,
  "not_found", auth="service")
C("long: eligibility member 65", "GET", "/v1/services/newsletter/eligibility/" + "A" * 65, 400,
  "invalid_argument", auth="service")
C("long: fields name 100", "GET", READ + "?purpose=support&fields=" + "f" * 100, 400,
  "invalid_argument", auth="staff")
C("long: audit member 65", "GET", "/v1/audit?member=" + "A" * 65, 400, "invalid_argument",
  auth="officer")
C("long: 20 KB unknown query parameter", "GET", READ + "?purpose=support&x=" + "q" * 20000,
  400, "invalid_argument", auth="staff")

# ---- content type (415) --------------------------------------------------------------------
for label, ct in [("text/plain", "text/plain"), ("none", None),
                  ("form", "application/x-www-form-urlencoded"),
                  ("multipart", "multipart/form-data; boundary=x"),
                  ("jsonp", "application/jsonp"), ("json-patch", "application/json-patch+json"),
                  ("text/json", "text/json")]:
    C(f"content type: {label}", "POST", "/v1/members", 415, "unsupported_media_type",
      auth="service", json_body=wouldbe(), ctype=ct)
C("content type: search text/plain", "POST", "/v1/members/search", 415,
  "unsupported_media_type", auth="staff", json_body={"email": "a@b.co"}, ctype="text/plain")
C("content type: login xml", "POST", "/v1/session", 415, "unsupported_media_type",
  body=b"<login/>", ctype="application/xml")
C("content type: PATCH merge-patch", "PATCH", "/v1/me", 415, "unsupported_media_type",
  auth="member", json_body={"hobbies": "x"}, ctype="application/merge-patch+json")

# ---- credentials (401) ---------------------------------------------------------------------
C("auth: none on a read", "GET", READ + "?purpose=support", 401, "unauthenticated")
C("auth: none on search", "POST", "/v1/members/search", 401, "unauthenticated",
  json_body={"email": "a@b.co"})
for label, tok in [("garbage", "Bearer garbage"), ("empty bearer", "Bearer "),
                   ("basic", "Basic dXNlcjpwYXNz"), ("long", "Bearer " + "x" * 300),
                   ("well-formed unknown", "Bearer cu_" + "A" * 43),
                   ("two tokens", "Bearer cu_" + "A" * 43 + ", Bearer cu_" + "B" * 43),
                   ("no scheme", "cu_" + "A" * 43), ("sql", "Bearer " + SQL1)]:
    C(f"auth: {label}", "GET", READ + "?purpose=support", 401, "unauthenticated",
      headers={"Authorization": tok})
C("auth: expired token", "GET", READ + "?purpose=support", 401, "unauthenticated",
  auth="expired")
C("auth: revoked token", "GET", READ + "?purpose=support", 401, "unauthenticated",
  auth="revoked")
C("auth: expired token cannot register (no fall-back to sign-up)", "POST", "/v1/members", 401,
  "unauthenticated", auth="expired", json_body=wouldbe(password="long enough password"))
C("auth: revoked token on search", "POST", "/v1/members/search", 401, "unauthenticated",
  auth="revoked", json_body={"email": "a@b.co"})
C("auth: revoked officer on audit", "GET", "/v1/audit", 401, "unauthenticated",
  auth="revoked")
C("auth: token in the query", "GET", READ + "?purpose=support&access_token=cu_x", 401,
  "unauthenticated")
for label, ck in [("garbage", "cu_session=garbage"), ("long", "cu_session=" + "s" * 200),
                  ("empty", "cu_session="), ("token as cookie", "cu_session=cu_" + "A" * 43)]:
    C(f"session: {label} cookie", "GET", "/v1/me", 401, "unauthenticated",
      headers={"Cookie": ck})

# ---- CSRF (403 csrf_required) --------------------------------------------------------------
C("csrf: PATCH without the header", "PATCH", "/v1/me", 403, "csrf_required", auth="member",
  csrf=False, json_body={"hobbies": "csrf-attack-hobby"})
C("csrf: PATCH with a wrong token", "PATCH", "/v1/me", 403, "csrf_required", auth="member",
  csrf=False, headers={"X-CSRF-Token": "A" * 43}, json_body={"hobbies": "csrf-attack-hobby"})
C("csrf: PATCH with an empty token", "PATCH", "/v1/me", 403, "csrf_required", auth="member",
  csrf=False, headers={"X-CSRF-Token": ""}, json_body={"hobbies": "csrf-attack-hobby"})
C("csrf: PATCH with the cookie value as token", "PATCH", "/v1/me", 403, "csrf_required",
  auth="member", csrf=False, headers={"X-CSRF-Token": "{COOKIE}"},
  json_body={"hobbies": "csrf-attack-hobby"})
C("csrf: logout without the header", "DELETE", "/v1/session", 403, "csrf_required",
  auth="member", csrf=False)
C("csrf: registration with a session cookie", "POST", "/v1/members", 403, "csrf_required",
  auth="member", csrf=False, json_body=wouldbe(password="long enough password"))
C("csrf: bare CR smuggling a header", "PATCH", "/v1/me", 403, "csrf_required",
  raw=b"PATCH /v1/me HTTP/1.1\r\nHost: x\r\nCookie: cu_session={COOKIE}\r\n"
      b"X-CSRF-Token: {CSRF}\rSet-Cookie: x=1\r\nContent-Type: application/json\r\n"
      b"Content-Length: 27\r\nConnection: close\r\n\r\n{\"hobbies\":\"csrf-smuggle1\"}")

# ---- wrong methods (405 + Allow) -----------------------------------------------------------
for method, path, allow in [
    ("PUT", "/v1/members", "POST, GET"), ("DELETE", READ, "GET"), ("PATCH", READ, "GET"),
    ("POST", "/v1/me", "GET, PATCH"), ("PUT", "/v1/session", "POST, DELETE"),
    ("GET", "/v1/session", "POST, DELETE"), ("POST", "/healthz", "GET"),
    ("DELETE", "/v1/audit", "GET"), ("PUT", "/v1/members/search", "POST, GET"),
    ("OPTIONS", "/v1/members", "POST, GET"), ("TRACE", "/v1/me", "GET, PATCH"),
    ("DELETE", "/v1/services/newsletter/eligibility/{ID}", "GET"),
    ("POST", "/v1/audit/verify", "GET"), ("FOO", "/metrics", "GET"),
]:
    C(f"method: {method} {path}", method, path, 405, "method_not_allowed", auth="officer",
      allow=allow, body=b"{}" if method in ("PUT", "POST", "PATCH") else None)
C("method: HEAD /healthz", "HEAD", "/healthz", 405, None, allow="GET")

# ---- unknown routes (404) ------------------------------------------------------------------
for path in ["/v1/nope", "/v1/members/", "/v1/members/{ID}/extra", "/V1/members", "/v1//members",
             "/v2/members", "/v1/me/", "/v1/services/newsletter/eligibility",
             "/healthz/", "/v1/audit/verify/x", "/openapi.yaml", "/v1/me/exports",
             "/.env"]:
    C(f"route: {path}", "GET", path, 404, "not_found", auth="officer")
# An encoded NUL cuts nothing short: refused before routing (test_ids.py covers every position).
C("route: /%00", "GET", "/%00", 400, "invalid_argument", auth="officer")
C("route: traversal to the audit", "GET", "/v1/members/../audit", 404, "not_found",
  raw=b"GET /v1/members/../audit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
      b"Connection: close\r\n\r\n")
C("route: traversal from the top", "GET", "/v1/../v1/audit", 404, "not_found",
  raw=b"GET /v1/../v1/audit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
      b"Connection: close\r\n\r\n")
C("route: absolute traversal", "GET", "/../../etc/passwd", 404, "not_found",
  raw=b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

# ---- bad query parameters (400) ------------------------------------------------------------
C("query: unknown parameter on a read", "GET", READ + "?purpose=support&foo=1", 400,
  "invalid_argument", auth="staff")
C("query: e-mail on a read", "GET", READ + "?purpose=support&email=wouldbe-q@leak-example.org",
  400, "invalid_argument", auth="staff", secrets=["wouldbe-q@leak-example.org"])
C("query: empty purpose", "GET", READ + "?purpose=", 400, "purpose_required", auth="staff")
C("query: fields without purpose", "GET", READ + "?fields=name", 400, "purpose_required",
  auth="staff")
C("query: unknown field", "GET", READ + "?purpose=support&fields=nosuch", 400,
  "invalid_argument", auth="staff")
C("query: empty field in list", "GET", READ + "?purpose=support&fields=name,,email", 400,
  "invalid_argument", auth="staff")
C("query: empty fields", "GET", READ + "?purpose=support&fields=", 400, "invalid_argument",
  auth="staff")
C("query: /v1/me takes none", "GET", "/v1/me?x=1", 400, "invalid_argument", auth="member")
C("query: access-log limit 0", "GET", "/v1/me/access-log?limit=0", 400, "invalid_argument",
  auth="member")
C("query: access-log limit huge", "GET", "/v1/me/access-log?limit=99999999999999999999", 400,
  "invalid_argument", auth="member")
C("query: audit unknown", "GET", "/v1/audit?bogus=1", 400, "invalid_argument", auth="officer")
C("query: audit after negative", "GET", "/v1/audit?after=-5", 400, "invalid_argument",
  auth="officer")
C("query: audit limit text", "GET", "/v1/audit?limit=ten", 400, "invalid_argument",
  auth="officer")
C("query: verify takes none", "GET", "/v1/audit/verify?x=1", 400, "invalid_argument",
  auth="officer")
C("query: eligibility takes none", "GET", "/v1/services/newsletter/eligibility/{ID}?x=1", 400,
  "invalid_argument", auth="service")
C("query: e-mail in the list URL", "GET", "/v1/members?email=wouldbe-url@leak-example.org", 400,
  "personal_data_in_url", auth="staff", secrets=["wouldbe-url@leak-example.org"])
C("query: phone in the list URL", "GET", "/v1/members?phone=%2B818011112222", 400,
  "personal_data_in_url", auth="staff", secrets=["818011112222"])
C("query: GET /v1/members/search is a read without purpose", "GET", "/v1/members/search", 400,
  "purpose_required", auth="staff")

# ---- oversized and broken HTTP (answered by libmicrohttpd or the auth checks) ---------------
C("headers: one 40 KiB header", "GET", "/healthz", 431, None, mhd=True,
  raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 +
      b"\r\nConnection: close\r\n\r\n")
C("headers: 200 headers of 200 bytes", "GET", "/healthz", 431, None, mhd=True,
  raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
      b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 200) for i in range(200)) +
      b"Connection: close\r\n\r\n")
C("headers: 40 KiB URL", "GET", "/healthz", 414, None, mhd=True,
  raw=b"GET /healthz?" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
C("headers: 10 KiB Authorization", "GET", READ + "?purpose=support", 401, "unauthenticated",
  headers={"Authorization": "Bearer " + "t" * 10240})
C("headers: 10 KiB cookie", "GET", "/v1/me", 401, "unauthenticated",
  headers={"Cookie": "cu_session=" + "c" * 10240})
C("headers: 20 KiB CSRF header", "PATCH", "/v1/me", 403, "csrf_required", auth="member",
  csrf=False, headers={"X-CSRF-Token": "x" * 20480}, json_body={"hobbies": "csrf-attack-hobby"})
C("http: negative Content-Length", "POST", "/v1/members/search", 400, None, mhd=True,
  raw=b"POST /v1/members/search HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n"
      b"Connection: close\r\n\r\n")
C("http: bad chunk size", "POST", "/v1/members/search", 400, None, mhd=True,
  raw=b"POST /v1/members/search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      b"Content-Type: application/json\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
C("http: garbage request line", "GET", "/", 400, None, mhd=True, closed_ok=True,
  raw=b"GARBAGE\r\n\r\n")
C("http: chunked body over 64 KiB", "POST", "/v1/members", 413, "too_large",
  raw=b"POST /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
      b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
      b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n")

_SMUGGLE = b'{"name":"Smuggle Person","email":"smuggle-cl@leak-example.org","phone":"+818011119999"}'
C("http: two different Content-Lengths", "POST", "/v1/members", 400, "invalid_framing",
  email="smuggle-cl@leak-example.org",
  raw=b"POST /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
      b"Content-Type: application/json\r\nContent-Length: %d\r\nContent-Length: 1\r\n"
      b"Connection: close\r\n\r\n" % len(_SMUGGLE) + _SMUGGLE)
C("http: Content-Length and chunked", "POST", "/v1/members", 400, "invalid_framing",
  email="smuggle-cl@leak-example.org",
  raw=b"POST /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
      b"Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
      b"Connection: close\r\n\r\n%x\r\n" % len(_SMUGGLE) + _SMUGGLE + b"\r\n0\r\n\r\n")
C("query: 465 parameters", "GET", READ + "?purpose=support&" + "&".join(
  f"q{i}=1" for i in range(464)), 414, "too_many_parameters", auth="staff")


@pytest.fixture(scope="module")
def victim(srv):
    """A logged-in member the malformed requests are sent as (and must not change)."""
    m = srv.register(srv.new_values(survey=True), role=None, password="malformed suite pw")
    srv.login(m)
    return m


def test_there_are_enough_cases():
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES)
def test_malformed(srv, full_member, victim, case):
    c = case
    path = c["path"].replace("{ID}", full_member.id)
    secrets = list(c["secrets"])
    head = srv.audit_head()

    if c["raw"] is not None:
        data = (c["raw"].replace(b"{TOKEN}", srv.tokens["officer" if b"/audit" in c["raw"]
                                                        else "service"].encode())
                .replace(b"{COOKIE}", victim.cookie.encode())
                .replace(b"{CSRF}", victim.csrf.encode()))
        status, headers, body = srv.raw(data)
        if status is None and c["closed_ok"]:
            pass
        else:
            assert status == c["status"], (status, headers, body[:300])
        text = body.decode("utf-8", "replace")
        if not c["mhd"] and status is not None:
            err = json.loads(text)["error"]
            assert isinstance(err["message"], str) and err["message"]
            if c["code"]:
                assert err["code"] == c["code"]
        assert "set-cookie" not in headers
    else:
        headers = dict(c["headers"])
        for k, v in headers.items():
            headers[k] = v.replace("{COOKIE}", victim.cookie)
        if c["body"] is not None and c["ctype"]:
            headers["Content-Type"] = c["ctype"]
        kw = {"headers": headers, "data": c["body"]}
        if c["auth"] in ("expired", "revoked"):
            kw["token"] = "Bearer " + srv.bad_tokens[c["auth"]]
        elif c["auth"] == "member":
            kw["member"] = victim
            kw["csrf"] = c["csrf"]
        elif c["auth"]:
            kw["role"] = c["auth"]
        r = srv.request(c["method"], path, **kw)
        status, text = r.status_code, r.text
        assert status == c["status"], (status, text[:300])
        if c["method"] != "HEAD" and status >= 400:
            assert_error_body(r, c["code"])
        if c["allow"]:
            assert sorted(r.headers["Allow"].split(", ")) == sorted(c["allow"].split(", "))
        # Nothing a client sent comes back as a header (no CRLF injection).
        assert "Set-Cookie" not in r.headers
        assert "evil" not in str(r.headers)

    # Never a 5xx; no personal value echoed.
    assert status is None or 400 <= status < 500 or status == c["status"]
    assert_no_personal(srv, text, [v for v in secrets + list(victim.values.values())
                                   if len(v) >= 6])
    if status == 200 and path.startswith("/v1/audit?member="):
        # A bound parameter, not SQL: only entries about exactly that "member" id
        # (the denied reads of it above).
        wanted = urllib.parse.unquote(path.split("=", 1)[1])
        assert all(e["member"] == wanted for e in json.loads(text)["entries"])

    # Nothing written: refused before the door, the audit is unchanged; a denied read is
    # audited once.
    after = srv.audit_head()
    if c["audited"] is False:
        assert after == head, "the audit moved"
    elif c["audited"] is not None:
        assert after == head + c["audited"]
    if c["email"]:
        r = srv.search("email", c["email"])
        assert r.status_code in (404, 422), r.text

    # Still serving.
    assert srv.get("/healthz").status_code == 200


def test_victim_is_unchanged(srv, victim):
    """After every malformed request the member's data is what they registered."""
    r = srv.get("/v1/me", member=victim)
    assert r.status_code == 200
    assert r.json()["fields"] == victim.values


def test_a_body_sent_in_pieces_is_read_whole_up_to_the_limit(srv):
    """The body buffer grows as pieces arrive (chunked, 1,000 bytes at a time): exactly 64 KiB is
    read whole (then the name is too long), one byte more is refused, and a small registration
    in many pieces registers."""
    def pieces(data, n=1000):
        for i in range(0, len(data), n):
            yield data[i:i + n]

    h = {"Content-Type": "application/json"}
    body = json.dumps(_exact).encode()
    assert len(body) == 65536
    r = srv.post("/v1/members", role="service", headers=h, data=pieces(body))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_field"), r.text
    over = json.dumps(dict(_exact, name=_exact["name"] + "n")).encode()
    r = srv.post("/v1/members", role="service", headers=h, data=pieces(over))
    assert (r.status_code, r.json()["error"]["code"]) == (413, "too_large"), r.text
    values = srv.new_values()
    srv.remember(values)
    r = srv.post("/v1/members", role="service", headers=h,
                 data=pieces(json.dumps(values).encode(), 7))
    assert r.status_code == 201, r.text
    srv.member_ids.add(r.json()["id"])
