"""
Records of processing and breach triage (issue 11), on a server of their own, so every
count is this module's.

  - A scripted incident: members registered; staff token T1 reads two of them under
    `support`, staff token T2 reads another under `membership`, T1 is refused one read,
    the suite's subcontractor reads a fourth under its contract.  `breach assess --token
    T1` names exactly the members T1 read, with the fields it was given, and not the
    others; `--token T2`, `--subcontractor`, no selector and the window's two bounds
    likewise; `--key` names exactly the members wrapped under that master key.
  - The assessment holds no personal value, is audited (`breach_assess`), and its
    Markdown draft agrees with its JSON.
  - `records` lists every purpose, field, third party and subcontractor registered; its
    JSON parses and agrees with its Markdown; the same data gives the same bytes.
  - Bad arguments: one line on stderr, exit 2; an unknown token or subcontractor, exit 1.
"""
import datetime
import json
import os
import re
import sqlite3
import time

import pytest

from conftest import FIELDS, POLICY, PURPOSES, SUBCONTRACT, assert_no_personal, own_server

ASSESS = ("breach", "assess")


def audit_last(s):
    """The last audit entry's seq, read from the database (the server's own head does not
    follow the command line's entries until its next write)."""
    db = sqlite3.connect(f"file:{os.path.join(s.data, 'custodian.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]
    finally:
        db.close()


def now_rfc3339():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tick():
    """A time strictly between the audit entries written before and after it."""
    time.sleep(0.01)
    t = now_rfc3339()
    time.sleep(0.01)
    return t


def issue(s, name):
    r = s.cli("token", "create", "--role", "staff", "--name", name)
    assert r.returncode == 0, r.stderr
    tid = re.search(r"^created token (\S+):", r.stdout, re.M).group(1)
    secret = re.search(r"^secret: (cu_\S+)$", r.stdout, re.M).group(1)
    return tid, "Bearer " + secret


def read(s, token, m, purpose, status=200):
    r = s.get(f"/v1/members/{m.id}", token=token, params={"purpose": purpose})
    assert r.status_code == status, r.text
    return r


def assess(s, *args, expect=0):
    r = s.cli(*ASSESS, *args)
    assert r.returncode == expect, (r.returncode, r.stdout, r.stderr)
    return r


def assess_json(s, *args):
    r = assess(s, *args, "--json")
    assert_no_personal(s, r.stdout)
    return json.loads(r.stdout)


def members_of(rep):
    return {m["id"]: m["fields"] for m in rep["members"]}


@pytest.fixture(scope="module")
def incident(request):
    with own_server(request, "cu-api-breach-") as s:
        t0 = now_rfc3339()
        m = [s.register(s.new_values(survey=True)) for _ in range(4)]
        t1_id, t1 = issue(s, "breach desk one")
        t2_id, t2 = issue(s, "breach desk two")
        before_first = tick()
        read(s, t1, m[0], "support")
        between = tick()
        read(s, t1, m[1], "support")
        read(s, t1, m[2], "research", status=403)     # refused: not a read of T1's
        read(s, t2, m[2], "membership")
        r = s.get(f"/v1/members/{m[3].id}", role="subcontractor",
                  params={"purpose": "troubleshooting"})
        assert r.status_code == 200, r.text
        t_end = tick()
        yield dict(s=s, m=m, t0=t0, t1=t1_id, t2=t2_id, before_first=before_first,
                   between=between, end=t_end)


def grant(purpose):
    return [f for f in FIELDS if f in PURPOSES[purpose]["fields"]]


def test_token_names_exactly_what_it_read(incident):
    s, m = incident["s"], incident["m"]
    rep = assess_json(s, "--since", incident["t0"], "--until", incident["end"],
                      "--token", incident["t1"])
    assert members_of(rep) == {m[0].id: grant("support"), m[1].id: grant("support")}
    assert rep["summary"]["members"] == 2 and rep["summary"]["events"] == 2
    assert rep["selector"] == {"kind": "token", "id": incident["t1"], "role": "staff",
                               "tokens_sharing_name": 0}
    assert [e["member"] for e in rep["timeline"]] == [m[0].id, m[1].id]
    assert {e["action"] for e in rep["timeline"]} == {"read"}
    assert {e["purpose"] for e in rep["timeline"]} == {"support"}
    assert [c["field"] for c in rep["categories"]] == grant("support")
    assert all(c["members"] == 2 for c in rep["categories"])
    assert rep["encryption"]["at_rest"] is True
    [tree] = [t["id"] for t in key_status(s)["keyring"]["trees"]]
    assert rep["encryption"]["keys"] == [{"key_id": tree, "members": 2}]
    # The Markdown draft names the same members and no other.
    md = assess(s, "--since", incident["t0"], "--until", incident["end"],
                "--token", incident["t1"]).stdout
    assert_no_personal(s, md)
    assert m[0].id in md and m[1].id in md
    assert m[2].id not in md and m[3].id not in md
    assert "Members whose data could have been exposed: 2" in md

    rep = assess_json(s, "--since", incident["t0"], "--until", incident["end"],
                      "--token", incident["t2"])
    assert members_of(rep) == {m[2].id: grant("membership")}


def test_subcontractor_and_all(incident):
    s, m = incident["s"], incident["m"]
    rep = assess_json(s, "--since", incident["t0"], "--until", incident["end"],
                      "--subcontractor", SUBCONTRACT)
    assert members_of(rep) == {m[3].id: grant("troubleshooting")}
    assert rep["selector"]["kind"] == "subcontractor"
    assert rep["selector"]["id"] == SUBCONTRACT
    rep = assess_json(s, "--since", incident["t0"], "--until", incident["end"])
    assert members_of(rep) == {m[0].id: grant("support"), m[1].id: grant("support"),
                               m[2].id: grant("membership"),
                               m[3].id: grant("troubleshooting")}
    assert rep["summary"]["events"] == 4


def test_window_bounds(incident):
    s, m = incident["s"], incident["m"]
    t1 = incident["t1"]
    rep = assess_json(s, "--since", incident["t0"], "--until", incident["between"],
                      "--token", t1)
    assert list(members_of(rep)) == [m[0].id]
    rep = assess_json(s, "--since", incident["between"], "--until", incident["end"],
                      "--token", t1)
    assert list(members_of(rep)) == [m[1].id]
    rep = assess_json(s, "--since", incident["t0"], "--until", incident["before_first"],
                      "--token", t1)
    assert rep["members"] == [] and rep["summary"]["events"] == 0
    assert rep["timeline"] == [] and rep["summary"]["first_event"] is None
    # since == until is a window of one instant: allowed.
    assess_json(s, "--since", incident["between"], "--until", incident["between"])


def key_status(s):
    r = s.cli("keys", "status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_key(incident):
    s, m = incident["s"], incident["m"]
    st = key_status(s)
    [master] = [k["id"] for k in st["master_keys"]]
    [tree] = [t["id"] for t in st["keyring"]["trees"]]
    assert master != tree
    # Members imported now are wrapped under the same tree as the incident's.
    rows = [s.new_values() for _ in range(3)]
    for v in rows:
        s.remember(v)
    path = os.path.join(s.root, "key2.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("name,address,phone,email\n")
        for v in rows:
            f.write(f"{v['name']},\"{v['address']}\",{v['phone']},{v['email']}\n")
    r = s.cli("import", path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    ids = set()
    for v in rows:
        r = s.cli("member", "find", "--email", v["email"])
        assert r.returncode == 0, r.stderr
        ids.add(r.stdout.split()[0])
    everyone = ids | {x.id for x in m}
    until = tick()
    # The tree wraps exactly these members' data keys.
    rep = assess_json(s, "--since", incident["t0"], "--until", until, "--key", str(tree))
    assert set(members_of(rep)) == everyone
    assert all(f == ["name", "address", "phone", "email"] for f in
               (members_of(rep)[i] for i in ids))
    assert members_of(rep)[m[0].id] == FIELDS       # every field the member holds
    assert rep["encryption"]["keys"] == [{"key_id": tree, "members": len(everyone)}]
    # The master key seals the keyring: its leak (with the keyring file) opens every tree.
    rep = assess_json(s, "--since", incident["t0"], "--until", until, "--key", str(master))
    assert set(members_of(rep)) == everyone
    # A key that wraps nothing exposes no one.
    rep = assess_json(s, "--since", incident["t0"], "--until", until, "--key",
                      str(tree + 100))
    assert rep["members"] == [] and rep["summary"]["members"] == 0


def test_assessment_is_audited(incident):
    s = incident["s"]
    head = audit_last(s)
    assess(s, "--since", incident["t0"], "--until", incident["end"], "--token", incident["t1"])
    entries = [e for e in s.audit(after=head) if e["action"] == "breach_assess"]
    assert len(entries) == 1, entries
    e = entries[0]
    assert (e["actor"], e["role"], e["decision"]) == ("operator", "operator", "done")
    assert e["member"] == ""
    assert "members 2" in e["reason"] and incident["t1"] in e["reason"]


@pytest.mark.parametrize("args", [
    (),
    ("--since", "2026-01-01T00:00:00Z"),
    ("--until", "2026-01-01T00:00:00Z"),
    ("--since", "yesterday", "--until", "2026-01-01T00:00:00Z"),
    ("--since", "2026-01-01T00:00:00+09:00", "--until", "2027-01-01T00:00:00Z"),
    ("--since", "2026-01-01T24:00:00Z", "--until", "2027-01-01T00:00:00Z"),
    ("--since", "2026-02-30T00:00:00Z", "--until", "2027-01-01T00:00:00Z"),
    ("--since", "2027-01-01T00:00:00Z", "--until", "2026-01-01T00:00:00Z"),
    ("--since", "2026-01-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z", "--key", "0"),
    ("--since", "2026-01-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z", "--key", "one"),
    ("--since", "2026-01-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z", "--key", "1",
     "--token", "x"),
    ("--since", "2026-01-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z", "--since",
     "2026-01-01T00:00:00Z"),
    ("--since", "2026-01-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z", "--member", "x"),
    ("--since", "2026-01-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z", "extra"),
])
def test_bad_arguments(incident, args):
    s = incident["s"]
    head = audit_last(s)
    r = assess(s, *args, expect=2)
    assert r.stdout == ""
    assert r.stderr.startswith("custodian: ") and r.stderr.count("\n") == 1, r.stderr
    assert audit_last(s) == head                    # nothing assessed, nothing written


def test_unknown_ids(incident):
    s = incident["s"]
    for args in (("--token", "AAAAAAAAAAAAAAAAAAAAAA"), ("--subcontractor", "no-such-one")):
        r = assess(s, "--since", incident["t0"], "--until", incident["end"], *args, expect=1)
        assert r.stdout == "" and r.stderr.count("\n") == 1, r.stderr


# ---- records -------------------------------------------------------------------------------

def md_table_ids(md, heading):
    """The first column's `ids` of the table under a '## heading'."""
    part = md.split("## " + heading, 1)[1].split("\n## ", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\| `([^`]+)`", part, re.M)]


def test_records(incident):
    s = incident["s"]
    tp = {"id": "breach-printer", "name": "Acme | Printing", "contact": "privacy@acme.example\nTokyo",
          "purpose": "Printing membership cards.", "fields": ["name", "address"]}
    r = s.post("/v1/third-parties", role="officer", json=tp)
    assert r.status_code == 201, r.text
    r = s.cli("subcontractor", "add", "--id", "breach-mailer", "--name", "Mailer KK",
              "--contact", "ops@mailer.example", "--fields", "name,email", "--purposes",
              "product_news", "--measure", "encryption at rest", "--measure", "staff vetting",
              "--start", "2026-01-01", "--end", "2027-06-30")
    assert r.returncode == 0, r.stderr
    md = s.cli("records")
    assert md.returncode == 0, md.stderr
    js = s.cli("records", "--json")
    assert js.returncode == 0, js.stderr
    assert s.cli("records").stdout == md.stdout          # the same data, the same bytes
    assert s.cli("records", "--json").stdout == js.stdout
    rec = json.loads(js.stdout)
    md = md.stdout
    assert_no_personal(s, md + js.stdout)

    assert rec["policy"]["version"] == POLICY["version"]
    assert [p["id"] for p in rec["purposes"]] == [p["id"] for p in POLICY["purposes"]]
    assert [f["name"] for f in rec["fields"]] == FIELDS
    assert [t["id"] for t in rec["third_parties"]] == ["breach-printer"]
    assert sorted(x["id"] for x in rec["subcontractors"]) == sorted(["breach-mailer",
                                                                     SUBCONTRACT])
    for p in rec["purposes"]:
        want = POLICY["purposes"][[q["id"] for q in POLICY["purposes"]].index(p["id"])]
        assert p["fields"] == [f for f in FIELDS if f in want["fields"]]
        assert set(p["roles"]) == set(want["roles"])
        assert p["retention"] == "not set"
    sub = next(x for x in rec["subcontractors"] if x["id"] == "breach-mailer")
    assert sub == {"id": "breach-mailer", "name": "Mailer KK", "contact": "ops@mailer.example",
                   "purposes": ["product_news"], "fields": ["name", "email"],
                   "measures": ["encryption at rest", "staff vetting"],
                   "start": "2026-01-01", "end": "2027-06-30"}
    assert rec["third_parties"][0]["fields"] == ["name", "address"]
    assert {m["id"] for m in rec["safety_measures"]} >= {
        "encryption_at_rest", "blind_indexes", "access_control", "audit_trail", "transport"}

    # The Markdown says the same: every purpose, field, third party and subcontractor.
    assert [m.group(1) for m in re.finditer(r"^\| \d+ \| `([a-z_]+)`:", md, re.M)] == \
        [p["id"] for p in rec["purposes"]]
    assert md_table_ids(md, "Personal data") == [f["name"] for f in rec["fields"]]
    assert md_table_ids(md, "Third parties") == [t["id"] for t in rec["third_parties"]]
    assert md_table_ids(md, "Subcontractors") == [x["id"] for x in rec["subcontractors"]]
    for p in rec["purposes"]:
        row = next(line for line in md.splitlines() if f"`{p['id']}`:" in line)
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells[2] == (", ".join(p["roles"]) or "—")
        assert cells[3].split("; ")[0] == (", ".join(p["fields"]) or "—")
        assert cells[7] == p["retention"]
    assert "Acme \\| Printing" in md and "privacy@acme.example<br>Tokyo" in md
    for x in rec["safety_measures"]:
        assert f"(`{x['id']}`)" in md
    r = s.cli("records", "--bogus")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stdout == ""
