"""Concurrency, clients that go away, pipelining, the command line writing while the
server runs, and sessions that expire."""
import os
import socket
import sqlite3
import struct
import threading
import time

import requests

from conftest import SESSION_COOKIE, assert_error_body, wait_for


def in_threads(n, fn):
    errors, results = [], [None] * n

    def run(i):
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors
    return results


def test_concurrent_mixed_load_is_fully_audited(srv, full_member):
    """8 clients at once: registrations, reads and searches; every one answered, every
    one audited once, and the chain still verifies."""
    head = srv.audit_head()
    values = [srv.new_values() for _ in range(8 * 3)]
    for v in values:
        srv.remember(v)

    def client(i):
        s = requests.Session()
        auth = {"Authorization": "Bearer " + srv.tokens["service"]}
        staff = {"Authorization": "Bearer " + srv.tokens["staff"]}
        statuses = []
        for k in range(3):
            v = values[i * 3 + k]
            r = s.post(srv.base + "/v1/members", json=v, headers=auth, timeout=30)
            statuses.append(r.status_code)
            mid = r.json()["id"]
            srv.member_ids.add(mid)
            r = s.get(f"{srv.base}/v1/members/{mid}", params={"purpose": "support"},
                      headers=staff, timeout=30)
            statuses.append(r.status_code)
            assert r.json()["fields"]["email"] == v["email"]
            r = s.get(f"{srv.base}/v1/members/{full_member.id}",
                      params={"purpose": "research"}, headers=staff, timeout=30)
            statuses.append(r.status_code)
            r = s.post(srv.base + "/v1/members/search", json={"email": v["email"]}, headers=auth,
                       timeout=30)
            statuses.append(r.status_code)
            assert r.json() == {"id": mid}
        s.close()
        return statuses

    results = in_threads(8, client)
    flat = [x for r in results for x in r]
    assert sorted(set(flat)) == [200, 201, 403]
    assert flat.count(201) == 24 and flat.count(403) == 24
    # register + read + denied read + find, per iteration
    assert srv.audit_head() == head + 8 * 3 * 4
    r = srv.get("/v1/audit/verify", role="officer")
    assert r.json()["intact"] is True


def test_concurrent_duplicate_registration_one_wins(srv):
    v = srv.new_values()
    srv.remember(v)
    head = srv.audit_head()

    def reg(i):
        return requests.post(srv.base + "/v1/members", json=v, timeout=30,
                             headers={"Authorization": "Bearer " + srv.tokens["service"]})

    rs = in_threads(8, reg)
    codes = sorted(r.status_code for r in rs)
    assert codes == [201] + [409] * 7, codes
    srv.member_ids.add(next(r.json()["id"] for r in rs if r.status_code == 201))
    assert srv.audit_head() == head + 1


def test_duplicates_in_a_batch_leave_the_others_registered(srv):
    """A refused duplicate writes nothing and fails nothing else: registrations that share the
    writer's batches with duplicates of one address are all stored and audited once."""
    dup = srv.new_values()
    uniq = [srv.new_values() for _ in range(8)]
    for v in [dup] + uniq:
        srv.remember(v)
    head = srv.audit_head()

    def reg(i):
        h = {"Authorization": "Bearer " + srv.tokens["service"]}
        a = requests.post(srv.base + "/v1/members", json=dup, timeout=30, headers=h)
        b = requests.post(srv.base + "/v1/members", json=uniq[i], timeout=30, headers=h)
        return a, b

    rs = in_threads(8, reg)
    assert sorted(a.status_code for a, _ in rs) == [201] + [409] * 7
    assert [b.status_code for _, b in rs] == [201] * 8
    for a, b in rs:
        for r in (a, b):
            if r.status_code == 201:
                srv.member_ids.add(r.json()["id"])
    for i, (_, b) in enumerate(rs):
        r = srv.post("/v1/members/search", role="service", json={"email": uniq[i]["email"]})
        assert r.json() == {"id": b.json()["id"]}
    assert srv.audit_head() == head + 9 + 8
    assert srv.get("/v1/audit/verify", role="officer").json()["intact"] is True


def test_concurrent_logins(srv):
    m = srv.register(srv.new_values(), role=None, password="parallel logins pw")

    def login(i):
        return requests.post(srv.base + "/v1/session", timeout=30,
                             json={"email": m.email, "password": m.password})

    # Five at once: an account admits no more attempts in flight than its limit
    # (the sixth would be refused before its hash; test_throttle.py tests that).
    rs = in_threads(5, login)
    assert [r.status_code for r in rs] == [200] * 5
    assert len({r.cookies.get(SESSION_COOKIE) for r in rs}) == 5


def raw_and_close(srv, data, rst=False, read=False):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    if rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        s.sendall(data)
        if read:
            s.recv(10)
    finally:
        s.close()


def test_clients_that_go_away(srv, full_member):
    """Requests abandoned mid-header, mid-body, or while waiting for their audit entry:
    the server keeps serving and the chain stays whole."""
    tok = srv.tokens["staff"].encode()
    read = (b"GET /v1/members/" + full_member.id.encode() + b"?purpose=support HTTP/1.1\r\n"
            b"Host: x\r\nAuthorization: Bearer " + tok + b"\r\n\r\n")
    login = (b"POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 60\r\n\r\n"
             b'{"email":"gone-away@leak-example.org","password":"x"}')
    partial_body = (b"POST /v1/members/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    tok + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                    b'{"email":')
    partial_head = b"GET /v1/me HTTP/1.1\r\nHost: x\r\nCook"
    # A path with an e-mail address in it, abandoned: libmicrohttpd's complaint about the
    # failed send must not copy the path into the server's log.
    srv.remember({"email": "gone-away-path@leak-example.org"})
    email_path = (b"GET /v1/members/gone-away-path%40leak-example.org?purpose=support HTTP/1.1\r\n"
                  b"Host: x\r\nAuthorization: Bearer " + tok + b"\r\n\r\n")
    for i in range(15):
        raw_and_close(srv, read, rst=i % 2 == 0)
        raw_and_close(srv, partial_body, rst=i % 3 == 0)
        raw_and_close(srv, partial_head, rst=i % 2 == 1)
        raw_and_close(srv, read, read=True)
        raw_and_close(srv, email_path, rst=True)
        raw_and_close(srv, read.replace(full_member.id.encode(), b"%40" * 20), rst=True)
    for i in range(2):
        raw_and_close(srv, login)
    # Let abandoned reads finish.
    time.sleep(0.3)
    assert srv.get("/healthz").status_code == 200
    assert srv.get("/readyz").status_code == 200
    r = srv.get(f"/v1/members/{full_member.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200
    assert srv.get("/v1/audit/verify", role="officer").json()["intact"] is True


def test_pipelined_requests(srv):
    one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(one * 3 + last)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    assert out.count(b"HTTP/1.1 200 OK") == 4
    assert out.count(b'{"status":"ok"}') == 3 and out.count(b'{"status":"ready"}') == 1


def test_keep_alive_survives_refusals(srv):
    """One connection: a 413 (body drained), a 400, a 404, then a good request."""
    s = requests.Session()
    h = {"Authorization": "Bearer " + srv.tokens["staff"], "Content-Type": "application/json"}
    assert s.post(srv.base + "/v1/members/search", data=b"x" * 70000, headers=h).status_code == 413
    assert s.post(srv.base + "/v1/members/search", data=b"{", headers=h).status_code == 400
    assert s.get(srv.base + "/nope", headers=h).status_code == 404
    assert s.get(srv.base + "/healthz").status_code == 200
    s.close()


def test_command_line_writes_while_serving(srv):
    """Erasing a member with the CLI while the server runs: the server sees it at once,
    and its own audit entries continue the chain the CLI extended."""
    m = srv.register(srv.new_values(survey=True), role=None, password="erase me later pw")
    srv.login(m)
    assert srv.get("/v1/me", member=m).status_code == 200
    r = srv.cli("member", "erase", m.id)
    assert r.returncode == 0, r.stderr

    r = srv.get(f"/v1/members/{m.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 404
    assert_error_body(r, "erased")
    assert srv.get("/v1/me", member=m).status_code == 401
    assert srv.search("email", m.email).status_code == 404
    r = srv.get(f"/v1/services/newsletter/eligibility/{m.id}", role="service")
    assert r.status_code == 404
    assert srv.post("/v1/session", json={"email": m.email,
                                         "password": m.password}).status_code == 401
    # The server's next write lands after the CLI's entries; the chain verifies.
    srv.register()
    r = srv.get("/v1/audit/verify", role="officer")
    assert r.json()["intact"] is True
    assert r.json()["checked"] == srv.audit_head()
    actions = [e["action"] for e in srv.audit(member=m.id)]
    assert "erase" in actions


def test_expired_session_is_refused(srv):
    m = srv.register(srv.new_values(), role=None, password="expiring session pw")
    srv.login(m)
    assert srv.get("/v1/me", member=m).status_code == 200
    db = sqlite3.connect(os.path.join(srv.data, "custodian.db"), timeout=10)
    with db:
        n = db.execute("UPDATE sessions SET expires_us = ? WHERE member = ?",
                       (int((time.time() - 60) * 1e6), m.id)).rowcount
    db.close()
    assert n >= 1
    r = srv.get("/v1/me", member=m)
    assert r.status_code == 401
    assert_error_body(r, "unauthenticated")
    r = srv.request("PATCH", "/v1/me", member=m, json={"hobbies": "too late"})
    assert r.status_code == 401
    # A stale cookie does not stand in the way of signing up.
    v = srv.new_values()
    r = srv.post("/v1/members", json=dict(v, password="fresh sign-up pw"),
                 headers={"Cookie": f"{SESSION_COOKIE}={m.cookie}"})
    srv.remember(v)
    assert r.status_code == 201
    srv.member_ids.add(r.json()["id"])


def test_json_content_type_variants_are_accepted(srv, full_member):
    for ct in ("application/json", "application/json; charset=utf-8", "Application/JSON",
               "application/json;charset=UTF-8"):
        r = srv.post("/v1/members/search", role="staff", data=b'{"email":"%s"}' %
                     full_member.email.encode(), headers={"Content-Type": ct})
        assert r.status_code == 200, (ct, r.text)


def test_policy_reload_on_sighup(srv, full_member):
    """SIGHUP reloads the policy; a broken policy file is refused and the one in force
    stays; the server serves throughout."""
    import signal
    path = os.path.join(srv.data, "policy.json")
    with open(path, "rb") as f:
        good = f.read()
    try:
        srv.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "in force" in srv.stderr(), 5), "no reload reported"
        with open(path, "wb") as f:
            f.write(b'{"version": "broken", "fields": [')
        srv.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "not reloaded" in srv.stderr(), 5), "no refusal reported"
    finally:
        with open(path, "wb") as f:
            f.write(good)
    r = srv.get(f"/v1/members/{full_member.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200
    assert set(r.json()["fields"]) == {"name", "phone", "email"}
    assert srv.get("/readyz").status_code == 200


