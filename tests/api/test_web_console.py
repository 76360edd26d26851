"""The staff console (/console): its session, the overview, finding and opening a member,
diary review, the audit trail and its chain check, and the admin's tokens.

Pages are fetched as a browser would (form posts with the page's CSRF token, the
cu_console cookie sent by hand: the suite's client keeps no cookies) and read as HTML.
"""
import html
import re
import time

import pytest

from conftest import SESSION_COOKIE, assert_no_personal

CONSOLE_COOKIE = "cu_console"


# ---- helpers ---------------------------------------------------------------------------------

def csrf_of(text):
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    assert m, "no csrf field in the page"
    return m.group(1)


def main_of(text):
    m = re.search(r"<main[^>]*>(.*)</main>", text, re.S)
    assert m, text[:500]
    return m.group(1)


def set_cookie(r, name):
    """The Set-Cookie header for name (None when not set)."""
    for k, v in r.raw.headers.items():
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v
    return None


def attrs(header):
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    flags = {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}
    return name, value, flags


class Console:
    """A browser holding one console session."""

    def __init__(self, srv, secret):
        self.srv = srv
        self.secret = secret

    def headers(self, extra=None):
        h = {"Cookie": f"{CONSOLE_COOKIE}={self.secret}"}
        h.update(extra or {})
        return h

    def get(self, path, **kw):
        return self.srv.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, path, data, csrf_from="/console", csrf=None):
        if csrf is None:
            page = self.get(csrf_from)
            assert page.status_code == 200, (page.status_code, page.text[:300])
            csrf = csrf_of(page.text)
        return self.srv.post(path, headers=self.headers(), data=dict(data, csrf=csrf))


def login_page_post(srv, token, headers=None):
    page = srv.get("/console/login", headers=headers)
    assert page.status_code == 200
    return srv.post("/console/login", headers=headers,
                    data={"csrf": csrf_of(page.text), "token": token})


def console(srv, role=None, secret=None):
    secret = secret or srv.tokens[role]
    r = login_page_post(srv, secret)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert r.headers["Location"] == "/console"
    return Console(srv, secret)


def rows(text):
    """The member page's table: field -> (kind, cell text)."""
    out = {}
    for m in re.finditer(r'<tr class="(allowed|withheld-row)" data-field="([a-z_]+)">(.*?)</tr>',
                         text, re.S):
        cell = re.sub(r"<[^>]+>", "", m.group(3).split("</th>", 1)[1])
        out[m.group(2)] = (m.group(1), html.unescape(" ".join(cell.split())))
    return out


# ---- the console session ---------------------------------------------------------------------

def test_login_page_is_a_form_with_csrf(srv):
    r = srv.get("/console/login")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    body = main_of(r.text)
    assert '<form method="post" action="/console/login"' in body
    assert 'type="password" id="token" name="token"' in body
    assert '<label for="token">' in body


def test_login_with_a_bad_token_says_so_and_never_echoes_it(srv):
    wrong = "cu_" + "Q" * 43
    for token in (wrong, srv.bad_tokens["revoked"], srv.bad_tokens["expired"], "not a token"):
        r = login_page_post(srv, token)
        assert r.status_code == 401, r.status_code
        body = main_of(r.text)
        assert "This token is not valid" in body
        assert 'aria-invalid="true"' in body and 'id="token-error"' in body
        assert token not in r.text and html.escape(token) not in r.text
        assert set_cookie(r, CONSOLE_COOKIE) is None
    r = login_page_post(srv, "")
    assert r.status_code == 400 and "Paste your token" in r.text


def test_login_with_a_good_token_sets_a_strict_console_cookie(srv):
    r = login_page_post(srv, srv.tokens["staff"])
    assert r.status_code == 303 and r.headers["Location"] == "/console"
    name, value, flags = attrs(set_cookie(r, CONSOLE_COOKIE))
    assert value == srv.tokens["staff"]
    assert flags.get("path") == "/console"
    assert flags.get("httponly") is True
    assert flags.get("samesite") == "Strict"
    # Ends with the browser: no lifetime.
    assert "max-age" not in flags and "expires" not in flags
    # A pasted token with the spaces and line break a copy picks up works too.
    r2 = login_page_post(srv, "  " + srv.tokens["staff"] + "\r\n")
    assert r2.status_code == 303 and attrs(set_cookie(r2, CONSOLE_COOKIE))[1] == value
    home = Console(srv, value).get("/console")
    assert home.status_code == 200
    assert "api-test staff (staff)" in home.text


def test_login_refused_when_necessary_cookies_are_refused(srv):
    h = {"Cookie": "cu_cookies=n0p0s0a0"}
    r = login_page_post(srv, srv.tokens["staff"], headers=h)
    assert r.status_code == 403
    assert set_cookie(r, CONSOLE_COOKIE) is None
    assert "necessary cookie" in r.text


def test_logout_clears_the_cookie(srv):
    c = console(srv, "staff")
    r = c.post("/console/logout", {})
    assert r.status_code == 303
    assert r.headers["Location"] == "/console/login?done=logout"
    _, value, flags = attrs(set_cookie(r, CONSOLE_COOKIE))
    assert value == "" and flags.get("max-age") == "0" and flags.get("path") == "/console"
    page = srv.get("/console/login?done=logout")
    assert "You have left the console" in page.text


def test_without_a_console_session_pages_send_to_the_login(srv):
    for path in ("/console", "/console/members", "/console/audit", "/console/tokens",
                 "/console/members/" + "A" * 22):
        r = srv.get(path)
        assert r.status_code == 303 and r.headers["Location"] == "/console/login", path


def test_an_expired_token_ends_the_console_session(srv):
    gone = Console(srv, srv.bad_tokens["expired"])
    r = gone.get("/console/members")
    assert r.status_code == 303 and r.headers["Location"] == "/console/login"
    r = gone.get("/console/login")
    assert r.status_code == 200 and "Your console session has ended" in r.text
    _, value, flags = attrs(set_cookie(r, CONSOLE_COOKIE))
    assert value == "" and flags.get("max-age") == "0" and flags.get("path") == "/console"
    # A form on it is refused the same way, before anything is done.
    r = srv.post("/console/members", headers=gone.headers(), data={"csrf": "x", "email": "a@b.example"})
    assert r.status_code == 303 and r.headers["Location"] == "/console/login"


def test_a_member_session_cannot_reach_the_console(srv, portal_member):
    h = {"Cookie": f"{SESSION_COOKIE}={portal_member.cookie}"}
    for path in ("/console", "/console/members", f"/console/members/{portal_member.id}",
                 "/console/audit", "/console/tokens"):
        r = srv.get(path, headers=h)
        assert r.status_code == 303 and r.headers["Location"] == "/console/login", path
    # Nor with its session's token in a form.
    r = srv.post("/console/members", headers=h,
                 data={"csrf": portal_member.csrf, "email": portal_member.email})
    assert r.status_code == 303 and r.headers["Location"] == "/console/login"
    # The member's cookie is not a console cookie either.
    r = srv.get("/console", headers={"Cookie": f"{CONSOLE_COOKIE}={portal_member.cookie}"})
    assert r.status_code == 303


def test_csrf_is_required_and_bound_to_the_session(srv):
    staff = console(srv, "staff")
    officer = console(srv, "officer")
    for csrf in ("", "x" * 43, csrf_of(officer.get("/console").text)):
        r = staff.post("/console/members", {"email": "someone@example.org"}, csrf=csrf)
        assert r.status_code == 403, csrf
        assert "This form has expired" in r.text
    r = srv.post("/console/logout", headers=staff.headers(), data={"nothing": "1"})
    assert r.status_code == 403
    # Still logged in: the refused logout changed nothing.
    assert set_cookie(r, CONSOLE_COOKIE) is None
    assert staff.get("/console").status_code == 200


# ---- the overview -------------------------------------------------------------------------------

def test_overview_per_role(srv):
    staff = main_of(console(srv, "staff").get("/console").text)
    assert 'href="/console/members"' in staff
    assert "/console/requests" not in staff and "/console/tokens" not in staff

    officer = console(srv, "officer").get("/console")
    assert officer.status_code == 200
    body = main_of(officer.text)
    for path in ("/console/requests", "/console/complaints", "/console/exceptions",
                 "/console/subcontractors", "/console/third-parties", "/console/policy",
                 "/console/audit"):
        assert f'href="{path}"' in body, path
    # Counts from the API's own lists.
    n = len(srv.get("/v1/requests", role="officer").json()["requests"])
    assert re.search(rf'id="h-requests".*?<strong>{n}</strong>', body, re.S)
    assert "/console/tokens" not in body

    admin = main_of(console(srv, "admin").get("/console").text)
    assert 'href="/console/tokens"' in admin and 'href="/console/policy"' in admin
    active = sum(t["status"] == "active" for t in srv.get("/v1/tokens", role="admin").json()["tokens"])
    assert f"<strong>{active}</strong> active" in admin

    analyst = main_of(console(srv, "analyst").get("/console").text)
    assert 'href="/console/members"' not in analyst


# ---- finding and opening a member ----------------------------------------------------------------

@pytest.fixture(scope="module")
def member(srv):
    return srv.register(srv.new_values(survey=True))


def test_find_by_email_then_phone_is_a_post_and_redirects_to_the_id(srv, member):
    staff = console(srv, "staff")
    page = staff.get("/console/members")
    assert page.status_code == 200
    assert '<form method="post" action="/console/members"' in page.text
    for field in ("email", "phone"):
        r = staff.post("/console/members", {field: member.values[field]},
                       csrf_from="/console/members")
        assert r.status_code == 303, r.text[:300]
        assert r.headers["Location"] == f"/console/members/{member.id}"
        assert_no_personal(srv, r.headers["Location"])


def test_find_errors_keep_the_input(srv, member):
    staff = console(srv, "staff")
    r = staff.post("/console/members", {"email": "nobody.console@example.org"})
    assert r.status_code == 404 and "No member matches" in r.text
    assert 'value="nobody.console@example.org"' in r.text
    r = staff.post("/console/members", {})
    assert r.status_code == 400
    assert 'aria-invalid="true" aria-describedby="email-error"' in r.text
    r = staff.post("/console/members", {"email": member.email, "phone": member.values["phone"]})
    assert r.status_code == 400
    r = staff.post("/console/members", {"phone": "not a phone <b>"})
    assert r.status_code in (400, 404, 422)
    assert "<b>" not in main_of(r.text) and "not a phone &lt;b&gt;" in r.text
    # Analysts do not look members up: the API's refusal, on the page.
    analyst = console(srv, "analyst")
    r = analyst.post("/console/members", {"email": member.email})
    assert r.status_code == 403 and "Your role may not do this" in r.text


def test_member_page_offers_the_purposes_of_the_role(srv, member):
    staff = console(srv, "staff")
    r = staff.get(f"/console/members/{member.id}")
    assert r.status_code == 200
    offered = set(re.findall(r'name="purpose" value="([a-z_]+)"', r.text))
    from conftest import PURPOSES
    want = {p for p, v in PURPOSES.items() if "staff" in v["roles"] and not v.get("aggregate_only")}
    assert offered == want
    assert '<form method="get" action="/console/members/' in r.text
    # No read without a purpose chosen: no audit entry, no value.
    assert_no_personal(srv, r.text)


def test_staff_opens_a_member_for_support(srv, member):
    staff = console(srv, "staff")
    head = srv.audit_head()
    r = staff.get(f"/console/members/{member.id}", params={"purpose": "support", "case": "SUP-7"})
    assert r.status_code == 200, r.text[:500]
    got = rows(r.text)
    from conftest import PURPOSES
    allowed = set(PURPOSES["support"]["fields"])
    for f in allowed:
        assert got[f] == ("allowed", member.values[f]), f
    withheld = [f for f in got if got[f][0] == "withheld-row"]
    assert set(withheld) == set(member.values) - allowed
    for f in withheld:
        assert got[f][1] == "withheld Not allowed for this purpose."
        # A short value (an age of "37") may occur inside ids; the distinctive ones may not.
        if len(member.values[f]) >= 6:
            assert member.values[f] not in r.text, f
    # One audited read, by this staff token, for this purpose and case.
    entries = srv.audit(member=member.id, after=head)
    assert [(e["action"], e["actor"], e["purpose"], e["case"], e["decision"]) for e in entries] \
        == [("read", srv.token_names["staff"], "support", "SUP-7", "partial")]


def test_withheld_reasons_in_japanese(srv, member):
    r = console(srv, "staff").get(f"/console/members/{member.id}",
                                  params={"purpose": "support", "lang": "ja"})
    assert r.status_code == 200
    assert '<html lang="ja">' in r.text
    assert "この利用目的では許可されていません。" in r.text


@pytest.mark.parametrize("purpose,status,words", [
    ("research", 403, "Your role may not read for this purpose"),
    ("testimonials", 403, "needs the member's consent"),
    ("tos_review", 403, "requires a case reference"),
    ("no_such_purpose", 400, "The policy has no such purpose"),
])
def test_a_refused_purpose_shows_the_refusal(srv, member, purpose, status, words):
    head = srv.audit_head()
    r = console(srv, "staff").get(f"/console/members/{member.id}", params={"purpose": purpose})
    assert r.status_code == status
    body = main_of(r.text)
    assert "Refused:" in body and words in html.unescape(body)
    assert 'class="allowed"' not in body
    assert_no_personal(srv, body)
    # Refusals are audited too (an unknown purpose is refused by the door as well).
    e = srv.audit(member=member.id, after=head)
    assert len(e) == 1 and e[0]["decision"] == "deny"


def test_a_malformed_case_is_the_case_fields_error(srv, member):
    r = console(srv, "staff").get(f"/console/members/{member.id}",
                                  params={"purpose": "support", "case": "x" * 200})
    assert r.status_code == 400
    assert 'id="case-error"' in r.text and 'aria-invalid="true"' in r.text


def test_unknown_member(srv):
    r = console(srv, "staff").get("/console/members/" + "A" * 22, params={"purpose": "support"})
    assert r.status_code == 404 and "No such member" in r.text


# ---- diary review ------------------------------------------------------------------------------------

def test_diary_review_needs_a_case(srv, portal_member):
    title = "Diary title <b>console</b> " + srv.unique("d")
    srv.remember({"t": title})
    r = srv.post("/v1/me/diaries", member=portal_member, json={"title": title, "body": "line 1\nline 2"})
    assert r.status_code == 201, r.text
    staff = console(srv, "staff")
    page = staff.get(f"/console/members/{portal_member.id}/diaries")
    assert page.status_code == 200
    assert 'name="case"' in page.text and "required" in page.text
    assert title not in page.text
    head = srv.audit_head()
    r = staff.get(f"/console/members/{portal_member.id}/diaries", params={"case": ""})
    assert r.status_code == 400 and 'id="case-error"' in r.text
    assert srv.audit_head() == head
    r = staff.get(f"/console/members/{portal_member.id}/diaries",
                  params={"purpose": "tos_review", "case": "TOS-2026-0042"})
    assert r.status_code == 200, r.text[:400]
    assert html.escape(title) in r.text and title not in r.text
    e = srv.audit(member=portal_member.id, after=head)
    assert [(x["action"], x["case"], x["decision"]) for x in e] == \
        [("read_diaries", "TOS-2026-0042", "allow")]
    # Another purpose is refused, with the reason.
    r = staff.get(f"/console/members/{portal_member.id}/diaries",
                  params={"purpose": "support", "case": "TOS-2026-0042"})
    assert r.status_code == 403 and "Refused:" in r.text


# ---- the audit trail --------------------------------------------------------------------------------

def test_the_audit_trail_shows_the_staff_read(srv, member):
    staff = console(srv, "staff")
    assert staff.get(f"/console/members/{member.id}", params={"purpose": "membership"}).status_code == 200
    for role in ("officer", "admin"):
        r = console(srv, role).get("/console/audit", params={"member": member.id, "limit": "1000"})
        assert r.status_code == 200, role
        body = main_of(r.text)
        assert re.search(r"<td>api-test staff <span class=\"muted\">\(staff\)</span></td>\s*"
                         r"<td>read</td><td>membership</td>", body), role
        assert_no_personal(srv, body)


def test_the_member_page_links_the_officer_to_the_members_trail(srv, member):
    link = f'href="/console/audit?member={member.id}"'
    assert link in console(srv, "officer").get(f"/console/members/{member.id}").text
    assert link not in console(srv, "staff").get(f"/console/members/{member.id}").text


def test_audit_paging_and_filters(srv):
    officer = console(srv, "officer")
    r = officer.get("/console/audit", params={"limit": "2"})
    assert r.status_code == 200
    m = re.search(r'name="after" value="(\d+)"', r.text.split('id="h-trail"')[1].split("</table>")[1])
    assert m, "a next-page form"
    r = officer.get("/console/audit", params={"after": "abc"})
    assert r.status_code == 400 and "Check the filters" in r.text


def test_verify_shows_the_chain_intact(srv):
    for role in ("officer", "admin"):
        r = console(srv, role).get("/console/audit", params={"verify": "1"})
        assert r.status_code == 200
        assert "The chain is intact." in r.text
        assert "Checkpoints" in r.text


def test_staff_cannot_reach_the_audit_or_the_tokens(srv):
    for role in ("staff", "analyst", "service", "subcontractor"):
        c = console(srv, role)
        for path in ("/console/audit", "/console/audit?verify=1", "/console/tokens",
                     "/console/tokens/" + "A" * 22 + "/revoke"):
            r = c.get(path)
            assert r.status_code == 403, (role, path)
            assert "Your role may not see this page" in r.text
        r = c.post("/console/tokens", {"role": "admin", "name": "escalate"})
        assert r.status_code == 403
    officer = console(srv, "officer")
    assert officer.get("/console/tokens").status_code == 403
    names = [t["name"] for t in srv.get("/v1/tokens", role="admin").json()["tokens"]]
    assert "escalate" not in names


# ---- tokens --------------------------------------------------------------------------------------------

def test_admin_creates_a_token_shown_once_then_revokes_it(srv):
    admin = console(srv, "admin")
    page = admin.get("/console/tokens")
    assert page.status_code == 200
    assert srv.tokens["admin"] not in page.text
    r = admin.post("/console/tokens", {"role": "staff", "name": "console made <i>x</i>"},
                   csrf_from="/console/tokens")
    assert r.status_code == 200, r.text[:500]
    m = re.search(r'id="secret" class="secret" value="(cu_[A-Za-z0-9_-]{43})"', r.text)
    assert m, main_of(r.text)
    secret = m.group(1)
    assert "console made &lt;i&gt;x&lt;/i&gt;" in r.text
    # Shown once: the list does not show it again.
    assert secret not in admin.get("/console/tokens").text
    # It works for the API...
    assert srv.post("/v1/members/search", token="Bearer " + secret,
                    json={"email": "nobody.console@example.org"}).status_code == 404
    # ...and for the console.
    made = console(srv, secret=secret)
    assert made.get("/console").status_code == 200
    tid = next(t["id"] for t in srv.get("/v1/tokens", role="admin").json()["tokens"]
               if t["name"] == "console made <i>x</i>")
    # Revoking asks first (a page), then a POST.
    confirm = admin.get(f"/console/tokens/{tid}/revoke")
    assert confirm.status_code == 200
    assert f'<form method="post" action="/console/tokens/{tid}/revoke"' in confirm.text
    r = admin.post(f"/console/tokens/{tid}/revoke", {}, csrf_from="/console/tokens")
    assert r.status_code == 303 and r.headers["Location"] == "/console/tokens?done=revoked"
    assert "The token is revoked." in admin.get("/console/tokens?done=revoked").text
    # The token works no more, and its console session ends on the next request.
    assert srv.post("/v1/members/search", token="Bearer " + secret,
                    json={"email": "nobody.console@example.org"}).status_code == 401
    r = made.get("/console")
    assert r.status_code == 303 and r.headers["Location"] == "/console/login"
    r = made.get("/console/login")
    assert r.status_code == 200 and "Your console session has ended" in r.text
    _, value, flags = attrs(set_cookie(r, CONSOLE_COOKIE))
    assert value == "" and flags.get("max-age") == "0"
    # The admin's own session is untouched.
    assert admin.get("/console/tokens").status_code == 200


def test_token_form_errors_next_to_the_field(srv):
    admin = console(srv, "admin")
    r = admin.post("/console/tokens", {"role": "officer", "name": ""})
    assert r.status_code == 422
    assert 'id="name" name="name" value=""' in r.text
    assert 'aria-invalid="true"' in r.text and 'id="name-error"' in r.text
    assert '<option value="officer" selected>' in r.text
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    r = admin.post("/console/tokens", {"role": "staff", "name": "kept name", "expires": day})
    assert r.status_code == 422 and "Choose a date in the future." in r.text
    assert 'value="kept name"' in r.text and f'value="{day}"' in r.text
    r = admin.post("/console/tokens", {"role": "staff", "name": "x", "contract": "api-test-contract"})
    assert r.status_code == 422 and "Only a subcontractor" in r.text
    r = admin.post("/console/tokens", {"role": "subcontractor", "name": "x", "contract": "no-such"})
    assert r.status_code == 422 and "No subcontractor has this id." in r.text


def test_a_subcontractor_token_with_and_without_a_contract(srv):
    admin = console(srv, "admin")
    r = admin.post("/console/tokens", {"role": "subcontractor", "name": "trustee bound",
                                       "contract": "api-test-contract"})
    assert r.status_code == 200 and "bound to no contract" not in r.text
    assert "api-test-contract" in r.text
    r = admin.post("/console/tokens", {"role": "subcontractor", "name": "trustee unbound"})
    assert r.status_code == 200 and "bound to no contract" in r.text


def test_admin_revoking_unknown_token(srv):
    admin = console(srv, "admin")
    assert admin.get("/console/tokens/" + "B" * 22 + "/revoke").status_code == 404
    r = admin.post("/console/tokens/" + "B" * 22 + "/revoke", {})
    assert r.status_code == 404


# ---- no personal data in URLs, Japanese ---------------------------------------------------------------

def test_no_personal_data_in_any_console_url(srv, member):
    staff = console(srv, "staff")
    pages = [staff.get("/console"), staff.get("/console/members"),
             staff.get(f"/console/members/{member.id}", params={"purpose": "support"})]
    for p in pages:
        for url in re.findall(r'(?:href|action)="([^"]*)"', p.text):
            assert_no_personal(srv, html.unescape(url))
    # Every form that carries personal data is a POST.
    assert re.search(r'<form method="post" action="/console/members"[^>]*>.*?name="email"',
                     pages[1].text, re.S)


def test_console_pages_in_japanese(srv):
    r = srv.get("/console/login?lang=ja")
    assert r.status_code == 200 and "コンソールへのログイン" in r.text
    r = console(srv, "officer").get("/console?lang=ja")
    assert r.status_code == 200 and "コンソール" in r.text
