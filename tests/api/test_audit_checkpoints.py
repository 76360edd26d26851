"""
tests/api/test_audit_checkpoints.py — signed checkpoints of the audit head, from the server.

A server of this module's own: the tests stop it, cut its audit log behind its back and
start it again.  The attack: delete the last audit rows, rewrite the head in `meta` to the
new last row (and drop the checkpoints in the database that name the cut entries), so the
chain alone looks intact.  The checkpoint file the server keeps next to the database names
the missing range.
"""
import os
import re
import sqlite3
import time

import pytest

from conftest import own_server

LINE = re.compile(r"^cu-audit-checkpoint-v1 seq=(\d+) head=[0-9a-f]{64} "
                  r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z key=\d+ sig=[0-9a-f]{128}$")


@pytest.fixture(scope="module")
def own(request):
    with own_server(request, "cu-api-ckpt-") as s:
        yield s


def file_seq(s):
    with open(os.path.join(s.data, "audit.checkpoint"), encoding="ascii") as f:
        lines = f.read().splitlines()
    assert len(lines) == 1 and LINE.match(lines[0]), lines
    return int(LINE.match(lines[0]).group(1))


def db_last(s):
    db = sqlite3.connect(os.path.join(s.data, "custodian.db"), timeout=10)
    try:
        return db.execute("SELECT max(seq) FROM audit").fetchone()[0]
    finally:
        db.close()


def test_server_signs_periodically_and_at_stop(own):
    for _ in range(3):
        own.register()
    head = own.audit_head()
    # Every few seconds while running (CU_AUDIT_CHECKPOINT_INTERVAL_MS = 5 s).
    deadline = time.time() + 12
    while time.time() < deadline and file_seq(own) < head:
        time.sleep(0.25)
    assert file_seq(own) >= head
    # ... and the last one at a clean stop, after the writer's last commit.
    own.register()
    assert own.stop() == 0
    assert file_seq(own) == db_last(own)
    own.start()
    body = own.get("/v1/audit/verify", role="officer").json()
    assert body["intact"] is True, body
    cps = body["checkpoints"]
    assert cps["bad"] == 0 and cps["findings"] == [] and cps["checked"] >= 2
    assert cps["covered_seq"] >= head


def test_cut_with_the_head_rewritten_is_named(own):
    for _ in range(4):
        own.register()
    assert own.stop() == 0
    signed = file_seq(own)
    cut_to = signed - 5
    db = sqlite3.connect(os.path.join(own.data, "custodian.db"))
    with db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DROP TRIGGER audit_checkpoints_no_delete")
        db.execute("DELETE FROM audit WHERE seq > ?", (cut_to,))
        h = db.execute("SELECT hash FROM audit WHERE seq = ?", (cut_to,)).fetchone()[0]
        db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{cut_to}:{h.hex()}",))
        db.execute("DELETE FROM audit_checkpoints WHERE seq > ?", (cut_to,))
        # The per-member index made to agree too (else verify sees its mark past the end).
        db.execute("DELETE FROM audit_member WHERE seq > ?", (cut_to,))
        db.execute("UPDATE meta SET value = min(CAST(value AS INTEGER), ?)"
                   " WHERE key = 'audit_member_indexed'", (cut_to,))
    db.close()
    # The chain alone: intact (this is the hole the checkpoints close).
    own.start()
    r = own.get("/v1/audit/verify", role="officer")
    assert r.status_code == 200
    body = r.json()
    assert body["intact"] is False, body
    assert "broken_seq" not in body
    want = f"entries {cut_to + 1}-{signed} missing: the log ends at {cut_to}"
    assert body["what"].startswith(want), body["what"]
    f = body["checkpoints"]["findings"]
    assert {"source": "file", "status": "missing", "seq": signed} == \
        {k: f[0][k] for k in ("source", "status", "seq")}
    # The server keeps the file as evidence: it writes none over it.
    own.register()
    assert own.stop() == 0
    assert file_seq(own) == signed
    assert "kept as evidence" in own.stderr(limit=None)
    own.start()
    assert own.get("/v1/audit/verify", role="officer").json()["intact"] is False
