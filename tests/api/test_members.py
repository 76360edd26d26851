"""POST /v1/members, GET /v1/members/{id}, POST /v1/members/search, GET /v1/members,
GET /v1/services/{s}/eligibility/{id}."""
import os
import shutil
import tempfile

import pytest

from conftest import (FIELDS, PURPOSES, SERVICES, Server, assert_error_body,
                      assert_no_personal)


# ---- registration ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["service", "staff", "officer", "admin"])
def test_register_with_a_token(srv, role):
    values = srv.new_values()
    head = srv.audit_head()
    r = srv.post("/v1/members", role=role, json=values)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id"}
    mid = body["id"]
    srv.member_ids.add(mid)
    srv.remember(values)
    # Random, opaque, URL-safe; no personal value in it.
    assert len(mid) >= 16 and all(c.isalnum() or c in "-_" for c in mid)
    assert_no_personal(srv, r.text)
    # One audit entry: the registration, by this token.
    entries = srv.audit(member=mid, after=head)
    assert [(e["action"], e["actor"], e["role"]) for e in entries] == \
        [("register", srv.token_names[role], role)]
    # Findable through the blind index.
    assert srv.search("email", values["email"]).json() == {"id": mid}


@pytest.mark.parametrize("role", ["analyst", "subcontractor"])
def test_register_refused_for_role(srv, role):
    values = srv.new_values()
    srv.remember(values)
    head = srv.audit_head()
    r = srv.post("/v1/members", role=role, json=values)
    assert r.status_code == 403
    assert_error_body(r, "forbidden")
    assert srv.audit_head() == head
    assert srv.search("email", values["email"]).status_code == 404


def test_public_signup_with_password(srv):
    values = srv.new_values()
    srv.remember(values)
    r = srv.post("/v1/members", json=dict(values, password="a good long password"))
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    srv.member_ids.add(mid)
    e = srv.audit(member=mid)[-1]
    assert (e["action"], e["actor"], e["role"]) == ("register", "signup", "member")


def test_public_signup_without_password_is_422(srv):
    values = srv.new_values()
    srv.remember(values)
    r = srv.post("/v1/members", json=values)
    assert r.status_code == 422
    err = assert_error_body(r, "invalid_field")
    assert err["fields"] == {"password": "required"}
    assert_no_personal(srv, r.text)
    assert srv.search("email", values["email"]).status_code == 404


@pytest.mark.parametrize("password,reason", [("short", "too_short"), ("x" * 1025, "too_long")])
def test_public_signup_password_bounds(srv, password, reason):
    values = srv.new_values()
    srv.remember(values)
    r = srv.post("/v1/members", json=dict(values, password=password))
    assert r.status_code == 422
    assert assert_error_body(r, "invalid_field")["fields"] == {"password": reason}
    assert srv.search("email", values["email"]).status_code == 404


def test_register_missing_and_malformed_fields(srv):
    values = srv.new_values(phone=None, email="not-an-email", age="200")
    srv.remember(values)
    r = srv.post("/v1/members", role="service", json=values)
    assert r.status_code == 422
    err = assert_error_body(r, "invalid_field")
    assert err["fields"] == {"phone": "required", "email": "malformed", "age": "out_of_range"}
    assert_no_personal(srv, r.text, ["not-an-email"])


def test_register_duplicate_email_is_409(srv):
    m = srv.register()
    again = srv.new_values(email=m.email.upper())
    srv.remember(again)
    head = srv.audit_head()
    r = srv.post("/v1/members", role="service", json=again)
    assert r.status_code == 409
    assert assert_error_body(r, "conflict")["fields"] == {"email": "duplicate"}
    assert_no_personal(srv, r.text)
    assert srv.audit_head() == head


def test_injection_strings_are_stored_as_data(srv):
    """SQL and format strings in free-text fields are just text: stored, sealed, read back."""
    nasty = {
        "name": "Robert'); DROP TABLE members;--",
        "address": "' OR 1=1 -- %s%n%x ../../etc/passwd",
        "occupation": "<script>alert(1)</script>",
    }
    values = srv.new_values(**nasty)
    m = srv.register(values)
    r = srv.get(f"/v1/members/{m.id}", role="staff", params={"purpose": "support"})
    assert r.status_code == 200
    assert r.json()["fields"]["name"] == nasty["name"]
    # The tables survived.
    assert srv.search("email", values["email"]).json() == {"id": m.id}


# ---- reads ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role,purpose,fields", [
    ("staff", "support", ["name", "phone", "email"]),
    ("subcontractor", "support", ["name", "phone", "email"]),
    ("officer", "support", ["name", "phone", "email"]),
    ("service", "product_news", ["name", "email"]),
    ("service", "membership", ["name", "email"]),
    ("admin", "troubleshooting", ["email"]),
    ("analyst", "research", ["age", "occupation", "newspapers_magazines", "products",
                             "services", "hobbies"]),
    ("analyst", "analysis", ["age", "occupation", "income", "newspapers_magazines", "products",
                             "services", "hobbies"]),
    ("admin", "site_management", ["email"]),
])
def test_read_exact_fields(srv, full_member, role, purpose, fields):
    assert sorted(PURPOSES[purpose]["fields"]) == sorted(fields)
    r = srv.get(f"/v1/members/{full_member.id}", role=role, params={"purpose": purpose})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fields"] == {f: full_member.values[f] for f in fields}
    assert set(body["withheld"]) == set(FIELDS) - set(fields)


def test_read_only_answered_fields_come_back(srv):
    m = srv.register(srv.new_values(occupation="occupation-only"))
    r = srv.get(f"/v1/members/{m.id}", role="analyst", params={"purpose": "research"})
    assert r.status_code == 200
    assert r.json()["fields"] == {"occupation": "occupation-only"}


def test_read_case_purpose(srv, full_member):
    p = {"purpose": "tos_review"}
    r = srv.get(f"/v1/members/{full_member.id}", role="officer", params=p)
    assert r.status_code == 403
    assert_error_body(r, "case_required")
    r = srv.get(f"/v1/members/{full_member.id}", role="officer", params=dict(p, case="C-1"))
    assert r.status_code == 200
    assert set(r.json()["fields"]) == {"name", "email"}


def test_read_needs_purpose(srv, full_member):
    head = srv.audit_head()
    r = srv.get(f"/v1/members/{full_member.id}", role="staff")
    assert r.status_code == 400
    assert_error_body(r, "purpose_required")
    assert srv.audit_head() == head


def test_read_unknown_member_and_purpose_are_audited(srv):
    head = srv.audit_head()
    r = srv.get("/v1/members/AAAAAAAAAAAAAAAAAAAAAA", role="staff", params={"purpose": "support"})
    assert r.status_code == 404
    assert_error_body(r, "not_found")
    r = srv.get("/v1/members/AAAAAAAAAAAAAAAAAAAAAA", role="staff", params={"purpose": "nosuch"})
    assert r.status_code == 400
    assert_error_body(r, "purpose_unknown")
    assert srv.audit_head() == head + 2


def test_read_fields_param(srv, full_member):
    # ?fields= names several; only the allowed ones come back
    r = srv.get(f"/v1/members/{full_member.id}", role="staff",
                params={"purpose": "support", "fields": "email,income,name"})
    assert r.status_code == 200
    assert r.json()["fields"] == {"email": full_member.email, "name": full_member.values["name"]}
    assert set(r.json()["withheld"]) == {"income"}


# ---- search ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "service", "officer", "admin"])
def test_search_by_email_and_phone(srv, full_member, role):
    r = srv.search("email", full_member.email, role=role)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": full_member.id}
    # Normalised: case and surrounding space do not matter.
    r = srv.search("email", "  " + full_member.email.upper() + " ", role=role)
    assert r.json() == {"id": full_member.id}
    r = srv.search("phone", full_member.values["phone"], role=role)
    assert r.status_code == 200
    assert r.json() == {"id": full_member.id}
    assert_no_personal(srv, r.text)


def test_search_japanese_domestic_phone(srv):
    m = srv.register(srv.new_values(phone="090-5555-0123"))
    assert srv.search("phone", "+819055550123").json() == {"id": m.id}
    assert srv.search("phone", "09055550123").json() == {"id": m.id}


def test_search_no_match_is_404_and_audited(srv):
    head = srv.audit_head()
    r = srv.search("email", "nobody-at-all@leak-example.org")
    assert r.status_code == 404
    assert_error_body(r, "not_found")
    assert "nobody-at-all" not in r.text
    assert srv.audit_head() == head + 1
    e = srv.audit(after=head)[0]
    assert (e["action"], e["decision"], e["fields"]) == ("find", "deny", "email")


@pytest.mark.parametrize("role", ["analyst", "subcontractor"])
def test_search_refused_for_role(srv, full_member, role):
    r = srv.search("email", full_member.email, role=role)
    assert r.status_code == 403
    assert_error_body(r, "forbidden")
    assert_no_personal(srv, r.text)


@pytest.mark.parametrize("query", [{"email": "a@example.com"}, {"phone": "+819012345678"},
                                   {"email": "x", "purpose": "support"}])
def test_personal_data_in_url_is_refused(srv, query):
    head = srv.audit_head()
    r = srv.get("/v1/members", role="staff", params=query)
    assert r.status_code == 400
    assert_error_body(r, "personal_data_in_url")
    assert "a@example.com" not in r.text and "819012345678" not in r.text
    assert srv.audit_head() == head


def test_members_are_not_listed(srv):
    r = srv.get("/v1/members", role="officer")
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


# ---- eligibility ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def half_member(srv):
    """Answered occupation only."""
    return srv.register(srv.new_values(occupation="occupation-half"))


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("role", ["service", "staff", "officer"])
def test_eligibility_names_exactly_the_missing_fields(srv, half_member, full_member, service,
                                                      role):
    requires = SERVICES[service]["requires"]
    missing = [f for f in FIELDS if f in requires and f != "occupation"]
    r = srv.get(f"/v1/services/{service}/eligibility/{half_member.id}", role=role)
    assert r.status_code == 200, r.text
    assert r.json() == {"service": service, "member": half_member.id,
                        "eligible": not missing, "missing": missing}
    r = srv.get(f"/v1/services/{service}/eligibility/{full_member.id}", role=role)
    assert r.json() == {"service": service, "member": full_member.id, "eligible": True,
                        "missing": []}


def test_eligibility_audited(srv, half_member):
    head = srv.audit_head()
    srv.get(f"/v1/services/career_coaching/eligibility/{half_member.id}", role="service")
    e = srv.audit(member=half_member.id, after=head)
    assert len(e) == 1
    assert (e[0]["action"], e[0]["decision"], e[0]["fields"]) == \
        ("eligibility", "deny", "date_of_birth,income")


@pytest.mark.parametrize("role", ["analyst", "subcontractor", "admin"])
def test_eligibility_refused_for_role(srv, half_member, role):
    r = srv.get(f"/v1/services/newsletter/eligibility/{half_member.id}", role=role)
    assert r.status_code == 403
    assert_error_body(r, "forbidden")


def test_eligibility_unknowns(srv, half_member):
    r = srv.get(f"/v1/services/nosuch/eligibility/{half_member.id}", role="service")
    assert r.status_code == 404
    assert_error_body(r, "not_found")
    r = srv.get("/v1/services/newsletter/eligibility/AAAAAAAAAAAAAAAAAAAAAA", role="service")
    assert r.status_code == 404
    assert_error_body(r, "not_found")
    r = srv.get(f"/v1/services/newsletter/eligibility/{half_member.id}", role="service",
                params={"x": "1"})
    assert r.status_code == 400
    assert_error_body(r, "invalid_argument")


def test_eligibility_for_a_member_themself(srv, portal_member, half_member):
    r = srv.get(f"/v1/services/live_classes/eligibility/{portal_member.id}", member=portal_member)
    assert r.status_code == 200
    assert r.json()["eligible"] is True
    r = srv.get(f"/v1/services/live_classes/eligibility/{half_member.id}", member=portal_member)
    assert r.status_code == 403
    assert_error_body(r, "forbidden")


def test_init_names_the_store_it_made(request):
    """`init` says which store it migrated: custodian.db on SQLite, never a PostgreSQL url
    (which may hold a password) — and no custodian.db file that is not there."""
    binary = os.path.abspath(request.config.getoption("--custodian"))
    root = tempfile.mkdtemp(prefix="cu-init-")
    try:
        s = Server(binary, root)
        r = s.cli("init")
        assert r.returncode == 0, r.stderr
        first = r.stdout.splitlines()[0]
        if s.store:
            assert "custodian.db" not in first and s.store not in r.stdout, first
            assert "the store custodian.store names" in first, first
            assert not os.path.exists(os.path.join(s.data, "custodian.db"))
        else:
            assert first.endswith(", custodian.db"), first
            assert os.path.exists(os.path.join(s.data, "custodian.db"))
    finally:
        shutil.rmtree(root, ignore_errors=True)
