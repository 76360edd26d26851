"""
Web beacons (docs/beacons.md, issue 13): GET /b.gif and POST /v1/beacon store a hit only
as the visitor's cookie choice allows; Sec-GPC or DNT stores nothing; an ad event needs the
advertising choice; a page is a known template or "other", never a URL; the GIF is
answered whatever happens; the daily salt rotates and the same visitor then hashes
differently; the roll-up keeps the aggregates once the raw hits are gone.

Rows are counted in the store's file (sqlite3, read-only use), as other tests do, after a
stored POST (which waits for its commit) has flushed the GIFs' hits before it.
"""
import os
import sqlite3
import time

import pytest

from conftest import assert_error_body, own_server

STATS = "cu_cookies=n1p0s1a0"
ADS = "cu_cookies=n1p0s0a1"
BOTH = "cu_cookies=n1p0s1a1"
NONE = "cu_cookies=n1p0s0a0"
GIF_HEAD = b"GIF89a"
DAY_US = 86400 * 1000000


def db(s):
    return sqlite3.connect(os.path.join(s.data, "custodian.db"))


def flush(s):
    """GET /b.gif does not wait for its commit; a stored POST does, and the writer takes
    jobs in order: once it answers, every earlier hit is committed."""
    r = s.post("/v1/beacon", json={"page": "/", "event": "flush"},
               headers={"Cookie": STATS})
    assert r.status_code == 204, r.text


def rows(s):
    flush(s)
    c = db(s)
    try:
        return c.execute("SELECT day, minute_us, page, event, category, visitor"
                         " FROM beacon_hits WHERE event <> 'flush' ORDER BY rowid").fetchall()
    finally:
        c.close()


def gif(s, query, cookie=None, **headers):
    if cookie:
        headers["Cookie"] = cookie
    r = s.get("/b.gif" + query, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/gif"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.content.startswith(GIF_HEAD) and len(r.content) == 43
    return r


def post(s, body, cookie=None, **headers):
    if cookie:
        headers["Cookie"] = cookie
    return s.post("/v1/beacon", json=body, headers=headers)


@pytest.fixture(scope="module")
def bsrv(request):
    with own_server(request, "cu-beacon-", setup=False) as s:
        yield s


def test_refused_or_unchosen_statistics_store_nothing(bsrv):
    before = len(rows(bsrv))
    gif(bsrv, "?p=/&e=view")                       # no choice made
    gif(bsrv, "?p=/&e=view", NONE)                 # refused
    gif(bsrv, "?p=/&e=view&c=statistics", ADS)     # only advertising chosen
    assert post(bsrv, {"page": "/"}, NONE).status_code == 204
    assert post(bsrv, {"page": "/"}).status_code == 204
    assert len(rows(bsrv)) == before


def test_gpc_and_dnt_store_nothing_whatever_was_chosen(bsrv):
    before = len(rows(bsrv))
    gif(bsrv, "?p=/", BOTH, **{"Sec-GPC": "1"})
    gif(bsrv, "?p=/", BOTH, DNT="1")
    gif(bsrv, "?p=/&c=advertising", BOTH, DNT="1")
    assert post(bsrv, {"page": "/"}, STATS, **{"Sec-GPC": "1"}).status_code == 204
    assert post(bsrv, {"page": "/"}, STATS, DNT="1").status_code == 204
    assert len(rows(bsrv)) == before


def test_statistics_choice_stores_one_row_without_address_or_agent(bsrv):
    before = len(rows(bsrv))
    gif(bsrv, "?p=/cookies&e=view", STATS, **{"User-Agent": "BeaconAgent/1.0"})
    r = post(bsrv, {"page": "/", "event": "signup_click"}, STATS)
    assert r.status_code == 204 and r.content == b""
    got = rows(bsrv)
    assert len(got) == before + 2
    (day, minute, page, event, cat, visitor), second = got[-2], got[-1]
    assert (page, event, cat) == ("/cookies", "view", "statistics")
    assert second[2:5] == ("/", "signup_click", "statistics")
    assert day == time.strftime("%Y-%m-%d", time.gmtime())
    assert minute % 60000000 == 0
    assert len(visitor) == 16
    # Nothing of the address or the agent in the file's rows.
    c = db(bsrv)
    try:
        dump = "\n".join(c.iterdump())
    finally:
        c.close()
    assert "127.0.0" not in dump and "BeaconAgent" not in dump


def test_ad_events_need_the_advertising_choice(bsrv):
    before = len(rows(bsrv))
    gif(bsrv, "?p=/&e=ad_shown&c=advertising", STATS)
    assert post(bsrv, {"page": "/", "event": "ad_shown", "category": "advertising"},
                STATS).status_code == 204
    assert len(rows(bsrv)) == before
    gif(bsrv, "?p=/&e=ad_shown&c=advertising", ADS)
    got = rows(bsrv)
    assert len(got) == before + 1 and got[-1][3:5] == ("ad_shown", "advertising")
    # Advertising chosen alone does not admit statistics.
    gif(bsrv, "?p=/&e=view", ADS)
    assert len(rows(bsrv)) == before + 1


def test_pages_are_templates_never_urls(bsrv):
    before = len(rows(bsrv))
    gif(bsrv, "?p=/members/abc123/secret&e=view", STATS)   # unknown path: "other"
    assert rows(bsrv)[-1][2] == "other"
    for bad in ["/?email=a@example.com", "https://x.example/", "members", "/" + "a" * 70,
                "/a%40b"]:
        r = post(bsrv, {"page": bad}, STATS)
        assert r.status_code == 422, bad
        assert_error_body(r, "invalid_field")
        gif(bsrv, "?" + "p=" + bad.replace("?", "%3F").replace("#", "%23"), STATS)
    for body, field in [({"page": "/", "event": "Click"}, "event"),
                        ({"page": "/", "event": "x" * 33}, "event"),
                        ({"page": "/", "category": "tracking"}, "category"),
                        ({"event": "view"}, "page")]:
        r = post(bsrv, body, STATS)
        assert r.status_code == 422, body
        assert_error_body(r, "invalid_field")
        assert field in r.text
    assert post(bsrv, {"page": "/", "extra": 1}, STATS).status_code == 400
    assert post(bsrv, {"page": 5}, STATS).status_code == 400
    assert bsrv.post("/v1/beacon?x=1", json={"page": "/"}).status_code == 400
    assert len(rows(bsrv)) == before + 1


def test_gif_answers_even_bad_input(bsrv):
    gif(bsrv, "")
    gif(bsrv, "?p=" + "x" * 3000, STATS)
    gif(bsrv, "?c=nonsense&e=%E2%9C%93", STATS)
    # (A %00 anywhere is refused by the router before any route: 400, documented.)


def test_salt_rotation_unlinks_the_same_visitor(bsrv):
    ua = {"User-Agent": "RotationProbe/2"}
    gif(bsrv, "?p=/&e=rotation_a", STATS, **ua)
    gif(bsrv, "?p=/&e=rotation_a", STATS, **ua)
    a = [r for r in rows(bsrv) if r[3] == "rotation_a"]
    assert len(a) == 2 and a[0][5] == a[1][5]       # same day, same salt: one visitor
    c = db(bsrv)
    try:
        old_salts = c.execute("SELECT day, sealed FROM beacon_salts").fetchall()
    finally:
        c.close()
    assert len(old_salts) == 1
    r = bsrv.cli("beacon", "rotate")
    assert r.returncode == 0, r.stderr
    gif(bsrv, "?p=/&e=rotation_b", STATS, **ua)
    b = [r for r in rows(bsrv) if r[3] == "rotation_b"]
    assert len(b) == 1 and b[0][5] != a[0][5]
    c = db(bsrv)
    try:
        salts = c.execute("SELECT day, sealed FROM beacon_salts").fetchall()
    finally:
        c.close()
    assert len(salts) == 1 and salts[0][1] != old_salts[0][1]   # the old one is gone
    # The salt is sealed: its bytes are not the 32 a hash would be keyed with.
    assert len(salts[0][1]) > 32


def test_rollup_keeps_aggregates_and_expires_raw_hits(bsrv):
    for ua in ["A/1", "A/1", "B/2"]:
        gif(bsrv, "?p=/&e=rollup_probe", STATS, **{"User-Agent": ua})
    # Move the probe's hits three days back (the clock cannot move).
    flush(bsrv)
    c = db(bsrv)
    with c:
        back = 3 * DAY_US
        old_day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400))
        n = c.execute("UPDATE beacon_hits SET day = ?, minute_us = minute_us - ?"
                      " WHERE event = 'rollup_probe'", (old_day, back)).rowcount
    c.close()
    assert n == 3
    r = bsrv.cli("beacon", "rollup")
    assert r.returncode == 0, r.stderr
    assert "rolled up 1 day(s)" in r.stdout and "deleted 3 raw hit(s)" in r.stdout
    assert not [x for x in rows(bsrv) if x[3] == "rollup_probe"]
    r = bsrv.cli("beacon", "stats", old_day, old_day)
    assert r.returncode == 0, r.stderr
    assert f"{old_day}\tstatistics\t/\trollup_probe\t3\t2" in r.stdout.splitlines()
    c = db(bsrv)
    try:
        cols = [x[1] for x in c.execute("PRAGMA table_info(beacon_daily)")]
    finally:
        c.close()
    assert "visitor" not in cols
    # Again: nothing more to do, the aggregates stay.
    r = bsrv.cli("beacon", "rollup")
    assert r.returncode == 0 and "rolled up 0 day(s)" in r.stdout
    r = bsrv.cli("beacon", "stats", old_day, old_day)
    assert f"{old_day}\tstatistics\t/\trollup_probe\t3\t2" in r.stdout.splitlines()
