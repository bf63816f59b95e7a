#!/usr/bin/env python3
"""What the server writes into the audit trail: logins (and failures), logout, live view start
and stop (single and multiplexed), playback ranges, snapshots, refused accesses (401, 403,
404 alike), camera, user and grant changes (credentials never in the trail), what each site's
auditor may read (their own site only), the CSV export, and that the chain the daemon wrote
verifies and is signed at a clean stop."""
import csv
import http.client
import io
import json
import threading
import time
import urllib.parse

from harness import Env, check, poll, run, utc_us


def login(env, user, password):
    st, hd, data = env.http("POST", "/api/v1/login", {"user": user, "password": password}, auth=False)
    check(st == 200, "login %s: %d %s" % (user, st, data[:200]))
    return {"Cookie": hd["set-cookie"].split(";")[0], "X-CSRF-Token": json.loads(data)["csrf"]}


def entries(env, headers=None, **q):
    """The audit trail as the given principal (default: the admin token) sees it."""
    path = "/api/v1/audit?limit=1000&" + urllib.parse.urlencode(q)
    st, _, data = env.http("GET", path, headers=headers)
    check(st == 200, "audit list: %d %s" % (st, data[:200]))
    return json.loads(data)["entries"]


def find(env, what, **match):
    """Polls until an entry with all `match` fields exists; returns it."""
    found = {}

    def look():
        for e in entries(env):
            if all(e.get(k) == v for k, v in match.items()):
                found["e"] = e
                return True
        return False
    poll(look, 10, what)
    return found["e"]


def read_some(env, path, headers, nbytes=4096):
    c = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=10)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    got = r.read(nbytes) if r.status == 200 else r.read()
    c.close()
    return r.status, got


def test_audit_http():
    env = Env("audithttp", segment_seconds=4)
    try:
        fake = env.fakecam(2)
        p = fake.port
        cam1 = env.add_camera("gate", "rtsp://127.0.0.1:%d/cam1/main" % p, "rtsp://127.0.0.1:%d/cam1/sub" % p)
        cam2 = env.add_camera("yard", "rtsp://127.0.0.1:%d/cam2/main" % p, "rtsp://127.0.0.1:%d/cam2/sub" % p)
        env.cli("site", "add", "partner-town")
        op_id = env.user("op", "operator", "operator-password", "--granted-only")
        env.cli("user", "grant", "op", "--camera", str(cam1))
        env.user("aud", "auditor", "auditor-password")
        env.user("aud2", "auditor", "auditor2-password", "--site", "partner-town")
        env.start()
        poll(lambda: env.segments(cam1), 30, "a first segment of camera 1")

        # a failed and a good login
        st, _, _ = env.http("POST", "/api/v1/login", {"user": "op", "password": "not-the-password"}, auth=False)
        check(st == 401, "wrong password: %d" % st)
        e = find(env, "failed login entry", action="login", outcome="failed", user="op")
        check(e["detail"] == {"reason": "wrong_password"} and e["source"] == "127.0.0.1", "failed login: %s" % e)
        op = login(env, "op", "operator-password")
        find(env, "login entry", action="login", outcome="ok", user="op")

        # live: one stream, then the multiplexed URL naming a granted and an ungranted camera
        st, got = read_some(env, "/api/v1/cameras/%d/live/sub.mp4" % cam1, {"Cookie": op["Cookie"]})
        check(st == 200 and len(got) > 0, "live: %d" % st)
        find(env, "live.start", action="live.start", user="op", camera=cam1, object="sub")
        e = find(env, "live.stop after the viewer left", action="live.stop", user="op", camera=cam1)
        check(isinstance(e["detail"].get("seconds"), int), "live.stop detail: %s" % e)
        st, _ = read_some(env, "/api/v1/live?streams=%d:sub,%d:sub" % (cam1, cam2), {"Cookie": op["Cookie"]}, 64)
        check(st == 200, "mux: %d" % st)
        e = find(env, "mux refusal of the ungranted camera", action="access.denied", user="op", camera=cam2)
        check(e["detail"]["status"] == 404 and e["outcome"] == "denied", "mux refusal: %s" % e)
        check(len([x for x in entries(env, action="live.start", user="op")]) == 2, "two live.start entries")

        # playback and snapshot: the range asked for is in the trail
        seg = env.segments(cam1)[0]
        frm = seg["start"]
        st, _, _ = env.http("GET", "/api/v1/cameras/%d/playback/main.m3u8?from=%s&to=%s" %
                            (cam1, frm, seg["end"]), headers={"Cookie": op["Cookie"]})
        check(st == 200, "playlist: %d" % st)
        e = find(env, "playback entry", action="playback", user="op", camera=cam1)
        check(e["object"].startswith("main ") and "/" in e["object"], "playback object: %s" % e["object"])
        a, b = e["object"][5:].split("/")
        check(abs(utc_us(a) - utc_us(frm)) < 1000 and abs(utc_us(b) - utc_us(seg["end"])) < 1000,
              "playback range %s vs %s..%s" % (e["object"], frm, seg["end"]))
        poll(lambda: env.http("GET", "/api/v1/cameras/%d/snapshot.jpg" % cam1,
                              headers={"Cookie": op["Cookie"]})[0] == 200, 20, "a snapshot")
        find(env, "snapshot entry", action="snapshot", user="op", camera=cam1)

        # refusals: 403 (operators may not download), 404 (ungranted), 401 (nobody)
        st, _, _ = env.http("GET", "/api/v1/cameras/%d/download.mp4?from=%s&to=%s" % (cam1, frm, seg["end"]),
                            headers={"Cookie": op["Cookie"]})
        check(st == 403, "operator download: %d" % st)
        e = find(env, "403 refusal", action="access.denied", user="op", camera=cam1)
        check(e["detail"] == {"status": 403} and "download.mp4" in e["object"], "403 entry: %s" % e)
        st, _, _ = env.http("GET", "/api/v1/cameras/%d" % cam2, headers={"Cookie": op["Cookie"]})
        check(st == 404, "ungranted camera: %d" % st)
        find(env, "404 refusal", action="access.denied", user="op", object="GET /api/v1/cameras/%d" % cam2)
        st, _, _ = env.http("GET", "/api/v1/cameras", auth=False)
        check(st == 401, "no session: %d" % st)
        e = find(env, "401 refusal", action="access.denied", user="", object="GET /api/v1/cameras")
        check(e["user_id"] is None and e["detail"] == {"status": 401}, "401 entry: %s" % e)

        # changes by the administrator: credentials never reach the trail
        st, _, data = env.http("PATCH", "/api/v1/cameras/%d" % cam2,
                               {"main_url": "rtsp://admin:Sekret99@127.0.0.1:%d/cam2/main" % p})
        check(st == 200, "camera update: %d %s" % (st, data[:200]))
        e = find(env, "camera.update", action="camera.update", camera=cam2)
        check("Sekret99" not in json.dumps(e) and "***" in e["detail"]["main_url"], "credentials in the trail: %s" % e)
        st, _, data = env.http("PUT", "/api/v1/users/%d/grants" % op_id,
                               {"grants": [{"camera": cam1, "access": "allow"}, {"camera": cam2, "access": "deny"}]})
        check(st == 200, "grants: %d %s" % (st, data[:200]))
        e = find(env, "grant.set", action="grant.set", object="op", user="admin")
        check(e["detail"]["grants"][1] == {"camera": cam2, "access": "deny"}, "grant entry: %s" % e)
        st, _, _ = env.http("POST", "/api/v1/logout", headers=op)
        check(st == 200, "logout: %d" % st)
        find(env, "logout", action="logout", user="op")

        # a running live view ends once its session is revoked (it re-checks every 5 s)
        op2 = login(env, "op", "operator-password")
        conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=20)
        conn.request("GET", "/api/v1/cameras/%d/live/sub.mp4" % cam1, headers={"Cookie": op2["Cookie"]})
        resp = conn.getresponse()
        check(resp.status == 200, "live before revocation: %d" % resp.status)
        state = {"bytes": 0, "ended": False}

        def drain():
            try:
                while True:
                    b = resp.read1(65536)
                    if not b:
                        break
                    state["bytes"] += len(b)
            except OSError:
                pass
            state["ended"] = True
        th = threading.Thread(target=drain, daemon=True)
        th.start()
        poll(lambda: state["bytes"] > 0, 10, "live bytes before the revocation")
        check(not state["ended"], "the live view ended by itself")
        st, _, data = env.http("DELETE", "/api/v1/users/%d/sessions" % op_id)
        check(st == 200 and json.loads(data)["revoked"] >= 1, "revoke: %d %s" % (st, data))
        poll(lambda: state["ended"], 15, "the live view to end after its session was revoked")
        conn.close()

        # the auditors: site 1's sees these entries, the partner town's sees none of them
        aud = login(env, "aud", "auditor-password")
        mine = entries(env, headers=aud, user="op")
        check({"login", "live.start", "live.stop", "playback", "snapshot", "access.denied", "logout"} <=
              {x["action"] for x in mine}, "auditor's view: %s" % sorted({x["action"] for x in mine}))
        check(all(x["user"] == "op" for x in mine), "user filter")
        live = entries(env, headers=aud, action="live.")
        check(live and all(x["action"].startswith("live.") for x in live), "action prefix filter")
        check(all(x["camera"] == cam2 for x in entries(env, headers=aud, camera=cam2)), "camera filter")
        newest = mine[0]["time"]
        check(entries(env, headers=aud, user="op", **{"from": newest}) and
              all(x["time"] >= newest for x in entries(env, headers=aud, user="op", **{"from": newest})), "from filter")
        before = len(entries(env, headers=aud))
        for q in ("user=%27%20OR%201%3D1--", "action=login%27--", "action=LOGIN", "action=" + "a" * 60, "camera=abc",
                  "camera=0", "camera=1%3B", "from=yesterday", "to=2026-13-01T00:00:00Z", "limit=0", "limit=1001",
                  "before=-1", "user=", "user=" + "u" * 200):
            st, _, data = env.http("GET", "/api/v1/audit?" + q, headers=aud)
            if q == "user=%27%20OR%201%3D1--":
                check(st == 200 and json.loads(data)["entries"] == [], "SQL in the user filter: %d %s" % (st, data[:200]))
            else:
                check(st == 400 and json.loads(data)["error"]["code"] == "bad_request", "audit?%s: %d %s" % (q, st, data[:200]))
        check(len(entries(env, headers=aud)) >= before, "hostile filters changed the trail")
        st, hd, data = env.http("GET", "/api/v1/audit.csv?user=op", headers=aud)
        check(st == 200 and hd["content-type"].startswith("text/csv"), "csv: %d %s" % (st, hd.get("content-type")))
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        # (entries may still arrive meanwhile, e.g. the revoked live view's live.stop)
        check({str(x["seq"]) for x in mine} <= {r["seq"] for r in rows} and all(r["user"] == "op" for r in rows),
              "CSV rows: %d rows for %d entries" % (len(rows), len(mine)))
        find(env, "the export is audited", action="audit.export", user="aud")
        aud2 = login(env, "aud2", "auditor2-password")
        theirs = entries(env, headers=aud2)
        check(any(x["user"] == "aud2" and x["action"] == "login" for x in theirs), "aud2 sees its own login")
        check(not any(x["user"] in ("op", "aud", "admin") or x["camera"] in (cam1, cam2) for x in theirs),
              "the partner town's auditor sees site 1's entries: %s" % [(x["user"], x["action"]) for x in theirs][:10])
        st, _, _ = env.http("GET", "/api/v1/cameras/%d/live/sub.mp4" % cam1, headers={"Cookie": aud["Cookie"]})
        check(st == 403, "auditors get no video: %d" % st)

        # a clean stop signs the chain; the whole trail verifies
        env.stop()
        out = env.cli("audit", "verify").stdout
        check(out.startswith("audit: intact:") and "not yet signed" not in out, "verify: %s" % out)
        n = int(out.split()[2])
        check(n >= 25, "too few entries: %s" % out)
        last = json.loads(env.cli("audit", "list", "--limit", "1", "--json").stdout)[0]
        check(last["action"] == "server.stop", "the last entry: %s" % last)
    finally:
        env.close()


if __name__ == "__main__":
    run(test_audit_http)
