#!/usr/bin/env python3
"""What an evidence export costs, and whether it disturbs recording, side by side with ffmpeg.

1. sargas-replaycam serves N cameras (1080p main streams, ~4 Mbit/s); sargasd records all of
   them for --footage seconds.
2. While recording goes on, one export of the first E cameras over that whole footage (one
   range per camera) runs through the API; measured: its wall time, the CPU time of sargasd's
   export thread (sg-export, from /proc/PID/task), and sargasd's video-loss intervals and
   recording gaps during the export (nothing may be lost).
3. The peer, in the same run on the same files: per camera one `ffmpeg -f concat -c copy` of
   the recorded segment files into one MP4 (the remux alone: no hashing, no signing, no ZIP),
   one after the other; measured: wall time and CPU time.

    bench/export.py [--build build] [--cameras 16] [--export-cameras 8] [--footage 60]

Prints last: RESULT export cameras=N exported_cameras=E footage_s=F package_mb=X
  sargas_wall_s=X sargas_cpu_s=X ffmpeg_wall_s=X ffmpeg_cpu_s=X cpu_ratio=X
  sargas_mb_per_cpu_s=X loss_intervals_during_export=X
cpu_ratio = ffmpeg CPU / sargas export-thread CPU (above 1: Sargas does the whole package with
less CPU than ffmpeg spends on the remux alone)."""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import free_port, poll  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu_s(pid, name):
    """CPU seconds of the threads of pid whose name is `name`."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        if comm == name:
            fields = st[st.rindex(")") + 2:].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--export-cameras", type=int, default=8)
    ap.add_argument("--footage", type=int, default=60)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not (1 <= a.export_cameras <= min(a.cameras, 64)) or a.footage < 10:
        ap.error("1 <= --export-cameras <= min(--cameras, 64), --footage >= 10")
    build = os.path.abspath(a.build)
    media = os.environ.get("SG_MEDIA_DIR", os.path.join(build, "media"))
    d = tempfile.mkdtemp(prefix="sg-bench-export-")
    procs = []
    try:
        rc = subprocess.Popen([os.path.join(build, "sargas-replaycam"), "--cameras", str(a.cameras), "--port", "0",
                               "--bind", "127.0.0.1", "--streams", "main", "--media", media],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(rc)
        line = rc.stdout.readline()
        if not line.startswith("replaycam: ready"):
            sys.exit("export.py: sargas-replaycam did not start: %r" % line)
        rtsp = line.split()[2].rstrip("/")
        port = free_port()
        conf = os.path.join(d, "sargas.conf")
        with open(conf, "w") as f:
            f.write("storage_root = %s/media\ncatalog = %s/catalog.db\nkey_dir = %s/keys\nexport_dir = %s/exports\n"
                    "listen = 127.0.0.1:%d\nsegment_seconds = 20\nstorage_min_free = 1G\nlog_level = warn\n"
                    "motion = false\n" % (d, d, d, d, port))
        sargas = [os.path.join(build, "sargas"), "--config", conf]
        for k in range(1, a.cameras + 1):
            subprocess.run(sargas + ["camera", "add", "--name", "cam%d" % k, "--main", "%s/cam%d/main" % (rtsp, k)],
                           check=True, capture_output=True)
        subprocess.run(sargas + ["user", "add", "bench", "--role", "admin", "--password-stdin"],
                       input="benchmark-password-1\n", text=True, check=True, capture_output=True)
        token = subprocess.run(sargas + ["token", "add", "bench", "--name", "bench"], text=True, check=True,
                               capture_output=True).stdout.strip()
        daemon = subprocess.Popen([os.path.join(build, "sargasd"), "--config", conf], stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(d, "sargasd.log"), "w"))
        procs.append(daemon)

        def api(method, path, body=None):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request(method, path, json.dumps(body) if body is not None else None,
                      {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/json")
                              else data)

        def up():
            try:
                return api("GET", "/api/v1/health")[0] == 200
            except OSError:
                return False
        poll(up, 30, "sargasd up")
        print("# %s %d cores, %s" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(), os.uname().release))
        print("recording %d cameras for %d s of footage" % (a.cameras, a.footage))
        t0 = time.time()
        time.sleep(a.footage + 3)
        start_us, end_us = int(t0 * 1e6) + 2_000_000, int(t0 * 1e6) + (a.footage + 2) * 1_000_000

        def rfc(us):
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us / 1e6)) + ".%03dZ" % (us // 1000 % 1000)
        items = [{"camera_id": k, "start": rfc(start_us), "end": rfc(end_us)} for k in range(1, a.export_cameras + 1)]
        losses_before = len(json.loads(subprocess.run(sargas + ["loss", "--json"], capture_output=True,
                                                      text=True).stdout or "[]"))
        cpu0 = thread_cpu_s(daemon.pid, "sg-export")
        w0 = time.monotonic()
        st, job = api("POST", "/api/v1/exports", {"items": items, "reason": "benchmark"})
        if st != 202:
            sys.exit("export.py: export refused: %d %s" % (st, job))

        def finished():
            s, j = api("GET", "/api/v1/exports/%d" % job["id"])
            if j["state"] == "failed":
                sys.exit("export.py: export failed: %s" % j)
            return j if j["state"] == "done" else None
        done = poll(finished, 3600, "the export", interval=0.05)
        sargas_wall = time.monotonic() - w0
        sargas_cpu = thread_cpu_s(daemon.pid, "sg-export") - cpu0
        losses_after = len(json.loads(subprocess.run(sargas + ["loss", "--json"], capture_output=True,
                                                     text=True).stdout or "[]"))
        pkg_mb = done["bytes"] / 1e6
        print("sargas: export of %d cameras x %d s: %.1f MB package in %.2f s wall, %.2f s CPU (export thread)"
              % (a.export_cameras, a.footage, pkg_mb, sargas_wall, sargas_cpu))

        # the peer: ffmpeg concat remux of the same recorded files, one camera after the other
        segs = json.loads(subprocess.run(sargas + ["segments", "--json"], capture_output=True, text=True).stdout)
        ff_cpu = 0.0
        w0 = time.monotonic()
        for k in range(1, a.export_cameras + 1):
            files = sorted((s for s in segs if s["camera_id"] == k and s["stream"] == "main"
                            and s["end"] and s["start"] < rfc(end_us) and s["end"] > rfc(start_us)),
                           key=lambda s: s["start"])
            lst = os.path.join(d, "cam%d.txt" % k)
            with open(lst, "w") as f:
                for s in files:
                    f.write("file '%s'\n" % os.path.join(s["root"], s["path"]))
            before = os.times()
            subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "concat", "-safe", "0",
                            "-i", lst, "-c", "copy", "-movflags", "+faststart", "-y",
                            os.path.join(d, "ffmpeg-cam%d.mp4" % k)], check=True)
            after = os.times()
            ff_cpu += (after.children_user - before.children_user) + (after.children_system - before.children_system)
        ff_wall = time.monotonic() - w0
        print("ffmpeg: the same %d remuxes: %.2f s wall, %.2f s CPU" % (a.export_cameras, ff_wall, ff_cpu))
        print("RESULT export cameras=%d exported_cameras=%d footage_s=%d package_mb=%.1f sargas_wall_s=%.2f "
              "sargas_cpu_s=%.2f ffmpeg_wall_s=%.2f ffmpeg_cpu_s=%.2f cpu_ratio=%.2f sargas_mb_per_cpu_s=%.0f "
              "loss_intervals_during_export=%d"
              % (a.cameras, a.export_cameras, a.footage, pkg_mb, sargas_wall, sargas_cpu, ff_wall, ff_cpu,
                 ff_cpu / sargas_cpu if sargas_cpu > 0 else float("inf"),
                 pkg_mb / sargas_cpu if sargas_cpu > 0 else float("inf"), losses_after - losses_before))
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        if a.keep:
            print("# kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
