"""Operator routes: /healthz, /readyz, /metrics, /openapi.json."""
import json
import re

from conftest import ROLES, assert_no_personal


def test_healthz(srv):
    r = srv.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["X-Request-Id"])


def test_readyz(srv):
    r = srv.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}


def test_request_ids_differ(srv):
    ids = {srv.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_operator_routes_need_no_credentials_and_ignore_bad_ones(srv):
    # anon routes never authenticate: a stale cookie or a bad token changes nothing
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert srv.get(path, token="Bearer cu_nonsense").status_code == 200
        assert srv.get(path, headers={"Cookie": "cu_session=stale"}).status_code == 200
        for role in ROLES:
            assert srv.get(path, role=role).status_code == 200


def test_metrics_prometheus_text(srv, full_member, portal_member):
    # Some traffic first, with personal data in bodies.
    srv.search("email", full_member.email)
    srv.get(f"/v1/members/{full_member.id}", role="staff", params={"purpose": "support"})
    r = srv.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert "# TYPE custodian_http_requests_total counter" in text
    assert re.search(r'^custodian_http_requests_total\{method="GET",route="/v1/members/\{id\}",'
                     r'status="200"\} [1-9]\d*$', text, re.M)
    assert re.search(r"^custodian_audit_head_seq \d+$", text, re.M)
    # Every sample line is NAME{labels} VALUE or NAME VALUE; comments start with #.
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*'
                            r'(\{[a-zA-Z_]+="(\\.|[^"\\])*"(,[a-zA-Z_]+="(\\.|[^"\\])*")*\})?'
                            r' ([-+]?[0-9.eE+-]+|[+-]Inf|NaN)', line), line
    # No member id, no e-mail address, no personal value.
    for mid in srv.member_ids:
        assert mid not in text
    assert "@" not in text
    assert_no_personal(srv, text)


def test_audit_head_gauge_moves_with_reads(srv, full_member):
    before = srv.audit_head()
    srv.get(f"/v1/members/{full_member.id}", role="staff", params={"purpose": "support"})
    assert srv.audit_head() == before + 1


def test_openapi_is_json(srv):
    r = srv.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = json.loads(r.content.decode("utf-8"))
    assert isinstance(doc, dict)
