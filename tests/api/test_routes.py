"""
Every route in the tables (server/routes/*.c) × every kind of caller: the six
token roles, a logged-in member, and no credentials at all.  Each request is a
well-formed one, so the status says only whether this caller may use it.
"""
import os
import re

import pytest

from conftest import POLICY, ROLES, SOURCE, assert_error_body, assert_no_personal

PRINCIPALS = ROLES + ["member", "anon"]
OK = "ok"


def everyone(status):
    return {p: status for p in PRINCIPALS}


def only(allowed, ok_status, others=(403, "forbidden")):
    """allowed principals get ok_status; other token roles and members `others`; anon 401."""
    out = {}
    for p in PRINCIPALS:
        if p in allowed:
            out[p] = ok_status
        elif p == "anon":
            out[p] = (401, "unauthenticated")
        else:
            out[p] = others
    return out


READ_OK = only(["staff", "officer", "subcontractor"], 200)
READ_OK.update({"service": (403, "purpose_not_allowed"), "analyst": (403, "purpose_not_allowed"),
                "admin": (403, "purpose_not_allowed")})
# Diaries: only under a purpose marked `diaries` (tos_review: staff, officer), with a case.
DIARY_READ = only(["staff", "officer"], 200)
DIARY_READ.update({p: (403, "purpose_not_allowed")
                   for p in ("analyst", "service", "subcontractor", "admin")})

# (method, route template) -> {principal: status or (status, error code)}
EXPECT = {
    ("GET", "/healthz"): everyone(200),
    ("GET", "/readyz"): everyone(200),
    ("GET", "/metrics"): everyone(200),
    ("GET", "/openapi.json"): everyone(200),
    ("POST", "/v1/members"): dict(only(["service", "staff", "officer", "admin"], 201),
                                  anon=201),
    ("GET", "/v1/members"): only(ROLES, (400, "invalid_argument")),
    ("POST", "/v1/members/search"): dict(only(["staff", "service", "officer", "admin"], 200),
                                         analyst=(403, "forbidden"),
                                         subcontractor=(403, "forbidden")),
    ("GET", "/v1/members/{id}"): READ_OK,
    ("GET", "/v1/me"): only(["member"], 200),
    ("PATCH", "/v1/me"): only(["member"], 200),
    ("GET", "/v1/me/access-log"): only(["member"], 200),
    ("GET", "/v1/services/{service}/eligibility/{id}"):
        only(["service", "staff", "officer", "member"], 200),
    ("POST", "/v1/session"): everyone(200),
    ("DELETE", "/v1/session"): only(["member"], 204),
    ("GET", "/v1/audit"): only(["officer", "admin"], 200),
    ("GET", "/v1/audit/verify"): only(["officer", "admin"], 200),
    ("GET", "/v1/tokens"): only(["admin"], 200),
    ("POST", "/v1/tokens"): only(["admin"], 201),
    ("DELETE", "/v1/tokens/{id}"): only(["admin"], 200),
    ("GET", "/v1/me/notices"): only(["member"], 200),
    ("POST", "/v1/me/notices/{id}/read"): only(["member"], 200),
    ("GET", "/v1/notify/outbox"): only(["officer"], 200),
    ("POST", "/v1/me/diaries"): only(["member"], 201),
    ("GET", "/v1/me/diaries"): only(["member"], 200),
    ("PATCH", "/v1/me/diaries/{id}"): only(["member"], 200),
    ("DELETE", "/v1/me/diaries/{id}"): only(["member"], 204),
    ("GET", "/v1/members/{id}/diaries"): DIARY_READ,
    ("GET", "/v1/me/consents"): only(["member"], 200),
    ("PUT", "/v1/me/consents"): only(["member"], 200),
    ("GET", "/v1/me/consents/{id}/receipt"): only(["member"], 200),
    ("POST", "/v1/me/policy/accept"): only(["member"], 200),
    ("GET", "/v1/me/policy/changes"): only(["member"], 200),
    ("GET", "/v1/policy"): everyone(200),
    ("GET", "/v1/policy/versions"): everyone(200),
    ("GET", "/v1/policy/versions/{version}"): everyone(200),
    ("GET", "/v1/policy/versions/{version}/changes"): everyone(200),
    # Republishing the version in force: admitted, then refused as a conflict (publishing a
    # new version here would change the suite's policy; test_consent.py does that on a
    # server of its own).
    ("POST", "/v1/policy/versions"): only(["officer", "admin"], (409, "conflict")),
    ("POST", "/v1/exceptions"): only(["officer"], 200),
    ("GET", "/v1/exceptions"): only(["officer"], 200),
    ("POST", "/v1/exceptions/{id}/close"): only(["officer"], 200),
    ("POST", "/v1/third-parties"): only(["officer"], 201),
    ("GET", "/v1/third-parties"): only(["officer"], 200),
    ("GET", "/v1/third-parties/{id}"): only(["officer"], 200),
    ("POST", "/v1/provisions"): only(["officer", "service"], 201),
    ("GET", "/v1/me/provisions"): only(["member"], 200),
    ("POST", "/v1/me/shares"): only(["member"], 201),
    ("GET", "/v1/me/shares"): only(["member"], 200),
    ("DELETE", "/v1/me/shares/{id}"): only(["member"], 204),
    # A member's link opens for whoever holds it, credentials or none.
    ("GET", "/v1/shares/{token}"): everyone(200),
    ("POST", "/v1/subcontractors"): only(["officer"], 201),
    ("GET", "/v1/subcontractors"): only(["officer"], 200),
    ("GET", "/v1/subcontractors/{id}"): only(["officer"], 200),
    ("POST", "/v1/subcontractors/{id}/reviews"): only(["officer"], 201),
    ("PATCH", "/v1/subcontractors/{id}/reviews/{review}"): only(["officer"], 200),
    ("GET", "/v1/subcontractors/reviews/overdue"): only(["officer"], 200),
    ("GET", "/v1/me/export"): only(["member"], 200),
    ("POST", "/v1/requests"): only(["member"], 201),
    ("GET", "/v1/requests"): only(["officer"], 200),
    ("GET", "/v1/requests/{id}"): only(["member", "officer"], 200),
    ("POST", "/v1/requests/{id}/decision"): only(["officer"], 200),
    # The erased member's token fetches the certificate without credentials; a member
    # (still here) has none of their own.
    ("GET", "/v1/requests/{id}/certificate"): dict(only(["officer"], 200), anon=200,
                                                   member=(404, "not_found")),
    ("POST", "/v1/complaints"): only(["member"], 201),
    ("GET", "/v1/complaints"): only(["officer"], 200),
    ("GET", "/v1/complaints/{id}"): only(["member", "officer"], 200),
    ("POST", "/v1/complaints/{id}/assign"): only(["officer"], 200),
    ("POST", "/v1/complaints/{id}/responses"): only(["officer"], 201),
    ("GET", "/v1/me/requests"): only(["member"], 200),
    ("GET", "/v1/me/complaints"): only(["member"], 200),
    # Web beacons never authenticate: the same answer for everyone (docs/beacons.md).
    ("GET", "/b.gif"): everyone(200),
    ("POST", "/v1/beacon"): everyone(204),
    # Released statistics (docs/statistics.md): materials is staff's and analysts' purpose.
    ("GET", "/v1/stats/members"): only(["staff", "analyst"], 200),
    ("GET", "/v1/stats/beacons"): only(["staff", "analyst"], 200),
    ("GET", "/v1/stats/budget"): only(["officer"], 200),
}


def table_in_source():
    """(method, name) of every route in the tables of server/routes/*.c."""
    found = set()
    for name in sorted(os.listdir(os.path.join(SOURCE, "server", "routes"))):
        if not name.endswith(".c"):
            continue
        with open(os.path.join(SOURCE, "server", "routes", name), encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(r"const cu_route cu_routes_\w+\[\] = \{(.*?)\n\};", text, re.S):
            found |= set(re.findall(r'\{"([A-Z]+)",\s*"[^"]*",\s*"([^"]*)"', m.group(1)))
    return found


def test_every_route_in_the_table_is_covered():
    assert table_in_source() == set(EXPECT)


CELLS = [pytest.param(m, path, p, id=f"{m} {path} as {p}")
         for (m, path), who in EXPECT.items() for p in PRINCIPALS]


@pytest.fixture(scope="module")
def login_member(srv):
    return srv.register(srv.new_values(), role=None, password="route matrix password")


def fresh_session(srv, m):
    from conftest import Member
    s = Member(m.id, m.values, m.password)
    srv.login(s)
    return s


def notice_of(srv, member):
    """The id of one of member's notices, queued by the operator's test command if need be."""
    notices = srv.get("/v1/me/notices", member=member).json()["notices"]
    if not notices:
        r = srv.cli("notify", "test", "--member", member.id)
        assert r.returncode == 0, r.stderr
        notices = srv.get("/v1/me/notices", member=member).json()["notices"]
    return notices[0]["id"]


def consent_of(srv, member):
    """The id of one of member's recorded choices (a cookie choice, made if need be)."""
    r = srv.request("PUT", "/v1/me/consents", member=member,
                    json={"kind": "cookie", "target": "preferences", "granted": True})
    assert r.status_code == 200, r.text
    return r.json()["consent"]["id"]


EXCEPTION_BODY = {"purpose": "support", "exception": "law",
                  "justification": "Route matrix: a court order requires the contact details.",
                  "fields": ["name", "phone", "email"]}


def open_review(srv, member_id):
    """Opens a review with an exceptional read of member_id; returns the review's id."""
    r = srv.post("/v1/exceptions", role="officer", json=dict(EXCEPTION_BODY, member=member_id))
    assert r.status_code == 200, r.text
    return next(x["id"] for x in reversed(srv.get("/v1/exceptions", role="officer").json()
                                          ["exceptions"]) if x["member"] == member_id)


ROUTE_TP = "route-matrix-tp"


@pytest.fixture(scope="module")
def route_tp(srv, portal_member):
    """A third party the portal member consented to (provisions to it are allowed)."""
    r = srv.post("/v1/third-parties", role="officer",
                 json={"id": ROUTE_TP, "name": "Route Matrix KK", "contact": "dpo@route.example",
                       "purpose": "Route matrix deliveries.", "fields": ["name", "email"]})
    assert r.status_code in (201, 409), r.text
    r = srv.request("PUT", "/v1/me/consents", member=portal_member,
                    json={"kind": "third_party", "target": ROUTE_TP, "granted": True})
    assert r.status_code == 200, r.text
    return ROUTE_TP


def share_of(srv, member):
    """A new link of member's to their e-mail address: (id, token)."""
    r = srv.post("/v1/me/shares", member=member,
                 json={"fields": ["email"], "expires_in_minutes": 10})
    assert r.status_code == 201, r.text
    return r.json()["share"]["id"], r.json()["token"]


def review_of(srv, sub):
    r = srv.post(f"/v1/subcontractors/{sub}/reviews", role="officer", json={"due": "2999-01-01"})
    assert r.status_code == 201, r.text
    return r.json()["review"]["id"]


def partner_request(srv, method, route, principal, member, portal_member, kw):
    """The path and body of a well-formed request to one of the partner routes."""
    from conftest import SUBCONTRACT
    path = route.replace("{id}", SUBCONTRACT if "subcontractors" in route else ROUTE_TP)
    if route == "/v1/third-parties" and method == "POST":
        kw["json"] = {"id": srv.unique("rm-tp-"), "name": "Route Matrix Two",
                      "contact": "dpo@two.example", "purpose": "Nothing, really.",
                      "fields": ["email"]}
    elif route == "/v1/provisions":
        kw["json"] = {"third_party": ROUTE_TP, "member": portal_member.id,
                      "fields": ["email"]}
    elif route == "/v1/me/shares" and method == "POST":
        kw["json"] = {"fields": ["name"], "expires_in_minutes": 5}
    elif route == "/v1/me/shares/{id}":
        path = route.replace("{id}", share_of(srv, member)[0] if member else "A" * 22)
    elif route == "/v1/shares/{token}":
        path = route.replace("{token}", share_of(srv, portal_member)[1])
    elif route == "/v1/subcontractors" and method == "POST":
        kw["json"] = {"id": srv.unique("rm-sub-"), "name": "Route Matrix Trustee",
                      "contact": "sec@trustee.example", "fields": ["email"],
                      "purposes": ["troubleshooting"], "measures": ["locked room"],
                      "start": "2020-01-01", "end": "2999-12-31"}
    elif route == "/v1/subcontractors/{id}/reviews":
        kw["json"] = {"due": "2999-06-30", "findings": "scheduled"}
    elif route == "/v1/subcontractors/{id}/reviews/{review}":
        review = review_of(srv, SUBCONTRACT) if principal == "officer" else "A" * 22
        path = path.replace("{review}", review)
        kw["json"] = {"done": True, "findings": "Route matrix: all measures in place."}
    return path


@pytest.fixture(scope="module")
def erased_request(srv):
    """An applied erasure of a member of its own: (request id, certificate token)."""
    m = srv.register(srv.new_values(), role=None, password="route matrix erasure")
    srv.login(m)
    r = srv.post("/v1/requests", member=m, json={"type": "erasure"})
    assert r.status_code == 201, r.text
    rid, token = r.json()["request"]["id"], r.json()["certificate_token"]
    r = srv.post(f"/v1/requests/{rid}/decision", role="officer", json={"action": "apply"})
    assert r.status_code == 200, r.text
    return rid, token


def request_route(srv, method, route, principal, portal_member, erased_request, kw):
    """The path and body of a well-formed request to one of the request/complaint routes."""
    def own(kind, body):
        r = srv.post(f"/v1/{kind}", member=portal_member, json=body)
        assert r.status_code == 201, r.text
        return r.json()["request" if kind == "requests" else "complaint"]["id"]

    path = route
    if route.startswith("/v1/requests/{id}/certificate"):
        rid, token = erased_request
        path = route.replace("{id}", rid)
        if principal == "anon":
            kw["headers"] = {"X-Certificate-Token": token}
    elif route.startswith("/v1/requests/{id}"):
        path = route.replace("{id}", own("requests", {"type": "disclosure"}))
    elif route.startswith("/v1/complaints/{id}"):
        path = route.replace("{id}", own("complaints", {"about": "other", "text": "route matrix"}))
    if route == "/v1/requests" and method == "POST":
        kw["json"] = {"type": "disclosure", "details": {"note": "route matrix"}}
    elif route.endswith("/decision"):
        kw["json"] = {"action": "investigate"}
    elif route == "/v1/complaints" and method == "POST":
        kw["json"] = {"about": "other", "text": "route matrix complaint"}
    elif route.endswith("/assign"):
        kw["json"] = {"officer": srv.token_names["officer"]}
    elif route.endswith("/responses"):
        kw["json"] = {"text": "route matrix response"}
    return path


REQUEST_ROUTES = ("/v1/me/export", "/v1/requests", "/v1/complaints")


PARTNER_ROUTES = ("/v1/third-parties", "/v1/provisions", "/v1/me/provisions", "/v1/me/shares",
                  "/v1/shares/", "/v1/subcontractors")


@pytest.mark.parametrize("method,route,principal", CELLS)
def test_route_access(srv, full_member, portal_member, login_member, route_tp, erased_request,
                      method, route, principal):
    want = EXPECT[(method, route)][principal]
    status, code = want if isinstance(want, tuple) else (want, None)
    kw = {}
    member = None
    if principal == "member":
        member = portal_member
        if (method, route) in (("DELETE", "/v1/session"), ("POST", "/v1/session")):
            member = fresh_session(srv, login_member)   # this request ends it
        kw["member"] = member
    elif principal != "anon":
        kw["role"] = principal

    path = route.replace("{service}", "newsletter")
    target = portal_member if principal == "member" else full_member
    path = path.replace("{id}", target.id)
    if route == "/v1/me/notices/{id}/read" and principal == "member":
        path = route.replace("{id}", notice_of(srv, member))
    if route == "/v1/me/consents/{id}/receipt" and principal == "member":
        path = route.replace("{id}", consent_of(srv, member))
    if route == "/v1/exceptions/{id}/close" and principal == "officer":
        path = route.replace("{id}", open_review(srv, full_member.id))
    path = path.replace("{version}", POLICY["version"])
    if route == "/v1/members/{id}":
        kw["params"] = {"purpose": "support"}
    elif route == "/v1/members/{id}/diaries":
        kw["params"] = {"purpose": "tos_review", "case": "TOS-ROUTES-1"}
    elif route == "/v1/audit":
        kw["params"] = {"member": full_member.id, "limit": 5}
    elif route == "/v1/stats/members":
        kw["params"] = {"by": "age_band", "purpose": "materials"}
    elif route == "/v1/stats/beacons":
        kw["params"] = {"from": "2026-11-01", "to": "2026-11-07"}
    if method == "POST" and route == "/v1/members":
        values = srv.new_values()
        srv.remember(values)
        kw["json"] = dict(values, password="sign-up password") if principal == "anon" else values
    elif route == "/v1/members/search":
        kw["json"] = {"email": full_member.email}
    elif route.startswith("/v1/me/diaries"):
        if method in ("POST", "PATCH"):
            kw["json"] = {"title": "route matrix", "body": "an entry"}
        if route.endswith("{id}") and principal == "member":
            made = srv.post("/v1/me/diaries", member=member, json={"title": "to change", "body": ""})
            assert made.status_code == 201, made.text
            path = route.replace("{id}", made.json()["id"])
    elif route == "/v1/beacon":
        kw["json"] = {"page": "/"}
    elif method == "PATCH":
        kw["json"] = {"hobbies": portal_member.values["hobbies"]}
    elif route == "/v1/me/consents" and method == "PUT":
        kw["json"] = {"kind": "cookie", "target": "statistics", "granted": False}
    elif route == "/v1/policy/versions" and method == "POST":
        kw["json"] = srv.get(f"/v1/policy/versions/{POLICY['version']}").json()
    elif route == "/v1/exceptions" and method == "POST":
        kw["json"] = dict(EXCEPTION_BODY, member=full_member.id)
    elif route == "/v1/exceptions/{id}/close":
        kw["json"] = {"review": "Route matrix: checked, lawful."}
    elif route == "/v1/session" and method == "POST":
        kw["json"] = {"email": login_member.email, "password": login_member.password}
    elif route == "/v1/tokens" and method == "POST":
        kw["json"] = {"role": "staff", "name": "route matrix"}
    elif route == "/v1/tokens/{id}":
        made = "A" * 22
        if principal == "admin":
            made = srv.post("/v1/tokens", role="admin",
                            json={"role": "staff", "name": "route matrix revoked"}).json()
            made = made["token"]["id"]
        path = route.replace("{id}", made)

    if route.startswith(PARTNER_ROUTES):
        path = partner_request(srv, method, route, principal, member, portal_member, kw)
    if route.startswith(REQUEST_ROUTES):
        path = request_route(srv, method, route, principal, portal_member, erased_request, kw)

    r = srv.request(method, path, **kw)

    assert r.status_code == status, r.text
    if status >= 400:
        assert_error_body(r, code)
        assert_no_personal(srv, r.text)
    if route == "/v1/members/search" and status == 200:
        assert r.json() == {"id": full_member.id}
    if route == "/v1/members/{id}" and status == 200:
        assert set(r.json()["fields"]) == {"name", "phone", "email"}
    if route == "/v1/me" and method == "GET" and status == 200:
        assert r.json()["id"] == portal_member.id
    if route == "/v1/audit" and status == 200:
        assert all(e["member"] == full_member.id for e in r.json()["entries"])
    if route == "/v1/audit/verify" and status == 200:
        body = r.json()
        assert body["intact"] is True and body["checked"] >= 1
    if method == "POST" and route == "/v1/members" and status == 201:
        srv.member_ids.add(r.json()["id"])


def test_audit_list_paging(srv, full_member):
    first = srv.get("/v1/audit", role="officer", params={"limit": 2})
    assert first.status_code == 200
    body = first.json()
    assert len(body["entries"]) == 2 and body["next_after"] == body["entries"][-1]["seq"]
    nxt = srv.get("/v1/audit", role="officer", params={"limit": 2, "after": body["next_after"]})
    assert nxt.json()["entries"][0]["seq"] == body["next_after"] + 1
    # Full entries for the officer: member, reason and the chain hash.
    e = body["entries"][0]
    assert {"seq", "time", "actor", "role", "action", "member", "purpose", "fields", "decision",
            "case", "reason", "hash"} <= set(e)
    assert re.fullmatch(r"[0-9a-f]{64}", e["hash"])


def test_audit_for_a_member(srv, full_member):
    entries = srv.audit(member=full_member.id, limit=1000)
    assert entries and all(e["member"] == full_member.id for e in entries)
    assert entries[0]["action"] == "register"
    # Entries carry names of fields, never values.
    assert_no_personal(srv, str(entries))


def test_audit_verify_after_everything(srv):
    r = srv.get("/v1/audit/verify", role="officer")
    assert r.status_code == 200
    body = r.json()
    assert body["intact"] is True
    assert body["checked"] == srv.audit_head()


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "1001"}, {"after": "-1"},
                                    {"after": "x"}, {"after": "+1"}, {"after": " 1"},
                                    {"after": "18446744073709551615"},
                                    {"after": "99999999999999999999"},
                                    {"member": ""}, {"member": "A" * 65}, {"who": "x"}])
def test_audit_bad_params(srv, params):
    r = srv.get("/v1/audit", role="officer", params=params)
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


def test_audit_verify_takes_no_params(srv):
    r = srv.get("/v1/audit/verify", role="officer", params={"deep": "1"})
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


def test_audit_after_the_head_is_empty(srv):
    """Paging past the end gives nothing (it does not wrap around to the start)."""
    head = srv.audit_head()
    for after in (head, head + 1, 2**62):
        r = srv.get("/v1/audit", role="officer", params={"after": after})
        assert r.status_code == 200
        assert r.json()["entries"] == []
