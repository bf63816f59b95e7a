#!/usr/bin/env python3
"""Disk full: recordings on a small tmpfs. Retention frees the oldest unlocked segments and keeps
the free-space floor; a segment under an evidence lock (an item of an open case) survives; when everything is locked,
recording stops loudly (a 'storage full' video-loss interval) instead of filling the disk, and
resumes once a lock is released. No crash, no corrupt file, catalog and disk agree."""
import os
import subprocess
import sys
import time

from harness import Env, check, counters, ffprobe_frames, poll, run, stream_segments, utc_us

SIZE_MB = 40
MIN_FREE = 12


def free_mb(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize / 1048576.0


def test_diskfull():
    env = Env("diskfull", segment_seconds=4, storage_min_free="%dM" % MIN_FREE, retention_interval_s=5)
    os.makedirs(env.media)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % SIZE_MB, "tmpfs", env.media],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("SKIP: cannot mount a tmpfs here (needs root): %s" % r.stderr.strip())
        env.close()
        sys.exit(77)
    try:
        fc = env.fakecam(2)
        cams = [env.add_camera("cam%d" % k, "rtsp://127.0.0.1:%d/cam%d/main" % (fc.port, k)) for k in (1, 2)]
        env.start()
        # cam1's first complete segment becomes an item of an open case, which locks it
        first = poll(lambda: (stream_segments(env, cams[0], "main") or [None])[0], 30, "a first segment")
        case = env.api("POST", "/api/v1/cases", {"reference": "17/2026", "title": "Fight at the bus station",
                                                 "reason": "patrol report"}, expect=201)
        env.api("POST", "/api/v1/cases/%d/items" % case["id"],
                {"camera_id": cams[0], "start": first["start"], "end": first["end"]}, expect=201)
        # ~1 MB/s into 40 MB with a 12 MB floor: retention must delete within ~30 s
        lowest = SIZE_MB
        t0 = time.monotonic()
        while time.monotonic() - t0 < 50:
            check(env.daemon.alive(), "sargasd died")
            lowest = min(lowest, free_mb(env.media))
            time.sleep(0.25)
        log = env.daemon.text()
        check("deleted" in log and "free-space floor" in log, "retention never freed space:\n" + log[-2000:])
        check(lowest > 2, "free space fell to %.1f MB: the floor was not kept" % lowest)
        check("write to" not in log, "a write failed:\n" + log[-2000:])
        segs = stream_segments(env, cams[0], "main")
        check(segs[0]["path"] == first["path"], "the locked segment was deleted")
        check(utc_us(segs[1]["start"]) > utc_us(first["end"]) + 8e6, "no unlocked segment was deleted after the lock")
        n, _, _, _ = ffprobe_frames(os.path.join(first["root"], first["path"]))
        check(n == len(counters(first)[0]), "the locked segment does not play fully")

        # everything locked: recording must stop rather than fill the disk
        env.cli("lock", "add", "--camera", "all", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
                "--reason", "legal hold: court order 2026-12")
        poll(lambda: "NOT being recorded" in env.daemon.text(), 60, "the storage-full alarm")
        poll(lambda: any(l["reason"] == "storage full" for l in env.losses(cams[0])), 10, "a 'storage full' loss interval")
        time.sleep(3)
        check(env.daemon.alive(), "sargasd died when the disk filled")
        check(free_mb(env.media) > 1, "disk filled up completely")
        check("nothing can be deleted" in env.daemon.text(), "retention did not say why it could not help")
        # release the hold: retention frees space and recording resumes
        lock_id = env.cli("lock", "list").stdout.strip().splitlines()[-1].split()[0]
        env.cli("lock", "remove", "--id", lock_id)
        poll(lambda: "recording resumes" in env.daemon.text(), 30, "recording to resume")
        poll(lambda: all(l["end"] for l in env.losses(cams[0])), 30, "the storage-full interval to close")
        env.stop()
        # catalog and disk agree, nothing corrupt
        all_segs = env.segments()
        on_disk = set()
        for root, _, files in os.walk(env.media):
            for f in files:
                on_disk.add(os.path.relpath(os.path.join(root, f), env.media))
        check(on_disk == set(s["path"] for s in all_segs), "catalog and disk disagree")
        for s in all_segs:
            c, info = counters(s)
            check(s["status"] == "complete" and not info.get("truncated"), "%s is damaged" % s["path"])
        print("diskfull: lowest free %.1f MB (floor %d MB), locked segment kept, stop and resume on a full disk"
              % (lowest, MIN_FREE))
    finally:
        env.close(keep=True)
        subprocess.run(["umount", "-l", env.media])
        if os.environ.get("SG_KEEP") != "1":
            env.close()


if __name__ == "__main__":
    run(test_diskfull)
