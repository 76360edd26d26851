"""The member portal's account pages (server/web/pages_account.c, pages_me.c):
sign-up built from the policy (a mistake first, then success), log in with
"remember me", the dashboard addressing the member by name, my data (view, edit
with errors next to the fields, survey answers making a member eligible), my
consents (purposes, third parties, cookie categories; receipts to download; the
cookie page recording a member's choice), the export (JSON and CSV downloads),
CSRF refusals, and no personal data in any URL or cookie."""
import html
import json
import re

from conftest import POLICY, SESSION_COOKIE, own_server

PASSWORD = "correct horse battery 9"
SURVEY = [f["name"] for f in POLICY["fields"] if f.get("survey")]
MAIN = [f["name"] for f in POLICY["fields"] if not f.get("survey")]


# ---- helpers -----------------------------------------------------------------------------

def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
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


def cookie_header(session=None, choice=None):
    parts = []
    if session:
        parts.append(f"{SESSION_COOKIE}={session}")
    if choice:
        parts.append(f"cu_cookies={choice}")
    return {"Cookie": "; ".join(parts)} if parts else {}


def page(srv, path, session=None, choice=None):
    return srv.get(path, headers=cookie_header(session, choice))


def post_form(srv, path, data, session=None, choice=None, from_page=None, csrf=True):
    """GETs the form's page (for its token) and POSTs data as a browser would."""
    h = cookie_header(session, choice)
    body = dict(data)
    if csrf:
        body.setdefault("csrf", csrf_of(srv.get(from_page or path, headers=h).text))
    return srv.request("POST", path, data=body, headers=h)


def field_error(text, name):
    """The message next to field name, or None; asserts it is tied to the input."""
    m = re.search(rf'<p class="error" id="e-{name}">([^<]*)</p>', text)
    if not m:
        return None
    tag = re.search(rf'<(input|textarea)[^>]*\bid="f-{name}"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in tag, tag
    assert f"e-{name}" in re.search(r'aria-describedby="([^"]*)"', tag).group(1), tag
    return m.group(1)


def input_value(text, name):
    m = re.search(rf'<input [^>]*\bid="f-{name}"[^>]*\bvalue="([^"]*)"', text)
    if m:
        return html.unescape(m.group(1))
    m = re.search(rf'<textarea [^>]*\bid="f-{name}"[^>]*>([^<]*)</textarea>', text)
    return html.unescape(m.group(1)) if m else None


def no_personal_in(srv, r, values=()):
    """No personal value in the URL it went to, its Location or any Set-Cookie."""
    look = [r.url, r.headers.get("Location", "")] + [n + "=" + v for n, v, _ in set_cookies(r)]
    low = " ".join(look).lower()
    for v in list(srv.personal) + list(values):
        assert v.lower() not in low, f"personal value in a URL or cookie: {v!r}"


def signup(srv, values, password=PASSWORD):
    srv.remember(values)
    r = post_form(srv, "/signup", dict(values, password=password))
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/me?done=welcome"
    session = dict((n, v) for n, v, a in set_cookies(r))[SESSION_COOKIE]
    me = srv.get("/v1/me", headers=cookie_header(session)).json()
    srv.member_ids.add(me["id"])
    return session, me["id"]


def member_session(srv, survey=False, **over):
    """A member signed up through the API and logged in: (Member, session)."""
    m = srv.register(srv.new_values(survey=survey, **over), role=None, password=PASSWORD)
    srv.login(m)
    return m, m.cookie


# ---- the policy's fields, in the API ---------------------------------------------------------

def test_the_policy_lists_its_fields_and_services(srv):
    body = srv.get("/v1/policy").json()
    assert [f["name"] for f in body["fields"]] == [f["name"] for f in POLICY["fields"]]
    for got, want in zip(body["fields"], POLICY["fields"]):
        assert got["kind"] == want["kind"] and got["label"] == want["label"]
        assert got["required"] == want.get("required", False)
        assert got["survey"] == want.get("survey", False)
        assert got["max_length"] == want["max_length"]
        if want["kind"] == "integer":
            assert (got["min"], got["max"]) == (want["min"], want["max"])
    assert {s["id"]: s["requires"] for s in body["services"]} == \
        {s["id"]: s["requires"] for s in POLICY["services"]}


# ---- sign-up ------------------------------------------------------------------------------

def test_the_signup_form_asks_every_field_and_says_what_services_need(srv):
    r = srv.get("/signup")
    assert r.status_code == 200
    t = r.text
    for f in POLICY["fields"]:
        assert f'<label for="f-{f["name"]}">{html.escape(f["label"], quote=False)}' in t, f
        assert f'name="{f["name"]}"' in t
    assert 'type="password"' in t and 'autocomplete="new-password"' in t
    # The survey apart, optional, and which services need which answers.
    survey_part = t[t.index("Survey (optional)"):]
    for name in SURVEY:
        assert f'id="f-{name}"' in survey_part
    for name in MAIN:
        assert f'id="f-{name}"' not in survey_part
    labels = {f["name"]: f["label"] for f in POLICY["fields"]}
    for s in POLICY["services"]:
        needs = ", ".join(labels[n] for n in s["requires"]) or "needs no answers"
        assert html.escape(needs, quote=False) in survey_part, s
    # Japanese: the same form in the policy's fields, in Japanese.
    ja = srv.get("/signup?lang=ja").text
    assert "アンケート（任意）" in ja and "職業" in ja


def test_signup_with_a_mistake_first_then_success(srv):
    values = srv.new_values(survey=False, name="O'Brien <b>Leakcheck</b> & co")
    values["occupation"] = srv.unique("teacher-")
    values["hobbies"] = srv.unique("go-") + ", origami"
    srv.remember(values)
    bad = dict(values, email="not-an-address", age="many")
    r = post_form(srv, "/signup", dict(bad, password="short"))
    assert r.status_code == 422, r.text
    no_personal_in(srv, r)
    assert not any(n == SESSION_COOKIE for n, _, _ in set_cookies(r))
    t = r.text
    assert field_error(t, "email") and field_error(t, "age")
    assert field_error(t, "password") == "This is too short."
    assert field_error(t, "name") is None
    # Input kept, escaped — except the password.
    assert input_value(t, "name") == values["name"]
    assert html.escape(values["name"], quote=True).replace("&#x27;", "&#39;") in t
    assert "<b>Leakcheck</b>" not in t
    assert input_value(t, "email") == "not-an-address"
    assert input_value(t, "occupation") == values["occupation"]
    assert "short" not in re.search(r'<input type="password"[^>]*>', t).group(0)
    # Fixed: an account, logged in, welcomed by name.
    session, mid = signup(srv, values)
    me = srv.get("/v1/me", headers=cookie_header(session)).json()
    assert me["fields"]["occupation"] == values["occupation"]
    assert "age" not in me["fields"]        # a blank answer is no answer
    r = page(srv, "/me?done=welcome", session)
    assert r.status_code == 200
    assert "Welcome!" in r.text
    assert "O&#39;Brien &lt;b&gt;Leakcheck&lt;/b&gt; &amp; co" in r.text
    assert "<b>Leakcheck" not in r.text


def test_signup_with_a_taken_address_keeps_the_input(srv):
    m, _ = member_session(srv)
    values = srv.new_values(email=m.email)
    srv.remember(values)
    r = post_form(srv, "/signup", dict(values, password=PASSWORD))
    assert r.status_code == 422
    assert field_error(r.text, "email") == "This is already in use."
    assert input_value(r.text, "name") == values["name"]


def test_signup_is_refused_when_necessary_cookies_are(srv):
    refused = "n0p0s0a0"
    r = page(srv, "/signup", choice=refused)
    assert r.status_code == 200 and 'href="/cookies"' in r.text
    assert "refused necessary cookies" in r.text
    values = srv.new_values()
    srv.remember(values)
    r = post_form(srv, "/signup", dict(values, password=PASSWORD), choice=refused)
    assert r.status_code == 403
    assert 'href="/cookies"' in r.text
    assert not set_cookies(r)
    assert srv.search("email", values["email"]).status_code == 404


def test_a_logged_in_member_is_sent_to_their_page(srv):
    m, session = member_session(srv)
    for r in (page(srv, "/signup", session), page(srv, "/login", session),
              post_form(srv, "/signup", srv.new_values(), session, from_page="/me")):
        assert r.status_code == 303 and r.headers["Location"] == "/me"


def test_signup_without_its_token_is_refused(srv):
    values = srv.new_values()
    srv.remember(values)
    r = srv.request("POST", "/signup", data=dict(values, password=PASSWORD))
    assert r.status_code == 403
    assert srv.search("email", values["email"]).status_code == 404


# ---- log in --------------------------------------------------------------------------------

def test_login_wrong_right_and_remember(srv):
    m, _ = member_session(srv)
    r = post_form(srv, "/login", {"email": m.email, "password": "wrong password 1"})
    assert r.status_code == 401
    assert input_value_login(r.text) == m.email
    assert "wrong password 1" not in r.text
    assert not any(n == SESSION_COOKIE for n, _, _ in set_cookies(r))
    no_personal_in(srv, r)

    r = post_form(srv, "/login", {"email": m.email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/me"
    no_personal_in(srv, r)
    (attrs,) = [a for n, _, a in set_cookies(r) if n == SESSION_COOKIE]
    short = int(re.search(r"max-age=(\d+)", attrs).group(1))
    assert "httponly" in attrs

    r = post_form(srv, "/login", {"email": m.email, "password": PASSWORD, "remember": "on"})
    assert r.status_code == 303
    (attrs,) = [a for n, _, a in set_cookies(r) if n == SESSION_COOKIE]
    assert int(re.search(r"max-age=(\d+)", attrs).group(1)) == 30 * 86400 > short


def input_value_login(text):
    m = re.search(r'<input type="email" id="email" name="email" value="([^"]*)"', text)
    return html.unescape(m.group(1)) if m else None


# ---- the dashboard ---------------------------------------------------------------------------

def test_me_greets_by_the_servers_name_with_cards(srv):
    m, session = member_session(srv, name="<script>alert('Leakcheck')</script> Taro")
    r = page(srv, "/me", session)
    assert r.status_code == 200
    assert "&lt;script&gt;alert(&#39;Leakcheck&#39;)&lt;/script&gt; Taro" in r.text
    assert "<script>alert" not in r.text
    for path in ("/me/data", "/me/consents", "/me/requests", "/me/complaints", "/me/diary",
                 "/me/notices", "/me/access-log", "/me/export"):
        assert f'href="{path}"' in r.text
    assert "new privacy policy" not in r.text
    # A visitor is sent to log in.
    r = srv.get("/me")
    assert r.status_code == 303 and r.headers["Location"] == "/login"


def test_me_prompts_for_a_new_policy_version(request):
    with own_server(request, "cu-web-acc-") as s:
        m = s.register(s.new_values(), role=None, password=PASSWORD)
        s.login(m)
        doc = s.get(f"/v1/policy/versions/{POLICY['version']}").json()
        doc["version"] = POLICY["version"] + ".web"
        r = s.post("/v1/policy/versions", role="officer", json=doc)
        assert r.status_code in (200, 201), r.text
        r = page(s, "/me", m.cookie)
        assert "A new privacy policy awaits your acceptance" in r.text
        assert 'href="/policy"' in r.text
        assert s.post("/v1/me/policy/accept", member=m).status_code == 200
        assert "awaits your acceptance" not in page(s, "/me", m.cookie).text


# ---- my data -----------------------------------------------------------------------------------

def test_my_data_shows_everything_and_eligibility(srv):
    m, session = member_session(srv)
    r = page(srv, "/me/data", session)
    assert r.status_code == 200
    for name in MAIN:
        assert html.escape(m.values[name], quote=False) in r.text
        assert input_value(r.text, name) == m.values[name]
    elig = r.text[r.text.index('id="eligibility"'):]
    assert "Live classes" in elig and "Missing answers: Occupation, Hobbies" in elig


def test_edit_with_a_mistake_keeps_the_input_and_changes_nothing(srv):
    m, session = member_session(srv)
    occupation = srv.unique("carpenter-")
    srv.remember({"occupation": occupation})
    form = {n: m.values[n] for n in MAIN}
    form.update(phone="not a phone", occupation=occupation, name="")
    r = post_form(srv, "/me/data", form, session)
    assert r.status_code == 422, r.text
    assert field_error(r.text, "phone") == "This is not in the expected form."
    assert field_error(r.text, "name") == "This is required."
    assert input_value(r.text, "phone") == "not a phone"
    assert input_value(r.text, "occupation") == occupation
    no_personal_in(srv, r)
    me = srv.get("/v1/me", member=m).json()["fields"]
    assert me["phone"] == m.values["phone"] and "occupation" not in me


def test_answering_the_survey_makes_a_member_eligible(srv):
    m, session = member_session(srv)
    svc = "live_classes"
    before = srv.get(f"/v1/services/{svc}/eligibility/{m.id}", member=m).json()
    assert before["eligible"] is False
    answers = {"occupation": srv.unique("nurse-"), "hobbies": srv.unique("chess-") + ", tea"}
    srv.remember(answers)
    form = {n: m.values[n] for n in MAIN}
    form.update(answers)
    r = post_form(srv, "/me/data", form, session)
    assert r.status_code == 303 and r.headers["Location"].startswith("/me/data?done=saved")
    no_personal_in(srv, r)
    me = srv.get("/v1/me", member=m).json()["fields"]
    assert me["occupation"] == answers["occupation"] and me["hobbies"] == answers["hobbies"]
    after = srv.get(f"/v1/services/{svc}/eligibility/{m.id}", member=m).json()
    assert after["eligible"] is True
    t = page(srv, "/me/data?done=saved", session).text
    assert "Your changes are saved." in t
    elig = t[t.index('id="eligibility"'):]
    row = re.search(r"<strong>Live classes</strong>(.*?)</li>", elig, re.S).group(1)
    assert "You can use this" in row
    # Emptying an answer withdraws it: not eligible any more.
    form["hobbies"] = ""
    assert post_form(srv, "/me/data", form, session).status_code == 303
    assert "hobbies" not in srv.get("/v1/me", member=m).json()["fields"]
    # The same form again changes nothing.
    r = post_form(srv, "/me/data", form, session)
    assert r.headers["Location"] == "/me/data?done=unchanged"


def test_my_data_refuses_a_form_without_its_token(srv):
    m, session = member_session(srv)
    r = srv.request("POST", "/me/data", data={"occupation": "spy"},
                    headers=cookie_header(session))
    assert r.status_code == 403
    assert "occupation" not in srv.get("/v1/me", member=m).json()["fields"]
    # Another session's token is not this one's.
    _, other = member_session(srv)
    r = srv.request("POST", "/me/data", headers=cookie_header(session),
                    data={"occupation": "spy", "csrf": csrf_of(page(srv, "/me/data", other).text)})
    assert r.status_code == 403


# ---- my consents ---------------------------------------------------------------------------------

def consents(srv, m):
    r = srv.get("/v1/me/consents", member=m)
    assert r.status_code == 200
    return {(c["kind"], c["target"]): c for c in r.json()["choices"]}


def test_consents_change_shows_in_the_api_with_a_receipt(srv, tmp_path):
    m, session = member_session(srv)
    t = page(srv, "/me/consents", session).text
    assert "testimonials" in t and "Not decided" in t
    r = post_form(srv, "/me/consents",
                  {"kind": "purpose", "target": "testimonials", "granted": "1"}, session)
    assert r.status_code == 303 and r.headers["Location"] == "/me/consents?done=saved"
    c = consents(srv, m)[("purpose", "testimonials")]
    assert c["granted"] is True
    t = page(srv, "/me/consents?done=saved", session).text
    assert "Your choice is recorded." in t
    assert f'href="/me/consents/{c["id"]}/receipt"' in t

    # The receipt downloads as a file, and verifies as this custodian's.
    r = page(srv, f"/me/consents/{c['id']}/receipt", session)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Content-Disposition"] == \
        f'attachment; filename="consent-receipt-{c["id"]}.json"'
    body = r.json()
    assert body["receipt"]["receipt"]["target"] == "testimonials"
    f = tmp_path / "receipt.json"
    f.write_bytes(r.content)
    v = srv.cli("receipt", "verify", str(f))
    assert v.returncode == 0, v.stderr
    # Someone else's receipt, or none: not found.
    _, other = member_session(srv)
    assert page(srv, f"/me/consents/{c['id']}/receipt", other).status_code == 404
    assert page(srv, "/me/consents/no%22such/receipt", session).status_code == 404

    # Withdrawn again.
    r = post_form(srv, "/me/consents",
                  {"kind": "purpose", "target": "testimonials", "granted": "0"}, session)
    assert r.status_code == 303
    assert consents(srv, m)[("purpose", "testimonials")]["granted"] is False
    # A purpose of use is not the member's to withdraw: an error page, nothing recorded.
    r = post_form(srv, "/me/consents",
                  {"kind": "purpose", "target": "support", "granted": "0"}, session)
    assert r.status_code == 422 and "text/html" in r.headers["Content-Type"]
    assert ("purpose", "support") not in consents(srv, m)


def test_consent_to_a_third_party(srv):
    m, session = member_session(srv)
    tp = srv.post("/v1/third-parties", role="officer", json={
        "id": srv.unique("tp-web-"), "name": "Web Printing <Co>", "contact": "print@example.org",
        "purpose": "Printing certificates.", "fields": ["name", "address"]}).json()["third_party"]
    t = page(srv, "/me/consents", session).text
    assert "Web Printing &lt;Co&gt;" in t and "Printing certificates." in t
    r = post_form(srv, "/me/consents",
                  {"kind": "third_party", "target": tp["id"], "granted": "1"}, session)
    assert r.status_code == 303
    parties = srv.get("/v1/me/provisions", member=m).json()["third_parties"]
    assert [p["consent"] for p in parties if p["id"] == tp["id"]] == [True]


def test_cookie_categories_on_the_consents_page(srv):
    m, session = member_session(srv)
    r = post_form(srv, "/me/consents",
                  {"kind": "cookie", "target": "statistics", "granted": "0"}, session,
                  choice="n1p1s1a0")
    assert r.status_code == 303
    assert ("cu_cookies", "n1p1s0a0") in [(n, v) for n, v, _ in set_cookies(r)]
    assert consents(srv, m)[("cookie", "statistics")]["granted"] is False
    # Necessary ones cannot be refused.
    r = post_form(srv, "/me/consents",
                  {"kind": "cookie", "target": "necessary", "granted": "0"}, session)
    assert r.status_code >= 400


def test_the_cookie_page_records_a_members_choice(srv):
    m, session = member_session(srv)
    r = post_form(srv, "/cookies", {"all": "reject"}, session)
    assert r.status_code == 303
    assert ("cu_cookies", "n1p0s0a0") in [(n, v) for n, v, _ in set_cookies(r)]
    c = consents(srv, m)
    assert {t: c[("cookie", t)]["granted"] for t in ("preferences", "statistics",
                                                     "advertising")} == \
        {"preferences": False, "statistics": False, "advertising": False}
    # Changing one category records that one only.
    r = post_form(srv, "/cookies", {"necessary": "on", "statistics": "on"}, session,
                  choice="n1p0s0a0")
    assert r.status_code == 303
    c2 = consents(srv, m)
    assert c2[("cookie", "statistics")]["granted"] is True
    assert c2[("cookie", "preferences")]["id"] == c[("cookie", "preferences")]["id"]
    # The same choice again is no new record.
    r = post_form(srv, "/cookies", {"necessary": "on", "statistics": "on"}, session,
                  choice="n1p0s1a0")
    assert consents(srv, m) == c2
    # Global Privacy Control: advertising is recorded refused whatever the box says.
    h = dict(cookie_header(session, "n1p0s1a0"), **{"Sec-GPC": "1"})
    token = csrf_of(srv.get("/cookies", headers=h).text)
    r = srv.request("POST", "/cookies", headers=h,
                    data={"csrf": token, "all": "accept"})
    assert r.status_code == 303
    c3 = consents(srv, m)
    assert c3[("cookie", "advertising")]["granted"] is False
    assert c3[("cookie", "preferences")]["granted"] is True
    # A visitor's choice is only the cookie.
    assert post_form(srv, "/cookies", {"all": "reject"}).status_code == 303


def test_consents_refuse_a_form_without_its_token(srv):
    m, session = member_session(srv)
    r = srv.request("POST", "/me/consents", headers=cookie_header(session),
                    data={"kind": "purpose", "target": "testimonials", "granted": "1"})
    assert r.status_code == 403
    assert ("purpose", "testimonials") not in consents(srv, m)


# ---- export --------------------------------------------------------------------------------------

def test_export_downloads_json_and_csv(srv):
    m, session = member_session(srv, survey=True)
    t = page(srv, "/me/export", session).text
    assert 'href="/me/export/json"' in t and 'href="/me/export/csv"' in t
    r = page(srv, "/me/export/json", session)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Content-Disposition"] == 'attachment; filename="custodian-export.json"'
    doc = r.json()
    assert m.id in json.dumps(doc) and m.values["occupation"] in json.dumps(doc)
    r = page(srv, "/me/export/csv", session)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"] == 'attachment; filename="custodian-export.csv"'
    lines = r.text.splitlines()
    assert lines[0] == '"section","item","key","value"'
    assert f'"fields","","email","{m.email}"' in lines
    assert page(srv, "/me/export/xml", session).status_code == 404
    assert srv.get("/me/export/json").status_code == 303      # a visitor logs in first
    # Each download is the member's export, audited.
    exports = [e for e in srv.audit(member=m.id, limit=1000) if e["action"] == "export"]
    assert len(exports) >= 2


# ---- personal data ---------------------------------------------------------------------------------

def test_no_personal_data_in_urls_or_cookies(srv):
    m, session = member_session(srv, survey=True)
    for path in ("/me", "/me/data", "/me/consents", "/me/export"):
        r = page(srv, path, session)
        assert r.status_code == 200, path
        no_personal_in(srv, r)
        for href in re.findall(r'(?:href|action)="([^"]*)"', r.text):
            for v in m.values.values():
                if len(v) >= 6:
                    assert v.lower() not in html.unescape(href).lower(), (path, href)
        for _, value, _ in set_cookies(r):
            assert re.fullmatch(r"[A-Za-z0-9_-]*", value), value


def test_a_form_outlives_a_restart_as_it_would_a_move_to_another_server(request):
    """A visitor's form token is a MAC under the master keys (cu_vault_mac), not a key the
    process drew: a form fetched before a restart — or from another server behind the
    load balancer, holding the same keys — is still accepted; a forged token is not."""
    with own_server(request, "cu-form-key-", setup=False) as own:
        token = csrf_of(own.get("/login").text)
        assert own.stop() == 0
        own.start()
        body = {"email": "nobody@example.org", "password": "wrong password 1"}
        r = own.request("POST", "/login", data=dict(body, csrf=token))
        assert r.status_code == 401, r.text  # the form was taken; only the password is wrong
        forged = ("A" if token[0] != "A" else "B") + token[1:]
        r = own.request("POST", "/login", data=dict(body, csrf=forged))
        assert r.status_code == 403 and "csrf" in r.text.lower(), r.text
