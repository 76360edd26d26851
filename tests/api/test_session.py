"""POST/DELETE /v1/session, GET/PATCH /v1/me, GET /v1/me/access-log.

Every failed login here counts against the one client address (127.0.0.1),
which is locked out after 20; this file spends about 14, and nothing else in
the suite fails a login that reaches the password check.
"""
import re

import pytest

from conftest import FIELDS, SESSION_COOKIE, assert_error_body, assert_no_personal, \
    cookie_from

PASSWORD = "a long enough password 42"


@pytest.fixture
def member(srv):
    """A fresh member with a password, not logged in."""
    return srv.register(srv.new_values(survey=True), role=None, password=PASSWORD)


def login_raw(srv, email, password, cookie=None):
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    return srv.post("/v1/session", json={"email": email, "password": password}, headers=headers)


# ---- login ----------------------------------------------------------------------------------

def test_login_sets_a_random_httponly_lax_cookie(srv, member):
    head = srv.audit_head()
    r = login_raw(srv, member.email, PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"member", "csrf", "expires"}
    assert body["member"] == member.id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["expires"])
    sc = r.headers["Set-Cookie"]
    attrs = [a.strip() for a in sc.split(";")]
    name, _, value = attrs[0].partition("=")
    assert name == SESSION_COOKIE
    flags = {a.split("=")[0].lower(): (a.split("=", 1)[1] if "=" in a else True) for a in attrs[1:]}
    assert flags.get("httponly") is True
    assert flags.get("samesite") == "Lax"
    assert flags.get("path") == "/"
    assert int(flags["max-age"]) > 0
    # The value is random: 43 base64url characters, no e-mail, no id, no name.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    for v in (member.email, member.email.split("@")[0], member.id, member.values["name"]):
        assert v.lower() not in sc.lower()
    assert body["csrf"] != value
    assert_no_personal(srv, r.text + sc)
    # Audited as the member's login.
    e = srv.audit(member=member.id, after=head)
    assert [(x["action"], x["actor"], x["role"]) for x in e] == [("login", member.id, "member")]
    # Two logins: two different values.
    r2 = login_raw(srv, member.email, PASSWORD)
    assert cookie_from(r2) != value


def test_login_email_is_case_insensitive(srv, member):
    r = login_raw(srv, "  " + member.email.upper(), PASSWORD)
    assert r.status_code == 200
    assert r.json()["member"] == member.id


def test_login_rotates_the_session_id(srv, member):
    srv.login(member)
    old = member.cookie
    assert srv.get("/v1/me", member=member).status_code == 200
    r = login_raw(srv, member.email, PASSWORD, cookie=old)
    assert r.status_code == 200
    new = cookie_from(r)
    assert new and new != old
    # The presented session ended; the new one works.
    r = srv.get("/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={old}"})
    assert r.status_code == 401
    assert_error_body(r, "unauthenticated")
    assert srv.get("/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={new}"}).status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(srv, member):
    a = login_raw(srv, member.email, "not the password at all")
    b = login_raw(srv, "no-such-person@leak-example.org", "not the password at all")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert_error_body(a, "unauthenticated")
    assert a.json()["error"]["message"] == "wrong e-mail address or password"
    assert "Set-Cookie" not in a.headers and "Set-Cookie" not in b.headers
    assert_no_personal(srv, a.text + b.text)


def test_member_without_password_cannot_log_in(srv):
    m = srv.register()  # by a service: no password
    r = login_raw(srv, m.email, "whatever password")
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "wrong e-mail address or password"


def test_lockout_after_five_failures_even_with_the_right_password(srv, member):
    for _ in range(5):
        r = login_raw(srv, member.email, "wrong password!")
        assert r.status_code == 401
    r = login_raw(srv, member.email, PASSWORD)
    assert r.status_code == 429
    assert_error_body(r, "rate_limited")
    assert "Set-Cookie" not in r.headers
    # Other accounts are not locked by it.
    other = srv.register(srv.new_values(), role=None, password=PASSWORD)
    assert login_raw(srv, other.email, PASSWORD).status_code == 200


def test_lockout_for_an_account_that_does_not_exist(srv):
    ghost = "ghost-account@leak-example.org"
    for _ in range(5):
        assert login_raw(srv, ghost, "wrong password!").status_code == 401
    r = login_raw(srv, ghost, "wrong password!")
    assert r.status_code == 429
    assert_error_body(r, "rate_limited")
    # Same words as for a real locked account: existence is not revealed.
    assert r.json()["error"]["message"] == "too many failed logins; try again later"


# ---- /v1/me ---------------------------------------------------------------------------------

def test_me_shows_everything_held(srv, member):
    srv.login(member)
    r = srv.get("/v1/me", member=member)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == member.id
    assert body["purpose"] == "self"
    assert body["fields"] == {f: member.values[f] for f in FIELDS}
    assert body["withheld"] == {}


def test_me_without_session_is_401(srv):
    r = srv.get("/v1/me")
    assert r.status_code == 401
    assert_error_body(r, "unauthenticated")


def test_me_patch_needs_csrf(srv, member):
    srv.login(member)
    head = srv.audit_head()
    r = srv.request("PATCH", "/v1/me", member=member, csrf=False, json={"hobbies": "chess"})
    assert r.status_code == 403
    assert_error_body(r, "csrf_required")
    r = srv.request("PATCH", "/v1/me", member=member, csrf=False, json={"hobbies": "chess"},
                    headers={"X-CSRF-Token": "A" * 43})
    assert r.status_code == 403
    assert_error_body(r, "csrf_required")
    # Another session's token does not do either.
    other = srv.register(srv.new_values(), role=None, password=PASSWORD)
    srv.login(other)
    r = srv.request("PATCH", "/v1/me", member=member, csrf=False, json={"hobbies": "chess"},
                    headers={"X-CSRF-Token": other.csrf})
    assert r.status_code == 403
    assert srv.audit_head() == head + 2  # only the other member's registration and login
    assert srv.get("/v1/me", member=member).json()["fields"]["hobbies"] == member.values["hobbies"]


def test_me_patch_changes_own_data(srv, member):
    srv.login(member)
    new = {"hobbies": "hobby-patched-origami", "age": 41, "income": None}
    srv.remember(new)
    head = srv.audit_head()
    r = srv.request("PATCH", "/v1/me", member=member, json=new)
    assert r.status_code == 200, r.text
    assert r.json() == {"updated": ["age", "income", "hobbies"]}
    e = srv.audit(member=member.id, after=head)
    assert len(e) == 1 and e[0]["actor"] == member.id and e[0]["action"] == "update"
    assert e[0]["fields"] == "age,income,hobbies"
    fields = srv.get("/v1/me", member=member).json()["fields"]
    assert fields["hobbies"] == "hobby-patched-origami"
    assert fields["age"] == "41"
    assert "income" not in fields
    # Staff see the change too (through the door).
    r = srv.get(f"/v1/members/{member.id}", role="analyst", params={"purpose": "research"})
    assert r.json()["fields"]["hobbies"] == "hobby-patched-origami"


@pytest.mark.parametrize("body,status,fields", [
    ({"email": None}, 422, {"email": "required"}),
    ({"name": "  "}, 422, {"name": "required"}),
    ({"nickname": "x"}, 422, {"nickname": "unknown_field"}),
    ({"email": "broken@"}, 422, {"email": "malformed"}),
    ({"age": "old"}, 422, {"age": "not_a_number"}),
    ({"date_of_birth": "1999-02-30"}, 422, {"date_of_birth": "malformed"}),
    ({}, 400, None),
])
def test_me_patch_refuses_bad_changes(srv, portal_member, body, status, fields):
    head = srv.audit_head()
    r = srv.request("PATCH", "/v1/me", member=portal_member, json=body)
    assert r.status_code == status, r.text
    err = assert_error_body(r)
    if fields:
        assert err["fields"] == fields
    assert srv.audit_head() == head
    assert_no_personal(srv, r.text, ["broken@"])


def test_me_patch_email_change(srv, member):
    """Their own address again is no conflict; a new one moves the blind index and the login."""
    srv.login(member)
    for same in (member.email, member.email.upper()):
        r = srv.request("PATCH", "/v1/me", member=member, json={"email": same})
        assert r.status_code == 200, r.text
    new = "moved-" + member.email
    srv.remember({"email": new})
    r = srv.request("PATCH", "/v1/me", member=member, json={"email": new})
    assert r.status_code == 200
    assert srv.search("email", member.email).status_code == 404
    assert srv.search("email", new).json() == {"id": member.id}
    assert login_raw(srv, new, PASSWORD).status_code == 200
    r = srv.request("PATCH", "/v1/me", member=member, json={"phone": "03-9876-5432"})
    assert r.status_code == 200
    assert srv.search("phone", "+81398765432").json() == {"id": member.id}
    assert srv.search("phone", member.values["phone"]).status_code == 404


def test_me_patch_duplicate_email_is_409(srv, member, full_member):
    srv.login(member)
    r = srv.request("PATCH", "/v1/me", member=member, json={"email": full_member.email})
    assert r.status_code == 409
    assert_error_body(r, "conflict")
    assert_no_personal(srv, r.text)


# ---- logout ---------------------------------------------------------------------------------

def test_logout_invalidates_the_session(srv, member):
    srv.login(member)
    # Without the CSRF header logout is refused (and the session lives on).
    r = srv.request("DELETE", "/v1/session", member=member, csrf=False)
    assert r.status_code == 403
    assert_error_body(r, "csrf_required")
    assert srv.get("/v1/me", member=member).status_code == 200
    r = srv.request("DELETE", "/v1/session", member=member)
    assert r.status_code == 204
    assert r.content == b""
    sc = r.headers["Set-Cookie"]
    assert sc.startswith(f"{SESSION_COOKIE}=;") and "Max-Age=0" in sc
    r = srv.get("/v1/me", member=member)
    assert r.status_code == 401
    assert_error_body(r, "unauthenticated")
    # Logging out twice: the session is gone, so it is no longer a member's request.
    assert srv.request("DELETE", "/v1/session", member=member).status_code == 401


def test_logout_without_a_session_is_401(srv):
    r = srv.request("DELETE", "/v1/session")
    assert r.status_code == 401
    assert_error_body(r, "unauthenticated")


# ---- access log -----------------------------------------------------------------------------

def test_access_log_shows_others_reads_not_own_actions(srv, member):
    srv.login(member)
    srv.get("/v1/me", member=member)
    srv.request("PATCH", "/v1/me", member=member, json={"products": "product-access-log"})
    srv.remember({"products": "product-access-log"})
    r = srv.get(f"/v1/members/{member.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200
    r = srv.get(f"/v1/members/{member.id}", role="staff",
                params={"purpose": "tos_review", "case": "CASE-77"})
    assert r.status_code == 200
    r = srv.get(f"/v1/members/{member.id}", role="analyst", params={"purpose": "support"})
    assert r.status_code == 403

    r = srv.get("/v1/me/access-log", member=member)
    assert r.status_code == 200
    entries = r.json()["entries"]
    # Newest first; no entry of the member's own login, read or change.
    assert all(e["actor"] != member.id for e in entries), entries
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)
    reads = [e for e in entries if e["action"] == "read"]
    assert [(e["actor"], e["role"], e["purpose"], e["fields"], e["decision"], e["case"])
            for e in reads] == [
        (srv.token_names["analyst"], "analyst", "support", ",".join(FIELDS), "deny", ""),
        (srv.token_names["staff"], "staff", "tos_review", "name,email", "partial", "CASE-77"),
        (srv.token_names["staff"], "staff", "support", "name,phone,email", "partial", ""),
    ]
    # The registration (by the sign-up form, not a session) is there too.
    assert entries[-1]["action"] == "register"
    # The member's view leaves out the chain's internals.
    assert all("hash" not in e and "reason" not in e for e in entries)
    assert_no_personal(srv, r.text)

    r = srv.get("/v1/me/access-log", member=member, params={"limit": 1})
    assert len(r.json()["entries"]) == 1
    assert r.json()["entries"][0]["purpose"] == "support"


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "1001"}, {"limit": "x"},
                                    {"limit": "-1"}, {"since": "1"}])
def test_access_log_bad_params(srv, portal_member, params):
    r = srv.get("/v1/me/access-log", member=portal_member, params=params)
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


def test_access_log_is_members_only(srv):
    for role in ("staff", "officer", "admin"):
        r = srv.get("/v1/me/access-log", role=role)
        assert r.status_code == 403
        assert_error_body(r, "forbidden")


def test_remember_me_lasts_thirty_days_and_otherwise_the_configured_time(srv, member):
    """"remember": true asks for a 30-day session; without it the session lasts
    session_ttl_minutes (720 by default), and the cookie says the same as the server."""
    short = srv.post("/v1/session", json={"email": member.email, "password": PASSWORD,
                                          "remember": False})
    assert short.status_code == 200, short.text
    assert re.search(r"Max-Age=(\d+)", short.headers["Set-Cookie"]).group(1) == str(720 * 60)
    long = srv.post("/v1/session", json={"email": member.email, "password": PASSWORD,
                                         "remember": True})
    assert long.status_code == 200, long.text
    assert re.search(r"Max-Age=(\d+)", long.headers["Set-Cookie"]).group(1) == \
        str(30 * 24 * 3600)
