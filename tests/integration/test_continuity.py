#!/usr/bin/env python3
"""Recording continuity: N cameras (main + sub) for a minute; the frame counters in the
recordings have no gap, segments are contiguous in catalog time, every file decodes, and the
catalog's UTC times match the moment the camera sent the frames."""
import os
import time

from harness import Env, check, counters, ffprobe_frames, poll, run, stream_segments, utc_us, GOP

CAMERAS = int(os.environ.get("SG_CONT_CAMERAS", "4"))
SECONDS = int(os.environ.get("SG_CONT_SECONDS", "60"))


def test_continuity():
    env = Env("continuity", segment_seconds=10)
    try:
        fc = env.fakecam(CAMERAS)
        ids = [env.add_camera("cam%d" % k, "rtsp://127.0.0.1:%d/cam%d/main" % (fc.port, k),
                              "rtsp://127.0.0.1:%d/cam%d/sub" % (fc.port, k), "--record-sub")
               for k in range(1, CAMERAS + 1)]
        env.start()
        poll(lambda: all(env.camera(i)["state"] == "online" for i in ids), 20, "all cameras online")
        time.sleep(SECONDS)
        env.stop()
        check(not env.losses(), "unexpected video loss: %s" % env.losses())
        for cam in ids:
            for stream in ("main", "sub"):
                segs = stream_segments(env, cam, stream)
                check(len(segs) >= SECONDS // 10 - 1, "cam %d %s: only %d segments" % (cam, stream, len(segs)))
                allc = []
                for i, s in enumerate(segs):
                    c, info = counters(s)
                    check(c and None not in c, "%s: frames without counters" % s["path"])
                    check(info["samples"][0]["keyframe"], "%s does not start with a keyframe" % s["path"])
                    check(not info.get("truncated"), "%s has a torn tail after a clean stop" % s["path"])
                    check(os.path.getsize(os.path.join(s["root"], s["path"])) == s["bytes"],
                          "%s: catalog size differs from the file" % s["path"])
                    if i:
                        check(s["start"] == segs[i - 1]["end"],
                              "cam %d %s: segments not contiguous: %s then %s" % (cam, stream, segs[i - 1]["end"], s["start"]))
                    # UTC of the segment = when the camera sent its first frame (SEI send time)
                    sent = info["samples"][0]["send_us"]
                    skew = abs(utc_us(s["start"]) - sent) / 1e6
                    check(skew < 0.5, "%s: catalog start is %.3f s away from the send time" % (s["path"], skew))
                    dur = (utc_us(s["end"]) - utc_us(s["start"])) / 1e6
                    check(abs(dur - len(c) / 25.0) < 0.05, "%s: catalog duration %.3f s for %d frames" % (s["path"], dur, len(c)))
                    allc += c
                gaps = [(a, b) for a, b in zip(allc, allc[1:]) if b != a + 1]
                check(not gaps, "cam %d %s: counter gaps %s" % (cam, stream, gaps[:5]))
                check(len(allc) >= (SECONDS - 3) * 25, "cam %d %s: only %d frames in %d s" % (cam, stream, len(allc), SECONDS))
                # every sub-stream file decodes completely; one main file too (1080p decoding is costly)
                for s in (segs if stream == "sub" else segs[1:2]):
                    n, w, h, codec = ffprobe_frames(os.path.join(s["root"], s["path"]))
                    check(n == len(counters(s)[0]), "%s: ffprobe decoded %d frames" % (s["path"], n))
                    check((w, h) == ((1920, 1080) if stream == "main" else (640, 360)), "%s: %dx%d" % (s["path"], w, h))
                    check(codec == "h264", "codec %s" % codec)
        print("continuity: %d cameras x 2 streams, %d s, no gaps" % (CAMERAS, SECONDS))
    finally:
        env.close()


if __name__ == "__main__":
    run(test_continuity)
