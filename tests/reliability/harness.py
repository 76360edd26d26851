"""
tests/reliability/harness.py — what the reliability scripts share.

The scripts (crash.py, privacy.py, soak.py) are standalone: each takes the
custodian binary as its first argument, works in a temporary directory on
loopback only, stops by itself within its bounds, prints one summary line
and exits non-zero on any failure.  They reuse the API suite's Server
(tests/api/conftest.py: init with a cheap Argon2id, one token per role,
register/login helpers); this module adds what a restart needs: a timed
start that appends to the logs, kill -9, and the server's resident size.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))

import conftest  # noqa: E402  (tests/api/conftest.py: Server, set_conf, ...)

Server = conftest.Server
set_conf = conftest.set_conf
free_port = conftest.free_port

READY_POLL_S = 0.002   # how often a timed start asks /readyz
READY_LIMIT_S = 30     # give up waiting for /readyz after this long


class Failures:
    """Collects failed checks; a script prints them and exits 1 when any."""

    def __init__(self):
        self.items = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
            print("FAIL:", what, flush=True)
        return ok

    def __bool__(self):
        return bool(self.items)


class RelServer(Server):
    """A Server that can be killed and restarted on the same data directory."""

    def __init__(self, binary, root):
        super().__init__(binary, root)
        self.logf = self.errf = None

    def start(self):
        """Starts `custodian serve` on a fresh loopback port with stdout and stderr
        appended to the logs; returns the seconds from spawn to the first 200 from
        /readyz (what an orchestrator waits for)."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logf = open(self.log_path, "ab")
        self.errf = open(self.err_path, "ab")
        probe = requests.Session()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "--data", self.data, "serve", "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.logf, stderr=self.errf, stdin=subprocess.DEVNULL, cwd=self.root)
        try:
            while time.monotonic() - t0 < READY_LIMIT_S:
                if self.proc.poll() is not None:
                    raise AssertionError("the server exited: " + self.stderr())
                try:
                    if probe.get(self.base + "/readyz", timeout=1).status_code == 200:
                        return time.monotonic() - t0
                except requests.RequestException:
                    pass
                time.sleep(READY_POLL_S)
        finally:
            probe.close()
        raise AssertionError("the server did not become ready: " + self.stderr())

    def kill9(self):
        """SIGKILL, no warning: what a power cut or the OOM killer does."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._close_logs()

    def stop(self):
        status = super().stop()
        self._close_logs()
        return status

    def _close_logs(self):
        for f in (self.logf, self.errf):
            if f and not f.closed:
                f.close()

    def rss_kib(self):
        """The server's resident set size (VmRSS), in KiB."""
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for the server")

    def cli_popen(self, *args):
        """Starts a command-line run on the data directory without waiting for it."""
        return subprocess.Popen([self.binary, "--data", self.data, *args], cwd=self.root,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)

    def audit_verify(self):
        """`custodian audit verify`: (exit status, its output)."""
        r = self.cli("audit", "verify")
        return r.returncode, (r.stdout + r.stderr).strip()

    def clean_up(self, keep=False):
        """At the end, whatever happened: a server still running is killed, and its
        directory removed (or, with keep, named and left)."""
        if self.proc and self.proc.poll() is None:
            self.kill9()
        if keep:
            print("kept", self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def make_server(binary, prefix, conf=None):
    """A RelServer in a new temporary directory, set up (tokens for every role) but not
    started.  conf: {(section, key): value} written to custodian.conf after init."""
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"not an executable: {binary}")
    root = tempfile.mkdtemp(prefix=prefix)
    srv = RelServer(binary, root)
    srv.setup()
    for (section, key), value in (conf or {}).items():
        set_conf(os.path.join(srv.data, "custodian.conf"), section, key, value)
    return srv
