#!/usr/bin/python3
"""
tests/reliability/soak.py — mixed load for a while; memory stays flat, nothing fails.

    soak.py path/to/custodian [--warmup W] [--seconds S] [--clients C] [--pause MS]
                              [--max-growth PCT]

C client threads (loopback) run a mix for W seconds of warm-up, at full speed,
then for S seconds, each pausing MS milliseconds between requests:
  reads of a member under a purpose (staff)       35 %
  registrations (service)                         15 %
  searches by e-mail (service)                    10 %
  a diary entry written and deleted               10 %
  a member's export                               10 %
  a login and a logout                            15 %
  the member's own record                          5 %
Every answer, warm-up included, must be the expected
2xx: a 5xx, any other status, a timeout or a connection error is an error, and
there must be none.

Why a warm-up: every SQLite connection of the server (the writer, one reader
per network thread, the checkpointer, the notifier) keeps a page cache of up to
2000 KiB that fills as the store grows and is read, so the resident size climbs
for minutes before it levels off (about 14.4 -> 17 MiB in four minutes of this
mix).  A build with `PRAGMA cache_size=-100` stays flat from the first minute —
the climb is the caches, not a leak.  So PRELOAD members are imported before the
start, the reads pick among all of them, and the warm-up runs without pauses, to
fill the caches before the measurement starts.  The mix keeps what it reads
level: diary entries are deleted after writing and searches go to preloaded
members, so an export does not grow through the run.

The server's resident size (VmRSS from /proc/PID/status) is sampled every
second.  The baseline is the mean of the samples in the first WINDOW_SHARE of
the measured S seconds, the end the mean of the last WINDOW_SHARE; end /
baseline - 1 must stay under --max-growth (default 5 %).  Prints "soak: S s, N requests (R/s), 0 errors, RSS A -> B KiB
(+G %): ok", or what failed and exits 1.
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

WINDOW_SHARE = 0.1     # of the measured run, averaged for the baseline and for the end
MEMBERS = 200          # members with a password (logins, diaries, exports)
PRELOAD = 20000        # members imported before the start: a store larger than the caches
PASSWORD = "soak test password 1"
MIX = [("read", 35), ("register", 15), ("search", 10), ("diary", 10), ("export", 10),
       ("login", 15), ("me", 5)]


class Client(threading.Thread):
    def __init__(self, srv, n, members, ids, warm_end, deadline, pause, seed):
        super().__init__(daemon=True)
        self.srv, self.n, self.members = srv, n, members
        self.warm_end, self.deadline, self.pause = warm_end, deadline, pause
        self.rng = random.Random(seed)
        self.only = None
        self.http = requests.Session()
        self.count = 0
        self.errors = []     # (what, status or exception)
        self.by_kind = {k: 0 for k, _ in MIX}
        self.ids = ids

    def req(self, method, path, expect, role=None, member=None, **kw):
        h = kw.pop("headers", {})
        if role:
            h["Authorization"] = "Bearer " + self.srv.tokens[role]
        if member is not None:
            h["Cookie"] = f"cu_session={member.cookie}"
            if method != "GET":
                h["X-CSRF-Token"] = member.csrf
        self.count += 1
        try:
            r = self.http.request(method, self.srv.base + path, headers=h, timeout=30, **kw)
        except requests.RequestException as e:
            self.errors.append((f"{method} {path.split('?')[0]}", type(e).__name__))
            return None
        if r.status_code != expect:
            self.errors.append((f"{method} {path.split('?')[0]}", r.status_code))
            return None
        return r

    def run(self):
        kinds = [k for k, _ in MIX if k == self.only or not self.only]
        weights = [w for k, w in MIX if k in kinds]
        seq = 0
        while time.monotonic() < self.deadline:
            seq += 1
            kind = self.rng.choices(kinds, weights)[0]
            self.by_kind[kind] += 1
            # Exports go to members who do nothing else, the rest to the others: every
            # login, diary entry and page of a member adds to the audit entries an export
            # of theirs scans, so an exporting member who also acted would export (and
            # scan) more each time, and the run would not be level.
            half = len(self.members) // 2
            m = self.rng.choice(self.members[:half] if kind == "export" else self.members[half:])
            u = f"{self.n:02d}{seq:07d}"
            if kind == "read":
                self.req("GET", f"/v1/members/{self.rng.choice(self.ids)}?purpose=support", 200,
                         role="staff")
            elif kind == "register":
                r = self.req("POST", "/v1/members", 201, role="service", json={
                    "name": f"Soak Member {u}", "address": f"{u} Soak Street",
                    "phone": "+8170" + u[-8:], "email": f"soak.{u}@soak-example.org"})
            elif kind == "search":
                # Preloaded members: the searches land in their access history, not in
                # that of the members who export (an export's size stays level).
                self.req("POST", "/v1/members/search", 200, role="service",
                         json={"email": f"pre.{self.rng.randrange(PRELOAD)}@soak-example.org"})
            elif kind == "diary":
                # Written, then deleted: the member's diary (and so the export) stays level.
                r = self.req("POST", "/v1/me/diaries", 201, member=m,
                             json={"title": f"soak {u}", "body": "a day like any other " * 8})
                if r is not None:
                    self.req("DELETE", f"/v1/me/diaries/{r.json()['id']}", 204, member=m)
            elif kind == "export":
                self.req("GET", "/v1/me/export", 200, member=m)
            elif kind == "me":
                self.req("GET", "/v1/me", 200, member=m)
            elif kind == "login":
                r = self.req("POST", "/v1/session", 200,
                             json={"email": m.email, "password": PASSWORD})
                if r is not None:
                    s = type("S", (), {})()
                    s.cookie, s.csrf = r.cookies.get("cu_session"), r.json()["csrf"]
                    self.req("DELETE", "/v1/session", 204, member=s)
            if self.pause and time.monotonic() >= self.warm_end:
                time.sleep(self.pause)
        self.http.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("custodian")
    ap.add_argument("--warmup", type=float, default=300, help="seconds at full speed first")
    ap.add_argument("--seconds", type=float, default=600, help="seconds measured")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--pause", type=float, default=2, help="milliseconds between requests")
    ap.add_argument("--max-growth", type=float, default=5.0, help="percent")
    ap.add_argument("--only", choices=[k for k, _ in MIX], help="one kind of request only")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)

    fail = Failures()
    srv = make_server(a.custodian, "cu-soak-")
    samples = []   # (seconds since start, VmRSS KiB)
    try:
        # A store larger than every connection's page cache, read all over, so the caches
        # fill during the warm-up and what grows after it is not a cache.
        csv = os.path.join(srv.root, "preload.csv")
        with open(csv, "w", encoding="utf-8") as f:
            f.write("name,address,phone,email,occupation,hobbies\n")
            for i in range(PRELOAD):
                f.write(f"Preloaded {i},{i} Warmup Road,+8160{i:08d},pre.{i}@soak-example.org,"
                        f"occupation {i},hobby {i}\n")
        r = srv.cli("import", csv)
        fail.check(r.returncode == 0, f"preload import: {r.stdout} {r.stderr}")
        db = sqlite3.connect(os.path.join(srv.data, "custodian.db"))
        ids = [row[0] for row in db.execute("SELECT id FROM members")]
        db.close()
        srv.start()
        members = []
        for _ in range(MEMBERS):
            m = srv.register(srv.new_values(survey=True), role=None, password=PASSWORD)
            srv.login(m)
            members.append(m)
        t0 = time.monotonic()
        deadline = t0 + a.warmup + a.seconds
        clients = [Client(srv, n, members, ids, t0 + a.warmup, deadline, a.pause / 1000.0, seed + n)
                   for n in range(a.clients)]
        for c in clients:
            c.only = a.only
            c.start()
        while time.monotonic() < deadline:
            samples.append((time.monotonic() - t0, srv.rss_kib()))
            time.sleep(1)
        for c in clients:
            c.join(timeout=60)
        samples.append((time.monotonic() - t0, srv.rss_kib()))
        status = srv.stop()
        fail.check(status == 0, f"no graceful stop (status {status}): {srv.stderr()}")
    finally:
        srv.clean_up(a.keep)

    total = sum(c.count for c in clients)
    errors = [e for c in clients for e in c.errors]
    kinds = {k: sum(c.by_kind[k] for c in clients) for k, _ in MIX}
    fail.check(not errors, f"{len(errors)} errors, e.g. {errors[:5]}")
    w0, w1 = a.warmup, a.warmup + a.seconds * WINDOW_SHARE
    base = [kib for t, kib in samples if w0 <= t < w1]
    end = [kib for t, kib in samples if t >= a.warmup + a.seconds * (1 - WINDOW_SHARE)]
    growth = 0.0
    if fail.check(base and end, "too few RSS samples"):
        b, e = sum(base) / len(base), sum(end) / len(end)
        growth = (e / b - 1) * 100
        fail.check(growth < a.max_growth, f"RSS grew {growth:.1f} % after warm-up "
                   f"({b:.0f} -> {e:.0f} KiB; limit {a.max_growth} %)")
    else:
        b = e = 0
    print("  RSS KiB every ~10 s: " + " ".join(str(kib) for _, kib in samples[::10]), flush=True)
    print("  requests by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.items()), flush=True)
    summary = (f"soak: {a.warmup:.0f} s warm-up + {a.seconds:.0f} s, {total} requests "
               f"({total / (a.warmup + a.seconds):.0f}/s), "
               f"{len(errors)} errors, RSS {b:.0f} -> {e:.0f} KiB after warm-up "
               f"({growth:+.1f} %), peak {max(k for _, k in samples)} KiB")
    print(summary + (": FAILED" if fail else ": ok"), flush=True)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
