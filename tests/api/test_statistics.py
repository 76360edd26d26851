"""
Released statistics (docs/statistics.md, issue 13): GET /v1/stats/members, /v1/stats/beacons
and /v1/stats/budget — roles and purposes, the answer's shape, the house errors, one audit
entry per release (allowed or denied) naming the purpose, the statistic and the members
read, and nothing in an answer but counts and the answers' own values.
"""
import json
import os
import sqlite3

import pytest

from conftest import assert_error_body, assert_no_personal, own_server

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


def test_members_by_age_band_shape(ssrv):
    r = stats(ssrv, "analyst", by="age_band", purpose="research")
    assert r.status_code == 200, r.text
    b = r.json()
    assert set(b) == {"statistic", "by", "purpose", "where", "k", "members", "cells", "noise",
                      "release", "as_of"}
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
    r = stats(ssrv, "analyst", by="occupation", purpose="analysis")
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
    a = stats(ssrv, "analyst", by="hobbies", purpose="research").json()
    b = stats(ssrv, "analyst", by="hobbies", purpose="research").json()
    assert a["cells"] == b["cells"] and a["members"] == b["members"]
    assert a["release"] != b["release"]


def test_roles_and_purposes(ssrv):
    assert stats(ssrv, "staff", by="age_band", purpose="materials").status_code == 200
    r = stats(ssrv, "staff", by="age_band", purpose="research")
    assert r.status_code == 403
    assert_error_body(r, "purpose_not_allowed")
    r = stats(ssrv, "analyst", by="income", purpose="research")  # income is analysis's only
    assert r.status_code == 403
    assert_error_body(r, "purpose_not_allowed")
    for role in ("service", "officer", "admin", "subcontractor"):
        r = stats(ssrv, role, by="age_band", purpose="research")
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
                         ({"by": "age_band", "purpose": "research", "zz": "1"},
                          "invalid_argument")]:
        r = stats(ssrv, "analyst", **params)
        assert r.status_code == 400, (params, r.text)
        assert_error_body(r, code)
    r = stats(ssrv, "analyst", by="age_band", purpose="nope")
    assert r.status_code == 400
    assert_error_body(r, "purpose_unknown")


def test_narrow_where_is_refused(ssrv):
    r = stats(ssrv, "analyst", by="age_band", purpose="analysis",
              where="occupation:astronaut-unique-11")
    assert r.status_code == 403, r.text
    assert_error_body(r, "too_few_members")
    r = stats(ssrv, "analyst", by="age_band", purpose="analysis", where="occupation:teacher")
    assert r.status_code == 200, r.text
    assert r.json()["where"] == {"field": "occupation", "value": "teacher"}


def test_one_audit_entry_per_release(ssrv):
    before = audit_rows(ssrv)
    r = stats(ssrv, "analyst", by="hobbies", purpose="research")
    assert r.status_code == 200
    denied = stats(ssrv, "staff", by="hobbies", purpose="research")
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
    b = stats(ssrv, "analyst", by="eligibility", purpose="research").json()
    values = {c["value"] for c in b["cells"]}
    assert {"newsletter:eligible", "newsletter:not_eligible", "live_classes:eligible",
            "live_classes:not_eligible"} <= values
    # career_coaching needs fields outside research: not judged.
    assert not any(v.startswith("career_coaching") for v in values)
    b = stats(ssrv, "analyst", by="consent", purpose="research").json()
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
    r = ssrv.get("/v1/stats/beacons", role="staff",
                 params={"from": "2026-11-01", "to": "2026-11-03"})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["statistic"] == "beacons" and b["page"] is None and b["event"] is None
    assert [d["day"] for d in b["days"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert all(d["views"] == 0 and not d["suppressed"] for d in b["days"])
    r = ssrv.get("/v1/stats/beacons", role="analyst", params={"from": "2026-11-03",
                                                               "to": "2026-11-01"})
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")
    assert ssrv.get("/v1/stats/beacons", role="service",
                    params={"from": "2026-11-01", "to": "2026-11-03"}).status_code == 403


def test_cli_gives_the_api_answer(ssrv):
    """`custodian stats` is the same domain call: the same members, the same noise."""
    api = stats(ssrv, "analyst", by="occupation", purpose="research").json()
    r = ssrv.cli("stats", "members", "--by", "occupation", "--purpose", "research",
                 "--format", "json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    assert cli["cells"] == api["cells"] and cli["members"] == api["members"]
    assert audit_rows(ssrv)[-1][:3] == ("operator", "operator", "statistic")
    r = ssrv.cli("stats", "members", "--by", "age_band", "--purpose", "research",
                 "--where", "occupation:astronaut-unique-11")
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
                         params={"by": "hobbies", "purpose": "analysis"})
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
