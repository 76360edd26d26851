"""
tests/api/test_keys.py — `custodian keys` (docs/keys.md): the member key tree
rotated while the server reads and writes, nothing lost and every value still
opening; the master key rotated (blind indexes recomputed, so search still
finds members after a restart); an erased member's leaf punctured; bad
arguments refused in one line.
"""
import json
import os
import threading
import time

from conftest import own_server, set_conf


def status(s):
    r = s.cli("keys", "status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def read_back(s, m):
    """Every field the support purpose grants comes back as it was registered."""
    r = s.get(f"/v1/members/{m.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200, r.text
    for name, value in r.json()["fields"].items():
        assert value == m.values[name], name


def test_tree_rotation_under_reads_and_writes(request):
    with own_server(request, "cu-keys-") as s:
        before = [s.register() for _ in range(40)]
        first = status(s)
        [old_tree] = [t["id"] for t in first["keyring"]["trees"] if t["current"]]

        made, errors, stop = [], [], threading.Event()

        def writer():
            while not stop.is_set():
                try:
                    made.append(s.register())
                except AssertionError as e:   # a lost write shows here
                    errors.append(str(e))

        def reader():
            i = 0
            while not stop.is_set():
                try:
                    read_back(s, before[i % len(before)])
                except AssertionError as e:
                    errors.append(str(e))
                i += 1

        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        try:
            r = s.cli("keys", "rotate", "--tree")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert r.returncode == 0, r.stderr
        assert not errors, errors[:3]
        assert made, "the writer registered nobody during the rotation"

        after = status(s)
        [new_tree] = [t["id"] for t in after["keyring"]["trees"] if t["current"]]
        assert new_tree != old_tree
        # Rotation may finish before the writer's last registrations: a second pass
        # (what the operator runs again) moves those, and then nothing is left.
        r = s.cli("keys", "rotate", "--tree")
        assert r.returncode == 0, r.stderr
        final = status(s)
        [current] = [t["id"] for t in final["keyring"]["trees"] if t["current"]]
        assert final["wrapped"] == [{"key_id": current, "kind": "tree",
                                     "members": len(before) + len(made)}]
        assert final["members"]["live"] == len(before) + len(made)
        for m in before + made:
            read_back(s, m)

        # The old trees wrap nothing now: they can go (no backup needs them here).
        for t in final["keyring"]["trees"]:
            if not t["current"]:
                r = s.cli("keys", "retire", str(t["id"]))
                assert r.returncode == 0, r.stderr
        # The current one cannot.
        r = s.cli("keys", "retire", str(current))
        assert r.returncode == 1
        assert "current" in r.stderr
        assert len(status(s)["keyring"]["trees"]) == 1
        for m in before[:5] + made[:5]:
            read_back(s, m)


def test_master_rotation_reindexes(request):
    with own_server(request, "cu-keys-master-") as s:
        members = [s.register() for _ in range(5)]
        s.stop()
        r = s.cli("keys", "rotate", "--master")
        assert r.returncode == 0, r.stderr
        assert "5 members' blind indexes recomputed" in r.stdout
        st = status(s)
        assert [k["current"] for k in st["master_keys"]] == [False, True]
        assert st["keyring"]["sealed_under"] == st["master_keys"][-1]["id"]
        s.start()
        for m in members:
            r = s.search("email", m.email)
            assert r.status_code == 200, r.text
            assert r.json() == {"id": m.id}
            read_back(s, m)
        # New members after the restart are wrapped and indexed as usual.
        late = s.register()
        read_back(s, late)


def test_erasure_punctures_and_reconcile_is_idempotent(request):
    with own_server(request, "cu-keys-erase-") as s:
        kept, gone = s.register(), s.register()
        r = s.cli("member", "erase", gone.id)
        assert r.returncode == 0, r.stderr
        st = status(s)
        assert st["members"] == {"live": 1, "erased": 1}
        # The erasure punctured the leaf already: nothing is left to do.
        r = s.cli("keys", "reconcile")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("0 "), r.stdout
        assert [t["nodes"] for t in st["keyring"]["trees"]] == [64]
        read_back(s, kept)


def test_bad_arguments(request):
    with own_server(request, "cu-keys-bad-", setup=False) as s:
        for args, code in [(("keys", "retire"), 2), (("keys", "retire", "x1"), 2),
                           (("keys", "retire", "0"), 2), (("keys", "retire", "99"), 1),
                           (("keys", "rotate", "--bogus"), 2), (("keys", "status", "x"), 2),
                           (("keys", "reconcile", "x"), 2), (("keys", "frob"), 2)]:
            r = s.cli(*args)
            assert r.returncode == code, (args, r.returncode, r.stderr)
            assert len(r.stderr.strip().splitlines()) >= 1
            assert r.stderr.startswith("custodian: ") or r.stderr.startswith("usage"), r.stderr


def test_retired_only_when_no_backup_needs_it(request):
    with own_server(request, "cu-keys-backup-") as s:
        members = [s.register() for _ in range(3)]
        [old] = [t["id"] for t in status(s)["keyring"]["trees"]]
        r = s.cli("backup")
        assert r.returncode == 0, r.stderr
        assert f"key trees {old}" in r.stdout
        r = s.cli("keys", "rotate", "--tree")
        assert r.returncode == 0, r.stderr
        # The old tree wraps nobody now, but the backup needs it to be restored.
        r = s.cli("keys", "retire", str(old))
        assert r.returncode == 1
        assert "needed by a retained backup" in r.stderr
        assert old in [t["id"] for t in status(s)["keyring"]["trees"]]
        # A newer backup, and pruning to one, lets it go.
        set_conf(os.path.join(s.data, "custodian.conf"), "backup", "keep_count", "1")
        set_conf(os.path.join(s.data, "custodian.conf"), "backup", "keep_days", "0")
        time.sleep(1.1)  # backups are named by the second
        r = s.cli("backup")
        assert r.returncode == 0, r.stderr
        r = s.cli("backup", "prune")
        assert r.returncode == 0, r.stderr
        r = s.cli("keys", "retire", str(old))
        assert r.returncode == 0, r.stderr
        assert old not in [t["id"] for t in status(s)["keyring"]["trees"]]
        # The backup key rotates: the next backup is sealed under the new one.
        r = s.cli("keys", "rotate", "--backup")
        assert r.returncode == 0, r.stderr
        time.sleep(1.1)
        r = s.cli("backup")
        assert r.returncode == 0, r.stderr
        assert "backup key 2;" in r.stdout
        for m in members:
            read_back(s, m)
