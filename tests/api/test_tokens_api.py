"""GET /v1/tokens, POST /v1/tokens, DELETE /v1/tokens/{id}: the admin's tokens over HTTP.

The same functions as `custodian token create|list|revoke`, audited as theirs are
(token_create, token_revoke; never the secret).
"""
import re
import time

import pytest

from conftest import PURPOSES, ROLES, SUBCONTRACT, assert_error_body

SECRET_RE = r"cu_[A-Za-z0-9_-]{43}"


def create(srv, role, name, caller="admin", **more):
    return srv.post("/v1/tokens", role=caller, json=dict(role=role, name=name, **more))


def listed(srv):
    r = srv.get("/v1/tokens", role="admin")
    assert r.status_code == 200, r.text
    return {t["id"]: t for t in r.json()["tokens"]}


def test_create_shows_the_secret_once_and_it_works(srv):
    head = srv.audit_head()
    r = srv.post("/v1/tokens", role="admin", json={"role": "staff", "name": "api tokens staff"})
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"token", "secret"}
    assert re.fullmatch(SECRET_RE, body["secret"])
    t = body["token"]
    assert t["role"] == "staff" and t["name"] == "api tokens staff"
    assert t["status"] == "active" and t["expires"] is None and t["revoked"] is None
    assert t["contract"] is None
    # The secret works for the API at once.
    me = srv.post("/v1/members/search", token="Bearer " + body["secret"],
                  json={"email": "nobody.tokens@example.org"})
    assert me.status_code == 404, me.text
    # Listed, without the secret (nor any hash).
    r2 = srv.get("/v1/tokens", role="admin")
    assert body["secret"] not in r2.text
    assert listed(srv)[t["id"]] == t
    # Audited by the admin's token, naming the token, never the secret.
    entries = srv.audit(after=head)
    mine = [e for e in entries if e["action"] == "token_create"]
    assert len(mine) == 1, entries
    assert mine[0]["actor"] == srv.token_names["admin"] and mine[0]["role"] == "admin"
    assert t["id"] in mine[0]["reason"]
    assert body["secret"] not in str(entries)


def test_create_with_expiry_and_contract(srv):
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 10 * 86400))
    r = create(srv, "subcontractor", "api tokens trustee", expires=day, contract=SUBCONTRACT)
    assert r.status_code == 201, r.text
    t = r.json()["token"]
    assert t["expires"] == day + "T00:00:00Z"
    assert t["contract"] == SUBCONTRACT
    assert listed(srv)[t["id"]]["contract"] == SUBCONTRACT


@pytest.mark.parametrize("body,fields", [
    ({"name": "x"}, {"role": "required"}),
    ({"role": "member", "name": "x"}, {"role": "unknown"}),
    ({"role": "operator", "name": "x"}, {"role": "unknown"}),
    ({"role": "wizard", "name": "x"}, {"role": "unknown"}),
    ({"role": "staff"}, {"name": "required"}),
    ({"role": "staff", "name": "  "}, {"name": "required"}),
    ({"role": "staff", "name": "x" * 65}, {"name": "too_long"}),
    ({"role": "staff", "name": "bad\u202ename"}, {"name": "malformed"}),
    ({"role": "staff", "name": "x", "expires": "tomorrow"}, {"expires": "malformed"}),
    ({"role": "staff", "name": "x", "expires": "2001-01-01"}, {"expires": "out_of_range"}),
    ({"role": "staff", "name": "x", "contract": SUBCONTRACT}, {"contract": "not_allowed"}),
    ({"role": "subcontractor", "name": "x", "contract": "no-such-contract"},
     {"contract": "unknown"}),
])
def test_create_field_errors(srv, body, fields):
    before = set(listed(srv))
    r = srv.post("/v1/tokens", role="admin", json=body)
    assert r.status_code == 422, r.text
    err = assert_error_body(r, "invalid_field")
    assert err["fields"] == fields
    assert set(listed(srv)) == before


@pytest.mark.parametrize("body", [{"role": 1, "name": "x"}, {"role": "staff", "name": "x",
                                                             "secret": "cu_mine"}, []])
def test_create_shape_errors(srv, body):
    r = srv.post("/v1/tokens", role="admin", json=body)
    assert r.status_code == 400, r.text
    assert_error_body(r)


def test_revoke_ends_the_token(srv):
    r = create(srv, "officer", "api tokens revoked")
    assert r.status_code == 201
    tid, secret = r.json()["token"]["id"], r.json()["secret"]
    assert srv.get("/v1/requests", token="Bearer " + secret).status_code == 200
    head = srv.audit_head()
    r = srv.request("DELETE", f"/v1/tokens/{tid}", role="admin")
    assert r.status_code == 200, r.text
    t = r.json()["token"]
    assert t["status"] == "revoked" and t["revoked"]
    assert srv.get("/v1/requests", token="Bearer " + secret).status_code == 401
    assert listed(srv)[tid]["status"] == "revoked"
    entries = [e for e in srv.audit(after=head) if e["action"] == "token_revoke"]
    assert len(entries) == 1 and tid in entries[0]["reason"]
    # Again: changes nothing, writes nothing.
    head = srv.audit_head()
    r = srv.request("DELETE", f"/v1/tokens/{tid}", role="admin")
    assert r.status_code == 200 and r.json()["token"]["revoked"] == t["revoked"]
    assert srv.audit_head() == head


@pytest.mark.parametrize("tid", ["A" * 22, "short", "A" * 60, "%2e%2e"])
def test_revoke_unknown_is_404(srv, tid):
    r = srv.request("DELETE", f"/v1/tokens/{tid}", role="admin")
    assert r.status_code == 404, r.text
    assert_error_body(r, "not_found")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_the_admin(srv, role):
    assert srv.get("/v1/tokens", role=role).status_code == 403
    assert create(srv, "admin", "escalate", caller=role).status_code == 403
    assert srv.request("DELETE", "/v1/tokens/" + "A" * 22, role=role).status_code == 403


def test_no_credentials_and_member(srv, portal_member):
    assert srv.get("/v1/tokens").status_code == 401
    assert srv.get("/v1/tokens", member=portal_member).status_code == 403
    r = srv.post("/v1/tokens", member=portal_member, json={"role": "admin", "name": "x"})
    assert r.status_code == 403


def test_query_refused(srv):
    assert srv.get("/v1/tokens?all=1", role="admin").status_code == 400
    assert srv.post("/v1/tokens?x=1", role="admin",
                    json={"role": "staff", "name": "x"}).status_code == 400


def test_admin_reads_the_audit_trail(srv):
    """The admin's console shows the trail and the chain check (GET /v1/audit, /verify)."""
    r = srv.get("/v1/audit", role="admin", params={"limit": 5})
    assert r.status_code == 200, r.text
    assert srv.get("/v1/audit/verify", role="admin").json()["intact"] is True


def test_policy_names_roles_per_purpose(srv):
    pol = srv.get("/v1/policy").json()
    for p in pol["purposes"]:
        want = PURPOSES[p["id"]]
        assert sorted(p["roles"]) == sorted(want["roles"])
        assert p["requires_case"] == bool(want.get("requires_case"))
        assert p["aggregate_only"] == bool(want.get("aggregate_only"))
        assert p["diaries"] == bool(want.get("diaries"))
