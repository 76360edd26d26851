"""
The privacy policy in the portal (server/web/pages_policy.c): the version in
force with its text and what it declares, the version history, one version
as published, what changed for a member, and accepting a new version.
Publishing changes the policy in force, so the tests that publish run on a
server of their own.
"""

import pytest

from conftest import POLICY, assert_no_personal, own_server
from test_web_casework import Browser, text_of

V2 = POLICY["version"] + ".web2"


def visitor_get(srv, path, **headers):
    return srv.http.get(srv.base + path, headers=dict({"Accept": "text/html"}, **headers),
                        allow_redirects=False, timeout=30)


def test_policy_page_for_everyone(srv):
    r = visitor_get(srv, "/policy")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    t = text_of(r.text)
    assert POLICY["title"] in t
    assert f"Version {POLICY['version']}" in t
    # The text, paragraph by paragraph, escaped as text (its quotes are typographic).
    assert "About the Purpose of Use of Personal Information" in t
    for p in POLICY["purposes"]:
        assert p["text"] in t, p["id"]
    # Purposes name their fields by the policy's labels.
    assert "Telephone number" in t
    # The version history links each version.
    assert f'href="/policy/versions/{POLICY["version"]}"' in r.text
    assert "in force" in t
    # A visitor is not asked to accept anything.
    assert 'action="/policy/accept"' not in r.text
    r = visitor_get(srv, "/policy?lang=ja")
    assert r.status_code == 200 and "改定履歴" in r.text and 'lang="ja"' in r.text


def test_one_version_page(srv):
    r = visitor_get(srv, f"/policy/versions/{POLICY['version']}")
    assert r.status_code == 200
    t = text_of(r.text)
    assert f"Version {POLICY['version']}" in t and "What changed" in t
    assert "Log in to see what changed" in t
    assert "This is the first version" in t
    for bad in ("1999-01-01.1", "v" * 65, "a%20b", "%3Cscript%3E"):
        r = visitor_get(srv, f"/policy/versions/{bad}")
        assert r.status_code == 404, bad
        assert "<script>" not in r.text


def test_member_with_nothing_pending(srv):
    m = srv.register(srv.new_values(), role=None, password="policy page password")
    srv.login(m)
    b = Browser(srv, m)
    r = b.get("/policy")
    assert r.status_code == 200
    assert 'action="/policy/accept"' not in r.text
    r = b.get(f"/policy/versions/{POLICY['version']}")
    assert "nothing is waiting for you" in text_of(r.text)


def test_accept_needs_a_member_and_a_token(srv):
    r = srv.http.post(srv.base + "/policy/accept", data={"csrf": "x"}, allow_redirects=False,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].endswith("/login")
    m = srv.register(srv.new_values(), role=None, password="policy page password")
    srv.login(m)
    b = Browser(srv, m)
    assert b.post("/policy/accept", {}, csrf=False).status_code == 403
    assert b.post("/policy/accept", {"csrf": "y" * 43}, csrf=False).status_code == 403


@pytest.fixture(scope="module")
def pub(request):
    with own_server(request, "cu-web-pol-") as s:
        yield s


def version2(pub):
    doc = pub.get(f"/v1/policy/versions/{POLICY['version']}").json()
    doc["version"] = V2
    for p in doc["purposes"]:
        if p["id"] == "support":
            p["fields"].append("occupation")
    doc["purposes"].append({"id": "community", "number": 11,
                            "text": "to introduce members with <shared> hobbies to one another",
                            "roles": ["staff"], "fields": ["name", "hobbies"]})
    return doc


def test_publishing_makes_the_prompt_appear_and_accepting_clears_it(pub):
    m = pub.register(pub.new_values(), role=None, password="policy page password")
    pub.login(m)
    b = Browser(pub, m)
    assert 'action="/policy/accept"' not in b.get("/policy").text

    r = pub.post("/v1/policy/versions", role="officer", json=version2(pub))
    assert r.status_code == 201, r.text

    page = b.get("/policy")
    assert page.status_code == 200
    assert 'action="/policy/accept"' in page.text
    t = text_of(page.text)
    assert f"Accept version {V2}" in t
    assert f'href="/policy/versions/{V2}"' in page.text
    # Both versions in the history; the new one is in force.
    assert f'href="/policy/versions/{POLICY["version"]}"' in page.text
    assert f"Version {V2}" in t

    # What changed, on the new version's page: the new purpose (escaped) and the added field.
    page = b.get(f"/policy/versions/{V2}")
    assert page.status_code == 200
    t = text_of(page.text)
    assert f"Changes since the version you accepted: {POLICY['version']}" in t
    assert "to introduce members with &lt;shared&gt; hobbies" in page.text
    assert "new purpose" in t and "items added: occupation" in t
    # The old version's page shows that version and no prompt.
    page = b.get(f"/policy/versions/{POLICY['version']}")
    assert page.status_code == 200 and 'action="/policy/accept"' not in page.text

    # A visitor sees the new version, and no prompt; its page says what it changed.
    r = visitor_get(pub, "/policy")
    assert f"Version {V2}" in text_of(r.text) and 'action="/policy/accept"' not in r.text
    r = visitor_get(pub, f"/policy/versions/{V2}")
    t = text_of(r.text)
    assert f"Changes from the previous version, {POLICY['version']}" in t
    assert "new purpose" in t and "items added: occupation" in t
    assert 'action="/policy/accept"' not in r.text

    # Accepting: through the form, then the API holds the member to the new version.
    r = b.post("/policy/accept", {}, page="/policy")
    assert r.status_code == 303 and r.headers["Location"] == "/policy?done=accepted"
    ch = pub.get("/v1/me/policy/changes", member=m).json()
    assert ch["from"] == ch["to"] == V2
    page = b.get("/policy?done=accepted")
    assert 'action="/policy/accept"' not in page.text
    assert "You have accepted the privacy policy in force." in page.text
    for u in b.urls:
        assert_no_personal(pub, u)


def test_what_a_version_changed_through_the_api(pub):
    """GET /v1/policy/versions/{version}/changes: from the version published just before."""
    if pub.get("/v1/policy/versions").json()["in_force"] != V2:
        r = pub.post("/v1/policy/versions", role="officer", json=version2(pub))
        assert r.status_code == 201, r.text
    d = pub.get(f"/v1/policy/versions/{V2}/changes").json()
    assert d["from"] == POLICY["version"] and d["to"] == V2
    assert [p["id"] for p in d["purposes_added"]] == ["community"]
    assert [(p["id"], p["fields_added"]) for p in d["purposes_changed"]] == [("support", ["occupation"])]
    d = pub.get(f"/v1/policy/versions/{POLICY['version']}/changes").json()
    assert d["from"] is None and d["to"] == POLICY["version"]
    assert not any(d[k] for k in ("purposes_added", "purposes_removed", "purposes_changed",
                                  "fields_added", "fields_removed", "text_changed"))
    for bad in ("1999-01-01.1", "v" * 65, "%27%20OR%201%3D1"):
        r = pub.get(f"/v1/policy/versions/{bad}/changes")
        assert r.status_code == 404, bad
        assert r.json()["error"]["code"] == "not_found"
    r = pub.get(f"/v1/policy/versions/{V2}/changes", params={"x": "1"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_argument"
