#!/usr/bin/env python3
"""Helper of bench/motion.sh (Python 3 standard library only; ffmpeg for the
decode reference and the clips).

    motion_measure.py decode-ref FILE [--keyframes | --rate R]
        decodes FILE (H.264 Annex B, 25 or R frames/s) with `ffmpeg -threads 1`
        (one thread, deblocked, as sargasd decodes; every frame, as any analyser
        of the stream must: sargasd leaves out those no analysed frame needs),
        several copies back to back, and prints JSON: CPU seconds per decoded
        frame and the frames per second a camera decodes (R, or its keyframes).

    motion_measure.py motion-conf --dir DIR --url URL --cameras N --mode sub|keyframes
                                  --fps F --size WxH [--manifest FILE --hook FILE]
                                  [--event-gap S] [--extra FILE]
        writes DIR/motion.conf and one DIR/camK.conf per camera for Debian's
        motion (see conf_text() for what is configured and why).

    motion_measure.py clips --dump DIR --out DIR
        encodes the labelled clips that `bench_motion_core --dump` wrote (Y4M)
        to OUT/camK.h264 for `sargas-replaycam --clips`, writes the masks
        (PGM, for motion) and OUT/manifest.json; deletes each Y4M once done.

    motion_measure.py zones --manifest FILE --port P --token T --config CONF --build DIR
        gives sargasd the clips' masks through PUT /api/v1/cameras/ID/zones.

    motion_measure.py report ...        CPU, RSS, lost frames; RESULT lines
    motion_measure.py quality ...       detection quality; the RESULT line

The clip timeline: every clip file is LOOP_S long (LOOP_FRAMES frames at 25
fps): LEAD_S of the clip's first pictures going back and forth (bounce()), the
clip, then its last pictures back and forth until the end. The replay cameras
send frame c = floor(utc_us / 40 ms) as access unit c mod LOOP_FRAMES, so
every clip starts over whenever UTC time is a multiple of LOOP_S, and clip
time t is UTC loop_start + LEAD_S + t. The jump from the end of a loop back to
its start is not part of any clip: the lead-in gives both systems LEAD_S to
settle after it, and only events that start at clip time 0 or later are
scored (a labelled event may be found by any event that overlaps it).

Scoring (the same for both systems): a 'must' label is found when an event
overlaps it; an event that overlaps no label ('must' or 'may') is a false
event; overlap allows TOLERANCE_S on either side (frame arrival vs. hook
times). motion's events are its on_event_start/on_event_end hook times, the
end less event_gap (motion ends an event event_gap seconds after the last
motion); sargasd's are the catalog's motion_events (frame arrival times).
"""

import argparse
import glob
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import record_measure  # noqa: E402  (same directory: sampling, lost-frame counting)

FPS = 25
GOP = 50
LOOP_S = 100
LOOP_FRAMES = LOOP_S * FPS
LEAD_S = 14          # a multiple of 2 s: a keyframe clip's pictures start at IDRs
TOLERANCE_S = 0.5    # an event within this of a label overlaps it (both systems alike)
X264 = "keyint=50:min-keyint=50:scenecut=0:open-gop=0:repeat-headers=1"

# motion's own default threshold (1500 changed pixels) is for its default 640x480 frame:
# 4.88 per mille of the picture, scaled to every camera's size (SG_BENCH_MOTION_AREA_PERMILLE
# sets another share, e.g. 2 = sargasd's default motion_min_area_permille)
MOTION_THRESHOLD_640x480 = 1500


def run_ffmpeg(args):
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("motion_measure: ffmpeg %s failed: %s" % (" ".join(args), r.stderr.strip()))


# ------------------------------------------------------------ decode-ref

def decode_cpu(path, copies, keyframes):
    """(CPU seconds, frames decoded) of one ffmpeg decoding copies of path back to back."""
    skip = ["-skip_frame", "nokey"] if keyframes else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-threads", "1"]
                       + skip + ["-f", "h264", "-i", "concat:" + "|".join([path] * copies),
                                 "-map", "0:v", "-f", "null", "-"],
                       capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit("motion_measure: ffmpeg decoding %s failed: %s" % (path, r.stderr[-500:]))
    frames = re.findall(r"frame=\s*(\d+)", r.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, int(frames[-1]) if frames else 0


def cmd_decode_ref(argv):
    ap = argparse.ArgumentParser(prog="motion_measure.py decode-ref")
    ap.add_argument("file")
    ap.add_argument("--keyframes", action="store_true")
    ap.add_argument("--rate", type=int, default=FPS)
    a = ap.parse_args(argv)
    if "|" in a.file:
        raise SystemExit("motion_measure: a file name with '|' cannot be decoded through concat:")
    # the difference of a long and a short run leaves ffmpeg's start-up out
    many = 40 if a.keyframes else 6
    cpu1, f1 = decode_cpu(a.file, 1, a.keyframes)
    cpun, fn = decode_cpu(a.file, many, a.keyframes)
    if fn <= f1:
        raise SystemExit("motion_measure: ffmpeg decoded no more frames of %s from %d copies" % (a.file, many))
    per_frame = max(0.0, cpun - cpu1) / (fn - f1)
    # a camera sends 25 frames/s; with --keyframes only its IDRs (one per GOP) are decoded
    rate = FPS / GOP if a.keyframes else a.rate
    print(json.dumps({"file": a.file, "keyframes": a.keyframes, "frames": fn - f1, "cpu_s": cpun - cpu1,
                      "s_per_frame": per_frame, "frames_per_s": rate, "cpu_pct": per_frame * rate * 100.0}))
    return 0


# ------------------------------------------------------------ motion's configuration

def threshold_for(w, h):
    permille = os.environ.get("SG_BENCH_MOTION_AREA_PERMILLE")
    if permille:
        return max(1, round(float(permille) / 1000.0 * w * h))
    return max(1, round(MOTION_THRESHOLD_640x480 * w * h / (640 * 480)))


def conf_text(a, cams):
    """motion.conf and the camera files. What a competent administrator would write:
    Debian's /etc/motion/motion.conf detection settings (threshold 1500 for 640x480,
    scaled here to the analysed picture; despeckle_filter EedDl; minimum_motion_frames 1;
    pre_capture 3; post_capture 0; noise_tune on), width/height set to the stream's own
    size (motion would otherwise rescale every picture), framerate = the analysed frames
    per second sargasd gets (motion_fps), event_gap = sargasd's motion_end_quiet_s (3 s;
    Debian's 60 s would merge a minute of events into one), movies of the high stream in
    passthrough (no re-encoding, as sargasd records), no pictures, no overlays, no web
    control or streams (ports 0)."""
    main = ["daemon off", "setup_mode off", "log_level 6",
            "target_dir %s" % os.path.join(a.dir, "movies"),
            "webcontrol_port 0", "stream_port 0",
            "picture_output off", "movie_output on", "movie_passthrough on", "movie_max_time 60",
            "framerate %d" % a.fps, "event_gap %d" % a.event_gap,
            "pre_capture 3", "post_capture 0", "despeckle_filter EedDl", "minimum_motion_frames 1",
            "noise_tune on"]
    if a.extra:
        with open(a.extra) as f:
            main += [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    files = {}
    for c in cams:
        k = c["cam"]
        lines = ["camera_id %d" % k, "camera_name cam%d" % k,
                 "width %d" % c["w"], "height %d" % c["h"], "threshold %d" % threshold_for(c["w"], c["h"])]
        if c["keyframes"]:
            lines.append("netcam_url %s/cam%d/main" % (a.url, k))
        else:
            lines.append("netcam_url %s/cam%d/sub" % (a.url, k))
            lines.append("netcam_high_url %s/cam%d/main" % (a.url, k))
        if c.get("mask_pgm"):
            lines.append("mask_file %s" % c["mask_pgm"])
        if a.hook:
            lines.append("on_event_start %s start %%t" % a.hook)
            lines.append("on_event_end %s end %%t" % a.hook)
        files["cam%d.conf" % k] = "\n".join(lines) + "\n"
    main += ["camera %s" % os.path.join(a.dir, "cam%d.conf" % c["cam"]) for c in cams]
    files["motion.conf"] = "\n".join(main) + "\n"
    return files


def cmd_motion_conf(argv):
    ap = argparse.ArgumentParser(prog="motion_measure.py motion-conf")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--cameras", type=int)
    ap.add_argument("--mode", choices=["sub", "keyframes"], default="sub")
    ap.add_argument("--fps", type=int, required=True)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--manifest")
    ap.add_argument("--hook")
    ap.add_argument("--event-gap", type=int, default=3)
    ap.add_argument("--extra")
    ap.add_argument("--only", help="with --manifest: these cameras (K,K,...)")
    a = ap.parse_args(argv)
    if a.manifest:
        with open(a.manifest) as f:
            cams = json.load(f)["clips"]
        if a.only:
            only = {int(k) for k in a.only.split(",")}
            cams = [c for c in cams if c["cam"] in only]
    else:
        w, h = (int(x) for x in a.size.split("x"))
        cams = [{"cam": k, "w": w, "h": h, "keyframes": a.mode == "keyframes"}
                for k in range(1, a.cameras + 1)]
    os.makedirs(os.path.join(a.dir, "movies"), exist_ok=True)
    for name, text in conf_text(a, cams).items():
        with open(os.path.join(a.dir, name), "w") as f:
            f.write(text)
    return 0


# ------------------------------------------------------------ clips

def read_labels(path):
    info = {"labels": [], "mask": None, "resize": None, "notes": []}
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "name":
                info["name"] = p[1]
            elif p[0] == "size":
                info["w"], info["h"] = (int(x) for x in p[1].split("x"))
            elif p[0] == "fps":
                info["fps"] = float(p[1])
            elif p[0] == "duration_s":
                info["dur_s"] = float(p[1])
            elif p[0] == "quiet":
                info["quiet"] = p[1] == "1"
            elif p[0] == "label":
                info["labels"].append({"must": p[1] == "must", "start": float(p[2]), "end": float(p[3])})
            elif p[0] == "mask":
                info["mask"] = [float(x) for x in p[1:5]]
            elif p[0] == "resize_s":
                info["resize"] = float(p[1])
                info["notes"].append("resolution change to %s moved to the IDR before it" % p[2])
            elif p[0] == "reset_s":
                info["notes"].append("served without a reconnection: only the exposure jumps at %s s" % p[1])
            elif p[0] == "gap_s":
                info["notes"].append("served without the %s s gap: the picture jumps at %s s" % (p[2], p[1]))
    return info


def write_pgm(path, w, h, rect):
    """motion's mask: white detects, black is ignored (the rectangle)."""
    x0, y0 = max(0, int(rect[0] * w)), max(0, int(rect[1] * h))
    x1, y1 = min(w, int(rect[2] * w + 0.999)), min(h, int(rect[3] * h + 0.999))
    rows = bytearray()
    for y in range(h):
        row = bytearray(b"\xff" * w)
        if y0 <= y < y1:
            row[x0:x1] = b"\x00" * (x1 - x0)
        rows += row
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w, h))
        f.write(rows)


def read_y4m(path):
    """(width, height, [pictures]) of an 8-bit grey ('Cmono') Y4M file."""
    with open(path, "rb") as f:
        data = f.read()
    head, _, rest = data.partition(b"\n")
    fields = {t[:1]: t[1:] for t in head.split()[1:]}
    if fields.get(b"C") != b"mono":
        raise SystemExit("motion_measure: %s: expected an 8-bit grey Y4M (Cmono)" % path)
    w, h = int(fields[b"W"]), int(fields[b"H"])
    size, pics, pos = w * h, [], 0
    while pos < len(rest):
        nl = rest.index(b"\n", pos)
        pics.append(rest[nl + 1:nl + 1 + size])
        pos = nl + 1 + size
    return w, h, pics


def bounce(pics, count, before):
    """count pictures that go back and forth over the first (before=True, ending next to
    pictures[0]) or the last few pictures (starting next to pictures[-1]): the scene keeps its
    noise alive without a jump, where a frozen picture would teach the background a still
    noise pattern that the clip's first live frames then break."""
    n = min(5, len(pics))
    if n < 2:
        return [pics[0] if before else pics[-1]] * count
    period = 2 * (n - 1)
    out = []
    for j in range(1, count + 1):
        k = j % period
        k = k if k <= n - 1 else period - k
        out.append(pics[k] if before else pics[-1 - k])
    return out[::-1] if before else out


def encode(pics, w, h, fps, dst, frames):
    """The pictures (fps each second), each held until the next, as frames at 25 fps."""
    p = subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                          "-f", "yuv4mpegpipe", "-i", "-", "-vf", "fps=%d,format=yuv420p" % FPS,
                          "-frames:v", str(frames), "-an", "-c:v", "libx264", "-preset", "veryfast",
                          "-crf", "20", "-bf", "0", "-threads", "2", "-x264-params", X264, "-f", "h264", dst],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"YUV4MPEG2 W%d H%d F%d:1000 Ip A1:1 Cmono\n" % (w, h, round(fps * 1000)))
        for pic in pics:
            p.stdin.write(b"FRAME\n")
            p.stdin.write(pic)
        p.stdin.close()
    except BrokenPipeError:
        pass
    err = p.stderr.read().decode(errors="replace")
    if p.wait() != 0:
        raise SystemExit("motion_measure: encoding %s failed: %s" % (dst, err.strip()))


def cmd_clips(argv):
    ap = argparse.ArgumentParser(prog="motion_measure.py clips")
    ap.add_argument("--dump", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    clips = []
    for k, txt in enumerate(sorted(glob.glob(os.path.join(a.dump, "[0-9][0-9][0-9]-*.txt"))), start=1):
        info = read_labels(txt)
        y4m = txt[:-4] + ".y4m"
        dst = os.path.join(a.out, "cam%d.h264" % k)
        fps = info["fps"]
        lead, total = round(LEAD_S * fps), round(LOOP_S * fps)  # pictures
        if info["dur_s"] + LEAD_S > LOOP_S - 2:
            raise SystemExit("motion_measure: %s is longer than the loop" % txt)
        # each picture held until the next (5 fps -> 25 fps: five frames each; a 0.5 fps
        # keyframe clip: 50 frames, so every picture starts at an IDR after the 14 s lead-in)
        w, h, pics = read_y4m(y4m)
        head = bounce(pics, lead, True)
        if info["resize"] is None:
            tail = bounce(pics, total - lead - len(pics), False)
            encode(head + pics + tail, w, h, fps, dst, LOOP_FRAMES)
        else:
            # two parts with their own sizes, joined at an IDR (a camera changing its
            # resolution starts with one): the change moves to the IDR before it
            cut = int((LEAD_S + info["resize"]) * FPS) // GOP * GOP   # frames
            first = round(cut / FPS * fps) - lead                       # pictures of part 1
            w2, h2, pics2 = read_y4m(y4m[:-4] + ".part2.y4m")
            tail = bounce(pics2, total - lead - first - len(pics2), False)
            encode(head + pics[:first], w, h, fps, dst + ".1", cut)
            encode(pics2 + tail, w2, h2, fps, dst + ".2", LOOP_FRAMES - cut)
            with open(dst, "wb") as out:
                for part in (dst + ".1", dst + ".2"):
                    with open(part, "rb") as f:
                        out.write(f.read())
                    os.unlink(part)
            os.unlink(y4m[:-4] + ".part2.y4m")
        os.unlink(y4m)
        c = {"cam": k, "name": info["name"], "file": dst, "w": info["w"], "h": info["h"],
             "fps": info["fps"], "dur_s": info["dur_s"], "quiet": info["quiet"],
             "labels": info["labels"], "mask": info["mask"], "notes": info["notes"],
             "keyframes": info["fps"] < 1.0}
        if info["mask"]:
            c["mask_pgm"] = os.path.join(a.out, "cam%d-mask.pgm" % k)
            write_pgm(c["mask_pgm"], info["w"], info["h"], info["mask"])
        clips.append(c)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump({"loop_s": LOOP_S, "lead_s": LEAD_S, "clips": clips}, f, indent=1)
    print("%d clips encoded into %s (%d s loops)" % (len(clips), a.out, LOOP_S))
    return 0


# ------------------------------------------------------------ sargasd's masks

def camera_ids(build, config):
    return {c["name"]: c["id"] for c in record_measure.sargas(build, config, "camera", "list", "--json")}


def cmd_zones(argv):
    ap = argparse.ArgumentParser(prog="motion_measure.py zones")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args(argv)
    with open(a.manifest) as f:
        clips = json.load(f)["clips"]
    ids = camera_ids(a.build, a.config)
    deadline = time.monotonic() + 60
    while True:  # sargasd starting up
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/health" % a.port, timeout=5):
                break
        except OSError as e:
            if time.monotonic() > deadline:
                raise SystemExit("motion_measure: sargasd's API did not answer: %s" % e)
            time.sleep(0.2)
    n = 0
    for c in clips:
        if not c["mask"] or "cam%d" % c["cam"] not in ids:  # masked clips of this batch
            continue
        x0, y0, x1, y1 = (min(1.0, max(0.0, v)) for v in c["mask"])
        body = json.dumps({"zones": [{"name": "mask", "kind": "mask",
                                      "points": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]}]}).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/cameras/%d/zones" % (a.port, ids["cam%d" % c["cam"]]),
                                     data=body, method="PUT",
                                     headers={"Authorization": "Bearer " + a.token,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status // 100 != 2:
                raise SystemExit("motion_measure: PUT zones of cam%d: HTTP %d" % (c["cam"], r.status))
        n += 1
    print("masks given to sargasd: %d cameras" % n)
    return 0


# ------------------------------------------------------------ CPU, RSS, losses

def load_samples(path):
    samples = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            samples[rec["label"]] = rec
    return samples


def phase_cpu(samples, label, hz):
    """(% of one core of the first PID, its RSS in MB at the end, per-thread %, window s)."""
    s0, s1 = samples[label + "-t0"], samples[label + "-t1"]
    pid = int(next(iter(s0["procs"])))
    cpu, wall, alive = record_measure.cpu_window(s0, s1, [pid], hz)
    if not alive:
        raise SystemExit("motion_measure: the process of phase %s did not run for the whole window" % label)
    th0, th1 = s0.get("threads", {}), s1.get("threads", {})
    threads = {name: (th1[name] - th0.get(name, 0)) / hz / wall * 100.0 for name in th1}
    return cpu / wall * 100.0, record_measure.rss_mb(s1, [pid])[0], threads, wall, s0, s1


def thread_groups(threads):
    """Threads summed by name with digits dropped (motion: ml1:cam1, nc2:cam1 -> ml:cam, nc:cam)."""
    out = {}
    for name, pct in threads.items():
        key = re.sub(r"\d+", "", name)
        out[key] = out.get(key, 0.0) + pct
    return ", ".join("%s %.2f" % (k, v) for k, v in sorted(out.items(), key=lambda x: -x[1]) if v >= 0.005)


def lost_frames(a, config, s0, s1):
    """Frames of the window missing from sargasd's main recordings (record_measure's method)."""
    sys.path.insert(0, os.path.join(a.source, "tests", "tools"))
    import mp4inspect  # noqa: E402
    expected = set(record_measure.window_counters(s0["utc_us"], s1["utc_us"]))
    cams = camera_ids(a.build, config)
    segs = record_measure.sargas(a.build, config, "segments", "--json")
    lost, files_n, errors, worst = 0, 0, [], []
    for name, cam_id in sorted(cams.items()):
        files = [os.path.join(g["root"], g["path"]) for g in segs
                 if g["camera_id"] == cam_id and g["stream"] == "main"]
        files_n += len(files)
        got, _, _, errs = record_measure.lost_in_files(mp4inspect, files, expected)
        errors += errs
        missing = len(expected - got)
        lost += missing
        if missing:
            worst.append((missing, name))
    worst.sort(reverse=True)
    return lost, files_n, len(expected), errors, worst


def analysis_drops(log, lo_us, hi_us):
    """'analysis behind' warnings in sargasd's log (episodes of frames dropped up to a keyframe):
    (in the window [lo_us, hi_us), cameras with one there, outside the window)."""
    inside, outside, cams = 0, 0, set()
    if log and os.path.exists(log):
        with open(log, errors="replace") as f:
            for line in f:
                if "analysis behind" not in line:
                    continue
                t = record_measure.parse_utc(line.split()[0])
                if t is not None and lo_us <= t < hi_us:
                    inside += 1
                    m = re.search(r" cam=(\d+):", line)
                    if m:
                        cams.add(m.group(1))
                else:
                    outside += 1
    return inside, len(cams), outside


def cmd_report(argv):
    ap = argparse.ArgumentParser(prog="motion_measure.py report")
    ap.add_argument("--samples", required=True)
    ap.add_argument("--cameras", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--mode", choices=["sub", "keyframes"], required=True)
    ap.add_argument("--fps", type=int, required=True)
    ap.add_argument("--sub-rate", type=int, default=FPS)
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--config", required=True, help="sargasd's config of the phase with analysis")
    ap.add_argument("--sargas-log", required=True)
    ap.add_argument("--decode-ref", required=True)
    ap.add_argument("--replaycam-log", required=True)
    ap.add_argument("--motion-log")
    ap.add_argument("--quality-line")
    a = ap.parse_args(argv)
    hz = os.sysconf("SC_CLK_TCK")
    n = a.cameras
    samples = load_samples(a.samples)
    mode_field = " mode=keyframes" if a.mode == "keyframes" else ""

    an_pct, an_rss, an_threads, an_wall, s0, s1 = phase_cpu(samples, "sargas", hz)
    rec_pct, rec_rss, rec_threads, _, _, _ = phase_cpu(samples, "record", hz)
    print("sargasd, recording + analysis (motion_fps %d): %.2f %% of one core for %d cameras, %.1f MB RSS; "
          "threads: %s" % (a.fps, an_pct, n, an_rss, thread_groups(an_threads)))
    print("sargasd, recording only (motion = false): %.2f %% of one core, %.1f MB RSS; threads: %s"
          % (rec_pct, rec_rss, thread_groups(rec_threads)))
    with open(a.decode_ref) as f:
        ref = json.load(f)
    analysis = (an_pct - rec_pct) / n
    threads_pct = sum(v for k, v in an_threads.items() if k.startswith("analysis")) / n
    beyond = analysis - ref["cpu_pct"]
    print("decoding alone (ffmpeg -threads 1%s on %s): %.1f us per frame, "
          "%.3f %% of one core per camera at %g frames/s"
          % (" -skip_frame nokey" if ref["keyframes"] else "", os.path.basename(ref["file"]),
             ref["s_per_frame"] * 1e6, ref["cpu_pct"], ref["frames_per_s"]))
    print("analysis per camera: %.3f %% (with analysis minus recording only); its threads ('analysis') "
          "%.3f %%; beyond decoding: %.3f %% (difference) or %.3f %% (threads)"
          % (analysis, threads_pct, beyond, threads_pct - ref["cpu_pct"]))

    lost, files_n, per_cam, errors, worst = lost_frames(a, a.config, s0, s1)
    print("sargasd recordings (phase with analysis): %d files; %d frames per camera in the window; "
          "%d lost%s" % (files_n, per_cam, lost,
                         ("; worst: " + ", ".join("%s %d" % (nm, k) for k, nm in worst[:8])) if worst else ""))
    for e in errors[:5]:
        print("unreadable recording: %s" % e)
    drops, drop_cams, drops_out = analysis_drops(a.sargas_log, s0["utc_us"], s1["utc_us"])
    print("sargasd analysis: %d 'analysis behind' warnings (frames dropped up to a keyframe) on %d cameras "
          "in the window, %d before or after it" % (drops, drop_cams, drops_out))
    print("replaycam dropped %d frames (its sockets full) over the whole run"
          % record_measure.replaycam_drops(a.replaycam_log, 0, -1))
    print("load average (1 min) at the start and end of the analysis window: %.2f, %.2f on %d cores"
          % (s0.get("loadavg", 0), s1.get("loadavg", 0), os.cpu_count()))

    mo_pct = mo_rss = None
    if "motion-t0" in samples:
        mo_pct, mo_rss, mo_threads, _, m0, m1 = phase_cpu(samples, "motion", hz)
        print("motion: %.2f %% of one core for %d cameras, %.1f MB RSS; threads: %s"
              % (mo_pct, n, mo_rss, thread_groups(mo_threads)))
        print("load average (1 min) at the start and end of motion's window: %.2f, %.2f"
              % (m0.get("loadavg", 0), m1.get("loadavg", 0)))
        if a.motion_log and os.path.exists(a.motion_log):
            with open(a.motion_log, errors="replace") as f:
                text = f.read()
            print("motion log: %d connections, %d reconnections or losses, %d errors"
                  % (len(re.findall(r"Camera \(\S+\) connected", text)),
                     len(re.findall(r"[Rr]econnect|lost connection|No response", text)),
                     len(re.findall(r"\[ERR\]", text))))

    print("RESULT motion_overhead sargas_record_only_cpu_pct_per_cam=%.4f sargas_analysis_cpu_pct_per_cam=%.4f "
          "decode_ref_cpu_pct_per_cam=%.4f analysis_beyond_decoding_cpu_pct_per_cam=%.4f%s"
          % (rec_pct / n, analysis, ref["cpu_pct"], beyond, mode_field))
    if a.quality_line and os.path.exists(a.quality_line):
        with open(a.quality_line) as f:
            sys.stdout.write(f.read())
    sg = an_pct / n
    if mo_pct is None:
        mo_field, ratio = "NA", "NA"
        mo_rss_field = "NA"
    else:
        mo_field = "%.3f" % (mo_pct / n)
        ratio = "%.2f" % (mo_pct / an_pct) if an_pct > 0 else "inf"
        mo_rss_field = "%.2f" % (mo_rss / n)
    print("RESULT motion cameras=%d sargas_cpu_pct_per_cam=%.4f motion_cpu_pct_per_cam=%s cpu_ratio=%s "
          "sargas_rss_mb_per_cam=%.3f motion_rss_mb_per_cam=%s lost_frames=%d analysis_drops=%d "
          "sub_fps=%d sub_rate=%s seconds=%d%s"
          % (n, sg, mo_field, ratio, an_rss / n, mo_rss_field, lost, drops, a.fps,
             a.sub_rate if a.mode == "sub" else "NA", a.seconds, mode_field))
    return 0


# ------------------------------------------------------------ detection quality

def sargas_events(build, config):
    import sqlite3
    ids = camera_ids(build, config)
    by_id = {v: int(k[3:]) for k, v in ids.items()}
    catalog = None
    with open(config) as f:
        for line in f:
            m = re.match(r"\s*catalog\s*=\s*(\S+)", line)
            if m:
                catalog = m.group(1)
    db = sqlite3.connect("file:%s?mode=ro" % catalog, uri=True)
    try:
        rows = db.execute("SELECT camera_id, start_us, end_us FROM motion_events").fetchall()
    finally:
        db.close()
    ev = {}
    for cam_id, start, end in rows:
        if cam_id in by_id:
            ev.setdefault(by_id[cam_id], []).append((start / 1e6, end / 1e6 if end else None))
    return ev


def motion_events(path, gap):
    """The hook's lines 'start|end CAM UTC'; an event lasts from its start to its end hook minus
    event_gap (motion ends an event event_gap seconds after its last motion)."""
    ev, open_ = {}, {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) < 3:
                    continue
                kind, cam, t = p[0], int(p[1]), float(p[2])
                if kind == "start":
                    open_[cam] = t
                elif kind == "end" and cam in open_:
                    s = open_.pop(cam)
                    ev.setdefault(cam, []).append((s, max(s, t - gap)))
    for cam, s in open_.items():
        ev.setdefault(cam, []).append((s, None))
    return ev


def sargas_drops(log, lo, hi):
    """'analysis behind' warnings logged in [lo, hi) (UTC seconds)."""
    n = 0
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            for line in f:
                if "analysis behind" in line:
                    t = record_measure.parse_utc(line.split()[0])
                    if t is not None and lo <= t / 1e6 < hi:
                        n += 1
    return n


def score_clip(c, events, loop_start):
    """(found must labels, must labels, false events, events, a line) for one clip's loop."""
    lo, hi = loop_start + LEAD_S, loop_start + LOOP_S
    base = loop_start + LEAD_S
    labs = [(lab["must"], base + lab["start"], base + lab["end"]) for lab in c["labels"]]
    evs = [(s, e if e is not None else hi) for s, e in events if lo <= s < hi]
    # an event open at the window's start (it began before) may still find a label
    early = [(s, e if e is not None else hi) for s, e in events if s < lo and (e is None or e >= lo)]

    def hits(ev, lab):
        return ev[0] <= lab[2] + TOLERANCE_S and ev[1] >= lab[1] - TOLERANCE_S

    must = sum(1 for lab in labs if lab[0])
    found = sum(1 for lab in labs if lab[0] and any(hits(ev, lab) for ev in evs + early))
    false = sum(1 for ev in evs if not any(hits(ev, lab) for lab in labs))
    line = "%-13s %-5s found %d/%d false %d events %s" % (
        c["name"], "quiet" if c["quiet"] else "event", found, must, false,
        " ".join("[%.1f-%.1f]" % (s - base, e - base) for s, e in evs[:8]))
    return found, must, false, len(evs), line


def cmd_quality(argv):
    ap = argparse.ArgumentParser(prog="motion_measure.py quality")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", required=True, help="JSON lines: one per system and batch of cameras")
    ap.add_argument("--event-gap", type=int, default=3)
    ap.add_argument("--details", required=True)
    a = ap.parse_args(argv)
    with open(a.manifest) as f:
        clips = {c["cam"]: c for c in json.load(f)["clips"]}
    runs = []
    with open(a.runs) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    out = {}
    with open(a.details, "w") as d:
        d.write("clip times in s from each clip's start (labels: manifest.json); events that started "
                "in the scored window\n")
        for system in ("sargas", "motion"):
            mine = [r for r in runs if r["system"] == system]
            if not mine:
                continue
            found = must = false = quiet_ev = drops = 0
            seconds = 0.0
            for r in mine:
                if system == "sargas":
                    events = sargas_events(a.build, r["config"])
                    drops += sargas_drops(r["log"], r["loop"], r["loop"] + LOOP_S)
                else:
                    events = motion_events(r["events"], a.event_gap)
                d.write("== %s, loop from %s UTC\n" % (system, time.strftime("%H:%M:%S", time.gmtime(r["loop"]))))
                for k in r["cams"]:
                    f, m, fe, ne, line = score_clip(clips[k], events.get(k, []), r["loop"])
                    found += f
                    must += m
                    false += fe
                    quiet_ev += ne if clips[k]["quiet"] else 0
                    seconds += clips[k]["dur_s"]
                    d.write(line + "\n")
            out[system] = (found / must if must else 0.0, false / (seconds / 3600.0), must)
            print("%s: found %d of %d labelled events, %d false events (%d on quiet clips) in %.0f s of "
                  "clips%s" % (system, found, must, false, quiet_ev, seconds,
                                ", %d 'analysis behind' warnings in the scored loops" % drops
                                if system == "sargas" else ""))
    s = out["sargas"]
    m = out.get("motion")
    print("RESULT motion_quality sargas_recall=%.3f sargas_false_per_hour=%.2f motion_recall=%s "
          "motion_false_per_hour=%s clips=%d labelled=%d"
          % (s[0], s[1], "%.3f" % m[0] if m else "NA", "%.2f" % m[1] if m else "NA", len(clips), s[2]))
    return 0


def main(argv):
    cmds = {"decode-ref": cmd_decode_ref, "motion-conf": cmd_motion_conf, "clips": cmd_clips,
            "zones": cmd_zones, "report": cmd_report, "quality": cmd_quality}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
