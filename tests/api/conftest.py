"""
tests/api/conftest.py — one custodian server for the whole API suite.

The session fixture `srv`:
  - makes a temporary data directory (`custodian --data D init`),
  - lowers the Argon2id cost (opslimit 1, 8 KiB), sets [server] threads = 4 and lifts the
    public sign-up limit per address (test_throttle.py tests it on a server of its own),
  - issues one bearer token per role with the command line (plus one that is
    made to expire and one that is revoked, for the 401 cases); the subcontractor's
    is bound to a contract covering the whole policy,
  - starts `custodian serve` on a free loopback port with its stdout (the JSON
    access log) going to a file, waits for /readyz,
  - at the end stops it with SIGTERM and asserts a graceful exit (status 0
    within 10 s).

Run:  python3 -m pytest tests/api --custodian build/custodian
      (or CUSTODIAN_BIN=build/custodian)
"""
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("CU_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
POLICY_PATH = os.path.join(SOURCE, "policy", "default.json")

with open(POLICY_PATH, encoding="utf-8") as f:
    POLICY = json.load(f)

FIELDS = [f["name"] for f in POLICY["fields"]]
PURPOSES = {p["id"]: p for p in POLICY["purposes"]}
SERVICES = {s["id"]: s for s in POLICY["services"]}
ROLES = ["staff", "analyst", "service", "subcontractor", "officer", "admin"]
SESSION_COOKIE = "cu_session"
SUBCONTRACT = "api-test-contract"   # the suite's subcontractor token is bound to it

# Several servers on one store are a PostgreSQL setup: on SQLite one server owns the file.
collect_ignore = [] if os.environ.get("CU_TEST_STORE") == "pg" else ["test_many_servers.py"]


def pytest_addoption(parser):
    parser.addoption("--custodian", action="store", default=os.environ.get("CUSTODIAN_BIN"),
                     help="path to the custodian binary (or set CUSTODIAN_BIN)")


def pg_base_url():
    """The PostgreSQL database the suite runs on (CU_TEST_STORE=pg), or None for SQLite."""
    if os.environ.get("CU_TEST_STORE") != "pg":
        return None
    url = os.environ.get("CU_TEST_PG_URL")
    if not url:
        path = os.environ.get("CU_TEST_PG_URL_FILE")
        assert path, "CU_TEST_STORE=pg needs CU_TEST_PG_URL or CU_TEST_PG_URL_FILE"
        with open(path) as f:
            url = f.read().strip()
    return url


_pg_schemas = [0]


def pg_store_url():
    """A fresh schema of the test database for one data directory (docs/postgresql.md)."""
    base = pg_base_url()
    if not base:
        return None
    _pg_schemas[0] += 1
    schema = "api_%d_%d_%d" % (os.getpid(), _pg_schemas[0], int(time.time() * 1000) % 100000)
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-c",
                    "CREATE SCHEMA " + schema], check=True, capture_output=True, timeout=60)
    sep = "&" if "?" in base else "?"
    return base + sep + "options=-csearch_path%3D" + schema


def pg_sql(url, sql):
    """Runs sql on the PostgreSQL store at url (the tests' raw edits); psql's output."""
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    r = subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def set_conf(path, section, key, value):
    """Sets key in [section] of an INI file written by `custodian init`."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out, cur, done = [], None, False
    for line in lines:
        m = re.match(r"\s*\[(\w+)\]", line)
        if m:
            if cur == section and not done:
                out.append(f"{key} = {value}")
                done = True
            cur = m.group(1)
        elif cur == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            line = f"{key} = {value}"
            done = True
        out.append(line)
    if not done:
        if cur != section:
            out.append(f"[{section}]")
        out.append(f"{key} = {value}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


class NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The client never stores or replays cookies: every test says what it sends."""

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


class Member:
    def __init__(self, id, values, password=None):
        self.id = id
        self.values = values          # field -> the string the server should give back
        self.password = password
        self.cookie = None            # session secret
        self.csrf = None

    @property
    def email(self):
        return self.values["email"]


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.root = root
        self.data = os.path.join(root, "data")
        self.log_path = os.path.join(root, "access.log")
        self.err_path = os.path.join(root, "stderr.log")
        self.tokens = {}        # role -> secret
        self.token_names = {}   # role -> name (the audit's actor)
        self.bad_tokens = {}    # "expired" / "revoked" -> secret
        self.personal = set()   # every member-supplied value the suite has sent
        self.member_ids = set()
        self.proc = None
        self.port = None
        self.store = None       # the PostgreSQL url when CU_TEST_STORE=pg
        self.http = requests.Session()
        self.http.cookies.set_policy(NoCookies())
        self._seq = 0

    # ---- setup ----------------------------------------------------------

    def cli(self, *args):
        env = None
        store = None
        if args[:1] == ("init",):
            store = pg_store_url()
            if store:
                env = dict(os.environ, CUSTODIAN_CUSTODIAN_STORE=store)
        r = subprocess.run([self.binary, "--data", self.data, *args], capture_output=True,
                           text=True, timeout=120, env=env)
        if store and r.returncode == 0:
            self.store = store
            # Every later command and the server open the same store.
            set_conf(os.path.join(self.data, "custodian.conf"), "custodian", "store", store)
        return r

    def setup(self):
        r = self.cli("init")
        assert r.returncode == 0, r.stderr
        conf = os.path.join(self.data, "custodian.conf")
        set_conf(conf, "security", "argon2_opslimit", "1")
        set_conf(conf, "security", "argon2_memlimit_kib", "8")
        set_conf(conf, "server", "threads", "4")
        # The suite signs up ~70 members on the public form from one address; the
        # sign-up limit itself is tested on a server of its own (test_throttle.py).
        set_conf(conf, "security", "signups_per_hour", "1000000")
        # The suite's concurrency tests all come from 127.0.0.1; the per-address limit has a
        # server of its own (test_connections.py).
        set_conf(conf, "server", "connections_per_address", "0")
        # The subcontractor acts under a contract naming the whole policy, in force for
        # centuries: its reads are then the policy's (test_third_parties.py narrows contracts).
        r = self.cli("subcontractor", "add", "--id", SUBCONTRACT, "--name", "API test trustee",
                     "--contact", "security@trustee.example", "--fields", ",".join(FIELDS),
                     "--purposes", ",".join(PURPOSES), "--measure", "encryption at rest",
                     "--start", "2000-01-01", "--end", "2999-12-31")
        assert r.returncode == 0, r.stderr
        for role in ROLES:
            name = f"api-test {role}"
            extra = ("--contract", SUBCONTRACT) if role == "subcontractor" else ()
            self.tokens[role] = self.issue(role, name, *extra)
            self.token_names[role] = name
        # One token that expires: issued for tomorrow (the CLI refuses a past date),
        # then moved into the past in the store before the server starts.
        expiring = self.issue("staff", "api-test expired", "--expires",
                              time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400)))
        past = int((time.time() - 3600) * 1e6)
        if self.store:
            out = pg_sql(self.store, "UPDATE tokens SET expires_us = %d"
                         " WHERE name = 'api-test expired'" % past)
            assert out.strip().endswith("UPDATE 1"), out
        else:
            db = sqlite3.connect(os.path.join(self.data, "custodian.db"))
            with db:
                n = db.execute("UPDATE tokens SET expires_us = ? WHERE name = ?",
                               (past, "api-test expired")).rowcount
            db.close()
            assert n == 1
        self.bad_tokens["expired"] = expiring
        revoked = self.issue("officer", "api-test revoked")
        tid = next(line.split()[0] for line in self.cli("token", "list").stdout.splitlines()
                   if "api-test revoked" in line)
        r = self.cli("token", "revoke", tid)
        assert r.returncode == 0, r.stderr
        self.bad_tokens["revoked"] = revoked

    def issue(self, role, name, *extra):
        r = self.cli("token", "create", "--role", role, "--name", name, *extra)
        assert r.returncode == 0, r.stderr
        m = re.search(r"^secret: (cu_\S+)$", r.stdout, re.M)
        assert m, r.stdout
        return m.group(1)

    def start(self, env=None):
        """env: the server's whole environment (None: this process's)."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logf = open(self.log_path, "wb")
        self.errf = open(self.err_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--data", self.data, "serve", "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.logf, stderr=self.errf, stdin=subprocess.DEVNULL, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, "the server exited: " + self.stderr()
            try:
                if requests.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("the server did not become ready: " + self.stderr())

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.http.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self.logf.close()
            self.errf.close()

    def stderr(self, limit=4000):
        try:
            with open(self.err_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
                return text[-limit:] if limit else text
        except OSError:
            return ""

    def access_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="strict")

    # ---- requests -------------------------------------------------------

    def request(self, method, path, role=None, token=None, member=None, csrf=True,
                headers=None, **kw):
        """role: a token role; token: a raw Authorization value; member: a logged-in
        Member (cookie, and X-CSRF-Token on unsafe methods unless csrf=False)."""
        h = dict(headers or {})
        if role:
            h["Authorization"] = "Bearer " + self.tokens[role]
        if token is not None:
            h["Authorization"] = token
        if member is not None:
            h["Cookie"] = f"{SESSION_COOKIE}={member.cookie}"
            if csrf and method not in ("GET", "HEAD", "OPTIONS"):
                h["X-CSRF-Token"] = member.csrf
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        return self.http.request(method, self.base + path, headers=h, **kw)

    def raw(self, data, timeout=10):
        """Sends bytes as they are on a new connection; returns (status or None, headers
        with lower-case names, body).  For what an HTTP library would refuse to send."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        out = b""
        try:
            s.sendall(data)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (ConnectionResetError, BrokenPipeError):
            pass
        finally:
            s.close()
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ", lines[0]) if lines and lines[0] else None
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("content-length", "").isdigit():
            body = body[:int(headers["content-length"])]
        return (int(m.group(1)) if m else None), headers, body

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    # ---- members --------------------------------------------------------

    def unique(self, prefix):
        self._seq += 1
        return f"{prefix}{self._seq:04d}{os.getpid() % 1000:03d}"

    def new_values(self, survey=False, **over):
        """Values for a registration: distinctive strings, so a leak is found by search."""
        u = self.unique("")
        v = {
            "name": f"Hanako Leakcheck{u}",
            "address": f"{u} Chome Leakstreet, Chiyoda-ku, Tokyo",
            "email": f"member.{u}@leak-example.org",
        }
        v["phone"] = "+8190" + u[:8].rjust(8, "1")
        if survey:
            v.update({
                "date_of_birth": "1988-04-17",
                "age": "37",
                "occupation": f"occupation-{u}",
                "income": f"income-band-{u}",
                "newspapers_magazines": f"gazette-{u}, weekly-{u}",
                "products": f"product-{u}",
                "services": f"service-{u}",
                "hobbies": f"hobby-{u}, origami",
            })
        v.update(over)
        return {k: x for k, x in v.items() if x is not None}

    def remember(self, values):
        for k, x in values.items():
            if isinstance(x, str) and len(x) >= 6:
                self.personal.add(x)

    def register(self, values=None, role="service", password=None, expect=201, **kw):
        values = dict(values or self.new_values())
        self.remember(values)
        body = dict(values)
        if password is not None:
            body["password"] = password
        r = self.post("/v1/members", role=role, json=body, **kw)
        assert r.status_code == expect, (r.status_code, r.text)
        if r.status_code != 201:
            return None
        mid = r.json()["id"]
        self.member_ids.add(mid)
        return Member(mid, {k: str(x) for k, x in values.items()}, password)

    def login(self, member):
        r = self.post("/v1/session", json={"email": member.email, "password": member.password})
        assert r.status_code == 200, r.text
        member.cookie = r.cookies.get(SESSION_COOKIE) or cookie_from(r)
        member.csrf = r.json()["csrf"]
        return r

    def search(self, kind, value, role="service"):
        return self.post("/v1/members/search", role=role, json={kind: value})

    # ---- audit ----------------------------------------------------------

    def metrics(self):
        r = self.get("/metrics")
        assert r.status_code == 200
        return r.text

    def audit_head(self):
        m = re.search(r"^custodian_audit_head_seq (\d+)$", self.metrics(), re.M)
        assert m
        return int(m.group(1))

    def audit(self, **params):
        r = self.get("/v1/audit", role="officer", params=params)
        assert r.status_code == 200, r.text
        return r.json()["entries"]


def cookie_from(resp):
    sc = resp.headers.get("Set-Cookie", "")
    m = re.match(rf"{SESSION_COOKIE}=([^;]*)", sc)
    return m.group(1) if m else None


def assert_error_body(r, code=None):
    """The one error model: {"error": {"code": ..., "message": ...}}."""
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    if code is not None:
        assert err["code"] == code, body
    return err


def wait_for(pred, timeout=15.0, step=0.05):
    """Polls pred until it is true or timeout seconds pass, on a monotonic clock (a step of
    the wall clock must not end the wait early); returns pred's last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def assert_no_personal(srv, text, extra=()):
    """No value a member supplied (any member the suite registered) appears in text."""
    low = text.lower()
    for v in list(srv.personal) + list(extra):
        assert v.lower() not in low, f"personal value echoed: {v!r}"


def check_access_log(srv, text):
    """Every line is one JSON object with time, request_id, route, status, duration_ms;
    routes are templates; nothing a client typed (no query string, no id, no e-mail, no
    member-supplied value) appears.  Returns the number of lines."""
    lines = text.splitlines()
    assert text.endswith("\n") or not text
    for line in lines:
        o = json.loads(line)
        assert {"time", "request_id", "route", "status", "duration_ms"} <= set(o), line
        assert set(o) <= {"time", "request_id", "method", "route", "status", "duration_ms"}, line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["time"]), line
        assert re.fullmatch(r"[0-9a-f]{16}", o["request_id"]), line
        # 0: the request ended without a response of ours (libmicrohttpd refused a
        # malformed chunked body itself, or the client went away).
        assert isinstance(o["status"], int) and (100 <= o["status"] < 600 or o["status"] == 0), line
        assert isinstance(o["duration_ms"], (int, float)) and o["duration_ms"] >= 0, line
        assert o["route"] == "unmatched" or o["route"].startswith("/"), line
        assert "?" not in o["route"] and "=" not in line, line
        assert "@" not in line, line
    low = text.lower()
    for v in srv.personal:
        assert v.lower() not in low, f"personal value in the access log: {v!r}"
    for mid in srv.member_ids:
        assert mid not in text, "a member id in the access log"
    for secret in list(srv.tokens.values()) + list(srv.bad_tokens.values()):
        assert secret not in text
    return len(lines)


def publish_unnoised(s):
    """A test policy for exact figures: the shipped one with allow_unnoised (the tests ask
    noise=none, the cell-key method alone) and a budget of 2.0 (test_statistics.py,
    test_web_statistics.py)."""
    p = json.loads(json.dumps(POLICY))
    p["version"] = POLICY["version"] + "-unnoised"
    p["statistics"]["allow_unnoised"] = True
    p["statistics"]["epsilon_budget"] = 2.0
    path = os.path.join(s.root, "policy-unnoised.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(p, f)
    r = s.cli("policy", "publish", path)
    assert r.returncode == 0, r.stderr + r.stdout


@contextlib.contextmanager
def own_server(request, prefix, prepare=None, after_stop=None, setup=True):
    """A server in a temporary directory of its own, for as long as the with-block.

    setup: the suite's tokens and members (Server.setup), else a bare `init`.
    prepare(s) runs before the start (to change custodian.conf, say) and may return
    the environment to start with; after_stop(s) runs once the server stopped, before
    the directory goes.  The stop must be graceful, and the operator's log (stderr)
    hold no personal value and no member id.  CU_API_KEEP=1 keeps the directory."""
    binary = request.config.getoption("--custodian")
    if not binary:
        pytest.exit("pass --custodian PATH (or CUSTODIAN_BIN)", returncode=2)
    binary = os.path.abspath(binary)
    assert os.access(binary, os.X_OK), binary
    root = tempfile.mkdtemp(prefix=prefix)
    s = Server(binary, root)
    try:
        if setup:
            s.setup()
        else:
            r = s.cli("init")
            assert r.returncode == 0, r.stderr
        env = prepare(s) if prepare else None
        s.start(env=env)
        yield s
        status = s.stop()
        assert status == 0, f"no graceful stop (status {status}): {s.stderr()}"
        err = s.stderr(limit=None)
        assert_no_personal(s, err)
        for mid in s.member_ids:
            assert mid not in err, "a member id in the server's stderr"
        if after_stop:
            after_stop(s)
    finally:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        if os.environ.get("CU_API_KEEP"):
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


def _suite_server_stopped(s):
    assert "stopping" in s.stderr()
    check_access_log(s, s.access_log())


@pytest.fixture(scope="session")
def srv(request):
    with own_server(request, "cu-api-", after_stop=_suite_server_stopped) as s:
        yield s


@pytest.fixture(scope="session")
def full_member(srv):
    """A member with every policy field answered (the read matrix reads it)."""
    return srv.register(srv.new_values(survey=True))


@pytest.fixture(scope="session")
def portal_member(srv):
    """A member who signed up on the public form and is logged in."""
    m = srv.register(srv.new_values(survey=True), role=None, password="correct horse battery 1")
    srv.login(m)
    return m
