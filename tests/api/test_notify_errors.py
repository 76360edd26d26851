"""
SMTP error mappings of the notifier (src/domain/notify.c, notify.h), as the officer sees them through
`custodian notify deliver` and the outbox:

  - a 4xx reply (temporary) at RCPT or at the end of DATA: the attempt counts, last_error
    names the reply ("smtp_450"), the row stays pending and is not due again before its
    back-off (30 s x 2^(attempts - 1)); after notify.max_attempts it is marked failed;
  - a 5xx reply (permanent): the same path, as notify.h documents it — each attempt counts,
    last_error names the reply, failed after max_attempts;
  - connection refused: "connect_failed" (also in test_notify.py);
  - every line of output and every outbox row free of the member's address.
"""
import os
import time

import pytest

from conftest import free_port, set_conf
from test_notify import Dir, Sink, binary, root  # noqa: F401 (fixtures)

MAX_ATTEMPTS = 3
BACKOFF_1_S = 30


class RefusingSink(Sink):
    """A sink that answers `reply` at RCPT TO (phase "rcpt") or after DATA (phase "data")."""

    def __init__(self, port, phase, reply):
        super().__init__(port)
        self.phase = phase
        self.reply = reply
        self.refused = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.phase == "rcpt":
            self.refused += 1
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.phase == "data":
            self.refused += 1
            return self.reply
        return await super().handle_DATA(server, session, envelope)


def outbox_times(d):
    db = d.db()
    try:
        return {row[0]: row[1] for row in db.execute("SELECT id, next_attempt_us FROM outbox")}
    finally:
        db.close()


def deliver(d, *args):
    r = d.cli("notify", "deliver", *args)
    assert not r.stderr, r.stderr
    return r.returncode, r.stdout.splitlines()


def no_address_in(d, text):
    for e in d.members.values():
        assert e.lower() not in text.lower(), "a member's address in the output"


@pytest.mark.parametrize("phase,reply,code", [
    ("rcpt", "450 4.2.1 Mailbox busy, try again later", "smtp_450"),
    ("data", "451 4.3.0 Local error in processing", "smtp_451"),
    ("rcpt", "550 5.1.1 No such user here", "smtp_550"),
    ("data", "554 5.7.1 Message refused", "smtp_554"),
])
def test_smtp_reply_is_retried_with_backoff_then_given_up(binary, root, phase, reply, code):
    port = free_port()
    d = Dir(binary, root, port)
    set_conf(os.path.join(d.data, "custodian.conf"), "notify", "max_attempts", str(MAX_ATTEMPTS))
    (mid,) = d.add_members(1)
    r = d.cli("notify", "test", "--member", mid)
    assert r.returncode == 0, r.stderr

    sink = RefusingSink(port, phase, reply)
    sink.start()
    try:
        # The first attempt: refused, counted, named, still pending, backing off.
        before = time.time()
        rc, out = deliver(d)
        assert rc == 1 and out == ["sent 0, failed 1, pending 1"], out
        assert sink.refused == 1 and sink.count() == 0
        (oid, row), = d.outbox().items()
        assert row == {"member": mid, "status": "pending", "attempts": 1, "last_error": code}
        due = outbox_times(d)[oid] / 1e6
        assert before + BACKOFF_1_S - 1 <= due <= time.time() + BACKOFF_1_S + 1, due - before

        # Not due again before its back-off: nothing is tried, nothing counted.
        rc, out = deliver(d)
        assert rc == 0 and out == ["sent 0, failed 0, pending 1"], out
        assert sink.refused == 1
        assert d.outbox()[oid]["attempts"] == 1

        # The operator retries now; the second back-off is twice the first.
        before = time.time()
        rc, out = deliver(d, "--ignore-backoff")
        assert rc == 1 and out == ["sent 0, failed 1, pending 1"], out
        assert d.outbox()[oid] == {"member": mid, "status": "pending", "attempts": 2,
                                   "last_error": code}
        due = outbox_times(d)[oid] / 1e6
        assert before + 2 * BACKOFF_1_S - 1 <= due <= time.time() + 2 * BACKOFF_1_S + 1

        # The last attempt: given up, status failed, no longer pending.
        rc, out = deliver(d, "--ignore-backoff")
        assert rc == 1, out
        assert out == ["sent 0, failed 1, pending 0",
                       f"gave up on 1 after {MAX_ATTEMPTS} attempts (status failed)"], out
        assert d.outbox()[oid] == {"member": mid, "status": "failed",
                                   "attempts": MAX_ATTEMPTS, "last_error": code}
        assert sink.refused == MAX_ATTEMPTS

        # A failed row is never tried again, with or without the override.
        for args in ((), ("--ignore-backoff",)):
            rc, out = deliver(d, *args)
            assert rc == 0 and out == ["sent 0, failed 0, pending 0"], out
        assert sink.refused == MAX_ATTEMPTS and sink.count() == 0
    finally:
        sink.stop()
    no_address_in(d, "\n".join(str(v) for v in d.outbox().values()))
    assert not d.leaked()
    r = d.cli("audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr


def test_temporary_refusal_then_accepted(binary, root):
    """A 4xx for one attempt, then the server takes it: sent once, the error cleared."""
    port = free_port()
    d = Dir(binary, root, port)
    (mid,) = d.add_members(1)
    assert d.cli("notify", "test", "--member", mid).returncode == 0
    sink = RefusingSink(port, "rcpt", "452 4.2.2 Mailbox full")
    sink.start()
    try:
        rc, out = deliver(d)
        assert rc == 1 and out == ["sent 0, failed 1, pending 1"], out
        (oid, row), = d.outbox().items()
        assert row["status"] == "pending" and row["last_error"] == "smtp_452", row
        sink.phase = None
        rc, out = deliver(d, "--ignore-backoff")
        assert rc == 0 and out == ["sent 1, failed 0, pending 0"], out
        assert d.outbox()[oid] == {"member": mid, "status": "sent", "attempts": 2,
                                   "last_error": ""}
        assert sink.count() == 1
    finally:
        sink.stop()


def test_connection_refused_is_retried_then_given_up(binary, root):
    port = free_port()          # nothing listens there
    d = Dir(binary, root, port)
    set_conf(os.path.join(d.data, "custodian.conf"), "notify", "max_attempts", "2")
    (mid,) = d.add_members(1)
    assert d.cli("notify", "test", "--member", mid).returncode == 0
    rc, out = deliver(d)
    assert rc == 1 and out == ["sent 0, failed 1, pending 1"], out
    (oid, row), = d.outbox().items()
    assert row == {"member": mid, "status": "pending", "attempts": 1,
                   "last_error": "connect_failed"}
    rc, out = deliver(d, "--ignore-backoff")
    assert rc == 1 and out == ["sent 0, failed 1, pending 0",
                               "gave up on 1 after 2 attempts (status failed)"], out
    assert d.outbox()[oid]["status"] == "failed"


def test_unresolvable_host_is_named_resolve_failed(binary, root):
    """A host name that cannot resolve (".invalid" never does, RFC 2606): "resolve_failed",
    never the host or the address, and the row stays pending."""
    d = Dir(binary, root, free_port())
    set_conf(os.path.join(d.data, "custodian.conf"), "notify", "smtp_url",
             "smtp://custodian-mail.invalid:25")
    (mid,) = d.add_members(1)
    assert d.cli("notify", "test", "--member", mid).returncode == 0
    rc, out = deliver(d)
    assert rc == 1 and out == ["sent 0, failed 1, pending 1"], out
    (row,) = d.outbox().values()
    assert row == {"member": mid, "status": "pending", "attempts": 1,
                   "last_error": "resolve_failed"}
    assert not d.leaked()
