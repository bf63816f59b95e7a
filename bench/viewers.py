#!/usr/bin/env python3
"""What live viewers cost sargasd (run by bench/viewers.sh through tests/browser/run.py:
sargasd recording 16 fake cameras' main streams).

    viewers.py [--viewers N] [--seconds S] [--warmup W] [--stream sub|main]

1. S seconds (default 60) with no viewer: sargasd's CPU time (utime + stime, /proc/PID/stat).
2. N viewers (default 50), each one HTTP/1.1 client reading /api/v1/cameras/K/live/sub.mp4
   (K round-robin over the cameras) like the console's live player does (chunked, endless
   fragmented MP4); after W s (default 5) of setting up, S seconds measured the same way.
   All viewers are one Python process with one thread (non-blocking sockets), outside sargasd.
3. Lost frames: (a) in the recordings, the frames sent during both windows (fakecam counter
   times, 25 fps) that no complete main-stream segment holds (counters from the SEI, as
   tests/integration/test_continuity.py reads them with tests/tools/mp4inspect.py); (b) per
   viewer, the counters missing between its first frame (a keyframe: the live stream starts
   with the last GOP) and its last one.
cpu_pct_per_viewer = (CPU with - CPU without) / N, in % of one core.
Last line: RESULT viewers n=N cpu_pct_per_viewer=X lost_frames=X"""
import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "tools"))
import mp4inspect  # noqa: E402

UUID = mp4inspect.FAKECAM_UUID
BUILD = os.environ.get("SG_BUILD", os.path.join(SOURCE, "build"))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Viewer:
    """One live stream: HTTP/1.1 response, chunked transfer coding, then MP4 boxes; keeps the
    fakecam counter of every frame (one moof + mdat per frame)."""

    def __init__(self, host, port, path):
        self.path = path
        self.sock = socket.create_connection((host, port))
        self.sock.setblocking(False)
        # the administrator's API token from tests/browser/run.py: live views need a principal
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: */*\r\nAuthorization: Bearer %s\r\n\r\n" %
                           (path, host, port, os.environ["SARGAS_TOKEN"])).encode())
        self.raw = bytearray()
        self.head = None
        self.chunk_left = 0     # bytes of the current chunk still to come
        self.body = bytearray()
        self.counters = []
        self.first_key = None
        self.bytes = 0
        self.closed = False
        self.error = None

    def feed(self, data):
        self.bytes += len(data)
        self.raw += data
        if self.head is None:
            i = self.raw.find(b"\r\n\r\n")
            if i < 0:
                return
            self.head = bytes(self.raw[:i]).decode("latin-1")
            del self.raw[:i + 4]
            status = self.head.split("\r\n", 1)[0]
            if " 200 " not in status + " ":
                self.error = status
                return
            self.chunked = "transfer-encoding: chunked" in self.head.lower()
        if self.chunked:
            self.dechunk()
        else:
            self.body += self.raw
            self.raw.clear()
        self.boxes()

    def dechunk(self):
        r = self.raw
        pos = 0
        while True:
            if self.chunk_left == 0:
                i = r.find(b"\r\n", pos)
                if i < 0:
                    break
                line = bytes(r[pos:i]).split(b";")[0].strip()
                if not line:          # the CRLF that ends the previous chunk
                    pos = i + 2
                    continue
                self.chunk_left = int(line, 16)
                pos = i + 2
                if self.chunk_left == 0:
                    self.closed = True
                    break
            take = min(self.chunk_left, len(r) - pos)
            if take <= 0:
                break
            self.body += r[pos:pos + take]
            pos += take
            self.chunk_left -= take
        del r[:pos]

    def boxes(self):
        b = self.body
        off = 0
        while len(b) - off >= 8:
            size = int.from_bytes(b[off:off + 4], "big")
            kind = bytes(b[off + 4:off + 8])
            if size == 1:
                if len(b) - off < 16:
                    break
                size = int.from_bytes(b[off + 8:off + 16], "big")
            if size < 8:
                self.error = "bad box size %d" % size
                break
            if len(b) - off < size:
                break
            if kind == b"mdat":
                i = b.find(UUID, off, off + size)
                if i >= 0:
                    c = int.from_bytes(mp4inspect.unescape_rbsp(bytes(b[i + 16:i + 16 + 24]))[:8], "big")
                    self.counters.append(c)
            off += size
        del b[:off]

    def lost(self):
        c = self.counters
        return sum(max(0, y - x - 1) for x, y in zip(c, c[1:])), sum(1 for x, y in zip(c, c[1:]) if y <= x)


def run_viewers(viewers, until, sel):
    while time.monotonic() < until:
        for key, _ in sel.select(timeout=0.2):
            v = key.data
            try:
                data = v.sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError as e:
                v.error = str(e)
                data = b""
            if not data:
                v.closed = True
                sel.unregister(v.sock)
                continue
            v.feed(data)


def segments():
    r = subprocess.run([os.path.join(BUILD, "sargas"), "--config", os.environ["SARGAS_CONFIG"], "segments", "--json"],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def utc_us(s):
    from datetime import datetime
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1e6)


def recording_losses(cameras, win0, win1):
    """Frames sent in [win0, win1) (UTC us) that no complete main segment holds, per camera."""
    deadline = time.monotonic() + 40
    while True:   # the window's segments must be complete
        segs = [s for s in segments() if s["stream"] == "main"]
        done = all(any(s["camera_id"] == cam and s["status"] == "complete" and utc_us(s["end"]) >= win1 for s in segs)
                   for cam in range(1, cameras + 1))
        if done or time.monotonic() > deadline:
            break
        time.sleep(1)
    expected = -(-win1 // 40000) - (-(-win0 // 40000))
    out = {}
    for cam in range(1, cameras + 1):
        have = set()
        for s in segs:
            if s["camera_id"] != cam or s["status"] != "complete":
                continue
            if utc_us(s["end"]) < win0 - 5e6 or utc_us(s["start"]) > win1 + 5e6:
                continue
            info = mp4inspect.inspect(os.path.join(s["root"], s["path"]))
            have.update(x["counter"] for x in info["samples"] if x.get("counter") is not None)
        present = sum(1 for c in have if win0 <= c * 40000 < win1)
        out[cam] = expected - present
    return out, expected


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--stream", default="sub", choices=["sub", "main"])
    a = ap.parse_args()
    pid = int(os.environ["SARGAS_PID"])
    cams = int(os.environ["SARGAS_CAMERAS"])
    host, port = os.environ["SARGAS_URL"].split("//")[1].split(":")
    port = int(port)
    print("machine: %d cores, load average %s" % (os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg())))

    time.sleep(a.warmup)   # let recording settle after start-up
    win0 = int(time.time() * 1e6)
    c0 = cpu_seconds(pid)
    time.sleep(a.seconds)
    cpu_without = (cpu_seconds(pid) - c0) / a.seconds * 100
    print("0 viewers: sargasd %.2f %% of one core over %.0f s (recording %d cameras)" % (cpu_without, a.seconds, cams),
          flush=True)

    sel = selectors.DefaultSelector()
    viewers = []
    for i in range(a.viewers):
        v = Viewer(host, port, "/api/v1/cameras/%d/live/%s.mp4" % (i % cams + 1, a.stream))
        sel.register(v.sock, selectors.EVENT_READ, v)
        viewers.append(v)
    run_viewers(viewers, time.monotonic() + a.warmup, sel)
    c0 = cpu_seconds(pid)
    m0 = time.monotonic()
    me0 = os.times()
    run_viewers(viewers, m0 + a.seconds, sel)
    cpu_with = (cpu_seconds(pid) - c0) / (time.monotonic() - m0) * 100
    me1 = os.times()
    win1 = int(time.time() * 1e6)
    for v in viewers:
        try:
            sel.unregister(v.sock)
        except (KeyError, ValueError):
            pass
        v.sock.close()
    client_cpu = (me1.user + me1.system - me0.user - me0.system) / a.seconds * 100
    print("%d viewers: sargasd %.2f %% of one core over %.0f s; the viewers' own process %.1f %%" %
          (a.viewers, cpu_with, a.seconds, client_cpu), flush=True)

    bad = [v for v in viewers if v.error or v.closed]
    frames = [len(v.counters) for v in viewers]
    lost_v = [v.lost() for v in viewers]
    viewer_lost = sum(x for x, _ in lost_v)
    backwards = sum(y for _, y in lost_v)
    rate = sum(v.bytes for v in viewers) / (a.seconds + a.warmup) / 1e6
    print("viewers: frames per viewer min %d max %d (%.0f s at 25 fps = %d), %.1f MB/s in all; "
          "missing counters %d, out of order %d; errors or closed streams: %d %s" %
          (min(frames), max(frames), a.seconds + a.warmup, (a.seconds + a.warmup) * 25, rate, viewer_lost, backwards,
           len(bad), [(v.path, v.error) for v in bad][:3]))
    rec, expected = recording_losses(cams, win0, win1)
    rec_lost = sum(rec.values())
    print("recordings: %d frames expected per camera in %.0f s; missing per camera: %s" %
          (expected, (win1 - win0) / 1e6, " ".join("%d:%d" % kv for kv in sorted(rec.items()))))
    per_viewer = (cpu_with - cpu_without) / a.viewers
    lost = rec_lost + viewer_lost + backwards
    if bad:
        print("FAILED: %d viewer streams failed or ended early" % len(bad))
    print("RESULT viewers n=%d cpu_pct_per_viewer=%.3f lost_frames=%d" % (a.viewers, per_viewer, lost))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
