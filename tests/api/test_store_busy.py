"""
The store held by another program: a server of its own whose custodian.db is locked by this
test (Python's sqlite3, BEGIN EXCLUSIVE — in WAL mode it shuts out writers, not readers).

While the lock is held, every write — and every read that must be audited first — gets
SQLITE_BUSY once the store's busy timeout (5 s, src/store/sqlite/sqlite.c) runs out, which maps to
CU_ERR_STORE: a 503 `store_error` in the error shape, never a 500, never a crash, and nothing of
the refused calls is kept.  Reads that write nothing (the officer's queues, a member's own
notices) keep working.  When the lock is released everything works again, with no restart.

The calls are made at once, from threads, so the whole test waits for one busy timeout or
two rather than one per call.
"""
import concurrent.futures
import os
import sqlite3

import pytest

from conftest import own_server, assert_error_body, assert_no_personal


@pytest.fixture(scope="module")
def held(request):
    with own_server(request, "cu-busy-") as s:
        yield s


class Lock:
    """BEGIN EXCLUSIVE on the server's store until release()."""

    def __init__(self, s):
        self.db = sqlite3.connect(os.path.join(s.data, "custodian.db"), isolation_level=None,
                                  timeout=10)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self):
        self.db.execute("ROLLBACK")
        self.db.close()


def audit_count(s):
    db = sqlite3.connect(f"file:{os.path.join(s.data, 'custodian.db')}?mode=ro", uri=True,
                         timeout=10)
    try:
        return db.execute("SELECT count(*) FROM audit").fetchone()[0]
    finally:
        db.close()


def test_a_locked_store_answers_503_and_recovers(held):
    s = held
    pw = "busy sweep password"
    m = s.register(s.new_values(), role=None, password=pw)
    s.login(m)
    other = s.new_values()
    s.remember(other)
    writes = {
        "register": lambda: s.post("/v1/members", role="service", json=other),
        "read (audited)": lambda: s.get(f"/v1/members/{m.id}", role="staff",
                                        params={"purpose": "support"}),
        "find (audited)": lambda: s.search("email", m.email),
        "change own data": lambda: s.request("PATCH", "/v1/me", member=m,
                                             json={"hobbies": "busy-sweep-hobby"}),
        "consent": lambda: s.request("PUT", "/v1/me/consents", member=m,
                                     json={"kind": "cookie", "target": "statistics",
                                           "granted": False}),
        "request": lambda: s.post("/v1/requests", member=m, json={"type": "disclosure"}),
        "complaint": lambda: s.post("/v1/complaints", member=m,
                                    json={"about": "use", "text": "busy-sweep complaint"}),
        "log in": lambda: s.post("/v1/session", json={"email": m.email, "password": pw}),
    }
    reads = {
        "requests queue": lambda: s.get("/v1/requests", role="officer"),
        "complaints queue": lambda: s.get("/v1/complaints", role="officer"),
        "exceptions queue": lambda: s.get("/v1/exceptions", role="officer"),
        "outbox": lambda: s.get("/v1/notify/outbox", role="officer"),
        "healthz": lambda: s.get("/healthz"),
    }
    before = audit_count(s)
    lock = Lock(s)
    try:
        with concurrent.futures.ThreadPoolExecutor(len(writes) + len(reads)) as pool:
            futures = {name: pool.submit(call) for name, call in {**writes, **reads}.items()}
            got = {name: f.result() for name, f in futures.items()}
        assert s.proc.poll() is None, "the server died: " + s.stderr()
        assert audit_count(s) == before
        # /readyz probes the store with a write when a probe is due, else says what the
        # last one found: not ready, once the calls above have failed, while the lock lasts.
        r = s.get("/readyz", timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "not_ready", r.text
    finally:
        lock.release()
    status = {name: r.status_code for name, r in got.items()}
    want = {name: 503 for name in writes}
    want.update({name: 200 for name in reads})
    assert status == want, status
    for name in writes:
        r = got[name]
        assert_error_body(r, "store_error")
        assert_no_personal(s, r.text)
    assert all(r.status_code < 500 or r.status_code == 503 for r in got.values())

    # Released: everything works again, without a restart, and nothing refused was kept.
    assert s.search("email", other["email"]).status_code == 404
    r = s.get("/v1/me", member=m)
    assert r.status_code == 200 and "busy-sweep-hobby" not in r.text
    expect = {"register": 201, "read (audited)": 200, "find (audited)": 200,
              "change own data": 200, "consent": 200, "request": 201, "complaint": 201,
              "log in": 200}
    for name, call in writes.items():
        r = call()
        assert r.status_code == expect[name], (name, r.status_code, r.text[:200])
        if name == "register":
            s.member_ids.add(r.json()["id"])
    r = s.get("/v1/requests", role="officer")
    assert r.status_code == 200 and m.id in r.text
    assert s.get("/readyz", timeout=30).status_code == 200
    assert s.cli("audit", "verify").returncode == 0
