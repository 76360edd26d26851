"""
The member portal's casework pages (server/web/pages_casework.c): my requests,
my complaints, my diary, my notices, who accessed my data.  Pages are fetched
as a browser would (the session cookie, forms with their CSRF token); what a
page changes is checked through the API, and what the API changes is checked
on the page.
"""
import html
import html.parser
import os
import re
import sqlite3
from urllib.parse import urlsplit

import pytest

from conftest import POLICY, SESSION_COOKIE, assert_no_personal, own_server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Browser:
    """One member's browser: their session cookie, and nothing else."""

    def __init__(self, srv, member):
        self.srv = srv
        self.member = member
        self.urls = []

    def headers(self, extra=None):
        h = {"Cookie": f"{SESSION_COOKIE}={self.member.cookie}", "Accept": "text/html"}
        h.update(extra or {})
        return h

    def get(self, path):
        self.urls.append(path)
        return self.srv.http.get(self.srv.base + path, headers=self.headers(),
                                 allow_redirects=False, timeout=30)

    def post(self, path, data, csrf=True, page=None):
        """Posts a form, with the CSRF token of `page` (default: path itself) unless csrf=False."""
        self.urls.append(path)
        body = dict(data)
        if csrf:
            body["csrf"] = csrf_of(self.get(page or path).text)
        r = self.srv.http.post(self.srv.base + path, data=body, headers=self.headers(FORM),
                               allow_redirects=False, timeout=30)
        if r.is_redirect:
            self.urls.append(r.headers["Location"])
        return r


def csrf_of(text):
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    assert m, "no csrf field on the page"
    return m.group(1)


def text_of(page):
    """The page's visible text, entities decoded, tags gone, spaces collapsed."""
    t = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(t))


@pytest.fixture()
def member(srv):
    m = srv.register(srv.new_values(), role=None, password="casework pages password")
    srv.login(m)
    return m


@pytest.fixture()
def browser(srv, member):
    b = Browser(srv, member)
    yield b
    # No personal data in any URL the pages led to (ids are fine).
    for u in b.urls:
        assert_no_personal(srv, u)
        assert "@" not in u


# ---- requests ---------------------------------------------------------------------------

def test_requests_page_needs_a_member(srv):
    r = srv.http.get(srv.base + "/me/requests", allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].endswith("/login")


def test_file_each_kind_and_see_them_with_due_dates(srv, browser, member):
    r = browser.post("/me/requests", {"kind": "disclosure", "note": "Everything, <please>."})
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert re.fullmatch(r"/me/requests/[A-Za-z0-9_-]{22}\?done=filed", loc), loc
    page = browser.get(loc)
    assert page.status_code == 200
    assert "Everything, &lt;please&gt;." in page.text  # escaped, as written
    assert "<please>" not in page.text
    assert "Your request was received" in page.text

    r = browser.post("/me/requests", {"kind": "amendment", "field": "address",
                                      "value": "9 Chome Newstreet, Minato-ku", "reason": "I moved."},
                     page="/me/requests")
    assert r.status_code == 303, r.text
    amend_id = r.headers["Location"].split("/")[3].split("?")[0]

    # Erasure without the confirmation: refused next to the box, nothing filed.
    r = browser.post("/me/requests", {"kind": "erasure", "note": "keep <b>this</b>"})
    assert r.status_code == 400
    assert 'id="e-confirm-error"' in r.text and 'aria-invalid="true"' in r.text
    assert "keep &lt;b&gt;this&lt;/b&gt;" in r.text  # the note is kept

    api = srv.get("/v1/me/requests", member=member).json()["requests"]
    assert sorted(x["type"] for x in api) == ["amendment", "disclosure"]

    r = browser.post("/me/requests", {"kind": "erasure", "confirm": "yes"})
    assert r.status_code == 201, r.text  # shown at once: the token is never in a URL
    token = re.search(r'<code class="token">([A-Za-z0-9_-]{43})</code>', r.text)
    assert token, r.text
    assert token.group(1) not in r.headers.get("Location", "")

    api = srv.get("/v1/me/requests", member=member).json()["requests"]
    assert sorted(x["type"] for x in api) == ["amendment", "disclosure", "erasure"]
    page = browser.get("/me/requests")
    assert page.status_code == 200
    text = text_of(page.text)
    for x in api:
        assert f'href="/me/requests/{x["id"]}"' in page.text
        assert x["due"][:10] in text
        assert f'datetime="{x["due"]}"' in page.text
    for word in ("Disclosure", "Amendment", "Erasure", "Received"):
        assert word in text

    # The amendment's detail: the field, the value, the reason, the history.
    page = browser.get(f"/me/requests/{amend_id}")
    assert page.status_code == 200
    t = text_of(page.text)
    assert "Address" in t and "9 Chome Newstreet, Minato-ku" in t and "I moved." in t
    assert "History" in t


def test_amendment_errors_next_to_the_field(srv, browser, member):
    r = browser.post("/me/requests", {"kind": "amendment", "field": "", "value": "x",
                                      "reason": "because"})
    assert r.status_code == 400
    assert 'aria-describedby="a-field-error"' in r.text and 'id="a-field-error"' in r.text
    # A value the field refuses: the API's 422, its message next to the value, input kept.
    r = browser.post("/me/requests", {"kind": "amendment", "field": "email",
                                      "value": "not an address <x>", "reason": "typo"},
                     page="/me/requests")
    assert r.status_code == 422, r.text
    assert 'id="a-value-error"' in r.text
    assert 'value="not an address &lt;x&gt;"' in r.text
    assert re.search(r'<option value="email" selected>', r.text)
    assert srv.get("/v1/me/requests", member=member).json()["requests"] == []


def test_decided_request_shows_decision_and_ground(srv, browser, member):
    r = srv.post("/v1/requests", member=member, json={"type": "disclosure"})
    rid = r.json()["request"]["id"]
    r = srv.post(f"/v1/requests/{rid}/decision", role="officer",
                 json={"action": "refuse", "ground": "breach_of_law",
                       "reasons": "A court order <forbids> it."})
    assert r.status_code == 200, r.text
    page = browser.get(f"/me/requests/{rid}")
    assert page.status_code == 200
    t = text_of(page.text)
    assert "Refused" in t and "breaches a law or ordinance" in t
    assert "A court order &lt;forbids&gt; it." in page.text
    assert "privacy officer" in t
    # Not decided yet: no overdue tag on a fresh one.
    assert 'class="tag overdue"' not in page.text


def test_someone_elses_request_is_not_found(srv, browser):
    other = srv.register(srv.new_values(), role=None, password="another member password")
    srv.login(other)
    rid = srv.post("/v1/requests", member=other, json={"type": "disclosure"}).json()["request"]["id"]
    assert browser.get(f"/me/requests/{rid}").status_code == 404
    assert browser.get("/me/requests/not-an-id!").status_code == 404
    assert browser.get("/me/complaints/" + "A" * 22).status_code == 404


def test_forms_without_their_token_are_refused(srv, browser, member):
    for path, data in (("/me/requests", {"kind": "disclosure"}),
                       ("/me/complaints", {"about": "use", "text": "no token"}),
                       ("/me/diary", {"title": "no token", "body": ""})):
        r = browser.post(path, data, csrf=False)
        assert r.status_code == 403, path
        r = browser.post(path, dict(data, csrf="x" * 43), csrf=False)
        assert r.status_code == 403, path
    assert srv.get("/v1/me/requests", member=member).json()["requests"] == []
    assert srv.get("/v1/me/complaints", member=member).json()["complaints"] == []
    assert srv.get("/v1/me/diaries", member=member).json()["entries"] == []


# ---- complaints -------------------------------------------------------------------------

def test_complaint_filed_and_the_response_shows(srv, browser, member):
    r = browser.post("/me/complaints", {"about": "use", "text": "Why was I <emailed>?"})
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert re.fullmatch(r"/me/complaints/[A-Za-z0-9_-]{22}\?done=filed", loc), loc
    cid = loc.split("/")[3].split("?")[0]
    api = srv.get("/v1/me/complaints", member=member).json()["complaints"]
    assert [x["id"] for x in api] == [cid]
    page = browser.get("/me/complaints")
    assert f'href="/me/complaints/{cid}"' in page.text
    assert api[0]["due"][:10] in page.text
    page = browser.get(loc)
    assert "Why was I &lt;emailed&gt;?" in page.text
    assert "No response yet" in page.text

    r = srv.post(f"/v1/complaints/{cid}/responses", role="officer",
                 json={"text": "It was a <mistake>; we are sorry."})
    assert r.status_code == 201, r.text
    page = browser.get(f"/me/complaints/{cid}")
    assert page.status_code == 200
    assert "It was a &lt;mistake&gt;; we are sorry." in page.text
    assert "Answered" in text_of(page.text)


def test_complaint_errors_next_to_the_field(srv, browser, member):
    r = browser.post("/me/complaints", {"about": "use", "text": ""})
    assert r.status_code in (400, 422), r.text
    assert 'id="c-text-error"' in r.text and 'aria-invalid="true"' in r.text
    r = browser.post("/me/complaints", {"about": "weather", "text": "kept <text>"})
    assert r.status_code in (400, 422), r.text
    assert "kept &lt;text&gt;" in r.text
    assert srv.get("/v1/me/complaints", member=member).json()["complaints"] == []


# ---- diary ------------------------------------------------------------------------------

def test_diary_add_edit_delete(srv, browser, member):
    r = browser.post("/me/diary", {"title": "First <day>", "body": "Line one\nLine two"})
    assert r.status_code == 303 and r.headers["Location"] == "/me/diary?done=added"
    entries = srv.get("/v1/me/diaries", member=member).json()["entries"]
    assert [(e["title"], e["body"]) for e in entries] == [("First <day>", "Line one\nLine two")]
    eid = entries[0]["id"]
    page = browser.get("/me/diary?done=added")
    assert "First &lt;day&gt;" in page.text and "The entry was added." in page.text
    assert f'action="/me/diary/{eid}/delete"' in page.text and "data-confirm=" in page.text

    page = browser.get(f"/me/diary/{eid}/edit")
    assert page.status_code == 200 and 'value="First &lt;day&gt;"' in page.text
    r = browser.post(f"/me/diary/{eid}/edit", {"title": "", "body": "kept body"})
    assert r.status_code in (400, 422)
    assert 'id="d-title-error"' in r.text and "kept body" in r.text
    r = browser.post(f"/me/diary/{eid}/edit", {"title": "Second day", "body": "Changed."})
    assert r.status_code == 303 and r.headers["Location"] == "/me/diary?done=saved"
    entries = srv.get("/v1/me/diaries", member=member).json()["entries"]
    assert [(e["title"], e["body"]) for e in entries] == [("Second day", "Changed.")]

    # Without script: the delete form lands on a confirmation page, nothing deleted yet.
    r = browser.post(f"/me/diary/{eid}/delete", {"confirmed": ""}, page="/me/diary")
    assert r.status_code == 200 and 'name="confirmed" value="yes"' in r.text
    assert len(srv.get("/v1/me/diaries", member=member).json()["entries"]) == 1
    r = browser.post(f"/me/diary/{eid}/delete", {"confirmed": "yes"}, page="/me/diary")
    assert r.status_code == 303 and r.headers["Location"] == "/me/diary?done=deleted"
    assert srv.get("/v1/me/diaries", member=member).json()["entries"] == []
    assert browser.get(f"/me/diary/{eid}/edit").status_code == 404


def test_diary_add_error_keeps_the_input(srv, browser, member):
    r = browser.post("/me/diary", {"title": "", "body": "my <draft>"})
    assert r.status_code in (400, 422)
    assert 'id="d-title-error"' in r.text and "my &lt;draft&gt;" in r.text


# ---- notices ----------------------------------------------------------------------------

def test_notices_unread_first_and_mark_read(srv, browser, member):
    srv.post("/v1/requests", member=member, json={"type": "disclosure"})
    notices = srv.get("/v1/me/notices", member=member).json()["notices"]
    assert notices and all(n["read"] is None for n in notices)
    nid = notices[0]["id"]
    page = browser.get("/me/notices")
    assert page.status_code == 200
    assert f'action="/me/notices/{nid}/read"' in page.text
    r = browser.post(f"/me/notices/{nid}/read", {}, page="/me/notices")
    assert r.status_code == 303 and r.headers["Location"] == "/me/notices?done=read"
    after = {n["id"]: n for n in srv.get("/v1/me/notices", member=member).json()["notices"]}
    assert after[nid]["read"] is not None
    page = browser.get("/me/notices?done=read").text
    assert f'action="/me/notices/{nid}/read"' not in page
    # The read one is under "Read", after the unread ones.
    unread_at, read_at = page.index("<h2>Unread</h2>"), page.index("<h2>Read</h2>")
    assert unread_at < read_at < page.index(html.escape(after[nid]["subject"], quote=True))


# ---- the access log ---------------------------------------------------------------------

def test_access_log_shows_a_staff_read(srv, browser, member):
    r = srv.get(f"/v1/members/{member.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200, r.text
    page = browser.get("/me/access-log")
    assert page.status_code == 200
    t = text_of(page.text)
    assert "support staff" in t
    assert "to provide support to members regarding Cerego" in t  # the policy's words
    assert "(support)" in t
    assert "Name, Telephone number, E-mail address" in t
    assert "allowed, some items withheld" in t
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", t), "when, to the minute"
    # Who is a role, never the token holder's name.
    assert srv.token_names["staff"] not in page.text
    # Japanese: the words change, the purpose's id stays.
    page = srv.http.get(srv.base + "/me/access-log?lang=ja", headers=browser.headers(),
                        allow_redirects=False, timeout=30)
    assert "サポートスタッフ" in page.text and "<h1>閲覧履歴</h1>" in page.text


def test_member_pages_carry_no_personal_data_in_links(srv, browser, member):
    for path in ("/me/requests", "/me/complaints", "/me/diary", "/me/notices", "/me/access-log"):
        page = browser.get(path)
        assert page.status_code == 200, path
        for href in re.findall(r'(?:href|action)="([^"]*)"', page.text):
            u = urlsplit(html.unescape(href))
            assert "@" not in u.path + u.query, href
            assert_no_personal(srv, href)
        assert "Set-Cookie" not in page.headers or member.values["email"] not in page.headers["Set-Cookie"]


# ---- the clock --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clock(request):
    """A server of its own: its cases' dates are moved in the store."""
    with own_server(request, "cu-web-clock-") as s:
        yield s


def move_back(server, table, rid, days):
    """Moves a case's dates back by `days` less an hour, as if filed that long ago."""
    shift = (days * 86400 - 3600) * 1000000
    cols = ("received_us", "due_us") + (("hard_due_us",) if table == "requests" else ())
    db = sqlite3.connect(os.path.join(server.data, "custodian.db"))
    with db:
        n = db.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = {c} - ?" for c in cols) +
                       " WHERE id = ?", (*([shift] * len(cols)), rid)).rowcount
    db.close()
    assert n == 1


def test_overdue_cases_say_so(clock):
    m = clock.register(clock.new_values(), role=None, password="casework clock password")
    clock.login(m)
    b = Browser(clock, m)
    late = clock.post("/v1/requests", member=m, json={"type": "disclosure"}).json()["request"]["id"]
    fresh = clock.post("/v1/requests", member=m, json={"type": "erasure"}).json()["request"]["id"]
    cid = clock.post("/v1/complaints", member=m,
                     json={"about": "disclosure", "text": "Still no answer."}).json()["complaint"]["id"]
    move_back(clock, "requests", late, 20)
    move_back(clock, "complaints", cid, 40)
    page = b.get("/me/requests").text
    rows = {rid: row for rid, row in
            ((re.search(r'href="/me/requests/([^"]+)"', row).group(1), row)
             for row in page.split("<tr>")[2:])}
    assert 'class="tag overdue"' in rows[late] and 'class="tag overdue"' not in rows[fresh]
    assert "days left: -6" in text_of(rows[late])
    assert 'class="tag overdue"' in b.get(f"/me/requests/{late}").text
    assert 'class="tag overdue"' not in b.get(f"/me/requests/{fresh}").text
    assert 'class="tag overdue"' in b.get("/me/complaints").text
    assert 'class="tag overdue"' in b.get(f"/me/complaints/{cid}").text


# ---- structure: labels, headings, ids ---------------------------------------------------

class Structure(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.label_for, self.controls, self.h1 = [], set(), [], 0
        self.headings = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a.get("id"))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        for name, _ in attrs:
            assert not name.startswith("on"), f"inline handler {name}"
            assert name != "style", "inline style"
        if tag == "script":
            assert a.get("src"), "inline script"


def check_structure(text):
    s = Structure()
    s.feed(text)
    assert len(s.ids) == len(set(s.ids)), "duplicate ids"
    for c in s.controls:
        assert c and c in s.label_for, f"a control without its label: {c}"
    assert s.headings.count(1) == 1, "one h1"
    for a, b in zip(s.headings, s.headings[1:]):
        assert b <= a + 1, f"heading h{a} followed by h{b}"


def test_pages_are_labelled_and_ordered(srv, browser, member):
    browser.post("/me/requests", {"kind": "amendment", "field": "address", "value": "x y z",
                                  "reason": "moved"})
    rid = srv.get("/v1/me/requests", member=member).json()["requests"][0]["id"]
    browser.post("/me/complaints", {"about": "other", "text": "a complaint"})
    cid = srv.get("/v1/me/complaints", member=member).json()["complaints"][0]["id"]
    browser.post("/me/diary", {"title": "an entry", "body": "text"})
    eid = srv.get("/v1/me/diaries", member=member).json()["entries"][0]["id"]
    paths = ["/me/requests", f"/me/requests/{rid}", "/me/complaints", f"/me/complaints/{cid}",
             "/me/diary", f"/me/diary/{eid}/edit", "/me/notices", "/me/access-log", "/policy",
             f"/policy/versions/{POLICY['version']}"]
    for lang in ("en", "ja"):
        for p in paths:
            r = browser.get(f"{p}?lang={lang}")
            assert r.status_code == 200, p
            check_structure(r.text)
    # Forms sent back with errors keep the same structure.
    check_structure(browser.post("/me/requests", {"kind": "erasure"}).text)
    check_structure(browser.post("/me/complaints", {"about": "use", "text": ""}).text)
    check_structure(browser.post(f"/me/diary/{eid}/delete", {}, page="/me/diary").text)


def test_bad_forms_get_pages_not_errors(srv, browser, member):
    cases = [
        ({"kind": "nonsense"}, (400,)),
        ({}, (400,)),
        ({"kind": "amendment", "field": "no_such_field", "value": "v", "reason": "r"}, (400, 422)),
        ({"kind": "amendment", "field": "address", "value": "v", "reason": "r" * 5000}, (400, 422)),
        ({"kind": "disclosure", "note": "n" * 5000}, (400, 422)),
        ({"kind": ["disclosure", "erasure"]}, (303, 400)),
    ]
    for data, want in cases:
        r = browser.post("/me/requests", data, page="/me/requests")
        assert r.status_code in want, (data, r.status_code)
        assert r.status_code == 303 or r.headers["Content-Type"].startswith("text/html")
    r = srv.http.post(srv.base + "/me/requests", data=b"csrf=%zz", timeout=30,
                      headers=browser.headers(FORM), allow_redirects=False)
    assert r.status_code == 400
    for path in ("/me/diary/" + "A" * 22 + "/edit", "/me/diary/%3Cx%3E/edit"):
        assert browser.get(path).status_code == 404
    r = browser.post("/me/notices/" + "A" * 22 + "/read", {}, page="/me/notices")
    assert r.status_code == 404
