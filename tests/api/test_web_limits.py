"""
The web pages when an attempt limit answers (server/web/pages_account.c, pages_me.c), on a
server of its own with [security] signups_per_hour = 1 (a fresh rate-limit table): the sign-up
form past the limit, a change of e-mail address past it, a log-in after too many wrong
passwords.  Each page says to wait (429), keeps what was typed where it keeps it, and
nothing is made or changed.
"""
import re

import pytest

from conftest import SESSION_COOKIE, own_server, set_conf

PASSWORD = "web limits password"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
    assert m, "no csrf field on the page"
    return m.group(1)


@pytest.fixture(scope="module")
def limited(request):
    def prepare(s):
        set_conf(f"{s.data}/custodian.conf", "security", "signups_per_hour", "1")
    with own_server(request, "cu-web-limits-", prepare=prepare) as s:
        yield s


def session_cookie(r):
    for k, v in r.raw.headers.items():
        if k.lower() == "set-cookie" and v.startswith(SESSION_COOKIE + "="):
            return v.split(";", 1)[0].split("=", 1)[1]
    return None


def test_the_sign_up_form_past_the_limit_says_wait(limited):
    s = limited
    first, second = s.new_values(), s.new_values()
    s.remember(first)
    s.remember(second)
    r = s.post("/signup", data=dict(first, password=PASSWORD, csrf=csrf_of(s.get("/signup").text)))
    assert r.status_code == 303, r.text[:500]
    r = s.post("/signup", data=dict(second, password=PASSWORD,
                                    csrf=csrf_of(s.get("/signup").text)))
    assert r.status_code == 429, (r.status_code, r.text[:500])
    assert "Too many sign-ups from here. Wait a while and try again." in r.text
    assert f'value="{second["phone"]}"' in r.text
    assert session_cookie(r) is None
    assert s.search("email", second["email"]).status_code == 404


def test_an_email_change_past_the_limit_says_wait_and_changes_nothing(limited):
    """The limit is shared with sign-ups from this address (one an hour here): whichever came
    first, within two changes one is refused, and the address stays the last one taken."""
    s = limited
    m = s.register(s.new_values(), role="service", password=PASSWORD)
    s.login(m)
    h = {"Cookie": f"{SESSION_COOKIE}={m.cookie}"}
    csrf = csrf_of(s.get("/me/data", headers=h).text)
    now = m.email
    for _ in range(2):
        new = f"moved.{s.unique('')}@leak-example.org"
        s.remember({"e": new})
        r = s.post("/me/data", data={"email": new, "csrf": csrf}, headers=h)
        if r.status_code != 429:
            assert r.status_code == 303, (r.status_code, r.text[:500])
            now = new
            continue
        assert "Too many e-mail address changes from here." in r.text
        break
    assert r.status_code == 429, "no change was refused"
    assert s.get("/v1/me", member=m).json()["fields"]["email"] == now


def test_a_log_in_after_too_many_wrong_passwords_says_wait(limited):
    s = limited
    m = s.register(s.new_values(), role="service", password=PASSWORD)
    csrf = csrf_of(s.get("/login").text)
    statuses = []
    for _ in range(6):
        r = s.post("/login", data={"email": m.email, "password": "not the password", "csrf": csrf})
        statuses.append(r.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    # Now even the right password waits: no session.
    r = s.post("/login", data={"email": m.email, "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 429
    assert "Too many attempts. Wait a while and try again." in r.text
    assert session_cookie(r) is None
