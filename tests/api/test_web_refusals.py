"""
The web pages' refusals, page by page (server/web/page.c, pages_casework.c, pages_me.c,
pages_officer.c, pages_officer_registry.c, pages_console*.c, pages_policy.c): no session,
ids that cannot be ours, ids that are well-formed but unknown, forms of the wrong type or
too large, a form from another site, a role that may not act, an action already taken.
Each answers a page (HTML) with its status and words, and changes nothing (checked in the
API afterwards).
"""
import re

import pytest

from conftest import POLICY, SESSION_COOKIE

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CONSOLE = "cu_console"
NOT_FOR_ROLE = "This page is for the privacy officer"
UNKNOWN = "A" * 22                      # well-formed, never issued
POLICY_EXCEPTIONS = [e["id"] for e in POLICY["exceptions"]]
TOO_LONG = "A" * 23                     # one longer than any id of ours
OVERLONG = "A" * 300                    # longer than any path segment the router takes
WORDS = {
    "case": "There is no such request or complaint of yours.",
    "diary": "There is no such diary entry of yours.",
    "notice": "There is no such notice of yours.",
    "page": "There is no such page.",
    "item": "There is no such item.",
    "member": "No such member.",
    "too_large": "The form is too large.",
    "type": "The form was not sent as a web form.",
    "malformed": "The form could not be read.",
    "csrf": "This form has expired or did not come from this site.",
    "conflict": "This was already done",
}

MEMBER_GETS = ["/me", "/me/data", "/me/consents", "/me/export", "/me/export/json",
               f"/me/consents/{UNKNOWN}/receipt", "/me/requests", f"/me/requests/{UNKNOWN}",
               "/me/complaints", f"/me/complaints/{UNKNOWN}", "/me/diary",
               f"/me/diary/{UNKNOWN}/edit", "/me/notices", "/me/access-log"]
MEMBER_POSTS = ["/me/data", "/me/consents", "/me/requests", "/me/complaints", "/me/diary",
                f"/me/diary/{UNKNOWN}/edit", f"/me/diary/{UNKNOWN}/delete",
                f"/me/notices/{UNKNOWN}/read", "/policy/accept"]
CONSOLE_GETS = ["/console", "/console/members", f"/console/members/{UNKNOWN}",
                f"/console/members/{UNKNOWN}/diaries", "/console/audit", "/console/tokens",
                f"/console/tokens/{UNKNOWN}/revoke", "/console/requests",
                f"/console/requests/{UNKNOWN}", "/console/complaints",
                f"/console/complaints/{UNKNOWN}", "/console/exceptions",
                "/console/subcontractors", "/console/subcontractors/x",
                "/console/third-parties", "/console/third-parties/x", "/console/policy",
                "/console/policy/1.0"]
CONSOLE_POSTS = ["/console/members", "/console/tokens", f"/console/tokens/{UNKNOWN}/revoke",
                 f"/console/requests/{UNKNOWN}", f"/console/complaints/{UNKNOWN}/assign",
                 f"/console/complaints/{UNKNOWN}/responses",
                 f"/console/exceptions/{UNKNOWN}/close", "/console/subcontractors",
                 "/console/subcontractors/x/reviews", f"/console/subcontractors/x/reviews/{UNKNOWN}",
                 "/console/third-parties", "/console/third-parties/x/provisions",
                 "/console/policy"]


def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
    assert m, "no csrf field on the page"
    return m.group(1)


def html_page(r, status, words=None):
    assert r.status_code == status, (r.status_code, r.text[:800])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    if words:
        assert WORDS.get(words, words) in r.text, (words, r.text[:2000])
    return r


class Member:
    """One member's browser."""

    def __init__(self, srv):
        self.srv = srv
        self.m = srv.register(srv.new_values(), role=None, password="refusals password")
        srv.login(self.m)
        self.csrf = csrf_of(self.get("/me/requests").text)

    def headers(self, extra=None):
        h = {"Cookie": f"{SESSION_COOKIE}={self.m.cookie}", "Accept": "text/html"}
        h.update(extra or {})
        return h

    def get(self, path):
        return self.srv.http.get(self.srv.base + path, headers=self.headers(),
                                 allow_redirects=False, timeout=30)

    def post(self, path, data, csrf=True, headers=None):
        body = dict(data, csrf=self.csrf) if csrf and isinstance(data, dict) else data
        return self.srv.http.post(self.srv.base + path, data=body,
                                  headers=self.headers(dict(FORM, **(headers or {}))),
                                  allow_redirects=False, timeout=30)

    def cases(self):
        api = self.srv.get
        return (api("/v1/me/requests", member=self.m).json()["requests"],
                api("/v1/me/complaints", member=self.m).json()["complaints"],
                api("/v1/me/diaries", member=self.m).json()["entries"])


@pytest.fixture()
def browser(srv):
    return Member(srv)


def officer(srv, role="officer"):
    return {"Cookie": f"{CONSOLE}={srv.tokens[role]}"}


def officer_csrf(srv, role="officer"):
    return csrf_of(srv.get("/console/requests", headers=officer(srv, role)).text)


def officer_post(srv, path, data, role="officer", csrf=None):
    return srv.request("POST", path, data=dict(data, csrf=csrf or officer_csrf(srv, role)),
                       headers=officer(srv, role))


# ---- without a session ------------------------------------------------------------------------

def test_member_pages_without_a_session_send_to_the_log_in(srv):
    for path in MEMBER_GETS:
        r = srv.get(path)
        assert r.status_code == 303 and r.headers["Location"] == "/login", path
    for path in MEMBER_POSTS:
        r = srv.post(path, data={"csrf": "x" * 43}, headers=FORM)
        assert r.status_code == 303 and r.headers["Location"] == "/login", path
    # An unknown session cookie is no session either.
    r = srv.get("/me/requests", headers={"Cookie": f"{SESSION_COOKIE}=" + "Z" * 43})
    assert r.status_code == 303 and r.headers["Location"] == "/login"


def test_console_pages_without_a_session_send_to_the_console_log_in(srv):
    for path in CONSOLE_GETS:
        r = srv.get(path)
        assert r.status_code == 303 and r.headers["Location"] == "/console/login", path
    for path in CONSOLE_POSTS:
        r = srv.post(path, data={"csrf": "x" * 43}, headers=FORM)
        assert r.status_code == 303 and r.headers["Location"] == "/console/login", path


# ---- ids that cannot be ours, and ids nobody has --------------------------------------------

@pytest.mark.parametrize("bad", [TOO_LONG, "not-an-id!", "%20"])
def test_member_pages_with_an_impossible_id_are_not_found(srv, browser, bad):
    before = browser.cases()
    for path, words in ((f"/me/requests/{bad}", "case"), (f"/me/complaints/{bad}", "case"),
                        (f"/me/diary/{bad}/edit", "diary")):
        html_page(browser.get(path), 404, words)
    for path, words in ((f"/me/diary/{bad}/edit", "diary"), (f"/me/diary/{bad}/delete", "diary"),
                        (f"/me/notices/{bad}/read", "notice")):
        html_page(browser.post(path, {"title": "t", "body": "b", "confirmed": "yes"}), 404, words)
    assert browser.cases() == before


def test_a_path_segment_over_the_routers_limit_is_no_page(srv, browser):
    for path in (f"/me/requests/{OVERLONG}", f"/me/diary/{OVERLONG}/edit"):
        html_page(browser.get(path), 404, "page")


def test_a_diary_entry_nobody_has_is_not_found_and_nothing_is_written(srv, browser):
    before = browser.cases()
    html_page(browser.post(f"/me/diary/{UNKNOWN}/edit", {"title": "t", "body": "b"}), 404, "diary")
    html_page(browser.post(f"/me/diary/{UNKNOWN}/delete", {"confirmed": "yes"}), 404, "diary")
    # Without the confirmation the page would ask first; an unknown entry is not asked about.
    html_page(browser.post(f"/me/diary/{UNKNOWN}/delete", {}), 404, "diary")
    assert browser.cases() == before


def test_someone_elses_diary_entry_is_not_found(srv, browser):
    other = Member(srv)
    r = srv.post("/v1/me/diaries", member=other.m, json={"title": "theirs", "body": "private"})
    assert r.status_code == 201, r.text
    eid = srv.get("/v1/me/diaries", member=other.m).json()["entries"][0]["id"]
    html_page(browser.get(f"/me/diary/{eid}/edit"), 404, "diary")
    html_page(browser.post(f"/me/diary/{eid}/edit", {"title": "mine now", "body": ""}), 404, "diary")
    html_page(browser.post(f"/me/diary/{eid}/delete", {"confirmed": "yes"}), 404, "diary")
    entries = srv.get("/v1/me/diaries", member=other.m).json()["entries"]
    assert [(e["title"], e["body"]) for e in entries] == [("theirs", "private")]


@pytest.mark.parametrize("bad", ["bad!id", "%2E", "%2E%2E", "x~y"])
def test_console_pages_with_an_impossible_id_are_not_found(srv, bad):
    h = officer(srv)
    for path in (f"/console/requests/{bad}", f"/console/complaints/{bad}",
                 f"/console/subcontractors/{bad}", f"/console/third-parties/{bad}",
                 f"/console/policy/{bad}"):
        r = srv.get(path, headers=h)
        assert r.status_code == 404, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("text/html")
    csrf = officer_csrf(srv)
    for path in (f"/console/requests/{bad}", f"/console/complaints/{bad}/assign",
                 f"/console/complaints/{bad}/responses", f"/console/exceptions/{bad}/close",
                 f"/console/subcontractors/{bad}/reviews",
                 f"/console/subcontractors/x/reviews/{bad}",
                 f"/console/third-parties/{bad}/provisions"):
        r = officer_post(srv, path, {"action": "apply", "officer": "o", "text": "t",
                                     "review": "r", "due": "2030-01-01"}, csrf=csrf)
        assert r.status_code == 404, (path, r.status_code, r.text[:500])
        assert r.headers["Content-Type"].startswith("text/html")


def test_officer_actions_on_unknown_items_are_not_found(srv):
    csrf = officer_csrf(srv)
    for path, data in ((f"/console/requests/{UNKNOWN}", {"action": "apply"}),
                       (f"/console/complaints/{UNKNOWN}/assign", {"officer": "Ms Officer"}),
                       (f"/console/complaints/{UNKNOWN}/responses", {"text": "hello"}),
                       (f"/console/exceptions/{UNKNOWN}/close", {"review": "fine"}),
                       ("/console/subcontractors/no-such-sub/reviews", {"due": "2030-01-01"}),
                       ("/console/third-parties/no-such-party/provisions",
                        {"member": UNKNOWN, "fields": "name", "basis": "consent"})):
        r = officer_post(srv, path, data, csrf=csrf)
        assert r.status_code == 404, (path, r.status_code, r.text[:500])
        assert r.headers["Content-Type"].startswith("text/html")
    for path in (f"/console/complaints/{UNKNOWN}", f"/console/requests/{UNKNOWN}",
                 "/console/subcontractors/no-such-sub", "/console/policy/99.99"):
        r = srv.get(path, headers=officer(srv))
        assert r.status_code == 404, (path, r.status_code)


# ---- forms the pages cannot read ---------------------------------------------------------------

def test_a_form_of_the_wrong_type_too_large_or_unreadable_is_refused(srv, browser):
    before = browser.cases()
    r = browser.post("/me/diary", '{"title": "json"}', headers={"Content-Type": "application/json"})
    html_page(r, 415, "type")
    r = browser.post("/me/diary", f"csrf={browser.csrf}&title=t&body=" + "b" * (300 * 1024),
                     csrf=False)
    assert r.status_code == 413, r.status_code
    r = browser.post("/me/diary", b"csrf=%zz&title=%", csrf=False)
    html_page(r, 400, "malformed")
    # Another site's form, with this member's token: refused.
    r = browser.post("/me/diary", {"title": "cross", "body": ""},
                     headers={"Origin": "https://evil.example"})
    html_page(r, 403, "csrf")
    assert browser.cases() == before


def test_a_diary_entry_over_the_limit_comes_back_with_its_error(srv, browser):
    before = browser.cases()
    body = "b" * (60 * 1024 + 1)      # over CU_DIARY_BODY_MAX, within a request body
    r = browser.post("/me/diary", {"title": "long one", "body": body})
    assert r.status_code in (413, 422), (r.status_code, r.text[:500])
    assert 'id="d-body-error"' in r.text or 'role="alert"' in r.text
    assert 'value="long one"' in r.text
    assert browser.cases() == before


def test_a_title_over_the_limit_is_refused_next_to_the_field(srv, browser):
    before = browser.cases()
    r = browser.post("/me/diary", {"title": "t" * 201, "body": "kept"})
    assert r.status_code in (400, 422), r.status_code
    assert 'id="d-title-error"' in r.text and "kept" in r.text
    assert browser.cases() == before


# ---- a role that may not act, an action already taken -----------------------------------------

def file_complaint(srv, m):
    r = srv.post("/v1/complaints", member=m, json={"about": "use", "text": "refusal complaint"})
    assert r.status_code == 201, r.text
    return r.json()["complaint"]["id"]


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_other_roles_cannot_act_on_complaints_or_registries(srv, browser, role):
    cid = file_complaint(srv, browser.m)
    csrf = officer_csrf(srv, role)
    for path, data in ((f"/console/complaints/{cid}/assign", {"officer": "Mr Staff"}),
                       (f"/console/complaints/{cid}/responses", {"text": "by staff", "close": "1"}),
                       (f"/console/exceptions/{UNKNOWN}/close", {"review": "by staff"}),
                       ("/console/subcontractors", {"id": "by-" + role, "name": "n"}),
                       ("/console/subcontractors/x/reviews", {"due": "2030-01-01"}),
                       (f"/console/subcontractors/x/reviews/{UNKNOWN}", {"findings": "f"}),
                       ("/console/third-parties/x/provisions", {"member": UNKNOWN})):
        r = officer_post(srv, path, data, role=role, csrf=csrf)
        html_page(r, 403, NOT_FOR_ROLE)
    got = srv.get(f"/v1/complaints/{cid}", role="officer").json()
    assert got["state"] != "closed" and not got.get("responses") and not got.get("assigned")
    subs = srv.get("/v1/subcontractors", role="officer").json()["subcontractors"]
    assert "by-" + role not in [s["id"] for s in subs]


def test_a_request_decided_twice_says_it_was_already_done(srv, browser):
    r = srv.post("/v1/requests", member=browser.m, json={"type": "disclosure"})
    rid = r.json()["request"]["id"]
    r = officer_post(srv, f"/console/requests/{rid}",
                     {"action": "refuse", "ground": "breach_of_law", "reasons": "First."})
    assert r.status_code == 303, r.text[:500]
    r = officer_post(srv, f"/console/requests/{rid}",
                     {"action": "refuse", "ground": "harm_to_life_or_rights", "reasons": "Again."})
    html_page(r, 409, "conflict")
    got = srv.get(f"/v1/requests/{rid}", role="officer").json()
    assert got["state"] == "refused" and got["ground"] == "breach_of_law", got
    assert [h["state"] for h in got["history"]] == ["received", "refused"]


def test_a_closed_complaint_takes_no_more_responses(srv, browser):
    cid = file_complaint(srv, browser.m)
    path = f"/console/complaints/{cid}/responses"
    r = officer_post(srv, path, {"text": "Answered and closed.", "close": "1"})
    assert r.status_code == 303, r.text[:500]
    r = officer_post(srv, path, {"text": "One more word."})
    assert r.status_code == 409, (r.status_code, r.text[:500])
    assert 'role="alert"' in r.text
    got = srv.get(f"/v1/complaints/{cid}", role="officer").json()
    assert [x["text"] for x in got["responses"]] == ["Answered and closed."]
    r = officer_post(srv, f"/console/complaints/{cid}/assign", {"officer": "Late Officer"})
    assert r.status_code == 409, (r.status_code, r.text[:500])
    assert srv.get(f"/v1/complaints/{cid}", role="officer").json().get("assigned") != "Late Officer"


# ---- the registries: what is there already, what is not -----------------------------------------

def test_a_third_party_registered_twice_is_refused_and_the_first_stays(srv):
    tp = srv.unique("ref-tp-")
    form = {"id": tp, "name": "First Printer", "contact": "a@printer.example",
            "purpose": "Printing.", "fields": "name"}
    r = officer_post(srv, "/console/third-parties", form)
    assert r.status_code == 303, r.text[:500]
    r = officer_post(srv, "/console/third-parties", dict(form, name="Second Printer"))
    html_page(r, 409, "conflict")
    assert 'value="Second Printer"' in r.text            # what was typed comes back
    got = srv.get(f"/v1/third-parties/{tp}", role="officer").json()["third_party"]
    assert got["name"] == "First Printer"


def test_a_subcontractor_registered_twice_is_refused_and_the_first_stays(srv):
    sid = srv.unique("ref-sub-")
    form = [("id", sid), ("name", "First House"), ("contact", "s@house.example"),
            ("fields", "email"), ("purposes", "product_news"), ("measures", "encryption"),
            ("start", "2026-01-01"), ("end", "2027-01-01")]
    csrf = officer_csrf(srv)
    r = srv.request("POST", "/console/subcontractors", data=form + [("csrf", csrf)],
                    headers=officer(srv))
    assert r.status_code == 303, r.text[:500]
    second = [(k, "Second House" if k == "name" else v) for k, v in form]
    r = srv.request("POST", "/console/subcontractors", data=second + [("csrf", csrf)],
                    headers=officer(srv))
    html_page(r, 409, "conflict")
    got = srv.get(f"/v1/subcontractors/{sid}", role="officer").json()["subcontractor"]
    assert got["name"] == "First House"
    # A review nobody scheduled cannot be saved: the page again, nothing recorded.
    r = officer_post(srv, f"/console/subcontractors/{sid}/reviews/{UNKNOWN}",
                     {"findings": "Looked fine.", "done": "1"})
    assert r.status_code == 404, (r.status_code, r.text[:500])
    assert 'role="alert"' in r.text
    assert srv.get(f"/v1/subcontractors/{sid}", role="officer").json()["reviews"] == []


def test_a_provision_under_a_legal_exception_needs_its_justification(srv, browser):
    tp = srv.unique("ref-law-")
    r = officer_post(srv, "/console/third-parties",
                     {"id": tp, "name": "Court Registry", "contact": "c@court.example",
                      "purpose": "Proceedings.", "fields": "name"})
    assert r.status_code == 303, r.text[:500]
    exc = POLICY_EXCEPTIONS[0]
    path = f"/console/third-parties/{tp}/provisions"
    r = officer_post(srv, path, {"member": browser.m.id, "fields": "name", "basis": exc})
    assert r.status_code in (400, 422), (r.status_code, r.text[:500])
    assert re.search(rf'<option value="{exc}" selected', r.text), r.text[:3000]
    assert f'value="{browser.m.id}"' in r.text
    assert srv.get("/v1/me/provisions", member=browser.m).json()["provisions"] == []
    r = officer_post(srv, path, {"member": browser.m.id, "fields": "name", "basis": exc,
                                 "justification": "Court order 2026-W-9 names this member."})
    assert r.status_code == 201, (r.status_code, r.text[:800])
    mine = srv.get("/v1/me/provisions", member=browser.m).json()["provisions"]
    assert [(p["third_party"], p["basis"]) for p in mine] == [(tp, "exception")], mine
    assert exc in str(mine[0])


def test_a_policy_document_that_is_not_an_object_is_refused_before_sending(srv):
    before = srv.get("/v1/policy/versions").json()
    r = officer_post(srv, "/console/policy", {"document": "[1, 2, 3]"})
    html_page(r, 400, "The document must be one JSON object.")
    assert "[1, 2, 3]" in r.text
    assert srv.get("/v1/policy/versions").json() == before


# ---- the console's member pages ------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["bad!id", "A" * 21, "A" * 23])
def test_a_console_member_page_with_an_impossible_id_is_no_such_member(srv, bad):
    head = srv.audit_head()
    for path in (f"/console/members/{bad}?purpose=support",
                 f"/console/members/{bad}/diaries?purpose=tos_review&case=TOS-1"):
        r = srv.get(path, headers=officer(srv, "staff"))
        html_page(r, 404, "member")
    assert srv.audit_head() == head


def test_diaries_with_a_case_the_api_refuses_say_so_next_to_the_case(srv, browser):
    r = srv.post("/v1/me/diaries", member=browser.m, json={"title": "kept private", "body": "b"})
    assert r.status_code == 201, r.text
    path = f"/console/members/{browser.m.id}/diaries"
    r = srv.get(path, headers=officer(srv, "staff"),
                params={"purpose": "tos_review", "case": "bad\u0001case"})
    html_page(r, 400)
    assert 'id="case-error"' in r.text
    assert "kept private" not in r.text
    eid = srv.get("/v1/me/diaries", member=browser.m).json()["entries"][0]["id"]
    # The page before the only entry: nothing older is shown.
    r = srv.get(path, headers=officer(srv, "staff"),
                params={"purpose": "tos_review", "case": "TOS-9", "before": eid})
    html_page(r, 200)
    assert "kept private" not in r.text
    # Before an entry this diary does not have: refused, with the reason.
    r = srv.get(path, headers=officer(srv, "staff"),
                params={"purpose": "tos_review", "case": "TOS-9", "before": UNKNOWN})
    html_page(r, 404, "Refused:")
    assert "kept private" not in r.text
    r = srv.get(path, headers=officer(srv, "staff"),
                params={"purpose": "tos_review", "case": "TOS-9"})
    html_page(r, 200)
    assert "kept private" in r.text


# ---- how a form is read ----------------------------------------------------------------------------

def test_a_form_with_lower_case_escapes_is_read_as_written(srv, browser):
    body = f"csrf={browser.csrf}&title=%e6%97%a5%E8%A8%98+one&body=a%0d%0ab"
    r = browser.post("/me/diary", body.encode(), csrf=False)
    assert r.status_code == 303, (r.status_code, r.text[:500])
    entries = srv.get("/v1/me/diaries", member=browser.m).json()["entries"]
    assert [(e["title"], e["body"]) for e in entries] == [("日記 one", "a\r\nb")]


@pytest.mark.parametrize("tail", ["&title=%4", "&title=%01x", "&title=%zz"],
                         ids=["cut escape", "control character", "not hex"])
def test_a_form_with_a_broken_escape_is_not_read(srv, browser, tail):
    before = browser.cases()
    r = browser.post("/me/diary", f"csrf={browser.csrf}&body=b{tail}".encode(), csrf=False)
    html_page(r, 400, "malformed")
    assert browser.cases() == before


def test_a_field_sent_three_times_counts_once_the_first(srv, browser):
    body = f"csrf={browser.csrf}&title=first&title=second&title=third&body=x"
    r = browser.post("/me/diary", body.encode(), csrf=False)
    assert r.status_code == 303, (r.status_code, r.text[:500])
    entries = srv.get("/v1/me/diaries", member=browser.m).json()["entries"]
    assert [e["title"] for e in entries] == ["first"]


def test_a_form_naming_an_origin_without_a_host_is_not_from_this_site(srv, browser):
    body = f"csrf={browser.csrf}&title=nohost&body=".encode()
    status, headers, text = srv.raw(
        b"POST /me/diary HTTP/1.0\r\nCookie: " + f"{SESSION_COOKIE}={browser.m.cookie}".encode() +
        b"\r\nOrigin: http://127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert status == 403, (status, text[:300])
    assert srv.get("/v1/me/diaries", member=browser.m).json()["entries"] == []


def test_a_language_asked_with_spaces_after_it_is_understood(srv):
    r = srv.get("/policy", headers={"Accept-Language": "ja   ,en;q=0.5"})
    assert r.status_code == 200 and 'lang="ja"' in r.text


def test_the_access_log_shows_a_refused_read_as_refused(srv, browser):
    # Testimonials need the member's consent, which is not given: refused, and audited.
    r = srv.get(f"/v1/members/{browser.m.id}", role="staff", params={"purpose": "testimonials"})
    assert r.status_code == 403, r.text
    page = browser.get("/me/access-log")
    html_page(page, 200)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page.text, re.S)
    refused = [x for x in rows if "testimonials" in x]
    assert refused, page.text[:3000]
    text = re.sub(r"<[^>]+>", " ", refused[0])
    assert "refused" in text and "deny" in text, text
    assert "allowed" not in text
    assert srv.token_names["staff"] not in page.text


def test_revoking_a_token_by_an_impossible_or_unknown_id_is_no_such_token(srv):
    h = officer(srv, "admin")
    csrf = officer_csrf(srv, "admin")
    before = srv.get("/v1/tokens", role="admin").json()["tokens"]
    for tid in ("bad!id", "a.b", UNKNOWN):
        r = srv.request("POST", f"/console/tokens/{tid}/revoke", headers=h, data={"csrf": csrf})
        html_page(r, 404, "No such token.")
    assert srv.get("/v1/tokens", role="admin").json()["tokens"] == before
