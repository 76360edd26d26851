"""Two `custodian serve` processes on one PostgreSQL store (docs/postgresql.md, "Several
servers on one database"):

- a session made through one is valid through the other and ends on both at logout, a
  write through either is read through the other, and the one audit chain both append to
  verifies;
- the attempt limits are shared (docs/auth.md): an account's five failed logins and an
  address's sign-ups are counted once across both, not once per server.

Runs in ctest's api/pytest/pg only (conftest.py leaves it out on SQLite, where one server
owns the file and the limits are the process's own, tested in test_throttle.py).
"""
import contextlib
import json
import os
import shutil
import tempfile
import threading

import pytest
import requests

from conftest import Server, own_server, set_conf, wait_for

PASSWORD = "two servers one store 14"
SIGNUPS = 3
WRONG = 12


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


def test_writes_through_both_one_log(pair):
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
    # Both append to one log (one chain: they share a data directory and its audit.chain):
    # each sees the other's entries, in one order.
    ea = [(e["seq"], e["action"]) for e in a.audit(limit=100)]
    eb = [(e["seq"], e["action"]) for e in b.audit(limit=100)]
    assert ea == eb
    seqs = [s for s, _ in ea]
    assert len(set(seqs)) == len(seqs)
    r = a.cli("audit", "verify")
    assert r.returncode == 0 and "audit intact" in r.stdout, r.stdout + r.stderr


@contextlib.contextmanager
def two_machines(request, prefix, conf_a=(), conf_b=()):
    """Servers a and b as two machines behind a load balancer would run them: b's data
    directory is a copy of a's (the same store url, master key and keyring), made before
    either starts. conf_a and conf_b: (section, key, value) settings of each."""
    root_b = tempfile.mkdtemp(prefix=prefix + "b-")

    def prepare(a):
        for section, key, value in conf_a:
            set_conf(os.path.join(a.data, "custodian.conf"), section, key, value)
        shutil.copytree(a.data, os.path.join(root_b, "data"))
        for section, key, value in conf_b:
            set_conf(os.path.join(root_b, "data", "custodian.conf"), section, key, value)

    with own_server(request, prefix + "a-", prepare=prepare) as a:
        b = Server(a.binary, root_b)
        b.tokens, b.store = a.tokens, a.store
        try:
            b.start()
            yield a, b
            assert b.stop() == 0, b.stderr()
        finally:
            if b.proc and b.proc.poll() is None:
                b.proc.kill()
                b.proc.wait()
            shutil.rmtree(root_b, ignore_errors=True)


@pytest.fixture(scope="module")
def chained(request):
    """Two machines, each writing its own audit chain (audit.chain web1 and web2)."""
    with two_machines(request, "cu-api-chain-", conf_a=[("audit", "chain", "web1")],
                      conf_b=[("audit", "chain", "web2")]) as pair:
        yield pair


def test_each_server_its_own_chain_linked(chained):
    """docs/scaling.md, one chain per writer: each server's entries go to its chain, both
    chains share one seq, the checkpointers link them, and `audit verify` walks all."""
    a, b = chained
    ids = [(a, b)[i % 2].register(a.new_values()).id for i in range(6)]
    for i, mid in enumerate(ids):
        r = (b, a)[i % 2].get(f"/v1/members/{mid}", role="staff", params={"purpose": "support"})
        assert r.status_code == 200, r.text
    entries = a.audit(limit=500)
    by_chain = {}
    for e in entries:
        by_chain.setdefault(e["chain"], []).append(e["seq"])
    assert {"web1", "web2"} <= set(by_chain), by_chain
    seqs = sorted(e["seq"] for e in entries)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # one dense seq over both
    # A checkpointer that finds the log moved links its chain to the others' heads and signs
    # the link (every 5 s); the other finds nothing new after it and signs nothing.
    last = max(seqs)

    def links():
        return [e for e in a.audit(limit=1000) if e["action"] == "link" and e["seq"] > last]

    assert wait_for(links, timeout=30)
    link = links()[0]
    assert link["chain"] in ("web1", "web2") and link["reason"].startswith("chains="), link
    for s in (a, b):
        r = s.cli("audit", "verify")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "audit intact" in r.stdout and " chains" in r.stdout, r.stdout
    r = a.get("/v1/audit/verify", role="officer")
    assert r.status_code == 200 and r.json()["intact"] and r.json()["chains"] >= 2, r.text


@pytest.fixture(scope="module")
def limited_pair(request):
    """Two machines with SIGNUPS sign-ups an hour."""
    with two_machines(request, "cu-api-lim-",
                      conf_a=[("security", "signups_per_hour", str(SIGNUPS))]) as pair:
        yield pair


@pytest.fixture(scope="module")
def machines(request):
    """Two machines, b running a retention pass every second."""
    with two_machines(request, "cu-api-mach-",
                      conf_b=[("retention", "interval_seconds", "1")]) as pair:
        yield pair


def test_failed_logins_counted_once_across_servers(limited_pair):
    a, b = limited_pair
    m = a.register(a.new_values(), role="service", password="two servers pw")
    results = [None] * WRONG

    def wrong(i):
        srv = (a, b)[i % 2]
        results[i] = requests.post(srv.base + "/v1/session", timeout=60,
                                   json={"email": m.email, "password": "not it %d" % i})

    ts = [threading.Thread(target=wrong, args=(i,)) for i in range(WRONG)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r.status_code for r in results)
    # Five hashed and refused, across both servers together; the rest refused unhashed.
    assert codes == [401] * 5 + [429] * (WRONG - 5), codes
    # The right password, on either server, meets the lockout the two earned together.
    for srv in (a, b):
        r = requests.post(srv.base + "/v1/session", timeout=60,
                          json={"email": m.email, "password": m.password})
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) > 0


def test_signups_counted_once_across_servers(limited_pair):
    a, b = limited_pair
    for i in range(SIGNUPS + 2):
        values = a.new_values()
        a.remember(values)
        srv = (a, b)[i % 2]
        r = srv.register(values, role=None, password="sign-up pw %d" % i,
                         expect=201 if i < SIGNUPS else 429)
        if r:
            a.member_ids.add(r.id)


def keyring_nodes(srv):
    r = srv.cli("keys", "status", "--json")
    assert r.returncode == 0, r.stderr
    return [t["nodes"] for t in json.loads(r.stdout)["keyring"]["trees"]]


def test_erasure_on_a_punctures_the_keyring_of_b(machines):
    """An erasure through one machine punctures its own keyring at once; the other
    machine's copy held the member's leaf until its next start. Its retention pass now
    drops it (cu_erasure_reconcile), so an old backup and that copy cannot bring the
    member back."""
    a, b = machines
    m = a.register(a.new_values())
    r = b.get(f"/v1/members/{m.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200, r.text
    before = keyring_nodes(b)
    r = a.cli("member", "erase", m.id)
    assert r.returncode == 0, r.stderr
    assert keyring_nodes(a) != before  # a's own keyring at once
    said = "1 keyring leaves of members erased elsewhere punctured"
    assert wait_for(lambda: said in b.stderr(0), 30, step=0.2), b.stderr()
    assert keyring_nodes(b) == keyring_nodes(a)
    r = b.cli("keys", "reconcile")
    assert r.returncode == 0 and r.stdout.startswith("0 "), r.stdout + r.stderr
    r = b.get(f"/v1/members/{m.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "erased", r.text
