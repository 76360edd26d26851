"""
The officer's and the member's routes at their edges (server/routes/subcontractors.c,
third_parties.c, tokens.c, consent.c, requests.c): a query string where a route takes none,
a body that is not JSON, on every such route.  Each is refused in the one error shape with
400 before anything is done: the audit head does not move and nothing new is listed.
"""
import pytest

from conftest import FIELDS, POLICY, assert_error_body

UNKNOWN = "A" * 22


@pytest.fixture(scope="module")
def things(srv):
    """One of each thing a path names, made before the refusals."""
    m = srv.register(srv.new_values(), role=None, password="routes edges password")
    srv.login(m)
    sid = srv.unique("edge-sub-")
    r = srv.post("/v1/subcontractors", role="officer", json={
        "id": sid, "name": "Edge House", "contact": "e@house.example", "fields": ["email"],
        "purposes": ["product_news"], "measures": ["encryption"], "start": "2026-01-01",
        "end": "2027-01-01"})
    assert r.status_code == 201, r.text
    r = srv.post(f"/v1/subcontractors/{sid}/reviews", role="officer", json={"due": "2030-01-01"})
    assert r.status_code == 201, r.text
    review = r.json()["review"]["id"]
    tp = srv.unique("edge-tp-")
    r = srv.post("/v1/third-parties", role="officer", json={
        "id": tp, "name": "Edge Printer", "contact": "p@printer.example",
        "purpose": "Printing.", "fields": ["name"]})
    assert r.status_code == 201, r.text
    req = srv.post("/v1/requests", member=m, json={"type": "disclosure"}).json()["request"]["id"]
    cpl = srv.post("/v1/complaints", member=m,
                   json={"about": "use", "text": "edge complaint"}).json()["complaint"]["id"]
    tokens = srv.get("/v1/tokens", role="admin").json()["tokens"]
    return {"member": m, "version": POLICY["version"], "sub": sid, "review": review, "tp": tp, "request": req,
            "complaint": cpl, "token": tokens[0]["id"]}


# (method, path, who): who is a token role or "member".
ROUTES = [
    ("GET", "/v1/subcontractors", "officer"),
    ("POST", "/v1/subcontractors", "officer"),
    ("GET", "/v1/subcontractors/{sub}", "officer"),
    ("GET", "/v1/subcontractors/reviews/overdue", "officer"),
    ("POST", "/v1/subcontractors/{sub}/reviews", "officer"),
    ("PATCH", "/v1/subcontractors/{sub}/reviews/{review}", "officer"),
    ("GET", "/v1/third-parties", "officer"),
    ("POST", "/v1/third-parties", "officer"),
    ("GET", "/v1/third-parties/{tp}", "officer"),
    ("GET", "/v1/me/provisions", "member"),
    ("GET", "/v1/me/shares", "member"),
    ("POST", "/v1/me/shares", "member"),
    ("DELETE", "/v1/me/shares/{unknown}", "member"),
    ("GET", "/v1/tokens", "admin"),
    ("POST", "/v1/tokens", "admin"),
    ("DELETE", "/v1/tokens/{token}", "admin"),
    ("GET", "/v1/me/consents", "member"),
    ("PUT", "/v1/me/consents", "member"),
    ("POST", "/v1/me/policy/accept", "member"),
    ("GET", "/v1/me/policy/changes", "member"),
    ("GET", "/v1/policy/versions", None),
    ("GET", "/v1/policy/versions/{version}", None),
    ("GET", "/v1/me/requests", "member"),
    ("GET", "/v1/me/complaints", "member"),
    ("GET", "/v1/requests/{request}", "officer"),
    ("GET", "/v1/complaints/{complaint}", "officer"),
    ("POST", "/v1/requests", "member"),
    ("POST", "/v1/complaints/{complaint}/assign", "officer"),
]


def send(srv, things, method, path, who, **kw):
    path = path.format(unknown=UNKNOWN, **{k: v for k, v in things.items() if k != "member"})
    if who == "member":
        kw["member"] = things["member"]
    elif who:
        kw["role"] = who
    return srv.request(method, path, **kw)


def listing(srv, things):
    """What the routes above could have changed."""
    m = things["member"]
    return (srv.get("/v1/subcontractors", role="officer").json(),
            srv.get(f"/v1/subcontractors/{things['sub']}", role="officer").json(),
            srv.get("/v1/third-parties", role="officer").json(),
            srv.get("/v1/tokens", role="admin").json()["tokens"],
            srv.get("/v1/me/consents", member=m).json()["choices"],
            srv.get("/v1/me/shares", member=m).json(),
            srv.get("/v1/me/requests", member=m).json()["requests"],
            srv.get(f"/v1/complaints/{things['complaint']}", role="officer").json())


@pytest.mark.parametrize("method,path,who", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_a_query_string_where_none_is_taken_is_refused(srv, things, method, path, who):
    before = listing(srv, things)
    head = srv.audit_head()
    kw = {"params": {"x": "1"}}
    if method in ("POST", "PUT", "PATCH"):
        kw["json"] = {}
    r = send(srv, things, method, path, who, **kw)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    err = assert_error_body(r, "invalid_argument")
    assert "query" in err["message"]
    assert srv.audit_head() == head
    assert listing(srv, things) == before


BODIED = [(m, p, w) for m, p, w in ROUTES if m in ("POST", "PUT", "PATCH")
          and p != "/v1/me/policy/accept"]


@pytest.mark.parametrize("body", [b"{", b"[]", b'"text"'], ids=["broken", "array", "string"])
@pytest.mark.parametrize("method,path,who", BODIED, ids=[f"{m} {p}" for m, p, _ in BODIED])
def test_a_body_that_is_not_a_json_object_is_refused(srv, things, method, path, who, body):
    before = listing(srv, things)
    head = srv.audit_head()
    r = send(srv, things, method, path, who, data=body,
             headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), (r.status_code, r.text[:300])
    assert_error_body(r)
    assert srv.audit_head() == head
    assert listing(srv, things) == before


def test_a_subcontractor_token_with_an_overlong_contract_is_refused(srv):
    before = srv.get("/v1/tokens", role="admin").json()["tokens"]
    r = srv.post("/v1/tokens", role="admin",
                 json={"role": "subcontractor", "name": "edge", "contract": "c" * 300})
    assert r.status_code == 422, r.text
    err = assert_error_body(r, "invalid_field")
    assert srv.get("/v1/tokens", role="admin").json()["tokens"] == before
    assert err


def test_a_subcontractor_with_fields_the_policy_lacks_is_refused(srv):
    before = srv.get("/v1/subcontractors", role="officer").json()
    r = srv.post("/v1/subcontractors", role="officer", json={
        "id": srv.unique("edge-bad-"), "name": "Bad House", "contact": "b@house.example",
        "fields": FIELDS[:1] + ["shoe_size"], "purposes": ["product_news"],
        "measures": ["encryption"], "start": "2026-01-01", "end": "2027-01-01"})
    assert r.status_code == 422, r.text
    assert_error_body(r, "invalid_field")
    assert srv.get("/v1/subcontractors", role="officer").json() == before


def test_an_amendment_naming_more_fields_than_a_policy_can_have_is_refused(srv, things):
    m = things["member"]
    before = srv.get("/v1/me/requests", member=m).json()["requests"]
    changes = {f"field_{i}": "x" for i in range(65)}       # over CU_POLICY_FIELDS_MAX (64)
    r = srv.post("/v1/requests", member=m, json={
        "type": "amendment", "details": {"changes": changes, "reason": "many"}})
    assert r.status_code == 422, r.text[:300]
    err = assert_error_body(r, "invalid_field")
    assert err["fields"] == {"changes": "too_many_fields"}, err
    assert srv.get("/v1/me/requests", member=m).json()["requests"] == before
