#!/usr/bin/env python3
"""hostile_rtsp.py - a deliberately misbehaving RTSP server for Sargas tests.

Python 3 standard library only.

Usage:
  hostile_rtsp.py --port P --mode MODE [--media FILE.h264|.h265] [--media2 FILE]
                  [--bind 127.0.0.1] [--user U --password PW --auth basic|digest]
                  [--seconds-before S] [--bignal-size BYTES]

Prints exactly one line "hostile: ready port=P mode=MODE" on stdout once
listening (with --port 0 the kernel picks a free port and P is that port).
Everything else is logged on stderr.  Exits with status 0 on SIGTERM/SIGINT.

Mode "normal" is a correct RTSP/1.0 server for one H.264 (RFC 6184) or
H.265 (RFC 7798) video track, TCP interleaved transport only, streaming the
Annex B file given with --media in a loop at 25 fps real time.  The other
modes misbehave in one specific way each; see MODES below.
"""

import argparse
import base64
import hashlib
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time

FPS = 25
TS_PER_FRAME = 90000 // FPS  # 3600
MAX_RTP_PAYLOAD = 1400
SERVER_NAME = "hostile_rtsp/1.0"
REALM = "Sargas-hostile"

MODES = {
    # mode: (description, default seconds before the misbehaviour)
    "normal": ("correct RTSP server", None),
    "slowloris": ("answer one byte of a valid response every 3 s, forever", None),
    "silent": ("accept TCP, never answer", None),
    "garbage-handshake": ("answer requests with 64 KiB of random bytes", None),
    "huge-header": ("DESCRIBE answered with 2 MB of headers", None),
    "many-tracks": ("SDP with 1000 video media sections", None),
    "garbage-stream": ("stream, then random non-RTP bytes at ~1 Mbit/s", 3.0),
    "malformed-interleaved": ("stream, then bad '$' frames and a stalled frame", 3.0),
    "bignal": ("first frame is one 10 MB IDR NAL unit", None),
    "spschange": ("switch to --media2 (new SPS/PPS) mid-stream", 5.0),
    "seqjump": ("RTP seq +30000 and timestamp +2^31 periodically", 4.0),
    "drop": ("stream, then close the TCP connection without TEARDOWN", 4.0),
    "stall": ("stream, then send nothing, keep the connection open", 3.0),
    "nokey": ("stream every frame but never a keyframe (IDR NAL units removed)", None),
    "gap": ("stream, skip 2 s of frames (timestamps run on), stream again", 4.0),
    "nothing-after-play": ("PLAY answered 200 but no RTP is ever sent", None),
}

SLOWLORIS_INTERVAL = 3.0
GARBAGE_HANDSHAKE_BYTES = 64 * 1024
HUGE_HEADER_BYTES = 2 * 1024 * 1024
MANY_TRACKS = 1000
GARBAGE_RATE_BPS = 1000000
MALFORMED_STALL_S = 30.0

_log_lock = threading.Lock()
_t_start = time.monotonic()


def log(msg):
    with _log_lock:
        sys.stderr.write("hostile[%8.3f] %s\n" % (time.monotonic() - _t_start, msg))
        sys.stderr.flush()


# --------------------------------------------------------------------------
# Annex B parsing
# --------------------------------------------------------------------------

def split_annexb(data):
    """Split an Annex B byte stream into NAL units (without start codes)."""
    nals = []
    pos = data.find(b"\x00\x00\x01")
    while pos >= 0:
        start = pos + 3
        nxt = data.find(b"\x00\x00\x01", start)
        end = nxt if nxt >= 0 else len(data)
        nal = data[start:end].rstrip(b"\x00")  # drops the 0 of a 4-byte start code
        if nal:
            nals.append(nal)
        pos = nxt
    return nals


class Media:
    """An Annex B file split into access units (lists of NAL units)."""

    def __init__(self, path):
        self.path = path
        lower = path.lower()
        if lower.endswith((".h265", ".265", ".hevc")):
            self.codec = "H265"
        elif lower.endswith((".h264", ".264", ".avc")):
            self.codec = "H264"
        else:
            raise ValueError("%s: extension must be .h264 or .h265" % path)
        with open(path, "rb") as f:
            data = f.read()
        nals = split_annexb(data)
        if not nals:
            raise ValueError("%s: no NAL units found" % path)
        self.vps = self.sps = self.pps = None
        for nal in nals:
            t = self.nal_type(nal)
            if self.codec == "H264":
                if t == 7 and self.sps is None:
                    self.sps = nal
                elif t == 8 and self.pps is None:
                    self.pps = nal
            else:
                if t == 32 and self.vps is None:
                    self.vps = nal
                elif t == 33 and self.sps is None:
                    self.sps = nal
                elif t == 34 and self.pps is None:
                    self.pps = nal
        if self.sps is None or self.pps is None or (self.codec == "H265" and self.vps is None):
            raise ValueError("%s: parameter sets (VPS/SPS/PPS) not found" % path)
        self.aus = self._group(nals)
        if not self.aus:
            raise ValueError("%s: no access units found" % path)
        log("media %s: codec=%s nals=%d frames=%d" % (path, self.codec, len(nals), len(self.aus)))

    def nal_type(self, nal):
        if self.codec == "H264":
            return nal[0] & 0x1F
        return (nal[0] >> 1) & 0x3F

    def is_vcl(self, t):
        if self.codec == "H264":
            return 1 <= t <= 5
        return t <= 31

    def is_suffix(self, t):
        """Non-VCL NAL types that belong to the preceding access unit."""
        if self.codec == "H264":
            return t in (10, 11, 12)  # end of seq, end of stream, filler
        return t in (36, 37, 38, 40) or 45 <= t <= 47  # EOS, EOB, FD, suffix SEI

    def is_idr(self, t):
        if self.codec == "H264":
            return t == 5
        return 16 <= t <= 21  # BLA/IDR/CRA (IRAP)

    def first_slice(self, nal):
        if self.codec == "H264":
            return len(nal) > 1 and (nal[1] & 0x80) != 0  # first_mb_in_slice == 0
        return len(nal) > 2 and (nal[2] & 0x80) != 0  # first_slice_segment_in_pic_flag

    def _group(self, nals):
        aus = []
        cur = []
        cur_has_vcl = False
        for nal in nals:
            t = self.nal_type(nal)
            if self.is_vcl(t):
                if cur_has_vcl and self.first_slice(nal):
                    aus.append(cur)
                    cur = []
                cur.append(nal)
                cur_has_vcl = True
            elif self.is_suffix(t) and cur_has_vcl:
                cur.append(nal)
            else:
                # non-VCL NALs belong to the next frame
                if cur_has_vcl:
                    aus.append(cur)
                    cur = []
                    cur_has_vcl = False
                cur.append(nal)
        if cur and cur_has_vcl:
            aus.append(cur)
        return aus

    def param_sets(self):
        if self.codec == "H264":
            return [self.sps, self.pps]
        return [self.vps, self.sps, self.pps]

    def first_idr_index(self):
        for i, au in enumerate(self.aus):
            if any(self.is_vcl(self.nal_type(n)) and self.is_idr(self.nal_type(n)) for n in au):
                return i
        return 0

    def sdp_media_attrs(self):
        b64 = lambda b: base64.b64encode(b).decode("ascii")
        if self.codec == "H264":
            return [
                "a=rtpmap:96 H264/90000",
                "a=fmtp:96 packetization-mode=1;profile-level-id=%s;sprop-parameter-sets=%s,%s"
                % (self.sps[1:4].hex().upper(), b64(self.sps), b64(self.pps)),
            ]
        return [
            "a=rtpmap:96 H265/90000",
            "a=fmtp:96 sprop-vps=%s;sprop-sps=%s;sprop-pps=%s"
            % (b64(self.vps), b64(self.sps), b64(self.pps)),
        ]


# --------------------------------------------------------------------------
# RTP packetization
# --------------------------------------------------------------------------

def packetize_nal(codec, nal):
    """Return the RTP payloads carrying one NAL unit."""
    if len(nal) <= MAX_RTP_PAYLOAD:
        return [nal]
    out = []
    if codec == "H264":  # FU-A: indicator byte, FU header
        prefix, ntype, body = bytes([(nal[0] & 0xE0) | 28]), nal[0] & 0x1F, nal[1:]
    else:                # RFC 7798 FU: 2-byte payload header (type 49), FU header
        prefix, ntype, body = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]]), (nal[0] >> 1) & 0x3F, nal[2:]
    chunk = MAX_RTP_PAYLOAD - len(prefix) - 1
    for off in range(0, len(body), chunk):
        hdr = ntype
        if off == 0:
            hdr |= 0x80
        if off + chunk >= len(body):
            hdr |= 0x40
        out.append(prefix + bytes([hdr]) + body[off:off + chunk])
    return out


# --------------------------------------------------------------------------
# Server state
# --------------------------------------------------------------------------

class Config:
    pass


CFG = Config()
STOP = threading.Event()
_conns_lock = threading.Lock()
_conns = set()
_nonces = set()
_nonces_lock = threading.Lock()
_conn_counter = [0]


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock, addr):
        with _conns_lock:
            _conn_counter[0] += 1
            self.id = _conn_counter[0]
        self.sock = sock
        self.addr = addr
        self.buf = b""
        self.send_lock = threading.Lock()
        self.stop = threading.Event()  # stops the streamer
        self.session = None
        self.channels = {}  # track -> (rtp channel, rtcp channel)
        self.streamer = None
        self.mute = False  # stall mode: answer nothing any more
        self.setup_url = None

    def log(self, msg):
        log("conn%d %s:%d %s" % (self.id, self.addr[0], self.addr[1], msg))

    # -- I/O ---------------------------------------------------------------
    def send(self, data):
        with self.send_lock:
            self.sock.sendall(data)

    def close(self):
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def read_request(self):
        """Return (method, url, headers, body); skips interleaved '$' frames."""
        while True:
            # interleaved binary frames from the client (RTCP): skip them
            if self.buf[:1] == b"$":
                while len(self.buf) < 4:
                    self._fill()
                ln = struct.unpack(">H", self.buf[2:4])[0]
                while len(self.buf) < 4 + ln:
                    self._fill()
                self.buf = self.buf[4 + ln:]
                continue
            # stray bytes between messages (e.g. a bare CRLF): skip them
            i = 0
            while i < len(self.buf) and self.buf[i:i + 1] != b"$" and not self.buf[i:i + 1].isalpha():
                i += 1
            self.buf = self.buf[i:]
            if not self.buf:
                self._fill()
                continue
            if self.buf[:1] == b"$":
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 256 * 1024:
                    raise Closed()
                self._fill()
                continue
            head = self.buf[:end].decode("latin-1")
            rest = self.buf[end + 4:]
            lines = head.split("\r\n")
            parts = lines[0].split()
            if len(parts) < 2:
                self.buf = rest
                continue
            method, url = parts[0].upper(), parts[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            clen = int(headers.get("content-length", "0") or 0)
            while len(rest) < clen:
                more = self.sock.recv(65536)
                if not more:
                    raise Closed()
                rest += more
            body = rest[:clen]
            self.buf = rest[clen:]
            return method, url, headers, body

    # -- responses -----------------------------------------------------------
    def build_response(self, code, reason, headers, extra=None, body=b""):
        lines = ["RTSP/1.0 %d %s" % (code, reason)]
        if "cseq" in headers:
            lines.append("CSeq: %s" % headers["cseq"])
        lines.append("Server: %s" % SERVER_NAME)
        lines.append("Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
        for h in extra or []:
            lines.append(h)
        if body:
            lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def respond(self, code, reason, headers, extra=None, body=b""):
        if self.mute:
            return
        self.send(self.build_response(code, reason, headers, extra, body))


# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------

def _md5(s):
    return hashlib.md5(s.encode("latin-1")).hexdigest()


def _parse_auth_params(s):
    out = {}
    for m in re.finditer(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', s):
        out[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def check_auth(conn, method, headers):
    """True if authorized; otherwise sends 401 and returns False."""
    if CFG.user is None:
        return True
    auth = headers.get("authorization", "")
    ok = False
    if CFG.auth == "basic" and auth[:6].lower() == "basic ":
        try:
            dec = base64.b64decode(auth[6:].strip()).decode("latin-1")
            ok = dec == "%s:%s" % (CFG.user, CFG.password)
        except Exception:
            ok = False
    elif CFG.auth == "digest" and auth[:7].lower() == "digest ":
        p = _parse_auth_params(auth[7:])
        with _nonces_lock:
            nonce_ok = p.get("nonce") in _nonces
        if nonce_ok and p.get("username") == CFG.user and p.get("realm") == REALM:
            ha1 = _md5("%s:%s:%s" % (CFG.user, REALM, CFG.password))
            ha2 = _md5("%s:%s" % (method, p.get("uri", "")))
            ok = p.get("response", "").lower() == _md5("%s:%s:%s" % (ha1, p["nonce"], ha2))
    if ok:
        return True
    if auth:
        conn.log("%s: bad credentials (%s)" % (method, auth.split(" ", 1)[0]))
    if CFG.auth == "basic":
        www = 'WWW-Authenticate: Basic realm="%s"' % REALM
    else:
        nonce = os.urandom(16).hex()
        with _nonces_lock:
            _nonces.add(nonce)
        www = 'WWW-Authenticate: Digest realm="%s", nonce="%s"' % (REALM, nonce)
    conn.respond(401, "Unauthorized", headers, [www])
    return False


# --------------------------------------------------------------------------
# SDP
# --------------------------------------------------------------------------

def build_sdp(media, ntracks=1):
    host = CFG.bind
    lines = [
        "v=0",
        "o=- %d 1 IN IP4 %s" % (random.randint(1, 2 ** 31), host),
        "s=hostile_rtsp %s" % CFG.mode,
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
    ]
    if media is not None:
        attrs = media.sdp_media_attrs()
    else:
        attrs = ["a=rtpmap:96 H264/90000", "a=fmtp:96 packetization-mode=1"]
    for i in range(ntracks):
        lines.append("m=video 0 RTP/AVP 96")
        lines.extend(attrs)
        lines.append("a=framerate:%d" % FPS)
        lines.append("a=control:trackID=%d" % i)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def content_base(url):
    return url if url.endswith("/") else url + "/"


# --------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------

class Streamer:
    def __init__(self, conn, media, channel):
        self.conn = conn
        self.media = media
        self.codec = media.codec if media else "H264"
        self.channel = channel
        self.seq = random.randint(0, 0xFFFF)
        self.ts = random.randint(0, 0xFFFFFFFF)
        self.ssrc = random.randint(1, 0xFFFFFFFF)
        self.paused = threading.Event()
        self.frames = 0
        self.t0 = None
        self.thread = None

    # -- low level ---------------------------------------------------------
    def rtp_frames(self, nals):
        out = []
        payloads = []
        for nal in nals:
            payloads.extend(packetize_nal(self.codec, nal))
        for i, pl in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            hdr = struct.pack(">BBHII", 0x80, marker | 96, self.seq, self.ts, self.ssrc)
            pkt = hdr + pl
            out.append(b"$" + bytes([self.channel & 0xFF]) + struct.pack(">H", len(pkt)) + pkt)
            self.seq = (self.seq + 1) & 0xFFFF
        return out

    def send_au(self, nals):
        frames = self.rtp_frames(nals)
        batch = []
        size = 0
        for fr in frames:
            batch.append(fr)
            size += len(fr)
            if size >= 65536:
                self.conn.send(b"".join(batch))
                batch, size = [], 0
        if batch:
            self.conn.send(b"".join(batch))
        self.ts = (self.ts + TS_PER_FRAME) & 0xFFFFFFFF
        self.frames += 1

    def elapsed(self):
        return time.monotonic() - self.t_play

    def pace(self):
        """Wait for the deadline of the next frame. False when stopped."""
        while self.paused.is_set():
            if self.conn.stop.wait(0.1):
                return False
            self.t0 = None
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
            self.n = 0
        deadline = self.t0 + self.n / FPS
        if now - deadline > 1.0:  # far behind (e.g. after a huge frame): re-base
            self.t0 = now
            self.n = 0
            deadline = now
        self.n += 1
        delay = deadline - now
        if delay > 0:
            return not self.conn.stop.wait(delay)
        return not self.conn.stop.is_set()

    # -- generic loops -------------------------------------------------------
    def stream_media(self, media, start=0, until=None, on_frame=None):
        """Stream media from AU index start in a loop. Returns when elapsed()
        >= until (True), or when stopped (False)."""
        i = start
        n = len(media.aus)
        while True:
            if until is not None and self.elapsed() >= until:
                return True
            if not self.pace():
                return False
            if on_frame:
                on_frame()
            self.send_au(media.aus[i])
            i = (i + 1) % n
            if i == 0:
                self.conn.log("media %s: looping (frames sent %d)" % (media.path, self.frames))

    def start(self):
        self.t_play = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.run_mode()
        except (OSError, Closed) as e:
            self.conn.log("streamer ended: %s" % e)
        except Exception as e:  # pragma: no cover
            self.conn.log("streamer crashed: %r" % e)
        else:
            self.conn.log("streamer finished (%d frames)" % self.frames)

    # -- the modes -------------------------------------------------------------
    def run_mode(self):
        mode = CFG.mode
        sb = CFG.seconds_before
        conn = self.conn
        if mode == "garbage-stream":
            if not self.stream_media(self.media, until=sb):
                return
            conn.log("garbage-stream: now sending random bytes at ~1 Mbit/s")
            chunk = GARBAGE_RATE_BPS // 8 // 40  # every 25 ms
            t0 = time.monotonic()
            k = 0
            first = True
            while True:
                data = bytearray(os.urandom(chunk))
                if first:
                    if data[0] == 0x24:
                        data[0] = 0x25
                    first = False
                conn.send(bytes(data))
                k += 1
                delay = t0 + k * 0.025 - time.monotonic()
                if conn.stop.wait(max(delay, 0)):
                    return
        elif mode == "malformed-interleaved":
            if not self.stream_media(self.media, until=sb):
                return
            conn.log("malformed-interleaved: channel-7 and zero-length '$' frames")
            # keep the real stream going, interleaved with bogus frames, for 1 s
            state = {"k": 0}

            def bogus():
                state["k"] += 1
                junk = os.urandom(random.randint(12, 1500))
                conn.send(b"$\x07" + struct.pack(">H", len(junk)) + junk)
                conn.send(b"$\x00\x00\x00")  # length 0 on the RTP channel
                conn.send(b"$\x01\x00\x00")  # length 0 on the RTCP channel
                conn.send(b"$\x07\x00\x00")  # length 0 on an unknown channel
            if not self.stream_media(self.media, until=sb + 1.0, on_frame=bogus):
                return
            conn.log("malformed-interleaved: sent %d bogus groups; now a frame claiming "
                     "65535 bytes, then stalling %.0f s" % (state["k"], MALFORMED_STALL_S))
            conn.send(b"$\x00\xff\xff" + struct.pack(">BBHII", 0x80, 96, self.seq,
                                                      self.ts, self.ssrc) + os.urandom(500))
            if conn.stop.wait(MALFORMED_STALL_S):
                return
            conn.log("malformed-interleaved: stall over, closing connection")
            conn.close()
        elif mode == "bignal":
            size = CFG.bignal_size
            if self.codec == "H264":
                nal = b"\x65" + os.urandom(size - 1)
            else:
                nal = bytes([19 << 1, 0x01]) + os.urandom(size - 2)
            if not self.pace():
                return
            conn.log("bignal: sending one %d-byte IDR NAL unit as frame 1" % size)
            t = time.monotonic()
            self.send_au([nal])
            conn.log("bignal: big frame sent in %.2f s; streaming media normally"
                     % (time.monotonic() - t))
            self.stream_media(self.media)
        elif mode == "spschange":
            if not self.stream_media(self.media, until=sb):
                return
            m2 = CFG.media2_obj
            idx = m2.first_idr_index()
            first = list(m2.aus[idx])
            types = [m2.nal_type(n) for n in first]
            need = [7, 8] if m2.codec == "H264" else [32, 33, 34]
            if not all(t in types for t in need):
                first = m2.param_sets() + first
            conn.log("spschange: switching to %s at frame %d (AU %d) with in-band "
                     "parameter sets" % (m2.path, self.frames, idx))
            if not self.pace():
                return
            self.send_au(first)
            self.stream_media(m2, start=(idx + 1) % len(m2.aus))
        elif mode == "seqjump":
            state = {"next": sb}

            def maybe_jump():
                if self.elapsed() >= state["next"]:
                    state["next"] += sb
                    self.seq = (self.seq + 30000) & 0xFFFF
                    self.ts = (self.ts + 2 ** 31) & 0xFFFFFFFF
                    conn.log("seqjump: seq -> %d ts -> %d" % (self.seq, self.ts))
            self.stream_media(self.media, on_frame=maybe_jump)
        elif mode == "drop":
            if not self.stream_media(self.media, until=sb):
                return
            conn.log("drop: closing the TCP connection without TEARDOWN")
            conn.close()
        elif mode == "gap":
            if not self.stream_media(self.media, until=sb):
                return
            skip = 50
            conn.log("gap: dropping the next %d frames (RTP timestamps run on)" % skip)
            for _ in range(skip):
                if not self.pace():
                    return
                self.ts = (self.ts + TS_PER_FRAME) & 0xFFFFFFFF
                self.frames += 1
            self.stream_media(self.media, start=self.frames % len(self.media.aus))
        elif mode == "stall":
            if not self.stream_media(self.media, until=sb):
                return
            conn.log("stall: sending nothing any more (connection stays open)")
            conn.mute = True
            conn.stop.wait()
        elif mode == "nokey":
            m = self.media
            i = CFG.start_frame % len(m.aus)
            while self.pace():
                nals = [n for n in m.aus[i] if not (m.is_vcl(m.nal_type(n)) and m.is_idr(m.nal_type(n)))]
                if nals:
                    self.send_au(nals)
                i = (i + 1) % len(m.aus)
        else:
            self.stream_media(self.media, start=CFG.start_frame % len(self.media.aus))


# --------------------------------------------------------------------------
# Connection handling
# --------------------------------------------------------------------------

def drain_forever(conn):
    """Read and discard everything until the peer closes."""
    while not STOP.is_set():
        data = conn.sock.recv(65536)
        if not data:
            raise Closed()


def handle_slowloris(conn):
    method, url, headers, _ = conn.read_request()
    conn.log("slowloris: got %s, answering one byte every %.0f s" % (method, SLOWLORIS_INTERVAL))
    head = ("RTSP/1.0 200 OK\r\nCSeq: %s\r\nServer: %s\r\n"
            % (headers.get("cseq", "0"), SERVER_NAME)).encode("latin-1")

    def gen():
        for b in head:
            yield b
        k = 0
        while True:  # forever: an endless run of header lines
            for b in ("X-Slow-%d: zzzzzzzz\r\n" % k).encode("latin-1"):
                yield b
            k += 1
    for b in gen():
        conn.send(bytes([b]))
        if STOP.wait(SLOWLORIS_INTERVAL) or conn.stop.is_set():
            return


def handle_garbage_handshake(conn):
    while True:
        method, url, headers, _ = conn.read_request()
        conn.log("garbage-handshake: answering %s with %d random bytes"
                 % (method, GARBAGE_HANDSHAKE_BYTES))
        data = bytearray(os.urandom(GARBAGE_HANDSHAKE_BYTES))
        if data[0] in b"R$":
            data[0] = 0x00
        conn.send(bytes(data))


def handle_rtsp(conn):
    mode = CFG.mode
    while True:
        method, url, headers, body = conn.read_request()
        if conn.mute:
            conn.log("(muted) ignoring %s" % method)
            continue
        if method.startswith("RTSP/"):
            # a response from the client (e.g. ffmpeg answering garbage it took
            # for a server request with 501): never answer a response
            conn.log("client sent a response: %s %s" % (method, url))
            continue
        conn.log("%s %s CSeq=%s" % (method, url, headers.get("cseq")))
        if method in ("DESCRIBE", "SETUP", "PLAY") and not check_auth(conn, method, headers):
            continue
        sess = headers.get("session", "").split(";")[0].strip()
        if method in ("PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER") \
                and sess and conn.session and sess != conn.session:
            conn.respond(454, "Session Not Found", headers)
            continue
        sess_hdr = ["Session: %s" % conn.session] if conn.session else []

        if method == "OPTIONS":
            conn.respond(200, "OK", headers, sess_hdr + [
                "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, "
                "SET_PARAMETER"])
        elif method == "DESCRIBE":
            ntracks = MANY_TRACKS if mode == "many-tracks" else 1
            sdp = build_sdp(CFG.media_obj, ntracks)
            extra = ["Content-Base: %s" % content_base(url), "Content-Type: application/sdp"]
            if mode == "huge-header":
                junk = []
                total = 0
                k = 0
                while total < HUGE_HEADER_BYTES:
                    line = "X-Junk-%d: %s" % (k, "j" * 100)
                    junk.append(line)
                    total += len(line) + 2
                    k += 1
                conn.log("huge-header: DESCRIBE answer with %d junk header lines (%d bytes)"
                         % (k, total))
                extra = junk + extra
            conn.respond(200, "OK", headers, extra, sdp)
        elif method == "SETUP":
            transport = headers.get("transport", "")
            chosen = None
            for spec in transport.split(","):
                if "RTP/AVP/TCP" in spec.upper():
                    chosen = spec.strip()
                    break
            if chosen is None:
                conn.log("SETUP with non-TCP transport %r: 461" % transport)
                conn.respond(461, "Unsupported Transport", headers, sess_hdr)
                continue
            m = re.search(r"trackID=(\d+)", url)
            track = int(m.group(1)) if m else 0
            ntracks = MANY_TRACKS if mode == "many-tracks" else 1
            if track >= ntracks:
                conn.respond(404, "Not Found", headers, sess_hdr)
                continue
            m = re.search(r"interleaved=(\d+)(?:-(\d+))?", chosen)
            if m:
                a = int(m.group(1))
                b = int(m.group(2)) if m.group(2) else a + 1
            else:
                used = [c for pair in conn.channels.values() for c in pair]
                a = (max(used) + 1) if used else 0
                b = a + 1
            conn.channels[track] = (a, b)
            if conn.session is None:
                conn.session = "%016X" % random.getrandbits(64)
            if track == 0:
                conn.setup_url = url
            conn.respond(200, "OK", headers, [
                "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d" % (a, b),
                "Session: %s;timeout=60" % conn.session])
        elif method == "PLAY":
            if conn.session is None or 0 not in conn.channels:
                conn.respond(455, "Method Not Valid in This State", headers, sess_hdr)
                continue
            if conn.streamer is not None:
                conn.streamer.paused.clear()
                conn.respond(200, "OK", headers, sess_hdr + ["Range: npt=now-"])
                continue
            media = CFG.media_obj
            st = Streamer(conn, media, conn.channels[0][0])
            track_url = conn.setup_url or (content_base(url) + "trackID=0")
            conn.respond(200, "OK", headers, sess_hdr + [
                "Range: npt=0.000-",
                "RTP-Info: url=%s;seq=%d;rtptime=%d" % (track_url, st.seq, st.ts)])
            if mode == "nothing-after-play":
                conn.log("nothing-after-play: PLAY answered, no RTP will follow")
                conn.streamer = st  # never started
                continue
            conn.streamer = st
            conn.log("streaming %s on channel %d (ssrc %08X seq %d ts %d)"
                     % (media.path, st.channel, st.ssrc, st.seq, st.ts))
            st.start()
        elif method == "PAUSE":
            if conn.streamer is not None:
                conn.streamer.paused.set()
            conn.respond(200, "OK", headers, sess_hdr)
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            conn.respond(200, "OK", headers, sess_hdr)
        elif method == "TEARDOWN":
            conn.stop.set()
            if conn.streamer is not None and conn.streamer.thread is not None:
                conn.streamer.thread.join(2.0)
            conn.respond(200, "OK", headers, sess_hdr)
            conn.log("TEARDOWN: stream stopped")
            # the connection may be reused for a new SETUP/PLAY
            conn.stop = threading.Event()
            conn.session = None
            conn.channels = {}
            conn.streamer = None
            conn.setup_url = None
        else:
            conn.respond(501, "Not Implemented", headers, sess_hdr)


def handle_conn(sock, addr):
    conn = Conn(sock, addr)
    with _conns_lock:
        _conns.add(conn)
    conn.log("connected")
    try:
        mode = CFG.mode
        if mode == "silent":
            conn.log("silent: never answering")
            drain_forever(conn)
        elif mode == "slowloris":
            handle_slowloris(conn)
        elif mode == "garbage-handshake":
            handle_garbage_handshake(conn)
        else:
            handle_rtsp(conn)
    except Closed:
        conn.log("peer closed the connection")
    except OSError as e:
        conn.log("connection error: %s" % e)
    except Exception as e:  # pragma: no cover
        conn.log("handler crashed: %r" % e)
    finally:
        conn.close()
        with _conns_lock:
            _conns.discard(conn)
        conn.log("closed")


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

STREAMING_MODES = {"normal", "many-tracks", "huge-header", "garbage-stream",
                   "malformed-interleaved", "bignal", "spschange", "seqjump", "drop",
                   "stall", "gap", "nokey"}


def main():
    ap = argparse.ArgumentParser(description="deliberately misbehaving RTSP server")
    ap.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    ap.add_argument("--mode", required=True, choices=sorted(MODES))
    ap.add_argument("--media", help="Annex B .h264 or .h265 file to stream")
    ap.add_argument("--media2", help="second Annex B file (spschange)")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--auth", choices=["basic", "digest"], default=None,
                    help="authentication scheme when --user is given (default digest)")
    ap.add_argument("--seconds-before", type=float, default=None,
                    help="seconds of normal streaming before the misbehaviour")
    ap.add_argument("--start-frame", type=int, default=0,
                    help="AU index each connection starts streaming at (e.g. mid-GOP)")
    ap.add_argument("--bignal-size", type=int, default=10 * 1024 * 1024,
                    help="size in bytes of the big NAL unit (bignal mode)")
    a = ap.parse_args()

    CFG.mode = a.mode
    CFG.bind = a.bind
    CFG.user = a.user
    CFG.password = a.password if a.password is not None else ""
    CFG.auth = a.auth or ("digest" if a.user is not None else None)
    if a.auth and a.user is None:
        ap.error("--auth needs --user (and --password)")
    default_sb = MODES[a.mode][1]
    CFG.seconds_before = a.seconds_before if a.seconds_before is not None else (default_sb or 0)
    CFG.bignal_size = max(a.bignal_size, 16)
    CFG.start_frame = max(a.start_frame, 0)

    try:
        CFG.media_obj = Media(a.media) if a.media else None
        CFG.media2_obj = Media(a.media2) if a.media2 else None
    except (OSError, ValueError) as e:
        ap.error(str(e))
    if a.mode in STREAMING_MODES and CFG.media_obj is None:
        ap.error("mode %s needs --media" % a.mode)
    if a.mode == "spschange":
        if CFG.media2_obj is None:
            ap.error("mode spschange needs --media2")
        if CFG.media2_obj.codec != CFG.media_obj.codec:
            ap.error("--media and --media2 must use the same codec")

    def on_signal(signum, frame):
        log("signal %d: shutting down" % signum)
        STOP.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        srv.bind((a.bind, a.port))
    except OSError as e:
        log("cannot bind %s:%d: %s" % (a.bind, a.port, e))
        return 2
    srv.listen(128)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    log("listening on %s:%d mode=%s (%s)" % (a.bind, port, a.mode, MODES[a.mode][0]))
    sys.stdout.write("hostile: ready port=%d mode=%s\n" % (port, a.mode))
    sys.stdout.flush()

    while not STOP.is_set():
        try:
            sock, addr = srv.accept()
        except socket.timeout:
            continue
        except OSError as e:
            if STOP.is_set():
                break
            log("accept failed: %s" % e)
            time.sleep(0.1)
            continue
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle_conn, args=(sock, addr[:2]), daemon=True).start()

    srv.close()
    with _conns_lock:
        conns = list(_conns)
    for c in conns:
        c.close()
    log("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
