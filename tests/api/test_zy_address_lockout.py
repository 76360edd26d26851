"""
The per-address login limit (20 failures from one address lock every login from
it).  It runs after every other test that logs in (files run in name order),
because it locks this client's address out for the rest of the server's life.
"""
from conftest import assert_error_body


def test_address_lockout(srv):
    m = srv.register(srv.new_values(), role=None, password="address lockout password")
    status = None
    for i in range(25):
        # A different (unknown) account each time: only the address limit can trip.
        r = srv.post("/v1/session", json={"email": f"ghost-{i:02d}@leak-example.org",
                                          "password": "wrong password!"})
        status = r.status_code
        if status == 429:
            break
        assert status == 401
    assert status == 429, "20 failures from one address did not lock it"
    assert i <= 20
    # Now even a right password from this address is refused.
    r = srv.post("/v1/session", json={"email": m.email, "password": m.password})
    assert r.status_code == 429
    assert_error_body(r, "rate_limited")
    assert "Set-Cookie" not in r.headers
    # Token and public routes are unaffected.
    assert srv.get("/healthz").status_code == 200
    assert srv.search("email", m.email).json() == {"id": m.id}
