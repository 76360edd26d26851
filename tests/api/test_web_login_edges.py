"""
Logging in and out at the edges (server/web/pages_account.c, pages_console.c): the member's
log-out ends the session in the API too; a log-in form missing its e-mail or password, or
sent with the necessary cookie refused; the page after sign-up; the console's log-in form
when a good console session is held already, a pasted token longer than any secret, a form
without its token.  Each answers its page with its status and words; no session is made.
"""
import re

import pytest

from conftest import SESSION_COOKIE

PASSWORD = "login edges password"
CONSOLE = "cu_console"
REFUSED = "n0p0s0a0"      # the cookie choice with even the necessary category refused


def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
    assert m, "no csrf field on the page"
    return m.group(1)


def set_cookie_names(r):
    return [v.split("=", 1)[0].strip() for k, v in r.raw.headers.items()
            if k.lower() == "set-cookie"]


def post_from(srv, path, data, cookie="", page=None):
    h = {"Cookie": cookie} if cookie else {}
    form = dict(data, csrf=csrf_of(srv.get(page or path, headers=h).text))
    return srv.request("POST", path, data=form, headers=h)


def test_member_log_out_ends_the_session(srv):
    m = srv.register(srv.new_values(), role=None, password=PASSWORD)
    srv.login(m)
    cookie = f"{SESSION_COOKIE}={m.cookie}"
    assert srv.get("/v1/me", member=m).status_code == 200
    r = post_from(srv, "/logout", {}, cookie=cookie, page="/me")
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text[:300]
    assert srv.get("/v1/me", member=m).status_code == 401
    r = srv.get("/me", headers={"Cookie": cookie})
    assert r.status_code == 303 and r.headers["Location"] == "/login"


def test_member_log_out_without_a_session_or_its_token(srv):
    r = srv.post("/logout", data={"csrf": "x" * 43})
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    m = srv.register(srv.new_values(), role=None, password=PASSWORD)
    srv.login(m)
    r = srv.post("/logout", data={"csrf": "x" * 43},
                 headers={"Cookie": f"{SESSION_COOKIE}={m.cookie}"})
    assert r.status_code == 403
    assert srv.get("/v1/me", member=m).status_code == 200   # still logged in


@pytest.mark.parametrize("form", [{"email": "", "password": PASSWORD},
                                  {"email": "someone@example.org", "password": ""},
                                  {}])
def test_a_log_in_form_missing_a_field_says_so(srv, form):
    r = post_from(srv, "/login", form)
    assert r.status_code == 400, r.status_code
    assert "Enter your e-mail address and password." in r.text
    assert SESSION_COOKIE not in set_cookie_names(r)


def test_a_log_in_with_the_necessary_cookie_refused_makes_no_session(srv):
    m = srv.register(srv.new_values(), role=None, password=PASSWORD)
    r = post_from(srv, "/login", {"email": m.email, "password": PASSWORD},
                  cookie=f"cu_cookies={REFUSED}")
    assert r.status_code == 403
    assert "Logging in needs a necessary cookie" in r.text
    assert SESSION_COOKIE not in set_cookie_names(r)


def test_the_log_in_page_after_sign_up_says_the_account_is_made(srv):
    r = srv.get("/login?done=signed_up")
    assert r.status_code == 200
    assert "Your account is made." in r.text
    assert "Your account is made." not in srv.get("/login").text


def test_the_console_log_in_page_with_a_good_session_goes_to_the_console(srv):
    r = srv.get("/console/login", headers={"Cookie": f"{CONSOLE}={srv.tokens['staff']}"})
    assert r.status_code == 303 and r.headers["Location"] == "/console"


def test_the_console_log_in_refuses_a_token_longer_than_any_secret(srv):
    r = post_from(srv, "/console/login", {"token": srv.tokens["officer"] + "x" * 200})
    assert r.status_code == 401
    assert CONSOLE not in set_cookie_names(r)
    assert srv.tokens["officer"] not in r.text


def test_the_console_log_in_without_its_form_token_is_refused(srv):
    r = srv.post("/console/login", data={"token": srv.tokens["officer"]})
    assert r.status_code == 403
    assert CONSOLE not in set_cookie_names(r)
    r = srv.post("/console/login", data="token=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
