"""
The access log (the server's stdout), checked after every other test has run
(pytest runs files in name order; this one is last).  The session fixture
checks the complete log once more after the server has stopped.
"""
import json
import time

from conftest import check_access_log


def test_access_log_lines_are_json_without_personal_data(srv):
    # One request whose URL carries personal data and a query string, to be sure
    # neither reaches the log.
    srv.get("/v1/members", role="staff", params={"email": "logcheck-url@leak-example.org"})
    srv.remember({"email": "logcheck-url@leak-example.org"})
    n = check_access_log(srv, srv.access_log())
    assert n >= 1000  # the whole suite's traffic is there


def test_request_ids_match_the_log(srv, full_member):
    want = {}
    r = srv.get(f"/v1/members/{full_member.id}", role="staff", params={"purpose": "support"})
    want[r.headers["X-Request-Id"]] = ("GET", "/v1/members/{id}", 200)
    r = srv.get("/v1/nowhere/" + full_member.email)
    want[r.headers["X-Request-Id"]] = ("-", "unmatched", 404)
    r = srv.request("PUT", "/v1/me")
    want[r.headers["X-Request-Id"]] = ("-", "unmatched", 405)
    r = srv.post("/v1/members/search", role="staff", json={"email": full_member.email})
    want[r.headers["X-Request-Id"]] = ("POST", "/v1/members/search", 200)
    deadline = time.time() + 2
    while True:
        seen = {}
        for line in srv.access_log().splitlines():
            o = json.loads(line)
            if o["request_id"] in want:
                seen[o["request_id"]] = (o.get("method"), o["route"], o["status"])
        if seen == want or time.time() > deadline:
            break
        time.sleep(0.05)
    assert seen == want


def test_metrics_hold_no_client_text(srv):
    text = srv.metrics()
    for s in ("nowhere", "nope", ".env", "@", "%", "../"):
        assert s not in text, s
    for mid in srv.member_ids:
        assert mid not in text
