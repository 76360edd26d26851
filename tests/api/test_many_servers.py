"""
test_many_servers.py — two servers on one PostgreSQL store share the attempt limits
(docs/postgresql.md, "Several servers"): an account's five failed logins and an
address's sign-ups are counted once across both, not once per server.

Runs in api/pytest/pg only (conftest.py leaves it out on SQLite, where one server
owns the file and the limits are the process's own, tested in test_throttle.py).
"""
import os
import shutil
import tempfile
import threading

import pytest
import requests

from conftest import Server, own_server, set_conf

SIGNUPS = 3
WRONG = 12


@pytest.fixture(scope="module")
def pair(request):
    """Servers a and b: b's data directory is a copy of a's (the same store url and
    master key, as two machines behind a load balancer would have)."""
    root_b = tempfile.mkdtemp(prefix="cu-api-b-")

    def prepare(a):
        set_conf(os.path.join(a.data, "custodian.conf"), "security", "signups_per_hour",
                 str(SIGNUPS))
        shutil.copytree(a.data, os.path.join(root_b, "data"))

    with own_server(request, "cu-api-a-", prepare=prepare) as a:
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


def test_failed_logins_counted_once_across_servers(pair):
    a, b = pair
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


def test_signups_counted_once_across_servers(pair):
    a, b = pair
    for i in range(SIGNUPS + 2):
        values = a.new_values()
        a.remember(values)
        srv = (a, b)[i % 2]
        r = srv.register(values, role=None, password="sign-up pw %d" % i,
                         expect=201 if i < SIGNUPS else 429)
        if r:
            a.member_ids.add(r.id)
