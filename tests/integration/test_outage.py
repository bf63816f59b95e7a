#!/usr/bin/env python3
"""Camera outage: the camera goes away and comes back. The daemon reconnects within the backoff
bound, the gap is a recorded video-loss interval with a reason, the counters in the recordings
jump exactly over the outage, and CPU while the camera is offline stays near zero."""
import time

from harness import Env, check, counters, cpu_seconds, poll, run, stream_segments, utc_us

BACKOFF_MAX_MS = 2000


def test_outage():
    env = Env("outage", segment_seconds=6, backoff_max_ms=BACKOFF_MAX_MS)
    try:
        fc = env.fakecam(1)
        port = fc.port
        cam = env.add_camera("gate", "rtsp://127.0.0.1:%d/cam1/main" % port)
        env.start()
        poll(lambda: env.camera(cam)["state"] == "online", 20, "camera online")
        time.sleep(5)
        fc.stop()
        down_at = time.time()
        poll(lambda: env.camera(cam)["state"] in ("offline", "connecting"), 15, "camera offline")
        # offline: the daemon only waits for its backoff timer
        time.sleep(2)
        c0, t0 = cpu_seconds(env.daemon.pid), time.monotonic()
        time.sleep(6)
        cpu_pct = 100.0 * (cpu_seconds(env.daemon.pid) - c0) / (time.monotonic() - t0)
        check(cpu_pct < 1.0, "daemon used %.2f%% CPU while its only camera was offline" % cpu_pct)
        lost = env.losses(cam)
        check(len(lost) == 1 and not lost[0]["end"], "expected one open loss interval, got %s" % lost)
        # the camera returns on the same address
        env.fakecam(1, port=port)
        back_at = time.time()
        poll(lambda: env.camera(cam)["state"] == "online", BACKOFF_MAX_MS / 1000.0 + 8, "reconnect")
        reconnect_s = time.time() - back_at
        time.sleep(4)
        env.stop()
        lost = env.losses(cam)
        check(len(lost) == 1 and lost[0]["end"], "loss interval not closed: %s" % lost)
        reason = lost[0]["reason"]
        check("closed" in reason or "reset" in reason or "stalled" in reason or "refused" in reason,
              "loss reason does not say what happened: %s" % reason)
        segs = stream_segments(env, cam, "main")
        before = [s for s in segs if utc_us(s["end"]) <= utc_us(lost[0]["start"]) + 1]
        after = [s for s in segs if utc_us(s["start"]) >= utc_us(lost[0]["end"]) - 1]
        check(before and after and len(before) + len(after) == len(segs),
              "segments overlap the loss interval %s" % lost[0])
        last_before = counters(before[-1])[0][-1]
        first_after = counters(after[0])[0][0]
        gap_s = (first_after - last_before) * 0.04
        loss_s = (utc_us(lost[0]["end"]) - utc_us(lost[0]["start"])) / 1e6
        check(abs(gap_s - loss_s) < 1.0, "counter gap %.2f s but loss interval %.2f s" % (gap_s, loss_s))
        check(gap_s >= (back_at - down_at) - 0.5, "counter gap %.1f s shorter than the outage" % gap_s)
        print("outage: offline CPU %.2f%%, reconnect %.1f s after the camera returned, loss %.1f s (%s)"
              % (cpu_pct, reconnect_s, loss_s, reason))
    finally:
        env.close()


if __name__ == "__main__":
    run(test_outage)
