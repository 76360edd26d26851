"""`custodian serve` under a service manager: the sd_notify messages systemd reads
(server/http/service.h).  The test plays systemd: it binds a unix datagram socket,
hands its path to the server in NOTIFY_SOCKET and reads what arrives.

  - READY=1 comes once, after the startup work: when it arrives /healthz and
    /readyz already answer 200, and no READY=1 came before the port answered;
  - SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again;
  - SIGTERM: STOPPING=1, then a graceful exit;
  - with WATCHDOG_USEC set, WATCHDOG=1 every half interval."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests
import yaml

from conftest import Server, free_port, set_conf


class Manager:
    """The listening end of NOTIFY_SOCKET: every datagram, parsed, in order."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path
        self.messages = []   # (time received, {KEY: value})

    def receive(self, timeout):
        """The next message, or None after timeout seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, key, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.receive(max(0.01, deadline - time.monotonic()))
            if m is not None and key in m:
                return m
        raise AssertionError(f"no {key} within {timeout} s; got {self.messages}")

    def close(self):
        self.sock.close()


@pytest.fixture
def served(request):
    """An initialised data directory, a manager socket, and a function that starts the server."""
    binary = os.path.abspath(request.config.getoption("--custodian"))
    root = tempfile.mkdtemp(prefix="cu-service-")
    s = Server(binary, root)
    r = s.cli("init")
    assert r.returncode == 0, r.stderr
    conf = os.path.join(s.data, "custodian.conf")
    set_conf(conf, "security", "argon2_opslimit", "1")
    set_conf(conf, "security", "argon2_memlimit_kib", "8")
    manager = Manager(os.path.join(root, "notify.sock"))
    procs = []

    def start(extra_env=None):
        s.port = free_port()
        s.base = f"http://127.0.0.1:{s.port}"
        env = dict(os.environ, NOTIFY_SOCKET=manager.path, **(extra_env or {}))
        err = open(os.path.join(root, "stderr.log"), "wb")
        proc = subprocess.Popen(
            [binary, "--data", s.data, "serve", "--quiet", "--listen", f"127.0.0.1:{s.port}"],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, env=env)
        err.close()
        procs.append(proc)
        s.proc = proc
        return proc

    yield s, manager, start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    manager.close()
    shutil.rmtree(root, ignore_errors=True)


def answers(base, path):
    try:
        return requests.get(base + path, timeout=2).status_code
    except requests.RequestException:
        return None


def test_ready_after_startup_reloading_on_hup_stopping_on_term(served):
    s, manager, start = served
    proc = start()

    # Wait for READY=1; the moment it is read, the server must already answer.
    ready = None
    deadline = time.monotonic() + 30
    while ready is None:
        assert time.monotonic() < deadline, f"no READY=1: {manager.messages}"
        assert proc.poll() is None, "the server exited before READY=1"
        m = manager.receive(0.02)
        if m is not None and m.get("READY") == "1":
            ready = time.monotonic()
            # The moment READY=1 is read, both probes answer.
            assert answers(s.base, "/healthz") == 200
            assert answers(s.base, "/readyz") == 200
            break
    statuses = [f["STATUS"] for _, f in manager.messages if "STATUS" in f]
    assert any(st.startswith("opening ") for st in statuses), statuses
    assert f"serving on http://127.0.0.1:{s.port}" in manager.messages[-1][1]["STATUS"]
    assert sum(1 for _, f in manager.messages if f.get("READY") == "1") == 1
    # Startup's messages come before READY=1, none after it (no second READY while idle).
    assert manager.receive(0.3) is None

    # SIGHUP: RELOADING=1 with the monotonic clock, then READY=1 once the reload is done.
    before_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    proc.send_signal(signal.SIGHUP)
    m = manager.wait_for("RELOADING")
    after_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert m["RELOADING"] == "1"
    assert before_us <= int(m["MONOTONIC_USEC"]) <= after_us
    m = manager.wait_for("READY")
    assert m["READY"] == "1" and m["STATUS"].startswith("serving on")
    assert answers(s.base, "/readyz") == 200

    # A refused reload: still READY=1 (the old settings serve), and the status says so.
    conf = os.path.join(s.data, "custodian.conf")
    set_conf(conf, "server", "threads", "0")
    proc.send_signal(signal.SIGHUP)
    manager.wait_for("RELOADING")
    m = manager.wait_for("READY")
    assert "the last reload was refused" in m["STATUS"], m
    set_conf(conf, "server", "threads", "4")
    proc.send_signal(signal.SIGHUP)
    manager.wait_for("RELOADING")
    m = manager.wait_for("READY")
    assert "refused" not in m["STATUS"], m

    # SIGTERM: STOPPING=1, then a graceful exit.
    proc.send_signal(signal.SIGTERM)
    m = manager.wait_for("STOPPING")
    assert m["STOPPING"] == "1"
    assert proc.wait(timeout=10) == 0


def test_watchdog_pings_when_asked(served):
    s, manager, start = served
    proc = start({"WATCHDOG_USEC": "200000"})   # 0.2 s: a ping every 0.1 s
    manager.wait_for("READY", timeout=30)
    t0 = time.monotonic()
    pings = 0
    while time.monotonic() - t0 < 1.0:
        m = manager.receive(0.2)
        if m is not None and m.get("WATCHDOG") == "1":
            pings += 1
    assert pings >= 5, manager.messages
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_no_watchdog_pings_unless_asked(served):
    s, manager, start = served
    proc = start()
    manager.wait_for("READY", timeout=30)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5:
        m = manager.receive(0.1)
        assert m is None or "WATCHDOG" not in m, manager.messages
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_watchdog_for_another_process_is_ignored(served):
    """WATCHDOG_PID names who the manager watches; another process's interval is not ours."""
    s, manager, start = served
    proc = start({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    manager.wait_for("READY", timeout=30)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5:
        m = manager.receive(0.1)
        assert m is None or "WATCHDOG" not in m, manager.messages
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


# ---- configuration from the environment and flags (src/util/config.h) ----------------------

def serve_once(s, *args, env=None):
    """`custodian serve ARGS` expected to refuse to start: (status, stderr)."""
    r = subprocess.run([s.binary, "--data", s.data, "serve", *args], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, **(env or {})))
    return r.returncode, r.stderr


@pytest.mark.parametrize("args, env, names", [
    (["--server.threads", "0"], {}, ["flag --server.threads", "out of range 1..64"]),
    (["--server.threads", "many"], {}, ["flag --server.threads", "non-negative integer"]),
    ([], {"CUSTODIAN_SERVER_THREADS": "0"},
     ["environment variable CUSTODIAN_SERVER_THREADS", "'server.threads'"]),
    ([], {"CUSTODIAN_NOTIFY_SMTP_URL": "http://user:hunter2@mail"},
     ["environment variable CUSTODIAN_NOTIFY_SMTP_URL", "'notify.smtp_url'"]),
    (["--notify.mode", "pigeon"], {}, ["flag --notify.mode", "expected files, smtp or off"]),
    (["--server.nope", "1"], {}, ["unexpected argument '--server.nope'"]),
    (["--server.threads"], {}, ["'--server.threads' needs a value"]),
    # A flag beats a bad environment value only by coming later; the bad value is still refused.
    (["--server.threads", "4"], {"CUSTODIAN_SERVER_THREADS": "-1"},
     ["environment variable CUSTODIAN_SERVER_THREADS"]),
])
def test_bad_values_from_any_source_exit_2_naming_it(served, args, env, names):
    s, _, _ = served
    status, err = serve_once(s, "--listen", f"127.0.0.1:{free_port()}", *args, env=env)
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("custodian: "), err
    for n in names:
        assert n in err, err
    assert "hunter2" not in err and "pigeon" not in err


def test_bad_file_value_exits_2_naming_the_file(served):
    s, _, _ = served
    set_conf(os.path.join(s.data, "custodian.conf"), "server", "threads", "65")
    status, err = serve_once(s)
    assert status == 2 and "custodian.conf: key 'server.threads': out of range" in err, err
    # ... and the environment cannot mend a bad file: each source is checked.
    status, err = serve_once(s, env={"CUSTODIAN_SERVER_THREADS": "4"})
    assert status == 2 and "custodian.conf" in err, err


def wait_listening(proc, base, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        if answers(base, "/healthz") == 200:
            return
        time.sleep(0.05)
    raise AssertionError("not listening at " + base)


def test_listen_from_environment_and_flag_over_it(served):
    """The address comes from CUSTODIAN_SERVER_LISTEN when no flag gives it; a flag wins."""
    s, manager, _ = served
    conf = os.path.join(s.data, "custodian.conf")
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    set_conf(conf, "server", "listen", f"127.0.0.1:{file_port}")
    env = dict(os.environ, CUSTODIAN_SERVER_LISTEN=f"127.0.0.1:{env_port}",
               CUSTODIAN_SERVER_THREADS="3")
    err_path = os.path.join(s.root, "env.log")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([s.binary, "--data", s.data, "serve", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        wait_listening(proc, f"http://127.0.0.1:{env_port}")
        assert answers(f"http://127.0.0.1:{file_port}", "/healthz") is None
        # SIGHUP: the file (threads = 4 there) is read anew under the same environment, so the
        # environment's threads = 3 still stands and nothing "changes only at a restart".
        set_conf(conf, "server", "session_ttl_minutes", "30")
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "session_ttl_minutes = 30" not in open(err_path).read():
            assert time.monotonic() < deadline, open(err_path).read()
            time.sleep(0.05)
        assert "not reloaded" not in open(err_path).read()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([s.binary, "--data", s.data, "serve", "--quiet",
                                 "--server.listen", f"127.0.0.1:{flag_port}"],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        wait_listening(proc, f"http://127.0.0.1:{flag_port}")
        assert answers(f"http://127.0.0.1:{env_port}", "/healthz") is None
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


# ---- packaging/alerts.yml: every metric it uses is one the server exports -------------------

def test_alert_rules_use_only_exported_metrics(served):
    s, manager, start = served
    proc = start()
    manager.wait_for("READY", timeout=30)
    # One request on each route the rules name, so that its label shows.
    assert answers(s.base, "/readyz") == 200
    r = requests.post(s.base + "/v1/session", json={"email": "nobody@example.org",
                                                    "password": "not the password"}, timeout=10)
    assert r.status_code == 401, r.text
    # A request is counted when it completes, which may be just after its client has the
    # answer: read /metrics until both routes show (a few tries), not once.
    for _ in range(50):
        text = requests.get(s.base + "/metrics", timeout=5).text
        routes = set(re.findall(r'route="([^"]*)"', text))
        if {"/readyz", "/v1/session"} <= routes:
            break
        time.sleep(0.1)
    exported = set(re.findall(r"^(custodian_\w+)", text, re.M))
    assert "custodian_http_requests_total" in exported, text[:500]
    source = os.environ.get("CU_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(source, "packaging", "alerts.yml"), encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    used, used_routes, names = set(), set(), []
    for group in rules["groups"]:
        for rule in group["rules"]:
            names.append(rule["alert"])
            assert rule["expr"].strip(), rule
            assert rule["annotations"]["summary"] and rule["annotations"]["action"], rule
            assert rule["labels"]["severity"] in ("page", "ticket"), rule
            used |= set(re.findall(r"\bcustodian_\w+", rule["expr"]))
            used_routes |= set(re.findall(r'route!?="([^"]*)"', rule["expr"]))
    assert len(names) == len(set(names)) >= 8, names
    assert used, "no custodian metric in the rules"
    unknown = used - exported
    assert not unknown, f"alerts.yml uses metrics /metrics does not export: {unknown}"
    assert used_routes and not used_routes - routes, \
        f"alerts.yml names routes /metrics does not label: {used_routes - routes}"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
