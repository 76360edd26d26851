"""
tests/api/test_backup.py — backups under write load, restore, the erasure replay, damaged
backups and pruning (docs/backup.md).

A server of this module's own.  While a thread keeps registering members through the API,
`custodian backup` runs: every member acknowledged (201) before the backup began is in the
restored directory and opens (read through the door with the command line); members erased
after the backup was taken are erased in the restored directory (the erasure replay).  A
backup with a byte flipped at any of several places, or cut short, is refused by
`backup verify` and by `restore` with one line and exit 1, and the restore leaves nothing
behind.  `backup prune` keeps exactly what keep_count and keep_days say.
"""
import json
import os
import re
import subprocess
import threading
import time

import pytest
import requests

from conftest import own_server, set_conf

US_PER_DAY = 86400 * 10**6


@pytest.fixture(scope="module")
def own(request):
    with own_server(request, "cu-api-backup-") as s:
        yield s


def cli(s, *args, data=None, timeout=120):
    return subprocess.run([s.binary, "--data", data or s.data, *args], capture_output=True,
                          text=True, timeout=timeout)


class Writer(threading.Thread):
    """Registers members one after another through the API, recording when each 201 came."""

    def __init__(self, s):
        super().__init__(daemon=True)
        self.s = s
        self.stop = threading.Event()
        self.acked = []      # (time acknowledged, member id, e-mail)
        self.errors = []

    def run(self):
        http = requests.Session()
        h = {"Authorization": "Bearer " + self.s.tokens["service"]}
        while not self.stop.is_set():
            values = self.s.new_values()
            self.s.remember(values)
            try:
                r = http.post(self.s.base + "/v1/members", json=values, headers=h, timeout=30)
            except requests.RequestException as e:
                self.errors.append(str(e))
                continue
            if r.status_code == 201:
                self.acked.append((time.monotonic(), r.json()["id"], values["email"]))
            else:
                self.errors.append(f"{r.status_code} {r.text[:200]}")
        http.close()


def read_email(s, data, mid):
    r = cli(s, "member", "show", mid, "--purpose", "support", data=data)
    if r.returncode != 0:
        return None, r.stderr
    return json.loads(r.stdout)["fields"].get("email"), r.stdout


def test_backup_under_write_load_then_restore(own):
    before = [own.register() for _ in range(20)]
    w = Writer(own)
    w.start()
    time.sleep(1.0)                       # the writer is going
    started = time.monotonic()
    acked_before = [(mid, email) for (t, mid, email) in list(w.acked) if t < started]
    target = os.path.join(own.root, "under-load.cubackup")
    r = cli(own, "backup", "--to", target)
    finished = time.monotonic()
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""                 # no terminal: no progress bar
    time.sleep(0.5)                       # ... and the writer still going after it
    n_during = sum(1 for (t, _, _) in w.acked if started <= t <= finished)
    # Erased after the backup was taken: two of the first members, one of the writer's.
    erased = [before[0].id, before[1].id, acked_before[0][0]]
    for mid in erased:
        e = cli(own, "member", "erase", mid)
        assert e.returncode == 0, e.stderr
    w.stop.set()
    w.join(30)
    assert not w.errors, w.errors[:3]
    assert len(w.acked) > len(acked_before)   # writes went on while it ran
    print(f"acknowledged during the backup: {n_during}")

    v = cli(own, "backup", "verify", target)
    assert v.returncode == 0, v.stderr
    assert "backup intact" in v.stdout

    into = os.path.join(own.root, "restored")
    r = cli(own, "restore", target, "--into", into)
    assert r.returncode == 0, r.stderr
    assert re.search(r"erasure replay: 3 member\(s\)", r.stdout), r.stdout
    for mid in erased:
        assert mid not in r.stdout and mid not in r.stderr   # counts, no values or ids

    # Every member acknowledged before the backup began is there and opens.
    expect = [(m.id, m.email) for m in before] + acked_before
    for mid, email in expect:
        got, out = read_email(own, into, mid)
        if mid in erased:
            assert got is None and "erased" in out, (mid, out)
        else:
            assert got == email, (mid, out)
    # The restored directory is a whole data directory: its audit chain verifies, and
    # records the backup's erasures and the restore.
    a = cli(own, "audit", "verify", data=into)
    assert a.returncode == 0, a.stderr
    # No plaintext personal value in the backup file.
    with open(target, "rb") as f:
        blob = f.read()
    for _, email in expect[:10]:
        assert email.encode() not in blob


def flipped(src, dst, offset):
    with open(src, "rb") as f:
        b = bytearray(f.read())
    b[offset] ^= 0x40
    with open(dst, "wb") as f:
        f.write(b)


def test_damaged_backup_refused_by_verify_and_restore(own):
    good = os.path.join(own.root, "good.cubackup")
    r = cli(own, "backup", "--to", good)
    assert r.returncode == 0, r.stderr
    size = os.path.getsize(good)
    bad = os.path.join(own.root, "bad.cubackup")
    # Header (magic, key id, wrapped key, stream header), first chunk, middle, the final
    # chunk, the manifest, the trailer.
    offsets = [0, 10, 40, 120, 140, 1000, size // 2, size - 300, size - 120, size - 20,
               size - 5]
    for off in offsets:
        flipped(good, bad, off)
        v = cli(own, "backup", "verify", bad)
        assert v.returncode == 1, (off, v.stdout)
        assert len(v.stderr.strip().splitlines()) == 1, (off, v.stderr)
        assert "refused" in v.stderr
        into = os.path.join(own.root, f"from-bad-{off}")
        x = cli(own, "restore", bad, "--into", into)
        assert x.returncode == 1, (off, x.stdout)
        assert len(x.stderr.strip().splitlines()) == 1, (off, x.stderr)
        assert not os.path.exists(into), off      # nothing left behind
    for cut in [size - 1, size - 13, size // 2, 200, 10]:
        with open(good, "rb") as f, open(bad, "wb") as g:
            g.write(f.read(cut))
        v = cli(own, "backup", "verify", bad)
        assert v.returncode == 1 and len(v.stderr.strip().splitlines()) == 1, (cut, v.stderr)
        into = os.path.join(own.root, f"from-cut-{cut}")
        x = cli(own, "restore", bad, "--into", into)
        assert x.returncode == 1, (cut, x.stdout)
        assert not os.path.exists(into)
    # An existing non-empty directory is refused and left as it was.
    busy = os.path.join(own.root, "busy")
    os.mkdir(busy)
    with open(os.path.join(busy, "keep"), "w") as f:
        f.write("x")
    x = cli(own, "restore", good, "--into", busy)
    assert x.returncode == 1 and "not empty" in x.stderr
    assert os.listdir(busy) == ["keep"]
    # A backup never overwrites.
    again = cli(own, "backup", "--to", good)
    assert again.returncode == 1 and "exists" in again.stderr
    assert cli(own, "backup", "verify", good).returncode == 0


def aged_copy(src, dst, days):
    """A copy of a backup whose manifest says it was made `days` days earlier (same length:
    prune reads the manifest's created_us; nothing here opens the copy)."""
    with open(src, "rb") as f:
        b = f.read()
    m = re.search(rb'"created_us":(\d+)', b)
    old = int(m.group(1)) - days * US_PER_DAY
    new = str(old).encode()
    assert len(new) == len(m.group(1))
    with open(dst, "wb") as f:
        f.write(b[:m.start(1)] + new + b[m.end(1):])


def test_prune_keeps_what_the_rule_says(own, tmp_path):
    d = str(tmp_path / "data")
    r = cli(own, "init", data=d)
    assert r.returncode == 0, r.stderr
    conf = os.path.join(d, "custodian.conf")
    set_conf(conf, "backup", "keep_count", "2")
    set_conf(conf, "backup", "keep_days", "10")
    r = cli(own, "backup", data=d)
    assert r.returncode == 0, r.stderr
    bdir = os.path.join(d, "backups")
    names = os.listdir(bdir)
    assert len(names) == 1 and re.fullmatch(r"custodian-\d{8}T\d{6}Z\.cubackup", names[0])
    newest = os.path.join(bdir, names[0])
    ages = {1: "a-1d", 5: "a-5d", 20: "a-20d", 40: "a-40d", 60: "a-60d"}
    for days, name in ages.items():
        aged_copy(newest, os.path.join(bdir, name + ".cubackup"), days)
    with open(os.path.join(bdir, "junk.cubackup"), "wb") as f:
        f.write(b"not a backup")
    with open(os.path.join(bdir, "notes.txt"), "w") as f:
        f.write("not a backup either")
    p = cli(own, "backup", "prune", data=d)
    assert p.returncode == 0, p.stderr
    assert "kept 3" in p.stdout and "removed 3" in p.stdout, p.stdout
    assert "no readable manifest" in p.stderr
    # Newest two (0 and 1 day), and the one younger than 10 days (5); 20, 40, 60 go.
    assert sorted(os.listdir(bdir)) == sorted(
        [names[0], "a-1d.cubackup", "a-5d.cubackup", "junk.cubackup", "notes.txt"])
    # keep_days 0: only the newest keep_count stay.
    set_conf(conf, "backup", "keep_count", "1")
    set_conf(conf, "backup", "keep_days", "0")
    p = cli(own, "backup", "prune", data=d)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(bdir)) == sorted([names[0], "junk.cubackup", "notes.txt"])
    # Both prunes were audited.
    log = cli(own, "audit", "verify", data=d)
    assert log.returncode == 0, log.stderr
