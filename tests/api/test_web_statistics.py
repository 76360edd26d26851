"""The console's statistics pages (docs/web.md, "Console: statistics"): members counted by a
survey answer drawn as a bar chart with suppressed cells marked, web traffic as a time series,
the privacy budget and its ledger; who may see what is the API's (GET /v1/stats/...), and a
refusal is shown in words.

A server of its own, so the dataset is known: enough members share one occupation for its
cell to pass k, a few share another (a small cell, suppressed), and a dozen visitors hit the
beacon today.
"""
import html
import os
import re
import sqlite3
import time

import pytest

from conftest import own_server, publish_unnoised
from test_web_console import console, csrf_of, main_of

COMMON = "engineer"   # 14 members: above k (10), whatever the cell-key perturbation (±2)
SECOND = "teacher"    # 12 members: released, or suppressed as the small cell's complement
RARE = "falconer"     # 3 members: a small cell (pooled into "(other)" by the API)
STATS = "cu_cookies=n1p0s1a0"
DAY_US = 86400 * 1000000


@pytest.fixture(scope="module")
def ssrv(request):
    with own_server(request, "cu-stats-pages-", prepare=publish_unnoised) as s:
        s.people = []
        for i in range(29):
            occupation = COMMON if i < 14 else SECOND if i < 26 else RARE
            v = s.new_values(survey=True, occupation=occupation, age=str(30 + i % 3))
            s.register(v)
            s.people.append(v)
        # Traffic is released from the daily roll-up of days before today: hits are sent
        # today, moved back (the clock cannot move), then rolled up as the worker would.
        hits(s, "view", 12, days_ago=1)
        hits(s, "view", 11, days_ago=2)
        hits(s, "view", 4, days_ago=4)    # a day under k: suppressed
        hits(s, "rare", 3, days_ago=1)    # an event under k on a day above it
        r = s.cli("beacon", "rollup")
        assert r.returncode == 0 and "rolled up 3 day(s)" in r.stdout, (r.stdout, r.stderr)
        yield s


def hits(s, event, visitors, days_ago):
    """visitors distinct visitors (user agents) each viewing / with event, moved days_ago back."""
    for i in range(visitors):
        r = s.post("/v1/beacon", json={"page": "/", "event": event},
                   headers={"Cookie": STATS, "User-Agent": f"StatsPages-{event}-{days_ago}/{i}.0"})
        assert r.status_code == 204, r.text   # durable: committed before the answer
    now = time.time()
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    day = time.strftime("%Y-%m-%d", time.gmtime(now - days_ago * 86400))
    c = sqlite3.connect(os.path.join(s.data, "custodian.db"))
    with c:
        n = c.execute("UPDATE beacon_hits SET day = ?, minute_us = minute_us - ?"
                      " WHERE event = ? AND day = ?",
                      (day, days_ago * DAY_US, event, today)).rowcount
    c.close()
    assert n == visitors


def personal_of(s):
    """What names, reaches or locates a member: never on a statistics page."""
    return [v[k] for v in s.people for k in ("name", "address", "email", "phone")]


def release(c, **fields):
    data = {"by": "occupation", "purpose": "research", "noise": "none"}
    data.update(fields)
    return c.post("/console/statistics", data, csrf_from="/console/statistics")


def svg_of(text):
    m = re.search(r'<svg class="chart [a-z]+".*?</svg>', text, re.S)
    assert m, "no chart in the page"
    return m.group(0)


# ---- the form, per role ---------------------------------------------------------------------

def test_the_form_offers_the_purposes_the_policy_grants_the_role(ssrv):
    body = main_of(console(ssrv, "analyst").get("/console/statistics").text)
    assert '<form method="post" action="/console/statistics"' in body
    for p in ("research", "analysis", "materials"):
        assert f'<option value="{p}"' in body
    for f in ("age_band", "occupation", "hobbies", "eligibility", "consent"):
        assert f'<option value="{f}"' in body
    staff = main_of(console(ssrv, "staff").get("/console/statistics").text)
    assert '<option value="materials"' in staff
    assert '<option value="research"' not in staff
    officer = main_of(console(ssrv, "officer").get("/console/statistics").text)
    assert '<option value="research"' not in officer and 'class="alert"' in officer


def test_navigation_links_the_pages_for_the_roles_that_use_them(ssrv):
    assert 'href="/console/statistics"' in console(ssrv, "analyst").get("/console").text
    assert 'href="/console/statistics"' in console(ssrv, "staff").get("/console").text
    officer = console(ssrv, "officer").get("/console").text
    assert 'href="/console/statistics/budget"' in officer
    assert 'href="/console/statistics"' not in officer.replace("/console/statistics/budget", "")
    assert "/console/statistics" not in console(ssrv, "admin").get("/console").text


def test_a_visitor_is_sent_to_the_console_login(ssrv):
    r = ssrv.get("/console/statistics")
    assert r.status_code in (302, 303) and r.headers["Location"].startswith("/console/login")


# ---- a release ------------------------------------------------------------------------------

def test_a_release_is_drawn_with_the_small_cell_marked_suppressed(ssrv):
    r = release(console(ssrv, "analyst"))
    assert r.status_code == 200, r.text[:500]
    body = main_of(r.text)
    svg = svg_of(body)
    assert 'role="img"' in svg and '<title id="chart-title">' in svg and "<desc" in svg
    # The common occupation is a bar with its count; the rare one is marked, never a bar.
    assert svg.count('class="bar"') >= 1
    assert 'class="bar suppressed"' in svg
    assert "suppressed (&lt; 10)" in svg or "suppressed (complementary)" in svg
    # The same figures as a table beside the chart; k shown.
    table = re.search(r'<table class="stat-cells">.*?</table>', body, re.S).group(0)
    assert f"<th scope=\"row\">{COMMON}</th>" in table or "suppressed" in table
    assert 'class="tag suppressed"' in table
    assert "<dt>k</dt><dd>10" in body
    # No style attribute, no script: the CSP allows neither inline.
    assert "style=" not in svg and "<script" not in body
    for v in personal_of(ssrv):
        assert v.lower() not in r.text.lower(), v


def test_a_staff_member_releases_for_materials_only(ssrv):
    c = console(ssrv, "staff")
    assert release(c, purpose="materials").status_code == 200
    r = release(c, purpose="research")
    assert r.status_code == 403, r.status_code
    assert 'role="alert"' in r.text and "<svg" not in r.text


def test_a_narrow_filter_is_refused_with_the_apis_reason(ssrv):
    r = release(console(ssrv, "analyst"), by="age_band", where_field="occupation",
                where_value=RARE)
    assert r.status_code in (400, 403), r.status_code
    body = main_of(r.text)
    assert 'id="refusal"' in body and "<svg" not in body
    assert "too_few_members" in body
    # The filter's value is kept in the form (a POST: it never went in a URL).
    assert f'value="{RARE}"' in body


def test_noise_shows_the_budget_left_and_exhaustion_is_refused(ssrv):
    c = console(ssrv, "analyst")
    r = release(c, by="age_band", noise="laplace", epsilon="0.5")
    assert r.status_code == 200, r.text[:500]
    body = main_of(r.text)
    assert 'class="budget-left"' in body and "Laplace" in body
    # The policy's budget is 2.0 a month; one release may ask at most 10.
    r = release(c, by="age_band", noise="laplace", epsilon="5")
    assert r.status_code in (400, 403), r.status_code
    assert "budget_exhausted" in main_of(r.text)


def test_the_form_checks_its_choices_before_asking(ssrv):
    c = console(ssrv, "analyst")
    r = release(c, by="name")
    assert r.status_code == 400 and 'id="by-error"' in r.text
    r = release(c, noise="laplace", epsilon="")
    assert r.status_code == 400 and 'id="epsilon-error"' in r.text
    # Without the page's token the form is refused.
    r = ssrv.post("/console/statistics", headers=c.headers(),
                  data={"by": "occupation", "purpose": "research"})
    assert r.status_code == 403


def test_roles_the_api_refuses_see_its_refusal(ssrv):
    for role in ("officer", "admin", "service"):
        r = release(console(ssrv, role), purpose="research")
        assert r.status_code in (401, 403), (role, r.status_code)
        assert 'role="alert"' in r.text and "<svg" not in r.text


# ---- traffic and the budget -----------------------------------------------------------------

def test_traffic_is_a_time_series_with_a_table(ssrv):
    r = console(ssrv, "analyst").get("/console/statistics/traffic")
    assert r.status_code == 200, r.text[:500]
    body = main_of(r.text)
    svg = svg_of(body)
    assert 'class="chart series"' in svg and 'role="img"' in svg
    assert '<circle' in svg and "<path d=\"M" in svg
    assert '<table class="stat-days">' in body
    # Four days ago had four visitors: under k, a hatched gap, and no point that day.
    assert svg.count('class="gap"') == 1 and "suppressed (&lt; 10)" in svg
    assert 'class="tag suppressed"' in body
    # Two days ago: eleven visitors, one view each, in the table as in the chart.
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * 86400))
    assert f'<time datetime="{day}">{day}</time></th><td>11</td><td>11</td>' in body
    assert f"{day}: 11 Visitors" in svg
    # Yesterday's three visitors of the event "rare": suppressed too.
    r = console(ssrv, "analyst").get("/console/statistics/traffic?event=rare")
    assert r.status_code == 200
    assert svg_of(r.text).count('class="gap"') == 1
    # A range without hits: zeros on the axis, one row a day.
    r = console(ssrv, "analyst").get("/console/statistics/traffic?from=2026-01-01&to=2026-01-03")
    assert r.status_code == 200
    assert len(re.findall(r"<time datetime=\"2026-01-0[123]\">", r.text)) == 3


def test_traffic_with_a_bad_range_shows_the_refusal(ssrv):
    r = console(ssrv, "analyst").get(
        "/console/statistics/traffic?from=2026-12-31&to=2026-01-01")
    assert r.status_code == 400 and 'id="refusal"' in r.text


def test_the_budget_page_lists_the_ledger(ssrv):
    c = console(ssrv, "analyst")
    release(c, by="age_band", noise="laplace", epsilon="0.25")
    r = console(ssrv, "officer").get("/console/statistics/budget")
    assert r.status_code == 200, r.text[:500]
    body = main_of(r.text)
    assert '<table class="stat-budget">' in body and '<table class="stat-ledger">' in body
    assert "members" in body
    for role in ("analyst", "admin"):
        r = console(ssrv, role).get("/console/statistics/budget")
        assert r.status_code == 403 and 'id="refusal"' in r.text


def test_japanese(ssrv):
    r = console(ssrv, "analyst").get("/console/statistics?lang=ja")
    assert r.status_code == 200 and "会員の統計" in r.text
    c = console(ssrv, "analyst")
    page = c.get("/console/statistics?lang=ja")
    r = ssrv.post("/console/statistics?lang=ja", headers=c.headers(),
                  data={"by": "occupation", "purpose": "research", "noise": "none",
                        "csrf": csrf_of(page.text)})
    assert r.status_code == 200
    assert "秘匿" in html.unescape(svg_of(r.text))


def test_a_filter_value_too_long_is_the_forms_error(ssrv):
    r = release(console(ssrv, "analyst"), where_field="occupation", where_value="x" * 300)
    assert r.status_code == 400 and 'id="where-value-error"' in r.text


def test_a_release_from_the_page_is_the_apis_audited_release(ssrv):
    before = [e for e in ssrv.audit(limit=1000) if e.get("action") == "statistic"]
    r = release(console(ssrv, "analyst"), by="hobbies")
    assert r.status_code == 200
    after = [e for e in ssrv.audit(limit=1000) if e.get("action") == "statistic"]
    assert len(after) == len(before) + 1
    e = after[-1]
    assert e["role"] == "analyst" and e["purpose"] == "research" and e["fields"] == "hobbies"
    assert e["decision"] == "allow" and e["member"] == ""
    # The release the page shows is the one audited.
    shown = re.search(r"<code>([A-Za-z0-9_-]+)</code>", main_of(r.text)).group(1)
    assert e["reason"].endswith(f"release {shown}")


def test_the_default_release_is_noisy_kept_and_reused(ssrv):
    """The form's default noise is the policy's (Laplace, 0.25): the page says when the
    release was made; the same question again shows the kept release, marked reused; the
    fresh-release box asks a new one."""
    c = console(ssrv, "analyst")
    r = release(c, by="consent", noise="")
    assert r.status_code == 200, r.text[:500]
    body = main_of(r.text)
    assert "Laplace" in body and 'class="budget-left"' in body and "released" in body
    assert 'class="reused"' not in body
    first = re.search(r"<code>([A-Za-z0-9_-]+)</code>", body).group(1)
    r = release(c, by="consent", noise="")
    body = main_of(r.text)
    assert r.status_code == 200 and 'class="reused"' in body and f"<code>{first}</code>" in body
    r = release(c, by="consent", noise="", fresh="true")
    body = main_of(r.text)
    assert r.status_code == 200 and 'class="reused"' not in body
    assert f"<code>{first}</code>" not in body
