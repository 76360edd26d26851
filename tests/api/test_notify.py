"""
Notifications end to end.

  - The member sees their notices (GET /v1/me/notices) and marks one read (CSRF applies);
    the officer sees the outbox (counts and rows, never an address).
  - The suite's server runs in files mode: its notifier writes DATA/outbox/ID.eml addressed
    to ID@members.invalid, with no personal value in it.
  - SMTP down, then up (a data directory of its own, driven by the command line): the first
    pass fails and loses nothing; once a local SMTP sink (aiosmtpd, on loopback) listens,
    each message arrives exactly once, counted by Message-ID; a further pass sends nothing.
  - A server's notifier delivers to the sink on its own, and stops promptly on SIGTERM even
    while an SMTP server keeps it waiting.
"""
import collections
import email
import email.policy
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest
import requests
from aiosmtpd.controller import Controller

from conftest import assert_error_body, assert_no_personal, free_port, set_conf, wait_for


# ---- a local SMTP sink ----------------------------------------------------------------------

class Sink:
    """An SMTP server on loopback that keeps every message and counts them by Message-ID."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.messages = []                       # (envelope recipients, parsed message)
        self.by_id = collections.Counter()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), msg))
            self.by_id[msg["Message-ID"]] += 1
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def count(self):
        with self.lock:
            return len(self.messages)


# ---- the suite's server: notices, the outbox, files mode -------------------------------------

def queue_test_notice(srv, member):
    r = srv.cli("notify", "test", "--member", member.id)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"queued a test notice for member {member.id}"


def test_member_sees_and_reads_notices(srv, portal_member):
    queue_test_notice(srv, portal_member)
    r = srv.get("/v1/me/notices", member=portal_member)
    assert r.status_code == 200, r.text
    notices = r.json()["notices"]
    assert notices, r.text
    n = notices[0]
    assert set(n) == {"id", "kind", "subject", "body", "created", "read"}
    assert n["kind"] == "test" and n["read"] is None
    assert n["subject"] == "Test notice from Custodian"
    assert_no_personal(srv, r.text)

    # A change by cookie needs the CSRF token.
    r = srv.post(f"/v1/me/notices/{n['id']}/read", member=portal_member, csrf=False)
    assert r.status_code == 403
    assert_error_body(r, "csrf_required")
    r = srv.post(f"/v1/me/notices/{n['id']}/read", member=portal_member)
    assert r.status_code == 200, r.text
    read = r.json()
    assert read["id"] == n["id"] and read["read"]
    # The first reading counts.
    again = srv.post(f"/v1/me/notices/{n['id']}/read", member=portal_member)
    assert again.status_code == 200 and again.json()["read"] == read["read"]
    listed = srv.get("/v1/me/notices", member=portal_member, params={"limit": 200}).json()
    assert next(x for x in listed["notices"] if x["id"] == n["id"])["read"] == read["read"]


def test_notices_are_the_members_own(srv, portal_member):
    other = srv.register(srv.new_values(), role=None, password="another member's password")
    srv.login(other)
    queue_test_notice(srv, portal_member)
    mine = srv.get("/v1/me/notices", member=portal_member).json()["notices"][0]["id"]
    assert srv.get("/v1/me/notices", member=other).json() == {"notices": []}
    r = srv.post(f"/v1/me/notices/{mine}/read", member=other)
    assert r.status_code == 404
    assert_error_body(r, "not_found")
    for bad in ("AAAAAAAAAAAAAAAAAAAAAA", "x" * 40, "..", "%2e%2e"):
        r = srv.post(f"/v1/me/notices/{bad}/read", member=portal_member)
        assert r.status_code == 404, (bad, r.text)
        assert_error_body(r)


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "x"},
                                    {"since": "1"}])
def test_notices_bad_params(srv, portal_member, params):
    r = srv.get("/v1/me/notices", member=portal_member, params=params)
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


def outbox_rows(srv, **params):
    r = srv.get("/v1/notify/outbox", role="officer", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_files_mode_and_the_officers_outbox(srv, portal_member):
    queue_test_notice(srv, portal_member)
    newest = outbox_rows(srv, limit=1)["rows"][0]
    assert newest["member"] == portal_member.id and newest["kind"] == "test"
    # The server's own notifier delivers it (files mode: the default), within a few polls.
    assert wait_for(lambda: outbox_rows(srv, limit=1000)["counts"]["pending"] == 0), \
        outbox_rows(srv, status="pending")
    body = outbox_rows(srv, status="sent", limit=1000)
    row = next(x for x in body["rows"] if x["id"] == newest["id"])
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent"]
    assert row["next_attempt"] is None and row["last_error"] == ""
    assert set(body["counts"]) == {"pending", "sent", "failed", "dropped"}
    assert all(x["status"] == "sent" for x in body["rows"])
    assert set(row) == {"id", "member", "kind", "status", "attempts", "created", "next_attempt",
                        "sent", "last_error"}
    # Rows name members by id: no address, no value.
    text = srv.get("/v1/notify/outbox", role="officer", params={"limit": 1000}).text
    assert "@" not in text
    assert_no_personal(srv, text)

    path = os.path.join(srv.data, "outbox", newest["id"] + ".eml")
    assert os.stat(path).st_mode & 0o777 == 0o600
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == f"{portal_member.id}@members.invalid"
    assert msg["Message-ID"] == f"<{newest['id']}@custodian>"
    assert msg["Subject"] == "Test notice from Custodian"
    assert b"\r\n" in raw
    assert_no_personal(srv, raw.decode("utf-8"))
    # Development mode writes only to the data directory, readable by its owner alone.
    assert os.stat(os.path.join(srv.data, "outbox")).st_mode & 0o777 == 0o700


@pytest.mark.parametrize("params", [{"status": "lost"}, {"status": ""}, {"limit": "0"},
                                    {"limit": "1001"}, {"member": "x"}])
def test_outbox_bad_params(srv, params):
    r = srv.get("/v1/notify/outbox", role="officer", params=params)
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


def test_cli_notify_refusals(srv):
    r = srv.cli("notify", "test", "--member", "AAAAAAAAAAAAAAAAAAAAAA")
    assert r.returncode == 1 and r.stderr.startswith("custodian: no member")
    r = srv.cli("notify", "test")
    assert r.returncode == 2
    r = srv.cli("notify", "deliver", "--max", "0")
    assert r.returncode == 2
    for cmd in (("notify", "deliver", "--help"), ("notify", "test", "--help")):
        r = srv.cli(*cmd)
        assert r.returncode == 0 and "custodian notify" in r.stdout


# ---- SMTP: down, then up ----------------------------------------------------------------------

class Dir:
    """A data directory of its own, configured for SMTP delivery to 127.0.0.1:port."""

    def __init__(self, binary, root, port, interval_ms=1000):
        self.binary = binary
        self.data = os.path.join(root, "data")
        self.port = port
        r = self.cli("init")
        assert r.returncode == 0, r.stderr
        conf = os.path.join(self.data, "custodian.conf")
        set_conf(conf, "security", "argon2_opslimit", "1")
        set_conf(conf, "security", "argon2_memlimit_kib", "8")
        set_conf(conf, "notify", "mode", "smtp")
        set_conf(conf, "notify", "smtp_url", f"smtp://127.0.0.1:{port}")
        set_conf(conf, "notify", "from", "privacy@custodian.example")
        set_conf(conf, "notify", "interval_ms", str(interval_ms))
        self.members = {}       # id -> e-mail address

    def cli(self, *args):
        return subprocess.run([self.binary, "--data", self.data, *args], capture_output=True,
                              text=True, timeout=120)

    def add_members(self, n):
        tag = f"{os.getpid()}{int(time.time() * 1000) % 100000}"
        rows = ["name,address,phone,email"]
        emails = []
        for i in range(n):
            e = f"smtp.sink{i}.{tag}@leak-example.org"
            emails.append(e)
            rows.append(f"Sinkperson Leakcheck{i},{i} Chome Sinkstreet,+8190{i:04d}{tag[-4:]},{e}")
        path = os.path.join(os.path.dirname(self.data), "members.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
        r = self.cli("import", path)
        assert r.returncode == 0, r.stderr
        ids = []
        for e in emails:
            r = self.cli("member", "find", "--email", e)
            assert r.returncode == 0, r.stderr
            self.members[r.stdout.strip()] = e
            ids.append(r.stdout.strip())
        return ids

    def db(self):
        return sqlite3.connect(f"file:{os.path.join(self.data, 'custodian.db')}?mode=ro", uri=True)

    def outbox(self):
        db = self.db()
        try:
            return {row[0]: {"member": row[1], "status": row[2], "attempts": row[3],
                             "last_error": row[4]}
                    for row in db.execute("SELECT id, member, status, attempts, last_error "
                                          "FROM outbox")}
        finally:
            db.close()

    def notifier_reads(self):
        db = self.db()
        try:
            return db.execute("SELECT count(*) FROM audit WHERE actor = 'notifier' AND "
                              "action = 'read' AND fields = 'email'").fetchone()[0]
        finally:
            db.close()

    def leaked(self):
        """Addresses found in any file of the data directory, in plaintext."""
        found = set()
        for dirpath, _, files in os.walk(self.data):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    blob = f.read().lower()
                found |= {e for e in self.members.values() if e.lower().encode() in blob}
        return found


@pytest.fixture
def binary(request):
    b = request.config.getoption("--custodian")
    if not b:
        pytest.exit("pass --custodian PATH (or CUSTODIAN_BIN)", returncode=2)
    return os.path.abspath(b)


@pytest.fixture
def root():
    d = tempfile.mkdtemp(prefix="cu-notify-")
    yield d
    if os.environ.get("CU_API_KEEP"):
        print("kept", d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def test_smtp_down_then_up_nothing_lost_nothing_twice(binary, root):
    port = free_port()                  # nothing listens there yet: SMTP is down
    d = Dir(binary, root, port)
    ids = d.add_members(3)
    for mid in ids:
        r = d.cli("notify", "test", "--member", mid)
        assert r.returncode == 0, r.stderr

    r = d.cli("notify", "deliver")
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == "sent 0, failed 3, pending 3"
    rows = d.outbox()
    assert len(rows) == 3
    assert {x["member"] for x in rows.values()} == set(ids)
    assert all(x["status"] == "pending" and x["attempts"] == 1 and
               x["last_error"] == "connect_failed" for x in rows.values()), rows
    # Backing off: not due again yet.
    r = d.cli("notify", "deliver")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "sent 0, failed 0, pending 3"

    sink = Sink(port)
    sink.start()
    try:
        # The operator, knowing the outage is over, does not wait for the schedule.
        r = d.cli("notify", "deliver", "--ignore-backoff")
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.splitlines()[0] == "sent 3, failed 0, pending 0"
        assert sink.count() == 3
        want_ids = {f"<{oid}@custodian>" for oid in rows}
        assert set(sink.by_id) == want_ids
        assert all(n == 1 for n in sink.by_id.values()), sink.by_id
        for rcpts, msg in sink.messages:
            oid = msg["Message-ID"][1:-len("@custodian>")]
            address = d.members[rows[oid]["member"]]
            assert rcpts == [address]
            assert msg["To"] == address
            assert msg["From"] == "privacy@custodian.example"
            assert msg["Subject"] == "Test notice from Custodian"
            assert msg["Date"] and msg["Auto-Submitted"] == "auto-generated"
            assert "test notice" in msg.get_content()
        assert all(x["status"] == "sent" and x["attempts"] == 2 and x["last_error"] == ""
                   for x in d.outbox().values())

        # Nothing is sent twice, with or without the override.
        for args in ((), ("--ignore-backoff",)):
            r = d.cli("notify", "deliver", *args)
            assert r.returncode == 0 and r.stdout.splitlines()[0] == "sent 0, failed 0, pending 0"
        assert sink.count() == 3
    finally:
        sink.stop()

    # Every resolution of an address went through the door and is in the audit chain:
    # three in the failed pass, three in the good one.
    assert d.notifier_reads() == 6
    r = d.cli("audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    # The addresses were read, sent, and never written down.
    assert d.leaked() == set()


def start_server(d):
    port = free_port()
    errf = open(os.path.join(os.path.dirname(d.data), "serve.err"), "wb")
    proc = subprocess.Popen([d.binary, "--data", d.data, "serve", "--quiet", "--listen",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=errf,
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def ready():
        assert proc.poll() is None, "the server exited"
        try:
            return requests.get(base + "/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
    assert wait_for(ready, timeout=30)
    return proc, errf


def stop_server(proc, errf, within):
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    try:
        status = proc.wait(timeout=within + 5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()
    return status, time.time() - t0


def test_the_servers_notifier_delivers_on_its_own(binary, root):
    port = free_port()
    d = Dir(binary, root, port, interval_ms=100)
    (mid,) = d.add_members(1)
    sink = Sink(port)
    sink.start()
    proc, errf = start_server(d)
    try:
        r = d.cli("notify", "test", "--member", mid)
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: sink.count() == 1), "the notifier sent nothing"
        assert wait_for(lambda: all(x["status"] == "sent" for x in d.outbox().values()))
        time.sleep(0.5)               # a few more polls: still one message
        assert sink.count() == 1
        (rcpts, msg), = sink.messages
        assert rcpts == [d.members[mid]]
        assert sink.by_id[msg["Message-ID"]] == 1
    finally:
        status, took = stop_server(proc, errf, within=10)
        sink.stop()
    assert status == 0
    with open(os.path.join(root, "serve.err"), encoding="utf-8") as f:
        log = f.read()
    assert mid not in log and d.members[mid] not in log
    assert d.leaked() == set()


def test_the_notifier_stops_promptly_while_smtp_stalls(binary, root):
    # A server that accepts connections and never says a word: a send waits for its greeting.
    stall = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stall.bind(("127.0.0.1", 0))
    stall.listen(8)
    d = Dir(binary, root, stall.getsockname()[1], interval_ms=50)
    (mid,) = d.add_members(1)
    proc, errf = start_server(d)
    try:
        r = d.cli("notify", "test", "--member", mid)
        assert r.returncode == 0, r.stderr
        # The notifier has claimed it and is waiting on the silent server.
        assert wait_for(lambda: d.notifier_reads() == 1)
        time.sleep(0.3)
    finally:
        status, took = stop_server(proc, errf, within=10)
        stall.close()
    assert status == 0
    assert took < 5, f"stopping took {took:.1f} s"
    # Abandoned, not failed: still pending, the attempt not counted, due again.
    (row,) = d.outbox().values()
    assert row["status"] == "pending" and row["attempts"] == 0, row
    db = d.db()
    try:
        assert db.execute("SELECT claimed_until_us FROM outbox").fetchone()[0] == 0
    finally:
        db.close()
