#!/usr/bin/env python3
"""The HTTP API against a running sargasd with real fake cameras: every route with good and
bad input, the OpenAPI document checked against the router (both ways) and against the
responses, live fMP4, HLS playback, byte ranges, download, snapshot, path traversal and odd
input on every media route, TLS."""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BUILD, Env, TestFailure, check, ffprobe_frames, mp4inspect, poll, run, utc_us)  # noqa: E402


def rfc(us):
    t = time.gmtime(us / 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (int(us / 1000) % 1000)


# ---- a minimal OpenAPI 3 schema checker: $ref, type, nullable, required, enum, items, properties ----

class Doc:
    def __init__(self, doc):
        self.doc = doc

    def resolve(self, s):
        while "$ref" in s:
            node = self.doc
            for part in s["$ref"].lstrip("#/").split("/"):
                node = node[part]
            s = node
        return s

    def validate(self, value, schema, where):
        s = self.resolve(schema)
        if value is None:
            check(s.get("nullable", False), "%s: null where the document does not allow it" % where)
            return
        if "allOf" in s:
            for sub in s["allOf"]:
                self.validate(value, sub, where)
            return
        t = s.get("type")
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        if t == "integer":
            check(isinstance(value, int) and not isinstance(value, bool), "%s: %r is not an integer" % (where, value))
        elif t == "number":
            check(isinstance(value, (int, float)), "%s: %r is not a number" % (where, value))
        elif t in types:
            check(isinstance(value, types[t]), "%s: %r is not a(n) %s" % (where, value, t))
        if "enum" in s:
            check(value in s["enum"], "%s: %r not in %s" % (where, value, s["enum"]))
        if t == "string" and s.get("format") == "date-time":
            check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", value), "%s: %r is not RFC 3339 UTC" % (where, value))
        if t == "object":
            for k in s.get("required", []):
                check(k in value, "%s: required field '%s' missing" % (where, k))
            props = s.get("properties", {})
            for k, v in value.items():
                if k in props:
                    self.validate(v, props[k], where + "." + k)
        if t == "array":
            for i, v in enumerate(value):
                self.validate(v, s.get("items", {}), "%s[%d]" % (where, i))

    def response_schema(self, pattern, method, status):
        op = self.doc["paths"][pattern][method.lower()]
        resp = op["responses"].get(str(status))
        check(resp is not None, "%s %s: status %d is not documented" % (method, pattern, status))
        return resp


def routes():
    out = subprocess.run([os.path.join(BUILD, "sargasd"), "--print-routes"], capture_output=True, text=True,
                         check=True).stdout
    return [tuple(line.split()[:2]) for line in out.splitlines() if line.strip()]


class Checked:
    """Calls the API and checks each answer against the document."""

    def __init__(self, env, doc):
        self.env = env
        self.doc = doc
        self.seen = set()

    def call(self, method, pattern, path, body=None, expect=200, headers=None):
        """expect: the status, or a tuple of the statuses allowed; the answer's headers are
        left in self.headers."""
        st, hd, data = self.env.http(method, path, body, headers)
        check(st in (expect if isinstance(expect, tuple) else (expect,)),
              "%s %s: expected %s, got %d: %s" % (method, path, expect, st, data[:300]))
        resp = self.doc.response_schema(pattern, method, st)
        self.seen.add((method, pattern))
        self.headers = hd
        content = resp.get("content", {})
        ctype = hd.get("content-type", "")
        if data and content:
            check(any(ctype.startswith(k) for k in content),
                  "%s %s: content type %s not documented (%s)" % (method, path, ctype, list(content)))
        if ctype.startswith("application/json") and data:
            value = json.loads(data)
            if "application/json" in content:
                self.doc.validate(value, content["application/json"]["schema"], "%s %s" % (method, path))
            if st >= 400:
                check(isinstance(value.get("error", {}).get("code"), str) and value["error"].get("message"),
                      "%s %s: error without code/message: %s" % (method, path, value))
            return value
        return data


def test_openapi_matches_router(env, c):
    doc = c.doc.doc
    check(doc.get("openapi", "").startswith("3."), "not an OpenAPI 3 document")
    have = set(routes())
    documented = set()
    for path, item in doc["paths"].items():
        for m in ("get", "post", "patch", "put", "delete"):
            if m in item:
                documented.add((m.upper(), path))
                check(any(k in item[m]["responses"] for k in ("200", "201", "202", "204")),
                      "%s %s documents no success response" % (m, path))
    check(have == documented, "router and OpenAPI differ: only in router %s, only in document %s"
          % (sorted(have - documented), sorted(documented - have)))
    # the document served is the one in docs/
    with open(os.path.join(os.environ.get("SG_SOURCE", "."), "docs", "openapi.json")) as f:
        check(json.load(f) == doc, "served OpenAPI document differs from docs/openapi.json")


def test_cameras(env, c, port):
    cams = c.call("GET", "/api/v1/cameras", "/api/v1/cameras")["cameras"]
    check([x["name"] for x in cams] == ["cam1", "cam2"], "camera list: %s" % [x["name"] for x in cams])
    check(all("secret" not in json.dumps(x) for x in cams), "credentials leaked in the camera list")
    check(cams[1]["main_url"].startswith("rtsp://***@"), "credentials not redacted: %s" % cams[1]["main_url"])
    P = "/api/v1/cameras"
    new = c.call("POST", P, P, {"name": "cam3", "main_url": "rtsp://127.0.0.1:%d/cam3/main" % port,
                                "retain_hours": 5, "transport": "tcp", "enabled": False}, expect=201)
    check(new["name"] == "cam3" and new["retain_hours"] == 5 and new["enabled"] is False, "create: %s" % new)
    check(new["streams"]["main"]["state"] == "disabled" and new["sub_url"] is None, "create state: %s" % new)
    cid = new["id"]
    one = "/api/v1/cameras/{id}"
    got = c.call("GET", one, "/api/v1/cameras/%d" % cid)
    check(got["id"] == cid and got["transport"] == "tcp", "get: %s" % got)
    upd = c.call("PATCH", one, "/api/v1/cameras/%d" % cid, {"name": "cam3-renamed", "retain_hours": 7,
                                                          "sub_url": "rtsp://127.0.0.1:%d/cam3/sub" % port})
    check(upd["name"] == "cam3-renamed" and upd["retain_hours"] == 7 and upd["sub_url"], "update: %s" % upd)
    upd = c.call("PATCH", one, "/api/v1/cameras/%d" % cid, {"sub_url": None})
    check(upd["sub_url"] is None, "sub_url null must remove the sub stream: %s" % upd)
    # bad input: each refused with a clear error, nothing changed
    bad = [
        ({"name": "x"}, 400, "bad_request"),                                  # main_url missing
        ({"name": "cam1", "main_url": "rtsp://h/x"}, 409, "conflict"),         # duplicate name
        ({"name": "y", "main_url": "http://h/x"}, 400, "bad_url"),
        ({"name": "y", "main_url": "file:///etc/passwd"}, 400, "bad_url"),     # test mode is off
        ({"name": "y", "main_url": "rtsp://h/x", "nope": 1}, 400, "bad_request"),
        ({"name": "", "main_url": "rtsp://h/x"}, 400, "bad_request"),
        ({"name": "a\x01b", "main_url": "rtsp://h/x"}, 400, "bad_request"),
        ({"name": "y", "main_url": "rtsp://h/x", "retain_hours": 0}, 400, "bad_request"),
        ({"name": "y", "main_url": "rtsp://h/x", "retain_hours": "5"}, 400, "bad_request"),
        ({"name": "y", "main_url": "rtsp://h/x", "transport": "carrier-pigeon"}, 400, "bad_request"),
        ({"name": "y", "main_url": "rtsp://h/x", "enabled": "yes"}, 400, "bad_request"),
        ({"name": "y'; DROP TABLE cameras; --", "main_url": 5}, 400, "bad_url"),
        ([1, 2], 400, "bad_json"),
    ]
    for body, st, code in bad:
        e = c.call("POST", P, P, body, expect=st)
        check(e["error"]["code"] == code, "POST %r: code %s, wanted %s" % (body, e["error"]["code"], code))
    for raw, st, code in [(b"{", 400, "bad_json"), (b'{"name":"a","name":"b"}', 400, "bad_json"),
                          (b"\xff\xfe{}", 400, "bad_json"), (b"", 400, "bad_json")]:
        e = c.call("POST", P, P, raw, expect=st, headers={"Content-Type": "application/json"})
        check(e["error"]["code"] == code, "raw body %r: %s" % (raw, e))
    e = c.call("POST", P, P, b'{"name":"z","main_url":"rtsp://h/x"}', expect=415, headers={"Content-Type": "text/plain"})
    big = json.dumps({"name": "big", "main_url": "rtsp://h/" + "a" * 70000}).encode()
    e = c.call("POST", P, P, big, expect=413, headers={"Content-Type": "application/json"})
    names = [x["name"] for x in c.call("GET", P, P)["cameras"]]
    check(names == ["cam1", "cam2", "cam3-renamed"], "bad input changed the camera list: %s" % names)
    c.call("PATCH", one, "/api/v1/cameras/%d" % cid, {"name": "cam1"}, expect=409)
    c.call("PATCH", one, "/api/v1/cameras/%d" % cid, {"main_url": "exec:rm -rf /"}, expect=400)
    c.call("PATCH", one, "/api/v1/cameras/999999", {"name": "q"}, expect=404)
    check(c.call("GET", one, "/api/v1/cameras/%d" % cid)["name"] == "cam3-renamed", "failed PATCH changed the camera")
    c.call("DELETE", one, "/api/v1/cameras/%d" % cid, expect=204)
    c.call("GET", one, "/api/v1/cameras/%d" % cid, expect=404)
    c.call("DELETE", one, "/api/v1/cameras/%d" % cid, expect=404)
    # ids that are not ids: all 404, never 500
    for bad_id in ["0", "-1", "01", "abc", "1e3", "99999999999999999999", "%00", "1%20", "1;DROP"]:
        st, _, data = env.http("GET", "/api/v1/cameras/%s" % bad_id)
        check(st == 404 and b"not_found" in data, "GET camera id %r: %d %s" % (bad_id, st, data[:100]))
    st, _, _ = env.http("PUT", "/api/v1/cameras")
    check(st == 405, "PUT /api/v1/cameras: %d" % st)
    st, _, _ = env.http("BREW", "/api/v1/cameras")
    check(st in (400, 405, 501), "unknown method: %d" % st)
    st, _, _ = env.http("GET", "/api/v1/nope")
    check(st == 404, "unknown route: %d" % st)
    st, _, data = env.http("GET", "/api/v1/cameras/1", body=b"x")
    check(st == 400, "GET with a body must be refused: %d" % st)


def test_state_and_health(env, c):
    def online():
        s = c.call("GET", "/api/v1/cameras/{id}/state", "/api/v1/cameras/1/state")
        return s["main"]["state"] == "online" and s["main"]["live"] and s["sub"] and s["sub"]["live"] and s
    s = poll(online, 30, "camera 1 online with live video")
    check(s["main"]["codec"] == "h264" and s["main"]["width"] == 1920 and s["sub"]["width"] == 640, "state: %s" % s)
    # an unreachable camera: offline, and 'since' stays at the first failure through retries
    from harness import free_port
    dead = c.call("POST", "/api/v1/cameras", "/api/v1/cameras",
                  {"name": "dead", "main_url": "rtsp://127.0.0.1:%d/x" % free_port()}, expect=201)
    u = "/api/v1/cameras/%d/state" % dead["id"]
    st = poll(lambda: (lambda x: x["main"]["state"] == "offline" and x)(c.call("GET", "/api/v1/cameras/{id}/state", u)),
              20, "unreachable camera offline")
    check(st["main"]["last_error"] and not st["main"]["live"], "offline state without a reason: %s" % st)
    since = st["main"]["since"]
    poll(lambda: env.daemon.text().count("cam=%d: main" % dead["id"]) >= 3, 20, "retries of the unreachable camera")
    st2 = c.call("GET", "/api/v1/cameras/{id}/state", u)
    check(st2["main"]["since"] == since, "'since' moved with the retries: %s -> %s" % (since, st2["main"]["since"]))
    st, _, _ = env.http("GET", "/api/v1/cameras/%d/live/main.mp4" % dead["id"])
    check(st == 503, "live of an offline camera: %d" % st)
    c.call("DELETE", "/api/v1/cameras/{id}", "/api/v1/cameras/%d" % dead["id"], expect=204)
    h = c.call("GET", "/api/v1/health", "/api/v1/health")
    check(h["status"] == "ok" and h["cameras"]["total"] == 2, "health: %s" % h)
    poll(lambda: c.call("GET", "/api/v1/health", "/api/v1/health")["cameras"]["online"] == 2, 30, "2 online")


def read_live(env, path, seconds, out):
    """Reads a live response for `seconds`; stores status, headers and bytes in out."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=10)
    conn.request("GET", path, headers={"Authorization": "Bearer " + env.token})
    r = conn.getresponse()
    out["status"], out["headers"] = r.status, {k.lower(): v for k, v in r.getheaders()}
    out["t0"] = time.time()
    data = b""
    end = time.monotonic() + seconds
    while r.status == 200 and time.monotonic() < end:
        chunk = r.read1(65536)
        if not chunk:
            break
        data += chunk
    out["data"] = data
    conn.close()


def complete_boxes(data):
    off = 0
    while off + 8 <= len(data):
        size = int.from_bytes(data[off:off + 4], "big")
        if size < 8 or off + size > len(data):
            break
        off += size
    return data[:off]


def sessions_started(fake, path):
    return fake.text().count("%s: streaming from frame" % path)


def test_live(env, c, fake):
    before = sessions_started(fake, "cam1/sub")
    outs = [{} for _ in range(3)]
    ts = [threading.Thread(target=read_live, args=(env, "/api/v1/cameras/1/live/sub.mp4", 3, o)) for o in outs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    c.seen.add(("GET", "/api/v1/cameras/{id}/live/{stream}.mp4"))
    for o in outs:
        check(o["status"] == 200, "live status %s" % o.get("status"))
        check(o["headers"]["content-type"] == "video/mp4", "live content type")
        check(re.match(r"^avc1\.[0-9a-f]{6}$", o["headers"].get("x-codecs", "")), "X-Codecs: %s" % o["headers"])
        data = complete_boxes(o["data"])
        with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
            f.write(data)
            f.flush()
            info = mp4inspect.inspect(f.name)
        s = info["samples"]
        check(len(s) >= 40, "only %d live frames in 3 s" % len(s))
        check(s[0]["keyframe"], "live must start with a keyframe")
        counters = [x["counter"] for x in s]
        check(all(b == a + 1 for a, b in zip(counters, counters[1:])), "live frames not consecutive")
        # frames keep coming in real time after the GOP from memory: the newest is recent
        newest_sent = counters[-1] * 40000
        check(abs(o["t0"] * 1e6 + 3e6 - newest_sent) < 1.5e6,
              "live stream lags: newest frame sent %.2f s before the end" % ((o["t0"] * 1e6 + 3e6 - newest_sent) / 1e6))
        check(info["width"] == 640, "sub stream size %s" % info["width"])
    check(sessions_started(fake, "cam1/sub") == before, "viewers opened extra camera connections")
    st, _, data = env.http("GET", "/api/v1/cameras/999/live/main.mp4")
    check(st == 404, "live of a missing camera: %d" % st)
    for bad in ["/api/v1/cameras/1/live/third.mp4", "/api/v1/cameras/1/live/main.ts", "/api/v1/cameras/1/live/main",
                "/api/v1/cameras/1/live/..%2fmain.mp4", "/api/v1/cameras/1/live/%2e%2e/main.mp4"]:
        st, _, _ = env.http("GET", bad)
        check(st == 404, "%s: %d" % (bad, st))


def read_mux(env, path, until, timeout=15):
    """Reads a multiplexed live response until until(msgs) is true; returns the messages as
    (index, type, payload) tuples."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=10)
    conn.request("GET", path, headers={"Authorization": "Bearer " + env.token})
    r = conn.getresponse()
    if r.status != 200:
        raise TestFailure("mux: status %d %s" % (r.status, r.read()[:200]))
    check(r.getheader("Content-Type") == "application/vnd.sargas.live-mux", "mux content type")
    buf, msgs = b"", []
    end = time.monotonic() + timeout
    while time.monotonic() < end and not until(msgs):
        chunk = r.read1(65536)
        check(chunk, "mux response ended")
        buf += chunk
        while len(buf) >= 8:
            n = int.from_bytes(buf[4:8], "big")
            check(buf[2:4] == b"\0\0" and n < 1 << 24, "bad mux header %r" % buf[:8])
            if len(buf) < 8 + n:
                break
            msgs.append((buf[0], buf[1], buf[8:8 + n]))
            buf = buf[8 + n:]
    conn.close()
    check(until(msgs), "mux: condition not reached in %d s (%d messages)" % (timeout, len(msgs)))
    return msgs


def test_live_mux(env, c, fake):
    c.seen.add(("GET", "/api/v1/live"))
    before = sessions_started(fake, "cam1/sub")
    frames = lambda msgs, i: sum(1 for m in msgs if m[0] == i and m[1] == 2)
    msgs = read_mux(env, "/api/v1/live?streams=1:sub,2:main,999:sub,2:sub,1:main",
                    lambda ms: frames(ms, 0) >= 60 and frames(ms, 1) >= 60 and frames(ms, 4) >= 60)
    states = {}
    for i, t, p in msgs:
        if t == 1:
            states.setdefault(i, []).append(json.loads(p))
    check(states[0][0]["state"] == "live" and states[0][0]["codecs"].startswith("avc1."), "entry 0: %s" % states.get(0))
    check(states[1][0]["state"] == "live" and states[4][0]["state"] == "live", "entries 1/4: %s" % states)
    check(states[2] == [{"state": "not_found", "message": "no such camera"}], "missing camera: %s" % states.get(2))
    check(states[3][0]["state"] == "unavailable", "camera without a sub stream: %s" % states.get(3))
    check(not any(m[0] in (2, 3) and m[1] == 2 for m in msgs), "media for an entry without video")
    for i, width in [(0, 640), (1, 1920), (4, 1920)]:
        data = complete_boxes(b"".join(p for j, t, p in msgs if j == i and t == 2))
        with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
            f.write(data)
            f.flush()
            info = mp4inspect.inspect(f.name)
        cs = [x["counter"] for x in info["samples"]]
        check(info["width"] == width and info["samples"][0]["keyframe"], "entry %d: %sx, key %s" % (i, info["width"], info["samples"][0]["keyframe"]))
        check(all(b == a + 1 for a, b in zip(cs, cs[1:])), "entry %d: frames not consecutive" % i)
    check(sessions_started(fake, "cam1/sub") == before, "mux opened extra camera connections")
    for bad in ["", "?streams=", "?streams=1", "?streams=1:third", "?streams=0:sub", "?streams=1:sub,", "?streams=1:sub;2:sub",
                "?streams=" + ",".join("1:sub" for _ in range(33)), "?streams=01:sub", "?streams=1:sub,,2:sub"]:
        c.call("GET", "/api/v1/live", "/api/v1/live" + bad, expect=400)


def test_snapshot(env, c):
    P = "/api/v1/cameras/{id}/snapshot.jpg"
    for q, w in [("", 640), ("?stream=main", 1920), ("?width=320", 320), ("?stream=main&width=480&quality=50", 480)]:
        data = c.call("GET", P, "/api/v1/cameras/1/snapshot.jpg" + q)
        check(data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9", "not a JPEG (%s)" % q)
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(data)
            f.flush()
            n, width, height, codec = ffprobe_frames(f.name)
        check(codec == "mjpeg" and width == w and height == w * 9 // 16, "snapshot %s: %dx%d" % (q, width, height))
    for q in ["?stream=third", "?width=-5", "?width=abc", "?quality=0", "?quality=101", "?width=99999"]:
        c.call("GET", P, "/api/v1/cameras/1/snapshot.jpg" + q, expect=400)
    c.call("GET", P, "/api/v1/cameras/999/snapshot.jpg", expect=404)


def parse_playlist(text):
    lines = text.strip().splitlines()
    check(lines[0] == "#EXTM3U", "playlist header")
    frags, maps, pdt, disc = [], [], [], 0
    cur = {}
    for ln in lines[1:]:
        if ln.startswith("#EXT-X-MAP:"):
            m = re.match(r'#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"', ln)
            check(m, "bad EXT-X-MAP: %s" % ln)
            maps.append((m.group(1), int(m.group(2)), int(m.group(3))))
        elif ln.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            cur["pdt"] = ln.split(":", 1)[1]
        elif ln.startswith("#EXT-X-DISCONTINUITY"):
            disc += 1
            cur["disc"] = True
        elif ln.startswith("#EXTINF:"):
            cur["dur"] = float(ln[8:].rstrip(","))
        elif ln.startswith("#EXT-X-BYTERANGE:"):
            n, o = ln.split(":")[1].split("@")
            cur["range"] = (int(n), int(o))
        elif not ln.startswith("#"):
            cur["uri"] = ln
            cur["map"] = maps[-1]
            frags.append(cur)
            if "pdt" in cur:
                pdt.append(cur)
            cur = {}
    return frags, maps, disc, lines


def fetch_range(env, uri, n, o):
    st, hd, data = env.http("GET", uri, headers={"Range": "bytes=%d-%d" % (o, o + n - 1)})
    check(st == 206 and len(data) == n, "range %d@%d of %s: %d, %d bytes" % (n, o, uri, st, len(data)))
    check(hd["content-range"].startswith("bytes %d-%d/" % (o, o + n - 1)), "Content-Range %s" % hd["content-range"])
    return data


def test_recordings_and_playback(env, c):
    # wait for one complete segment (segment_seconds = 10)
    poll(lambda: any(s["status"] == "complete" and s["camera_id"] == 1 for s in env.segments(1)), 40, "a complete segment")
    now = time.time() * 1e6
    R = "/api/v1/cameras/{id}/recordings"
    rec = c.call("GET", R, "/api/v1/cameras/1/recordings?from=%s&to=%s" % (rfc(now - 600e6), rfc(now)))
    check(len(rec["spans"]) == 1, "one continuous span expected: %s" % rec)
    span = rec["spans"][0]
    check(utc_us(span["end"]) >= utc_us(span["start"]) + 9.5e6, "span too short: %s" % span)
    check(utc_us(span["end"]) >= now - 1e6, "an online camera's span must reach now: %s" % span)
    check(rec["gaps"] and rec["gaps"][0]["start"] == rfc(now - 600e6) and rec["gaps"][0]["end"] == span["start"],
          "the time before recording began must be a gap: %s" % rec["gaps"])
    c.call("GET", R, "/api/v1/cameras/1/recordings?stream=sub")  # sub is not recorded: empty but fine
    for q in ["from=yesterday", "from=2026-13-01T00:00:00Z", "to=%s&from=%s" % (rfc(now - 5e6), rfc(now)),
              "from=%s&to=%s" % (rfc(now - 40 * 86400e6), rfc(now)), "stream=third", "from=1'%20OR%201=1"]:
        c.call("GET", R, "/api/v1/cameras/1/recordings?" + q, expect=400)
    c.call("GET", R, "/api/v1/cameras/77/recordings", expect=404)
    L = "/api/v1/cameras/{id}/loss"
    c.call("GET", L, "/api/v1/cameras/1/loss")
    c.call("GET", L, "/api/v1/cameras/1/loss?from=x", expect=400)

    # HLS: a moment inside the first complete segment
    segs = [s for s in env.segments(1) if s["status"] == "complete" and s["stream"] == "main"]
    seg = segs[0]
    t = utc_us(seg["start"]) + 4.5e6
    H = "/api/v1/cameras/{id}/playback/{stream}.m3u8"
    text = c.call("GET", H, "/api/v1/cameras/1/playback/main.m3u8?from=%s&to=%s" % (rfc(t), seg["end"])).decode()
    frags, maps, disc, lines = parse_playlist(text)
    check("#EXT-X-ENDLIST" in lines and "#EXT-X-PLAYLIST-TYPE:VOD" in lines, "past range must be a VOD playlist")
    check(frags and "pdt" in frags[0], "first fragment without PROGRAM-DATE-TIME")
    first_pdt = utc_us(frags[0]["pdt"])
    check(first_pdt <= t < first_pdt + frags[0]["dur"] * 1e6 + 1e5,
          "first fragment [%s, +%.2f s) does not contain %s" % (frags[0]["pdt"], frags[0]["dur"], rfc(t)))
    # init + first fragment decode, and start with the fakecam frame of that moment's GOP
    uri, n, o = frags[0]["map"]
    data = fetch_range(env, uri, n, o) + fetch_range(env, frags[0]["uri"], *frags[0]["range"])
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(data)
        f.flush()
        info = mp4inspect.inspect(f.name)
        nframes, w, h, codec = ffprobe_frames(f.name)
    check(nframes == len(info["samples"]) == 50 and w == 1920, "fragment: %d frames %dx%d" % (nframes, w, h))
    first_counter = info["samples"][0]["counter"]
    check(abs(first_counter * 40000 - first_pdt) < 1.0e6,
          "first frame counter %d (sent %s) far from PDT %s" % (first_counter, rfc(first_counter * 40000), frags[0]["pdt"]))
    check(first_counter * 40000 <= t + 0.5e6 and t - first_counter * 40000 < 2.5e6, "seek target not in the first GOP")
    # open end: EVENT playlist without ENDLIST
    text = c.call("GET", H, "/api/v1/cameras/1/playback/main.m3u8?from=%s" % rfc(now - 20e6)).decode()
    check("#EXT-X-ENDLIST" not in text and "#EXT-X-PLAYLIST-TYPE:EVENT" in text,
          "live-edge playlist must be EVENT: %s\n%s" % (text[:400], env.segments(1)[-2:]))
    # a range with nothing recorded is an empty, valid VOD playlist
    text = c.call("GET", H, "/api/v1/cameras/1/playback/main.m3u8?from=2020-01-01T00:00:00Z&to=2020-01-01T01:00:00Z").decode()
    check("#EXTINF" not in text and "#EXT-X-ENDLIST" in text, "empty playlist: %s" % text)
    for q in ["from=x", "from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z"]:
        c.call("GET", H, "/api/v1/cameras/1/playback/main.m3u8?" + q, expect=400)
    return seg, t


def test_segments(env, c, seg):
    S = "/api/v1/cameras/{id}/segments/{segment}.mp4"
    sid = seg["id"]
    size = os.path.getsize(os.path.join(seg["root"], seg["path"]))
    u = "/api/v1/cameras/1/segments/%d.mp4" % sid
    whole = c.call("GET", S, u)
    check(len(whole) == size, "whole segment: %d of %d bytes" % (len(whole), size))
    cases = [("bytes=0-99", 206, slice(0, 100)), ("bytes=-100", 206, slice(size - 100, size)),
             ("bytes=%d-" % (size - 10), 206, slice(size - 10, size)), ("bytes=10-19", 206, slice(10, 20)),
             ("bytes=0-99999999999999", 206, slice(0, size)), ("bytes=%d-" % size, 416, None),
             ("bytes=99999999999-", 416, None), ("bytes=abc", 416, None), ("bytes=5-1", 416, None),
             ("bytes=0-1,5-9", 416, None), ("items=0-5", 416, None), ("bytes=-0", 416, None), ("bytes=--5", 416, None)]
    for rng, st, sl in cases:
        data = c.call("GET", S, u, expect=st, headers={"Range": rng})
        check(sl is None or data == whole[sl], "Range %s: wrong bytes" % rng)
    # another camera's segment, a missing segment, odd ids: all exactly "not found"
    for p in ["/api/v1/cameras/2/segments/%d.mp4" % sid, "/api/v1/cameras/1/segments/999999.mp4",
              "/api/v1/cameras/1/segments/..%2f..%2f..%2fetc%2fpasswd.mp4", "/api/v1/cameras/1/segments/%2fetc%2fpasswd.mp4",
              "/api/v1/cameras/1/segments/-1.mp4", "/api/v1/cameras/1/segments/1.mp4.mp4",
              "/api/v1/cameras/1/segments/%d" % sid, "/api/v1/cameras/1/segments/../../1/segments/%d.mp4" % sid]:
        st, _, data = env.http("GET", p)
        check(st == 404 and b"root:" not in data, "%s: %d" % (p, st))


def test_download(env, c, seg):
    D = "/api/v1/cameras/{id}/download.mp4"
    a = utc_us(seg["start"]) + 3e6
    b = a + 6e6
    st, hd, data = env.http("GET", "/api/v1/cameras/1/download.mp4?from=%s&to=%s" % (rfc(a), rfc(b)), timeout=120)
    check(st == 200 and hd["content-type"] == "video/mp4", "download: %d %s" % (st, data[:200]))
    c.seen.add(("GET", D))
    check("attachment" in hd.get("content-disposition", ""), "download is not an attachment")
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(data)
        f.flush()
        n, w, h, codec = ffprobe_frames(f.name)
        info = mp4inspect.inspect(f.name)
    first = info["samples"][0]["counter"] * 40000
    check(info["samples"][0]["keyframe"] and first <= a + 0.1e6 and a - first <= 2.1e6,
          "download must start at the keyframe at or before from: first frame %s, from %s" % (rfc(first), rfc(a)))
    last = info["samples"][-1]["counter"] * 40000
    check(b - 0.2e6 <= last + 40000 <= b + 0.1e6, "download must end at to: last %s, to %s" % (rfc(last), rfc(b)))
    check(n == len(info["samples"]) and w == 1920, "download decodes: %d frames" % n)
    check(hd.get("x-sargas-first-frame") and hd.get("x-sargas-gaps") == "0", "download headers: %s" % hd)
    for q, st in [("", 400), ("from=%s" % rfc(a), 400), ("from=%s&to=%s" % (rfc(a), rfc(a + 7 * 3600e6)), 400),
                  ("from=2020-01-01T00:00:00Z&to=2020-01-01T00:01:00Z", 404), ("from=%s&to=%s&stream=x" % (rfc(a), rfc(b)), 400)]:
        c.call("GET", D, "/api/v1/cameras/1/download.mp4?" + q, expect=st)
    c.call("GET", D, "/api/v1/cameras/999/download.mp4?from=%s&to=%s" % (rfc(a), rfc(b)), expect=404)
    leftovers = os.listdir(os.path.join(env.media, ".export")) if os.path.isdir(os.path.join(env.media, ".export")) else []
    check(not leftovers, "temporary export files left behind: %s" % leftovers)


def test_motion_api(env, c):
    """Motion events, their thumbnails, the activity index and zones through the API (what the
    analysis finds is test_motion's; here: the documents and that the pipeline runs)."""
    def events():
        return [e for e in c.call("GET", "/api/v1/events", "/api/v1/events?camera=1")["events"] if e["thumbnail"]]
    ev = poll(events, 40, "a motion event of camera 1 with a thumbnail")[0]
    check(ev["camera"] == 1 and ev["stream"] == "sub" and 0 < ev["peak_score"] <= 1, "event: %s" % ev)
    jpeg = c.call("GET", "/api/v1/events/{id}/thumbnail.jpg", ev["thumbnail"])
    check(jpeg[:2] == b"\xff\xd8", "thumbnail is not a JPEG")
    frm = rfc(utc_us(ev["start"]) - 5 * 1000000)

    def active():
        a = c.call("GET", "/api/v1/cameras/{id}/activity", "/api/v1/cameras/1/activity?step=1&from=" + frm)
        return a["step_s"] == 1 and max(a["levels"] or [0]) > 0 and a
    poll(active, 20, "activity of camera 1 in the index")
    c.call("GET", "/api/v1/cameras/{id}/activity", "/api/v1/cameras/1/activity?from=%s&to=%s" % (frm, frm), expect=400)
    check(c.call("GET", "/api/v1/cameras/{id}/zones", "/api/v1/cameras/1/zones") == {"zones": []}, "no zones yet")
    zones = {"zones": [{"name": "door", "kind": "detect", "points": [[0, 0], [0.5, 0], [0.5, 0.5]], "sensitivity": 60,
                        "min_area": 0.01},
                       {"name": "flag", "kind": "mask", "points": [[0.6, 0.6], [1, 0.6], [1, 1], [0.6, 1]]}]}
    check(c.call("PUT", "/api/v1/cameras/{id}/zones", "/api/v1/cameras/1/zones", zones) == zones, "zones echoed")
    check(c.call("GET", "/api/v1/cameras/{id}/zones", "/api/v1/cameras/1/zones") == zones, "zones stored")
    for bad in ([{"name": "x", "kind": "detect", "points": [[0, 0], [2, 0], [0, 1]]}],
                [{"name": "x", "kind": "sometimes", "points": [[0, 0], [1, 0], [0, 1]]}],
                [{"name": "x", "kind": "mask", "points": [[0, 0], [1, 0]]}],
                [{"name": "x", "kind": "mask", "points": [[0, 0], [1, 0], [0, 1]]}] * 2,
                [{"name": "", "kind": "mask", "points": [[0, 0], [1, 0], [0, 1]]}], "door"):
        c.call("PUT", "/api/v1/cameras/{id}/zones", "/api/v1/cameras/1/zones", {"zones": bad}, expect=400)
    check(c.call("GET", "/api/v1/cameras/{id}/zones", "/api/v1/cameras/1/zones") == zones, "bad zones changed nothing")


def cookie_of(hd):
    c = hd.get("set-cookie", "")
    check(c.startswith("sargas_session=") and "HttpOnly" in c and "SameSite=Strict" in c, "session cookie: %r" % c)
    return c.split(";")[0]


def test_accounts(env, c):
    """Every account, token, site and audit route once, answers checked against the document
    (the access rules themselves are test_access's, the abuse cases test_auth's)."""
    pw = env.ADMIN_PASSWORD
    s = c.call("GET", "/api/v1/session", "/api/v1/session")
    check(s["user"]["name"] == "admin" and s["csrf"] is None and "users.admin" in s["permissions"],
          "session of the admin token: %s" % s)
    c.call("POST", "/api/v1/setup", "/api/v1/setup", {"token": "x" * 43, "user": "boss", "password": "p" * 12},
           expect=403, headers={"Authorization": ""})
    st, hd, data = env.http("POST", "/api/v1/login", {"user": "admin", "password": pw}, auth=False)
    check(st == 200, "login: %d %s" % (st, data[:200]))
    cookie = cookie_of(hd)
    sess = json.loads(data)
    c.doc.validate(sess, c.doc.response_schema("/api/v1/login", "POST", 200)["content"]["application/json"]["schema"], "login")
    c.seen.add(("POST", "/api/v1/login"))
    ch = {"Cookie": cookie, "X-CSRF-Token": sess["csrf"]}
    site = c.call("GET", "/api/v1/site", "/api/v1/site", headers=ch)
    check(site["id"] == 1, "site: %s" % site)
    u = c.call("POST", "/api/v1/users", "/api/v1/users", {"name": "op1", "role": "operator", "password": "operator-pass-1",
                                                          "all_cameras": False}, expect=201, headers=ch)
    uid = u["id"]
    check(u["grants"] == [] and not u["all_cameras"], "new user: %s" % u)
    users = c.call("GET", "/api/v1/users", "/api/v1/users", headers=ch)["users"]
    check(sorted(x["name"] for x in users) == ["admin", "op1"], "users: %s" % users)
    g = c.call("PUT", "/api/v1/users/{id}/grants", "/api/v1/users/%d/grants" % uid,
               {"grants": [{"camera": 1, "access": "allow"}, {"camera": 2, "access": "deny"}]}, headers=ch)
    check(g["grants"] == [{"camera": 1, "access": "allow"}, {"camera": 2, "access": "deny"}], "grants: %s" % g)
    u = c.call("PATCH", "/api/v1/users/{id}", "/api/v1/users/%d" % uid, {"role": "viewer"}, headers=ch)
    check(u["role"] == "viewer", "patched: %s" % u)
    check(c.call("GET", "/api/v1/users/{id}", "/api/v1/users/%d" % uid, headers=ch)["grants"] == g["grants"], "get user")
    r = c.call("DELETE", "/api/v1/users/{id}/sessions", "/api/v1/users/%d/sessions" % uid, headers=ch)
    check(r["revoked"] == 0, "no sessions to end: %s" % r)
    t = c.call("POST", "/api/v1/tokens", "/api/v1/tokens", {"name": "nvr export", "scopes": ["playback"]}, expect=201,
               headers=ch)
    check(t["scopes"] == ["playback"] and len(t["token"]) >= 43, "token: %s" % t)
    toks = c.call("GET", "/api/v1/tokens", "/api/v1/tokens", headers=ch)["tokens"]
    check(any(x["id"] == t["id"] and "token" not in x for x in toks), "token list shows a secret or misses one: %s" % toks)
    c.call("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/%d" % t["id"], expect=204, headers=ch)
    c.call("DELETE", "/api/v1/users/{id}", "/api/v1/users/%d" % uid, expect=204, headers=ch)
    page = c.call("GET", "/api/v1/audit", "/api/v1/audit?limit=5", headers=ch)
    check(len(page["entries"]) <= 5, "audit page larger than its limit")
    csv = c.call("GET", "/api/v1/audit.csv", "/api/v1/audit.csv?action=user.", headers=ch)
    check(csv.startswith(b"seq,time_utc,user,"), "CSV header: %r" % csv[:80])
    s2 = c.call("POST", "/api/v1/session/password", "/api/v1/session/password", {"current": pw, "new": pw + "-2"},
                headers=ch)
    st, _, _ = env.http("GET", "/api/v1/site", headers={"Cookie": cookie})
    check(st == 401, "the old session must end with a password change: %d" % st)
    st, hd, data = env.http("POST", "/api/v1/login", {"user": "admin", "password": pw + "-2"}, auth=False)
    check(st == 200, "login with the new password: %d" % st)
    cookie2 = cookie_of(hd)
    c.call("POST", "/api/v1/logout", "/api/v1/logout", headers={"Cookie": cookie2, "X-CSRF-Token": json.loads(data)["csrf"]})
    st, _, _ = env.http("GET", "/api/v1/site", headers={"Cookie": cookie2})
    check(st == 401, "a logged-out session must be refused: %d" % st)
    check(s2["user"]["name"] == "admin", "password change answer: %s" % s2)


def error_code(e):
    return e["error"]["code"] if isinstance(e, dict) else None


def test_site_key(env, c):
    K = "/api/v1/site/key.pub"
    key = c.call("GET", K, K)
    check(re.match(rb"^[0-9a-f]{64}\n$", key), "site key file: %r" % key[:100])
    check(re.match(r'^attachment; filename="site-1\.pub"$', c.headers.get("content-disposition", "")),
          "site key disposition: %s" % c.headers)
    site = c.call("GET", "/api/v1/site", "/api/v1/site")
    check(key.decode().strip() == site["public_key"], "key file %r, site key %r" % (key, site["public_key"]))
    e = c.call("GET", K, K, expect=401, headers={"Authorization": "Bearer " + "Q" * 43})
    check(error_code(e) == "unauthorized", "site key without a principal: %s" % e)


def test_cases(env, c, seg, admin_id):
    """Cases and their items (each a lock), every case route with good and bad input; returns
    (the case with two items, one released; an open case without items; a time range of camera
    1 inside a recorded segment)."""
    CS, C1, IT = "/api/v1/cases", "/api/v1/cases/{id}", "/api/v1/cases/{id}/items"
    RL, CL = "/api/v1/cases/{id}/items/{item}/release", "/api/v1/cases/{id}/close"
    check(c.call("GET", CS, CS) == {"cases": []}, "cases before any was opened")
    body = {"reference": "2026/API-1", "title": "Parcel theft at the gate", "reason": "Report by the night guard\n"
            "at 03:10"}
    case = c.call("POST", CS, CS, body, expect=201)
    check(all(case[k] == v for k, v in body.items()) and case["state"] == "open" and case["owner"] ==
          {"id": admin_id, "name": "admin"} and "closed" not in case, "new case: %s" % case)
    check((case["items"], case["locked_items"], case["item_list"], case["hidden_items"]) == (0, 0, [], 0),
          "new case items: %s" % case)
    cid = case["id"]
    one = "/api/v1/cases/%d" % cid
    check(c.call("GET", C1, one) == case, "GET differs from the creation's answer")
    # bad input: refused, nothing created
    ok = {"reference": "2026/API-2", "title": "t", "reason": "r"}
    for b, st, code in [
        (dict(ok, reference="2026/API-1"), 409, "exists"),
        ({"reference": "x", "title": "t"}, 400, "bad_request"),
        (dict(ok, reference=""), 400, "bad_request"),
        (dict(ok, title=""), 400, "bad_request"),
        (dict(ok, reference="a\nb"), 400, "bad_request"),
        (dict(ok, reference="a\tb"), 400, "bad_request"),
        (dict(ok, reference="x" * 65), 400, "bad_request"),
        (dict(ok, title="t" * 201), 400, "bad_request"),
        (dict(ok, reason="r" * 1024), 400, "bad_request"),
        (dict(ok, title="a\x01b"), 400, "bad_request"),
        (dict(ok, reference=5), 400, "bad_request"),
        (dict(ok, state="closed"), 400, "bad_request"),
        ([ok], 400, "bad_json"),
    ]:
        e = c.call("POST", CS, CS, b, expect=st)
        check(error_code(e) == code, "POST case %r: %s, wanted %s" % (b, e, code))
    # the longest reference and title are fine; this case stays empty and open
    empty = c.call("POST", CS, CS, {"reference": "R" * 64, "title": "T" * 200, "reason": "x" * 1023}, expect=201)
    lst = c.call("GET", CS, CS)["cases"]
    check([x["id"] for x in lst] == [empty["id"], cid], "cases, newest first: %s" % lst)
    check(all("item_list" not in x for x in lst), "the list carries items: %s" % lst)
    for q in ["?state=pending", "?state=", "?state=OPEN"]:
        c.call("GET", CS, CS + q, expect=400)
    c.call("GET", C1, "/api/v1/cases/999999", expect=404)

    # items: a range of camera 1, and a motion event with its default padding
    a = utc_us(seg["start"]) + 1e6
    b = a + 4e6
    item = c.call("POST", IT, one + "/items", {"camera_id": 1, "start": rfc(a), "end": rfc(b), "note": "the gate"},
                  expect=201)
    check((item["items"], item["locked_items"], item["hidden_items"]) == (1, 1, 0), "one item: %s" % item)
    it1 = item["item_list"][0]
    check(it1["camera_id"] == 1 and it1["camera"] == "cam1" and it1["start"] == rfc(a) and it1["end"] == rfc(b)
          and it1["note"] == "the gate" and it1["locked"] and it1["event_id"] is None and it1["added_by"] == admin_id
          and "released" not in it1, "item: %s" % it1)
    ev = c.call("GET", "/api/v1/events", "/api/v1/events?camera=1")["events"][-1]
    item = c.call("POST", IT, one + "/items", {"event_id": ev["id"]}, expect=201)
    it2 = item["item_list"][1]
    check(it2["event_id"] == ev["id"] and it2["camera_id"] == ev["camera"] and it2["note"] == "" and
          abs(utc_us(it2["start"]) - (utc_us(ev["start"]) - 10e6)) < 1000, "event item: %s (event %s)" % (it2, ev))
    check((item["items"], item["locked_items"]) == (2, 2), "two items: %s" % item)
    good = {"camera_id": 1, "start": rfc(a), "end": rfc(b)}
    for bd, st, code in [
        (dict(good, start=rfc(b), end=rfc(a)), 400, "bad_request"),
        (dict(good, end=rfc(a)), 400, "bad_request"),
        (dict(good, end=rfc(a + 24 * 3600e6 + 1e6)), 400, "range_too_large"),
        ({"camera_id": 1, "start": rfc(a)}, 400, "bad_request"),
        (dict(good, start="yesterday"), 400, "bad_request"),
        (dict(good, end=12345), 400, "bad_request"),
        (dict(good, camera_id=0), 400, "bad_request"),
        (dict(good, camera_id="1"), 400, "bad_request"),
        ({"start": rfc(a), "end": rfc(b)}, 400, "bad_request"),
        (dict(good, note="n" * 256), 400, "bad_request"),
        (dict(good, note="a\x01b"), 400, "bad_request"),
        (dict(good, locked=False), 400, "bad_request"),
        ({"event_id": "1"}, 400, "bad_request"),
        ({"event_id": 0}, 400, "bad_request"),
        ({"event_id": ev["id"], "end": "later"}, 400, "bad_request"),
        (dict(good, camera_id=999), 404, "not_found"),
        ({"event_id": 99999999}, 404, "not_found"),
        ([good], 400, "bad_json"),
    ]:
        e = c.call("POST", IT, one + "/items", bd, expect=st)
        check(error_code(e) == code, "POST item %r: %s, wanted %s" % (bd, e, code))
    c.call("POST", IT, "/api/v1/cases/999999/items", good, expect=404)
    check(c.call("GET", C1, one)["items"] == 2, "refused items were added")

    # release: the event item, with a reason, once
    rel = "%s/items/%d/release" % (one, it2["id"])
    for bd in [{}, {"reason": ""}, {"reason": "r" * 1024}, {"reason": 5}, {"reason": "r", "why": "x"}]:
        c.call("POST", RL, rel, bd, expect=400)
    d = c.call("POST", RL, rel, {"reason": "the event shows the neighbour's cat"})
    r2 = [x for x in d["item_list"] if x["id"] == it2["id"]][0]
    check(not r2["locked"] and r2["released_by"] == admin_id and r2["release_reason"] ==
          "the event shows the neighbour's cat" and r2["released"], "released item: %s" % r2)
    check((d["items"], d["locked_items"]) == (2, 1) and d["item_list"][0]["locked"], "after release: %s" % d)
    e = c.call("POST", RL, rel, {"reason": "again"}, expect=409)
    check(error_code(e) == "released", "second release: %s" % e)
    for p in ["%s/items/999999/release" % one, "/api/v1/cases/%d/items/%d/release" % (empty["id"], it1["id"]),
              "/api/v1/cases/999999/items/%d/release" % it1["id"]]:
        c.call("POST", RL, p, {"reason": "r"}, expect=404)
    for p in ["%s/items/0/release" % one, "%s/items/abc/release" % one, "%s/items/-1/release" % one]:
        st, _, _ = env.http("POST", p, {"reason": "r"})
        check(st == 404, "%s: %d" % (p, st))
    check(c.call("GET", C1, one)["item_list"][0]["locked"], "a refused release released the other item")
    return cid, empty["id"], (a, b)


def close_case(env, c, cid, empty_id, ab):
    CS, C1, IT = "/api/v1/cases", "/api/v1/cases/{id}", "/api/v1/cases/{id}/items"
    RL, CL = "/api/v1/cases/{id}/items/{item}/release", "/api/v1/cases/{id}/close"
    one = "/api/v1/cases/%d" % cid
    before = c.call("GET", C1, one)
    for bd in [{}, {"reason": ""}, {"reason": "r", "state": "closed"}]:
        c.call("POST", CL, one + "/close", bd, expect=400)
    d = c.call("POST", CL, one + "/close", {"reason": "Handed over to the police"})
    check(d["state"] == "closed" and d["close_reason"] == "Handed over to the police" and d["closed"] and
          d["locked_items"] == 0 and not any(x["locked"] for x in d["item_list"]), "closed: %s" % d)
    reasons = [x["release_reason"] for x in d["item_list"]]
    check(reasons == ["Handed over to the police", before["item_list"][1]["release_reason"]],
          "release reasons after closing: %s" % reasons)
    e = c.call("POST", CL, one + "/close", {"reason": "again"}, expect=409)
    check(error_code(e) == "case_closed", "closing twice: %s" % e)
    e = c.call("POST", IT, one + "/items", {"camera_id": 1, "start": rfc(ab[0]), "end": rfc(ab[1])}, expect=409)
    check(error_code(e) == "case_closed", "an item added to a closed case: %s" % e)
    e = c.call("POST", RL, "%s/items/%d/release" % (one, d["item_list"][0]["id"]), {"reason": "r"}, expect=409)
    check(error_code(e) == "released", "release in a closed case: %s" % e)
    c.call("POST", CL, "/api/v1/cases/999999/close", {"reason": "r"}, expect=404)
    ids = lambda q: [x["id"] for x in c.call("GET", CS, CS + q)["cases"]]
    check(ids("?state=closed") == [cid] and ids("?state=open") == [empty_id] and ids("?state=all") == [empty_id, cid]
          and ids("") == ids("?state=all"), "cases by state")


def wait_export(c, jid):
    def done():
        j = c.call("GET", "/api/v1/exports/{id}", "/api/v1/exports/%d" % jid)
        check(j["state"] != "failed", "export %d failed: %s" % (jid, j))
        return j["state"] == "done" and j
    return poll(done, 120, "export %d to finish" % jid)


def test_exports(env, c, cid, empty_id, ab):
    """Export jobs: by case and by ranges, bad input, the package, busy and gone answers."""
    import hashlib
    import io
    import zipfile
    E, E1, EP = "/api/v1/exports", "/api/v1/exports/{id}", "/api/v1/exports/{id}/package.zip"
    a, b = ab
    r1 = {"camera_id": 1, "start": rfc(a), "end": rfc(b)}
    check(c.call("GET", E, E) == {"exports": []}, "exports before any")
    for bd, st, code in [
        ({"reason": "r"}, 400, "bad_request"),
        ({"case_id": cid, "items": [r1], "reason": "r"}, 400, "bad_request"),
        ({"items": [r1]}, 400, "bad_request"),
        ({"items": [r1], "reason": ""}, 400, "bad_request"),
        ({"items": [r1], "reason": "r", "format": "avi"}, 400, "bad_request"),
        ({"items": [r1], "reason": "r", "format": 4}, 400, "bad_request"),
        ({"items": [], "reason": "r"}, 400, "bad_request"),
        ({"items": [r1] * 65, "reason": "r"}, 400, "bad_request"),
        ({"items": "all", "reason": "r"}, 400, "bad_request"),
        ({"items": [5], "reason": "r"}, 400, "bad_request"),
        ({"items": [dict(r1, note="x")], "reason": "r"}, 400, "bad_request"),
        ({"items": [dict(r1, end=rfc(a))], "reason": "r"}, 400, "bad_request"),
        ({"items": [dict(r1, end=rfc(a + 24 * 3600e6 + 1e6))], "reason": "r"}, 400, "range_too_large"),
        ({"items": [dict(r1, start="now")], "reason": "r"}, 400, "bad_request"),
        ({"items": [{"start": rfc(a), "end": rfc(b)}], "reason": "r"}, 400, "bad_request"),
        ({"case_id": str(cid), "reason": "r"}, 400, "bad_request"),
        ({"case_id": cid, "reason": "r", "owner": 1}, 400, "bad_request"),
        ({"case_id": empty_id, "reason": "r"}, 400, "bad_request"),  # a case without items
        ({"items": [r1, dict(r1, camera_id=999)], "reason": "r"}, 404, "not_found"),
        ({"case_id": 999999, "reason": "r"}, 404, "not_found"),
    ]:
        e = c.call("POST", E, E, bd, expect=st)
        check(error_code(e) == code, "POST export %r: %s, wanted %s" % (bd, e, code))
    check(c.call("GET", E, E) == {"exports": []}, "refused exports were queued")

    # a job still queued: its package is not ready and it cannot be deleted. Exports run one at
    # a time in order, so the last of three posted at once waits behind the other two (each
    # cuts, hashes, signs, zips and fsyncs); should all three have finished already, the round
    # is tried again.
    got = set()
    for _ in range(10):
        j = [c.call("POST", E, E, {"items": [r1], "reason": "busy probe"}, expect=202) for _ in range(3)][-1]
        u = "/api/v1/exports/%d" % j["id"]
        e = c.call("GET", EP, u + "/package.zip", expect=(200, 409))
        if isinstance(e, dict):
            check(error_code(e) == "not_ready", "package of a queued job: %s" % e)
            got.add("package")
        e = c.call("DELETE", E1, u, expect=(204, 409))
        if isinstance(e, dict):
            check(error_code(e) == "busy", "deleting a queued job: %s" % e)
            got.add("delete")
        if got == {"package", "delete"}:
            break
    check(got == {"package", "delete"}, "no export was found queued or running in 10 tries: %s" % got)

    job = c.call("POST", E, E, {"case_id": cid, "reason": "Request of the police, file 7/26", "format": "mp4"},
                 expect=202)
    case = c.call("GET", "/api/v1/cases/{id}", "/api/v1/cases/%d" % cid)
    want = [{"camera_id": x["camera_id"], "start": x["start"], "end": x["end"]} for x in case["item_list"]]
    check(job["state"] in ("queued", "running", "done") and job["case_id"] == cid and job["format"] == "mp4"
          and job["user"]["name"] == "admin" and job["items"] == want and job["reason"].startswith("Request of"),
          "case export job: %s, case items %s" % (job, want))
    job = wait_export(c, job["id"])
    check(job["progress"] == 1 and job["bytes"] > 0 and re.match(r"^[0-9a-f]{64}$", job["sha256"]) and
          job["download"] == "/api/v1/exports/%d/package.zip" % job["id"] and job["finished"] and "error" not in job,
          "finished job: %s" % job)
    data = c.call("GET", EP, job["download"])
    hd = c.headers
    check(hd.get("content-type") == "application/zip" and hd.get("x-sargas-sha256") == job["sha256"] ==
          hashlib.sha256(data).hexdigest() and len(data) == job["bytes"], "package: %s, job %s" % (hd, job))
    check('filename="export-%d.zip"' % job["id"] in hd.get("content-disposition", ""), "disposition: %s" % hd)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    check("export-%d/manifest.json" % job["id"] in names, "package files: %s" % names)
    lst = c.call("GET", E, E)["exports"]
    check(lst and lst[0]["id"] == job["id"] and all("items" not in x for x in lst), "export list: %s" % lst)

    # the package file removed behind the server's back: gone; deleting the job still works
    os.unlink(os.path.join(env.config["export_dir"], "export-%d.zip" % job["id"]))
    u = "/api/v1/exports/%d" % job["id"]
    e = c.call("GET", EP, u + "/package.zip", expect=410)
    check(error_code(e) == "gone", "package file removed: %s" % e)
    c.call("DELETE", E1, u, expect=204)
    for m, pat, p in [("GET", E1, u), ("DELETE", E1, u), ("GET", EP, u + "/package.zip")]:
        c.call(m, pat, p, expect=404)
    check(job["id"] not in [x["id"] for x in c.call("GET", E, E)["exports"]], "a deleted job is listed")
    c.call("GET", E1, "/api/v1/exports/999999", expect=404)


def test_evidence_access(env, c, ab):
    """An investigator who sees camera 1 only: a case with footage of cameras 1 and 2 shows one
    item and counts the other; exporting it is refused (403), exporting camera 2 is 'not
    found'; a viewer may not read cases."""
    a, b = ab
    uid = env.user("api-inv", "investigator", "investigator-pass-1", "--granted-only")
    env.cli("user", "grant", "api-inv", "--camera", "1")
    inv = {"Authorization": "Bearer " + env.make_token("api-inv")}
    env.user("api-viewer", "viewer", "viewer-pass-1234")
    viewer = {"Authorization": "Bearer " + env.make_token("api-viewer")}
    CS, C1, E = "/api/v1/cases", "/api/v1/cases/{id}", "/api/v1/exports"
    cid = c.call("POST", CS, CS, {"reference": "2026/API-3", "title": "both gates", "reason": "r"}, expect=201)["id"]
    for cam in (1, 2):
        c.call("POST", "/api/v1/cases/{id}/items", "/api/v1/cases/%d/items" % cid,
               {"camera_id": cam, "start": rfc(a), "end": rfc(b)}, expect=201)
    d = c.call("GET", C1, "/api/v1/cases/%d" % cid, headers=inv)
    check(d["items"] == 2 and d["hidden_items"] == 1 and [x["camera_id"] for x in d["item_list"]] == [1],
          "the investigator's view of the case: %s" % d)
    check(b"cam2" not in json.dumps(d).encode(), "a hidden item's camera is named: %s" % d)
    e = c.call("POST", E, E, {"case_id": cid, "reason": "r"}, expect=403, headers=inv)
    check(error_code(e) == "forbidden", "export of a case with a hidden camera: %s" % e)
    e = c.call("POST", E, E, {"items": [{"camera_id": 2, "start": rfc(a), "end": rfc(b)}], "reason": "r"},
               expect=404, headers=inv)
    check(error_code(e) == "not_found", "export of a camera not granted: %s" % e)
    for m, pat, p, bd in [("GET", CS, CS, None), ("POST", CS, CS, {"reference": "v", "title": "t", "reason": "r"}),
                          ("GET", E, E, None), ("POST", "/api/v1/cases/{id}/close", "/api/v1/cases/%d/close" % cid,
                                                {"reason": "r"})]:
        e = c.call(m, pat, p, bd, expect=403, headers=viewer)
        check(error_code(e) == "forbidden", "viewer %s %s: %s" % (m, p, e))
    c.call("POST", "/api/v1/cases/{id}/close", "/api/v1/cases/%d/close" % cid, {"reason": "test over"})
    # an export of camera 2: neither listed for the investigator nor readable (the others are of camera 1)
    j2 = c.call("POST", E, E, {"items": [{"camera_id": 2, "start": rfc(a), "end": rfc(b)}], "reason": "r"}, expect=202)
    mine = [x["id"] for x in c.call("GET", E, E, headers=inv)["exports"]]
    check(mine == [x["id"] for x in c.call("GET", E, E)["exports"] if x["id"] != j2["id"]],
          "the investigator lists exports %s" % mine)
    c.call("GET", "/api/v1/exports/{id}", "/api/v1/exports/%d" % j2["id"], expect=404, headers=inv)
    wait_export(c, j2["id"])
    c.call("DELETE", "/api/v1/users/{id}", "/api/v1/users/%d" % uid, expect=204)


def test_evidence_api(env, c, seg):
    """Every evidence route once or more, answers checked against the document (the package
    itself and the verifier are test_evidence's, the access rules test_access's)."""
    admin_id = c.call("GET", "/api/v1/session", "/api/v1/session")["user"]["id"]
    test_site_key(env, c)
    cid, empty_id, ab = test_cases(env, c, seg, admin_id)
    test_exports(env, c, cid, empty_id, ab)
    close_case(env, c, cid, empty_id, ab)
    test_evidence_access(env, c, ab)


def test_static_and_traversal(env):
    st, hd, data = env.http("GET", "/")
    check(st == 200 and hd["content-type"].startswith("text/html"), "console index: %d" % st)
    check("default-src 'self'" in hd.get("content-security-policy", ""), "console without CSP")
    hostile = ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
               "//etc/passwd", "/js/../../../../etc/passwd", "/.git/config", "/js/.%2e/.%2e/.%2e/etc/passwd",
               "/index.html%00.js", "/%5c..%5c..%5cetc%5cpasswd", "/" + "a/" * 400 + "x", "/etc/passwd",
               "/api/v1/../../etc/passwd", "/api/v1/cameras/1/../../../../etc/passwd", "/%252e%252e/etc/passwd"]
    for p in hostile:
        st, _, data = env.http("GET", p)
        check(st in (400, 404) and b"root:" not in data, "%s: %d" % (p, st))
    st, _, _ = env.http("POST", "/index.html", b"x")
    check(st == 405, "POST to a static file: %d" % st)
    st, hd, data = env.http("HEAD", "/api/v1/health")
    check(st == 200 and not data, "HEAD health: %d" % st)


def test_tls(env):
    key = os.path.join(env.dir, "key.pem")
    cert = os.path.join(env.dir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"], check=True,
                   capture_output=True)
    env.config.update(tls_cert=cert, tls_key=key)
    env.write_config()
    env.start()
    st, _, data = env.http("GET", "/api/v1/health", tls=True)
    check(st == 200 and json.loads(data)["status"] in ("ok", "degraded"), "health over TLS: %d" % st)
    # under TLS the session cookie is Secure (test_accounts changed the admin's password)
    st, hd, _ = env.http("POST", "/api/v1/login", {"user": "admin", "password": env.ADMIN_PASSWORD + "-2"}, tls=True,
                         auth=False)
    check(st == 200 and "; Secure" in hd.get("set-cookie", ""), "TLS login cookie: %d %r" % (st, hd.get("set-cookie")))
    try:
        env.http("GET", "/api/v1/health")
        plain_ok = True
    except Exception:
        plain_ok = False
    check(not plain_ok, "plain HTTP must not be answered on a TLS listener")
    env.stop()


def test_api():
    env = Env("api", segment_seconds=10)
    try:
        fake = env.fakecam(2)
        port = fake.port
        env.add_camera("cam1", "rtsp://127.0.0.1:%d/cam1/main" % port, "rtsp://127.0.0.1:%d/cam1/sub" % port)
        env.add_camera("cam2", "rtsp://user:secret@127.0.0.1:%d/cam2/main" % port)
        env.start()
        st, _, data = env.http("GET", "/api/v1/openapi.json")
        check(st == 200, "openapi.json: %d" % st)
        c = Checked(env, Doc(json.loads(data)))
        c.seen.add(("GET", "/api/v1/openapi.json"))
        test_openapi_matches_router(env, c)
        test_state_and_health(env, c)
        test_cameras(env, c, port)
        test_live(env, c, fake)
        test_live_mux(env, c, fake)
        test_snapshot(env, c)
        seg, _ = test_recordings_and_playback(env, c)
        test_segments(env, c, seg)
        test_download(env, c, seg)
        test_motion_api(env, c)
        test_accounts(env, c)
        test_evidence_api(env, c, seg)
        test_static_and_traversal(env)
        missing = set(routes()) - c.seen
        check(not missing, "routes this test never called: %s" % sorted(missing))
        check(env.daemon.alive(), "sargasd died")
        log = env.daemon.text()
        check("ERROR" not in log.replace("ERROR  http", ""), "errors in the daemon log:\n%s" %
              "\n".join(ln for ln in log.splitlines() if "ERROR" in ln)[-2000:])
        # stopping with live viewers connected (one of them parked on an offline camera's
        # stream would be enough to hang libmicrohttpd if they were not resumed first)
        viewers = [{} for _ in range(2)]
        ts = [threading.Thread(target=read_live, args=(env, p, 30, o)) for o, p in
              zip(viewers, ["/api/v1/cameras/1/live/main.mp4", "/api/v1/cameras/2/live/main.mp4"])]
        for t in ts:
            t.start()
        poll(lambda: all("t0" in v for v in viewers), 10, "live viewers connected")
        t0 = time.monotonic()
        env.stop()
        for t in ts:
            t.join(15)
        check(not any(t.is_alive() for t in ts), "live responses did not end when sargasd stopped")
        check(time.monotonic() - t0 < 10, "stopping with live viewers took %.1f s" % (time.monotonic() - t0))
        test_tls(env)
    finally:
        env.close()


if __name__ == "__main__":
    run(test_api)
