"""SIGHUP re-reads custodian.conf: a setting the table marks reloadable
(session_ttl_minutes) takes effect for new requests; a file that does not load,
or changes a setting that is not reloadable, is refused in one line and the
settings in force stay (src/util/config.c, server/http/serve.c)."""
import os
import re
import signal
import time

import pytest

from conftest import own_server, set_conf


@pytest.fixture(scope="module")
def s(request):
    with own_server(request, "cu-reload-") as srv:
        yield srv


def wait_count(srv, text, n, timeout=5):
    deadline = time.time() + timeout
    while srv.stderr(limit=None).count(text) < n:
        assert time.time() < deadline, f"timed out waiting for {text!r}: {srv.stderr()}"
        time.sleep(0.02)


def session_seconds(srv, member):
    r = srv.post("/v1/session", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text
    m = re.search(r"Max-Age=(\d+)", r.headers["Set-Cookie"])
    return int(m.group(1))


def hup(srv):
    srv.proc.send_signal(signal.SIGHUP)


def test_reloadable_setting_takes_effect_and_bad_files_are_refused(s):
    conf = os.path.join(s.data, "custodian.conf")
    member = s.register(s.new_values(), role="service", password="reload test password")
    assert session_seconds(s, member) == 720 * 60      # the default

    # A reloadable setting changed: in force after SIGHUP, without a restart.
    set_conf(conf, "server", "session_ttl_minutes", "5")
    hup(s)
    wait_count(s, "settings reloaded: session_ttl_minutes = 5", 1)
    assert session_seconds(s, member) == 5 * 60

    # A file that does not validate: one line, the settings in force stay.
    set_conf(conf, "server", "session_ttl_minutes", "2")   # under the minimum, 5
    hup(s)
    wait_count(s, "settings not reloaded", 1)
    assert session_seconds(s, member) == 5 * 60

    # A setting that is not reloadable changed: refused whole, nothing of it applies.
    set_conf(conf, "server", "session_ttl_minutes", "60")
    set_conf(conf, "server", "threads", "3")
    hup(s)
    wait_count(s, "settings not reloaded: 'server.threads' changes only at a restart", 1)
    assert session_seconds(s, member) == 5 * 60

    # Back to a file whose only change is reloadable: applied.
    set_conf(conf, "server", "threads", "4")
    hup(s)
    wait_count(s, "settings reloaded: session_ttl_minutes = 60", 1)
    assert session_seconds(s, member) == 60 * 60
    assert s.get("/readyz").status_code == 200


def test_oversized_policy_is_refused_by_its_size(s):
    """A policy file past what a reader reads whole is named by its size, not 'cannot read'."""
    policy = os.path.join(s.data, "policy.json")
    with open(policy, "rb") as f:
        kept = f.read()
    try:
        with open(policy, "wb") as f:
            f.write(b" " * (4 * 1024 * 1024 + 1))
        hup(s)
        wait_count(s, "policy not reloaded: the file is over 4194304 bytes; at most 1048576", 1)
        assert s.get("/readyz").status_code == 200
    finally:
        with open(policy, "wb") as f:
            f.write(kept)
