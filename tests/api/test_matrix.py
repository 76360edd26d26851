"""
The authorization matrix, generated from policy/default.json:

    every token role × every purpose × (each field alone, and no ?fields=)
    × (no case, and a case for purposes that require one)

through GET /v1/members/{id}?purpose=P[&fields=F][&case=C].  A field comes
back iff the role is in purpose.roles, the purpose is not aggregate_only, it
needs no case or one is given, and the field is in purpose.fields; otherwise
it is absent (withheld with a reason, or the whole read is refused with 403).
A purpose marked consent_required is refused (consent_required) for a member
who never consented; tests/api/test_consent.py covers the consented side.
Every read — allowed, partial or denied — adds exactly one audit entry.
"""
import pytest

from conftest import FIELDS, POLICY, PURPOSES, ROLES, assert_error_body, assert_no_personal

CASE = "CASE-2026-0042"


def expected(role, purpose, field, case):
    """(status, error code or None, allowed fields in policy order, withheld fields)."""
    p = PURPOSES[purpose]
    wanted = [field] if field else list(FIELDS)
    if role not in p["roles"]:
        return 403, "purpose_not_allowed", [], []
    if p.get("aggregate_only"):
        return 403, "aggregate_only", [], []
    if p.get("requires_case") and not case:
        return 403, "case_required", [], []
    if p.get("consent_required"):
        return 403, "consent_required", [], []   # a use outside the purposes: nobody consented
    allowed = [f for f in wanted if f in p["fields"]]
    withheld = [f for f in wanted if f not in p["fields"]]
    if not allowed:
        return 403, "purpose_not_allowed", [], []
    return 200, None, allowed, withheld


def cases():
    out = []
    for role in ROLES:
        for p in POLICY["purposes"]:
            case_variants = [None, CASE] if p.get("requires_case") else [None]
            for case in case_variants:
                for field in [None] + FIELDS:
                    out.append(pytest.param(
                        role, p["id"], field, case,
                        id=f"{role}-{p['id']}-{field or 'ALL'}{'-case' if case else ''}"))
    return out


MATRIX = cases()


def test_matrix_is_big_enough():
    assert len(MATRIX) >= 300


@pytest.mark.parametrize("role,purpose,field,case", MATRIX)
def test_read(srv, full_member, role, purpose, field, case):
    status, code, allowed, withheld = expected(role, purpose, field, case)
    wanted = [field] if field else list(FIELDS)
    params = {"purpose": purpose}
    if field:
        params["fields"] = field
    if case:
        params["case"] = case
    head = srv.audit_head()

    r = srv.get(f"/v1/members/{full_member.id}", role=role, params=params)

    assert r.status_code == status, r.text
    if status == 200:
        body = r.json()
        assert body["id"] == full_member.id
        assert body["purpose"] == purpose
        # Exactly the allowed fields, with the values registered; nothing else.
        assert body["fields"] == {f: full_member.values[f] for f in allowed}
        assert set(body["withheld"]) == set(withheld)
        for f in withheld:
            assert body["withheld"][f] == "not allowed for this purpose"
        # No other value anywhere in the response: withheld fields are never opened.
        shown = {full_member.values[f] for f in allowed}
        for v in srv.personal | set(full_member.values.values()):
            if v not in shown and len(v) >= 6:
                assert v not in r.text, f"withheld value in the response: {v!r}"
    else:
        assert_error_body(r, code)
        assert_no_personal(srv, r.text)

    # Exactly one audit entry, and it says what happened.
    entries = srv.audit(member=full_member.id, after=head)
    assert len(entries) == 1, entries
    e = entries[0]
    assert e["seq"] == head + 1
    assert srv.audit_head() == head + 1
    assert e["action"] == "read"
    assert e["actor"] == srv.token_names[role]
    assert e["role"] == role
    assert e["purpose"] == purpose
    assert e["case"] == (case or "")
    if status == 200:
        assert e["decision"] == ("partial" if withheld else "allow")
        assert e["fields"] == ",".join(allowed)
    else:
        assert e["decision"] == "deny"
        assert e["fields"] == ",".join(wanted)
        assert e["reason"].startswith(code + ":"), e
