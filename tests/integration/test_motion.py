#!/usr/bin/env python3
"""Motion analysis end to end: real sargasd, real RTSP cameras (sargas-fakecam's motion scenes of
scripts/gen-media.sh, the hostile server for a resolution change inside a session).

- Reconnects do not trigger: a camera whose sub stream shows a still scene (its main stream, a
  moving test pattern, is recorded but not analysed) loses its camera again and again (a clean
  stop, a killed camera that drops the connection without TEARDOWN); while it is away the scene
  changes (the 'parked' box appears, later it is gone again), as when a car parks while a
  camera is off. After each reconnection the analysis counters show the model restarted and
  analysed for a while; no motion event is ever created.
- A resolution change does not trigger: the sub URL changed through the API to the 720p
  scene, and a camera whose stream switches to 720p with new parameter sets mid-session.
- Zones and masks change what triggers, on a camera whose sub stream shows one box moving in a
  known region: without zones it triggers (zones [], a plausible score, a JPEG thumbnail); a
  mask over that region ends the event and nothing starts again; a detection zone there
  triggers and its events name it; a detection zone over the still part only never triggers
  (with detection zones, motion outside all of them is ignored); with both zones, events name
  only the zone that saw the motion.

Waits are polls with deadlines on the monotonic clock; "analysed for N seconds" is read from the
camera's analysis counters (GET /api/v1/cameras/{id}/state, sub.analysis). SG_LOG_LEVEL=debug
(with SG_KEEP=1) leaves a daemon log that says why each model restarted."""
import os
import time
import urllib.parse

from harness import MEDIA, Env, TestFailure, check, poll, run, utc_us

FPS = 5                        # motion_fps
END_QUIET_S = 3                # motion_end_quiet_s
MIN_AREA = 0.002               # motion_min_area_permille = 2
ANALYSED_S = 6                 # seconds analysed after each change before "nothing happened" counts
ZONES_APPLIED_S = 2            # docs/ARCHITECTURE.md: zones apply within two seconds
BATCH_S = 1                    # motion_batch_ms: frames wait up to this long for the analysis
SLACK_S = 4                    # scheduling on a loaded 2-core machine, ASan
THUMB_WIDTH = 320              # docs/ARCHITECTURE.md "Events": the peak picture, 320 px wide

# scripts/gen-media.sh: the mover's box stays inside this region (normalised x0, y0, x1, y1)
MOVER = (0.05, 0.30, 0.45, 0.70)
MARGIN = 0.03


def rect(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


OVER_MOVER = rect(MOVER[0] - MARGIN, MOVER[1] - MARGIN, MOVER[2] + MARGIN, MOVER[3] + MARGIN)
STILL_PART = rect(0.55, 0.05, 0.97, 0.95)  # right of the mover's region, where nothing moves


def rfc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Motion:
    def __init__(self, env):
        self.env = env

    def analysis(self, cam):
        st = self.env.api("GET", "/api/v1/cameras/%d/state" % cam)
        sub = st["sub"]
        check(st["main"]["analysis"] is None, "camera %d: its main stream is analysed although it has a sub "
              "stream: %s" % (cam, st["main"]))
        check(sub is not None and sub["analysis"] is not None, "camera %d: sub stream not analysed: %s" % (cam, st))
        return sub

    def frames(self, cam):
        return self.analysis(cam)["analysis"]["frames"]

    def analyse_for(self, cam, seconds, what, base=None):
        """Waits until `seconds` more seconds of the sub stream were analysed (frames counter)."""
        start = self.frames(cam) if base is None else base
        need = start + seconds * FPS
        poll(lambda: self.frames(cam) >= need, seconds * 3 + 20,
             "camera %d to analyse %d s (%s)" % (cam, seconds, what), interval=0.25)

    def events(self, cam, zone=None):
        q = "camera=%d&limit=500" % cam + ("&zone=" + urllib.parse.quote(zone) if zone else "")
        return self.env.api("GET", "/api/v1/events?" + q)["events"]

    def no_events(self, cam, what):
        ev = self.events(cam)
        check(not ev, "camera %d: %s created motion event(s): %s" % (cam, what, ev))

    def activity(self, cam, since):
        a = self.env.api("GET", "/api/v1/cameras/%d/activity?step=1&from=%s" % (cam, rfc(since)))
        t0 = utc_us(a["from"]) / 1e6
        return [(t0 + i, lv, z) for i, (lv, z) in enumerate(zip(a["levels"], a["zones"]))]

    def put_zones(self, cam, zones):
        body = {"zones": zones}
        got = self.env.api("PUT", "/api/v1/cameras/%d/zones" % cam, body)
        check(got == body, "zones stored differ from those sent: %s" % got)
        check(self.env.api("GET", "/api/v1/cameras/%d/zones" % cam) == body, "GET zones differs from PUT")
        return time.time()


def jpeg_size(data):
    """(width, height) from a baseline or progressive JPEG's SOF marker."""
    check(data[:2] == b"\xff\xd8", "thumbnail is not a JPEG: %r" % data[:16])
    i = 2
    while i + 4 <= len(data):
        check(data[i] == 0xFF, "thumbnail: bad JPEG marker at %d" % i)
        marker, seglen = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + seglen
    raise TestFailure("thumbnail: no SOF marker")


def media_dir_with(env, name, substitutes):
    """A media directory for fakecam: every generated file, some replaced by others."""
    d = os.path.join(env.dir, name)
    os.mkdir(d)
    for f in os.listdir(MEDIA):
        if f.endswith((".h264", ".h265")):
            os.symlink(os.path.join(MEDIA, substitutes.get(f, f)), os.path.join(d, f))
    return d


def reconnects(env, m, fc, cam):
    """The still camera goes away and comes back four times; the scene differs after each."""
    parked = media_dir_with(env, "media-parked", {"still.h264": "parked.h264"})
    port = fc.port
    outages = []
    for i, (how, media) in enumerate([("stop", parked), ("kill", None), ("kill", parked), ("stop", None)]):
        before = m.analysis(cam)
        if how == "kill":
            fc.kill9()  # the connection drops without TEARDOWN
        else:
            fc.stop()
        down = time.monotonic()
        fc = env.fakecam(1, port=port, media=media)
        sub = poll(lambda: (lambda s: s if s["state"] == "online" and s["since"] != before["since"] else None)(
            m.analysis(cam)), 30, "camera %d back online after reconnect %d" % (cam, i + 1), interval=0.2)
        outages.append(time.monotonic() - down)
        # the analysis saw the reconnection: it learns the (changed) scene again
        poll(lambda: m.analysis(cam)["analysis"]["restarts"] > before["analysis"]["restarts"], 20,
             "camera %d: analysis restarted after reconnect %d" % (cam, i + 1))
        m.analyse_for(cam, ANALYSED_S, "after reconnect %d (%s, %s scene)"
                      % (i + 1, how, "parked" if media else "still"), base=sub["analysis"]["frames"])
        m.no_events(cam, "reconnect %d (%s)" % (i + 1, how))
    print("reconnects: 4 without an event; outages %s s" % ", ".join("%.1f" % o for o in outages))
    return fc


def resolution_via_api(env, m, fc, cam):
    url = "rtsp://127.0.0.1:%d/cam1/still720" % fc.port
    env.api("PATCH", "/api/v1/cameras/%d" % cam, {"sub_url": url})
    poll(lambda: (lambda a: a["width"] == 1280 and a["height"] == 720)(m.analysis(cam)["analysis"]), 30,
         "camera %d analysing 1280x720 after its sub URL changed" % cam, interval=0.25)
    m.analyse_for(cam, ANALYSED_S, "at 1280x720")
    m.no_events(cam, "a change of sub URL to a 1280x720 stream")
    print("resolution via the API: 640x360 -> 1280x720, no event")


def resolution_in_session(env, m, cam, switched_after):
    """The hostile server switched from 640x360 to 1280x720 with new in-band parameter sets."""
    sub = poll(lambda: (lambda s: s if s["analysis"]["width"] == 1280 else None)(m.analysis(cam)),
               switched_after + 30, "camera %d analysing 1280x720 after the mid-session switch" % cam, interval=0.25)
    a = sub["analysis"]
    check(a["height"] == 720 and a["restarts"] >= 1, "camera %d: the new picture size did not restart the model: "
          "%s" % (cam, a))
    m.analyse_for(cam, ANALYSED_S, "at 1280x720 in the same session")
    now = m.analysis(cam)
    check(now["since"] == sub["since"] and now["state"] == "online", "camera %d reconnected; the size changed in "
          "another session: %s, then %s" % (cam, sub, now))
    m.no_events(cam, "a resolution change inside the session")
    print("resolution in session: 640x360 -> 1280x720 (model restarts: %d), no event in %d analysed s at 720p"
          % (a["restarts"], ANALYSED_S))


def event_checks(env, m, cam, ev, zones):
    check(ev["stream"] == "sub", "event on the %s stream, not the analysed sub stream" % ev["stream"])
    check(ev["zones"] == zones, "event zones %s, expected %s" % (ev["zones"], zones))
    area = (MOVER[2] - MOVER[0]) * (MOVER[3] - MOVER[1])
    check(MIN_AREA <= ev["peak_score"] <= area, "peak score %.4f outside [%.3f, %.3f] (min_area .. the mover's "
          "region)" % (ev["peak_score"], MIN_AREA, area))
    check(utc_us(ev["start"]) <= utc_us(ev["peak"]), "peak before start: %s" % ev)


def new_event(m, cam, known, t_put, what):
    """The first event after `known` (the newest event id before the zones were stored). Its start
    is a frame's own time, and that frame may be older than the PUT: the analysis takes its frames
    in runs of motion_batch_ms and reads zones every 2 s, so frames that waited in the queue when
    the zones changed are analysed with the new ones."""
    try:
        ev = poll(lambda: [e for e in m.events(cam) if e["id"] > known], ZONES_APPLIED_S + SLACK_S + 10, what)[0]
    except TestFailure as e:
        raise TestFailure("%s; %.1f s after the PUT, events %s, analysis %s"
                          % (e, time.time() - t_put, m.events(cam), m.analysis(cam)["analysis"]))
    start = utc_us(ev["start"]) / 1e6
    check(start >= t_put - BATCH_S - ZONES_APPLIED_S - SLACK_S, "event %d (%s) started %.1f s before the zones "
          "were stored, from frames analysed before they applied" % (ev["id"], what, t_put - start))
    return ev


def zones_and_masks(env, m, cam):
    # 1. no zones: the whole picture detects, the moving box triggers
    e1 = poll(lambda: [e for e in m.events(cam) if e["thumbnail"]], 30, "a motion event with its thumbnail on the "
              "mover camera")[-1]
    event_checks(env, m, cam, e1, [])
    st, hd, data = env.http("GET", e1["thumbnail"])
    check(st == 200 and hd.get("content-type") == "image/jpeg", "thumbnail: %d %s" % (st, hd.get("content-type")))
    w, h = jpeg_size(data)
    check(w == THUMB_WIDTH and h == THUMB_WIDTH * 360 // 640, "thumbnail is %dx%d, expected %dx%d"
          % (w, h, THUMB_WIDTH, THUMB_WIDTH * 360 // 640))
    act = m.activity(cam, utc_us(e1["start"]) / 1e6)
    check(any(lv > 0 for _, lv, _ in act), "an event but no activity: %s" % act)
    check(all(z == 0 for _, _, z in act), "activity names zones, but there are none: %s" % act)

    # 2. a mask over the mover's region: the event ends, nothing starts again
    t_mask = m.put_zones(cam, [{"name": "street", "kind": "mask", "points": OVER_MOVER}])
    open_ev = [e for e in m.events(cam) if e["end"] is None]
    poll(lambda: all(e["end"] for e in m.events(cam)), ZONES_APPLIED_S + END_QUIET_S + SLACK_S + 10,
         "the open event to end after the mask")
    last_end = max(utc_us(e["end"]) / 1e6 for e in m.events(cam))
    applied_s = last_end - t_mask
    check(applied_s <= ZONES_APPLIED_S + SLACK_S, "motion went on %.1f s after the mask was stored" % applied_s)
    m.analyse_for(cam, ANALYSED_S, "with the mask")
    after = [e for e in m.events(cam) if utc_us(e["start"]) / 1e6 > t_mask]
    check(not after, "events started after the mask covered all motion: %s" % after)
    print("mask: the open event (%d) ended %.1f s after the PUT, no event in %d analysed s"
          % (len(open_ev), applied_s, ANALYSED_S))

    # 3. a detection zone over the mover, with its own sensitivity: its events name it
    known = max(e["id"] for e in m.events(cam))
    t_lane = m.put_zones(cam, [{"name": "lane", "kind": "detect", "points": OVER_MOVER, "sensitivity": 70}])
    e2 = new_event(m, cam, known, t_lane, "an event in zone 'lane'")
    event_checks(env, m, cam, e2, ["lane"])
    check([e["id"] for e in m.events(cam, zone="lane")] == [e2["id"]], "events?zone=lane does not list exactly "
          "the zone's event: %s" % m.events(cam, zone="lane"))
    check(not m.events(cam, zone="street"), "a mask named in an event")
    print("zone 'lane': event %d after %.1f s, zones %s, score %.4f"
          % (e2["id"], utc_us(e2["start"]) / 1e6 - t_lane, e2["zones"], e2["peak_score"]))

    # 4. a detection zone over the still part only: motion outside every zone does not trigger
    t_quiet = m.put_zones(cam, [{"name": "quiet", "kind": "detect", "points": STILL_PART}])
    poll(lambda: all(e["end"] for e in m.events(cam)), ZONES_APPLIED_S + END_QUIET_S + SLACK_S + 10,
         "the 'lane' event to end once only 'quiet' detects")
    e2 = [e for e in m.events(cam) if e["id"] == e2["id"]][0]
    check(e2["zones"] == ["lane"], "the zone list changed while event %d went on, and it now names %s instead of "
          "['lane']" % (e2["id"], e2["zones"]))
    m.analyse_for(cam, ANALYSED_S, "with only the zone 'quiet'")
    after = [e for e in m.events(cam) if utc_us(e["start"]) / 1e6 > t_quiet]
    check(not after, "motion outside the only detection zone triggered: %s" % after)
    print("zone 'quiet' only: no event in %d analysed s" % ANALYSED_S)

    # 5. both zones: the event names only the zone that saw motion; the activity index too
    known = max(e["id"] for e in m.events(cam))
    t_both = m.put_zones(cam, [{"name": "quiet", "kind": "detect", "points": STILL_PART},
                               {"name": "lane", "kind": "detect", "points": OVER_MOVER}])
    e3 = new_event(m, cam, known, t_both, "an event with zones 'quiet' and 'lane'")
    event_checks(env, m, cam, e3, ["lane"])
    check(not m.events(cam, zone="quiet"), "the still zone 'quiet' is named in an event")
    start = utc_us(e3["start"]) / 1e6
    act = poll(lambda: [a for a in m.activity(cam, start) if a[1] > 0], 10, "activity of the event in 'lane'")
    check(all(z == 2 for _, _, z in act), "activity zone bits %s, expected only bit 1 ('lane')"
          % sorted(set(z for _, _, z in act)))
    print("zones 'quiet' + 'lane': event %d after %.1f s names %s, activity bits %s"
          % (e3["id"], start - t_both, e3["zones"], sorted(set(z for _, _, z in act))))


def analysis_rate(m, cam):
    """The analysis takes motion_fps frames a second of the 25 fps sub stream, counted in stream
    time (the counter's frames against the analysed frames' own UTC times), so a busy machine
    that analyses late does not change the figure."""
    def sample():
        a = m.analysis(cam)["analysis"]
        return a["frames"], utc_us(a["last"]) / 1e6, a["decoded"], a["skipped"]
    f0, t0, d0, s0 = sample()
    poll(lambda: sample()[1] - t0 >= 8.0, 60, "camera %d: 8 s more analysed" % cam, interval=0.25)
    f1, t1, d1, s1 = sample()
    rate = (f1 - f0) / (t1 - t0)
    print("camera %d: %d frames analysed in %.2f s of stream: %.2f frames/s (motion_fps %d)"
          % (cam, f1 - f0, t1 - t0, rate, FPS))
    check(FPS * 0.9 <= rate <= FPS * 1.1, "camera %d analysed %.2f frames/s, motion_fps is %d" % (cam, rate, FPS))
    # Only the frames an analysed one needs are decoded: in GOPs of 50 frames with every 5th
    # analysed from the IDR on, the 4 after a GOP's last analysed frame are not (8 %; one more
    # or less when a frame arrives late).
    seen = (d1 - d0) + (s1 - s0)
    share = (s1 - s0) / seen if seen else 0
    print("camera %d: %d frames decoded, %d never decoded (%.1f %%)" % (cam, d1 - d0, s1 - s0, 100 * share))
    check(seen >= 25 * 7 and 0.05 <= share <= 0.12,
          "camera %d: %d decoded and %d skipped frames, expected ~8 %% skipped" % (cam, d1 - d0, s1 - s0))


def test_motion():
    t_start = time.time()
    env = Env("motion", motion_fps=FPS, motion_end_quiet_s=END_QUIET_S,
              motion_min_area_permille=int(MIN_AREA * 1000), analysis_threads=1,
              log_level=os.environ.get("SG_LOG_LEVEL", "info"))
    try:
        fa = env.fakecam(1)              # the still camera; goes away and comes back
        fb = env.fakecam(2)              # the mover camera and the main stream of the hostile one
        switch_s = 6
        hs = env.hostile("spschange", media=os.path.join(MEDIA, "still.h264"),
                         extra=["--media2", os.path.join(MEDIA, "still720.h264"), "--seconds-before", str(switch_s)])
        ua, ub = "rtsp://127.0.0.1:%d/" % fa.port, "rtsp://127.0.0.1:%d/" % fb.port
        still = env.add_camera("still", ua + "cam1/main", ua + "cam1/still")
        mover = env.add_camera("mover", ub + "cam1/main", ub + "cam1/mover")
        resize = env.add_camera("resize", ub + "cam2/main", "rtsp://127.0.0.1:%d/stream" % hs.port)
        env.start()
        m = Motion(env)
        for cam in (still, mover, resize):
            poll(lambda: m.analysis(cam)["state"] == "online", 30, "camera %d sub stream online" % cam)
        # analysis demonstrably runs on the still scene and finds nothing
        m.analyse_for(still, ANALYSED_S, "the still scene", base=0)
        m.no_events(still, "the still scene")
        analysis_rate(m, still)

        fa = reconnects(env, m, fa, still)
        resolution_in_session(env, m, resize, switch_s)
        resolution_via_api(env, m, fa, still)
        zones_and_masks(env, m, mover)
        for cam in (still, resize):
            m.no_events(cam, "the whole test")
            # not asserted: a lone frame may show motion without an event (start_frames)
            print("camera %d: highest activity level over the test %d (0: no frame saw motion)"
                  % (cam, max(lv for _, lv, _ in m.activity(cam, t_start))))
        env.stop()
    finally:
        env.close()


if __name__ == "__main__":
    run(test_motion)
