#!/usr/bin/env python3
"""Bad input: refused URL schemes, malformed configuration, and hostile or broken cameras
(slow-byte handshakes, silence, garbage, 2 MB headers, 1000-track SDPs, malformed interleaved
frames, a 10 MB NAL unit, an in-band resolution change, RTP sequence/timestamp jumps, dropped
connections, stalls, wrong credentials). Each gets a clear error, nothing crashes, memory stays
bounded, and a healthy camera recorded alongside loses nothing."""
import os
import subprocess
import time

from harness import (BUILD, MEDIA, Env, check, counters, ffprobe_frames, poll, rss_mb, run,
                     stream_segments, utc_us)


def test_refused_urls_and_config():
    env = Env("badurl")
    try:
        for url in ("http://10.0.0.1/video.mjpg", "file:///etc/passwd", "exec:/bin/sh", "concat:a.mp4|b.mp4",
                    "rtmp://10.0.0.1/live", "udp://239.1.1.1:5000", "/dev/video0", "rtsp://host/a b",
                    "rtsp://u%0d%0aInjected:x@host/", "rtsp://host:70000/x", "", "pipe:0", "tcp://h:1"):
            r = env.cli("camera", "add", "--name", "bad", "--main", url, ok=False)
            check(r.returncode == 2, "URL %r accepted (rc %d)" % (url, r.returncode))
            check("URL refused" in r.stderr, "no clear error for %r: %s" % (url, r.stderr))
        r = env.cli("camera", "add", "--name", "ok", "--main", "rtsp://10.0.0.1/a", "--sub", "http://x/", ok=False)
        check(r.returncode == 2 and "sub URL refused" in r.stderr, "sub URL not checked: %s" % r.stderr)
        check(env.cameras() == [], "a refused camera was stored")
        r = env.cli("camera", "add", "--name", "x", "--main", "rtsp://h/", "--retain-hours", "0", ok=False)
        check(r.returncode == 2 and "retain-hours" in r.stderr, r.stderr)
        r = env.cli("camera", "add", "--name", "x\x01y", "--main", "rtsp://h/", ok=False)
        check(r.returncode == 2, "control characters accepted in a name")
        # malformed configuration: file and line in the message, exit 2
        cases = {
            "storage_root = /tmp/x\nsegment_seconds = forever\n": ":2: 'segment_seconds' must be an integer",
            "storage_root = /tmp/x\nunknown_thing = 1\n": ":2: unknown option 'unknown_thing'",
            "this is not an assignment\n": ":1: expected 'key = value'",
            "storage_root = relative\n": ":1: 'storage_root' must be an absolute path",
            "log_level = chatty\n": ":1: 'log_level' must be error, warn, info or debug",
            "storage_min_free = lots\n": ":1: 'storage_min_free' must be a size",
        }
        path = os.path.join(env.dir, "bad.conf")
        for text, expect in cases.items():
            refused_config(path, text, path + expect)
        # the MQTT settings that sargasd would refuse at start are refused by --check-config
        pw_empty = os.path.join(env.dir, "empty-pw")
        open(pw_empty, "w").close()
        mqtt_cases = {
            "mqtt_host = 127.0.0.1\nmqtt_topic_prefix = site/#\n": "mqtt_topic_prefix 'site/#' is not usable",
            "mqtt_host = 127.0.0.1\nmqtt_client_id = a/b\n": "mqtt_client_id 'a/b' is not usable",
            "mqtt_host = 127.0.0.1\nmqtt_password_file = %s\n" % pw_empty: "mqtt_username is empty",
            "mqtt_host = 127.0.0.1\nmqtt_username = bob\nmqtt_password_file = %s\n" % pw_empty:
                "the first line is empty",
            "mqtt_host = 127.0.0.1\nmqtt_username = bob\nmqtt_password_file = %s/none\n" % env.dir:
                "cannot read mqtt_password_file",
        }
        for text, expect in mqtt_cases.items():
            refused_config(path, text, expect)
        # the same prefix without a broker configured is not checked (MQTT off)
        r = subprocess.run([os.path.join(BUILD, "sargasd"), "--set", "mqtt_topic_prefix=site/#", "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "MQTT settings checked although mqtt_host is empty: %s" % r.stderr)
        # test mode: file sources only when the config says so
        r = env.cli("camera", "add", "--name", "f", "--main", "file://%s/sub.h264" % MEDIA, ok=False)
        check(r.returncode == 2 and "allow_test_sources" in r.stderr, r.stderr)
    finally:
        env.close()


def refused_config(path, text, expect):
    """sargasd --check-config on a file holding text: exit 2, and expect in its message."""
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([os.path.join(BUILD, "sargasd"), "--config", path, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2, "bad config accepted by --check-config: %r" % text)
    check(expect in r.stderr, "expected %r in %r" % (expect, r.stderr))


HOSTILE = [
    # mode, expected substring in the camera's last error (None: it must record), extra args
    ("slowloris", "handshake not finished", []),
    ("silent", "handshake not finished", []),
    ("garbage-handshake", "garbage", []),
    ("huge-header", "exceeds 16384 bytes of headers", []),
    ("many-tracks", None, []),
    ("garbage-stream", None, []),
    ("malformed-interleaved", None, []),
    ("bignal", None, []),
    ("seqjump", None, []),
    ("drop", None, []),
    ("stall", None, []),
    ("nothing-after-play", "no frame", []),
    ("gap", "video missing in the stream", []),
    ("nokey", "no keyframe (IDR) within 30 s", []),
    ("normal", None, ["--media", "LONGGOP", "--start-frame", "30"]),
    ("spschange", None, ["--media2", os.path.join(MEDIA, "sub720.h264")]),
    ("normal", None, ["--auth", "digest", "--user", "op", "--password", "right"]),
    ("normal", None, ["--auth", "basic", "--user", "op", "--password", "right"]),
    ("normal", "authentication refused", ["--auth", "digest", "--user", "op", "--password", "other"]),
]


def test_hostile_cameras():
    env = Env("hostile", segment_seconds=6, handshake_timeout_ms=3000, frame_timeout_ms=3000,
              backoff_min_ms=500, backoff_max_ms=4000)
    try:
        fc = env.fakecam(1)
        good = env.add_camera("good", "rtsp://127.0.0.1:%d/cam1/sub" % fc.port)
        cams = {}
        # a long-GOP camera (10 s between keyframes), joined 1.2 s into a GOP: the 3 s
        # watchdog must not cut it off while it waits for its first keyframe
        longgop = os.path.join(env.dir, "longgop.h264")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "40",
                        "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-g", "250", "-keyint_min", "250",
                        "-sc_threshold", "0", "-bsf:v", "h264_mp4toannexb", "-f", "h264", longgop], check=True)
        for i, (mode, expect, extra) in enumerate(HOSTILE):
            extra = [longgop if x == "LONGGOP" else x for x in extra]
            h = env.hostile(mode, media=longgop if longgop in extra else None,
                            extra=[x for x in extra if x not in ("--media", longgop)])
            cred = "op:right@" if "--user" in extra else ""
            cams[i] = env.add_camera("h%d-%s" % (i, mode), "rtsp://%s127.0.0.1:%d/stream" % (cred, h.port))
        env.start()
        t0 = time.monotonic()
        peak_rss = 0.0
        while time.monotonic() - t0 < 38:
            check(env.daemon.alive(), "sargasd died:\n" + env.daemon.text()[-3000:])
            peak_rss = max(peak_rss, rss_mb(env.daemon.pid))
            time.sleep(0.5)
        check(peak_rss < 200, "sargasd grew to %.0f MB with hostile cameras" % peak_rss)
        log = env.daemon.text()
        state = {c["id"]: c for c in env.cameras()}
        env.stop()
        for i, (mode, expect, extra) in enumerate(HOSTILE):
            cam = cams[i]
            errors = "\n".join(l for l in log.splitlines() if ("cam=%d:" % cam) in l)
            segs = stream_segments(env, cam, "main")
            if expect:
                check(expect in errors, "%s %s: expected '%s' in:\n%s" % (mode, extra, expect, errors[-1500:]))
            for s in segs:  # whatever was recorded plays
                n, w, h, _ = ffprobe_frames(os.path.join(s["root"], s["path"]))
                check(n == len(counters(s)[0]), "%s: %s does not decode fully" % (mode, s["path"]))
                check((w, h) == (s["width"], s["height"]), "%s: file says %dx%d, catalog %dx%d"
                      % (mode, w, h, s["width"], s["height"]))
            if mode in ("slowloris", "silent", "garbage-handshake", "huge-header", "nothing-after-play", "nokey") or \
                    (expect and "authentication" in expect):
                check(not segs, "%s: recorded something" % mode)
                check(state[cam]["state"] != "online", "%s shown online" % mode)
                continue
            check(segs, "%s %s: nothing recorded" % (mode, extra))
            if mode == "bignal":
                check("larger than max_frame_bytes" in errors, "bignal: no clear error:\n" + errors[-800:])
            if mode == "spschange":
                sizes = [(s["width"], s["height"]) for s in segs]
                check((640, 360) in sizes and (1280, 720) in sizes, "spschange: sizes %s" % sizes)
                check("format changed" not in errors or True, "")
            if mode in ("garbage-stream", "malformed-interleaved", "drop", "stall"):
                check(env.losses(cam), "%s: no video-loss interval recorded" % mode)
                check("retry in" in errors, "%s: never reconnected" % mode)
            if "--start-frame" in extra:
                check(not env.losses(cam), "long GOP: the watchdog cut the camera off: %s" % env.losses(cam))
                check(len(segs) >= 1 and segs[0]["width"] == 320, "long GOP: not recorded")
            if mode == "gap":
                gaps = [l for l in env.losses(cam) if l["reason"] == "frames missing in the stream"]
                check(len(gaps) >= 1, "gap: no loss interval for the missing frames: %s" % env.losses(cam))
                g = gaps[0]
                span = (utc_us(g["end"]) - utc_us(g["start"])) / 1e6
                check(1.5 < span < 5.0, "gap: loss interval of %.1f s for 2 s of missing frames (+ the wait for a keyframe)" % span)
                for s in segs:
                    d = [b["dts"] - a["dts"] for a, b in zip(counters(s)[1]["samples"], counters(s)[1]["samples"][1:])]
                    check(all(x < 0.5 for x in d), "gap: a long sample papers over the gap in %s" % s["path"])
            if mode == "seqjump":
                # the media is continuous: the recorded timeline must be too (no holes, no jumps)
                for s in segs:
                    c, info = counters(s)
                    d = [b["dts"] - a["dts"] for a, b in zip(info["samples"], info["samples"][1:])]
                    check(all(0.0 < x < 0.2 for x in d), "seqjump: timeline jumps in %s: %s" % (s["path"], sorted(d)[-3:]))
        # the healthy camera recorded on without a single gap
        allc = []
        for s in stream_segments(env, good, "main"):
            allc += counters(s)[0]
        gaps = [(a, b) for a, b in zip(allc, allc[1:]) if b != a + 1]
        check(len(allc) > 25 * 25 and not gaps, "good camera: %d frames, gaps %s" % (len(allc), gaps[:5]))
        check(not env.losses(good), "good camera has loss intervals: %s" % env.losses(good))
        print("hostile: %d hostile cameras, peak RSS %.0f MB, healthy camera %d frames without gap"
              % (len(HOSTILE), peak_rss, len(allc)))
    finally:
        env.close()


if __name__ == "__main__":
    run(test_refused_urls_and_config)
    run(test_hostile_cameras)
