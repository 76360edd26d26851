"""
Connections: slow clients, too many connections, and requests libmicrohttpd could not hold.

A server of its own (the suite's `srv` lifts the per-address limit for its concurrency tests)
with small limits, so every case is bounded and quick: 8 connections per address, 32 in all,
2 s to deliver a whole request.  Slow clients send one header line (or one body byte) every
0.3 s: libmicrohttpd's idle timeout never fires for them; only the request deadline can.
Everything is on loopback; the "other addresses" are 127.0.0.2 and 127.0.1.x, which Linux
routes to lo without setup.
"""
import os
import re
import select
import socket
import time

import pytest
import requests

from conftest import own_server, assert_error_body, set_conf

PER_ADDRESS = 8
MAX_CONNECTIONS = 32
DEADLINE = 2          # request_timeout_seconds
DRIP = 0.3            # seconds between a slow client's lines
SLACK = 1.5           # the reaper's tick, scheduling on a busy machine


@pytest.fixture(scope="module")
def lim(request):
    def prepare(s):
        conf = os.path.join(s.data, "custodian.conf")
        set_conf(conf, "server", "threads", "2")
        set_conf(conf, "server", "connections_per_address", str(PER_ADDRESS))
        set_conf(conf, "server", "max_connections", str(MAX_CONNECTIONS))
        set_conf(conf, "server", "request_timeout_seconds", str(DEADLINE))

    with own_server(request, "cu-conn-", prepare=prepare, setup=False) as s:
        yield s


class Slow:
    """Slow clients: each sends a request line, then one more header line (or, with
    body=True, one more body byte) every DRIP seconds, and never finishes."""

    def __init__(self, port, sources, body=False):
        self.socks = {}          # socket -> time it was seen closed (None: open)
        self.opened = time.time()
        for src in sources:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            s.setblocking(False)
            head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            if body:
                head = (b"POST /v1/members/search HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            self.socks[s] = None
            self.send(s, head)
        self.body = body

    def send(self, s, data):
        try:
            s.send(data)
        except OSError:
            self.closed(s)

    def closed(self, s):
        if self.socks[s] is None:
            self.socks[s] = time.time()

    def alive(self):
        return sum(1 for t in self.socks.values() if t is None)

    def pump(self, seconds):
        """Drips for `seconds`, noting every connection the server closes."""
        end = time.time() + seconds
        while time.time() < end and self.alive():
            open_ = [s for s, t in self.socks.items() if t is None]
            readable, _, _ = select.select(open_, [], [], DRIP)
            for s in readable:
                try:
                    if not s.recv(4096):
                        self.closed(s)
                except OSError:
                    self.closed(s)
            for s in open_:
                if self.socks[s] is None:
                    self.send(s, b" " if self.body else b"X-Drip: 1\r\n")

    def close(self):
        for s in self.socks:
            s.close()


def served_in(base, timeout=10):
    t = time.time()
    r = requests.get(base + "/healthz", timeout=timeout)
    assert r.status_code == 200
    return time.time() - t


def deadline_missed(base):
    text = requests.get(base + "/metrics", timeout=5).text
    return int(re.search(r"^custodian_request_deadline_missed_total (\d+)$", text, re.M).group(1))


def test_one_address_cannot_hold_every_connection(lim):
    missed = deadline_missed(lim.base)
    slow = Slow(lim.port, ["127.0.0.2"] * 40)
    try:
        slow.pump(0.6)
        # Those over the limit were closed at once; the rest are held, dripping.
        assert 1 <= slow.alive() <= PER_ADDRESS, slow.alive()
        # A client from another address is served at once.
        took = served_in(lim.base)
        assert took < 1.0, f"a new client waited {took:.2f} s"
        # Those held are closed at the deadline, though they never stopped sending.
        held = slow.alive()
        slow.pump(DEADLINE + SLACK)
        assert slow.alive() == 0, f"{slow.alive()} slow connections outlived the deadline"
        last = max(slow.socks.values()) - slow.opened
        assert DEADLINE - 0.5 <= last <= DEADLINE + SLACK, last
    finally:
        slow.close()
    assert deadline_missed(lim.base) >= missed + held
    assert served_in(lim.base) < 1.0


def test_many_addresses_filling_the_server_are_dropped_at_the_deadline(lim):
    """Under the per-address limit but over the server's: the deadline frees the server."""
    sources = [f"127.0.1.{1 + i % 8}" for i in range(MAX_CONNECTIONS)]
    slow = Slow(lim.port, sources)
    try:
        slow.pump(0.5)
        assert slow.alive() == MAX_CONNECTIONS
        # The server is full: a new client waits in the backlog, and is served once the
        # deadline has closed the slow ones (before: never, while they keep dripping).
        t = time.time()
        took = served_in(lim.base, timeout=DEADLINE + 5)
        assert took <= DEADLINE + SLACK, took
        slow.pump(SLACK)
        assert slow.alive() == 0
        assert time.time() - t >= 0  # bounded: everything above has a timeout
    finally:
        slow.close()


def test_a_body_sent_slowly_is_cut_at_the_deadline(lim):
    slow = Slow(lim.port, ["127.0.0.3"] * 2, body=True)
    try:
        slow.pump(DEADLINE + SLACK)
        assert slow.alive() == 0
        last = max(slow.socks.values()) - slow.opened
        assert DEADLINE - 0.5 <= last <= DEADLINE + SLACK, last
    finally:
        slow.close()
    assert served_in(lim.base) < 1.0


def test_refused_connections_do_not_flood_the_log(lim):
    """libmicrohttpd logs every connection it refuses; the server prints at most 10 a second."""
    before = lim.stderr(limit=None).count("connection limit")
    t = time.time()
    socks = []
    try:
        for _ in range(150):
            c = socket.socket()
            c.bind(("127.0.0.4", 0))
            c.settimeout(2)
            c.connect(("127.0.0.1", lim.port))
            socks.append(c)
        time.sleep(0.3)
    finally:
        for c in socks:
            c.close()
    took = time.time() - t
    logged = lim.stderr(limit=None).count("connection limit") - before
    assert 1 <= logged <= 10 * (int(took) + 2), (logged, took)


def test_a_request_in_time_is_answered(lim):
    """The deadline bounds arrival, not work: a request sent whole is answered, and a
    kept-alive connection serves several."""
    s = requests.Session()
    for _ in range(3):
        r = s.get(lim.base + "/readyz", timeout=5)
        assert r.status_code == 200
    s.close()


# ---- many query parameters: a 4xx at once, not a 30 s hang (libmicrohttpd's pool) ----------

@pytest.mark.parametrize("n", [33, 465, 2000])
def test_many_query_parameters_answer_at_once(srv, full_member, n):
    head = srv.audit_head()
    query = "&".join(f"p{i}=1" for i in range(n - 1))
    t = time.time()
    r = srv.get(f"/v1/members/{full_member.id}?purpose=support&{query}", role="staff",
                timeout=10)
    took = time.time() - t
    assert r.status_code == 414, (r.status_code, r.text[:200])
    assert_error_body(r, "too_many_parameters")
    assert took < 1.0, f"{n} parameters: answered after {took:.2f} s"
    assert srv.audit_head() == head, "a refused read was audited"
    assert srv.get("/healthz").status_code == 200


def test_parameters_up_to_the_limit_reach_the_route(srv, full_member):
    query = "&".join(f"p{i}=1" for i in range(31))
    r = srv.get(f"/v1/members/{full_member.id}?purpose=support&{query}", role="staff")
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


# ---- framing: one Content-Length, or chunked alone ------------------------------------------

FRAMING = {
    "two different Content-Lengths": b"Content-Length: {N}\r\nContent-Length: 2\r\n",
    "the same Content-Length twice": b"Content-Length: {N}\r\nContent-Length: {N}\r\n",
    "Content-Length with chunked": b"Content-Length: {N}\r\nTransfer-Encoding: chunked\r\n",
    "chunked twice": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    "an encoding other than chunked": b"Transfer-Encoding: gzip, chunked\r\n",
}


def test_a_refused_body_is_not_read_as_a_request(srv):
    """The 400 closes the connection: a request hidden in the body is never answered."""
    hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    c = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    out = b""
    try:
        c.sendall(b"POST /v1/members/search HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                  b"Content-Length: 0\r\n\r\n" % len(hidden) + hidden)
        while True:       # until the server closes (a timeout here fails the test)
            b = c.recv(65536)
            if not b:
                break
            out += b
    except ConnectionResetError:
        pass
    finally:
        c.close()
    assert out.startswith(b"HTTP/1.1 400 "), out[:100]
    assert out.count(b"HTTP/1.1 ") == 1 and b'"status":"ok"' not in out, out


@pytest.mark.parametrize("name", list(FRAMING))
def test_conflicting_framing_is_refused(srv, name):
    v = srv.new_values()
    srv.remember(v)
    body = ('{"name":"%s","email":"%s","phone":"%s","address":"%s"}' % (
        v["name"], v["email"], v["phone"], v["address"])).encode()
    framing = FRAMING[name].replace(b"{N}", str(len(body)).encode())
    chunked = b"chunked" in framing
    payload = (b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n") if chunked else body
    head = srv.audit_head()
    status, headers, reply = srv.raw(
        b"POST /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
        srv.tokens["service"].encode() + b"\r\nContent-Type: application/json\r\n" + framing +
        b"Connection: close\r\n\r\n" + payload)
    assert status == 400, (status, reply[:200])
    assert reply.startswith(b'{"error":{"code":"invalid_framing"'), reply[:200]
    assert srv.audit_head() == head
    assert srv.search("email", v["email"]).status_code == 404
    assert srv.get("/healthz").status_code == 200
