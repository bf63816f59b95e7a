#!/usr/bin/env python3
"""H.265 cameras, cameras addressed by host name, and RTP over UDP record as continuously as
H.264 over TCP."""
import os
import time

from harness import Env, check, counters, ffprobe_frames, poll, run, stream_segments


def record_and_check(env, cam, seconds, codec, size):
    poll(lambda: env.camera(cam)["state"] == "online", 20, "camera online")
    time.sleep(seconds)
    segs = stream_segments(env, cam, "main")
    allc = []
    for s in segs:
        c, info = counters(s)
        allc += c
        n, w, h, cname = ffprobe_frames(os.path.join(s["root"], s["path"]))
        check(n == len(c), "%s: decoded %d of %d frames" % (s["path"], n, len(c)))
        check((w, h) == size and cname == codec, "%s: %s %dx%d" % (s["path"], cname, w, h))
        check(s["codec"] == ("h265" if codec == "hevc" else "h264"), "catalog codec %s" % s["codec"])
    gaps = [(a, b) for a, b in zip(allc, allc[1:]) if b != a + 1]
    check(len(allc) >= (seconds - 4) * 25 and not gaps, "%d frames, gaps %s" % (len(allc), gaps[:5]))
    return len(allc)


def test_h265_and_udp():
    env = Env("h265udp", segment_seconds=4)
    try:
        f265 = env.fakecam(1, codec="h265")
        f264 = env.fakecam(1)
        # a host name, not an address: resolved asynchronously; on a dual-stack host
        # "localhost" may give ::1 first while the camera listens on 127.0.0.1 only
        hevc = env.add_camera("hevc", "rtsp://localhost:%d/cam1/main" % f265.port)
        udp = env.add_camera("udp", "rtsp://127.0.0.1:%d/cam1/sub" % f264.port, None, "--transport", "udp")
        env.start()
        n1 = record_and_check(env, hevc, 12, "hevc", (1920, 1080))
        env.stop()
        # stop the H.265 camera's stream checks there; the UDP one was recorded meanwhile
        allc = []
        for s in stream_segments(env, udp, "main"):
            allc += counters(s)[0]
        gaps = [(a, b) for a, b in zip(allc, allc[1:]) if b != a + 1]
        check(len(allc) >= 8 * 25, "UDP: only %d frames" % len(allc))
        check(not gaps, "UDP: gaps %s" % gaps[:5])
        print("h265: %d frames; udp: %d frames, no gaps" % (n1, len(allc)))
    finally:
        env.close()


if __name__ == "__main__":
    run(test_h265_and_udp)
