"""
`custodian serve` at its edges (server/http/serve.c): an IPv6 address in brackets, a host
name too long to be an address, a port another server holds, an unreadable data directory,
and a policy reloaded by SIGHUP whose version was published before with other content.
Each refusal is one line on stderr and a non-zero exit (or, for the reload, the policy in
force staying as it was); nothing is listened on.
"""
import json
import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import free_port, own_server


def serve(binary, data, listen, timeout=30):
    return subprocess.run([binary, "--data", data, "serve", "--listen", listen],
                          capture_output=True, text=True, timeout=timeout)


def one_line(stderr):
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture(scope="module")
def data_dir(request, tmp_path_factory):
    binary = os.path.abspath(request.config.getoption("--custodian"))
    d = str(tmp_path_factory.mktemp("cu-serve-") / "data")
    r = subprocess.run([binary, "--data", d, "init"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return binary, d


def test_a_listen_value_too_long_is_a_configuration_error(data_dir):
    binary, d = data_dir
    r = serve(binary, d, "h" * 300 + ":8080")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "server.listen" in line and "longer than 127 bytes" in line


def test_a_host_name_is_not_an_address(data_dir):
    binary, d = data_dir
    r = serve(binary, d, "localhost:8080")
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert "cannot listen on 'localhost:8080': expected ADDRESS:PORT" in line


def test_a_bad_setting_in_the_environment_stops_serve_before_it_listens(data_dir):
    binary, d = data_dir
    port = free_port()
    r = subprocess.run([binary, "--data", d, "serve", "--listen", f"127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, CUSTODIAN_SERVER_THREADS="0"))
    assert r.returncode != 0
    assert "CUSTODIAN_SERVER_THREADS" in one_line(r.stderr)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_port_held_by_another_is_refused_by_name(data_dir):
    binary, d = data_dir
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        r = serve(binary, d, f"127.0.0.1:{port}")
    finally:
        holder.close()
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert f"cannot listen on '127.0.0.1:{port}'" in line


def test_a_data_directory_that_is_a_file_is_refused(data_dir, tmp_path):
    binary, _ = data_dir
    f = tmp_path / "not-a-directory"
    f.write_text("x")
    r = serve(binary, str(f), f"127.0.0.1:{free_port()}")
    assert r.returncode != 0
    one_line(r.stderr)


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this host")
def test_serves_on_an_ipv6_address_in_brackets(data_dir):
    binary, d = data_dir
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([binary, "--data", d, "serve", "--listen", f"[::1]:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ok = False
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read()
            try:
                ok = requests.get(f"http://[::1]:{port}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                pass
            if ok:
                break
            time.sleep(0.05)
        assert ok, "not ready on [::1]"
        # Not on IPv4: the address named is the one listened on.
        with pytest.raises(requests.RequestException):
            requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert f"on http://[::1]:{port}" in proc.stderr.read()


@pytest.fixture()
def reloading(request):
    with own_server(request, "cu-serve-reload-", setup=False) as s:
        yield s


def wait_for_stderr(s, text, timeout=10):
    end = time.time() + timeout
    while text not in s.stderr(limit=None):
        assert time.time() < end, f"timed out waiting for {text!r}: {s.stderr()}"
        time.sleep(0.05)


def test_a_reloaded_policy_with_a_published_version_but_other_content_is_refused(reloading):
    s = reloading
    path = os.path.join(s.data, "policy.json")
    with open(path, encoding="utf-8") as f:
        kept = f.read()
    before = s.get("/v1/policy")
    assert before.status_code == 200
    doc = json.loads(kept)
    doc["title"] = doc["title"] + " (edited without a new version)"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    try:
        s.proc.send_signal(signal.SIGHUP)
        wait_for_stderr(s, "policy not reloaded: its version was published before with other "
                           "content; give it a new version")
        after = s.get("/v1/policy")
        assert after.status_code == 200 and after.json() == before.json()
        versions = s.get("/v1/policy/versions").json()["versions"]
        assert [v["version"] for v in versions] == [doc["version"]]
        assert s.get("/readyz").status_code == 200
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.write(kept)
