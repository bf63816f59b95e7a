#!/usr/bin/env python3
"""The access-control matrix: every route that `sargasd --print-routes` lists, called by every
kind of principal (a console session of each role, nobody, a forged cookie, a forged token) on
every kind of object (a camera of one's own, a forbidden one, one of another site, a missing
one; a user of one's site, of another site, a missing one; one's own API token, another
user's, another site's, a missing one; a case of one's site, of another site, a missing one;
an export of a visible camera, of a forbidden one, of another site, a missing one), each
answer checked against the rules:

  public route: the handler runs; nobody signed in: 401 unauthorized; the role lacks the
  route's permission: 403 forbidden whatever the id; the object is missing, of another site
  or not granted: 404 not_found, byte for byte the body of a missing id; otherwise the handler
  runs (its own 2xx, or a 400 for a body made to fail validation).

The routes come from the router itself, so a route added without a rule here fails the test.
Names of forbidden and other-site cameras and users must appear in no answer, the camera list
of each principal is exactly its visible cameras, and the multiplexed live stream answers a
forbidden camera exactly like a missing one. Objects named in a body rather than the path (a
camera or event added to a case, a case item released, the cameras or case of an export)
answer a forbidden or other-site object exactly like a missing one too."""
import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Env, TestFailure, check, poll, run  # noqa: E402

MISSING = 999999
PASSWORD = "matrix-password-0123"

# What each role may do (docs: roles and permissions). "session" needs only a principal.
ROLE_ACCESS = {
    "admin": {"camera.list", "camera.read", "camera.admin", "live", "live.many", "playback", "export",
              "users.read", "users.admin", "audit", "cases.read", "cases", "release"},
    "operator": {"camera.list", "camera.read", "live", "live.many", "playback", "cases.read", "cases"},
    "investigator": {"camera.list", "camera.read", "live", "live.many", "playback", "export", "cases.read", "cases",
                     "release"},
    "viewer": {"camera.list", "camera.read", "live", "live.many"},
    "auditor": {"camera.list", "camera.read", "users.read", "audit", "cases.read"},
}
KNOWN_ACCESS = {"public", "session"} | set().union(*ROLE_ACCESS.values())
KNOWN_OBJECTS = {"-", "camera", "user", "token", "event", "case", "export"}
# Object cases per object kind; each is a name the cell setup turns into an id.
CASES = {"-": [None], "camera": ["missing", "own", "forbidden", "other-site"],
         "user": ["missing", "same-site", "other-site"],
         "token": ["missing", "own", "same-site", "other-site"],
         "event": ["missing", "own", "forbidden", "other-site"],  # a motion event of that camera
         "case": ["missing", "own", "other-site"],  # a case of one's site is visible whatever its cameras
         "export": ["missing", "own", "forbidden", "other-site"]}  # an export of that camera
ENDLESS_S = 1.0  # how long an endless response (live video) is read before closing


def rfc(us):
    t = time.gmtime(us / 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (int(us / 1000) % 1000)


def utc_us(s):
    from datetime import datetime
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1e6)


def print_routes():
    out = subprocess.run([os.path.join(BUILD, "sargasd"), "--print-routes"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    routes = []
    for line in out.splitlines():
        if not line.strip():
            continue
        f = line.split()
        check(len(f) == 4, "--print-routes line is not 'METHOD PATTERN ACCESS OBJECT': %r" % line)
        routes.append(tuple(f))
    check(len(routes) >= 30, "only %d routes listed" % len(routes))
    return routes


def request(env, method, path, body=None, headers=None, timeout=30):
    """One HTTP request without the harness's default token. A response without a length
    (live video, the live multiplex) is read for ENDLESS_S and then closed."""
    conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=timeout)
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        hd = {k.lower(): v for k, v in r.getheaders()}
        if r.status == 200 and "content-length" not in hd and method != "HEAD":
            data, end = b"", time.monotonic() + ENDLESS_S
            conn.sock.settimeout(ENDLESS_S)
            while time.monotonic() < end and len(data) < (4 << 20):
                try:
                    chunk = r.read1(65536)
                except (socket.timeout, TimeoutError):
                    break
                if not chunk:
                    break
                data += chunk
        else:
            data = r.read()
        return r.status, hd, data
    finally:
        conn.close()


def read_mux(env, path, headers, until, timeout=15):
    """Reads the live multiplex until until(states) holds; returns {index: [state payloads]}."""
    conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        if r.status != 200:
            raise TestFailure("mux %s: %d %s" % (path, r.status, r.read()[:200]))
        buf, states = b"", {}
        end = time.monotonic() + timeout
        while time.monotonic() < end and not until(states):
            chunk = r.read1(65536)
            check(chunk, "mux response ended")
            buf += chunk
            while len(buf) >= 8:
                n = int.from_bytes(buf[4:8], "big")
                if len(buf) < 8 + n:
                    break
                if buf[1] == 1:
                    states.setdefault(buf[0], []).append(buf[8:8 + n])
                buf = buf[8 + n:]
        check(until(states), "mux %s: states %s after %d s" % (path, states, timeout))
        return states
    finally:
        conn.close()


class Principal:
    def __init__(self, name, role=None, uid=None, cookie=None, csrf=None, headers=None):
        self.name, self.role, self.id, self.cookie, self.csrf = name, role, uid, cookie, csrf
        self.extra = headers or {}

    def headers(self, method):
        h = dict(self.extra)
        if self.cookie:
            h["Cookie"] = "sargas_session=" + self.cookie
            if method not in ("GET", "HEAD"):
                h["X-CSRF-Token"] = self.csrf
        return h


def login(env, name, password=PASSWORD):
    st, hd, data = request(env, "POST", "/api/v1/login", {"user": name, "password": password})
    check(st == 200, "login %s: %d %s" % (name, st, data[:200]))
    m = re.match(r"sargas_session=([^;]+);", hd.get("set-cookie", ""))
    check(m, "login %s: no session cookie: %s" % (name, hd))
    doc = json.loads(data)
    check(doc["user"]["name"] == name and doc["csrf"], "login %s: session document %s" % (name, doc))
    return m.group(1), doc["csrf"]


class Matrix:
    def __init__(self, env, fake):
        self.env = env
        self.fake = fake
        self.failures = []
        self.refused = []       # (principal, "METHOD path") of every refusal, for the audit check
        self.cells = 0
        self.n = 0              # counter for throwaway names
        self.throwaway_cams = []

    # ---- setup ----

    def uniq(self, prefix):
        self.n += 1
        return "%s-%d" % (prefix, self.n)

    def cli_user(self, name, role, *extra):
        return self.env.user(name, role, PASSWORD, *extra)

    def grant(self, user, cam, deny=False):
        self.env.cli("user", "grant", user, "--camera", str(cam), *(["--deny"] if deny else []))

    def cli_token(self, user):
        r = self.env.cli("token", "add", user, "--name", self.uniq("tok"))
        m = re.search(r"token (\d+) for", r.stderr)
        check(m, "token add: no id in %r" % r.stderr)
        return int(m.group(1))

    def setup(self):
        env, port = self.env, self.fake.port
        url = lambda k, s: "rtsp://127.0.0.1:%d/cam%d/%s" % (port, k, s)
        self.names = {"A": "alpha-own-cam", "B": "bravo-forbidden-cam", "C": "charlie-othersite-cam"}
        self.A = env.add_camera(self.names["A"], url(1, "main"), url(1, "sub"))
        self.B = env.add_camera(self.names["B"], url(2, "main"), url(2, "sub"))
        out = env.cli("site", "add", "other").stdout  # "site ID NAME key ..."
        check(out.startswith("site ") and out.split()[2] == "other", "site add: %r" % out)
        self.site2 = int(out.split()[1])
        self.C = env.add_camera(self.names["C"], url(3, "main"), url(3, "sub"), "--site", str(self.site2))
        # one user per role in site 1, seeing only A (B is denied explicitly for some)
        self.users = {}
        for role in ["viewer", "auditor", "operator", "investigator", "admin"]:
            name = "m-" + role
            self.users[role] = self.cli_user(name, role, "--granted-only")
            self.grant(name, self.A)
            if role in ("admin", "operator"):
                self.grant(name, self.B, deny=True)
        # another site's user (sees all of its site), a bystander of site 1 that denied requests
        # aim at, and an owner of tokens
        self.s2_name = "zulu-othersite-user"
        self.s2 = self.cli_user(self.s2_name, "viewer", "--site", str(self.site2))
        self.bystander = self.cli_user("m-bystander", "viewer")
        self.cli_user("m-tokowner", "viewer")
        # the other site's investigator, who opens its case and exports its camera
        self.s2_inv_name = "yankee-othersite-investigator"
        self.cli_user(self.s2_inv_name, "investigator", "--site", str(self.site2))
        env.start()
        self.principals = [Principal("nobody"),
                           Principal("forged-cookie", cookie="A" * 43, csrf="x"),
                           Principal("forged-token", headers={"Authorization": "Bearer " + "B" * 43})]
        for role in ["viewer", "auditor", "operator", "investigator", "admin"]:  # admin last
            cookie, csrf = login(env, "m-" + role)
            self.principals.append(Principal("m-" + role, role, self.users[role], cookie, csrf))
        # recordings of A, B and C: segment ids and a time range inside them
        self.segs = {}
        for key, cam in (("A", self.A), ("B", self.B), ("C", self.C)):
            def done(cam=cam):
                s = [x for x in env.segments(cam) if x["status"] == "complete" and x["stream"] == "main"]
                return s and s[0]
            self.segs[key] = poll(done, 40, "a complete segment of camera %s" % key)
        self.seg_start = utc_us(self.segs["A"]["start"])
        # motion events with a thumbnail of A, B and C (the fake cameras' picture moves)
        self.events = {}
        for key, cam in (("A", self.A), ("B", self.B), ("C", self.C)):
            def event(cam=cam):
                with sqlite3.connect(env.catalog, timeout=10) as db:
                    row = db.execute("SELECT id FROM motion_events WHERE camera_id = ? AND thumb IS NOT NULL"
                                     " ORDER BY id LIMIT 1", (cam,)).fetchone()
                return row and row[0]
            self.events[key] = poll(event, 40, "a motion event with a thumbnail of camera %s" % key)
        poll(lambda: env.api("GET", "/api/v1/cameras/%d/state" % self.A)["sub"]["live"], 20, "A's sub stream live")
        self.setup_evidence()

    def range_of(self, key, a=0.5, b=2.5):
        """An item or export range inside the first recorded segment of camera key."""
        cam = {"A": self.A, "B": self.B, "C": self.C}[key]
        t = utc_us(self.segs[key]["start"])
        return {"camera_id": cam, "start": rfc(t + a * 1e6), "end": rfc(t + b * 1e6)}

    def s2_api(self, method, path, body=None, expect=200):
        st, _, data = request(self.env, method, path, body, {"Authorization": "Bearer " + self.s2_token})
        check(st == expect, "%s %s as the other site's investigator: %d %s" % (method, path, st, data[:200]))
        return json.loads(data)

    def wait_export(self, jid, api=None):
        api = api or self.env.api
        return poll(lambda: api("GET", "/api/v1/exports/%d" % jid)["state"] in ("done", "failed"), 60,
                    "export %d to finish" % jid)

    def setup_evidence(self):
        """Site 1's case (an item of A that stays locked, one of B that the principals may not
        see), the other site's case, and exports of A, B and C (A's finished)."""
        env = self.env
        case = env.api("POST", "/api/v1/cases", {"reference": "matrix-own-case", "title": "t", "reason": "r"},
                       expect=201)
        self.own_case = case["id"]
        self.own_item = env.api("POST", "/api/v1/cases/%d/items" % self.own_case, self.range_of("A"),
                                expect=201)["item_list"][-1]["id"]
        self.hidden_item = env.api("POST", "/api/v1/cases/%d/items" % self.own_case, self.range_of("B"),
                                   expect=201)["item_list"][-1]["id"]
        self.s2_token = env.make_token(self.s2_inv_name)
        self.s2_case = self.s2_api("POST", "/api/v1/cases", {"reference": "xray-othersite-case",
                                                             "title": "xray-othersite-title", "reason": "r"}, 201)["id"]
        self.s2_item = self.s2_api("POST", "/api/v1/cases/%d/items" % self.s2_case, self.range_of("C"),
                                   201)["item_list"][-1]["id"]
        self.exports = {
            "A": env.api("POST", "/api/v1/exports", {"items": [self.range_of("A")], "reason": "matrix"}, expect=202)["id"],
            "B": env.api("POST", "/api/v1/exports", {"items": [self.range_of("B")], "reason": "bravo-forbidden-export"},
                         expect=202)["id"],
            "C": self.s2_api("POST", "/api/v1/exports", {"items": [self.range_of("C")],
                                                         "reason": "xray-othersite-export"}, 202)["id"]}
        self.throwaway_exports = []
        for key in "ABC":
            self.wait_export(self.exports[key], None if key != "C" else lambda m, p: self.s2_api(m, p))
        check(env.api("GET", "/api/v1/exports/%d" % self.exports["A"])["state"] == "done", "A's export failed")

    # ---- one cell ----

    def object_id(self, kind, case, principal, method, pattern="", allowed=False):
        """The id for {id}; for cells that would change something, a throwaway object."""
        env = self.env
        if kind == "camera":
            if case == "own" and method == "DELETE":
                # a throwaway camera of site 1 granted to the principal: the admin's cell deletes it
                c = env.api("POST", "/api/v1/cameras", {"name": self.uniq("throwaway-cam"), "enabled": False,
                                                        "main_url": "rtsp://127.0.0.1:%d/cam4/main" % self.fake.port},
                            expect=201)
                if principal.role:
                    self.grant(principal.name, c["id"])
                self.throwaway_cams.append(c["id"])
                return c["id"]
            return {"missing": MISSING, "own": self.A, "forbidden": self.B, "other-site": self.C}[case]
        if kind == "user":
            if case == "same-site" and method in ("DELETE", "PATCH", "PUT"):
                if principal.role == "admin" and method == "DELETE":
                    return self.cli_user(self.uniq("throwaway-user"), "viewer")  # deleted or its sessions revoked
                return self.bystander  # refused (or a body made to fail validation): must stay unchanged
            return {"missing": MISSING, "same-site": self.bystander, "other-site": self.s2}[case]
        if kind == "token":
            if case == "own":
                if not principal.role:
                    return self.cli_token("m-tokowner")
                st, _, data = request(env, "POST", "/api/v1/tokens", {"name": self.uniq("own"), "scopes": ["cameras.read"]},
                                      principal.headers("POST"))
                check(st == 201, "%s: token create %d %s" % (principal.name, st, data[:200]))
                return json.loads(data)["id"]
            if case == "same-site":
                return self.cli_token("m-tokowner")
            if case == "other-site":
                return self.cli_token(self.s2_name)
            return MISSING
        if kind == "event":
            return {"missing": MISSING, "own": self.events["A"], "forbidden": self.events["B"],
                    "other-site": self.events["C"]}[case]
        if kind == "case":
            if case == "own" and allowed and pattern.endswith("/close"):
                # a throwaway case of site 1 to close; refused cells aim at the own case, which stays open
                return env.api("POST", "/api/v1/cases", {"reference": self.uniq("throwaway-case"), "title": "t",
                                                         "reason": "r"}, expect=201)["id"]
            return {"missing": MISSING, "own": self.own_case, "other-site": self.s2_case}[case]
        if kind == "export":
            if case == "own" and allowed and method == "DELETE":
                # a throwaway export of A, finished (a queued or running one cannot be deleted)
                jid = env.api("POST", "/api/v1/exports", {"items": [self.range_of("A", 0.5, 1)], "reason": "throwaway"},
                              expect=202)["id"]
                self.throwaway_exports.append(jid)
                self.wait_export(jid)
                return jid
            return {"missing": MISSING, "own": self.exports["A"], "forbidden": self.exports["B"],
                    "other-site": self.exports["C"]}[case]
        return None

    def item_id(self, case, allowed):
        """The id for {item} of a case: for an allowed release, a throwaway item of A in the own
        case; otherwise the own case's item that must stay locked, or the other site's item."""
        if case == "own" and allowed:
            d = self.env.api("POST", "/api/v1/cases/%d/items" % self.own_case, self.range_of("A", 0.2, 0.4),
                             expect=201)
            return d["item_list"][-1]["id"]
        return {"missing": MISSING, "own": self.own_item, "other-site": self.s2_item}[case]

    def fill(self, pattern, oid, case, item=None):
        path = pattern.replace("{id}", str(oid)).replace("{stream}", "main").replace("{item}", str(item))
        if "{segment}" in path:
            seg = self.segs.get({"own": "A", "forbidden": "B", "other-site": "C"}.get(case, "A"))
            path = path.replace("{segment}", str(seg["id"]))
        return path

    def expected(self, access, obj, principal, case):
        """'ok', or the (status, code) the rules demand."""
        if access == "public":
            return "ok"
        if not principal.role:
            return (401, "unauthorized")
        if access != "session" and access not in ROLE_ACCESS[principal.role]:
            return (403, "forbidden")
        if obj in ("camera", "event", "case", "export") and case != "own":
            return (404, "not_found")
        if obj == "user" and case != "same-site":
            return (404, "not_found")
        if obj == "token" and not (case == "own" or (case == "same-site" and principal.role == "admin")):
            return (404, "not_found")
        return "ok"

    def fail(self, msg):
        self.failures.append(msg)

    def cell(self, route, principal, case, spec, missing_body):
        method, pattern, access, obj = route
        want = self.expected(access, obj, principal, case)
        oid = self.object_id(obj, case, principal, method, pattern, want == "ok")
        item = self.item_id(case, want == "ok") if "{item}" in pattern else None
        path = self.fill(pattern, oid, case, item)
        query, body, extra, ok = spec(self, principal, oid) if spec else generic(method)
        h = principal.headers(method)
        h.update(extra)
        st, hd, data = request(self.env, method, path + query, body, h)
        self.cells += 1
        where = "%s %s as %s (%s)" % (method, path + query, principal.name, case or "no object")
        self.no_leak(principal, route, where, data)
        if want == "ok":
            if spec is None:  # a route this test has no request for: at least not refused
                if st in (401, 403) or (st == 404 and missing_body is not None and data == missing_body):
                    self.fail("%s: allowed by the rules, got %d %s" % (where, st, data[:200]))
            elif st not in ok:
                self.fail("%s: allowed by the rules, expected %s, got %d %s" % (where, sorted(ok), st, data[:200]))
            return st, data
        self.refused.append((principal.name if principal.role else "", "%s %s" % (method, path)))
        code = None
        try:
            code = json.loads(data)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            pass
        if (st, code) != want:
            self.fail("%s: expected %d %s, got %d %s" % (where, want[0], want[1], st, data[:200]))
        elif st == 401 and "www-authenticate" not in hd:
            self.fail("%s: 401 without WWW-Authenticate" % where)
        elif st == 404 and missing_body is not None and data != missing_body:
            self.fail("%s: 404 body %r differs from a missing id's %r" % (where, data, missing_body))
        return st, data

    def no_leak(self, principal, route, where, data):
        # the other site's camera, users, case and export ("xray-othersite-...")
        secret = [self.names["C"], self.s2_name, self.s2_inv_name, "xray-othersite"]
        # The site's audit trail records what happened to every camera of the site (B's
        # "camera.add" and the export of B included); whether an auditor's view is filtered by
        # grants is not a rule here, so B's name is only checked outside the audit routes.
        if not route[1].startswith("/api/v1/audit"):
            secret += [self.names["B"], "bravo-forbidden-export"]
        for s in secret:
            if s.encode() in data:
                self.fail("%s: the answer names %r, which %s must not see" % (where, s, principal.name))

    # ---- the whole matrix ----

    def run(self, routes):
        for route in routes:
            method, pattern, access, obj = route
            spec = SPECS.get((method, pattern))
            if spec is None:
                print("note: no request recipe for %s %s: checked with a generic request" % (method, pattern))
            for p in self.principals:
                missing_body = None
                for case in CASES[obj]:
                    st, data = self.cell(route, p, case, spec, missing_body)
                    if case == "missing" and st == 404:
                        missing_body = data

    def check_lists(self):
        """GET /api/v1/cameras lists exactly the visible cameras; GET /api/v1/users only the site's."""
        for cid in self.throwaway_cams:  # the ones the refused DELETE cells left behind
            st, _, _ = self.env.http("DELETE", "/api/v1/cameras/%d" % cid)
            check(st in (204, 404), "removing throwaway camera %d: %d" % (cid, st))
        for p in self.principals:
            if not p.role:
                continue
            st, _, data = request(self.env, "GET", "/api/v1/cameras", headers=p.headers("GET"))
            names = sorted(c["name"] for c in json.loads(data)["cameras"]) if st == 200 else st
            check(names == [self.names["A"]], "%s lists cameras %s, expected only A" % (p.name, names))
            if "playback" in ROLE_ACCESS[p.role]:
                # motion events: only A's, also when B and C are asked for by id
                for q in ("", "?camera=%d,%d,%d" % (self.A, self.B, self.C)):
                    st, _, data = request(self.env, "GET", "/api/v1/events" + q, headers=p.headers("GET"))
                    cams = {e["camera"] for e in json.loads(data)["events"]} if st == 200 else st
                    check(cams == {self.A}, "%s: events%s of cameras %s, expected only A" % (p.name, q, cams))
            if "cases.read" in ROLE_ACCESS[p.role]:
                # the site's cases, whatever their cameras; never the other site's
                st, _, data = request(self.env, "GET", "/api/v1/cases", headers=p.headers("GET"))
                ids = {c["id"] for c in json.loads(data)["cases"]} if st == 200 else st
                check(isinstance(ids, set) and self.own_case in ids and self.s2_case not in ids,
                      "%s lists cases %s (own %d, other site's %d)" % (p.name, ids, self.own_case, self.s2_case))
            if "export" in ROLE_ACCESS[p.role]:
                # exports of visible cameras only
                st, _, data = request(self.env, "GET", "/api/v1/exports", headers=p.headers("GET"))
                ids = {e["id"] for e in json.loads(data)["exports"]} if st == 200 else st
                check(isinstance(ids, set) and self.exports["A"] in ids and not ids & {self.exports["B"], self.exports["C"]},
                      "%s lists exports %s (A %s)" % (p.name, ids, self.exports))
            if "users.read" in ROLE_ACCESS[p.role]:
                users = json.loads(request(self.env, "GET", "/api/v1/users", headers=p.headers("GET"))[2])["users"]
                check(users and all(u["site"] == 1 for u in users) and self.s2_name not in [u["name"] for u in users],
                      "%s lists users of another site: %s" % (p.name, users))
        # the other site's user sees only C; an all-cameras administrator of site 1 sees A and B, never C
        cookie, csrf = login(self.env, self.s2_name)
        s2 = Principal(self.s2_name, "viewer", self.s2, cookie, csrf)
        names = sorted(c["name"] for c in json.loads(request(self.env, "GET", "/api/v1/cameras",
                                                             headers=s2.headers("GET"))[2])["cameras"])
        check(names == [self.names["C"]], "the other site's user lists %s" % names)
        st, _, data = request(self.env, "GET", "/api/v1/cameras/%d" % self.A, headers=s2.headers("GET"))
        check(st == 404, "the other site's user reads camera A: %d" % st)
        names = [c["name"] for c in self.env.api("GET", "/api/v1/cameras")["cameras"]]
        check(self.names["A"] in names and self.names["B"] in names and self.names["C"] not in names,
              "site 1's all-cameras administrator lists %s" % names)

    def check_mux(self):
        """A forbidden or other-site camera in the live multiplex reads exactly like a missing one."""
        q = "/api/v1/live?streams=%d:sub,%d:sub,%d:sub,%d:sub" % (self.A, self.B, self.C, MISSING)
        for p in self.principals:
            if not p.role or "live.many" not in ROLE_ACCESS[p.role]:
                continue
            states = read_mux(self.env, q, p.headers("GET"), lambda s: all(i in s for i in range(4)))
            first = json.loads(states[0][0])
            check(first["state"] == "live", "%s: camera A in the multiplex: %s" % (p.name, first))
            missing = states[3]
            check(json.loads(missing[0])["state"] == "not_found", "%s: missing camera: %s" % (p.name, missing))
            for i, what in ((1, "forbidden B"), (2, "other-site C")):
                check(states[i] == missing, "%s: %s in the multiplex: %s, a missing one: %s"
                      % (p.name, what, states[i], missing))

    def body_refusals(self, p, method, path, bodies):
        """Each body names a missing, a forbidden or an other-site object: all answers must be
        404 with the body of the first (the missing one)."""
        answers = []
        for body in bodies:
            st, _, data = request(self.env, method, path, body, p.headers(method))
            where = "%s %s %s as %s" % (method, path, json.dumps(body), p.name)
            self.no_leak(p, (method, path), where, data)
            answers.append((st, data))
            check(st == 404 and data == answers[0][1], "%s: %d %s, a missing object's: %d %s"
                  % (where, st, data[:200], answers[0][0], answers[0][1][:200]))

    def check_evidence_bodies(self):
        """Cameras, events, items and cases named in a body: a forbidden or other-site one reads
        exactly like a missing one; a case with footage the principal may not export is refused."""
        case = "/api/v1/cases/%d" % self.own_case
        rng = lambda cam: dict(self.range_of("A"), camera_id=cam)  # noqa: E731
        for p in self.principals:
            if not p.role:
                continue
            can = ROLE_ACCESS[p.role]
            if "cases.read" in can:
                st, _, data = request(self.env, "GET", case, headers=p.headers("GET"))
                d = json.loads(data)
                check(st == 200 and d["hidden_items"] >= 1 and all(i["camera_id"] == self.A for i in d["item_list"]),
                      "%s: the own case shows %s" % (p.name, d))
            if "cases" in can:
                self.body_refusals(p, "POST", case + "/items", [rng(MISSING), rng(self.B), rng(self.C)])
                self.body_refusals(p, "POST", case + "/items", [{"event_id": MISSING}, {"event_id": self.events["B"]},
                                                                {"event_id": self.events["C"]}])
            if "release" in can:
                # the item is in the path, the case being the principal's own
                answers = [request(self.env, "POST", "%s/items/%d/release" % (case, i), {"reason": "matrix"},
                                   p.headers("POST")) for i in (MISSING, self.hidden_item, self.s2_item)]
                check(all(a[0] == 404 and a[2] == answers[0][2] for a in answers),
                      "%s: releasing a missing, a hidden and another site's item: %s" % (p.name, [a[::2] for a in answers]))
            if "export" in can:
                self.body_refusals(p, "POST", "/api/v1/exports",
                                   [{"items": [rng(cam)], "reason": "matrix"} for cam in (MISSING, self.B, self.C)])
                self.body_refusals(p, "POST", "/api/v1/exports",
                                   [{"case_id": cid, "reason": "matrix"} for cid in (MISSING, self.s2_case)])
                # the own case holds an item of B: refused, whoever asks in site 1 (B is denied or not granted)
                st, _, data = request(self.env, "POST", "/api/v1/exports", {"case_id": self.own_case, "reason": "matrix"},
                                      p.headers("POST"))
                check(st == 403 and json.loads(data)["error"]["code"] == "forbidden",
                      "%s: export of a case with footage of B: %d %s" % (p.name, st, data[:200]))
        self.env.api("GET", "/api/v1/cases/%d" % self.s2_case, expect=404)  # site 1's administrator

    def check_unchanged(self):
        """Refused requests changed nothing: the bystander, camera A and the principals' sessions."""
        u = self.env.api("GET", "/api/v1/users/%d" % self.bystander)
        check(u["role"] == "viewer" and not u["disabled"] and u["all_cameras"] and not u["grants"],
              "the bystander user was changed by refused requests: %s" % u)
        a = self.env.api("GET", "/api/v1/cameras/%d" % self.A)
        check(a["name"] == self.names["A"] and a["enabled"], "camera A was changed: %s" % a)
        # the own case is open, its two first items locked; items were added only by allowed principals
        c = self.env.api("GET", "/api/v1/cases/%d" % self.own_case)
        locked = {i["id"]: i["locked"] for i in c["item_list"]}
        check(c["state"] == "open" and locked[self.own_item] and locked[self.hidden_item],
              "the own case was changed by refused requests: %s" % c)
        adders = {p.id for p in self.principals if p.role and "cases" in ROLE_ACCESS[p.role]}
        admin_id = self.env.api("GET", "/api/v1/session")["user"]["id"]
        check({i["added_by"] for i in c["item_list"]} <= adders | {admin_id},
              "items added by principals without the permission: %s" % c["item_list"])
        s2 = self.s2_api("GET", "/api/v1/cases/%d" % self.s2_case)
        check(s2["state"] == "open" and s2["locked_items"] == 1, "the other site's case was changed: %s" % s2)
        # the exports aimed at survive; the throwaway ones are gone
        for key in "AB":
            self.env.api("GET", "/api/v1/exports/%d" % self.exports[key])
        self.s2_api("GET", "/api/v1/exports/%d" % self.exports["C"])
        for jid in self.throwaway_exports:
            self.env.api("GET", "/api/v1/exports/%d" % jid, expect=404)
        self.env.api("GET", "/api/v1/cameras/%d" % self.B)
        for p in self.principals:
            if p.role:
                st, _, data = request(self.env, "GET", "/api/v1/session", headers=p.headers("GET"))
                check(st == 200 and json.loads(data)["user"]["name"] == p.name,
                      "%s's session no longer works after the matrix: %s" % (p.name, data[:200]))

    def check_audit(self):
        """Every refusal is in the audit trail as access.denied."""
        seen, n, before = set(), 0, None
        while True:
            q = "/api/v1/audit?action=access.denied&limit=1000" + ("&before=%d" % before if before else "")
            page = self.env.api("GET", q)
            seen.update((e["user"], e["object"]) for e in page["entries"])
            n += len(page["entries"])
            before = page["next_before"]
            if not before:
                break
        check(n >= len(self.refused), "%d access.denied entries for %d refusals" % (n, len(self.refused)))
        missing = sorted({x for x in self.refused if x not in seen})
        check(not missing, "%d refusals not audited (user, request), such as %s" % (len(missing), missing[:5]))


# ---- request recipes: query, body, extra headers, and the statuses that mean "the handler ran" ----

def generic(method):
    return "", ({} if method in ("POST", "PATCH", "PUT") else None), {}, None


def time_range(m, a=0.5, b=2.5):
    return "?from=%s&to=%s" % (rfc(m.seg_start + a * 1e6), rfc(m.seg_start + b * 1e6))


def weak_password(m, p, oid):
    # the principal's right password and a new one too short: refused by validation, nothing changes
    return "", {"current": PASSWORD, "new": "short"}, {}, {400}


def logout(m, p, oid):
    return "", None, {}, {200}


SPECS = {
    ("GET", "/api/v1/health"): lambda m, p, oid: ("", None, {}, {200}),
    # public routes with an empty body: refused by their own validation (400)
    ("POST", "/api/v1/login"): lambda m, p, oid: ("", {}, {}, {400}),
    ("GET", "/api/v1/session"): lambda m, p, oid: ("", None, {}, {200}),
    ("POST", "/api/v1/setup"): lambda m, p, oid: ("", {}, {}, {400}),
    ("POST", "/api/v1/logout"): logout,  # run on a throwaway session, see Matrix.run_logout
    ("POST", "/api/v1/session/password"): weak_password,
    ("GET", "/api/v1/openapi.json"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/site"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/cameras"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: main_url missing
    ("POST", "/api/v1/cameras"): lambda m, p, oid: ("", {"name": "never-created"}, {}, {400}),
    ("GET", "/api/v1/cameras/{id}"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: an unknown field
    ("PATCH", "/api/v1/cameras/{id}"): lambda m, p, oid: ("", {"no_such_field": 1}, {}, {400}),
    # a throwaway camera (Matrix.object_id)
    ("DELETE", "/api/v1/cameras/{id}"): lambda m, p, oid: ("", None, {}, {204}),
    ("GET", "/api/v1/cameras/{id}/state"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/cameras/{id}/recordings"): lambda m, p, oid: (time_range(m, 0, 3), None, {}, {200}),
    ("GET", "/api/v1/cameras/{id}/loss"): lambda m, p, oid: (time_range(m, 0, 3), None, {}, {200}),
    ("GET", "/api/v1/cameras/{id}/live/{stream}.mp4"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/live"): lambda m, p, oid: ("?streams=%d:sub" % m.A, None, {}, {200}),
    ("GET", "/api/v1/cameras/{id}/snapshot.jpg"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/cameras/{id}/playback/{stream}.m3u8"): lambda m, p, oid: (time_range(m, 0, 3), None, {}, {200}),
    ("GET", "/api/v1/cameras/{id}/segments/{segment}.mp4"): lambda m, p, oid: ("", None, {"Range": "bytes=0-99"}, {206}),
    ("GET", "/api/v1/cameras/{id}/download.mp4"): lambda m, p, oid: (time_range(m), None, {}, {200}),
    ("GET", "/api/v1/users"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: role and password missing
    ("POST", "/api/v1/users"): lambda m, p, oid: ("", {"name": "never-created"}, {}, {400}),
    ("GET", "/api/v1/users/{id}"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: an unknown field (on the bystander, which must stay unchanged)
    ("PATCH", "/api/v1/users/{id}"): lambda m, p, oid: ("", {"no_such_field": True}, {}, {400}),
    # a throwaway user (Matrix.object_id)
    ("DELETE", "/api/v1/users/{id}"): lambda m, p, oid: ("", None, {}, {204}),
    # validation: grants is not a list
    ("PUT", "/api/v1/users/{id}/grants"): lambda m, p, oid: ("", {"grants": "all"}, {}, {400}),
    # a throwaway user's sessions (Matrix.object_id)
    ("DELETE", "/api/v1/users/{id}/sessions"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/tokens"): lambda m, p, oid: ("", None, {}, {200}),
    ("POST", "/api/v1/tokens"): lambda m, p, oid: ("", {"name": "matrix", "scopes": ["cameras.read"]}, {}, {201}),
    # one's own token made for the cell, or another user's made for it
    ("DELETE", "/api/v1/tokens/{id}"): lambda m, p, oid: ("", None, {}, {204}),
    ("GET", "/api/v1/cameras/{id}/zones"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: a polygon of two points
    ("PUT", "/api/v1/cameras/{id}/zones"): lambda m, p, oid: ("", {"zones": [{"name": "z", "kind": "detect",
                                                                              "points": [[0, 0], [1, 1]]}]}, {}, {400}),
    ("GET", "/api/v1/cameras/{id}/activity"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/events"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/events/{id}/thumbnail.jpg"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/audit"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/audit.csv"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/site/key.pub"): lambda m, p, oid: ("", None, {}, {200}),
    ("GET", "/api/v1/cases"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: reason missing
    ("POST", "/api/v1/cases"): lambda m, p, oid: ("", {"reference": "never-created", "title": "t"}, {}, {400}),
    ("GET", "/api/v1/cases/{id}"): lambda m, p, oid: ("", None, {}, {200}),
    # a real item of A: each allowed cell locks a little more of A
    ("POST", "/api/v1/cases/{id}/items"): lambda m, p, oid: ("", dict(m.range_of("A", 1, 2), note=p.name), {}, {201}),
    # a throwaway item of the own case (Matrix.item_id)
    ("POST", "/api/v1/cases/{id}/items/{item}/release"): lambda m, p, oid: ("", {"reason": "matrix"}, {}, {200}),
    # a throwaway case (Matrix.object_id)
    ("POST", "/api/v1/cases/{id}/close"): lambda m, p, oid: ("", {"reason": "matrix"}, {}, {200}),
    ("GET", "/api/v1/exports"): lambda m, p, oid: ("", None, {}, {200}),
    # validation: reason missing
    ("POST", "/api/v1/exports"): lambda m, p, oid: ("", {"items": [m.range_of("A")]}, {}, {400}),
    ("GET", "/api/v1/exports/{id}"): lambda m, p, oid: ("", None, {}, {200}),
    # a throwaway finished export (Matrix.object_id)
    ("DELETE", "/api/v1/exports/{id}"): lambda m, p, oid: ("", None, {}, {204}),
    ("GET", "/api/v1/exports/{id}/package.zip"): lambda m, p, oid: ("", None, {}, {200}),
}


def run_matrix(m, routes):
    """The matrix, with logout on a throwaway session of each principal so that the principal's
    own session lives on."""
    logout_routes = [r for r in routes if r[:2] == ("POST", "/api/v1/logout")]
    m.run([r for r in routes if r not in logout_routes])
    for route in logout_routes:
        for p in m.principals:
            q = p
            if p.role:
                cookie, csrf = login(m.env, p.name)
                q = Principal(p.name, p.role, p.id, cookie, csrf)
            m.cell(route, q, None, SPECS.get(route[:2]), None)
            if p.role:
                st, _, _ = request(m.env, "GET", "/api/v1/tokens", headers=q.headers("GET"))
                check(st == 401, "%s: the session still works after logout: %d" % (p.name, st))


def test_access():
    env = Env("access", segment_seconds=4)
    try:
        routes = print_routes()
        unknown = [r for r in routes if r[2] not in KNOWN_ACCESS or r[3] not in KNOWN_OBJECTS]
        check(not unknown, "new route(s) without a rule in this test: %s" % unknown)
        check(len(set(r[:2] for r in routes)) == len(routes), "a route is listed twice")
        fake = env.fakecam(4)
        m = Matrix(env, fake)
        m.setup()
        t0 = time.monotonic()
        run_matrix(m, routes)
        if m.failures:
            raise TestFailure("%d of %d cells wrong:\n  %s" % (len(m.failures), m.cells, "\n  ".join(m.failures[:40])))
        print("matrix: %d routes, %d principals, %d cells, %d refusals in %.1f s"
              % (len(routes), len(m.principals), m.cells, len(m.refused), time.monotonic() - t0))
        m.check_lists()
        m.check_mux()
        m.check_evidence_bodies()
        m.check_unchanged()
        m.check_audit()
        check(env.daemon.alive(), "sargasd died")
        st, _, _ = request(env, "GET", "/api/v1/health")
        check(st == 200, "health after the matrix: %d" % st)
        log = env.daemon.text()
        bad = [ln for ln in log.splitlines() if "ERROR" in ln or "Sanitizer" in ln or "runtime error" in ln]
        check(not bad, "errors in the daemon log:\n%s" % "\n".join(bad[-20:]))
        env.stop()
    finally:
        env.close()


if __name__ == "__main__":
    run(test_access)
