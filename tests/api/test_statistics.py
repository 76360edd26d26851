"""
Released statistics (docs/statistics.md, issue 13): GET /v1/stats/members, /v1/stats/beacons
and /v1/stats/budget — roles and purposes, the answer's shape, the house errors, one audit
entry per release (allowed or denied) naming the purpose, the statistic and the members
read, and nothing in an answer but counts and the answers' own values.

Most tests here check exact disclosure control (k, suppression, the cell-key perturbation) on a
server whose policy opts in to releases without noise (statistics.allow_unnoised, a test
policy published before the start) and ask noise=none; the defaults (DP noise, one release per
question per period) are tested on a server with the shipped policy (dsrv, at the end).
"""
import json
import os
import sqlite3

import pytest

from conftest import assert_error_body, assert_no_personal, own_server, publish_unnoised

OCCUPATIONS = ["teacher", "engineer", "nurse", "farmer"]
HOBBIES = ["chess", "running", "reading", "cooking"]
N = 120


def members_file(path):
    """N members with survey answers; one of them has a rare occupation (a small cell)."""
    with open(path, "w") as f:
        for i in range(N):
            r = {"name": f"Stats Person{i:04d}", "address": f"{i} Statistics Street",
                 "phone": f"+8190{i + 5000:08d}", "email": f"stats.person{i}@stats-example.org"}
            if i % 6:
                r["age"] = str(15 + (i * 7) % 60)
            if i % 5:
                r["occupation"] = OCCUPATIONS[i % 4]
            if i % 3:
                r["hobbies"] = ",".join(HOBBIES[j] for j in range(4) if (i >> j) & 1) or "go"
            if i == 11:
                r["occupation"] = "astronaut-unique-11"
            f.write(json.dumps(r) + "\n")
    return path


def prepare(s):
    r = s.cli("import", members_file(os.path.join(s.root, "members.jsonl")))
    assert r.returncode == 0, r.stderr + r.stdout
    s.personal.add("astronaut-unique-11")
    publish_unnoised(s)
    return None


@pytest.fixture(scope="module")
def ssrv(request):
    with own_server(request, "cu-stats-", prepare=prepare) as s:
        yield s


def audit_rows(s):
    c = sqlite3.connect(os.path.join(s.data, "custodian.db"))
    try:
        return c.execute("SELECT actor, role, action, member, purpose, fields, decision, reason"
                         " FROM audit WHERE action = 'statistic' ORDER BY seq").fetchall()
    finally:
        c.close()


def stats(s, role, **params):
    return s.get("/v1/stats/members", role=role, params=params)


def exact(s, role, **params):
    """A release without noise (the cell-key method alone: allow_unnoised)."""
    return stats(s, role, noise="none", **params)


def test_members_by_age_band_shape(ssrv):
    r = exact(ssrv, "analyst", by="age_band", purpose="research")
    assert r.status_code == 200, r.text
    b = r.json()
    assert set(b) == {"statistic", "by", "purpose", "where", "k", "members", "cells", "noise",
                      "release", "as_of", "reused"}
    assert b["statistic"] == "members" and b["by"] == "age_band" and b["purpose"] == "research"
    assert b["where"] is None and b["noise"] is None and b["k"] == 10
    assert abs(b["members"] - N) <= 2
    values = [c["value"] for c in b["cells"]]
    assert values == ["0\u201317", "18\u201324", "25\u201334", "35\u201344", "45\u201354",
                      "55\u201364", "65+", "(no answer)"]
    for c in b["cells"]:
        assert set(c) <= {"value", "count", "suppressed", "reason"}
        if c["suppressed"]:
            assert c["count"] is None and c["reason"] in ("small", "complementary")
        else:
            assert c["count"] == 0 or c["count"] >= 10


def test_small_cells_are_suppressed_and_never_named(ssrv):
    r = exact(ssrv, "analyst", by="occupation", purpose="analysis")
    assert r.status_code == 200, r.text
    b = r.json()
    values = [c["value"] for c in b["cells"]]
    assert "astronaut-unique-11" not in r.text
    assert "(other)" in values
    other = next(c for c in b["cells"] if c["value"] == "(other)")
    assert other["suppressed"] and other["reason"] == "small" and other["count"] is None
    # Exactly one small cell would be recomputable from the total: a second one is withheld.
    assert sum(1 for c in b["cells"] if c["suppressed"]) >= 2
    assert any(c.get("reason") == "complementary" for c in b["cells"])
    assert_no_personal(ssrv, r.text)


def test_same_query_same_answer(ssrv):
    """The cell-key method alone: the same members give the same noise, even fresh."""
    a = exact(ssrv, "analyst", by="hobbies", purpose="research", fresh="true").json()
    b = exact(ssrv, "analyst", by="hobbies", purpose="research", fresh="true").json()
    assert a["cells"] == b["cells"] and a["members"] == b["members"]
    assert a["release"] != b["release"] and not a["reused"] and not b["reused"]
    # Not fresh: this month's latest release of the question, itself.
    c = exact(ssrv, "analyst", by="hobbies", purpose="research").json()
    assert c["reused"] and c["release"] == b["release"] and c["as_of"] == b["as_of"]


def test_roles_and_purposes(ssrv):
    assert exact(ssrv, "staff", by="age_band", purpose="materials").status_code == 200
    r = exact(ssrv, "staff", by="age_band", purpose="research")
    assert r.status_code == 403
    assert_error_body(r, "purpose_not_allowed")
    r = exact(ssrv, "analyst", by="income", purpose="research")  # income is analysis's only
    assert r.status_code == 403
    assert_error_body(r, "purpose_not_allowed")
    for role in ("service", "officer", "admin", "subcontractor"):
        r = exact(ssrv, role, by="age_band", purpose="research")
        assert r.status_code == 403, (role, r.text)
        assert_error_body(r)
    r = ssrv.get("/v1/stats/members", params={"by": "age_band", "purpose": "research"})
    assert r.status_code == 401


def test_bad_parameters(ssrv):
    for params, code in [({"by": "name", "purpose": "research"}, "invalid_argument"),
                         ({"by": "email", "purpose": "research"}, "invalid_argument"),
                         ({"by": "age_band"}, "purpose_required"),
                         ({"by": "age_band", "purpose": "research", "where": "nocolon"},
                          "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "where": "age_band:7"},
                          "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "noise": "laplace"},
                          "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "noise": "laplace",
                           "epsilon": "-1"}, "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "noise": "cell-key"},
                          "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "noise": "none",
                           "epsilon": "1"}, "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "fresh": "yes"},
                          "invalid_argument"),
                         ({"by": "age_band", "purpose": "research", "zz": "1"},
                          "invalid_argument")]:
        r = stats(ssrv, "analyst", **params)
        assert r.status_code == 400, (params, r.text)
        assert_error_body(r, code)
    r = stats(ssrv, "analyst", by="age_band", purpose="nope")
    assert r.status_code == 400
    assert_error_body(r, "purpose_unknown")


def test_narrow_where_is_refused(ssrv):
    r = exact(ssrv, "analyst", by="age_band", purpose="analysis",
              where="occupation:astronaut-unique-11")
    assert r.status_code == 403, r.text
    assert_error_body(r, "too_few_members")
    r = exact(ssrv, "analyst", by="age_band", purpose="analysis", where="occupation:teacher")
    assert r.status_code == 200, r.text
    assert r.json()["where"] == {"field": "occupation", "value": "teacher"}


def test_one_audit_entry_per_release(ssrv):
    before = audit_rows(ssrv)
    r = exact(ssrv, "analyst", by="hobbies", purpose="research", fresh="true")
    assert r.status_code == 200
    denied = exact(ssrv, "staff", by="hobbies", purpose="research")
    assert denied.status_code == 403
    after = audit_rows(ssrv)
    assert len(after) == len(before) + 2
    ok, no = after[-2], after[-1]
    assert ok[1] == "analyst" and ok[3] == "" and ok[4] == "research"
    assert ok[5] == "hobbies" and ok[6] == "allow"
    assert "members by hobbies" in ok[7] and f"{N} members read" in ok[7]
    assert r.json()["release"] in ok[7]
    assert no[1] == "staff" and no[6] == "deny" and "purpose_not_allowed" in no[7]
    # Nothing per member.
    c = sqlite3.connect(os.path.join(ssrv.data, "custodian.db"))
    try:
        n = c.execute("SELECT count(*) FROM audit WHERE action = 'read'").fetchone()[0]
    finally:
        c.close()
    assert n == 0


def test_eligibility_and_consent(ssrv):
    b = exact(ssrv, "analyst", by="eligibility", purpose="research").json()
    values = {c["value"] for c in b["cells"]}
    assert {"newsletter:eligible", "newsletter:not_eligible", "live_classes:eligible",
            "live_classes:not_eligible"} <= values
    # career_coaching needs fields outside research: not judged.
    assert not any(v.startswith("career_coaching") for v in values)
    b = exact(ssrv, "analyst", by="consent", purpose="research").json()
    assert {"testimonials:consented", "testimonials:refused", "testimonials:no_answer"} <= \
        {c["value"] for c in b["cells"]}


def test_noise_spends_the_budget_then_refuses(ssrv):
    r = stats(ssrv, "analyst", by="age_band", purpose="research", noise="laplace", epsilon="1.5")
    assert r.status_code == 200, r.text
    n = r.json()["noise"]
    assert n["mechanism"] == "laplace" and n["epsilon"] == 1.5 and n["delta"] is None
    assert n["budget"]["dataset"] == "members" and n["budget"]["spent"] == 1.5
    assert n["budget"]["limit"] == 2.0
    r = stats(ssrv, "analyst", by="age_band", purpose="research", noise="gaussian",
              epsilon="0.6", delta="0.00001")
    assert r.status_code == 403, r.text
    assert_error_body(r, "budget_exhausted")
    b = ssrv.get("/v1/stats/budget", role="officer")
    assert b.status_code == 200, b.text
    body = b.json()
    members = next(d for d in body["datasets"] if d["dataset"] == "members")
    assert members["spent"] == 1.5 and members["limit"] == 2.0
    assert len(body["ledger"]) == 1 and body["ledger"][0]["epsilon"] == 1.5
    assert body["ledger"][0]["mechanism"] == "laplace"
    r = stats(ssrv, "analyst", by="age_band", purpose="research", noise="gaussian",
              epsilon="0.5", delta="0.00001")
    assert r.status_code == 200, r.text
    assert r.json()["noise"]["delta"] == 0.00001
    assert ssrv.get("/v1/stats/budget", role="analyst").status_code == 403


def test_beacons(ssrv):
    import time
    today = time.strftime("%Y-%m-%d", time.gmtime())
    r = ssrv.cli("beacon", "rollup")
    assert r.returncode == 0, r.stderr
    r = ssrv.get("/v1/stats/beacons", role="staff",
                 params={"from": "2026-11-01", "to": "2026-11-03"})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["statistic"] == "beacons" and b["page"] is None and b["event"] is None
    assert [d["day"] for d in b["days"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert all(d["views"] == 0 and not d["suppressed"] and d["counted"] for d in b["days"])
    # Today is not rolled up yet: not counted (null), never a 0 that is not one.
    r = ssrv.get("/v1/stats/beacons", role="staff", params={"from": today, "to": today})
    assert r.status_code == 200, r.text
    d = r.json()["days"][0]
    assert d["counted"] is False and d["views"] is None and d["visitors"] is None
    r = ssrv.get("/v1/stats/beacons", role="analyst", params={"from": "2026-11-03",
                                                               "to": "2026-11-01"})
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")
    assert ssrv.get("/v1/stats/beacons", role="service",
                    params={"from": "2026-11-01", "to": "2026-11-03"}).status_code == 403


def test_cli_gives_the_api_answer(ssrv):
    """`custodian stats` is the same domain call: the same members, the same noise."""
    api = exact(ssrv, "analyst", by="occupation", purpose="research", fresh="true").json()
    r = ssrv.cli("stats", "members", "--by", "occupation", "--purpose", "research",
                 "--noise", "none", "--fresh", "--format", "json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    assert cli["cells"] == api["cells"] and cli["members"] == api["members"]
    assert cli["release"] != api["release"] and not cli["reused"]
    # The same question again, without --fresh: the kept release (the CLI's own).
    r = ssrv.cli("stats", "members", "--by", "occupation", "--purpose", "research",
                 "--noise", "none")
    assert r.returncode == 0 and "reused: nothing spent" in r.stdout, r.stdout
    assert cli["release"] in r.stdout
    assert audit_rows(ssrv)[-1][:3] == ("operator", "operator", "statistic")
    r = ssrv.cli("stats", "members", "--by", "age_band", "--purpose", "research",
                 "--noise", "none", "--where", "occupation:astronaut-unique-11")
    assert r.returncode == 1 and "too few members" in r.stderr, r.stderr
    assert "astronaut" not in r.stderr
    r = ssrv.cli("stats", "members", "--by", "name", "--purpose", "research")
    assert r.returncode == 2, r.stderr
    r = ssrv.cli("stats", "budget", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert {d["dataset"] for d in json.loads(r.stdout)["datasets"]} == {"members", "beacons"}
    r = ssrv.cli("stats", "beacons", "--from", "2026-11-01", "--to", "2026-11-02")
    assert r.returncode == 0 and "2026-11-02" in r.stdout, r.stderr


def test_one_member_statistic_at_a_time_the_others_wait_with_nothing_spent(ssrv):
    """A member statistic holds a network thread for its scan, so a server computes one at
    a time: one asked meanwhile answers 429 rate_limited with Retry-After, before anything
    is planned, audited or spent — each 200 has its one audit entry, each 429 none."""
    import threading

    import requests

    h = {"Authorization": "Bearer " + ssrv.tokens["analyst"]}
    url = ssrv.base + "/v1/stats/members"
    before = len(audit_rows(ssrv))
    answers = []

    def ask():
        r = requests.get(url, headers=h, timeout=30,
                         params={"by": "hobbies", "purpose": "analysis", "noise": "none",
                                 "fresh": "true"})
        answers.append(r)

    for _ in range(30):  # rounds of six at once, until two met
        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if any(r.status_code == 429 for r in answers):
            break
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 429}, statuses
    assert 429 in statuses, "six statistics at once never met in 30 rounds"
    busy = next(r for r in answers if r.status_code == 429)
    assert_error_body(busy, "rate_limited")
    assert int(busy.headers["Retry-After"]) >= 1
    ok = [r for r in answers if r.status_code == 200]
    assert ok and all(r.json()["cells"] == ok[0].json()["cells"] for r in ok)
    assert len(audit_rows(ssrv)) - before == len(ok)


# ---- the defaults: DP noise, one release per question per period (the shipped policy) -------

@pytest.fixture(scope="module")
def dsrv(request):
    def prep(s):
        r = s.cli("import", members_file(os.path.join(s.root, "members.jsonl")))
        assert r.returncode == 0, r.stderr + r.stdout
        s.personal.add("astronaut-unique-11")
    with own_server(request, "cu-stats-dp-", prepare=prep) as s:
        yield s


def budget(s):
    body = s.get("/v1/stats/budget", role="officer").json()
    members = next(d for d in body["datasets"] if d["dataset"] == "members")
    return members["spent"], len(body["ledger"])


def test_defaults_noise_and_reuse(dsrv):
    """No noise named: Laplace at the policy's 0.25 from a budget of 5; the same question
    again is the kept release (reused, the same id and time, nothing spent, one audit entry
    naming the release it reused); fresh=true is a new release that spends."""
    r = stats(dsrv, "analyst", by="age_band", purpose="research")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["noise"]["mechanism"] == "laplace" and a["noise"]["epsilon"] == 0.25
    assert a["noise"]["budget"]["limit"] == 5.0 and a["noise"]["budget"]["spent"] == 0.25
    assert a["reused"] is False
    before = audit_rows(dsrv)
    b = stats(dsrv, "analyst", by="age_band", purpose="research").json()
    assert b["reused"] is True and b["release"] == a["release"] and b["as_of"] == a["as_of"]
    assert b["cells"] == a["cells"] and b["members"] == a["members"]
    assert budget(dsrv) == (0.25, 1)
    after = audit_rows(dsrv)
    assert len(after) == len(before) + 1
    assert after[-1][6] == "allow" and f"reuses release {a['release']}" in after[-1][7]
    assert "no member read" in after[-1][7]
    # The same question with the same parameters named is the same question.
    c = stats(dsrv, "analyst", by="age_band", purpose="research", noise="laplace",
              epsilon="0.25").json()
    assert c["reused"] and c["release"] == a["release"]
    # Fresh: a new draw, spent.
    d = stats(dsrv, "analyst", by="age_band", purpose="research", fresh="true").json()
    assert d["reused"] is False and d["release"] != a["release"]
    assert budget(dsrv) == (0.5, 2)
    # ... and the question's latest release is the one reused from now on.
    e = stats(dsrv, "analyst", by="age_band", purpose="research").json()
    assert e["reused"] and e["release"] == d["release"]


def test_unnoised_is_refused_by_default(dsrv):
    before = len(audit_rows(dsrv))
    r = exact(dsrv, "analyst", by="age_band", purpose="research")
    assert r.status_code == 403, r.text
    assert_error_body(r, "noise_required")
    assert len(audit_rows(dsrv)) == before
    r = dsrv.cli("stats", "members", "--by", "age_band", "--purpose", "research",
                 "--noise", "none")
    assert r.returncode == 1 and "allow_unnoised" in r.stderr, r.stderr


def test_differencing_and_dummy_registrations_get_the_same_release(dsrv):
    """The attacker asks, changes the population (a member leaves, dummies sign up on the
    public form), asks again: the same release every time — no difference to read, no new
    draw to average — and nothing more spent."""
    first = stats(dsrv, "analyst", by="occupation", purpose="research").json()
    spent, rows = budget(dsrv)
    # A member leaves (erased): the same release, so the two tables differ in nothing.
    c = sqlite3.connect(os.path.join(dsrv.data, "custodian.db"))
    try:
        (victim,) = c.execute("SELECT id FROM members WHERE erased_us IS NULL LIMIT 1").fetchone()
    finally:
        c.close()
    r = dsrv.cli("member", "erase", victim)
    assert r.returncode == 0, r.stderr
    again = stats(dsrv, "analyst", by="occupation", purpose="research").json()
    assert again["reused"] and again["cells"] == first["cells"]
    for i in range(5):
        dsrv.register(dsrv.new_values(survey=True, occupation="teacher"))
        again = stats(dsrv, "analyst", by="occupation", purpose="research").json()
        assert again["reused"] and again["release"] == first["release"]
        assert again["cells"] == first["cells"] and again["members"] == first["members"]
    assert budget(dsrv) == (spent, rows)


def test_budget_exhausted_spends_nothing_and_reuse_still_answers(dsrv):
    spent, rows = budget(dsrv)
    left = 5.0 - spent
    r = stats(dsrv, "analyst", by="consent", purpose="research", noise="laplace",
              epsilon=str(left))
    assert r.status_code == 200, r.text
    kept = r.json()["release"]
    r = stats(dsrv, "analyst", by="consent", purpose="research", noise="laplace",
              epsilon=str(left), fresh="true")
    assert r.status_code == 403, r.text
    assert_error_body(r, "budget_exhausted")
    assert budget(dsrv) == (5.0, rows + 1)
    r = stats(dsrv, "analyst", by="consent", purpose="research", noise="laplace",
              epsilon=str(left))
    assert r.status_code == 200 and r.json()["reused"] and r.json()["release"] == kept
    assert budget(dsrv) == (5.0, rows + 1)
