#!/usr/bin/python3
"""
tests/reliability/failover.py — two servers follow a promoted standby (issue 14).

    failover.py path/to/custodian [--writers W] [--before S] [--after S] [--keep]

In a temporary directory, on loopback:
  1. A primary PostgreSQL (scripts/pg-cluster start) and a streaming standby of it
     (scripts/pg-cluster standby: pg_basebackup -R, application_name standby1); the
     primary then names it in synchronous_standby_names, and the test waits until
     pg_stat_replication says `sync`: a commit returns only once the standby has it.
  2. `custodian init` on the url postgresql://127.0.0.1:P1,127.0.0.1:P2/...
     ?target_session_attrs=read-write, the data directory copied for a second server
     (two machines, one database), both `custodian serve` started.
  3. W writers per server register members (service token), write diary entries (a
     member logged in through server A, writing through both), log that member in again
     and fetch its /me page now and then; every 201 (200 for a login) is remembered.  For
     S seconds every answer must be 201 (200 for the page).
  4. SIGKILL to the primary's postmaster; 1 s later `pg-cluster promote` the standby.
     Writers keep going through both servers: 503 is the only other answer allowed
     (a 4xx, a 5xx other than 503, a dropped connection or a crash fails the test),
     until each server has answered 201 again, then S' seconds more.  A poller asks
     /readyz on both all along: it must say 503 in the gap and 200 at the end.
  5. Checks, on the promoted database: every acknowledged member reads back (staff,
     purpose support) with the e-mail and name it was registered with, every
     acknowledged diary entry is listed (staff, tos_review, a case); every write that
     was not acknowledged is wholly there or wholly absent (a member found by its
     e-mail reads back whole and has its `register` audit entry); both servers stop
     gracefully and `custodian audit verify` says intact from both data directories.
Prints the figures (writes acknowledged before and after the kill, answers by status,
seconds from the promotion to each server's first 201) and "failover: ok", or the
failures and exit status 1.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

from harness import Failures, RelServer, set_conf

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("CU_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
PG_CLUSTER = os.path.join(SOURCE, "scripts", "pg-cluster")
STANDBY_NAME = "standby1"
SYNC_WAIT_S = 60        # for the standby to be listed `sync`
PROMOTE_AFTER_S = 1.5   # from the kill to `pg_ctl promote`
RECOVER_LIMIT_S = 60    # from the promotion to each server's first 201
WRITE_PAUSE_S = 0.03    # between one writer's requests (the machine is shared)
CASE = "FAILOVER-1"     # the case the diary reads are made under
READERS = 4             # threads reading the acknowledged writes back
# What each long-lived worker says when a pass fails, and when passes work again
# (server/workers/): every failure in the gap must be followed by its recovery.
WORKER_LINES = [
    ("audit checkpointer", "audit checkpoint not written", "audit checkpoints are written again"),
    ("notifier", "notify: delivery pass failed", "notify: delivery passes work again"),
    ("retention", "retention: pass failed", "retention: passes work again"),
]
# The notifier (every 1 s by default) and retention (every second here) must have failed
# in the gap and recovered; the checkpointer signs every 5 s and may miss the gap.
WORKERS_EXERCISED = ("notifier", "retention")
WORKER_RECOVER_S = 15   # for each worker that failed to say it works again


def psql(url, sql):
    r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode:
        raise AssertionError(f"psql: {r.stderr.strip()}")
    return r.stdout.strip()


def pg_cluster(*args):
    r = subprocess.run([PG_CLUSTER, *args], capture_output=True, text=True, timeout=180)
    if r.returncode:
        raise AssertionError(f"pg-cluster {args[0]}: {r.stderr.strip()}")
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def port_of(url):
    return url.split("@127.0.0.1:")[1].split("/")[0]


class Writer(threading.Thread):
    """Writes through one server until told to stop; remembers every answer."""

    def __init__(self, n, name, srv, member, stop, clock):
        super().__init__(daemon=True)
        self.n, self.name_, self.srv, self.member = n, name, srv, member
        self.stop, self.clock = stop, clock
        self.acked_members = []     # (id, email, name, t)
        self.acked_diaries = []     # (member id, entry id, t)
        self.unacked_members = []   # (email, name, status): 503 or no answer
        self.bad = []               # (t, status, route, body)
        self.statuses = {}
        self.first_ok_after = None  # monotonic time of the first 201 after the promotion
        self.http = requests.Session()

    def run(self):
        seq = 0
        while not self.stop.is_set():
            seq += 1
            u = f"{self.name_}{seq:06d}"
            t = time.monotonic()
            try:
                if seq % 8 == 1:
                    # A web page of the member's: the store down is a 503 page, not the
                    # login form.
                    route = "GET /me"
                    r = self.http.get(self.srv.base + "/me", timeout=30, allow_redirects=False,
                                      headers={"Cookie": f"cu_session={self.member.cookie}",
                                               "Accept": "text/html"})
                elif seq % 8 == 5:
                    # A login: the store down is 503, never 401 (nor a failure charged).
                    route = "POST /v1/session"
                    r = self.http.post(self.srv.base + "/v1/session", timeout=30, json={
                        "email": self.member.email, "password": self.member.password})
                elif seq % 4:
                    route = "POST /v1/members"
                    email, name = f"fo.{u}@failover-example.org", f"Failover Writer {u}"
                    r = self.http.post(self.srv.base + "/v1/members", timeout=30, json={
                        "name": name, "address": f"{u} Standby Street",
                        "phone": f"+817{self.n}{seq:08d}", "email": email},
                        headers={"Authorization": "Bearer " + self.srv.tokens["service"]})
                    if r.status_code == 201:
                        self.acked_members.append((r.json()["id"], email, name, t))
                    else:
                        self.unacked_members.append((email, name, r.status_code))
                else:
                    route = "POST /v1/me/diaries"
                    r = self.http.post(self.srv.base + "/v1/me/diaries", timeout=30, json={
                        "title": f"entry {u}", "body": f"written through a failover {u}"},
                        headers={"Cookie": f"cu_session={self.member.cookie}",
                                 "X-CSRF-Token": self.member.csrf})
                    if r.status_code == 201:
                        self.acked_diaries.append((self.member.id, r.json()["id"], t))
                status = r.status_code
                if route == "POST /v1/session" and status == 200:
                    status = 201  # counted with the writes' successes
                body = r.text[:200]
            except requests.RequestException as e:
                status, body = None, type(e).__name__
                if route == "POST /v1/members":
                    self.unacked_members.append((email, name, None))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            killed = self.clock.get("kill")
            if status == 201:
                promoted = self.clock.get("promote")
                if promoted and self.first_ok_after is None and t >= promoted:
                    self.first_ok_after = time.monotonic()
            elif (status != 200 or route != "GET /me") and (status != 503 or killed is None):
                # Before the kill only 201; after it 503 is the one other answer.
                self.bad.append((round(t - self.clock["start"], 3), status, route, body))
            time.sleep(WRITE_PAUSE_S if status in (200, 201) else WRITE_PAUSE_S * 3)
        self.http.close()


class ReadyPoller(threading.Thread):
    """Asks /readyz of each server every 100 ms; keeps (t, server, status)."""

    def __init__(self, servers, stop):
        super().__init__(daemon=True)
        self.servers, self.stop, self.seen = servers, stop, []

    def run(self):
        http = requests.Session()
        while not self.stop.is_set():
            for name, s in self.servers:
                try:
                    st = http.get(s.base + "/readyz", timeout=10).status_code
                except requests.RequestException:
                    st = None
                self.seen.append((time.monotonic(), name, st))
            time.sleep(0.1)
        http.close()


def read_back(servers, acked_members, acked_diaries, unacked, fail):
    """Every acknowledged write present; unacknowledged ones whole or absent.  Returns
    the number of unacknowledged registrations found committed (in doubt, whole)."""
    lock = threading.Lock()
    found_unacked = [0]
    work = ([("member", m) for m in acked_members] + [("diary", d) for d in acked_diaries] +
            [("unacked", u) for u in unacked])
    diaries_by_member = {}
    for mid, eid, _ in acked_diaries:
        diaries_by_member.setdefault(mid, set()).add(eid)

    def check(i, items):
        srv = servers[i % len(servers)][1]
        http = requests.Session()
        staff = {"Authorization": "Bearer " + srv.tokens["staff"]}
        service = {"Authorization": "Bearer " + srv.tokens["service"]}
        officer = {"Authorization": "Bearer " + srv.tokens["officer"]}
        for kind, item in items:
            if kind == "member":
                mid, email, name, _ = item
                r = http.get(f"{srv.base}/v1/members/{mid}", headers=staff, timeout=30,
                             params={"purpose": "support"})
                ok = r.status_code == 200 and r.json()["fields"].get("email") == email and \
                    r.json()["fields"].get("name") == name
                with lock:
                    fail.check(ok, f"acknowledged member {mid} missing or changed: "
                                   f"{r.status_code}")
            elif kind == "diary":
                mid, ids = item
                have, params = set(), {"purpose": "tos_review", "case": CASE, "limit": 100}
                while True:
                    r = http.get(f"{srv.base}/v1/members/{mid}/diaries", headers=staff,
                                 timeout=30, params=params)
                    if r.status_code != 200:
                        break
                    have |= {e["id"] for e in r.json()["entries"]}
                    if "next_before" not in r.json():
                        break
                    params["before"] = r.json()["next_before"]
                with lock:
                    fail.check(r.status_code == 200 and ids <= have,
                               f"acknowledged diary entries of {mid} missing: "
                               f"{r.status_code}, {len(ids - have)} of {len(ids)}")
            else:
                email, name, _ = item
                r = http.post(f"{srv.base}/v1/members/search", headers=service, timeout=30,
                              json={"email": email})
                if r.status_code == 404:
                    continue
                ok = r.status_code == 200
                if ok:
                    mid = r.json()["id"]
                    g = http.get(f"{srv.base}/v1/members/{mid}", headers=staff, timeout=30,
                                 params={"purpose": "support"})
                    a = http.get(f"{srv.base}/v1/audit", headers=officer, timeout=30,
                                 params={"member": mid})
                    ok = (g.status_code == 200 and g.json()["fields"].get("name") == name and
                          a.status_code == 200 and
                          any(e["action"] == "register" for e in a.json()["entries"]))
                with lock:
                    found_unacked[0] += 1
                    fail.check(ok, f"an unacknowledged registration is half there: "
                                   f"{r.status_code}")
        http.close()

    # The diaries are one item per member (a page of them at once).
    work = [w for w in work if w[0] != "diary"] + \
        [("diary", (mid, ids)) for mid, ids in diaries_by_member.items()]
    threads = [threading.Thread(target=check, args=(i, work[i::READERS])) for i in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return found_unacked[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("custodian")
    ap.add_argument("--writers", type=int, default=2, help="writers per server")
    ap.add_argument("--before", type=float, default=3.0, help="seconds of load before the kill")
    ap.add_argument("--after", type=float, default=2.0,
                    help="seconds of load once both servers write again")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    binary = os.path.abspath(a.custodian)
    fail = Failures()
    t_begin = time.monotonic()
    root = tempfile.mkdtemp(prefix="cu-failover-")
    os.chmod(root, 0o755)  # as root, the clusters run as postgres: it must reach them
    primary, standby = os.path.join(root, "pg-primary"), os.path.join(root, "pg-standby")
    servers = []
    try:
        # 1. The primary and its synchronous standby.
        p_url = pg_cluster("start", primary)
        s_url = pg_cluster("standby", standby, primary, STANDBY_NAME)
        psql(p_url, f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
        psql(p_url, "SELECT pg_reload_conf()")
        deadline = time.monotonic() + SYNC_WAIT_S
        while psql(p_url, "SELECT sync_state FROM pg_stat_replication WHERE "
                          f"application_name = '{STANDBY_NAME}'") != "sync":
            if time.monotonic() > deadline:
                raise AssertionError("the standby was not listed `sync` in time")
            time.sleep(0.2)
        url = (f"postgresql://custodian@127.0.0.1:{port_of(p_url)},127.0.0.1:{port_of(s_url)}"
               "/custodian_test?target_session_attrs=read-write&connect_timeout=5")
        t_cluster = time.monotonic() - t_begin

        # 2. One store, two servers (the data directory copied: two machines).
        os.environ["CU_TEST_STORE"] = "pg"
        os.environ["CU_TEST_PG_URL"] = url
        a_srv = RelServer(binary, os.path.join(root, "a"))
        os.makedirs(a_srv.root)
        a_srv.setup()
        # A retention pass every second (its own connection each pass) through the gap.
        set_conf(os.path.join(a_srv.data, "custodian.conf"), "retention",
                 "interval_seconds", "1")
        b_srv = RelServer(binary, os.path.join(root, "b"))
        shutil.copytree(a_srv.data, b_srv.data)
        b_srv.tokens, b_srv.store = dict(a_srv.tokens), a_srv.store
        servers = [("A", a_srv), ("B", b_srv)]
        for _, s in servers:
            s.start()
        # A member who logs in through A and writes diary entries through both.
        diarist = a_srv.register(a_srv.new_values(), role=None,
                                 password="failover diary password 14")
        a_srv.login(diarist)

        # 3. Load; 4. the kill and the promotion.
        clock = {"start": time.monotonic()}
        stop, stop_poll = threading.Event(), threading.Event()
        writers = [Writer(k, f"{n}{i}", s, diarist, stop, clock) for k, (n, s, i) in
                   enumerate((n, s, i) for n, s in servers for i in range(a.writers))]
        poller = ReadyPoller(servers, stop_poll)
        poller.start()
        for w in writers:
            w.start()
        time.sleep(a.before)
        postmaster = int(open(os.path.join(primary, "data", "postmaster.pid")).readline())
        clock["kill"] = time.monotonic()
        os.kill(postmaster, signal.SIGKILL)
        time.sleep(PROMOTE_AFTER_S)
        t0 = time.monotonic()
        pg_cluster("promote", standby)
        clock["promote"] = t0
        t_promote = time.monotonic() - t0
        deadline = t0 + RECOVER_LIMIT_S
        by_server = {n: [w for w in writers if w.srv is s] for n, s in servers}
        while time.monotonic() < deadline:
            if all(any(w.first_ok_after for w in ws) for ws in by_server.values()):
                break
            time.sleep(0.05)
        gaps = {n: (min(w.first_ok_after for w in ws if w.first_ok_after) - t0)
                if any(w.first_ok_after for w in ws) else None for n, ws in by_server.items()}
        fail.check(all(g is not None for g in gaps.values()),
                   f"a server did not write again within {RECOVER_LIMIT_S} s: {gaps}")
        time.sleep(a.after)
        stop.set()
        for w in writers:
            w.join()
        time.sleep(1.2)  # the readiness probe runs at most once a second
        stop_poll.set()
        poller.join()

        for w in writers:
            for b in w.bad[:5]:
                fail.check(False, f"writer {w.name_}: {b}")
        for n, s in servers:
            fail.check(s.proc.poll() is None, f"server {n} exited: {s.stderr()}")
            seen = [st for t, name, st in poller.seen if name == n]
            gap = [st for t, name, st in poller.seen
                   if name == n and clock["kill"] + 0.3 < t < clock["promote"]]
            fail.check(503 in gap, f"/readyz of {n} never said 503 in the gap: {set(gap)}")
            fail.check(seen and seen[-1] == 200, f"/readyz of {n} is not 200 at the end")
            fail.check(set(seen) <= {200, 503}, f"/readyz of {n} said {set(seen)}")

        # Every worker that failed in the gap works again (the writer's and the readers'
        # recovery is what the writers saw).
        def stuck(err):
            return [w for w, failed, again in WORKER_LINES if err.rfind(again) < err.rfind(failed)]

        deadline = time.monotonic() + WORKER_RECOVER_S
        while time.monotonic() < deadline and any(stuck(s.stderr(limit=None)) for _, s in servers):
            time.sleep(0.2)
        for n, s in servers:
            err = s.stderr(limit=None)
            for worker in stuck(err):
                fail.check(False, f"{worker} of {n} did not recover in {WORKER_RECOVER_S} s")
            for worker, failed, again in WORKER_LINES:
                if worker in WORKERS_EXERCISED:
                    fail.check(failed in err, f"{worker} of {n} never failed in the gap")

        # 5. Every acknowledged write, on the promoted database.
        acked_m = [m for w in writers for m in w.acked_members]
        acked_d = [d for w in writers for d in w.acked_diaries]
        unacked = [u for w in writers for u in w.unacked_members]
        before = sum(1 for x in acked_m + acked_d if x[-1] < clock["kill"])
        after = len(acked_m) + len(acked_d) - before
        fail.check(before > 0 and after > 0, "no write acknowledged before or after the kill")
        t_check = time.monotonic()
        in_doubt = read_back(servers, acked_m, acked_d, unacked, fail)
        t_check = time.monotonic() - t_check
        fail.check(psql(s_url, "SELECT pg_is_in_recovery()") == "f",
                   "the standby was not promoted")
        for n, s in servers:
            status = s.stop()
            fail.check(status == 0, f"server {n} did not stop gracefully ({status})")
            rc, out = s.audit_verify()
            fail.check(rc == 0 and "audit intact" in out, f"audit verify from {n}'s directory: {out}")

        statuses = {}
        for w in writers:
            for k, v in w.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        print(f"failover: cluster and sync standby up in {t_cluster:.1f} s; "
              f"{len(writers)} writers over 2 servers; acknowledged {before} writes before the "
              f"kill and {after} after ({len(acked_m)} members, {len(acked_d)} diary entries); "
              f"answers {dict(sorted(statuses.items(), key=str))}; promote took "
              f"{t_promote:.2f} s; first 201 after the promotion: "
              + ", ".join(f"{n} {g:.2f} s" if g is not None else f"{n} never"
                          for n, g in gaps.items())
              + f" ({PROMOTE_AFTER_S:.1f} s after the kill); {len(unacked)} unacknowledged "
              f"registrations, {in_doubt} of them committed whole; read back in "
              f"{t_check:.1f} s; total {time.monotonic() - t_begin:.1f} s", flush=True)
    except AssertionError as e:
        fail.check(False, str(e))
    finally:
        for _, s in servers:
            if s.proc and s.proc.poll() is None:
                s.kill9()
        for d in (standby, primary):
            if fail and os.path.exists(os.path.join(d, "server.log")):
                shutil.copy(os.path.join(d, "server.log"), d + ".log")
            subprocess.run([PG_CLUSTER, "stop", d], capture_output=True, timeout=120)
        if a.keep or fail:
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    if fail:
        print(f"failover: {len(fail.items)} failures", flush=True)
        sys.exit(1)
    print("failover: ok", flush=True)


if __name__ == "__main__":
    main()
