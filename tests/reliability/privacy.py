#!/usr/bin/python3
"""
tests/reliability/privacy.py — no personal value reaches a file, a log or /metrics.

    privacy.py path/to/custodian [--keep]

1. Loads distinctive values — every one carries this run's marker — through the
   routes that take personal data: sign-up and registration (name, e-mail, phone,
   address, date of birth, survey answers), profile changes, diary entries,
   complaints and the officer's response, disclosure / amendment / erasure
   requests and decisions, exceptions and their review, shares, consents,
   searches by e-mail and phone, logins with a wrong password.
2. Sweeps every route that /openapi.json names (so a new route is covered without
   editing this file), as every role allowed on it, as a role that is not, and
   anonymously, with hostile values in every position a client controls — path
   parameters, query parameters, an unknown body key, a body whose every string is
   hostile, a body that is not JSON.  Every route must have been reached by an
   allowed caller at least once; no answer may be a 5xx; no 4xx may echo a value.
3. Reads /metrics, takes a copy of the database, its -wal and -shm while the
   server runs, stops the server (SIGTERM) and reads the files again.
4. Searches all of it — every file under the run's directory (the data directory
   with the database, WAL, notification outbox files and checkpoint files, the
   server's stdout (the access log) and stderr, any core or crash output in its
   working directory) plus the /metrics text and the live copies — for every
   value, as UTF-8 in any letter case and as UTF-16 (LE and BE): zero hits.

Prints "privacy: V values, R requests over K routes, F files (B bytes) searched,
0 hits: ok", or every hit (value kind, where) and exits 1.
"""
import argparse
import json
import os
import secrets
import sys
import time
import urllib.parse

from harness import Failures, make_server

FAKE_ID = "AAAAAAAAAAAAAAAAAAAAAA"   # well formed, names nothing
OUTBOX_WAIT_S = 5                    # for the notifier to write its .eml files


class Values:
    """Every distinctive value sent, with a label saying what it was."""

    def __init__(self):
        self.marker = "Pv" + secrets.token_hex(4)
        self.n = 0
        self.labels = {}   # value -> label

    def track(self, label, value):
        self.labels[value] = label
        return value

    def new(self, label, fmt):
        """fmt holds {u}: a unique piece with the marker."""
        self.n += 1
        return self.track(label, fmt.format(u=f"{self.marker}x{self.n:03d}"))

    def phone(self, label):
        self.n += 1
        return self.track(label, "+8190" + str(10000000 + int(secrets.token_hex(3), 16) % 89999999
                                                + self.n)[:8])

    def hostile(self, where):
        return self.new(f"hostile {where}", "leak.{u}@hostile-example.org")


def registration(v, who, survey=True, password=None):
    body = {
        "name": v.new(f"{who} name", "Hanako Leak{u}"),
        "address": v.new(f"{who} address", "{u} Chome Secretstreet, Chiyoda-ku, Tokyo"),
        "phone": v.phone(f"{who} phone"),
        "email": v.new(f"{who} e-mail", "member.{u}@private-example.org"),
    }
    if survey:
        body.update({
            "date_of_birth": v.track(f"{who} date of birth", "1931-02-%02d" % (10 + v.n % 18)),
            "occupation": v.new(f"{who} occupation", "occupation {u}"),
            "income": v.new(f"{who} income", "income band {u}"),
            "newspapers_magazines": v.new(f"{who} newspapers", "Gazette {u}"),
            "products": v.new(f"{who} products", "product {u}"),
            "services": v.new(f"{who} services", "service {u}"),
            "hobbies": v.new(f"{who} hobbies", "hobby {u}, origami"),
        })
    if password:
        body["password"] = v.track(f"{who} password", password)
    return body


class Run:
    def __init__(self, srv, v, fail):
        self.srv, self.v, self.fail = srv, v, fail
        self.requests = 0
        self.reached = {}  # (METHOD, template) -> set of statuses from allowed callers
        self.ids = {}      # path prefix -> a real id for the sweep

    def send(self, method, path, expect=None, **kw):
        r = self.srv.request(method, path, **kw)
        self.requests += 1
        self.fail.check(r.status_code < 500, f"{method} {path}: {r.status_code} {r.text[:200]}")
        if expect is not None:
            self.fail.check(r.status_code == expect, f"{method} {path}: {r.status_code}, "
                            f"expected {expect}: {r.text[:200]}")
        if 400 <= r.status_code < 500:
            low = r.text.lower()
            for value, label in self.v.labels.items():
                self.fail.check(value.lower() not in low,
                                f"{method} {path}: the {r.status_code} answer echoes {label}")
        return r

    # ---- 1. personal data through the routes made for it ---------------------

    def load(self):
        v = self.v
        # Members: two sign-ups on the public form, one registration by the service.
        members = []
        for who in ("member A", "member B"):
            body = registration(v, who, password=f"pw {v.marker} {who}")
            r = self.send("POST", "/v1/members", json=body, expect=201)
            members.append(self.member(r.json()["id"], body))
        body = registration(v, "member C")
        r = self.send("POST", "/v1/members", role="service", json=body, expect=201)
        c_id = r.json()["id"]
        a, b = members
        for m in (a, b):
            self.relogin(m)
        # Wrong passwords and unknown accounts: refused, and neither kept.
        self.send("POST", "/v1/session", json={"email": a.email,
                  "password": v.new("wrong password", "wrong {u} pw")}, expect=401)
        self.send("POST", "/v1/session", json={"email": v.new("unknown login", "nobody.{u}@x.org"),
                  "password": v.new("wrong password", "wrong {u} pw")}, expect=401)
        # Searches and reads by the staff and the service.
        self.send("POST", "/v1/members/search", role="service", json={"email": a.email}, expect=200)
        self.send("POST", "/v1/members/search", role="staff", json={"phone": a.values["phone"]},
                  expect=200)
        self.send("GET", "/v1/members?email=" + urllib.parse.quote(b.email), role="staff")
        self.send("GET", "/v1/members?phone=" + urllib.parse.quote(b.values["phone"]), role="staff")
        self.send("POST", "/v1/members/search", role="service",
                  json={"email": v.new("unknown search", "absent.{u}@x.org")})
        for purpose in ("support", "membership", "research"):
            self.send("GET", f"/v1/members/{a.id}?purpose={purpose}", role="staff")
        self.send("GET", f"/v1/members/{c_id}?purpose=tos_review&case=TOS-PRIV-1", role="staff")
        self.send("GET", f"/v1/services/career_coaching/eligibility/{a.id}", role="service")
        # The member's own routes.
        self.send("PATCH", "/v1/me", member=a, json={
            "hobbies": v.new("member A new hobbies", "new hobby {u}"),
            "occupation": v.new("member A new occupation", "new occupation {u}")}, expect=200)
        self.send("GET", "/v1/me", member=a, expect=200)
        self.send("GET", "/v1/me/access-log", member=a, expect=200)
        r = self.send("POST", "/v1/me/diaries", member=a, json={
            "title": v.new("diary title", "Diary title {u}"),
            "body": v.new("diary body", "Dear diary, {u} happened today.\nSecond line.")},
            expect=201)
        diary = r.json()["id"]
        self.send("PATCH", f"/v1/me/diaries/{diary}", member=a,
                  json={"title": v.new("diary title", "Revised title {u}")}, expect=200)
        r = self.send("POST", "/v1/me/diaries", member=a, json={
            "title": v.new("diary title", "Doomed entry {u}"),
            "body": v.new("diary body", "to be deleted {u}")}, expect=201)
        self.send("DELETE", f"/v1/me/diaries/{r.json()['id']}", member=a)
        self.send("GET", "/v1/me/diaries", member=a, expect=200)
        self.send("GET", f"/v1/members/{a.id}/diaries?purpose=tos_review&case=TOS-PRIV-2",
                  role="staff")
        r = self.send("PUT", "/v1/me/consents", member=a,
                      json={"kind": "purpose", "target": "testimonials", "granted": True})
        consent = r.json().get("consent", {}).get("id") if r.status_code < 300 else None
        self.send("GET", "/v1/me/consents", member=a, expect=200)
        self.send("POST", "/v1/me/policy/accept", member=a)
        self.send("GET", "/v1/me/policy/changes", member=a)
        r = self.send("POST", "/v1/me/shares", member=a,
                      json={"fields": ["name", "email"], "expires_in_minutes": 60})
        share = r.json() if r.status_code == 201 else {}
        share_token = share.get("token") or share.get("share", {}).get("token")
        if share_token:
            self.send("GET", f"/v1/shares/{share_token}")
        self.send("GET", "/v1/me/shares", member=a)
        # Complaints, with the officer's answer.
        r = self.send("POST", "/v1/complaints", member=a, json={
            "about": "provision", "text": v.new("complaint text",
                                                "My address {u} was given to a stranger.")},
            expect=201)
        complaint = r.json()["complaint"]["id"]
        self.send("POST", f"/v1/complaints/{complaint}/assign", role="officer",
                  json={"officer": "privacy officer"})
        self.send("POST", f"/v1/complaints/{complaint}/responses", role="officer", json={
            "text": v.new("complaint response", "We checked the record of {u}."), "close": False})
        self.send("GET", f"/v1/complaints/{complaint}", member=a)
        self.send("GET", "/v1/complaints", role="officer")
        # Requests: disclosure (refused with reasons), amendment (applied), erasure of B.
        r = self.send("POST", "/v1/requests", member=a, json={
            "type": "disclosure", "details": {"note": v.new("request note",
                                                           "Please send me everything {u}")}},
            expect=201)
        disclosure = self.request_id(r)
        self.send("POST", f"/v1/requests/{disclosure}/decision", role="officer", json={
            "action": "refuse", "ground": "breach_of_law",
            "reasons": v.new("decision reasons", "Refused because of {u} investigation.")})
        r = self.send("POST", "/v1/requests", member=a, json={
            "type": "amendment", "details": {
                "changes": {"address": v.new("amended address", "{u} Newstreet, Osaka")},
                "reason": v.new("amendment reason", "I moved to {u}.")}}, expect=201)
        amendment = self.request_id(r)
        self.send("POST", f"/v1/requests/{amendment}/decision", role="officer",
                  json={"action": "apply"})
        self.send("GET", f"/v1/requests/{amendment}", member=a)
        self.send("GET", "/v1/requests", role="officer")
        r = self.send("POST", "/v1/requests", member=b, json={
            "type": "erasure", "details": {"note": v.new("erasure note", "Erase me {u}")}},
            expect=201)
        erasure = self.request_id(r)
        self.send("POST", f"/v1/requests/{erasure}/decision", role="officer",
                  json={"action": "apply"})
        self.send("GET", f"/v1/requests/{erasure}/certificate", role="officer")
        # A statutory exception and its review; a provision to a registered third party.
        r = self.send("POST", "/v1/exceptions", role="officer", json={
            "member": a.id, "purpose": "support", "exception": "law",
            "justification": v.new("exception justification",
                                   "Court order {u} requires the contact details.")})
        exc = r.json().get("exception", {}).get("id") if r.status_code < 300 else None
        exc = exc or (r.json().get("id") if r.status_code < 300 else None)
        self.send("GET", "/v1/exceptions", role="officer")
        if exc:
            self.send("POST", f"/v1/exceptions/{exc}/close", role="officer", json={
                "review": v.new("exception review", "Order {u} verified with the clerk.")})
        self.send("POST", "/v1/third-parties", role="officer", json={
            "id": "privacy-scan-printer", "name": "Scan Printing", "contact": "dpo@printer.example",
            "purpose": "Printing certificates.", "fields": ["name", "address"]})
        self.send("PUT", "/v1/me/consents", member=a,
                  json={"kind": "third_party", "target": "privacy-scan-printer", "granted": True})
        self.send("POST", "/v1/provisions", role="service", json={
            "third_party": "privacy-scan-printer", "member": a.id, "fields": ["name", "address"],
            "basis": "consent"})
        self.send("GET", "/v1/me/provisions", member=a)
        r = self.send("GET", "/v1/me/notices", member=a, expect=200)
        notices = r.json().get("notices", []) if r.status_code == 200 else []
        if notices:
            self.send("POST", f"/v1/me/notices/{notices[0]['id']}/read", member=a)
        for fmt in ("", "?format=csv"):
            self.send("GET", "/v1/me/export" + fmt, member=a)
        self.send("GET", f"/v1/audit?member={a.id}", role="officer", expect=200)
        self.send("GET", "/v1/audit/verify", role="officer", expect=200)
        self.send("GET", "/v1/notify/outbox", role="officer", expect=200)
        self.a, self.b = a, b
        self.ids = {"/v1/members/": a.id, "/v1/services/": "newsletter",
                    "/v1/me/diaries/": diary, "/v1/me/consents/": consent,
                    "/v1/me/notices/": notices[0]["id"] if notices else None,
                    "/v1/me/shares/": share.get("id") or share.get("share", {}).get("id"),
                    "/v1/shares/": share_token, "/v1/complaints/": complaint,
                    "/v1/requests/": amendment, "/v1/exceptions/": exc,
                    "/v1/third-parties/": "privacy-scan-printer",
                    "/v1/subcontractors/": "api-test-contract",
                    "/v1/policy/versions/": None}

    def relogin(self, m):
        r = self.send("POST", "/v1/session", json={"email": m.email, "password": m.password},
                      expect=200)
        if r.status_code == 200:
            m.cookie = r.cookies.get("cu_session")
            m.csrf = r.json()["csrf"]

    def member(self, mid, body):
        m = type("M", (), {})()
        m.id, m.values, m.email, m.password = mid, body, body["email"], body.get("password")
        m.cookie = m.csrf = None
        return m

    @staticmethod
    def request_id(r):
        j = r.json()
        return (j.get("request") or j).get("id")

    # ---- 2. every route, hostile -----------------------------------------------

    def sweep(self, spec):
        comps = spec.get("components", {})
        for template, ops in spec["paths"].items():
            for method, op in ops.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                self.sweep_op(method.upper(), template, op, comps)

    def sweep_op(self, method, template, op, comps):
        v = self.v
        roles = op.get("x-roles", [])
        params = [resolve(p, comps) for p in op.get("parameters", [])]
        path_names = [p["name"] for p in params if p.get("in") == "path"]
        query_names = [p["name"] for p in params if p.get("in") == "query"] + ["zz"]
        example = body_example(op, comps)
        key = (method, template)
        self.reached.setdefault(key, set())
        if "member" in roles:
            self.relogin(self.a)  # an earlier route (DELETE /v1/session) may have ended it

        def path_with(hostile_name=None):
            p = template
            for name in path_names:
                if name == hostile_name:
                    val = urllib.parse.quote(v.hostile(f"path {{{name}}}"), safe="")
                else:
                    val = self.real_id(template, name)
                p = p.replace("{" + name + "}", val)
            return p

        def query(name):
            return "?" + urllib.parse.urlencode({name: v.hostile(f"query {name}")})

        callers = []   # (kw for request, allowed)
        bearer = [r for r in roles if r in self.srv.tokens]
        for r in bearer:
            callers.append(({"role": r}, True))
        if "member" in roles:
            callers.append(({"member": self.a}, True))
        if "anyone" in roles or "anonymous" in roles:
            callers.append(({}, True))
        else:
            callers.append(({}, False))
            outsider = next((r for r in ("analyst", "staff", "service") if r not in roles), None)
            if outsider:
                callers.append(({"role": outsider}, False))
            elif "member" not in roles:
                callers.append(({"member": self.a}, False))

        for kw, allowed in callers:
            sent = []
            # A real path; each query parameter hostile in turn.
            for name in query_names:
                sent.append(self.send(method, path_with() + query(name), **kw,
                                      **self.body(method, example, "query")))
            # Each path parameter hostile in turn.
            for name in path_names:
                sent.append(self.send(method, path_with(name), **kw,
                                      **self.body(method, example, "path")))
            if method in ("POST", "PUT", "PATCH"):
                body = dict(example) if isinstance(example, dict) else {}
                body["zz_unknown"] = v.hostile("unknown body key")
                sent.append(self.send(method, path_with(), json=body, **kw))
                raw = json.dumps(example if example is not None else {})[:-1] + \
                    f', "x": "{v.hostile("body not JSON")}"'
                sent.append(self.send(method, path_with(), data=raw.encode(), **kw,
                                      headers={"Content-Type": "application/json"}))
                if not allowed:
                    sent.append(self.send(method, path_with(), **kw,
                                          json=poison(example, v)))
            if allowed:
                for r in sent:
                    self.reached[key].add(r.status_code)

    def body(self, method, example, where):
        if method in ("POST", "PUT", "PATCH"):
            return {"json": example if example is not None else {}}
        return {}

    def real_id(self, template, name):
        head = template.split("{" + name + "}")[0]
        for prefix, val in sorted(self.ids.items(), key=lambda kv: -len(kv[0])):
            if head.endswith(prefix) and val:
                return urllib.parse.quote(str(val), safe="")
        return FAKE_ID


def resolve(obj, comps):
    while isinstance(obj, dict) and "$ref" in obj:
        kind, name = obj["$ref"].split("/")[-2:]
        obj = comps[kind][name]
    return obj


def body_example(op, comps):
    rb = op.get("requestBody")
    if not rb:
        return None
    c = rb.get("content", {}).get("application/json", {})
    if "example" in c:
        return c["example"]
    if "examples" in c:
        return next(iter(c["examples"].values())).get("value")
    schema = resolve(c.get("schema", {}), comps)
    return schema.get("example", {})


def poison(example, v):
    """The example with every string hostile (sent only by callers who may not use the route)."""
    if isinstance(example, dict):
        return {k: poison(x, v) for k, x in example.items()}
    if isinstance(example, list):
        return [poison(x, v) for x in example]
    if isinstance(example, str):
        return v.hostile("body string")
    return example


# ---- 3 and 4: read everything, search ------------------------------------------

def search(blobs, labels):
    """blobs: {where: bytes}.  Returns [(label, where, form)] for every hit."""
    hits = []
    forms = []
    for value, label in labels.items():
        low = value.lower()
        forms.append((label, "UTF-8", low.encode("utf-8")))
        forms.append((label, "UTF-16LE", low.encode("utf-16-le")))
        forms.append((label, "UTF-16BE", low.encode("utf-16-be")))
    for where, data in blobs.items():
        hay = data.lower()   # ASCII letters only: the values' case-insensitive forms
        for label, form, needle in forms:
            if needle in hay:
                hits.append((label, where, form))
    return hits


def read_tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, root)] = fh.read()
            except OSError:
                pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("custodian")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()

    fail = Failures()
    v = Values()
    srv = make_server(a.custodian, "cu-privacy-", {("notify", "interval_ms"): "100"})
    try:
        srv.start()
        run = Run(srv, v, fail)
        run.load()
        spec = srv.get("/openapi.json").json()
        run.sweep(spec)
        for key, statuses in sorted(run.reached.items()):
            fail.check(statuses - {401, 403}, f"{key[0]} {key[1]}: never reached by an allowed "
                       f"caller (answers {sorted(statuses)})")
        # The notifier writes the outbox files: wait until every notification is handled.
        deadline = time.time() + OUTBOX_WAIT_S
        while time.time() < deadline:
            out = srv.get("/v1/notify/outbox?status=pending", role="officer")
            if out.status_code == 200 and not out.json().get("entries", out.json().get("rows")):
                break
            time.sleep(0.2)
        blobs = {"/metrics": srv.get("/metrics").content}
        live = read_tree(srv.data)
        blobs.update({"live " + k: x for k, x in live.items()})
        status = srv.stop()
        fail.check(status == 0, f"no graceful stop (status {status})")
        blobs.update(read_tree(srv.root))
        eml = [k for k in blobs if k.endswith(".eml")]
        fail.check(eml, "the notifier wrote no outbox file: the outbox went unsearched")
        for must in ("data/custodian.db", "live custodian.db-wal", "access.log", "stderr.log"):
            fail.check(must in blobs, f"nothing to search at {must}")
        hits = search(blobs, v.labels)
        for label, where, form in hits:
            fail.check(False, f"{label} found in {where} ({form})")
        nbytes = sum(len(x) for x in blobs.values())
        summary = (f"privacy: {len(v.labels)} values, {run.requests} requests over "
                   f"{len(run.reached)} routes, {len(blobs)} files and outputs ({nbytes} bytes, "
                   f"{len(eml)} outbox files) searched, {len(hits)} hits")
    finally:
        srv.clean_up(a.keep)
    print(summary + (": FAILED" if fail else ": ok"), flush=True)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
