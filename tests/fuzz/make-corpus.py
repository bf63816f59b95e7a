#!/usr/bin/env python3
"""Regenerates the seed corpora in tests/fuzz/corpus/ (committed; rerun only to change them).

    tests/fuzz/make-corpus.py MEDIA_DIR FUZZ_BUILD_DIR

MEDIA_DIR holds the streams of scripts/gen-media.sh (sub.h264, main.h264, sub720.h264,
sub.h265, main.h265); FUZZ_BUILD_DIR is a SG_FUZZ build (its fuzz_gen_fmp4_seed writes the
fMP4 seeds with the recorder's own writer). Seeds are kept small: NAL units are cut short
where only their headers matter to the code under test. The regress-* files are minimal
inputs of bugs the fuzzers found; they are kept by hand, not written here. gen-media.sh output
is not byte-identical from run to run, so regenerated seeds differ in bytes that do not matter.
"""
import base64
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def nals(path, limit=12):
    """The first `limit` NAL units of an Annex B file (without start codes)."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    out, i = [], data.find(b"\x00\x00\x01")
    while i >= 0 and len(out) < limit:
        j = data.find(b"\x00\x00\x01", i + 3)
        nal = data[i + 3:j if j >= 0 else len(data)]
        out.append(nal.rstrip(b"\x00") if j >= 0 else nal)
        i = j
    return out


def h264_type(nal):
    return nal[0] & 0x1F


def h265_type(nal):
    return (nal[0] >> 1) & 0x3F


def first(nal_list, typefn, t):
    return next(n for n in nal_list if typefn(n) == t)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def annexb(units):
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)


# ---- RTP: 2-byte length prefix per packet (bit 15: reset the depacketisers first) ----

class Rtp:
    def __init__(self, pt=96, ssrc=0x1234ABCD, seq=1000, ts=90000):
        self.pt, self.ssrc, self.seq, self.ts = pt, ssrc, seq, ts
        self.out = b""

    def packet(self, payload, marker=False, csrc=0, ext=None, pad=0, reset=False, skip_seq=0):
        self.seq = (self.seq + skip_seq) & 0xFFFF
        b0 = 0x80 | csrc | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
        hdr = struct.pack(">BBHII", b0, (0x80 if marker else 0) | self.pt, self.seq, self.ts, self.ssrc)
        hdr += b"".join(struct.pack(">I", 0x1000 + i) for i in range(csrc))
        if ext is not None:
            hdr += struct.pack(">HH", 0xABAC, len(ext) // 4) + ext
        pkt = hdr + payload + (b"\x00" * (pad - 1) + bytes([pad]) if pad else b"")
        self.seq = (self.seq + 1) & 0xFFFF
        self.out += struct.pack(">H", len(pkt) | (0x8000 if reset else 0)) + pkt

    def frame_done(self, ticks=3600):
        self.ts = (self.ts + ticks) & 0xFFFFFFFF


def fu264(nal, size):
    hdr, body = nal[0], nal[1:]
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    for k, c in enumerate(chunks):
        fu = (hdr & 0x1F) | (0x80 if k == 0 else 0) | (0x40 if k == len(chunks) - 1 else 0)
        yield bytes([(hdr & 0xE0) | 28, fu]) + c, k == len(chunks) - 1


def fu265(nal, size):
    t, body = h265_type(nal), nal[2:]
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    for k, c in enumerate(chunks):
        fu = t | (0x80 if k == 0 else 0) | (0x40 if k == len(chunks) - 1 else 0)
        yield bytes([(nal[0] & 0x81) | (49 << 1), nal[1], fu]) + c, k == len(chunks) - 1


def rtp_seeds(media):
    h264 = nals(os.path.join(media, "sub.h264"))
    sps, pps = first(h264, h264_type, 7), first(h264, h264_type, 8)
    sei, idr, p1 = first(h264, h264_type, 6), first(h264, h264_type, 5), first(h264, h264_type, 1)
    idr, p1 = idr[:1800], p1[:300]

    r = Rtp()  # STAP-A with the parameter sets, FU-A IDR, single-NAL P frame
    r.packet(bytes([0x18]) + struct.pack(">H", len(sps)) + sps + struct.pack(">H", len(pps)) + pps)
    for payload, last in fu264(idr, 700):
        r.packet(payload, marker=last)
    r.frame_done()
    r.packet(p1, marker=True)
    write("rtp", "h264_stap_fu.bin", r.out)

    r = Rtp(pt=97)  # single NAL units; CSRCs, a header extension and padding
    r.packet(sps, csrc=2)
    r.packet(pps, ext=b"\x01\x02\x03\x04")
    r.packet(sei[:64], pad=4)
    r.packet(idr[:400], marker=True)
    write("rtp", "h264_single.bin", r.out)

    r = Rtp()  # loss: a middle FU lost, a continuation without its start, a reset, a ts jump
    frags = list(fu264(idr[:1200], 300))
    r.packet(frags[0][0])
    r.packet(frags[2][0], skip_seq=1)
    r.packet(frags[3][0], marker=True)
    r.frame_done()
    r.packet(frags[1][0])
    r.packet(p1[:100], marker=True, reset=True)
    r.frame_done(7200)
    r.packet(frags[0][0])
    r.frame_done()
    r.packet(p1[:50], marker=True)
    write("rtp", "h264_loss.bin", r.out)

    main = nals(os.path.join(media, "main.h264"))
    r = Rtp()  # a frame over fuzz_rtp's 8 KiB cap (dropped whole), then a normal one
    for payload, last in fu264(first(main, h264_type, 5)[:9000], 1400):
        r.packet(payload, marker=last)
    r.frame_done()
    r.packet(p1[:120], marker=True)
    write("rtp", "h264_oversize.bin", r.out)

    h265 = nals(os.path.join(media, "sub.h265"))
    vps, sps5, pps5 = (first(h265, h265_type, t) for t in (32, 33, 34))
    irap = next(n for n in h265 if 16 <= h265_type(n) <= 21)[:1500]
    trail = first(h265, h265_type, 1)[:200]
    r = Rtp(pt=98)  # AP with VPS/SPS/PPS, FU IRAP, single TRAIL
    ap = bytes([48 << 1, 1]) + b"".join(struct.pack(">H", len(u)) + u for u in (vps, sps5, pps5))
    r.packet(ap)
    for payload, last in fu265(irap, 600):
        r.packet(payload, marker=last)
    r.frame_done()
    r.packet(trail, marker=True)
    write("rtp", "h265_ap_fu.bin", r.out)

    r = Rtp(pt=98)
    for u in (vps, sps5, pps5):
        r.packet(u)
    r.packet(irap[:300], marker=True)
    write("rtp", "h265_single.bin", r.out)
    return (sps, pps), (vps, sps5, pps5)


def h26x_seeds(media):
    for name in ("sub", "main", "sub720"):
        u = nals(os.path.join(media, name + ".h264"))
        write("h26x", "sps_h264_%s.bin" % name, first(u, h264_type, 7))
    for name in ("sub", "main"):
        u = nals(os.path.join(media, name + ".h265"))
        write("h26x", "sps_h265_%s.bin" % name, first(u, h265_type, 33))
    u = nals(os.path.join(media, "sub.h264"))
    write("h26x", "annexb_h264.bin",
          annexb([first(u, h264_type, t) for t in (7, 8)] + [first(u, h264_type, 6)[:48],
                 first(u, h264_type, 5)[:96], first(u, h264_type, 1)[:64]]))
    u = nals(os.path.join(media, "sub.h265"))
    irap = next(n for n in u if 16 <= h265_type(n) <= 21)
    write("h26x", "annexb_h265.bin",
          annexb([first(u, h265_type, t) for t in (32, 33, 34)] + [irap[:96], first(u, h265_type, 1)[:64]]))


def rtsp_seeds(h264_ps):
    b64 = ",".join(base64.b64encode(x).decode() for x in h264_ps)
    sdp = ("v=0\r\no=- 1700000000 1 IN IP4 192.0.2.10\r\ns=Media Presentation\r\n"
           "e=NONE\r\nb=AS:5100\r\nt=0 0\r\na=control:rtsp://192.0.2.10:554/Streaming/Channels/101/\r\n"
           "m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:5000\r\na=recvonly\r\n"
           "a=x-dimensions:640,360\r\n"
           "a=control:rtsp://192.0.2.10:554/Streaming/Channels/101/trackID=1\r\n"
           "a=rtpmap:96 H264/90000\r\n"
           "a=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=%s\r\n"
           "a=Media_header:MEDIAINFO=494D4B48010300000400000100000000000000000000000000000000000000000000000000000000;\r\n"
           "a=appversion:1.0\r\n" % b64)
    write("rtsp", "options.txt",
          "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, "
          "SET_PARAMETER, GET_PARAMETER\r\nDate:  Tue, Nov 14 2023 22:13:20 GMT\r\n\r\n")
    write("rtsp", "describe.txt",
          "RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\n"
          "Content-Base: rtsp://192.0.2.10:554/Streaming/Channels/101/\r\n"
          "Content-Length: %d\r\n\r\n%s" % (len(sdp), sdp))
    write("rtsp", "setup.txt",
          "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession:       1273222592;timeout=60\r\n"
          "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1234abcd;mode=\"play\"\r\n"
          "Date:  Tue, Nov 14 2023 22:13:20 GMT\r\n\r\n")
    write("rtsp", "play_pipelined.txt",
          "RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 1273222592\r\n"
          "RTP-Info: url=rtsp://192.0.2.10:554/Streaming/Channels/101/trackID=1;seq=1000;rtptime=90000\r\n"
          "Range: npt=now-\r\n\r\n"
          "GET_PARAMETER rtsp://192.0.2.10:554/Streaming/Channels/101/ RTSP/1.0\r\nCSeq: 1\r\n"
          "Session: 1273222592\r\nContent-Length: 0\r\n\r\n"
          "RTSP/1.0 200 OK\r\nCSeq: 6\r\nSession: 1273222592\r\n\r\n")
    write("rtsp", "401_digest_basic.txt",
          "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
          "WWW-Authenticate: Digest realm=\"IP Camera(C6942)\", nonce=\"4d6a6b3c2e1f0a9b8c7d6e5f4a3b2c1d\", "
          "stale=\"FALSE\"\r\nWWW-Authenticate: Basic realm=\"IP Camera(C6942)\"\r\n"
          "Date:  Tue, Nov 14 2023 22:13:20 GMT\r\n\r\n")
    write("rtsp", "401_digest_qop.txt",
          "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
          "WWW-Authenticate: Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
          "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", "
          "algorithm=MD5\r\n\r\n")
    write("rtsp", "401_basic.txt",
          "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n")
    write("rtsp", "announce_request.txt",
          "ANNOUNCE rtsp://192.0.2.1:554/x RTSP/1.0\r\nCSeq: 7\r\nContent-Type: text/parameters\r\n"
          "Content-Location: rtsp://192.0.2.1/y\r\nContent-Length: 12\r\n\r\nscale: 1.0\r\n")
    return sdp


def sdp_seeds(hik_sdp, h265_ps):
    write("sdp", "h264_hik.sdp", hik_sdp)
    vps, sps, pps = (base64.b64encode(x).decode() for x in h265_ps)
    write("sdp", "h265.sdp",
          "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Session streamed by sargas-fakecam\r\nt=0 0\r\n"
          "a=tool:GStreamer\r\na=type:broadcast\r\na=control:*\r\na=range:npt=now-\r\n"
          "m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 H265/90000\r\n"
          "a=fmtp:96 sprop-vps=%s;sprop-sps=%s;sprop-pps=%s\r\n"
          "a=control:stream=0\r\na=framerate:25\r\n" % (vps, sps, pps))
    write("sdp", "multi.sdp",
          "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=cam\nt=0 0\n"
          "m=audio 0 RTP/AVP 0 8\na=rtpmap:0 PCMU/8000\na=control:trackID=9\n"
          "m=application 0 RTP/AVP 107\na=rtpmap:107 vnd.onvif.metadata/90000\n"
          "m=video 0 RTP/AVP 35 96\na=rtpmap:35 H264/90000\na=rtpmap:96 H265/90000\n"
          "a=fmtp:35 packetization-mode=1;sprop-parameter-sets=Z2QAHqy0BQF/y4CIAAADAAgAAAMBkHixdQ==,aO88sA==\n"
          "a=control:rtsp://[2001:db8::10]/media/video1\n"
          "m=video 0 RTP/AVP 97\na=rtpmap:97 H265/90000\na=control:trackID=2\n")


def url_seeds():
    for i, u in enumerate([
            "rtsp://admin:s%40cret@192.168.1.10:8554/Streaming/Channels/101?transportmode=unicast",
            "rtsps://viewer@cam.example.org/live/main",
            "rtsp://[fe80::1]:554/cam/realmonitor?channel=1&subtype=0",
            "rtsp://user:p%3Ass%25w@[2001:db8::7]/h265",
            "rtsp://10.0.0.2",
            "file:///var/lib/sargas/media/sub.h264",
            "file:///tmp/a%20b.h265",
            "http://cam/x",
    ]):
        write("url", "url%d.txt" % i, u)


def scan_seeds(media, build):
    gen = os.path.join(build, "fuzz_gen_fmp4_seed")
    d = os.path.join(CORPUS, "scan")
    os.makedirs(d, exist_ok=True)
    for src, out, args in (("sub.h264", "h264_2frag.mp4", ["2"]),
                           ("sub.h265", "h265_1frag.mp4", ["1"]),
                           ("sub.h264", "h264_torn.mp4", ["2", "7"])):
        subprocess.run([gen, os.path.join(media, src), os.path.join(d, out)] + args, check=True)


def onvif_seeds(build):
    """Signed exports of the scan seeds (the real writer), one of them countersigned by the
    independent checker (tests/tools/onvif_check.py) as the specification's repeated signing
    does it, with a throw-away key made by the openssl program."""
    import tempfile
    gen = os.path.join(build, "fuzz_gen_onvif_seed")
    check = os.path.join(HERE, "..", "tools", "onvif_check.py")
    d = os.path.join(CORPUS, "onvif")
    os.makedirs(d, exist_ok=True)
    for src, out in (("h264_2frag.mp4", "h264_signed.mp4"), ("h265_1frag.mp4", "h265_signed.mp4")):
        subprocess.run([gen, os.path.join(CORPUS, "scan", src), os.path.join(d, out)], check=True)
    with tempfile.TemporaryDirectory(prefix="sg-corpus-") as tmp:
        key, cert = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-subj", "/CN=countersigner", "-days", "1"], check=True,
                       capture_output=True)
        subprocess.run([sys.executable, check, os.path.join(d, "h265_signed.mp4"), "--countersign",
                        key, cert, os.path.join(d, "h265_countersigned.mp4"), "--info", "seed"],
                       check=True)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    media, build = sys.argv[1], sys.argv[2]
    h264_ps, h265_ps = rtp_seeds(media)
    h26x_seeds(media)
    sdp = rtsp_seeds(h264_ps)
    sdp_seeds(sdp, h265_ps)
    url_seeds()
    scan_seeds(media, build)
    onvif_seeds(build)


if __name__ == "__main__":
    main()
