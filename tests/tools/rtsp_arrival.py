#!/usr/bin/env python3
"""rtsp_arrival.py - measure how late the frames of an RTSP stream arrive.

A minimal RTSP client (OPTIONS, DESCRIBE, SETUP, PLAY) for one H.264
(RFC 6184) or H.265 (RFC 7798) video track, over TCP interleaved
(interleaved=0-1, the default) or UDP (--udp). It depacketizes just enough
(single NAL, STAP-A, FU-A; single, AP, FU) to find the SEI that
sargas-fakecam puts in every frame (UUID "SARGAS-FAKECAM-1", 64-bit big-endian
frame counter, 64-bit big-endian send time in UTC microseconds) and compares
each frame's arrival time (its last RTP packet, on this machine's UTC clock)
with the send time in its SEI.

    rtsp_arrival.py rtsp://127.0.0.1:18854/cam1/main [--seconds 10] [--udp]
                    [--play-delay S] [--quiet]

--play-delay S waits S seconds between the SETUP answer and PLAY, like a slow
client; a server that queues frames before PLAY then shows a backlog.

Prints on stdout:
    HANDSHAKE lines, one per request: milliseconds from the TCP connect
    FRAME lines, one per frame (not with --quiet): n, counter, idr, lag_ms
        (arrival minus SEI send time), gap (counter step when not +1)
    FIRST counter=C idr=0|1 sent_after_play_ms=X first_frame_from_connect_ms=X
        sent_after_play_ms: the first frame's SEI send time minus the time the
        PLAY request was sent; negative means the frame was produced before
        PLAY (a backlog), not live
    ARRIVAL first_frame_ms=X handshake_ms=X lag_p50_ms=X lag_max_ms=X
            frames=N counter_gaps=N
        handshake_ms: TCP connect to PLAY response
        first_frame_ms: PLAY response to the first complete frame
        lag_*: over every frame that carries the fakecam SEI
        frames: frames with the SEI; counter_gaps: steps other than +1
        values are -1 when there was no frame

Exit status: 0 when at least one frame with the SEI arrived, 1 otherwise or on
an RTSP/network error, 2 on bad arguments. Python 3 standard library only.
"""

import argparse
import select
import socket
import struct
import sys
import time
import urllib.parse

FAKECAM_UUID = b"SARGAS-FAKECAM-1"
USER_AGENT = "rtsp_arrival/1"
KEEPALIVE_S = 20.0
IO_TIMEOUT_S = 10.0


class RtspError(Exception):
    pass


def now_us():
    return time.time_ns() // 1000


def fmt_utc(us):
    t = time.gmtime(us // 1000000)
    return "%02d:%02d:%02d.%03d" % (t.tm_hour, t.tm_min, t.tm_sec, (us // 1000) % 1000)


# ----------------------------------------------------------------- SEI

def unescape_rbsp(data):
    """Removes emulation prevention bytes (00 00 03 -> 00 00)."""
    if b"\x00\x00\x03" not in data:
        return bytes(data)
    out = bytearray()
    zeros = 0
    for b in data:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def fakecam_sei(rbsp):
    """(counter, send_us) from an SEI RBSP (NAL header stripped), or None."""
    i, n = 0, len(rbsp)
    while i < n:
        if rbsp[i] == 0x80 and not any(rbsp[i + 1:]):
            return None  # rbsp_trailing_bits
        ptype = psize = 0
        while i < n and rbsp[i] == 0xFF:
            ptype += 255
            i += 1
        if i >= n:
            return None
        ptype += rbsp[i]
        i += 1
        while i < n and rbsp[i] == 0xFF:
            psize += 255
            i += 1
        if i >= n:
            return None
        psize += rbsp[i]
        i += 1
        payload = rbsp[i:i + psize]
        if ptype == 5 and len(payload) >= 32 and payload[:16] == FAKECAM_UUID:
            return struct.unpack(">QQ", payload[16:32])
        i += psize
    return None


# ----------------------------------------------------------- depacketizing

class Depacketizer:
    """Turns RTP payloads into complete NAL units (header included)."""

    def __init__(self, codec):
        self.h265 = codec == "H265"
        self.fu = None  # NAL being reassembled from fragments

    def nal_units(self, p):
        if self.h265:
            return self._h265(p)
        return self._h264(p)

    def _aggregate(self, p, i):
        out = []
        while i + 2 <= len(p):
            size = struct.unpack_from(">H", p, i)[0]
            i += 2
            if size == 0 or i + size > len(p):
                break
            out.append(p[i:i + size])
            i += size
        return out

    def _fragment(self, start, end, header, data):
        out = []
        if start:
            self.fu = bytearray(header)
            self.fu += data
        elif self.fu is not None:
            self.fu += data
        if end and self.fu is not None:
            out.append(bytes(self.fu))
            self.fu = None
        return out

    def _h264(self, p):
        if len(p) < 1:
            return []
        t = p[0] & 0x1F
        if 1 <= t <= 23:
            return [p]
        if t == 24:  # STAP-A
            return self._aggregate(p, 1)
        if t == 28 and len(p) >= 2:  # FU-A
            fu = p[1]
            return self._fragment(fu & 0x80, fu & 0x40, bytes([(p[0] & 0xE0) | (fu & 0x1F)]), p[2:])
        return []  # STAP-B, MTAP, FU-B: not used by the servers we test

    def _h265(self, p):
        if len(p) < 2:
            return []
        t = (p[0] >> 1) & 0x3F
        if t < 48:
            return [p]
        if t == 48:  # AP (no DONL: sprop-max-don-diff is 0)
            return self._aggregate(p, 2)
        if t == 49 and len(p) >= 3:  # FU
            fu = p[2]
            header = bytes([(p[0] & 0x81) | ((fu & 0x3F) << 1), p[1]])
            return self._fragment(fu & 0x80, fu & 0x40, header, p[3:])
        return []


def nal_info(codec, nal):
    """(is_idr, sei) for one NAL unit; sei is (counter, send_us) or None."""
    if codec == "H265":
        t = (nal[0] >> 1) & 0x3F
        if t in (39, 40):
            return False, fakecam_sei(unescape_rbsp(nal[2:]))
        return 16 <= t <= 21, None
    t = nal[0] & 0x1F
    if t == 6:
        return False, fakecam_sei(unescape_rbsp(nal[1:]))
    return t == 5, None


# ----------------------------------------------------------------- frames

class Frame:
    __slots__ = ("ts", "idr", "sei", "arrival_us")

    def __init__(self, ts):
        self.ts = ts
        self.idr = False
        self.sei = None
        self.arrival_us = 0


class Stats:
    def __init__(self, quiet):
        self.quiet = quiet
        self.frames = []  # (counter, send_us, arrival_us, idr)
        self.gaps = 0
        self.no_sei = 0

    def add(self, f):
        if f.sei is None:
            self.no_sei += 1
            if not self.quiet:
                print("FRAME no-sei ts=%d idr=%d arrival=%s" % (f.ts, f.idr, fmt_utc(f.arrival_us)))
            return
        counter, send_us = f.sei
        gap = ""
        if self.frames and counter != self.frames[-1][0] + 1:
            self.gaps += 1
            gap = " gap=%+d" % (counter - self.frames[-1][0])
        self.frames.append((counter, send_us, f.arrival_us, f.idr))
        if not self.quiet:
            print("FRAME n=%d counter=%d idr=%d sent=%s arrival=%s lag_ms=%.1f%s"
                  % (len(self.frames), counter, f.idr, fmt_utc(send_us), fmt_utc(f.arrival_us),
                     (f.arrival_us - send_us) / 1000.0, gap))
        sys.stdout.flush()


class RtpReceiver:
    """Groups RTP packets into frames by timestamp; a frame ends at the marker
    bit or when the timestamp changes."""

    def __init__(self, codec, pt, stats):
        self.codec = codec
        self.pt = pt
        self.depay = Depacketizer(codec)
        self.stats = stats
        self.cur = None
        self.last_arrival = 0

    def packet(self, pkt, arrival_us):
        if len(pkt) < 12 or (pkt[0] >> 6) != 2:
            return
        pt = pkt[1] & 0x7F
        if self.pt is not None and pt != self.pt:
            return
        marker = pkt[1] & 0x80
        ts = struct.unpack_from(">I", pkt, 4)[0]
        off = 12 + 4 * (pkt[0] & 0x0F)
        if pkt[0] & 0x10:  # header extension
            if off + 4 > len(pkt):
                return
            off += 4 + 4 * struct.unpack_from(">H", pkt, off + 2)[0]
        end = len(pkt)
        if pkt[0] & 0x20:  # padding
            end -= pkt[-1]
        if off > end:
            return
        if self.cur is not None and self.cur.ts != ts:
            self.finish()
        if self.cur is None:
            self.cur = Frame(ts)
        for nal in self.depay.nal_units(pkt[off:end]):
            if not nal:
                continue
            idr, sei = nal_info(self.codec, nal)
            self.cur.idr |= idr
            if sei is not None:
                self.cur.sei = sei
        self.cur.arrival_us = arrival_us
        if marker:
            self.finish()

    def finish(self):
        if self.cur is not None:
            self.stats.add(self.cur)
        self.cur = None


# ------------------------------------------------------------------- RTSP

class Connection:
    """RTSP over one TCP connection; interleaved data is handed to on_data."""

    def __init__(self, host, port):
        self.t_connect_us = now_us()
        self.sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.buf_us = 0  # arrival time of the last bytes read
        self.cseq = 0
        self.on_data = None  # f(channel, payload, arrival_us)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_request(self, method, url, headers=()):
        self.cseq += 1
        lines = ["%s %s RTSP/1.0" % (method, url), "CSeq: %d" % self.cseq,
                 "User-Agent: %s" % USER_AGENT]
        lines.extend(headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        return self.cseq

    def fill(self, timeout):
        """Reads what is available within timeout; False on timeout."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        data = self.sock.recv(256 * 1024)
        if not data:
            raise RtspError("connection closed by the server")
        self.buf_us = now_us()
        self.buf += data
        return True

    def pump(self):
        """Consumes complete items from the buffer: interleaved frames go to
        on_data; returns an RTSP response (status, headers, body) or None."""
        while self.buf:
            if self.buf[0] == 0x24:  # '$'
                if len(self.buf) < 4:
                    return None
                channel = self.buf[1]
                size = struct.unpack_from(">H", self.buf, 2)[0]
                if len(self.buf) < 4 + size:
                    return None
                payload = bytes(self.buf[4:4 + size])
                del self.buf[:4 + size]
                if self.on_data:
                    self.on_data(channel, payload, self.buf_us)
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    raise RtspError("RTSP header too long")
                return None
            head = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buf) < end + 4 + length:
                return None
            body = bytes(self.buf[end + 4:end + 4 + length])
            del self.buf[:end + 4 + length]
            first = head[0].split(" ", 2)
            if first[0].startswith("RTSP/"):
                return int(first[1]), headers, body
            # a request from the server (e.g. GET_PARAMETER): answer 501
            cseq = headers.get("cseq", "0")
            self.sock.sendall(("RTSP/1.0 501 Not Implemented\r\nCSeq: %s\r\n\r\n"
                               % cseq).encode("ascii"))
        return None

    def request(self, method, url, headers=()):
        cseq = self.send_request(method, url, headers)
        deadline = time.monotonic() + IO_TIMEOUT_S
        while True:
            resp = self.pump()
            if resp is not None:
                status, hdrs, body = resp
                if hdrs.get("cseq") != str(cseq):
                    continue  # answer to an earlier keep-alive
                if status != 200:
                    raise RtspError("%s answered %d" % (method, status))
                return hdrs, body
            if not self.fill(deadline - time.monotonic()):
                raise RtspError("%s: no answer within %.0f s" % (method, IO_TIMEOUT_S))


def parse_sdp(sdp):
    """(codec, payload type, control) of the first video media."""
    codec = pt = control = None
    in_video = False
    for line in sdp.splitlines():
        line = line.strip()
        if line.startswith("m="):
            if in_video:
                break
            in_video = line.startswith("m=video")
            if in_video:
                fields = line.split()
                pt = int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None
            continue
        if not in_video:
            continue
        if line.startswith("a=rtpmap:"):
            enc = line.split(None, 1)[1].split("/")[0].upper() if " " in line else ""
            if enc in ("H264", "H265"):
                codec = enc
        elif line.startswith("a=control:"):
            control = line[len("a=control:"):]
    if codec is None:
        raise RtspError("no H.264/H.265 video in the SDP")
    return codec, pt, control


def control_url(base, control):
    if not control or control == "*":
        return base
    if control.startswith("rtsp://") or control.startswith("rtsps://"):
        return control
    return base.rstrip("/") + "/" + control


def session_id(headers):
    s = headers.get("session")
    if not s:
        raise RtspError("SETUP answer has no Session header")
    return s.split(";")[0].strip()


def percentile(sorted_vals, q):
    if not sorted_vals:
        return -1.0
    k = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def run(url, seconds, udp, quiet, play_delay=0.0):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "rtsp" or not u.hostname:
        raise RtspError("not an rtsp:// URL: %s" % url)
    conn = Connection(u.hostname, u.port or 554)
    stats = Stats(quiet)
    rtp_socks = []
    t0 = conn.t_connect_us

    def mark(what):
        print("HANDSHAKE %s ms=%.1f" % (what, (now_us() - t0) / 1000.0))

    try:
        mark("connected")
        conn.request("OPTIONS", url)
        mark("options")
        hdrs, body = conn.request("DESCRIBE", url, ["Accept: application/sdp"])
        mark("describe")
        base = hdrs.get("content-base") or hdrs.get("content-location") or url
        codec, pt, control = parse_sdp(body.decode("latin-1"))
        if udp:
            for _ in range(50):  # an even/odd port pair
                a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                a.bind(("0.0.0.0", 0))
                port = a.getsockname()[1]
                if port % 2 == 0:
                    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    try:
                        b.bind(("0.0.0.0", port + 1))
                    except OSError:
                        b.close()
                        a.close()
                        continue
                    a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
                    rtp_socks = [a, b]
                    break
                a.close()
            if not rtp_socks:
                raise RtspError("no free UDP port pair")
            transport = "RTP/AVP;unicast;client_port=%d-%d" % (port, port + 1)
        else:
            transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        hdrs, _ = conn.request("SETUP", control_url(base, control), ["Transport: " + transport])
        mark("setup")
        session = session_id(hdrs)
        receiver = RtpReceiver(codec, pt, stats)
        conn.on_data = lambda ch, p, t: receiver.packet(p, t) if ch == 0 else None
        if play_delay > 0:
            time.sleep(play_delay)
        play_sent_us = now_us()
        conn.request("PLAY", url, ["Session: " + session, "Range: npt=0.000-"])
        play_us = now_us()
        mark("play")

        end = time.monotonic() + seconds
        next_keepalive = time.monotonic() + KEEPALIVE_S
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            if time.monotonic() >= next_keepalive:
                conn.send_request("GET_PARAMETER", url, ["Session: " + session])
                next_keepalive += KEEPALIVE_S
            r, _, _ = select.select([conn.sock] + rtp_socks, [], [], min(left, 1.0))
            for s in r:
                if s is conn.sock:
                    conn.fill(0)
                    conn.pump()  # keep-alive answers are dropped
                elif s is rtp_socks[0]:
                    pkt = s.recv(65536)
                    receiver.packet(pkt, now_us())
                else:
                    s.recv(65536)  # RTCP
        receiver.finish()
        try:
            conn.send_request("TEARDOWN", url, ["Session: " + session])
        except OSError:
            pass
    finally:
        conn.close()
        for s in rtp_socks:
            s.close()

    frames = stats.frames
    handshake_ms = (play_us - t0) / 1000.0
    if frames:
        c, send_us, arr_us, idr = frames[0]
        first_ms = (arr_us - play_us) / 1000.0
        print("FIRST counter=%d idr=%d sent_after_play_ms=%.1f first_frame_from_connect_ms=%.1f"
              % (c, idr, (send_us - play_sent_us) / 1000.0, (arr_us - t0) / 1000.0))
    else:
        first_ms = -1
    lags = sorted((a - s) / 1000.0 for _, s, a, _ in frames)
    print("ARRIVAL first_frame_ms=%d handshake_ms=%d lag_p50_ms=%.1f lag_max_ms=%.1f "
          "frames=%d counter_gaps=%d"
          % (round(first_ms), round(handshake_ms), percentile(lags, 0.5),
             lags[-1] if lags else -1.0, len(frames), stats.gaps))
    if stats.no_sei:
        print("NOTE %d frames without the fakecam SEI" % stats.no_sei)
    return 0 if frames else 1


def main():
    ap = argparse.ArgumentParser(
        description="measure frame arrival lag against the fakecam SEI send time")
    ap.add_argument("url", help="rtsp://host:port/path")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="how long to receive after PLAY (default 10)")
    ap.add_argument("--udp", action="store_true", help="RTP over UDP instead of TCP interleaved")
    ap.add_argument("--play-delay", type=float, default=0.0, metavar="S",
                    help="wait S seconds between SETUP and PLAY (a slow client)")
    ap.add_argument("--quiet", action="store_true", help="no FRAME lines")
    args = ap.parse_args()
    if args.seconds <= 0:
        ap.error("--seconds must be positive")
    if args.play_delay < 0:
        ap.error("--play-delay must not be negative")
    try:
        return run(args.url, args.seconds, args.udp, args.quiet, args.play_delay)
    except (RtspError, OSError, ValueError) as e:
        print("rtsp_arrival: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
