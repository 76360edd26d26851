"""
The web pages on a failing disk (tests/faults/fail_writes.c, as in test_faults.py).

While every write to the data directory fails, each member page and each console page that
reads through an audited API route answers the error page (503, "not available right now")
rather than a half-drawn page, and each form posted is refused the same way with nothing of
it kept: the audit head does not move, and what the forms would have filed is absent once
the disk is back.  Sessions and CSRF tokens are taken before the fault.
"""
import os
import re

import pytest

from conftest import POLICY, SESSION_COOKIE, assert_no_personal, own_server
from test_faults import assert_readiness, shim_path

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
UNAVAILABLE = "This page is not available right now"
CONSOLE = "cu_console"


def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
    assert m, "no csrf field on the page"
    return m.group(1)


@pytest.fixture(scope="module")
def faulty(request):
    shim = shim_path(os.path.abspath(request.config.getoption("--custodian")))
    assert os.path.exists(shim), f"no fault shim at {shim}: build the fail_writes target"

    def prepare(s):
        s.control = os.path.join(s.root, "fault")
        return dict(os.environ, LD_PRELOAD=shim, CU_FAULT_DIR=os.path.realpath(s.data),
                    CU_FAULT_CONTROL=s.control,
                    ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")

    with own_server(request, "cu-web-faults-", prepare=prepare) as s:
        yield s


class Fault:
    def __init__(self, s, kind="ENOSPC"):
        self.s, self.kind = s, kind

    def __enter__(self):
        with open(self.s.control, "w") as f:
            f.write(self.kind)
        assert_readiness(self.s, False)
        return self

    def __exit__(self, *exc):
        os.unlink(self.s.control)
        assert_readiness(self.s, True)


def member_get(s, m, path):
    return s.http.get(s.base + path, headers={"Cookie": f"{SESSION_COOKIE}={m.cookie}",
                                              "Accept": "text/html"},
                      allow_redirects=False, timeout=30)


def member_post(s, m, path, data, csrf):
    return s.http.post(s.base + path, data=dict(data, csrf=csrf),
                       headers=dict(FORM, Cookie=f"{SESSION_COOKIE}={m.cookie}"),
                       allow_redirects=False, timeout=30)


def officer_get(s, path, role="officer"):
    return s.get(path, headers={"Cookie": f"{CONSOLE}={s.tokens[role]}"})


def officer_post(s, path, data, csrf, role="officer"):
    return s.request("POST", path, data=dict(data, csrf=csrf),
                     headers={"Cookie": f"{CONSOLE}={s.tokens[role]}"})


def unavailable(r, what, form_again=False):
    """The error page; or (form_again) the form shown again with the store's refusal."""
    assert r.status_code == 503, (what, r.status_code, r.text[:600])
    assert r.headers["Content-Type"].startswith("text/html"), what
    if form_again:
        assert re.search(r'role="alert"[^>]*>[^<]*the store failed', r.text), (what, r.text)
        assert 'name="csrf"' in r.text, what
    else:
        assert UNAVAILABLE in r.text, (what, r.text[:600])


@pytest.fixture(scope="module")
def casework(faulty):
    """A member with one of each case, and the officer's view of them, made before any fault."""
    s = faulty
    assert_readiness(s, True)
    m = s.register(s.new_values(survey=True), role=None, password="web fault password")
    s.login(m)
    req = s.post("/v1/requests", member=m, json={"type": "disclosure"})
    assert req.status_code == 201, req.text
    cpl = s.post("/v1/complaints", member=m, json={"about": "use", "text": "web fault complaint"})
    assert cpl.status_code == 201, cpl.text
    diary = s.post("/v1/me/diaries", member=m, json={"title": "web fault entry", "body": "b"})
    assert diary.status_code == 201, diary.text
    return {"member": m, "request": req.json()["request"]["id"],
            "complaint": cpl.json()["complaint"]["id"],
            "diary": diary.json()["entry"]["id"] if "entry" in diary.json()
            else diary.json()["id"]}


def test_member_pages_say_unavailable_on_a_failing_disk(faulty, casework):
    s, m = faulty, casework["member"]
    # Pages that read the member's data (an audited read) fail; the lists of one's own cases,
    # consents and notices read without an audit entry and are drawn whole.
    audited = ["/me", "/me/data", f"/me/requests/{casework['request']}",
               f"/me/complaints/{casework['complaint']}", "/me/diary",
               f"/me/diary/{casework['diary']}/edit", "/me/export/json", "/me/export/csv"]
    plain = ["/me/consents", "/me/export", "/me/requests", "/me/complaints", "/me/notices",
             "/me/access-log", "/policy", f"/policy/versions/{POLICY['version']}"]
    pages = audited + plain
    for p in pages:
        assert member_get(s, m, p).status_code == 200, p
    head = s.audit_head()
    with Fault(s):
        for p in pages:
            r = member_get(s, m, p)
            if p in audited:
                unavailable(r, p)
                assert_no_personal(s, r.text)
            else:
                assert r.status_code == 200 and UNAVAILABLE not in r.text, (p, r.status_code)
        assert s.audit_head() == head


def test_member_forms_are_refused_and_nothing_is_kept(faulty, casework):
    s, m = faulty, casework["member"]
    csrf = csrf_of(member_get(s, m, "/me/requests").text)
    before = {
        "requests": s.get("/v1/me/requests", member=m).json()["requests"],
        "complaints": s.get("/v1/me/complaints", member=m).json()["complaints"],
        "diaries": s.get("/v1/me/diaries", member=m).json()["entries"],
    }
    forms = [
        ("/me/requests", {"kind": "disclosure", "note": "fault note"}),
        ("/me/requests", {"kind": "amendment", "field": "hobbies", "value": "fault-hobby",
                          "reason": "fault reason"}),
        ("/me/requests", {"kind": "erasure", "confirm": "yes"}),
        ("/me/complaints", {"about": "use", "text": "fault complaint text"}),
        ("/me/diary", {"title": "fault diary title", "body": "fault body"}),
        (f"/me/diary/{casework['diary']}/edit", {"title": "fault edited", "body": "x"}),
        (f"/me/diary/{casework['diary']}/delete", {}),
        ("/me/data", {"hobbies": "fault-data-hobby"}),
        ("/me/consents", {"kind": "purpose", "target": "testimonials", "granted": "1"}),
        ("/policy/accept", {}),
    ]
    head = s.audit_head()
    got = {}
    with Fault(s):
        for path, data in forms:
            r = member_post(s, m, path, data, csrf)
            got[(path, tuple(data))] = r.status_code
            if r.status_code != 303:
                unavailable(r, path)
        assert s.audit_head() == head
    assert all(v == 503 for v in got.values()), got
    assert s.get("/v1/me/requests", member=m).json()["requests"] == before["requests"]
    assert s.get("/v1/me/complaints", member=m).json()["complaints"] == before["complaints"]
    assert s.get("/v1/me/diaries", member=m).json()["entries"] == before["diaries"]
    assert "fault-data-hobby" not in s.get("/v1/me", member=m).text
    choices = s.get("/v1/me/consents", member=m).json()["choices"]
    assert not any(c["target"] == "testimonials" and c.get("granted") for c in choices)


def test_officer_pages_say_unavailable_on_a_failing_disk(faulty, casework):
    s = faulty
    # A case opened is an audited read of the member's case; the queues and registries are not.
    audited = [f"/console/requests/{casework['request']}",
               f"/console/complaints/{casework['complaint']}"]
    plain = ["/console/requests", "/console/complaints", "/console/exceptions",
             "/console/subcontractors", "/console/third-parties", "/console/audit",
             "/console/policy"]
    pages = audited + plain
    for p in pages:
        assert officer_get(s, p).status_code == 200, p
    head = s.audit_head()
    with Fault(s):
        for p in pages:
            r = officer_get(s, p)
            if p in audited:
                unavailable(r, p)
            else:
                assert r.status_code == 200 and UNAVAILABLE not in r.text, (p, r.status_code)
        assert s.audit_head() == head


def test_officer_actions_are_refused_and_nothing_is_kept(faulty, casework):
    s = faulty
    rid, cid = casework["request"], casework["complaint"]
    csrf = csrf_of(officer_get(s, f"/console/requests/{rid}").text)
    actions = [
        (f"/console/requests/{rid}", {"action": "refuse", "ground": "breach_of_law",
                                      "reasons": "fault reasons"}),
        (f"/console/complaints/{cid}/assign", {"assignee": "fault officer"}),
        (f"/console/complaints/{cid}/responses", {"text": "fault response", "close": "yes"}),
        ("/console/third-parties", {"id": "fault-tp", "name": "Fault third party",
                                    "contact": "tp@example.org", "purpose": "Printing.",
                                    "fields": "name"}),
        ("/console/subcontractors", {"id": "fault-sc", "name": "Fault subcontractor",
                                     "contact": "sc@example.org", "fields": "email",
                                     "purposes": "product_news", "measures": "encryption",
                                     "start": "2026-01-01", "end": "2027-01-01"}),
    ]
    # The registries' forms come back with what was typed and the store's refusal.
    again = {"/console/third-parties", "/console/subcontractors"}
    head = s.audit_head()
    got = {}
    with Fault(s):
        for path, data in actions:
            r = officer_post(s, path, data, csrf)
            got[path] = r.status_code
            if r.status_code != 303:
                unavailable(r, path, form_again=path in again)
        assert s.audit_head() == head
    assert all(v == 503 for v in got.values()), got
    r = s.get(f"/v1/requests/{rid}", role="officer").json()
    assert r["state"] == "received" and not r.get("decided"), r
    c = s.get(f"/v1/complaints/{cid}", role="officer").json()
    assert not c.get("responses") and not c.get("assigned"), c
    tps = s.get("/v1/third-parties", role="officer").json()["third_parties"]
    assert "fault-tp" not in [x["id"] for x in tps]
    subs = s.get("/v1/subcontractors", role="officer").json()["subcontractors"]
    assert "fault-sc" not in [x["id"] for x in subs]


def test_staff_reading_a_member_is_refused_with_no_value_shown(faulty, casework):
    """The door audits before it opens: no audit entry, no read; the page says refused."""
    s, m = faulty, casework["member"]
    path = f"/console/members/{m.id}?purpose=support&case=SUP-1"
    r = officer_get(s, path, role="staff")
    assert r.status_code == 200 and m.values["email"] in r.text
    head = s.audit_head()
    with Fault(s):
        r = officer_get(s, path, role="staff")
        assert r.status_code == 503, r.text[:600]
        assert "Refused:" in r.text
        for v in m.values.values():
            # A short value (the age) can turn up inside a random id, so it is looked for as
            # an element's whole text; the distinctive ones anywhere.
            assert (v if len(v) >= 6 else f">{v}<") not in r.text, v
        assert s.audit_head() == head


def test_the_officers_and_members_api_writes_are_refused_cleanly(faulty):
    """Behind the pages: each kind of officer, admin and member write (and audited read) of the
    registries, tokens, shares and exceptions answers 503 store_error while the disk is full,
    and none of them is there afterwards."""
    s = faulty
    m = s.register(s.new_values(survey=True), role=None, password="api fault password")
    s.login(m)
    tp = s.unique("fault-api-tp-")
    r = s.post("/v1/third-parties", role="officer", json={
        "id": tp, "name": "Fault Printer", "contact": "p@printer.example",
        "purpose": "Printing.", "fields": ["name"]})
    assert r.status_code == 201, r.text
    r = s.request("PUT", "/v1/me/consents", member=m,
                  json={"kind": "third_party", "target": tp, "granted": True})
    assert r.status_code == 200, r.text
    receipt = r.json()["consent"]["id"] if "consent" in r.json() else None
    r = s.post("/v1/me/shares", member=m, json={"fields": ["name"], "expires_in_minutes": 10})
    assert r.status_code == 201, r.text
    share_token, share_id = r.json()["token"], r.json()["share"]["id"]
    tokens_before = s.get("/v1/tokens", role="admin").json()["tokens"]
    victim = next(t for t in tokens_before if t["name"] == "api-test analyst")
    calls = [
        ("token create", lambda: s.post("/v1/tokens", role="admin",
                                        json={"role": "staff", "name": "fault token"})),
        ("token revoke", lambda: s.request("DELETE", f"/v1/tokens/{victim['id']}", role="admin")),
        ("provision", lambda: s.post("/v1/provisions", role="officer", json={
            "third_party": tp, "member": m.id, "fields": ["name"], "basis": "consent"})),
        ("share", lambda: s.post("/v1/me/shares", member=m,
                                 json={"fields": ["email"], "expires_in_minutes": 10})),
        ("share revoke", lambda: s.request("DELETE", f"/v1/me/shares/{share_id}", member=m)),
        ("share read", lambda: s.get(f"/v1/shares/{share_token}")),
        ("exception read", lambda: s.post("/v1/exceptions", role="officer", json={
            "member": m.id, "purpose": "testimonials", "exception": "law",
            "justification": "Court order 2026-F-1 requires the name.", "fields": ["name"]})),
        ("export", lambda: s.get("/v1/me/export", member=m)),
        ("accept", lambda: s.post("/v1/me/policy/accept", member=m)),
        ("subcontractor", lambda: s.post("/v1/subcontractors", role="officer", json={
            "id": "fault-api-sub", "name": "Fault House", "contact": "f@house.example",
            "fields": ["email"], "purposes": ["product_news"], "measures": ["encryption"],
            "start": "2026-01-01", "end": "2027-01-01"})),
    ]
    head = s.audit_head()
    got = {}
    with Fault(s):
        for name, call in calls:
            r = call()
            got[name] = r.status_code
            if r.status_code == 503:
                assert r.json()["error"]["code"] == "store_error", (name, r.text)
                assert_no_personal(s, r.text)
        assert s.audit_head() == head
    assert got == {name: 503 for name, _ in calls}, got
    # None of it is there now.
    assert s.get("/v1/tokens", role="admin").json()["tokens"] == tokens_before
    assert s.get("/v1/me/provisions", member=m).json()["provisions"] == []
    shares = s.get("/v1/me/shares", member=m).json()["shares"]
    assert [(x["id"], x["status"]) for x in shares] == [(share_id, "active")]
    reviews = s.get("/v1/exceptions", role="officer", params={"status": "all"}).json()
    assert m.id not in str(reviews["exceptions"])
    subs = s.get("/v1/subcontractors", role="officer").json()["subcontractors"]
    assert "fault-api-sub" not in [x["id"] for x in subs]
    assert receipt is None or s.get(f"/v1/me/consents/{receipt}/receipt",
                                    member=m).status_code == 200


def test_signing_up_on_a_failing_disk_keeps_the_form_and_says_try_again(faulty):
    s = faulty
    page = s.get("/signup")
    csrf = csrf_of(page.text)
    values = s.new_values()
    s.remember(values)
    with Fault(s):
        r = s.post("/signup", data=dict(values, password="signup fault password", csrf=csrf))
    # Not "check your details" (400): the visitor did nothing wrong; what they typed is kept.
    assert r.status_code == 503, (r.status_code, r.text[:800])
    assert UNAVAILABLE in r.text and "Check your details" not in r.text
    assert f'value="{values["phone"]}"' in r.text
    assert "cu_session" not in r.headers.get("Set-Cookie", "")
    assert s.search("email", values["email"]).status_code == 404


def test_the_admins_token_forms_on_a_failing_disk(faulty):
    s = faulty
    h = {"Cookie": f"{CONSOLE}={s.tokens['admin']}"}
    csrf = csrf_of(s.get("/console/tokens", headers=h).text)
    before = s.get("/v1/tokens", role="admin").json()["tokens"]
    victim = next(t for t in before if t["name"] == "api-test analyst")
    with Fault(s):
        r = s.request("POST", "/console/tokens", headers=h,
                      data={"role": "staff", "name": "made on a full disk", "csrf": csrf})
        unavailable(r, "token create")
        shown = re.sub(r'name="csrf" value="[^"]*"', "", r.text)
        assert not re.search(r"cu_[A-Za-z0-9_-]{30,}", shown), "a secret on a failed page"
        r = s.request("POST", f"/console/tokens/{victim['id']}/revoke", headers=h,
                      data={"csrf": csrf})
        unavailable(r, "token revoke")
    assert s.get("/v1/tokens", role="admin").json()["tokens"] == before
