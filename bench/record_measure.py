#!/usr/bin/env python3
"""Helper of bench/record.sh (Python 3 standard library only).

    record_measure.py sample FILE LABEL PID...
        appends one JSON line to FILE: the label, UTC and monotonic time, and
        per PID utime+stime (clock ticks, from /proc/PID/stat) and VmRSS (kB);
        a PID that has gone is recorded as null.

    record_measure.py online CONFIG BUILD
        prints how many cameras `sargas camera list --json` shows online.

    record_measure.py report --samples FILE --cameras N --seconds S --peers M
                             --config CONF --build DIR --source DIR
                             --replaycam-log FILE --replaycam-split LINES
                             [--ffmpeg-dir DIR]
        reads the samples, sargasd's catalog (through the sargas CLI) and
        recordings (through tests/tools/mp4inspect.py), prints human-readable
        lines and, last, the RESULT line.

lost_frames: per camera, the frames whose send time c * 40 ms lies in the
measured window [t0, t1) of sargasd (c = the SEI counter; the replay cameras
send frame c when UTC time enters it) that are in none of the camera's
recorded files, summed over the cameras. This takes in the counter gaps
inside and between files as well as the stretches with no file at all (a
video-loss interval, or a loss sargasd did not notice). The video-loss
intervals of the window (sargas loss) are checked against it: the report
says how many lost frames lie inside one (reported losses) and how many do
not (silent losses), and how many recorded frames an interval covers all the
same (an interval that overstates a loss); a frame is inside an interval when
the middle of its 40 ms is.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

FRAME_US = 40000


def proc_sample(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        rss = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        return {"ticks": ticks, "rss_kb": rss}
    except (OSError, IndexError, ValueError):
        return None


def thread_ticks(pid):
    """utime+stime per thread name (threads of one name summed)."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                head, rest = f.read().rsplit(")", 1)
            name = head.split("(", 1)[1]
            fields = rest.split()
            out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return out


def cmd_sample(args):
    path, label, pids = args[0], args[1], [int(p) for p in args[2:]]
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    rec = {"label": label, "utc_us": int(time.time() * 1e6), "mono": time.monotonic(),
           "procs": {str(p): proc_sample(p) for p in pids},
           "threads": thread_ticks(pids[0]), "loadavg": load}
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return 0


def sargas(build, config, *argv):
    r = subprocess.run([os.path.join(build, "sargas"), "--config", config] + list(argv),
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("sargas %s failed: %s" % (" ".join(argv), r.stderr.strip()))
    return json.loads(r.stdout) if "--json" in argv else r.stdout


def cmd_online(args):
    config, build = args
    cams = sargas(build, config, "camera", "list", "--json")
    print(sum(1 for c in cams if c.get("state") == "online"))
    return 0


def parse_utc(s):
    """RFC 3339 UTC ('2026-11-21T02:42:20.000Z') to microseconds."""
    if not s:
        return None
    d = datetime.datetime.strptime(s.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1e6)


def window_counters(t0_us, t1_us):
    return range(-(-t0_us // FRAME_US), -(-t1_us // FRAME_US))  # t0 <= c * 40 ms < t1


def cpu_window(s0, s1, pids, hz):
    """(CPU seconds summed over pids, wall seconds, pids alive at both ends)."""
    cpu, alive = 0.0, []
    for p in pids:
        a, b = s0["procs"].get(str(p)), s1["procs"].get(str(p))
        if a and b:
            cpu += (b["ticks"] - a["ticks"]) / hz
            alive.append(p)
    return cpu, s1["mono"] - s0["mono"], alive


def rss_mb(sample, pids):
    return [sample["procs"][str(p)]["rss_kb"] / 1024.0 for p in pids
            if sample["procs"].get(str(p))]


def lost_in_files(mp4inspect, files, expected):
    """(recorded counters in expected, counter gaps inside files, samples, errors)."""
    got, gaps, samples, errors = set(), 0, 0, []
    for path in files:
        try:
            r = mp4inspect.inspect(path)
        except Exception as e:  # noqa: BLE001 - report any unreadable file
            errors.append("%s: %s" % (path, e))
            continue
        samples += len(r["samples"])
        for s in r["samples"]:
            c = s["counter"]
            if c is not None and c in expected:
                got.add(c)
        for a, b in r["counter_gaps"]:
            if b > a + 1 and (a + 1 in expected or b - 1 in expected):
                gaps += 1
    return got, gaps, samples, errors


def replaycam_drops(log, first_line, last_line):
    """Frames the replay cameras skipped for full sockets, from the per-client
    lines logged when connections closed, in log lines [first, last)."""
    total = 0
    with open(log, errors="replace") as f:
        for i, line in enumerate(f):
            if first_line <= i < (last_line if last_line >= 0 else 1 << 62):
                m = re.search(r"closed \(.*\) after \d+ frames, (\d+) dropped", line)
                if m:
                    total += int(m.group(1))
    return total


def cmd_report(argv):
    ap = argparse.ArgumentParser(prog="record_measure.py report")
    ap.add_argument("--samples", required=True)
    ap.add_argument("--cameras", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--peers", type=int, required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--replaycam-log", required=True)
    ap.add_argument("--replaycam-split", type=int, required=True)
    ap.add_argument("--ffmpeg-dir")
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.join(a.source, "tests", "tools"))
    import mp4inspect  # noqa: E402

    hz = os.sysconf("SC_CLK_TCK")
    samples = {}
    with open(a.samples) as f:
        for line in f:
            rec = json.loads(line)
            samples[rec["label"]] = rec
    n = a.cameras

    # --- sargasd: CPU and RSS over its window
    s0, s1 = samples["sargas-t0"], samples["sargas-t1"]
    sg_pid = int(next(iter(s0["procs"])))
    rc_pid = int(list(s0["procs"])[1])
    cpu, wall, alive = cpu_window(s0, s1, [sg_pid], hz)
    if not alive:
        raise SystemExit("record_measure: sargasd was not running for the whole window")
    sg_cpu = cpu / wall * 100.0 / n
    sg_rss = rss_mb(s1, [sg_pid])[0] / n
    rc_cpu, rc_wall, _ = cpu_window(s0, s1, [rc_pid], hz)
    print("sargasd: %d cameras, window %.1f s: %.2f %% of one core in all, %.1f MB RSS in all"
          % (n, wall, cpu / wall * 100.0, rss_mb(s1, [sg_pid])[0]))
    th0, th1 = s0.get("threads", {}), s1.get("threads", {})
    print("sargasd threads (%% of one core): %s" % ", ".join(
        "%s %.2f" % (name, (th1[name] - th0.get(name, 0)) / hz / wall * 100.0)
        for name in sorted(th1) if th1[name] - th0.get(name, 0) > 0))
    print("load average (1 min) at the start and end of the window: %.2f, %.2f on %d cores"
          % (s0.get("loadavg", 0), s1.get("loadavg", 0), os.cpu_count()))
    print("replaycam while serving sargasd: %.2f %% of one core for %d main streams "
          "(not counted above)" % (rc_cpu / rc_wall * 100.0, n))

    # --- sargasd: lost frames in its window
    t0_us, t1_us = s0["utc_us"], s1["utc_us"]
    expected = set(window_counters(t0_us, t1_us))
    cams = {c["id"]: c["name"] for c in sargas(a.build, a.config, "camera", "list", "--json")}
    segs = sargas(a.build, a.config, "segments", "--json")
    losses = sargas(a.build, a.config, "loss", "--json")
    lost_total, gap_total, samples_total, files_total, errors = 0, 0, 0, 0, []
    reported, overstated = 0, 0
    worst = []
    for cam_id in sorted(cams):
        files = [os.path.join(g["root"], g["path"]) for g in segs
                 if g["camera_id"] == cam_id and g["stream"] == "main"]
        files_total += len(files)
        got, gaps, ns, errs = lost_in_files(mp4inspect, files, expected)
        samples_total += ns
        errors += errs
        gap_total += gaps
        covered = set()
        for lo in losses:
            if lo["camera_id"] != cam_id or lo["stream"] != "main":
                continue
            # sargasd stamps intervals with arrival times, a few ms after the
            # send time c * 40 ms: a frame is inside when its middle is
            start = parse_utc(lo["start"]) - FRAME_US // 2
            end = (parse_utc(lo["end"]) or (1 << 62)) - FRAME_US // 2
            covered.update(c for c in window_counters(max(start, t0_us), min(end, t1_us))
                           if c in expected)
        missing = expected - got
        lost_total += len(missing)
        reported += len(missing & covered)
        overstated += len(covered & got)
        if missing:
            worst.append((len(missing), cams[cam_id]))
    print("sargasd recordings: %d files, %d samples, %d counter gaps inside files; the window "
          "has %d frames per camera" % (files_total, samples_total, gap_total, len(expected)))
    print("sargasd lost %d frames in the window: %d inside the video-loss intervals it "
          "reported, %d silently; its intervals also cover %d frames that were recorded"
          % (lost_total, reported, lost_total - reported, overstated))
    if worst:
        worst.sort(reverse=True)
        print("sargasd lost frames per camera (worst first): %s" % ", ".join(
            "%s %d" % (name, k) for k, name in worst[:10]))
    for e in errors[:5]:
        print("unreadable recording: %s" % e)
    print("replaycam dropped %d frames for sargasd (its sockets full), %d for the ffmpeg peers"
          % (replaycam_drops(a.replaycam_log, 0, a.replaycam_split),
             replaycam_drops(a.replaycam_log, a.replaycam_split, -1)))

    # --- the ffmpeg peers
    f0, f1 = samples["ffmpeg-t0"], samples["ffmpeg-t1"]
    pids = [int(p) for p in f0["procs"] if int(p) != rc_pid]
    cpu, wall, alive = cpu_window(f0, f1, pids, hz)
    if not alive:
        raise SystemExit("record_measure: no ffmpeg peer ran for the whole window")
    ff_cpu = cpu / wall * 100.0 / len(alive)
    ff_rss_list = rss_mb(f1, alive)
    ff_rss = sum(ff_rss_list) / len(ff_rss_list)
    rc_cpu, rc_wall, _ = cpu_window(f0, f1, [rc_pid], hz)
    print("ffmpeg peers: %d processes (%d alive for the whole window), window %.1f s: "
          "%.2f %% of one core in all, %.1f MB RSS each on average"
          % (len(pids), len(alive), wall, cpu / wall * 100.0, ff_rss))
    print("replaycam while serving the ffmpeg peers: %.2f %% of one core for %d streams"
          % (rc_cpu / rc_wall * 100.0, len(pids)))
    if a.ffmpeg_dir and os.path.isdir(a.ffmpeg_dir):
        fexp = set(window_counters(f0["utc_us"], f1["utc_us"]))
        flost, fsamples = 0, 0
        for k in range(1, a.peers + 1):
            files = sorted(os.path.join(a.ffmpeg_dir, x) for x in os.listdir(a.ffmpeg_dir)
                           if x.startswith("cam%d-" % k) and x.endswith(".mp4"))
            got, _, ns, _ = lost_in_files(mp4inspect, files, fexp)
            fsamples += ns
            flost += len(fexp - got)
        print("ffmpeg peers' recordings: %d samples; %d frames of their window missing "
              "(for comparison only)" % (fsamples, flost))

    ratio = ff_cpu / sg_cpu if sg_cpu > 0 else float("inf")
    print("RESULT record cameras=%d seconds=%d sargas_cpu_pct_per_cam=%.4f "
          "sargas_rss_mb_per_cam=%.3f ffmpeg_cpu_pct_per_cam=%.3f ffmpeg_rss_mb_per_cam=%.2f "
          "cpu_ratio=%.2f lost_frames=%d"
          % (n, a.seconds, sg_cpu, sg_rss, ff_cpu, ff_rss, ratio, lost_total))
    return 0


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, rest = argv[1], argv[2:]
    if cmd == "sample" and len(rest) >= 3:
        return cmd_sample(rest)
    if cmd == "online" and len(rest) == 2:
        return cmd_online(rest)
    if cmd == "report":
        return cmd_report(rest)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
