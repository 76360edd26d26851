"""
Faults: a full disk and a read-only disk under a running server.

A server of its own runs with the LD_PRELOAD shim tests/faults/fail_writes.c (built by CMake
as fail_writes.so next to the binary; ctest passes its path in CU_FAULT_SHIM): while the control
file exists, every write and sync to a file in the data directory fails with ENOSPC or EROFS.
The tests run as root, so a chmod'ed directory would not do; nothing is mounted.

While the fault lasts: writes and audited reads answer a clean 503 in the error shape, nothing
is half-written (the audit head does not move; what was refused is absent afterwards), and
/readyz says 503.  When it ends: /readyz says 200 again with no client write in between, and
writes succeed.
"""
import os
import time

import pytest

from conftest import own_server, assert_error_body, assert_no_personal, wait_for


def shim_path(binary):
    return os.environ.get("CU_FAULT_SHIM") or os.path.join(os.path.dirname(binary),
                                                           "fail_writes.so")


@pytest.fixture(scope="module")
def faulty(request):
    shim = shim_path(os.path.abspath(request.config.getoption("--custodian")))
    assert os.path.exists(shim), f"no fault shim at {shim}: build the fail_writes target"

    def prepare(s):
        s.control = os.path.join(s.root, "fault")
        return dict(os.environ, LD_PRELOAD=shim, CU_FAULT_DIR=os.path.realpath(s.data),
                    CU_FAULT_CONTROL=s.control,
                    # An ASan build's runtime must come first unless told otherwise.
                    ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")

    with own_server(request, "cu-faults-", prepare=prepare) as s:
        yield s


def ready(s):
    return s.get("/readyz", timeout=5).status_code == 200


def assert_readiness(s, want, timeout=10):
    """/readyz comes to say want (True: 200, False: 503) within timeout seconds: its probe
    runs once a second, so a second or two on a quiet machine.  A failure names every answer
    seen and when, measured from the first."""
    seen, start = [], time.monotonic()

    def answers():
        r = s.get("/readyz", timeout=5)
        seen.append((round(time.monotonic() - start, 2), r.status_code))
        return (r.status_code == 200) == want

    assert wait_for(answers, timeout, step=0.1), \
        f"/readyz did not come to say {'ready' if want else 'not ready'}: {seen}"


@pytest.mark.parametrize("kind", ["ENOSPC", "EROFS"])
def test_a_storage_fault_is_refused_cleanly_and_recovered_from(faulty, kind):
    s = faulty
    assert_readiness(s, True)
    before = s.register(s.new_values())
    head = s.audit_head()

    with open(s.control, "w") as f:
        f.write(kind)
    try:
        # /readyz tells the truth within its probe interval (1 s), with no client write.
        assert_readiness(s, False)
        r = s.get("/readyz")
        assert r.status_code == 503
        assert_error_body(r, "not_ready")

        # Writes and audited reads: a clean 503, the one error shape, no personal data.
        lost = s.new_values()
        s.remember(lost)
        r = s.post("/v1/members", role="service", json=lost)
        assert r.status_code == 503, r.text
        assert_error_body(r, "store_error")
        assert_no_personal(s, r.text)
        r = s.get(f"/v1/members/{before.id}", role="staff", params={"purpose": "support"})
        assert r.status_code == 503, r.text
        assert_error_body(r, "store_error")
        assert_no_personal(s, r.text)
        assert s.audit_head() == head, "an entry was committed while the disk failed"
        assert not ready(s)
    finally:
        os.unlink(s.control)

    # The fault ends: ready again without any client write in between.
    assert_readiness(s, True)
    assert s.audit_head() == head
    # Nothing of the refused registration was kept: it registers now, once.
    r = s.search("email", lost["email"])
    assert r.status_code == 404, r.text
    again = s.register(lost)
    r = s.get(f"/v1/members/{again.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200 and r.json()["fields"]["email"] == lost["email"]
    r = s.get("/v1/audit/verify", role="officer")
    assert r.status_code == 200 and r.json()["intact"] is True


def test_readyz_is_cheap(faulty):
    """Probes are rate-limited: a burst of /readyz commits at most a probe or two."""
    s = faulty
    assert_readiness(s, True)
    batches = lambda: int(next(line.split()[1] for line in s.metrics().splitlines()  # noqa: E731
                               if line.startswith("custodian_commit_batch_jobs_count ")))
    n, t = batches(), time.time()
    for _ in range(50):
        assert s.get("/readyz").status_code == 200
    assert batches() - n <= 2 + int(time.time() - t), "more than one probe a second"


def test_every_kind_of_write_is_refused_cleanly_on_a_full_disk(faulty):
    """One of each kind of write (and of audited read): a 503 in the error shape while the
    disk is full, nothing of any of them afterwards, and each works once the disk is back."""
    s = faulty
    assert_readiness(s, True)
    pw = "fault sweep password"
    m = s.register(s.new_values(survey=True), role=None, password=pw)
    s.login(m)
    other = s.new_values()
    s.remember(other)
    signup = s.new_values()
    s.remember(signup)
    calls = [
        ("register", lambda: s.post("/v1/members", role="service", json=other)),
        ("sign up", lambda: s.post("/v1/members", json=dict(signup, password=pw))),
        ("find", lambda: s.search("email", m.email)),
        ("read", lambda: s.get(f"/v1/members/{m.id}", role="staff",
                               params={"purpose": "support"})),
        ("log in", lambda: s.post("/v1/session", json={"email": m.email, "password": pw})),
        ("own data", lambda: s.get("/v1/me", member=m)),
        ("change own data", lambda: s.request("PATCH", "/v1/me", member=m,
                                              json={"hobbies": "fault-sweep-hobby"})),
        ("consent", lambda: s.request("PUT", "/v1/me/consents", member=m,
                                      json={"kind": "cookie", "target": "statistics",
                                            "granted": False})),
        ("request", lambda: s.post("/v1/requests", member=m, json={"type": "disclosure"})),
        ("complaint", lambda: s.post("/v1/complaints", member=m,
                                     json={"about": "use", "text": "fault-sweep complaint"})),
    ]
    head = s.audit_head()
    with open(s.control, "w") as f:
        f.write("ENOSPC")
    got = {}
    try:
        assert_readiness(s, False)
        for name, call in calls:
            r = call()
            got[name] = r.status_code
            if r.status_code == 503:
                assert_error_body(r)
                assert_no_personal(s, r.text)
        assert s.audit_head() == head
    finally:
        os.unlink(s.control)
    assert got == {name: 503 for name, _ in calls}, got
    assert_readiness(s, True)
    assert s.audit_head() == head
    # Nothing of them was kept, and each works now.
    assert s.search("email", other["email"]).status_code == 404
    assert s.search("email", signup["email"]).status_code == 404
    r = s.get("/v1/me", member=m)
    assert r.status_code == 200 and "fault-sweep-hobby" not in r.text
    expect = {"register": 201, "sign up": 201, "find": 200, "read": 200, "log in": 200,
              "own data": 200, "change own data": 200, "consent": 200, "request": 201,
              "complaint": 201}
    for name, call in calls:
        r = call()
        assert r.status_code == expect[name], (name, r.status_code, r.text[:200])
        if r.status_code == 201 and name in ("register", "sign up"):
            s.member_ids.add(r.json()["id"])
