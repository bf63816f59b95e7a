#!/usr/bin/env python3
"""Seek into a day of archive: the server alone and the console in Chromium (run by
bench/seek.sh through tests/browser/run.py: sargasd recording camera 1, main and sub).

    seek.py [--samples N] [--hours H] [--source-seconds S] [--warm]
    seek.py --evict LIST     (drops the files named in LIST from the page cache)

1. Waits until camera 1 has S seconds (default 60) of complete, contiguous sub-stream
   segments (segment_seconds = 10).
2. Builds H hours (default 24) of archive ending an hour ago ("yesterday") from them: the run
   of files is copied again and again to consecutive time slots, each copy with its prft
   boxes (the wall-clock time of every fragment, which playback reads) moved to the new slot,
   and one catalog row per copy (sqlite3, the schema of src/catalog). The pictures repeat, so
   the barcodes show the original counters: fine for timing, not for checking what is shown.
   Only the sub stream is built (24 h of 1080p main would be ~43 GB); the console's grid
   tiles play the sub stream when it is recorded.
3. For N random moments (default 30): (a) server: GET playlist(from=T, to=T+10 min, as the console
   asks) + GET the init byte range + GET the first fragment's byte range, one keep-alive
   connection on loopback; (b) for N other moments, browser (bench/seek.mjs):
   window.sargas.seek(T) in the console
   (camera 1 in tile 0, from live) to the first frame that tile presents
   (requestVideoFrameCallback). Before each measurement the archive files leave the page
   cache (posix_fadvise DONTNEED; --warm keeps them) as for footage nobody read since
   yesterday; sargasd's own fragment-index cache is left as it is.
Last line: RESULT seek samples=N browser_p95_ms=X server_p95_ms=X"""
import argparse
import http.client
import json
import os
import random
import re
import sqlite3
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
NTP_UNIX = 2208988800
SUB = 1
COMPLETE = 1


def rfc(us):
    t = time.gmtime(us // 1000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (us // 1000 % 1000)


def compact(us):
    t = time.gmtime(us // 1000000)
    return time.strftime("%Y%m%dT%H%M%S", t) + ".%03dZ" % (us // 1000 % 1000)


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, -(-p * len(s) // 100) - 1))] if s else float("nan")


def db():
    c = sqlite3.connect(os.environ["SARGAS_CATALOG"], timeout=30)
    c.execute("PRAGMA busy_timeout = 30000")
    return c


def source_run(need_us):
    """The newest contiguous run of complete sub segments of camera 1 lasting need_us."""
    rows = db().execute("SELECT start_us, end_us, bytes, root, path, codec, width, height FROM segments "
                        "WHERE camera_id = 1 AND stream = ? AND status = ? ORDER BY start_us", (SUB, COMPLETE)).fetchall()
    run = []
    for r in rows:
        if run and abs(r[0] - run[-1][1]) > 100000:  # a hole: start again
            run = []
        run.append(r)
    # drop the first file of the recording (it starts at connect time, not on a cut)
    if rows and run and run[0] == rows[0]:
        run = run[1:]
    if run and run[-1][1] - run[0][0] >= need_us:
        return run
    return None


def patch_prft(data, delta_us):
    """Moves every top-level prft box's NTP time by delta_us; returns the new bytes and count."""
    b = bytearray(data)
    off, n = 0, 0
    while off + 8 <= len(b):
        size, kind = struct.unpack_from(">I4s", b, off)
        if size == 1:
            size = struct.unpack_from(">Q", b, off + 8)[0]
        elif size == 0:
            size = len(b) - off
        if size < 8:
            raise ValueError("bad box size at %d" % off)
        if kind == b"prft":
            ver = b[off + 8]
            at = off + 16
            if ver == 1:
                ntp = struct.unpack_from(">Q", b, at)[0]
            else:
                raise ValueError("prft version %d" % ver)
            us = ((ntp >> 32) - NTP_UNIX) * 1000000 + ((ntp & 0xFFFFFFFF) * 1000000 >> 32) + delta_us
            secs, frac_us = divmod(us, 1000000)
            ntp = ((secs + NTP_UNIX) << 32) | ((frac_us << 32) // 1000000)
            struct.pack_into(">Q", b, at, ntp)
            n += 1
        off += size
    return bytes(b), n


WINDOW_US = 600 * 1000000  # the console's playlist window (web/js/playback.js WINDOW_MS)


def build_archive(run, hours, archive_end_us):
    """Copies `run` to consecutive slots ending at archive_end_us; returns the list of files."""
    run_start, run_len = run[0][0], run[-1][1] - run[0][0]
    copies = -(-hours * 3600 * 1000000 // run_len)
    first = archive_end_us - copies * run_len
    srcs = []
    for (s, e, nbytes, root, path, codec, w, h) in run:
        with open(os.path.join(root, path), "rb") as f:
            srcs.append((s, e, f.read(), root, codec, w, h))
    files, rows = [], []
    t0 = time.monotonic()
    for j in range(copies):
        for (s, e, data, root, codec, w, h) in srcs:
            new_s = first + j * run_len + (s - run_start)
            delta = new_s - s
            out, n = patch_prft(data, delta)
            if n == 0:
                raise SystemExit("seek.py: no prft box in the source segment: cannot move it in time")
            day = time.strftime("%Y-%m-%d/%H", time.gmtime(new_s // 1000000))
            rel = "1/sub/%s/%s.mp4" % (day, compact(new_s))
            full = os.path.join(root, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(out)
            files.append(full)
            rows.append((1, SUB, new_s, e + delta, len(out), root, rel, codec, w, h, COMPLETE))
    c = db()
    with c:
        c.executemany("INSERT INTO segments (camera_id, stream, start_us, end_us, bytes, root, path, codec, width, height, "
                      "status) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    c.close()
    total = sum(r[4] for r in rows)
    print("archive: %d files (%d copies of %d files, %.1f s each run), %.2f GB, %s .. %s, written in %.0f s" %
          (len(files), copies, len(run), run_len / 1e6, total / 1e9, rfc(first), rfc(archive_end_us),
           time.monotonic() - t0), flush=True)
    return files, first


def evict(files):
    for p in files:
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def server_seek(conn, t_us):
    """GET playlist + init range + first fragment range; returns (ms, fragment bytes)."""
    def get(path, headers=None):
        # the administrator's API token from tests/browser/run.py: every API route needs a principal
        h = dict(headers or {}, Authorization="Bearer " + os.environ["SARGAS_TOKEN"])
        conn.request("GET", path, headers=h)
        r = conn.getresponse()
        body = r.read()
        if r.status not in (200, 206):
            raise SystemExit("seek.py: GET %s: HTTP %d %s" % (path, r.status, body[:200]))
        return body
    t0 = time.perf_counter()
    pl = get("/api/v1/cameras/1/playback/sub.m3u8?from=%s&to=%s" % (rfc(t_us), rfc(t_us + WINDOW_US))).decode()
    m = re.search(r'#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"', pl)
    f = re.search(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)\n(?:#[^\n]*\n)*?#EXT-X-BYTERANGE:(\d+)@(\d+)\n([^#\s]\S*)", pl)
    if not m or not f:
        raise SystemExit("seek.py: no map or fragment in the playlist for %s:\n%s" % (rfc(t_us), pl[:600]))
    t1 = time.perf_counter()
    get(m.group(1), {"Range": "bytes=%d-%d" % (int(m.group(3)), int(m.group(3)) + int(m.group(2)) - 1)})
    t2 = time.perf_counter()
    n, o = int(f.group(2)), int(f.group(3))
    frag = get(f.group(4), {"Range": "bytes=%d-%d" % (o, o + n - 1)})
    t3 = time.perf_counter()
    pdt = f.group(1)
    return (t3 - t0) * 1000, len(frag), pdt, pl.count("#EXTINF"), ((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--source-seconds", type=int, default=60)
    ap.add_argument("--warm", action="store_true")
    ap.add_argument("--evict")
    a = ap.parse_args()
    if a.evict:
        with open(a.evict) as f:
            evict(json.load(f))
        return 0

    t0 = time.monotonic()
    need = a.source_seconds * 1000000
    while True:
        run = source_run(need)
        if run:
            break
        if time.monotonic() - t0 > a.source_seconds + 60:
            raise SystemExit("seek.py: no %d s of contiguous sub-stream recording after %.0f s" %
                             (a.source_seconds, time.monotonic() - t0))
        time.sleep(1)
    print("source: %d sub-stream segments of camera 1, %s .. %s" % (len(run), rfc(run[0][0]), rfc(run[-1][1])), flush=True)
    archive_end = (int(time.time()) - 3600) * 1000000
    files, first = build_archive(run, a.hours, archive_end)
    listfile = os.path.join(os.environ["SARGAS_DIR"], "archive-files.json")
    with open(listfile, "w") as f:
        json.dump(files, f)
    subprocess.run(["sync"], check=False)   # dirty pages cannot be dropped from the cache

    rnd = random.Random(int(os.environ.get("SG_SEED", "1")))
    # moments anywhere in the day, on no particular boundary; other moments for the browser,
    # so that it does not find the fragment indexes the server part left in sargasd's cache
    moments = [first + rnd.randrange(0, archive_end - first - 60 * 1000000) for _ in range(a.samples)]
    bmoments = [first + rnd.randrange(0, archive_end - first - 60 * 1000000) for _ in range(a.samples)]

    # (a) the server alone
    url = os.environ["SARGAS_URL"]
    host, port = url.split("//")[1].split(":")
    server, split = [], []
    for t in moments:
        if not a.warm:
            evict(files)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        ms, nbytes, pdt, nfrag, parts = server_seek(conn, t)
        conn.close()
        server.append(ms)
        split.append(parts)
        print("server %s: %.1f ms = playlist %.1f + init %.1f + fragment %.1f (playlist of %d fragments, "
              "first at %s, fragment %d bytes)" % ((rfc(t), ms) + parts + (nfrag, pdt, nbytes)), flush=True)

    # (b) the console in Chromium
    r = subprocess.run(["node", os.path.join(HERE, "seek.mjs")], env=dict(
        os.environ, SG_SEEK_MOMENTS=json.dumps([t // 1000 for t in bmoments]),
        SG_SEEK_EVICT="" if a.warm else listfile), stdout=subprocess.PIPE, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        raise SystemExit("seek.py: bench/seek.mjs failed (exit %d)" % r.returncode)
    browser = [float(x) for x in re.findall(r"^browser .*?: ([\d.]+) ms", r.stdout, re.M)]
    print("server (playlist + init + first fragment), ms: p50 %.1f p95 %.1f max %.1f (%d samples, %s page cache); "
          "p50 of the parts: playlist %.1f, init %.1f, fragment %.1f" %
          (pct(server, 50), pct(server, 95), max(server), len(server), "warm" if a.warm else "cold",
           pct([x[0] for x in split], 50), pct([x[1] for x in split], 50), pct([x[2] for x in split], 50)))
    if browser:
        print("browser (seek to first frame presented), ms: p50 %.0f p95 %.0f max %.0f (%d samples)" %
              (pct(browser, 50), pct(browser, 95), max(browser), len(browser)))
    print("RESULT seek samples=%d browser_p95_ms=%.0f server_p95_ms=%.1f" %
          (len(moments), pct(browser, 95) if browser else float("nan"), pct(server, 95)))
    return 0 if len(browser) == len(moments) else 1


if __name__ == "__main__":
    sys.exit(main())
