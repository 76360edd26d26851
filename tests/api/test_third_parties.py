"""
Third parties, provisions, members' own shares and subcontractors through HTTP (issue 5).

  - The third-party registry (officer): registered, listed, one by id; bad input refused
    field by field; a taken id is 409; nobody else may register.
  - Provisions: without the member's consent to that third party, 403 consent_required,
    audited as a denial and nothing recorded; with it, 201 with exactly the fields handed
    over, recorded and shown to the member; withdrawn, refused again.  Fields outside the
    registration are refused whole; only an officer invokes a legal exception, with a
    justification, and that opens a review.
  - Shares: a member's link opens only the fields chosen, for anyone holding it, until it
    expires or is revoked; each opening is audited as the member's own act (share_read)
    and shown in their access log; the token is kept only as a hash.
  - Subcontractors: a token bound to a contract reads only the contract's purposes and
    fields; outside the term (expired) it reads nothing; an unbound one reads nothing.
    Supervision reviews past due are listed as overdue until done.
  - Malformed bodies: 4xx with the one error shape, nothing echoed, nothing written.
"""
import json
import os
import sqlite3
import time

import pytest

from conftest import FIELDS, assert_error_body, assert_no_personal

PASSWORD = "partners suite password 5"
JUSTIFICATION = "Court order 2026-W-301 (Osaka District Court) requires the address."


def member(srv, survey=False):
    m = srv.register(srv.new_values(survey=survey), role=None, password=PASSWORD)
    srv.login(m)
    return m


def refused(r, status, code=None):
    assert r.status_code == status, r.text
    return assert_error_body(r, code)


def third_party(srv, fields=("name", "address"), **over):
    body = {"id": srv.unique("tp-"), "name": "Acme Printing Co.",
            "contact": "privacy@acme.example\nTokyo", "purpose": "Printing certificates.",
            "fields": list(fields)}
    body.update(over)
    r = srv.post("/v1/third-parties", role="officer", json=body)
    assert r.status_code == 201, r.text
    return r.json()["third_party"]


def consent(srv, m, tp, granted=True):
    r = srv.request("PUT", "/v1/me/consents", member=m,
                    json={"kind": "third_party", "target": tp, "granted": granted})
    assert r.status_code == 200, r.text


def provide(srv, tp, m, fields, role="service", **over):
    body = {"third_party": tp, "member": m.id, "fields": list(fields)}
    body.update(over)
    return srv.post("/v1/provisions", role=role, json=body)


def my_provisions(srv, m):
    r = srv.get("/v1/me/provisions", member=m)
    assert r.status_code == 200, r.text
    return r.json()


# ---- the registry ----------------------------------------------------------------------------

def test_third_party_registry(srv):
    head = srv.audit_head()
    tp = third_party(srv)
    assert set(tp) == {"id", "name", "contact", "purpose", "fields", "registered",
                       "registered_by"}
    assert tp["fields"] == ["name", "address"]
    assert tp["registered_by"] == srv.token_names["officer"]
    r = srv.get(f"/v1/third-parties/{tp['id']}", role="officer")
    assert r.status_code == 200 and r.json()["third_party"] == tp
    listed = srv.get("/v1/third-parties", role="officer").json()["third_parties"]
    assert tp in listed
    refused(srv.get("/v1/third-parties/no-such-party", role="officer"), 404, "not_found")
    # A taken id; another role; registered once only.
    refused(srv.post("/v1/third-parties", role="officer",
                     json={k: tp[k] for k in ("id", "name", "contact", "purpose", "fields")}),
            409, "conflict")
    for role in ("staff", "service", "admin", "subcontractor"):
        refused(srv.post("/v1/third-parties", role=role, json={}), 403, "forbidden")
    audit = [e for e in srv.audit(after=head, limit=1000)
             if e["action"] == "third_party_register"]
    assert [e["actor"] for e in audit if tp["id"] in e["reason"]] == \
        [srv.token_names["officer"]]


@pytest.mark.parametrize("body,fields", [
    ({"id": "Bad Id!", "name": "x", "contact": "c", "purpose": "p", "fields": ["name"]},
     {"id": "malformed"}),
    ({"id": "ok-id-1", "name": "", "contact": "c", "purpose": "p", "fields": ["name"]},
     {"name": "required"}),
    ({"id": "ok-id-2", "name": "x", "contact": "c", "purpose": "p", "fields": ["shoe_size"]},
     {"fields": "unknown_field"}),
    ({"id": "ok-id-3", "name": "x", "contact": "c", "purpose": "p", "fields": []},
     {"fields": "required"}),
    ({"id": "ok-id-4", "name": "x" * 201, "contact": "c", "purpose": "p", "fields": ["name"]},
     {"name": "too_long"}),
    ({"id": "ok-id-5", "name": "a\u0007b", "contact": "c", "purpose": "p", "fields": ["name"]},
     {"name": "malformed"}),
])
def test_third_party_bad_input(srv, body, fields):
    err = refused(srv.post("/v1/third-parties", role="officer", json=body), 422, "invalid_field")
    assert err["fields"] == fields
    refused(srv.get(f"/v1/third-parties/{body['id'].replace(' ', '').replace('!', '')}",
                    role="officer"), 404, "not_found")


@pytest.mark.parametrize("body", [
    {"id": "x", "name": "x", "contact": "c", "purpose": "p", "fields": "name"},
    {"id": 7, "name": "x", "contact": "c", "purpose": "p", "fields": ["name"]},
    {"id": "x", "name": "x", "contact": "c", "purpose": "p", "fields": ["name"], "extra": 1},
    {"id": "x", "name": "x", "contact": "c", "purpose": "p", "fields": [1]},
])
def test_third_party_malformed(srv, body):
    refused(srv.post("/v1/third-parties", role="officer", json=body), 400, "invalid_argument")


# ---- provisions ------------------------------------------------------------------------------

def test_provision_needs_consent(srv):
    m = member(srv, survey=True)
    tp = third_party(srv)["id"]

    # No consent: refused, audited as a denial, nothing recorded.
    err = refused(provide(srv, tp, m, ["name", "address"]), 403, "consent_required")
    assert_no_personal(srv, json.dumps(err))
    entries = srv.audit(member=m.id, limit=1000)
    denied = [e for e in entries if e["action"] == "provide"]
    assert [(e["decision"], e["purpose"], e["fields"]) for e in denied] == \
        [("deny", f"provision:{tp}", "name,address")]
    assert my_provisions(srv, m)["provisions"] == []
    assert {"id": tp, "consent": False}.items() <= next(
        x for x in my_provisions(srv, m)["third_parties"] if x["id"] == tp).items()

    # Consented: exactly what was asked is handed over, and recorded.
    consent(srv, m, tp)
    r = provide(srv, tp, m, ["name", "address"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["fields"] == {"name": m.values["name"], "address": m.values["address"]}
    p = body["provision"]
    assert (p["third_party"], p["member"], p["fields"], p["basis"], p["role"]) == \
        (tp, m.id, ["name", "address"], "consent", "service")
    assert p["actor"] == srv.token_names["service"]

    # The member sees it, with who received it and when; never the values.
    mine = my_provisions(srv, m)
    assert [x["id"] for x in mine["provisions"]] == [p["id"]]
    seen = mine["provisions"][0]
    assert seen["third_party_name"] == "Acme Printing Co." and seen["time"] == p["time"]
    assert next(x for x in mine["third_parties"] if x["id"] == tp)["consent"] is True
    assert_no_personal(srv, json.dumps(mine))
    # ... and in their access log, as something another did with their data.
    log = srv.get("/v1/me/access-log", member=m).json()["entries"]
    assert any(e["action"] == "provide" and e["purpose"] == f"provision:{tp}" and
               e["decision"] == "allow" for e in log)

    # Withdrawn: refused at once; the record of the earlier one stays.
    consent(srv, m, tp, granted=False)
    refused(provide(srv, tp, m, ["name"]), 403, "consent_required")
    assert len(my_provisions(srv, m)["provisions"]) == 1


def test_provision_rules(srv):
    m = member(srv, survey=True)
    tp = third_party(srv, fields=("name",))["id"]
    consent(srv, m, tp)
    # Only registered fields; none provided in part.
    refused(provide(srv, tp, m, ["name", "phone"]), 403, "purpose_not_allowed")
    refused(provide(srv, "no-such-party", m, ["name"]), 404, "not_found")
    refused(provide(srv, tp, m, ["shoe_size"]), 422, "invalid_field")
    # Only an officer or a service provides.
    for role in ("staff", "analyst", "subcontractor", "admin"):
        refused(provide(srv, tp, m, ["name"], role=role), 403, "forbidden")
    refused(srv.post("/v1/provisions", member=m, json={}), 403, "forbidden")
    assert my_provisions(srv, m)["provisions"] == []

    # A legal exception: the officer's, with a justification; it opens a review.
    consent(srv, m, tp, granted=False)
    refused(provide(srv, tp, m, ["name"], basis="law", justification=JUSTIFICATION), 403,
            "forbidden")
    refused(provide(srv, tp, m, ["name"], role="officer", basis="law",
                    justification="too short"), 400, "invalid_argument")
    r = provide(srv, tp, m, ["name"], role="officer", basis="law", justification=JUSTIFICATION)
    assert r.status_code == 201, r.text
    p = r.json()["provision"]
    assert (p["basis"], p["exception"]) == ("exception", "law")
    reviews = srv.get("/v1/exceptions", role="officer").json()["exceptions"]
    review = next(x for x in reviews if x["id"] == p["review"])
    assert review["purpose"] == f"provision:{tp}" and review["justification"] == JUSTIFICATION
    assert [x["id"] for x in my_provisions(srv, m)["provisions"]] == [p["id"]]


@pytest.mark.parametrize("body", [
    {"third_party": "x", "member": "y"},
    {"third_party": "x", "member": "y", "fields": []},
    {"third_party": "x", "member": "y", "fields": "name"},
    {"third_party": "x", "fields": ["name"]},
    {"third_party": "x", "member": "y", "fields": ["name"], "justification": "why not, really"},
    {"third_party": "x", "member": "y", "fields": ["name"], "who": "me"},
    {"third_party": ["x"], "member": "y", "fields": ["name"]},
])
def test_provision_malformed(srv, body):
    head = srv.audit_head()
    refused(srv.post("/v1/provisions", role="service", json=body), 400, "invalid_argument")
    assert srv.audit_head() == head


def test_provision_body_shape(srv):
    refused(srv.post("/v1/provisions", role="service", data="{", headers={
        "Content-Type": "application/json"}), 400, "invalid_json")
    refused(srv.post("/v1/provisions", role="service", data="x", headers={
        "Content-Type": "text/plain"}), 415, "unsupported_media_type")
    refused(srv.post("/v1/provisions?x=1", role="service", json={}), 400, "invalid_argument")


# ---- shares ----------------------------------------------------------------------------------

def share(srv, m, fields, minutes=10):
    return srv.post("/v1/me/shares", member=m,
                    json={"fields": list(fields), "expires_in_minutes": minutes})


def test_share_opens_only_its_fields_until_revoked(srv):
    m = member(srv, survey=True)
    r = share(srv, m, ["name", "hobbies"])
    assert r.status_code == 201, r.text
    body = r.json()
    token, sid = body["token"], body["share"]["id"]
    assert body["path"] == f"/v1/shares/{token}"
    assert body["share"]["fields"] == ["name", "hobbies"]
    assert body["share"]["status"] == "active"

    # Anyone holding the link, with or without credentials: exactly the chosen fields.
    for kw in ({}, {"role": "staff"}, {"member": m}):
        r = srv.get(f"/v1/shares/{token}", **kw)
        assert r.status_code == 200, r.text
        assert r.json()["fields"] == {"name": m.values["name"], "hobbies": m.values["hobbies"]}
        assert r.json()["share"]["id"] == sid
        assert r.headers.get("Referrer-Policy") == "no-referrer"
        assert r.headers.get("Cache-Control") == "no-store"

    # The member's own act, audited as such, and shown in their access log.
    reads = [e for e in srv.audit(member=m.id, limit=1000) if e["action"] == "share_read"]
    assert len(reads) == 3
    assert all((e["actor"], e["role"], e["purpose"], e["decision"]) ==
               (m.id, "member", "self", "allow") and sid in e["reason"] for e in reads)
    log = srv.get("/v1/me/access-log", member=m).json()["entries"]
    assert len([e for e in log if e["action"] == "share_read"]) == 3

    # Only the hash of the token is kept.
    data = open(os.path.join(srv.data, "custodian.db"), "rb").read()
    wal = os.path.join(srv.data, "custodian.db-wal")
    data += open(wal, "rb").read() if os.path.exists(wal) else b""
    assert token.encode() not in data

    # Revoked: 404 like an unknown link; revoking again is harmless; nobody else revokes.
    other = member(srv)
    refused(srv.request("DELETE", f"/v1/me/shares/{sid}", member=other), 404, "not_found")
    r = srv.request("DELETE", f"/v1/me/shares/{sid}", member=m)
    assert r.status_code == 204, r.text
    assert srv.request("DELETE", f"/v1/me/shares/{sid}", member=m).status_code == 204
    refused(srv.get(f"/v1/shares/{token}"), 404, "not_found")
    listed = srv.get("/v1/me/shares", member=m).json()["shares"]
    assert [(x["id"], x["status"]) for x in listed] == [(sid, "revoked")]
    assert "token" not in listed[0]
    actions = [e["action"] for e in srv.audit(member=m.id, limit=1000)]
    assert "share_create" in actions and "share_revoke" in actions


def test_share_expires(srv):
    m = member(srv)
    r = share(srv, m, ["email"], minutes=1)
    assert r.status_code == 201, r.text
    token, sid = r.json()["token"], r.json()["share"]["id"]
    assert srv.get(f"/v1/shares/{token}").status_code == 200
    # A minute is long for a test: the expiry is moved into the past in the store.
    db = sqlite3.connect(os.path.join(srv.data, "custodian.db"), timeout=10)
    with db:
        n = db.execute("UPDATE shares SET expires_us = ? WHERE id = ?",
                       (int((time.time() - 1) * 1e6), sid)).rowcount
    db.close()
    assert n == 1
    refused(srv.get(f"/v1/shares/{token}"), 404, "not_found")
    assert srv.get("/v1/me/shares", member=m).json()["shares"][0]["status"] == "expired"


@pytest.mark.parametrize("body,status,code,fields", [
    ({"fields": ["name"], "expires_in_minutes": 0}, 422, "invalid_field",
     {"expires_in_minutes": "out_of_range"}),
    ({"fields": ["name"], "expires_in_minutes": 7 * 24 * 60 + 1}, 422, "invalid_field",
     {"expires_in_minutes": "out_of_range"}),
    ({"fields": ["name"], "expires_in_minutes": -2 ** 62}, 422, "invalid_field",
     {"expires_in_minutes": "out_of_range"}),
    ({"fields": [], "expires_in_minutes": 5}, 422, "invalid_field", {"fields": "required"}),
    ({"fields": ["shoe_size"], "expires_in_minutes": 5}, 422, "invalid_field",
     {"fields": "unknown_field"}),
    ({"fields": ["name", "name"], "expires_in_minutes": 5}, 422, "invalid_field",
     {"fields": "duplicate"}),
    ({"fields": "name", "expires_in_minutes": 5}, 400, "invalid_argument", None),
    ({"fields": ["name"], "expires_in_minutes": "5"}, 400, "invalid_argument", None),
    ({"fields": ["name"], "expires_in_minutes": 5.5}, 400, "invalid_argument", None),
    ({"fields": ["name"]}, 400, "invalid_argument", None),
    ({"fields": ["name"], "expires_in_minutes": 5, "to": "someone"}, 400, "invalid_argument",
     None),
])
def test_share_bad_input(srv, portal_member, body, status, code, fields):
    before = srv.get("/v1/me/shares", member=portal_member).json()["shares"]
    err = refused(srv.post("/v1/me/shares", member=portal_member, json=body), status, code)
    if fields:
        assert err["fields"] == fields
    assert srv.get("/v1/me/shares", member=portal_member).json()["shares"] == before


def test_share_needs_csrf_and_a_member(srv, portal_member):
    r = srv.post("/v1/me/shares", member=portal_member, csrf=False,
                 json={"fields": ["name"], "expires_in_minutes": 5})
    refused(r, 403, "csrf_required")
    refused(srv.post("/v1/me/shares", role="staff",
                     json={"fields": ["name"], "expires_in_minutes": 5}), 403, "forbidden")


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 42 + "!", "A" * 71])
def test_share_unknown_links(srv, token):
    refused(srv.get(f"/v1/shares/{token}"), 404, "not_found")


# ---- subcontractors --------------------------------------------------------------------------

def contract(srv, fields=("name", "email"), purposes=("support",), start="2020-01-01",
             end="2999-12-31", **over):
    body = {"id": srv.unique("sub-"), "name": "Call Centre KK", "contact": "sec@cc.example",
            "fields": list(fields), "purposes": list(purposes),
            "measures": ["encryption at rest", "access limited to named staff"],
            "start": start, "end": end}
    body.update(over)
    r = srv.post("/v1/subcontractors", role="officer", json=body)
    assert r.status_code == 201, r.text
    return r.json()["subcontractor"]


def bound_token(srv, contract_id):
    return "Bearer " + srv.issue("subcontractor", srv.unique("api-sub "), "--contract",
                                 contract_id)


def sub_read(srv, token, m, purpose):
    return srv.get(f"/v1/members/{m.id}", token=token, params={"purpose": purpose})


@pytest.fixture(scope="module")
def subject(srv):
    """A member of this module's own, so its audit trail holds only these tests' reads."""
    return srv.register(srv.new_values(survey=True))


def test_subcontractor_scope(srv, subject):
    c = contract(srv)
    assert c["in_force"] is True and c["end"] == "2999-12-31"
    assert c["measures"] == ["encryption at rest", "access limited to named staff"]
    tok = bound_token(srv, c["id"])

    # support allows name, phone, email to subcontractors; the contract names name, email.
    r = sub_read(srv, tok, subject, "support")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fields"] == {"name": subject.values["name"],
                              "email": subject.values["email"]}
    assert body["withheld"]["phone"] == "outside the subcontract"
    # product_news the policy grants subcontractors; this contract does not.
    refused(sub_read(srv, tok, subject, "product_news"), 403, "purpose_not_allowed")
    entries = srv.audit(member=subject.id, limit=1000)
    mine = [(e["purpose"], e["decision"]) for e in entries
            if e["action"] == "read" and f"contract {c['id']}" in e["reason"]]
    assert mine == [("support", "partial"), ("product_news", "deny")]


def test_expired_and_unbound_subcontractor_tokens(srv, subject):
    past = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 5 * 86400))
    c = contract(srv, start="2020-01-01", end=past)
    assert c["in_force"] is False
    tok = bound_token(srv, c["id"])
    err = refused(sub_read(srv, tok, subject, "support"), 403, "forbidden")
    assert_no_personal(srv, json.dumps(err))
    # Refused, and audited like every decision (nothing opened: no fields in the answer).
    last = srv.audit(member=subject.id, limit=1000)[-1]
    assert (last["action"], last["decision"], last["role"]) == ("read", "deny", "subcontractor")
    assert "contract not in force" in last["reason"] and c["id"] in last["reason"]
    # A subcontractor token bound to nothing reads nothing.
    loose = "Bearer " + srv.issue("subcontractor", srv.unique("api-loose "))
    refused(sub_read(srv, loose, subject, "support"), 403, "forbidden")
    # Binding is for a registered contract, and a subcontractor's token only.
    r = srv.cli("token", "create", "--role", "subcontractor", "--name", "x", "--contract",
                "no-such-contract")
    assert r.returncode == 1 and "no subcontractor" in r.stderr
    r = srv.cli("token", "create", "--role", "staff", "--name", "x", "--contract", c["id"])
    assert r.returncode == 2


def test_supervision_reviews(srv):
    c = contract(srv)
    sub = c["id"]
    late = srv.post(f"/v1/subcontractors/{sub}/reviews", role="officer",
                    json={"due": "2021-03-31"})
    assert late.status_code == 201, late.text
    late = late.json()["review"]
    assert (late["due"], late["done"], late["findings"]) == ("2021-03-31", False, "")
    future = srv.post(f"/v1/subcontractors/{sub}/reviews", role="officer",
                      json={"due": "2999-03-31"}).json()["review"]
    done = srv.post(f"/v1/subcontractors/{sub}/reviews", role="officer",
                    json={"due": "2021-01-31", "findings": "Checked.", "done": True})
    assert done.status_code == 201 and done.json()["review"]["done"] is True

    overdue = srv.get("/v1/subcontractors/reviews/overdue", role="officer").json()["reviews"]
    ids = [x["id"] for x in overdue]
    assert late["id"] in ids and future["id"] not in ids
    assert done.json()["review"]["id"] not in ids
    assert next(x for x in overdue if x["id"] == late["id"])["subcontractor_name"] == \
        "Call Centre KK"

    r = srv.request("PATCH", f"/v1/subcontractors/{sub}/reviews/{late['id']}", role="officer",
                    json={"findings": "On-site audit: measures in place.", "done": True})
    assert r.status_code == 200, r.text
    assert r.json()["review"]["done"] is True
    overdue = srv.get("/v1/subcontractors/reviews/overdue", role="officer").json()["reviews"]
    assert late["id"] not in [x["id"] for x in overdue]

    detail = srv.get(f"/v1/subcontractors/{sub}", role="officer").json()
    assert [x["due"] for x in detail["reviews"]] == ["2021-01-31", "2021-03-31", "2999-03-31"]
    refused(srv.post("/v1/subcontractors/no-such-sub/reviews", role="officer",
                     json={"due": "2021-03-31"}), 404, "not_found")
    refused(srv.request("PATCH", f"/v1/subcontractors/{sub}/reviews/AAAAAAAAAAAAAAAAAAAAAA",
                        role="officer", json={"done": True}), 404, "not_found")
    err = refused(srv.post(f"/v1/subcontractors/{sub}/reviews", role="officer",
                           json={"due": "2021-02-30"}), 422, "invalid_field")
    assert err["fields"] == {"due": "malformed"}
    for body in ({}, {"due": 20210331}, {"due": "2021-03-31", "done": "yes"},
                 {"due": "2021-03-31", "by": "me"}):
        refused(srv.post(f"/v1/subcontractors/{sub}/reviews", role="officer", json=body),
                422 if body == {} else 400)
    refused(srv.request("PATCH", f"/v1/subcontractors/{sub}/reviews/{late['id']}",
                        role="officer", json={}), 400, "invalid_argument")


@pytest.mark.parametrize("over,fields", [
    ({"purposes": ["resale"]}, {"purposes": "unknown_purpose"}),
    ({"fields": ["shoe_size"]}, {"fields": "unknown_field"}),
    ({"measures": []}, {"measures": "required"}),
    ({"measures": ["two\nlines"]}, {"measures": "malformed"}),
    ({"start": "2026-13-01"}, {"start": "malformed"}),
    ({"end": "2019-12-31"}, {"end": "before_start"}),
    ({"id": "UPPER"}, {"id": "malformed"}),
])
def test_subcontractor_bad_input(srv, over, fields):
    body = {"id": srv.unique("sub-bad-"), "name": "x", "contact": "c", "fields": ["name"],
            "purposes": ["support"], "measures": ["m"], "start": "2020-01-01",
            "end": "2999-12-31"}
    body.update(over)
    err = refused(srv.post("/v1/subcontractors", role="officer", json=body), 422,
                  "invalid_field")
    assert err["fields"] == fields


def test_subcontractor_registry_listing(srv):
    c = contract(srv)
    listed = srv.get("/v1/subcontractors", role="officer").json()["subcontractors"]
    assert c in listed
    refused(srv.post("/v1/subcontractors", role="officer",
                     json={"id": c["id"], "name": "x", "contact": "c", "fields": ["name"],
                           "purposes": ["support"], "measures": ["m"], "start": "2020-01-01",
                           "end": "2999-12-31"}), 409, "conflict")
    refused(srv.get("/v1/subcontractors/no-such-sub", role="officer"), 404, "not_found")
    refused(srv.post("/v1/subcontractors", role="officer", json={"id": c["id"], "x": 1}), 400,
            "invalid_argument")
    for role in ("staff", "subcontractor", "admin", "service"):
        refused(srv.get("/v1/subcontractors", role=role), 403, "forbidden")


def test_fields_constant_is_the_policy():
    """The suite's policy has the fields these tests name."""
    assert {"name", "address", "email", "phone", "hobbies"} <= set(FIELDS)
