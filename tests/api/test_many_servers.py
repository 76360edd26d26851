"""Two `custodian serve` processes on one store (docs/postgresql.md, "Several servers on one
database"): a session made through one is valid through the other and ends on both at
logout, a write through either is read through the other, and the one audit chain both
append to verifies.  In ctest's api/pytest/pg on PostgreSQL (the servers share the schema
custodian.conf names); on SQLite the two share the data directory's file.
"""
import os

import pytest

from conftest import Server, own_server

PASSWORD = "two servers one store 14"


@pytest.fixture(scope="module")
def pair(request):
    """Server A (a data directory of its own) and server B, a second process on A's data
    directory and store, on another port."""
    with own_server(request, "cu-api-pair-") as a:
        b = Server(a.binary, a.root)
        b.log_path = os.path.join(a.root, "access-b.log")
        b.err_path = os.path.join(a.root, "stderr-b.log")
        b.tokens, b.store = a.tokens, a.store
        b.start()
        try:
            yield a, b
        finally:
            assert b.stop() == 0, b.stderr()


def test_session_made_on_a_is_valid_on_b_and_ends_on_both(pair):
    a, b = pair
    m = a.register(a.new_values(), role=None, password=PASSWORD)
    a.login(m)
    r = b.get("/v1/me", member=m)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == m.id
    # A change through B with the CSRF token A handed out; read back through A.
    r = b.request("PATCH", "/v1/me", member=m, json={"address": "2 Replica Row"})
    assert r.status_code == 200, r.text
    r = a.get("/v1/me", member=m)
    assert r.status_code == 200 and r.json()["fields"]["address"] == "2 Replica Row", r.text
    # The CSRF token is the session's, whichever process checks it.
    r = b.request("PATCH", "/v1/me", member=m, csrf=False, json={"address": "3 Replica Row"},
                  headers={"X-CSRF-Token": "x" * 43})
    assert r.status_code == 403, r.text
    # Logout through B ends the session on A too: nothing is cached per process.
    r = b.request("DELETE", "/v1/session", member=m)
    assert r.status_code in (200, 204), r.text
    for s in (a, b):
        r = s.get("/v1/me", member=m)
        assert r.status_code == 401, (s.base, r.text)


def test_login_on_b_diary_on_a(pair):
    a, b = pair
    m = b.register(a.new_values(), role=None, password=PASSWORD)
    b.login(m)
    r = a.post("/v1/me/diaries", member=m, json={"title": "written on A", "body": "x"})
    assert r.status_code == 201, r.text
    r = b.get("/v1/me/diaries", member=m)
    assert [e["title"] for e in r.json()["entries"]] == ["written on A"]


def test_writes_through_both_one_chain(pair):
    a, b = pair
    ids = []
    for i in range(6):
        s = (a, b)[i % 2]
        m = s.register(a.new_values())  # one counter: values unique across both
        ids.append(m.id)
    for i, mid in enumerate(ids):
        s = (b, a)[i % 2]  # read through the other one
        r = s.get(f"/v1/members/{mid}", role="staff", params={"purpose": "support"})
        assert r.status_code == 200, r.text
    # Both append to one chain: each sees the other's entries, in one order.
    ea = [(e["seq"], e["action"]) for e in a.audit(limit=100)]
    eb = [(e["seq"], e["action"]) for e in b.audit(limit=100)]
    assert ea == eb
    seqs = [s for s, _ in ea]
    assert len(set(seqs)) == len(seqs)
    r = a.cli("audit", "verify")
    assert r.returncode == 0 and "audit intact" in r.stdout, r.stdout + r.stderr

