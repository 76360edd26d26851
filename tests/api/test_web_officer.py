"""The privacy officer's console pages (server/web/pages_officer*.c): the queues
(requests, complaints, exception reviews) with their clocks and the actions on
each item, the registries (subcontractors and reviews, third parties and
provisions, policy versions).  Every page reads and changes through the API's
officer routes, so each test checks the change in the API itself; staff are
refused politely, forms need their token, values are escaped."""
import html
import json
import re
import urllib.parse

import pytest

from conftest import own_server

CONSOLE = "cu_console"
JUSTIFICATION = "Court order 2026-W-117 requires the member's name for the proceedings."
NASTY = "<script>alert(1)</script>\"'&="
NOT_FOR_ROLE = "This page is for the privacy officer"


# ---- helpers -------------------------------------------------------------------------------

def console(srv, role="officer"):
    return {"Cookie": f"{CONSOLE}={srv.tokens[role]}"}


def page(srv, path, role="officer", status=200, **kw):
    r = srv.get(path, headers=console(srv, role), **kw)
    assert r.status_code == status, (path, r.status_code, r.text[:2000])
    if status == 200:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    return r


def csrf_of(text):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', text)
    assert m, "no csrf field in the page"
    return m.group(1)


def post_form(srv, path, fields, role="officer", from_page=None, csrf=True):
    """Posts fields (a dict, or a list of pairs for repeated fields) as the page's form would,
    with the csrf token of from_page (default: path)."""
    data = list(fields.items()) if isinstance(fields, dict) else list(fields)
    if csrf:
        data.append(("csrf", csrf_of(page(srv, from_page or path, role=role).text)))
    return srv.request("POST", path, data=data, headers=console(srv, role))


def redirected(r, to):
    assert r.status_code == 303, (r.status_code, r.text[:2000])
    loc = r.headers["Location"]
    assert loc == to or loc.startswith(to + "?"), loc
    return loc


def main_of(text):
    m = re.search(r"<main[^>]*>(.*)</main>", text, re.S)
    assert m
    return m.group(1)


def field_error(text, field_id):
    """The field is marked invalid and points to its error message, which follows it."""
    m = re.search(rf'<(input|textarea|select)[^>]*\bid="{re.escape(field_id)}"[^>]*>', text)
    assert m, f"no field {field_id}"
    tag = m.group(0)
    assert 'aria-invalid="true"' in tag, tag
    assert f"{field_id}-error" in tag, tag
    e = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]+)</p>', text)
    assert e, f"no error message for {field_id}"
    return html.unescape(e.group(1))


def member(srv, survey=False):
    m = srv.register(srv.new_values(survey=survey), role=None, password="correct horse battery 9")
    srv.login(m)
    return m


def file_request(srv, m, body):
    r = srv.post("/v1/requests", member=m, json=body)
    assert r.status_code == 201, r.text
    return r.json()["request"]


def file_complaint(srv, m, text="The newsletter kept coming.", about="use"):
    r = srv.post("/v1/complaints", member=m, json={"about": about, "text": text})
    assert r.status_code == 201, r.text
    return r.json()["complaint"]


def no_personal_in_location(srv, r):
    loc = urllib.parse.unquote(r.headers.get("Location", ""))
    for v in srv.personal:
        assert v not in loc


# ---- the queues, with their clocks -----------------------------------------------------------

def test_request_queue_lists_what_the_api_has_with_due_dates(srv):
    m = member(srv)
    d = file_request(srv, m, {"type": "disclosure", "details": {"note": "everything please"}})
    a = file_request(srv, m, {"type": "amendment",
                              "details": {"changes": {"address": "9-9 Newtown"}, "reason": "moved"}})
    api = srv.get("/v1/requests", role="officer").json()["requests"]
    text = main_of(page(srv, "/console/requests").text)
    for row in api:
        assert f'href="/console/requests/{row["id"]}"' in text
        assert row["due"] in text and row["hard_due"] in text
    assert d["id"] in text and a["id"] in text
    # the kind, chosen over the API's list
    only = main_of(page(srv, "/console/requests", params={"type": "amendment"}).text)
    assert a["id"] in only and d["id"] not in only
    # the API's overdue list: nothing of these (filed now)
    late = main_of(page(srv, "/console/requests", params={"status": "overdue"}).text)
    assert d["id"] not in late
    assert 'value="overdue" selected' in late
    # an unknown filter is no filter
    assert a["id"] in page(srv, "/console/requests", params={"type": "<x>", "status": "x"}).text


def test_complaint_queue_lists_what_the_api_has_with_due_dates(srv):
    m = member(srv)
    c = file_complaint(srv, m)
    api = srv.get("/v1/complaints", role="officer").json()["complaints"]
    text = main_of(page(srv, "/console/complaints").text)
    for row in api:
        assert f'href="/console/complaints/{row["id"]}"' in text
        assert row["due"] in text
    assert c["id"] in text
    assert c["id"] not in page(srv, "/console/complaints", params={"status": "overdue"}).text


# ---- requests: decisions -----------------------------------------------------------------------

def test_officer_applies_an_amendment_and_the_member_is_notified(srv):
    m = member(srv)
    new_address = "12-3 Escapetown <b>bold</b> & Co"
    srv.remember({"address": new_address})
    q = file_request(srv, m, {"type": "amendment",
                              "details": {"changes": {"address": new_address},
                                          "reason": "I moved & the old one is wrong"}})
    path = f"/console/requests/{q['id']}"
    text = page(srv, path).text
    # the changes asked for, escaped
    assert html.escape(new_address, quote=True).replace("&#x27;", "&#39;") in text
    assert "<b>bold</b>" not in text
    assert 'value="refuse"' not in text          # an amendment is never refused
    before = {n["id"] for n in srv.get("/v1/me/notices", member=m).json()["notices"]}
    r = post_form(srv, path, {"action": "apply", "reasons": "Checked against the lease."})
    loc = redirected(r, path)
    assert "done=decided" in loc
    no_personal_in_location(srv, r)
    assert srv.get("/v1/me", member=m).json()["fields"]["address"] == new_address
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "applied"
    new = [n for n in srv.get("/v1/me/notices", member=m).json()["notices"]
           if n["id"] not in before]
    assert any("Amended: address" in n["body"] for n in new), new
    # the page after: the confirmation, no more decision forms
    after = page(srv, loc).text
    assert "The decision is recorded" in after
    assert 'name="action" value="apply"' not in after
    # deciding again is refused by the API, shown on the page
    r = post_form(srv, path, {"action": "reject", "reasons": "again"}, from_page=loc)
    assert r.status_code == 409
    assert "already done" in r.text


def test_officer_refuses_a_disclosure_with_a_ground(srv):
    m = member(srv)
    q = file_request(srv, m, {"type": "disclosure"})
    path = f"/console/requests/{q['id']}"
    text = page(srv, path).text
    for g in ("harm_to_life_or_rights", "business_interference", "breach_of_law"):
        assert f'<option value="{g}"' in text
    # no ground: the API's field error, next to the select, the reasons kept
    r = post_form(srv, path, {"action": "refuse", "ground": "", "reasons": "Order <No. 7>"})
    assert r.status_code == 422, r.text[:1000]
    assert field_error(r.text, "refuse-ground")
    assert "Order &lt;No. 7&gt;</textarea>" in r.text
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "received"
    # with a ground
    r = post_form(srv, path, {"action": "refuse", "ground": "breach_of_law",
                              "reasons": "A court order forbids telling the subject."})
    redirected(r, path)
    got = srv.get(f"/v1/requests/{q['id']}", role="officer").json()
    assert got["state"] == "refused" and got["ground"] == "breach_of_law"
    assert any(h.get("reasons") == "A court order forbids telling the subject."
               for h in got["history"])
    text = page(srv, path).text
    assert "breaches a law or ordinance" in text
    # the refusal suspends the export: the page offers to lift it
    assert 'name="action" value="lift"' in text
    redirected(post_form(srv, path, {"action": "lift", "reasons": "The order was withdrawn."}), path)
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "lifted"


def test_reject_needs_reasons_and_an_unknown_request_is_not_found(srv):
    m = member(srv)
    q = file_request(srv, m, {"type": "erasure"})
    path = f"/console/requests/{q['id']}"
    text = page(srv, path).text
    assert 'data-confirm=' in text            # erasing asks first (when script runs)
    assert 'value="refuse"' not in text       # only a disclosure is refused
    r = post_form(srv, path, {"action": "reject", "reasons": ""})
    assert r.status_code == 422
    assert field_error(r.text, "reject-reasons")
    page(srv, "/console/requests/AAAAAAAAAAAAAAAAAAAAAA", status=404)
    page(srv, "/console/requests/..%2F..%2Fetc", status=404)
    page(srv, "/console/requests/a%22b", status=404)
    redirected(post_form(srv, path, {"action": "reject", "reasons": "Not this way: write to us."}),
               path)
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "rejected"


def test_officer_applies_an_erasure_and_the_page_shows_the_certificate(srv):
    m = member(srv)
    q = file_request(srv, m, {"type": "erasure", "details": {"note": "Please forget me."}})
    path = f"/console/requests/{q['id']}"
    r = post_form(srv, path, {"action": "apply"})
    loc = redirected(r, path)
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "applied"
    r = srv.post("/v1/session", json={"email": m.email, "password": m.password})
    assert r.status_code == 401
    text = page(srv, loc).text
    assert "Erasure certificate" in text
    cert = srv.get(f"/v1/requests/{q['id']}/certificate", role="officer").json()
    assert html.escape(cert["signature"]) in text
    assert "The texts were destroyed" in text


# ---- complaints --------------------------------------------------------------------------------

def test_officer_assigns_and_answers_a_complaint(srv):
    m = member(srv)
    words = "You sold my data <i>to</i> \"partners\" & more"
    c = file_complaint(srv, m, text=words)
    path = f"/console/complaints/{c['id']}"
    text = page(srv, path).text
    assert html.escape(words, quote=True).replace("&#x27;", "&#39;") in text
    assert "<i>to</i>" not in text
    # the officer's own name is offered
    assert f'value="{srv.token_names["officer"]}"' in text
    # a name that is not an officer's: the error next to the field, input kept
    r = post_form(srv, path + "/assign", {"officer": "nobody at all"}, from_page=path)
    assert r.status_code == 422, r.text[:1000]
    assert "not the name of an officer" in field_error(r.text, "officer")
    assert 'value="nobody at all"' in r.text
    r = post_form(srv, path + "/assign", {"officer": srv.token_names["officer"]}, from_page=path)
    redirected(r, path)
    assert srv.get(path.replace("/console", "/v1"), role="officer").json()["assigned"] == \
        srv.token_names["officer"]
    # closing with no response yet is refused next to the text
    r = post_form(srv, path + "/responses", {"text": "", "close": "1"}, from_page=path)
    assert r.status_code == 422
    assert field_error(r.text, "text")
    answer = "We stopped it & apologise."
    r = post_form(srv, path + "/responses", {"text": answer}, from_page=path)
    assert "done=answered" in redirected(r, path)
    got = srv.get(f"/v1/complaints/{c['id']}", role="officer").json()
    assert got["state"] == "answered"
    assert [x["text"] for x in got["responses"]] == [answer]
    r = post_form(srv, path + "/responses", {"text": "Closing now.", "close": "1"}, from_page=path)
    assert "done=closed" in redirected(r, path)
    got = srv.get(f"/v1/complaints/{c['id']}", role="officer").json()
    assert got["state"] == "closed" and len(got["responses"]) == 2
    text = page(srv, path).text
    assert "We stopped it &amp; apologise." in text
    assert 'action="/console/complaints/' not in text   # closed: no more forms


# ---- exception reviews -------------------------------------------------------------------------

def test_officer_closes_an_exception_review(srv):
    m = member(srv, survey=True)
    r = srv.post("/v1/exceptions", role="officer",
                 json={"member": m.id, "purpose": "testimonials", "exception": "law",
                       "justification": JUSTIFICATION + " <ref>", "fields": ["name"]})
    assert r.status_code == 200, r.text
    review = next(x for x in srv.get("/v1/exceptions", role="officer").json()["exceptions"]
                  if x["member"] == m.id)
    text = page(srv, "/console/exceptions").text
    assert review["id"] in text
    assert html.escape(JUSTIFICATION + " <ref>", quote=True).replace("&#x27;", "&#39;") in text
    path = f"/console/exceptions/{review['id']}/close"
    r = post_form(srv, path, {"review": ""}, from_page="/console/exceptions")
    assert r.status_code == 422
    assert field_error(r.text, f"review-{review['id']}")
    finding = "Order verified with the clerk; only the name was needed. Lawful."
    r = post_form(srv, path, {"review": finding}, from_page="/console/exceptions")
    assert "done=closed" in redirected(r, "/console/exceptions")
    closed = next(x for x in srv.get("/v1/exceptions", role="officer",
                                     params={"status": "all"}).json()["exceptions"]
                  if x["id"] == review["id"])
    assert closed["review"] == finding and closed["closed_by"] == srv.token_names["officer"]
    assert review["id"] not in page(srv, "/console/exceptions").text
    assert finding in page(srv, "/console/exceptions", params={"status": "all"}).text
    # closing twice: the API's conflict, on the page
    r = post_form(srv, path, {"review": "again"}, from_page="/console/exceptions")
    assert r.status_code == 409


# ---- third parties and provisions --------------------------------------------------------------

def test_officer_registers_a_third_party_and_records_a_provision(srv):
    tp = srv.unique("web-tp-")
    name = "Acme " + NASTY
    # a bad id first: the error next to the field, the rest kept
    r = post_form(srv, "/console/third-parties",
                  [("id", "Bad Id!"), ("name", name), ("contact", "privacy@acme.example"),
                   ("purpose", "Printing certificates."), ("fields", "name"),
                   ("fields", "address")])
    assert r.status_code == 422, r.text[:1000]
    assert field_error(r.text, "tp-id")
    assert 'value="Acme &lt;script&gt;' in r.text
    assert re.search(r'id="tp-f-address"[^>]*checked', r.text)
    assert "<script>alert(1)</script>" not in r.text
    r = post_form(srv, "/console/third-parties",
                  [("id", tp), ("name", name), ("contact", "privacy@acme.example"),
                   ("purpose", "Printing certificates."), ("fields", "name"),
                   ("fields", "address")])
    loc = redirected(r, f"/console/third-parties/{tp}")
    got = srv.get(f"/v1/third-parties/{tp}", role="officer").json()["third_party"]
    assert got["name"] == name and got["fields"] == ["name", "address"]
    listing = page(srv, "/console/third-parties").text
    assert f'href="/console/third-parties/{tp}"' in listing
    assert "<script>alert(1)</script>" not in listing
    text = page(srv, loc).text
    assert "Registered." in text and "&lt;script&gt;" in text
    # a provision without the member's consent: refused by the API, said on the page
    m = member(srv)
    prov = f"/console/third-parties/{tp}/provisions"
    r = post_form(srv, prov, [("member", m.id), ("fields", "name"), ("basis", "consent")],
                  from_page=loc)
    assert r.status_code == 403, r.text[:1000]
    assert "has not consented" in r.text
    assert f'value="{m.id}"' in r.text
    # an unknown member: next to the field
    r = post_form(srv, prov, [("member", "A" * 22), ("fields", "name"), ("basis", "consent")],
                  from_page=loc)
    assert r.status_code == 404
    assert field_error(r.text, "member")
    # with consent: recorded, and the fields handed over shown once
    r = srv.request("PUT", "/v1/me/consents", member=m,
                    json={"kind": "third_party", "target": tp, "granted": True})
    assert r.status_code == 200, r.text
    r = post_form(srv, prov, [("member", m.id), ("fields", "name"), ("basis", "consent")],
                  from_page=loc)
    assert r.status_code == 201, r.text[:1000]
    assert html.escape(m.values["name"]) in r.text
    mine = srv.get("/v1/me/provisions", member=m).json()["provisions"]
    assert [(p["third_party"], p["fields"], p["basis"]) for p in mine] == \
        [(tp, ["name"], "consent")]
    page(srv, "/console/third-parties/no-such-party", status=404)


# ---- subcontractors and reviews ----------------------------------------------------------------

def test_officer_registers_a_subcontractor_and_records_reviews(srv):
    sid = srv.unique("web-sub-")
    fields = [("id", sid), ("name", "Mail House " + NASTY), ("contact", "security@mail.example"),
              ("fields", "name"), ("fields", "email"), ("purposes", "product_news"),
              ("measures", "encryption at rest\r\n\r\naccess limited to named staff\r\n"),
              ("start", "2026-01-01"), ("end", "2026-01-01")]
    # missing measures: next to the field, the rest kept
    bad = [f for f in fields if f[0] != "measures"]
    r = post_form(srv, "/console/subcontractors", bad)
    assert r.status_code in (400, 422), r.text[:1000]
    if r.status_code == 422:
        assert field_error(r.text, "sub-measures")
    assert re.search(r'id="sub-p-product_news"[^>]*checked', r.text)
    r = post_form(srv, "/console/subcontractors", fields)
    path = f"/console/subcontractors/{sid}"
    redirected(r, path)
    got = srv.get(f"/v1/subcontractors/{sid}", role="officer").json()
    assert got["subcontractor"]["measures"] == ["encryption at rest",
                                                "access limited to named staff"]
    assert got["subcontractor"]["fields"] == ["name", "email"]
    assert got["subcontractor"]["purposes"] == ["product_news"]
    listing = page(srv, "/console/subcontractors").text
    assert f'href="/console/subcontractors/{sid}"' in listing
    assert "<script>alert(1)</script>" not in listing
    # a review due in the past, not done: overdue, on both pages
    r = post_form(srv, path + "/reviews", {"due": "2026-02-01", "findings": ""}, from_page=path)
    assert "done=review" in redirected(r, path)
    rv = srv.get(f"/v1/subcontractors/{sid}", role="officer").json()["reviews"]
    assert len(rv) == 1 and rv[0]["due"] == "2026-02-01" and rv[0]["done"] is False
    overdue = srv.get("/v1/subcontractors/reviews/overdue", role="officer").json()["reviews"]
    assert rv[0]["id"] in [x["id"] for x in overdue]
    text = main_of(page(srv, path).text)
    assert 'class="tag overdue"' in text
    listing = main_of(page(srv, "/console/subcontractors").text)
    assert f'<a href="/console/subcontractors/{sid}">' in listing.split('id="subs-title"')[0]
    # a bad date: next to the field
    r = post_form(srv, path + "/reviews", {"due": "next week"}, from_page=path)
    assert r.status_code == 422, r.text[:1000]
    assert field_error(r.text, "due")
    assert 'value="next week"' in r.text
    # done, with findings: off the overdue list
    r = post_form(srv, f"{path}/reviews/{rv[0]['id']}",
                  {"findings": "Checked on site & fine.", "done": "1"}, from_page=path)
    assert "done=review_saved" in redirected(r, path)
    rv = srv.get(f"/v1/subcontractors/{sid}", role="officer").json()["reviews"]
    assert rv[0]["done"] is True and rv[0]["findings"] == "Checked on site & fine."
    overdue = srv.get("/v1/subcontractors/reviews/overdue", role="officer").json()["reviews"]
    assert rv[0]["id"] not in [x["id"] for x in overdue]
    assert 'class="tag overdue"' not in main_of(page(srv, path).text)


# ---- who may, and forms' tokens ----------------------------------------------------------------

OFFICER_PAGES = ["/console/requests", "/console/complaints", "/console/exceptions",
                 "/console/subcontractors", "/console/third-parties", "/console/policy"]


@pytest.mark.parametrize("role", ["staff", "analyst", "service", "subcontractor"])
def test_other_roles_are_refused_politely(srv, role):
    for path in OFFICER_PAGES:
        r = page(srv, path, role=role, status=403)
        assert "text/html" in r.headers["Content-Type"]
        assert NOT_FOR_ROLE in r.text
    # a form sent with the role's own valid token: refused the same way, nothing changes
    m = member(srv)
    q = file_request(srv, m, {"type": "disclosure"})
    r = srv.request("POST", f"/console/requests/{q['id']}",
                    data={"action": "apply", "csrf": csrf_for(srv, role)},
                    headers=console(srv, role))
    assert r.status_code == 403 and NOT_FOR_ROLE in r.text
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "received"
    r = srv.request("POST", "/console/third-parties",
                    data={"id": "x-by-" + role, "csrf": csrf_for(srv, role)},
                    headers=console(srv, role))
    assert r.status_code == 403 and NOT_FOR_ROLE in r.text


def csrf_for(srv, role):
    """The console's form token for role, from its refusal page (every page carries it)."""
    return csrf_of(srv.get("/console/requests", headers=console(srv, role)).text)


def test_admin_may_see_policy_versions_but_not_the_queues(srv):
    page(srv, "/console/policy", role="admin")
    page(srv, "/console/requests", role="admin", status=403)


def test_without_a_console_session_the_pages_send_to_the_log_in(srv):
    for path in OFFICER_PAGES:
        r = srv.get(path)
        assert r.status_code in (302, 303), r.status_code
        assert r.headers["Location"] == "/console/login"
    r = srv.get("/console/requests", headers={"Cookie": f"{CONSOLE}=cu_not_a_token"})
    assert r.status_code in (302, 303)


def test_forms_without_their_token_are_refused(srv):
    m = member(srv)
    q = file_request(srv, m, {"type": "disclosure"})
    path = f"/console/requests/{q['id']}"
    for data in ({"action": "apply"}, {"action": "apply", "csrf": "x" * 43},
                 {"action": "apply", "csrf": csrf_for(srv, "staff")}):
        r = srv.request("POST", path, data=data, headers=console(srv))
        assert r.status_code == 403, r.status_code
        assert "text/html" in r.headers["Content-Type"]
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] == "received"
    r = post_form(srv, "/console/third-parties", {"id": "no-token"}, csrf=False)
    assert r.status_code == 403
    assert srv.get("/v1/third-parties/no-token", role="officer").status_code == 404


def test_pages_show_in_japanese(srv):
    r = srv.get("/console/requests", headers={**console(srv), "Accept-Language": "ja"})
    assert r.status_code == 200
    assert '<html lang="ja">' in r.text and "請求" in r.text
    r = srv.get("/console/requests", headers={**console(srv, "staff"), "Accept-Language": "ja"})
    assert r.status_code == 403 and "プライバシー責任者" in r.text


# ---- policy versions (a server of their own: publishing changes the policy in force) -----------

@pytest.fixture(scope="module")
def own(request):
    with own_server(request, "cu-api-web-officer-") as s:
        yield s


def test_officer_publishes_a_policy_version(own):
    text = page(own, "/console/policy").text
    versions = own.get("/v1/policy/versions").json()
    for v in versions["versions"]:
        assert v["version"] in text
    m = re.search(r'<textarea id="document" name="document"[^>]*>(.*?)</textarea>', text, re.S)
    assert m
    doc = json.loads(html.unescape(m.group(1)))
    assert doc["version"] == versions["in_force"]
    # one version's page
    one = page(own, f"/console/policy/{versions['in_force']}").text
    assert html.escape(f'"version": "{versions["in_force"]}"', quote=True) \
        .replace("&#x27;", "&#39;") in one or versions["in_force"] in one
    # not JSON: named by line, the text kept, nothing published
    r = post_form(own, "/console/policy", {"document": '{"version": "x",\n  oops'})
    assert r.status_code == 400, r.text[:1000]
    assert "not valid JSON, line 2" in field_error(r.text, "document")
    assert "oops</textarea>" in r.text
    # JSON the loader refuses: its message, next to the textarea
    bad = dict(doc, version="2099-01-01.bad", fields=[])
    r = post_form(own, "/console/policy", {"document": json.dumps(bad)})
    assert r.status_code == 422, r.text[:1000]
    assert field_error(r.text, "document")
    assert "2099-01-01.bad" not in [v["version"] for v in
                                     own.get("/v1/policy/versions").json()["versions"]]
    # a new version: published and in force
    new = dict(doc, version="2099-01-01.1", title=doc["title"] + " <v2>")
    r = post_form(own, "/console/policy", {"document": json.dumps(new, indent=2)})
    assert "done=published" in redirected(r, "/console/policy")
    after = own.get("/v1/policy/versions").json()
    assert after["in_force"] == "2099-01-01.1"
    assert own.get("/v1/policy").json()["title"] == new["title"]
    text = page(own, "/console/policy?done=published").text
    assert "The new version is published" in text
    assert 'href="/console/policy/2099-01-01.1"' in text
    # the same version again: the API's conflict
    r = post_form(own, "/console/policy", {"document": json.dumps(new)})
    assert r.status_code == 409
    # staff may not
    page(own, "/console/policy", role="staff", status=403)
    page(own, "/console/policy/2099-01-01.1", role="staff", status=403)
    r = own.request("POST", "/console/policy", data={"document": json.dumps(new),
                                                     "csrf": csrf_for(own, "staff")},
                    headers=console(own, "staff"))
    assert r.status_code == 403


def test_late_cases_are_tagged_overdue(own):
    import os
    import sqlite3
    m = member(own)
    late = file_request(own, m, {"type": "disclosure"})["id"]
    fresh = file_request(own, m, {"type": "erasure"})["id"]
    cid = file_complaint(own, m)["id"]
    assert own.stop() == 0
    # as if filed 20 (request) and 31 (complaint) days ago, less an hour
    day = 86400 * 1000000
    db = sqlite3.connect(os.path.join(own.data, "custodian.db"))
    with db:
        db.execute("UPDATE requests SET received_us = received_us - ?, due_us = due_us - ?, "
                   "hard_due_us = hard_due_us - ? WHERE id = ?", (*[20 * day - 3600000000] * 3, late))
        db.execute("UPDATE complaints SET received_us = received_us - ?, due_us = due_us - ? "
                   "WHERE id = ?", (*[31 * day - 3600000000] * 2, cid))
    db.close()
    own.start()
    text = main_of(page(own, "/console/requests", params={"status": "overdue"}).text)
    row = re.search(rf'<tr>\s*<th scope="row"><a href="/console/requests/{late}">.*?</tr>', text, re.S)
    assert row and 'class="tag overdue"' in row.group(0) and "<td>-6</td>" in row.group(0)
    assert fresh not in text
    rows = main_of(page(own, "/console/requests").text)
    assert rows.index(late) < rows.index(fresh)          # earliest due first, as the API lists
    text = main_of(page(own, "/console/complaints", params={"status": "overdue"}).text)
    assert cid in text and 'class="tag overdue"' in text and "<td>-1</td>" in text
    assert 'class="tag overdue"' in page(own, f"/console/requests/{late}").text


def test_odd_forms_never_cause_a_server_error(srv):
    m = member(srv)
    q = file_request(srv, m, {"type": "amendment",
                              "details": {"changes": {"address": "1 Odd St"}, "reason": "odd"}})
    c = file_complaint(srv, m)
    token = csrf_for(srv, "officer")
    paths = [f"/console/requests/{q['id']}", f"/console/complaints/{c['id']}/assign",
             f"/console/complaints/{c['id']}/responses", "/console/exceptions/nope/close",
             "/console/subcontractors", "/console/subcontractors/nope/reviews",
             "/console/subcontractors/nope/reviews/nope", "/console/third-parties",
             "/console/third-parties/nope/provisions", "/console/policy"]
    forms = [[], [("action", "nonsense"), ("ground", "x" * 5000)], [("action", "apply"),
             ("action", "reject")], [("fields", "nope"), ("fields", "")],
             [("document", "[]"), ("due", "2026-13-45"), ("start", "x"), ("end", "")],
             [("officer", "\u3042" * 300), ("text", "t" * 5000), ("review", "r" * 3000),
              ("member", "../../x"), ("basis", "law"), ("justification", "short")]]
    for p in paths:
        for f in forms:
            r = srv.request("POST", p, data=f + [("csrf", token)], headers=console(srv))
            assert r.status_code < 500, (p, f[:1], r.status_code, r.text[:500])
            assert r.status_code == 303 or "text/html" in r.headers["Content-Type"]
    assert srv.get(f"/v1/requests/{q['id']}", role="officer").json()["state"] in (
        "received", "applied", "rejected")
