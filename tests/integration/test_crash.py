#!/usr/bin/env python3
"""kill -9 of sargasd at random moments, 20 times (SG_CRASHES for more in a soak): afterwards
every segment in the catalog plays end to end, catalog and disk agree (no row without a file,
no file without a row), and each crash lost at most one GOP of what had been received."""
import os
import random
import time

from harness import Env, check, counters, ffprobe_frames, poll, run, stream_segments, utc_us, GOP

CRASHES = int(os.environ.get("SG_CRASHES", "20"))
LATENCY_FRAMES = 12  # network + receive batching between send and receipt: < 0.5 s


def test_crash():
    env = Env("crash", segment_seconds=4)
    rnd = random.Random(int(os.environ.get("SG_SEED", str(int(time.time())))))
    try:
        fc = env.fakecam(2)
        cams = [env.add_camera("cam%d" % k, "rtsp://127.0.0.1:%d/cam%d/sub" % (fc.port, k)) for k in (1, 2)]
        kills = []
        for i in range(CRASHES):
            env.start()
            poll(lambda: len(env.daemon.text().split("sargasd: ready")) > env.daemon_runs, 20, "daemon ready")
            # let it record for a random while: sometimes mid-first-GOP, sometimes several segments
            first = time.time()
            poll(lambda: "online" in env.daemon.text().split("sargasd: ready")[-1], 20, "a stream online")
            time.sleep(rnd.uniform(0.2, 6.0))
            kill_us = int(time.time() * 1e6)
            env.daemon.kill9()
            kills.append(kill_us)
        env.start()
        poll(lambda: "reconciled" in env.daemon.text().split("Sargas")[-1], 20, "final reconciliation")
        time.sleep(2)
        env.stop()

        text = env.daemon.text()
        check("reconciliation failed" not in text, "reconciliation failed")
        segs_all = env.segments()
        check(all(s["status"] == "complete" for s in segs_all),
              "segments not complete after recovery: %s" % [s for s in segs_all if s["status"] != "complete"][:3])
        # catalog <-> disk
        on_disk = set()
        for root, _, files in os.walk(env.media):
            for f in files:
                on_disk.add(os.path.relpath(os.path.join(root, f), env.media))
        in_cat = set(s["path"] for s in segs_all)
        check(on_disk == in_cat, "disk and catalog differ: only on disk %s, only in catalog %s"
              % (sorted(on_disk - in_cat)[:5], sorted(in_cat - on_disk)[:5]))
        worst = 0
        for cam in cams:
            segs = stream_segments(env, cam, "main")
            runs = []
            for s in segs:
                c, info = counters(s)
                check(not info.get("truncated"), "%s: torn tail left after recovery" % s["path"])
                check(os.path.getsize(os.path.join(s["root"], s["path"])) == s["bytes"], "%s: size mismatch" % s["path"])
                n, _, _, _ = ffprobe_frames(os.path.join(s["root"], s["path"]))
                check(n == len(c), "%s: %d frames decoded of %d" % (s["path"], n, len(c)))
                runs.append(c)
            last_counters = [c[-1] for c in runs]
            # Loss per crash = frames this run had received (from its first frame, logged as
            # "online", until shortly before the kill) that are not on disk. Downtime between
            # runs is not crash loss: it is recorded as a "recorder not running" interval.
            runs_text = text.split("sargasd: Sargas")[1:]
            for k, chunk in zip(kills, runs_text):
                online = [l for l in chunk.splitlines() if "cam=%d: main online" % cam in l]
                if not online:
                    continue  # killed before this stream delivered anything
                first_counter = utc_us(online[0].split()[0]) // 40000 - 2
                received_until = k // 40000 - LATENCY_FRAMES
                if received_until < first_counter:
                    continue
                on_disk = [x for x in last_counters if first_counter <= x <= k // 40000 + 2]
                last = max(on_disk) if on_disk else first_counter - 1
                lost = received_until - last
                worst = max(worst, lost)
                check(lost <= GOP, "cam %d: a crash lost %d received frames (> one GOP of %d)" % (cam, lost, GOP))
            gaps = [l for l in env.losses(cam) if l["reason"] == "recorder not running"]
            check(len(gaps) >= CRASHES // 2, "cam %d: only %d 'recorder not running' intervals for %d crashes"
                  % (cam, len(gaps), CRASHES))
        print("crash: %d kills, worst loss %d frames (GOP %d)" % (len(kills), worst, GOP))
    finally:
        env.close()


if __name__ == "__main__":
    run(test_crash)
