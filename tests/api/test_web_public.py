"""The web pages anyone sees (server/web/pages_public.c) and what every page
promises (server/web/page.c): the security headers, forms refused without
their token, the cookie choice (each category refusable, a refused one sets no
cookie, Global Privacy Control honoured), the language, the static files."""
import re

import pytest

PAGES = ["/", "/cookies", "/login"]
CSP_WANT = ["default-src 'none'", "script-src 'self'", "style-src 'self'",
            "frame-ancestors 'none'", "form-action 'self'"]


def csrf_of(html):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', html)
    assert m, "no csrf field in the page"
    return m.group(1)


def set_cookies(r):
    """Every Set-Cookie of a response, as (name, value, attributes in lower case)."""
    out = []
    for k, v in r.raw.headers.items():
        if k.lower() == "set-cookie":
            first, _, attrs = v.partition(";")
            name, _, value = first.partition("=")
            out.append((name.strip(), value.strip(), attrs.lower()))
    return out


def post_form(srv, path, fields, headers=None, from_page=None):
    page = srv.get(from_page or path, headers=headers)
    data = dict(fields)
    data.setdefault("csrf", csrf_of(page.text))
    return srv.request("POST", path, data=data, headers=headers)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_page_headers(srv, path):
    r = srv.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = r.headers["Content-Security-Policy"]
    for want in CSP_WANT:
        assert want in csp, (want, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    # No inline script or style for the CSP to block, and no third-party origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text)
    assert " style=" not in r.text and " onclick=" not in r.text
    assert not re.search(r'(src|href)="(https?:)?//', r.text)


def test_a_form_without_its_token_is_refused(srv):
    for data in ({"all": "accept"}, {"all": "accept", "csrf": "x" * 43}):
        r = srv.request("POST", "/cookies", data=data)
        assert r.status_code == 403
        assert "text/html" in r.headers["Content-Type"]
        assert not set_cookies(r)


def test_a_form_that_does_not_parse_is_a_400_page(srv):
    token = csrf_of(srv.get("/cookies").text)
    r = srv.request("POST", "/cookies", data=f"csrf={token}&all=%zz",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    r = srv.request("POST", "/cookies", json={"csrf": token})
    assert r.status_code == 415


def test_the_banner_shows_until_a_choice_is_made(srv):
    assert 'class="banner"' in srv.get("/").text
    r = srv.get("/", headers={"Cookie": "cu_cookies=n1p0s0a0"})
    assert 'class="banner"' not in r.text


def test_only_necessary_sets_the_choice_and_nothing_else(srv):
    r = post_form(srv, "/cookies", {"all": "reject", "back": "/"})
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cookies = {n: v for n, v, a in set_cookies(r) if "max-age=0" not in a}
    assert cookies == {"cu_cookies": "n1p0s0a0"}


def test_allow_all_and_a_language_remembered_only_with_preferences(srv):
    r = post_form(srv, "/cookies", {"all": "accept"})
    assert r.status_code == 303 and r.headers["Location"] == "/cookies?done=1"
    assert ("cu_cookies", "n1p1s1a1") in [(n, v) for n, v, _ in set_cookies(r)]
    # Preferences allowed: ?lang= is remembered.
    r = srv.get("/?lang=ja", headers={"Cookie": "cu_cookies=n1p1s0a0"})
    assert ("cu_lang", "ja") in [(n, v) for n, v, _ in set_cookies(r)]
    # Refused (or not chosen): the page is Japanese, nothing is set.
    for cookie in ("cu_cookies=n1p0s1a1", ""):
        r = srv.get("/?lang=ja", headers={"Cookie": cookie} if cookie else {})
        assert '<html lang="ja">' in r.text
        assert not [n for n, _, a in set_cookies(r) if n == "cu_lang" and "max-age=0" not in a]
    # A remembered language is read only while preferences are allowed.
    r = srv.get("/", headers={"Cookie": "cu_cookies=n1p1s0a0; cu_lang=ja"})
    assert '<html lang="ja">' in r.text
    r = srv.get("/", headers={"Cookie": "cu_cookies=n1p0s0a0; cu_lang=ja"})
    assert '<html lang="en">' in r.text


def test_refusing_preferences_deletes_the_language_cookie(srv):
    r = post_form(srv, "/cookies", {"necessary": "on", "statistics": "on"})
    assert ("cu_lang", "") in [(n, v) for n, v, a in set_cookies(r) if "max-age=0" in a]
    assert ("cu_cookies", "n1p0s1a0") in [(n, v) for n, v, _ in set_cookies(r)]


def test_refusing_necessary_cookies_keeps_even_the_choice_out(srv):
    r = post_form(srv, "/cookies", {"preferences": "on"})
    assert r.status_code == 303
    kept = [n for n, v, a in set_cookies(r) if "max-age=0" not in a]
    assert kept == []


def test_global_privacy_control_refuses_advertising(srv):
    gpc = {"Sec-GPC": "1"}
    page = srv.get("/cookies", headers=gpc)
    assert "Global Privacy Control" in page.text
    # The choice records what was chosen; advertising stays refused while GPC is sent.
    r = srv.get("/cookies", headers={**gpc, "Cookie": "cu_cookies=n1p1s1a1"})
    assert r.status_code == 200
    assert 'id="c-advertising" name="advertising" checked' in r.text
    # Without a choice, statistics are refused too: nothing but the page.
    r = srv.get("/?lang=ja", headers=gpc)
    assert not set_cookies(r)


def test_the_back_address_stays_on_this_site(srv):
    for back in ("//evil.example/", "https://evil.example/", "/\\evil", "/ok\r\nX: y"):
        r = post_form(srv, "/cookies", {"all": "reject", "back": back})
        assert r.status_code == 303
        assert r.headers["Location"] == "/cookies?done=1", back


def test_language_from_accept_language(srv):
    r = srv.get("/", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
    assert '<html lang="ja">' in r.text and "ログイン" in r.text
    r = srv.get("/", headers={"Accept-Language": "fr, en;q=0.5"})
    assert '<html lang="en">' in r.text
    r = srv.get("/?lang=en", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in r.text


def test_static_files(srv):
    r = srv.get("/static/site.css")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/css")
    r = srv.get("/static/site.js")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    for bad in ("/static/nope.css", "/static/..%2Fsite.css", "/static/.hidden"):
        assert srv.get(bad).status_code == 404, bad


def test_pages_are_not_in_the_api_document(srv):
    doc = srv.get("/openapi.json").json()
    assert not [p for p in doc["paths"] if not p.startswith("/v1/") and p not in
                ("/healthz", "/readyz", "/metrics", "/openapi.json", "/b.gif")]


def test_a_missing_page_is_a_page_for_browsers_and_json_for_programs(srv):
    r = srv.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 404 and "text/html" in r.headers["Content-Type"]
    assert "Content-Security-Policy" in r.headers
    r = srv.get("/no-such-page")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = srv.get("/v1/no-such-route", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_form_posted_from_another_site_is_refused(srv):
    """A visitor's token is not bound to the visitor, so the browser's own word on where a
    form came from (Origin, Sec-Fetch-Site) decides: another site's page cannot post it."""
    host = srv.base.split("//", 1)[1]
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}, {"Origin": f"http://{host}.evil.example"}):
        r = post_form(srv, "/cookies", {"all": "accept"}, headers=headers)
        assert r.status_code == 403, headers
        assert not set_cookies(r)
    for headers in ({"Origin": f"http://{host}"}, {"Sec-Fetch-Site": "same-origin"}, {}):
        r = post_form(srv, "/cookies", {"all": "accept"}, headers=headers)
        assert r.status_code == 303, headers
