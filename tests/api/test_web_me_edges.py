"""
The member's own pages at their edges (server/web/pages_me.c): the consents form with a
choice missing or not 0/1, a target the policy does not have, the preferences cookie
category withdrawn (the language cookie goes with it); the data form sent back unchanged,
integer fields included; a receipt or export format that is not there.  Each answers a
page with its status and words, and records nothing (checked in the API).
"""
import re

import pytest

from conftest import SESSION_COOKIE

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PASSWORD = "me edges password"


def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
    assert m, "no csrf field on the page"
    return m.group(1)


class Browser:
    def __init__(self, srv, survey=False):
        self.srv = srv
        self.m = srv.register(srv.new_values(survey=survey), role=None, password=PASSWORD)
        srv.login(self.m)
        self.cookies = {SESSION_COOKIE: self.m.cookie}
        self.csrf = csrf_of(self.get("/me/consents").text)

    def headers(self, extra=None):
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
             "Accept": "text/html"}
        h.update(extra or {})
        return h

    def get(self, path):
        return self.srv.http.get(self.srv.base + path, headers=self.headers(),
                                 allow_redirects=False, timeout=30)

    def post(self, path, data):
        return self.srv.http.post(self.srv.base + path, data=dict(data, csrf=self.csrf),
                                  headers=self.headers(FORM), allow_redirects=False, timeout=30)

    def choices(self):
        r = self.srv.get("/v1/me/consents", member=self.m)
        assert r.status_code == 200
        return r.json()["choices"]


def set_cookies(r):
    out = {}
    for k, v in r.raw.headers.items():
        if k.lower() == "set-cookie":
            first, _, attrs = v.partition(";")
            name, _, value = first.partition("=")
            out[name.strip()] = (value.strip(), attrs.lower())
    return out


@pytest.fixture()
def browser(srv):
    return Browser(srv)


@pytest.mark.parametrize("form", [
    {"kind": "purpose", "target": "testimonials"},                    # no choice
    {"kind": "purpose", "target": "testimonials", "granted": "yes"},  # not 0 or 1
    {"kind": "purpose", "granted": "1"},                              # no target
    {"target": "testimonials", "granted": "1"},                       # no kind
])
def test_a_consent_form_missing_or_bending_a_field_is_refused(srv, browser, form):
    before = browser.choices()
    r = browser.post("/me/consents", form)
    assert r.status_code == 400, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"].startswith("text/html")
    assert "That choice could not be recorded." in r.text
    assert browser.choices() == before


@pytest.mark.parametrize("kind,target", [("purpose", "no_such_purpose"),
                                         ("cookie", "no_such_category")])
def test_a_consent_to_something_the_policy_does_not_have_is_refused(srv, browser, kind, target):
    before = browser.choices()
    r = browser.post("/me/consents", {"kind": kind, "target": target, "granted": "1"})
    assert r.status_code in (404, 422), (r.status_code, r.text[:500])
    assert "That choice could not be recorded." in r.text
    assert browser.choices() == before


def test_withdrawing_preferences_takes_the_language_cookie_with_it(srv, browser):
    # Preferences allowed in this browser, Japanese chosen: the language is remembered.
    browser.cookies["cu_cookies"] = "p1s0a0"
    r = browser.post("/me/consents", {"kind": "cookie", "target": "preferences", "granted": "1"})
    assert r.status_code == 303 and r.headers["Location"] == "/me/consents?done=saved"
    got = set_cookies(r)
    assert "cu_cookies" in got
    browser.cookies["cu_cookies"] = got["cu_cookies"][0]
    r = browser.get("/me/consents?lang=ja")
    assert r.status_code == 200 and 'lang="ja"' in r.text
    lang = set_cookies(r).get("cu_lang")
    assert lang and lang[0] == "ja", set_cookies(r)
    browser.cookies["cu_lang"] = "ja"
    # Withdrawn: the choice is recorded and the language cookie is cleared in the same answer.
    r = browser.post("/me/consents", {"kind": "cookie", "target": "preferences", "granted": "0"})
    assert r.status_code == 303, r.text[:500]
    got = set_cookies(r)
    assert "cu_lang" in got and got["cu_lang"][0] == "" and "max-age=0" in got["cu_lang"][1], got
    assert "cu_cookies" in got and got["cu_cookies"][0] != browser.cookies["cu_cookies"]
    mine = [c for c in browser.choices() if c["kind"] == "cookie" and c["target"] == "preferences"]
    assert [c["granted"] for c in mine] == [False]


def test_the_data_form_sent_back_as_it_was_changes_nothing(srv):
    b = Browser(srv, survey=True)
    page = b.get("/me/data")
    assert page.status_code == 200
    form = {}
    for name, value in re.findall(r'<input [^>]*\bname="([a-z_]+)"[^>]*\bvalue="([^"]*)"',
                                  page.text):
        if name != "csrf":
            form[name] = value.replace("&amp;", "&")
    assert form.get("age") == b.m.values["age"], form    # an integer field, shown as text
    before = srv.get("/v1/me", member=b.m).json()
    head = srv.audit_head()
    r = b.post("/me/data", form)
    assert r.status_code == 303, (r.status_code, r.text[:500])
    assert r.headers["Location"] == "/me/data?done=unchanged"
    assert srv.get("/v1/me", member=b.m).json() == before
    assert b.get("/me/data?done=unchanged").text.count("Nothing was changed.") == 1
    assert srv.audit_head() >= head


def test_a_receipt_or_export_that_is_not_there_is_not_found(srv, browser):
    for path in ("/me/export/xml", "/me/export/..", "/me/consents/" + "A" * 22 + "/receipt",
                 "/me/consents/bad!id/receipt"):
        r = browser.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("text/html"), path
