#!/usr/bin/env python3
"""Accounts against a running sargasd: console login and its cookie, CSRF, sessions that end
(logout, expiry, idleness, revocation, a disabled user, a new password), API tokens (scope,
revocation, hashed at rest), the last administrator, the failed-login limits per account and
per client address, hostile input on every parameter of the account endpoints, the Argon2id
rehash at login, and the first administrator made with the one-time setup token.

Clients connect from different loopback addresses (127.0.x.y) so that each part of the test
has its own per-address failure count."""
import hashlib
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Env, check, poll, run  # noqa: E402

PW = "correct-horse-battery-1"
ADMIN_PW = Env.ADMIN_PASSWORD
HASH_RE = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def request(env, method, path, body=None, headers=None, source="127.0.0.1", timeout=30):
    """One HTTP request from the given loopback address, with no credentials but those in
    headers. Returns (status, headers as a lower-case dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=timeout, source_address=(source, 0))
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def error_code(data):
    try:
        e = json.loads(data)["error"]
        return e["code"] if isinstance(e.get("message"), str) and e["message"] else None
    except (ValueError, KeyError, TypeError):
        return None


def expect(res, status, code=None, what=""):
    st, hd, data = res
    check(st == status and (code is None or error_code(data) == code),
          "%s: expected %d %s, got %d %s" % (what, status, code or "", st, data[:300]))
    if st >= 400:
        check(hd.get("content-type", "").startswith("application/json") and error_code(data),
              "%s: %d without a JSON error: %s" % (what, st, data[:300]))
    return res


def bearer(token):
    return {"Authorization": "Bearer " + token}


class Session:
    """A console session: the cookie and the CSRF token from POST /api/v1/login."""

    def __init__(self, env, user, password=PW, source="127.0.0.1"):
        self.env, self.user, self.source = env, user, source
        st, hd, data = request(env, "POST", "/api/v1/login", {"user": user, "password": password}, source=source)
        check(st == 200, "login %s from %s: %d %s" % (user, source, st, data[:300]))
        self.set_cookie = hd.get("set-cookie", "")
        m = re.match(r"sargas_session=([A-Za-z0-9_-]+);", self.set_cookie)
        check(m, "login %s: no session cookie in %r" % (user, self.set_cookie))
        self.cookie = m.group(1)
        self.doc = json.loads(data)
        self.csrf = self.doc["csrf"]

    def call(self, method, path, body=None, csrf=True, headers=None):
        h = {"Cookie": "sargas_session=" + self.cookie}
        if csrf is True and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            h["X-CSRF-Token"] = csrf
        h.update(headers or {})
        return request(self.env, method, path, body, h, source=self.source)

    def works(self):
        """Whether the session is still accepted (GET /api/v1/tokens needs a principal)."""
        st, _, data = self.call("GET", "/api/v1/tokens")
        check(st in (200, 401), "GET /api/v1/tokens as %s: %d %s" % (self.user, st, data[:200]))
        if st == 401:
            check(error_code(data) == "unauthorized", "401 with code %s" % error_code(data))
        return st == 200


def login_status(env, user, password, source):
    st, hd, data = request(env, "POST", "/api/v1/login", {"user": user, "password": password}, source=source)
    check(st in (200, 400, 401, 429), "login %s: %d %s" % (user, st, data[:200]))
    return st, hd, data


def db(env):
    c = sqlite3.connect(env.catalog, timeout=15)
    return c


def db_exec(env, sql, args=()):
    c = db(env)
    try:
        with c:
            return c.execute(sql, args).rowcount
    finally:
        c.close()


def db_rows(env, sql, args=()):
    c = db(env)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def catalog_bytes(env):
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(env.catalog + suffix):
            with open(env.catalog + suffix, "rb") as f:
                data += f.read()
    return data


def now_us():
    return int(time.time() * 1e6)


def sha256(s):
    return hashlib.sha256(s.encode()).digest()


class Addr:
    """Fresh client addresses: 127.<block>.<n>.<m>."""

    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return "127.0.%d.%d" % (10 + self.n // 250, 1 + self.n % 250)


# ---- parts ----

def part_login_and_cookie(env, ids, addr):
    st, _, data = request(env, "GET", "/api/v1/session")
    check(st == 200 and json.loads(data) == {"user": None, "setup_required": False},
          "session probe without a session: %d %s" % (st, data))
    a = addr.next()
    s = Session(env, "alice", source=a)
    attrs = [x.strip() for x in s.set_cookie.split(";")]
    check(attrs[0].startswith("sargas_session=") and len(s.cookie) >= 40, "cookie value: %r" % attrs[0])
    check({"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=%d" % (2 * 3600)} <= set(attrs[1:]),
          "cookie attributes: %r" % s.set_cookie)
    check(not any(x.lower() == "secure" for x in attrs), "Secure without TLS: %r" % s.set_cookie)
    doc = s.doc
    check(doc["user"]["name"] == "alice" and doc["user"]["role"] == "operator" and doc["user"]["id"] == ids["alice"],
          "session document: %s" % doc)
    check(isinstance(doc["csrf"], str) and len(doc["csrf"]) >= 32 and doc["csrf"] != s.cookie, "csrf: %s" % doc)
    check("$argon2" not in json.dumps(doc) and "pw_hash" not in json.dumps(doc), "the hash in the session document")
    st, _, data = s.call("GET", "/api/v1/session")
    probe = json.loads(data)
    check(st == 200 and probe["user"]["name"] == "alice" and probe["csrf"] == s.csrf, "session probe: %s" % probe)
    s2 = Session(env, "alice", source=a)
    check(s2.cookie != s.cookie and s2.csrf != s.csrf, "two logins share a cookie or CSRF token")
    # unknown user and wrong password: one answer
    r1 = expect(request(env, "POST", "/api/v1/login", {"user": "no-such-user", "password": PW}, source=a),
                401, "login_failed", "unknown user")
    r2 = expect(request(env, "POST", "/api/v1/login", {"user": "alice", "password": PW + "x"}, source=a),
                401, "login_failed", "wrong password")
    check(r1[2] == r2[2], "unknown user %r and wrong password %r answer differently" % (r1[2], r2[2]))
    check("set-cookie" not in r1[1] and "set-cookie" not in r2[1], "a failed login set a cookie")
    return s


def part_csrf(env, ids, addr, alice):
    adm = Session(env, "admin", ADMIN_PW, source=addr.next())
    tokens = lambda: len(json.loads(adm.call("GET", "/api/v1/tokens")[2])["tokens"])
    n = tokens()
    for what, csrf in (("no", None), ("a wrong", "x" * 43), ("another session's", alice.csrf), ("an empty", "")):
        expect(adm.call("POST", "/api/v1/tokens", {"name": "csrf-test"}, csrf=csrf), 403, "csrf",
               "POST /api/v1/tokens with %s CSRF token" % what)
    check(tokens() == n, "a refused POST /api/v1/tokens made a token")
    u = "/api/v1/users/%d" % ids["bob"]
    expect(adm.call("PATCH", u, {"disabled": True}, csrf=None), 403, "csrf", "PATCH user without CSRF")
    expect(adm.call("PUT", u + "/grants", {"grants": []}, csrf=None), 403, "csrf", "PUT grants without CSRF")
    expect(adm.call("DELETE", u + "/sessions", csrf=None), 403, "csrf", "DELETE sessions without CSRF")
    expect(adm.call("DELETE", u, csrf="nope"), 403, "csrf", "DELETE user with a wrong CSRF token")
    expect(adm.call("POST", "/api/v1/users", {"name": "csrf-made", "role": "admin", "password": PW}, csrf=None),
           403, "csrf", "POST user without CSRF")
    bob = env.api("GET", u)
    check(not bob["disabled"] and bob["role"] == "viewer", "refused requests changed bob: %s" % bob)
    check("csrf-made" not in [x["name"] for x in env.api("GET", "/api/v1/users")["users"]], "user made without CSRF")
    expect(alice.call("POST", "/api/v1/logout", csrf=None), 403, "csrf", "logout without CSRF")
    check(alice.works(), "a refused logout ended the session")
    # a GET needs none; with the right one the change goes through; a bearer token needs none
    expect(adm.call("PATCH", u, {"all_cameras": False}), 200, None, "PATCH with CSRF")
    expect(request(env, "PATCH", u, {"all_cameras": True}, bearer(env.token)), 200, None, "PATCH with a token")
    check(env.api("GET", u)["all_cameras"] is True, "PATCH with a token did not apply")
    return adm


def part_sessions_end(env, ids, addr, adm):
    a = addr.next()
    # logout ends that session only
    s1, s2 = Session(env, "alice", source=a), Session(env, "alice", source=a)
    st, hd, data = expect(s2.call("POST", "/api/v1/logout"), 200, None, "logout")
    check(re.match(r"sargas_session=;", hd.get("set-cookie", "")) and "Max-Age=0" in hd["set-cookie"],
          "logout does not clear the cookie: %r" % hd.get("set-cookie"))
    check(not s2.works(), "the session works after logout")
    check(json.loads(s2.call("GET", "/api/v1/session")[2])["user"] is None, "session probe after logout")
    check(s1.works(), "logout ended another session of the same user")
    # expiry (session_hours): the row's expiry moved into the past simulates time passing
    s3 = Session(env, "alice", source=a)
    check(db_exec(env, "UPDATE sessions SET expires_us = ? WHERE token_hash = ?", (now_us() + 60e6, sha256(s3.cookie))) == 1,
          "the session is not stored as the SHA-256 of its cookie")
    check(s3.works(), "a session a minute before its expiry is refused")
    db_exec(env, "UPDATE sessions SET expires_us = ? WHERE token_hash = ?", (now_us() - 1e6, sha256(s3.cookie)))
    check(not s3.works(), "an expired session is accepted")
    s3b = Session(env, "alice", source=a)
    db_exec(env, "UPDATE sessions SET expires_us = 1 WHERE token_hash = ?", (sha256(s3b.cookie),))
    check(not s3b.works(), "a session that expired long ago is accepted")
    # idleness (session_idle_minutes = 30)
    s4 = Session(env, "alice", source=a)
    db_exec(env, "UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?", (now_us() - 29 * 60e6, sha256(s4.cookie)))
    check(s4.works(), "a session idle for 29 of 30 minutes is refused")
    db_exec(env, "UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?", (now_us() - 31 * 60e6, sha256(s4.cookie)))
    check(not s4.works(), "a session idle for 31 of 30 minutes is accepted")
    # revoked by an administrator: every session of the user, at once
    s5 = Session(env, "alice", source=a)
    st, _, data = expect(adm.call("DELETE", "/api/v1/users/%d/sessions" % ids["alice"]), 200, None, "revoke sessions")
    check(json.loads(data)["revoked"] >= 2, "revoked: %s" % data)
    check(not s5.works() and not s1.works(), "revoked sessions are accepted")
    check(Session(env, "alice", source=a).works(), "a login after the revocation does not work")
    # a disabled user: sessions refused, login refused; enabled again: login works
    b = addr.next()
    sb = Session(env, "bob", source=b)
    env.cli("user", "set", "bob", "--disable")
    check(not sb.works(), "a disabled user's session is accepted")
    expect(request(env, "POST", "/api/v1/login", {"user": "bob", "password": PW}, source=b), 401, "login_failed",
           "a disabled user's login")
    env.cli("user", "set", "bob", "--enable")
    check(not sb.works(), "enabling the user again revived the old session")
    sb = Session(env, "bob", source=b)
    # `sargas user passwd` ends the user's sessions
    new = PW + "-cli"
    r = subprocess.run([os.path.join(BUILD, "sargas"), "--config", env.config_path, "user", "passwd", "bob",
                        "--password-stdin"], input=new + "\n", capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "user passwd: %s %s" % (r.stdout, r.stderr))
    check(not sb.works(), "a session survived sargas user passwd")
    expect(request(env, "POST", "/api/v1/login", {"user": "bob", "password": PW}, source=b), 401, "login_failed",
           "login with the old password")
    Session(env, "bob", new, source=b)
    # POST /api/v1/session/password: the current one is checked, the other sessions end
    c = addr.next()
    c1, c2 = Session(env, "carol", source=c), Session(env, "carol", source=c)
    new = PW + "-api"
    expect(c1.call("POST", "/api/v1/session/password", {"current": PW + "x", "new": new}), 403, "wrong_password",
           "password change with a wrong current password")
    check(c2.works(), "a refused password change ended a session")
    expect(c1.call("POST", "/api/v1/session/password", {"current": PW, "new": "short"}), 400, "weak_password",
           "a weak new password")
    tok = env.make_token("carol")
    expect(request(env, "POST", "/api/v1/session/password", {"current": PW, "new": new}, bearer(tok)), 403,
           "forbidden", "password change with an API token")
    st, hd, data = expect(c1.call("POST", "/api/v1/session/password", {"current": PW, "new": new}), 200, None,
                          "password change")
    m = re.match(r"sargas_session=([A-Za-z0-9_-]+);", hd.get("set-cookie", ""))
    check(m and m.group(1) != c1.cookie, "password change: no new session cookie: %r" % hd.get("set-cookie"))
    check(not c2.works(), "another session survived the password change")
    check(not c1.works(), "the old cookie survived the password change")
    c1.cookie, c1.csrf = m.group(1), json.loads(data)["csrf"]
    check(c1.works(), "the session the password change handed out does not work")
    expect(request(env, "POST", "/api/v1/login", {"user": "carol", "password": PW}, source=c), 401, "login_failed",
           "login with the old password")
    Session(env, "carol", new, source=c)


def part_tokens(env, ids, addr, adm, alice):
    st, _, data = expect(adm.call("POST", "/api/v1/tokens", {"name": "live only", "scopes": ["live"]}), 201, None,
                         "token create")
    t = json.loads(data)
    tok, tid = t["token"], t["id"]
    check(t["scopes"] == ["live"] and t["user"] == ids["admin"], "token: %s" % t)
    h = bearer(tok)
    expect(request(env, "GET", "/api/v1/users", headers=h), 403, "forbidden", "an admin's live-only token on users")
    expect(request(env, "GET", "/api/v1/audit", headers=h), 403, "forbidden", "an admin's live-only token on audit")
    expect(request(env, "GET", "/api/v1/cameras/999999/live/main.mp4", headers=h), 404, "not_found",
           "a live-only token on a missing camera's live video")
    probe = json.loads(request(env, "GET", "/api/v1/session", headers=h)[2])
    check(probe["user"]["name"] == "admin" and probe["permissions"] == ["live"] and probe["csrf"] is None,
          "session probe with the token: %s" % probe)
    expect(request(env, "POST", "/api/v1/tokens", {"name": "child"}, h), 403, "forbidden", "a token making a token")
    expect(alice.call("POST", "/api/v1/tokens", {"name": "x", "scopes": ["users.admin"]}), 400, "bad_request",
           "an operator asking for users.admin")
    # hashed at rest: 32 bytes of SHA-256, the text nowhere in the catalog's files
    rows = db_rows(env, "SELECT token_hash FROM api_tokens WHERE id = ?", (tid,))
    check(rows and len(rows[0][0]) == 32 and rows[0][0] == sha256(tok), "token_hash: %r" % rows)
    raw = catalog_bytes(env)
    for secret, what in ((tok, "the API token"), (env.token, "the CLI's API token"), (adm.cookie, "a session cookie")):
        check(secret.encode() not in raw, "%s is stored in the catalog as text" % what)
    # revoked: refused at once
    expect(adm.call("DELETE", "/api/v1/tokens/%d" % tid), 204, None, "token revoke")
    expect(request(env, "GET", "/api/v1/tokens", headers=h), 401, "unauthorized", "a revoked token")
    listed = [x for x in json.loads(adm.call("GET", "/api/v1/tokens")[2])["tokens"] if x["id"] == tid]
    check(listed and listed[0]["revoked"], "the revoked token's listing: %s" % listed)
    # expired
    tok2 = env.make_token("alice")
    check(request(env, "GET", "/api/v1/tokens", headers=bearer(tok2))[0] == 200, "a fresh token is refused")
    db_exec(env, "UPDATE api_tokens SET expires_us = 1 WHERE token_hash = ?", (sha256(tok2),))
    expect(request(env, "GET", "/api/v1/tokens", headers=bearer(tok2)), 401, "unauthorized", "an expired token")


def part_last_admin(env, ids, adm):
    u = "/api/v1/users/%d" % ids["admin"]
    expect(adm.call("PATCH", u, {"role": "operator"}), 409, "conflict", "demoting the last administrator")
    expect(adm.call("PATCH", u, {"disabled": True}), 409, "conflict", "disabling the last administrator")
    expect(adm.call("DELETE", u), 409, "conflict", "deleting the last administrator")
    expect(request(env, "PATCH", u, {"role": "viewer", "disabled": True}, bearer(env.token)), 409, "conflict",
           "demoting the last administrator with a token")
    a2 = env.user("admin2", "admin", PW)
    # a second enabled administrator: that one can be disabled; then the first is the last again
    expect(adm.call("PATCH", "/api/v1/users/%d" % a2, {"disabled": True}), 200, None, "disabling the second admin")
    expect(adm.call("PATCH", u, {"role": "viewer"}), 409, "conflict", "demoting the last enabled administrator")
    expect(adm.call("PATCH", u, {"all_cameras": True}), 200, None, "an unrelated change to the last administrator")
    expect(adm.call("DELETE", "/api/v1/users/%d" % a2), 204, None, "deleting a disabled administrator")
    me = env.api("GET", u)
    check(me["role"] == "admin" and not me["disabled"], "the last administrator was changed: %s" % me)
    check(adm.works(), "the last administrator's session ended")


def part_rate_limits(env, addr):
    """login_max_failures = 5 per account, 20 per address, within login_lockout_s = 300."""
    # per account: failures from five addresses lock the account for every address
    for i in range(5):
        expect(request(env, "POST", "/api/v1/login", {"user": "dave", "password": "wrong-%d-xxxxxx" % i},
                       source=addr.next()), 401, "login_failed", "dave's failure %d" % (i + 1))
    for src in (addr.next(), addr.next()):
        st, hd, data = expect(request(env, "POST", "/api/v1/login", {"user": "dave", "password": PW}, source=src),
                              429, "rate_limited", "dave's right password while locked")
        check(re.fullmatch(r"\d+", hd.get("retry-after", "")) and 1 <= int(hd["retry-after"]) <= 301,
              "Retry-After: %r" % hd.get("retry-after"))
        check("set-cookie" not in hd, "a locked login set a cookie")
    # another account from the same address is not locked by dave's lock
    Session(env, "erin", source=src)
    # the limit is exactly 5: four failures, then the right password, works (and resets)
    a = addr.next()
    for i in range(4):
        expect(request(env, "POST", "/api/v1/login", {"user": "frank", "password": "nope-%d-xxxxxx" % i}, source=a),
               401, "login_failed", "frank's failure %d" % (i + 1))
    Session(env, "frank", source=a)
    for i in range(5):
        expect(request(env, "POST", "/api/v1/login", {"user": "frank", "password": "nope-%d-xxxxxx" % i}, source=a),
               401, "login_failed", "frank's failure %d after a success" % (i + 1))
    expect(request(env, "POST", "/api/v1/login", {"user": "frank", "password": PW}, source=a), 429, "rate_limited",
           "frank after five failures")
    # per address: 20 failures spread over unknown accounts; the 21st attempt is refused
    # even for a real account with the right password, which another address may still use
    a = addr.next()
    for i in range(20):
        expect(request(env, "POST", "/api/v1/login", {"user": "ghost-%d" % i, "password": PW}, source=a),
               401, "login_failed", "address failure %d" % (i + 1))
    st, hd, _ = expect(request(env, "POST", "/api/v1/login", {"user": "erin", "password": PW}, source=a), 429,
                       "rate_limited", "erin from an address over its limit")
    check(re.fullmatch(r"\d+", hd.get("retry-after", "")), "Retry-After: %r" % hd.get("retry-after"))
    Session(env, "erin", source=addr.next())


def users_table(env):
    return db_rows(env, "SELECT * FROM users ORDER BY id")


def part_hostile(env, ids, addr):
    before = users_table(env)
    sessions = db_rows(env, "SELECT count(*) FROM sessions")[0][0]
    tokens = db_rows(env, "SELECT count(*) FROM api_tokens")[0][0]
    T = bearer(env.token)
    tgt = Session(env, "target", source=addr.next())
    # SQL metacharacters and LIKE wildcards in user names (with the administrator's password)
    for name in ["admin' --", "admin' OR '1'='1", "' OR 1=1 --", "admin\"; DROP TABLE users; --", "admi_", "adm%",
                 "%", "_____", "*", "admin\\", "admin;", "admin\t", "ädmin", "admin ", " admin", "admin\n"]:
        expect(request(env, "POST", "/api/v1/login", {"user": name, "password": ADMIN_PW}, source=addr.next()),
               401, "login_failed", "login as %r" % name)
    # ... and in passwords of a real account (3 failures: below its limit)
    for pw in ["' OR '1'='1", "x' OR 'x'='x' --", "\" OR \"\"=\""]:
        expect(request(env, "POST", "/api/v1/login", {"user": "target", "password": pw}, source=addr.next()),
               401, "login_failed", "password %r" % pw)
    a = addr.next()
    expect(request(env, "POST", "/api/v1/login", {"user": "a" * 5000, "password": PW}, source=a), 400, None,
           "a 5000-character user name")
    expect(request(env, "POST", "/api/v1/login", {"user": "target", "password": "p" * 5000}, source=a), 400, None,
           "a 5000-character password")
    # ids that are not ids: no route, whatever the method; nothing changes
    for p in ["..%2f1", "1%00", "%2e%2e%2f1", "1%2f..%2f2", "0", "-1", "01", "1.0", "1e0", "%201", "1%20",
              "99999999999999999999", "1;DROP%20TABLE%20users", "0x1", "1%0a", "+1"]:
        for method, suffix, body in (("GET", "", None), ("PATCH", "", {"role": "viewer"}), ("DELETE", "", None),
                                     ("PUT", "/grants", {"grants": []}), ("DELETE", "/sessions", None)):
            expect(request(env, method, "/api/v1/users/" + p + suffix, body, T), 404, "not_found",
                   "%s /api/v1/users/%s%s" % (method, p, suffix))
        expect(request(env, "DELETE", "/api/v1/tokens/" + p, None, T), 404, "not_found", "DELETE token %s" % p)
    for p in ["/api/v1/users/../users/%d" % ids["bob"], "/api/v1/users/%d/../%d" % (ids["bob"], ids["admin"]),
              "/api/v1/users/%d/" % ids["bob"], "/api/v1/users//%d" % ids["bob"], "/api/v1/users/%d/grants/.." % ids["bob"]]:
        expect(request(env, "PATCH", p, {"disabled": True}, T), 404, "not_found", "PATCH %s" % p)
    # bodies: too large, malformed, invalid UTF-8, wrong types, unknown fields, duplicate keys
    u = "/api/v1/users/%d" % ids["bob"]
    endpoints = [("POST", "/api/v1/login", None), ("POST", "/api/v1/setup", None),
                 ("POST", "/api/v1/session/password", tgt), ("POST", "/api/v1/users", T), ("PATCH", u, T),
                 ("PUT", u + "/grants", T), ("POST", "/api/v1/tokens", tgt)]

    def send(method, path, who, body, headers=None):
        if isinstance(who, Session):
            return who.call(method, path, body, headers=headers)
        return request(env, method, path, body, dict(who or {}, **(headers or {})), source=a)
    big = json.dumps({"user": "x" * 70000, "password": PW}).encode()
    bad_json = [b"{", b"", b" ", b"[]", b"null", b"1", b'"x"', b"{'user': 'a'}", b'{"user":"a",}',
                b'{"user":"a" "password":"b"}', b"\xff\xfe{}", b'{"user":"\xc3\x28","password":"x"}',
                b'{"user":"\xed\xa0\x80"}', b'{"user":"a\\u0000b","password":"x"}', b'{"user":"a","user":"b"}',
                b'{"name":"x","name":"y"}', b'{"role":"viewer","role":"admin"}', b'{"a":' * 5000 + b"1" + b"}" * 5000]
    for method, path, who in endpoints:
        expect(send(method, path, who, big), 413, "too_large", "%s %s with 70 kB" % (method, path))
        for raw in bad_json:
            expect(send(method, path, who, raw), 400, "bad_json", "%s %s with %r" % (method, path, raw[:40]))
        expect(send(method, path, who, b"{}", {"Content-Type": "text/plain"}), 415, None,
               "%s %s as text/plain" % (method, path))
    # without a principal a protected route answers 401 whatever the body (it is not even read)
    for method, path in (("POST", "/api/v1/users"), ("PATCH", u), ("PUT", u + "/grants"), ("POST", "/api/v1/tokens")):
        for raw in (b"{", big, b"\xff"):
            expect(send(method, path, None, raw), 401, "unauthorized", "%s %s without a session" % (method, path))
    wrong = [
        (("POST", "/api/v1/login", None), [
            {"user": 1, "password": PW}, {"user": ["admin"], "password": ADMIN_PW}, {"user": "admin", "password": None},
            {"user": {"$ne": None}, "password": {"$ne": None}}, {"user": "admin"}, {"user": "", "password": PW},
            {"user": "admin", "password": ADMIN_PW, "role": "admin"}, {"user": "admin", "password": ADMIN_PW, "site": 2}]),
        (("POST", "/api/v1/setup", None), [
            {"token": 1, "user": "x", "password": PW}, {"token": "x", "user": "y", "password": PW, "role": "admin"}]),
        (("POST", "/api/v1/session/password", tgt), [
            {"current": 1, "new": PW}, {"current": PW, "new": None}, {"current": PW, "new": PW + "1", "user": "admin"}]),
        (("POST", "/api/v1/users", T), [
            {"name": 5, "role": "viewer", "password": PW}, {"name": "h1", "role": ["admin"], "password": PW},
            {"name": "h1", "role": "viewer", "password": 123456789012}, {"name": "h1", "role": "root", "password": PW},
            {"name": "h1", "role": "viewer", "password": PW, "all_cameras": "true"},
            {"name": "h1", "role": "viewer", "password": PW, "disabled": 0},
            {"name": "h1", "role": "viewer", "password": PW, "site": 2},
            {"name": "h1", "role": "viewer", "password": PW, "id": 1},
            {"name": "h1", "role": "viewer", "password": PW, "pw_hash": "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA"},
            {"name": "h1", "role": "viewer", "password": "short"}, {"name": "h1", "role": "viewer", "password": "a\u0001" * 6},
            {"name": "bad name", "role": "viewer", "password": PW}, {"name": "", "role": "viewer", "password": PW},
            {"name": "a" * 65, "role": "viewer", "password": PW}, {"name": "../etc", "role": "viewer", "password": PW},
            {"name": "x'; DROP TABLE users; --", "role": "viewer", "password": PW},
            {"name": "admin", "role": "viewer", "password": PW}]),
        (("PATCH", u, T), [
            {"role": 1}, {"role": "root"}, {"disabled": "false"}, {"all_cameras": 1}, {"password": None},
            {"name": "renamed"}, {"site": 2}, {"id": 1}, {"pw_hash": "x"}, {"role": "admin' --"}]),
        (("PUT", u + "/grants", T), [
            {"grants": [{"camera": "1", "access": "allow"}]}, {"grants": [{"camera": 1, "access": "ALLOW"}]},
            {"grants": [{"camera": 1, "access": "allow", "x": 1}]}, {"grants": [1]}, {"grants": {}},
            {"grants": [], "user": ids["admin"]}, {}]),
        (("POST", "/api/v1/tokens", tgt), [
            {"name": 5}, {"name": "x", "scopes": "live"}, {"name": "x", "scopes": [1]}, {"name": "x", "scopes": []},
            {"name": "x", "expires_days": "1"}, {"name": "x", "expires_days": -1}, {"name": "x", "user": ids["admin"]},
            {"name": "x", "perms": 255}, {"name": "x\u0001"}, {"name": ""}]),
    ]
    for (method, path, who), bodies in wrong:
        for body in bodies:
            st, hd, data = send(method, path, who, body)
            check(400 <= st < 500 and st != 401 and error_code(data) and "set-cookie" not in hd,
                  "%s %s %r: %d %s" % (method, path, body, st, data[:200]))
    check(users_table(env) == before, "hostile input changed the users table")
    check(db_rows(env, "SELECT count(*) FROM sessions")[0][0] == sessions + 1, "hostile input made sessions")
    check(db_rows(env, "SELECT count(*) FROM api_tokens")[0][0] == tokens, "hostile input made tokens")
    check(tgt.works(), "the target's session ended")
    Session(env, "target", source=addr.next())
    Session(env, "admin", ADMIN_PW, source=addr.next())


def part_rehash(env, addr):
    """Hashes are Argon2id with the configured cost; a login redoes an older, cheaper one."""
    passwords = [PW, ADMIN_PW, PW + "-cli", PW + "-api"]
    for name, h in db_rows(env, "SELECT name, pw_hash FROM users"):
        m = HASH_RE.match(h)
        check(m and m.group(1) == "1024" and m.group(2) == "1", "%s: hash %r is not Argon2id m=1024,t=1" % (name, h))
        check(not any(p in h for p in passwords), "%s: a password in its hash" % name)
    raw = catalog_bytes(env)
    check(not any(p.encode() in raw for p in passwords), "a password is stored in the catalog as text")
    env.stop()
    env.config.update(password_opslimit=2, login_lockout_s=2)
    env.write_config()
    env.start()
    Session(env, "rehash", source=addr.next())
    h1 = db_rows(env, "SELECT pw_hash FROM users WHERE name = 'rehash'")[0][0]
    m = HASH_RE.match(h1)
    check(m and m.group(2) == "2" and m.group(1) == "1024", "the hash was not redone with t=2 at login: %r" % h1)
    Session(env, "rehash", source=addr.next())
    check(db_rows(env, "SELECT pw_hash FROM users WHERE name = 'rehash'")[0][0] == h1, "rehashed again at a 2nd login")
    h = db_rows(env, "SELECT pw_hash FROM users WHERE name = 'erin'")[0][0]
    check(HASH_RE.match(h).group(2) == "1", "a user who did not log in was rehashed")
    # the lock ends after login_lockout_s (2 s now): poll until the right password works again
    a = addr.next()
    for i in range(5):
        expect(request(env, "POST", "/api/v1/login", {"user": "erin", "password": "bad-%d-xxxxxxx" % i}, source=a),
               401, "login_failed", "erin's failure %d" % (i + 1))
    st, hd, _ = expect(request(env, "POST", "/api/v1/login", {"user": "erin", "password": PW}, source=a), 429,
                       "rate_limited", "erin locked")
    check(1 <= int(hd["retry-after"]) <= 3, "Retry-After %s with login_lockout_s = 2" % hd["retry-after"])
    poll(lambda: login_status(env, "erin", PW, a)[0] == 200, 10, "the lock to end after login_lockout_s")


def check_log(env):
    check(env.daemon.alive(), "sargasd died")
    expect(request(env, "GET", "/api/v1/health"), 200, None, "health")
    bad = [ln for ln in env.daemon.text().splitlines()
           if "ERROR" in ln or "Sanitizer" in ln or "runtime error" in ln]
    check(not bad, "errors in the daemon log:\n%s" % "\n".join(bad[-20:]))


def test_setup_token():
    env = Env("authsetup")
    env.token = "unused"  # no administrator is made before the first start
    try:
        env.start()
        m = poll(lambda: re.search(r"one-time setup token (\S+)", env.daemon.text()), 10, "the setup token in the log")
        token = m.group(1)
        probe = json.loads(request(env, "GET", "/api/v1/session")[2])
        check(probe == {"user": None, "setup_required": True}, "session probe before setup: %s" % probe)
        a = "127.0.0.2"
        expect(request(env, "POST", "/api/v1/setup", {"token": token + "x", "user": "first", "password": PW}, source=a),
               403, "forbidden", "setup with a wrong token")
        expect(request(env, "POST", "/api/v1/setup", {"token": token, "user": "first", "password": "short"}, source=a),
               400, "weak_password", "setup with a weak password")
        expect(request(env, "POST", "/api/v1/setup", {"token": token, "user": "bad name", "password": PW}, source=a),
               400, "bad_request", "setup with a bad name")
        check(db_rows(env, "SELECT count(*) FROM users")[0][0] == 0, "refused setups made a user")
        st, hd, data = expect(request(env, "POST", "/api/v1/setup", {"token": token, "user": "first", "password": PW},
                                      source=a), 201, None, "setup")
        doc = json.loads(data)
        check(doc["user"]["name"] == "first" and doc["user"]["role"] == "admin" and doc["csrf"], "setup: %s" % doc)
        c = re.match(r"sargas_session=([A-Za-z0-9_-]+);", hd.get("set-cookie", ""))
        check(c and "HttpOnly" in hd["set-cookie"] and "SameSite=Strict" in hd["set-cookie"],
              "setup cookie: %r" % hd.get("set-cookie"))
        probe = json.loads(request(env, "GET", "/api/v1/session", headers={"Cookie": "sargas_session=" + c.group(1)})[2])
        check(probe["user"]["name"] == "first", "the setup session: %s" % probe)
        expect(request(env, "POST", "/api/v1/setup", {"token": token, "user": "second", "password": PW}, source=a),
               403, "forbidden", "a second use of the setup token")
        check([r[0] for r in db_rows(env, "SELECT name FROM users")] == ["first"], "users after setup")
        check(json.loads(request(env, "GET", "/api/v1/session")[2]) == {"user": None, "setup_required": False},
              "session probe after setup")
        check(HASH_RE.match(db_rows(env, "SELECT pw_hash FROM users")[0][0]), "the first admin's hash")
        Session(env, "first", source="127.0.0.3")
        env.stop()
        env.start()
        check("setup token" not in env.daemon.text()[env.daemon.log_start:], "a setup token with an admin present")
        expect(request(env, "POST", "/api/v1/setup", {"token": token, "user": "third", "password": PW}), 403,
               "forbidden", "the old setup token after a restart")
        check_log(env)
        env.stop()
    finally:
        env.close()


def test_auth():
    env = Env("auth", session_hours=2, session_idle_minutes=30, login_max_failures=5, login_lockout_s=300)
    try:
        ids = {"admin": None}
        for name, role in (("alice", "operator"), ("bob", "viewer"), ("carol", "investigator"), ("dave", "viewer"),
                           ("erin", "viewer"), ("frank", "viewer"), ("target", "viewer"), ("rehash", "viewer")):
            ids[name] = env.user(name, role, PW)
        env.start()
        ids["admin"] = [u["id"] for u in env.api("GET", "/api/v1/users")["users"] if u["name"] == "admin"][0]
        addr = Addr()
        alice = part_login_and_cookie(env, ids, addr)
        adm = part_csrf(env, ids, addr, alice)
        part_sessions_end(env, ids, addr, adm)
        part_tokens(env, ids, addr, adm, Session(env, "alice", source=addr.next()))
        part_last_admin(env, ids, adm)
        part_rate_limits(env, addr)
        part_hostile(env, ids, addr)
        check_log(env)
        part_rehash(env, addr)
        check_log(env)
        env.stop()
    finally:
        env.close()
    test_setup_token()


if __name__ == "__main__":
    run(test_auth)
