#!/usr/bin/python3
"""
tests/reliability/crash.py — kill -9 under write load and during an import.

    crash.py path/to/custodian [--cycles N] [--writers W] [--rows R] [--window S] [--seed N]

Each cycle, on one data directory:
  1. W client threads write over HTTP as fast as the server answers: member
     registrations (service token) and diary entries (a member's session).
     Every 201 is remembered with the id it returned: a 201 means durable.
  2. `custodian import` of a fresh CSV of R rows runs at the same time, with
     [import] batch = BATCH rows per transaction.
  3. At random moments the import and the server get SIGKILL.
  4. With the server down: `custodian audit verify` must say intact, and the
     rows of this cycle's import present in the store must be a whole number of
     batches (or every row, when the import had finished with exit 0).
  5. The server is restarted; the time from spawn to the first 200 from /readyz
     must stay under RESTART_LIMIT_S.
  6. Every acknowledged write of every cycle so far is in the store, and a sample
     of the acknowledged members reads back over HTTP with the e-mail it was
     registered with.
Any answer but 201 before the kill is a failure too.  Prints one summary line:
"crash: N cycles, A acknowledged writes checked, I imported rows in whole batches,
restart max X s (mean Y s): ok" — or the failures and exit status 1.
"""
import argparse
import os
import random
import sqlite3
import sys
import threading
import time

import requests

from harness import Failures, make_server

BATCH = 200             # [import] batch for the cycle's import
RESTART_LIMIT_S = 1.0   # spawn to /readyz 200, after a kill -9
SAMPLE_READS = 25       # acknowledged members read back over HTTP per cycle
KILL_AFTER_S = 0.3      # the server is killed between this and --window s after the load starts
IMPORT_KILL_S = (0.05, 1.2)  # the import is killed this long after it starts


class Writer(threading.Thread):
    """Writes until told to stop; remembers what the server acknowledged."""

    def __init__(self, srv, n, cycle, member, stop, kill_at):
        super().__init__(daemon=True)
        self.srv, self.n, self.cycle, self.member = srv, n, cycle, member
        self.stop, self.kill_at = stop, kill_at
        self.acked_members = []   # (id, email)
        self.acked_diaries = []   # id
        self.early_5xx = []       # (status, route, body): not 201, answered before the kill
        self.http = requests.Session()

    def run(self):
        seq = 0
        while not self.stop.is_set():
            seq += 1
            u = f"{self.cycle:02d}{self.n:02d}{seq:06d}"
            base = self.srv.base
            try:
                if seq % 3:
                    route = "POST /v1/members"
                    email = f"crash.{u}@crash-example.org"
                    r = self.http.post(base + "/v1/members", timeout=10, json={
                        "name": f"Crash Writer {u}", "address": f"{u} Durable Street",
                        "phone": "+8190" + u[-8:], "email": email},
                        headers={"Authorization": "Bearer " + self.srv.tokens["service"]})
                    if r.status_code == 201:
                        self.acked_members.append((r.json()["id"], email))
                else:
                    route = "POST /v1/me/diaries"
                    r = self.http.post(base + "/v1/me/diaries", timeout=10, json={
                        "title": f"entry {u}", "body": f"written under load {u}"},
                        headers={"Cookie": f"cu_session={self.member.cookie}",
                                 "X-CSRF-Token": self.member.csrf})
                    if r.status_code == 201:
                        self.acked_diaries.append(r.json()["id"])
                if r.status_code != 201 and time.monotonic() < self.kill_at[0]:
                    self.early_5xx.append((r.status_code, route, r.text[:200]))
            except (requests.ConnectionError, requests.Timeout):
                # The server is down (killed) or restarting: nothing was acknowledged.
                time.sleep(0.01)
        self.http.close()


def write_csv(path, cycle, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("name,address,phone,email\n")
        for i in range(rows):
            f.write(f"Imported {cycle}-{i},{i} Batch Avenue,+8180{cycle:02d}{i:06d},"
                    f"imp.{cycle}.{i}@import-example.org\n")


def imported_rows(db_path):
    """Registrations the command line made (the import's actor is the operator)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT count(*) FROM audit WHERE action = 'register' "
                          "AND actor = 'operator'").fetchone()[0]
    finally:
        db.close()


def ids_present(db_path, table, ids):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        have = {row[0] for row in db.execute(f"SELECT id FROM {table}")}
    finally:
        db.close()
    return [i for i in ids if i not in have]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("custodian")
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--window", type=float, default=1.5,
                    help="the server is killed at most this many seconds into the load")
    ap.add_argument("--restart-limit", type=float, default=RESTART_LIMIT_S,
                    help="seconds from spawn to /readyz 200 after a kill")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"crash: seed {seed}, {a.cycles} cycles, {a.writers} writers, "
          f"{a.rows} rows per import in batches of {BATCH}", flush=True)

    fail = Failures()
    srv = make_server(a.custodian, "cu-crash-", {("import", "batch"): str(BATCH)})
    db_path = os.path.join(srv.data, "custodian.db")
    acked_members, acked_diaries = [], []
    restarts, imported_total, imports_cut = [], 0, 0
    try:
        srv.start()
        author = srv.register(srv.new_values(), role=None, password="crash test password 1")
        srv.login(author)
        for cycle in range(a.cycles):
            before = imported_rows(db_path)
            csv = os.path.join(srv.root, f"import-{cycle}.csv")
            write_csv(csv, cycle, a.rows)
            stop = threading.Event()
            kill_at = [float("inf")]
            writers = [Writer(srv, n, cycle, author, stop, kill_at) for n in range(a.writers)]
            t_load = time.monotonic()
            server_kill = t_load + rng.uniform(KILL_AFTER_S, max(KILL_AFTER_S, a.window))
            for w in writers:
                w.start()
            imp = srv.cli_popen("import", csv)
            import_kill = time.monotonic() + rng.uniform(*IMPORT_KILL_S)
            for when, what in sorted([(server_kill, "server"), (import_kill, "import")]):
                time.sleep(max(0.0, when - time.monotonic()))
                if what == "server":
                    kill_at[0] = time.monotonic()
                    srv.kill9()
                elif imp.poll() is None:
                    imp.kill()
            imp_status = imp.wait()
            imp_out = imp.stdout.read().decode(errors="replace") if imp.stdout else ""
            stop.set()
            for w in writers:
                w.join(timeout=30)
            for w in writers:
                acked_members += w.acked_members
                acked_diaries += w.acked_diaries
                for e in w.early_5xx:
                    fail.check(False, f"cycle {cycle}: {e[0]} (not 201) from {e[1]} before the kill: {e[2]}")

            # With the server down: the chain, and whole batches.
            st, out = srv.audit_verify()
            fail.check(st == 0 and "audit intact" in out,
                       f"cycle {cycle}: audit verify after the kill: {out}")
            n = imported_rows(db_path) - before
            finished = imp_status == 0
            imports_cut += not finished
            imported_total += n
            fail.check((finished and n == a.rows) or (not finished and n % BATCH == 0),
                       f"cycle {cycle}: {n} rows of the import present (batch {BATCH}, "
                       f"import status {imp_status}: {imp_out.strip()})")

            dt = srv.start()
            restarts.append(dt)
            fail.check(dt < a.restart_limit,
                       f"cycle {cycle}: restart took {dt:.3f} s (limit {a.restart_limit} s)")

            missing = ids_present(db_path, "members", [m for m, _ in acked_members])
            fail.check(not missing, f"cycle {cycle}: {len(missing)} acknowledged "
                       f"registrations lost, e.g. {missing[:3]}")
            missing = ids_present(db_path, "diaries", acked_diaries)
            fail.check(not missing, f"cycle {cycle}: {len(missing)} acknowledged diary "
                       f"entries lost, e.g. {missing[:3]}")
            for mid, email in rng.sample(acked_members, min(SAMPLE_READS, len(acked_members))):
                r = srv.get(f"/v1/members/{mid}?purpose=support", role="staff")
                ok = r.status_code == 200 and r.json().get("fields", {}).get("email") == email
                fail.check(ok, f"cycle {cycle}: acknowledged member does not read back: "
                           f"{r.status_code} {r.text[:200]}")
            print(f"  cycle {cycle}: server killed at {kill_at[0] - t_load:.2f} s, "
                  f"import {'finished' if finished else 'killed'} with {n} rows, "
                  f"restart {dt:.3f} s, acknowledged so far {len(acked_members)} members "
                  f"+ {len(acked_diaries)} diary entries", flush=True)

        status = srv.stop()
        fail.check(status == 0, f"no graceful stop at the end (status {status})")
        st, out = srv.audit_verify()
        fail.check(st == 0 and "audit intact" in out, f"audit verify at the end: {out}")
    finally:
        srv.clean_up(a.keep)

    acked = len(acked_members) + len(acked_diaries)
    mean = sum(restarts) / len(restarts) if restarts else 0.0
    fail.check(acked > 0, "no write was acknowledged at all")
    summary = (f"crash: {a.cycles} cycles (seed {seed}), {acked} acknowledged writes checked "
               f"({len(acked_members)} registrations, {len(acked_diaries)} diary entries), "
               f"{imported_total} imported rows in whole batches ({imports_cut} imports killed), "
               f"restart max {max(restarts, default=0):.3f} s (mean {mean:.3f} s)")
    print(summary + (": FAILED" if fail else ": ok"), flush=True)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
