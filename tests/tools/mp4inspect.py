#!/usr/bin/env python3
"""Inspect the video track of an MP4 file written by Sargas (or ffmpeg).

Reads classic MP4 (moov/stbl) and fragmented MP4 (moov + moof/mdat pairs,
possibly with a truncated final fragment, which is left out and reported).
For every sample of the single video track it lists the decode time, whether
it is a keyframe, its size, and the fakecam SEI (frame counter and send time)
when the sample carries one. Also reports the codec, the picture size and any
prft (producer reference time) boxes.

    mp4inspect.py FILE           a summary
    mp4inspect.py FILE --json    everything, as JSON, with a "samples" array

As a module: inspect(path) -> dict (the JSON object); raises Mp4Error when the
file is not an MP4 with a video track.

Python 3 standard library only.
"""

import json
import mmap
import os
import struct
import sys

FAKECAM_UUID = b"SARGAS-FAKECAM-1"
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01

__all__ = ["inspect", "Mp4Error", "parse_sei_rbsp", "unescape_rbsp", "summarize"]


class Mp4Error(Exception):
    """The file is not an MP4 this tool can read."""


# ----------------------------------------------------------------- boxes

class Box:
    __slots__ = ("type", "start", "hdr", "size", "truncated")

    def __init__(self, btype, start, hdr, size, truncated):
        self.type = btype
        self.start = start
        self.hdr = hdr
        self.size = size
        self.truncated = truncated

    @property
    def body(self):
        return self.start + self.hdr

    @property
    def end(self):
        return self.start + self.size


def iter_boxes(buf, start, end):
    """Yields the boxes in buf[start:end]. A box that claims to reach past end
    is yielded with truncated=True and ends the iteration; so does a partial
    box header (yielded with type None)."""
    pos = start
    while pos < end:
        if pos + 8 > end:
            yield Box(None, pos, end - pos, end - pos, True)
            return
        size, btype = struct.unpack_from(">I4s", buf, pos)
        hdr = 8
        if size == 1:
            if pos + 16 > end:
                yield Box(btype.decode("latin-1"), pos, end - pos, end - pos, True)
                return
            size = struct.unpack_from(">Q", buf, pos + 8)[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if btype == b"uuid":
            hdr += 16
        if size < hdr:
            raise Mp4Error("malformed box %r at offset %d (size %d)" % (btype, pos, size))
        name = btype.decode("latin-1")
        if pos + size > end:
            yield Box(name, pos, hdr, size, True)
            return
        yield Box(name, pos, hdr, size, False)
        pos += size


def child(buf, box, name):
    for b in iter_boxes(buf, box.body, box.end):
        if b.type == name and not b.truncated:
            return b
    return None


def children(buf, box, name):
    return [b for b in iter_boxes(buf, box.body, box.end) if b.type == name and not b.truncated]


def full_box(buf, box):
    """(version, flags, offset of the content after them)."""
    v = buf[box.body]
    flags = struct.unpack_from(">I", buf, box.body)[0] & 0xFFFFFF
    return v, flags, box.body + 4


def u8(buf, off):
    return buf[off]


def u16(buf, off):
    return struct.unpack_from(">H", buf, off)[0]


def u32(buf, off):
    return struct.unpack_from(">I", buf, off)[0]


def u64(buf, off):
    return struct.unpack_from(">Q", buf, off)[0]


def s32(buf, off):
    return struct.unpack_from(">i", buf, off)[0]


# --------------------------------------------------------------- SEI / NAL

def unescape_rbsp(data):
    """Removes emulation prevention bytes (00 00 03 -> 00 00)."""
    data = bytes(data)
    if b"\x00\x00\x03" not in data:
        return data
    out = bytearray()
    zeros = 0
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if zeros >= 2 and b == 3:
            zeros = 0
            i += 1
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
        i += 1
    return bytes(out)


def parse_sei_rbsp(rbsp):
    """Yields (payloadType, payload bytes) for each SEI message of an SEI RBSP
    (emulation prevention already removed, NAL header stripped)."""
    i = 0
    n = len(rbsp)
    while i < n:
        # rbsp_trailing_bits: a final 0x80 (possibly followed by zero bytes)
        if rbsp[i] == 0x80 and not any(rbsp[i + 1:]):
            return
        ptype = 0
        while i < n and rbsp[i] == 0xFF:
            ptype += 255
            i += 1
        if i >= n:
            return
        ptype += rbsp[i]
        i += 1
        psize = 0
        while i < n and rbsp[i] == 0xFF:
            psize += 255
            i += 1
        if i >= n:
            return
        psize += rbsp[i]
        i += 1
        if i + psize > n:
            return  # malformed: a message running past the NAL
        yield ptype, rbsp[i:i + psize]
        i += psize


def fakecam_sei(nal, hevc):
    """(counter, send_us) from one NAL unit (header included), or None."""
    if hevc:
        if len(nal) < 3 or ((nal[0] >> 1) & 0x3F) not in (39, 40):
            return None
        rbsp = unescape_rbsp(nal[2:])
    else:
        if len(nal) < 2 or (nal[0] & 0x1F) != 6:
            return None
        rbsp = unescape_rbsp(nal[1:])
    for ptype, payload in parse_sei_rbsp(rbsp):
        if ptype == 5 and len(payload) >= 32 and payload[:16] == FAKECAM_UUID:
            return struct.unpack_from(">QQ", payload, 16)
    return None


def scan_sample(buf, off, size, length_size, hevc):
    """(counter, send_us) of the first fakecam SEI in a length-prefixed sample."""
    pos = off
    end = off + size
    while pos + length_size <= end:
        n = int.from_bytes(buf[pos:pos + length_size], "big")
        pos += length_size
        if n == 0 or pos + n > end:
            return None
        first = buf[pos]
        t = (first >> 1) & 0x3F if hevc else first & 0x1F
        if (hevc and t in (39, 40)) or (not hevc and t == 6):
            found = fakecam_sei(buf[pos:pos + n], hevc)
            if found:
                return found
        pos += n
    return None


# ------------------------------------------------------------------ moov

class Track:
    def __init__(self):
        self.track_id = None
        self.timescale = None
        self.codec = None
        self.width = None
        self.height = None
        self.length_size = 4
        self.stbl = None
        self.trex = {}


def parse_sample_entry(buf, stsd, trk):
    _, _, p = full_box(buf, stsd)
    count = u32(buf, p)
    if count < 1:
        return
    for entry in iter_boxes(buf, p + 4, stsd.end):
        if entry.truncated:
            return
        trk.codec = entry.type
        # VisualSampleEntry: 8 bytes SampleEntry, then 16 bytes, width, height
        base = entry.body
        if entry.end - base >= 78:
            trk.width = u16(buf, base + 24)
            trk.height = u16(buf, base + 26)
            for cfg in iter_boxes(buf, base + 78, entry.end):
                if cfg.truncated:
                    break
                if cfg.type == "avcC" and cfg.size - cfg.hdr >= 5:
                    trk.length_size = (buf[cfg.body + 4] & 3) + 1
                elif cfg.type == "hvcC" and cfg.size - cfg.hdr >= 22:
                    trk.length_size = (buf[cfg.body + 21] & 3) + 1
        return


def parse_trak(buf, trak):
    trk = Track()
    tkhd = child(buf, trak, "tkhd")
    mdia = child(buf, trak, "mdia")
    if not tkhd or not mdia:
        return None
    v, _, p = full_box(buf, tkhd)
    trk.track_id = u32(buf, p + (16 if v == 1 else 8))
    hdlr = child(buf, mdia, "hdlr")
    if not hdlr or buf[hdlr.body + 8:hdlr.body + 12] != b"vide":
        return None
    mdhd = child(buf, mdia, "mdhd")
    if not mdhd:
        return None
    v, _, p = full_box(buf, mdhd)
    trk.timescale = u32(buf, p + (16 if v == 1 else 8))
    minf = child(buf, mdia, "minf")
    stbl = child(buf, minf, "stbl") if minf else None
    if stbl:
        trk.stbl = stbl
        stsd = child(buf, stbl, "stsd")
        if stsd:
            parse_sample_entry(buf, stsd, trk)
    return trk


def parse_moov(buf, moov):
    trk = None
    for trak in children(buf, moov, "trak"):
        t = parse_trak(buf, trak)
        if t:
            trk = t
            break
    if not trk:
        raise Mp4Error("no video track")
    mvex = child(buf, moov, "mvex")
    if mvex:
        for trex in children(buf, mvex, "trex"):
            _, _, p = full_box(buf, trex)
            if u32(buf, p) == trk.track_id:
                trk.trex = {
                    "duration": u32(buf, p + 8),
                    "size": u32(buf, p + 12),
                    "flags": u32(buf, p + 16),
                }
    return trk


def classic_samples(buf, trk, file_size):
    """Samples from stbl: list of dicts with dts (ticks), duration, cto,
    keyframe, offset, size."""
    stbl = trk.stbl
    if stbl is None:
        return []
    sizes = []
    stsz = child(buf, stbl, "stsz")
    if stsz:
        _, _, p = full_box(buf, stsz)
        fixed, count = u32(buf, p), u32(buf, p + 4)
        sizes = [fixed] * count if fixed else list(struct.unpack_from(">%dI" % count, buf, p + 8))
    else:
        stz2 = child(buf, stbl, "stz2")
        if stz2:
            _, _, p = full_box(buf, stz2)
            field, count = buf[p + 3], u32(buf, p + 4)
            q = p + 8
            for i in range(count):
                if field == 4:
                    b = buf[q + i // 2]
                    sizes.append(b >> 4 if i % 2 == 0 else b & 15)
                elif field == 8:
                    sizes.append(buf[q + i])
                else:
                    sizes.append(u16(buf, q + 2 * i))
    n = len(sizes)
    if n == 0:
        return []

    durations = []
    stts = child(buf, stbl, "stts")
    if stts:
        _, _, p = full_box(buf, stts)
        for i in range(u32(buf, p)):
            cnt, delta = struct.unpack_from(">II", buf, p + 4 + 8 * i)
            durations.extend([delta] * cnt)
    durations = (durations + [0] * n)[:n]

    ctos = [0] * n
    ctts = child(buf, stbl, "ctts")
    if ctts:
        v, _, p = full_box(buf, ctts)
        k = 0
        for i in range(u32(buf, p)):
            cnt = u32(buf, p + 4 + 8 * i)
            off = s32(buf, p + 8 + 8 * i) if v == 1 else u32(buf, p + 8 + 8 * i)
            for _ in range(cnt):
                if k < n:
                    ctos[k] = off
                k += 1

    sync = None
    stss = child(buf, stbl, "stss")
    if stss:
        _, _, p = full_box(buf, stss)
        sync = set(struct.unpack_from(">%dI" % u32(buf, p), buf, p + 4))

    chunks = []
    stco = child(buf, stbl, "stco")
    co64 = child(buf, stbl, "co64")
    if stco:
        _, _, p = full_box(buf, stco)
        chunks = list(struct.unpack_from(">%dI" % u32(buf, p), buf, p + 4))
    elif co64:
        _, _, p = full_box(buf, co64)
        chunks = list(struct.unpack_from(">%dQ" % u32(buf, p), buf, p + 4))

    stsc_entries = []
    stsc = child(buf, stbl, "stsc")
    if stsc:
        _, _, p = full_box(buf, stsc)
        for i in range(u32(buf, p)):
            stsc_entries.append(struct.unpack_from(">III", buf, p + 4 + 12 * i)[:2])

    offsets = []
    for e, (first, per_chunk) in enumerate(stsc_entries):
        last = stsc_entries[e + 1][0] - 1 if e + 1 < len(stsc_entries) else len(chunks)
        for c in range(first, last + 1):
            if c - 1 >= len(chunks):
                break
            pos = chunks[c - 1]
            for _ in range(per_chunk):
                if len(offsets) >= n:
                    break
                offsets.append(pos)
                pos += sizes[len(offsets) - 1]
    offsets = (offsets + [None] * n)[:n]

    out = []
    dts = 0
    for i in range(n):
        out.append({
            "dts": dts, "duration": durations[i], "cto": ctos[i],
            "keyframe": sync is None or (i + 1) in sync,
            "offset": offsets[i], "size": sizes[i], "fragment": None,
        })
        dts += durations[i]
    return out


# ------------------------------------------------------------- fragments

def parse_traf(buf, moof, traf, trk, next_dts, default_base):
    """Samples of one traf, or None when it belongs to another track.
    Returns (samples, end of its data)."""
    tfhd = child(buf, traf, "tfhd")
    if not tfhd:
        return None
    _, flags, p = full_box(buf, tfhd)
    if u32(buf, p) != trk.track_id:
        return None
    p += 4
    base = default_base
    d_dur = trk.trex.get("duration", 0)
    d_size = trk.trex.get("size", 0)
    d_flags = trk.trex.get("flags", 0)
    if flags & 0x01:
        base = u64(buf, p)
        p += 8
    elif flags & 0x020000:
        base = moof.start
    if flags & 0x02:
        p += 4
    if flags & 0x08:
        d_dur = u32(buf, p)
        p += 4
    if flags & 0x10:
        d_size = u32(buf, p)
        p += 4
    if flags & 0x20:
        d_flags = u32(buf, p)
        p += 4

    dts = next_dts
    tfdt = child(buf, traf, "tfdt")
    if tfdt:
        v, _, q = full_box(buf, tfdt)
        dts = u64(buf, q) if v == 1 else u32(buf, q)

    samples = []
    data_pos = base
    for trun in children(buf, traf, "trun"):
        v, tf, q = full_box(buf, trun)
        count = u32(buf, q)
        q += 4
        if tf & 0x01:
            data_pos = base + s32(buf, q)
            q += 4
        first_flags = None
        if tf & 0x04:
            first_flags = u32(buf, q)
            q += 4
        for i in range(count):
            dur, size, sflags, cto = d_dur, d_size, d_flags, 0
            if tf & 0x100:
                dur = u32(buf, q)
                q += 4
            if tf & 0x200:
                size = u32(buf, q)
                q += 4
            if tf & 0x400:
                sflags = u32(buf, q)
                q += 4
            elif i == 0 and first_flags is not None:
                sflags = first_flags
            if tf & 0x800:
                cto = s32(buf, q) if v == 1 else u32(buf, q)
                q += 4
            samples.append({
                "dts": dts, "duration": dur, "cto": cto,
                "keyframe": not (sflags & 0x00010000),
                "offset": data_pos, "size": size,
            })
            dts += dur
            data_pos += size
    return samples, data_pos


def fragmented_samples(buf, trk, moofs, file_size, result):
    samples = []
    next_dts = 0
    for idx, moof in enumerate(moofs):
        frag = []
        default_base = moof.start
        for traf in children(buf, moof, "traf"):
            got = parse_traf(buf, moof, traf, trk, next_dts, default_base)
            if got is None:
                continue
            frag_samples, default_base = got
            frag.extend(frag_samples)
        incomplete = [s for s in frag if s["offset"] + s["size"] > file_size]
        if incomplete:
            result["truncated"] = True
            result["truncated_detail"] = (
                "fragment %d (moof at %d): %d of %d samples reach past the end of the file"
                % (idx, moof.start, len(incomplete), len(frag)))
            result["dropped_samples"] += len(frag)
            if idx != len(moofs) - 1:
                result["truncated_detail"] += " (not the last fragment)"
            continue
        for s in frag:
            s["fragment"] = idx
        if frag:
            next_dts = frag[-1]["dts"] + frag[-1]["duration"]
        samples.extend(frag)
    return samples


# ------------------------------------------------------------------ main

def inspect(path):
    """Everything about the video track of the MP4 at path, as a dict."""
    file_size = os.path.getsize(path)
    result = {
        "path": path, "file_size": file_size, "fragmented": False, "fragments": 0,
        "codec": None, "width": None, "height": None, "track_id": None,
        "timescale": None, "nal_length_size": None, "prft": [],
        "truncated": False, "truncated_detail": None, "dropped_samples": 0,
    }
    if file_size == 0:
        raise Mp4Error("empty file")
    with open(path, "rb") as f:
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        _inspect(buf, file_size, result)
    except (struct.error, IndexError) as e:
        raise Mp4Error("malformed MP4: %s" % e)
    finally:
        buf.close()
    return result


def _inspect(buf, file_size, result):
    moov = None
    moofs = []
    top = []
    for box in iter_boxes(buf, 0, file_size):
        top.append(box.type)
        if box.truncated:
            result["truncated"] = True
            result["truncated_detail"] = "%s box at offset %d: %s" % (
                box.type or "partial header", box.start,
                "size %d, only %d bytes left" % (box.size, file_size - box.start)
                if box.type else "%d bytes" % (file_size - box.start))
            break
        if box.type == "moov":
            moov = box
        elif box.type == "moof":
            moofs.append(box)
        elif box.type == "prft":
            v, flags, p = full_box(buf, box)
            ntp = u64(buf, p + 4)
            media_time = u64(buf, p + 12) if v == 1 else u32(buf, p + 12)
            result["prft"].append({
                "offset": box.start, "track_id": u32(buf, p), "flags": flags,
                "ntp_timestamp": ntp,
                "utc": (ntp >> 32) - NTP_UNIX_OFFSET + (ntp & 0xFFFFFFFF) / 2.0 ** 32,
                "media_time": media_time,
            })
    if not top or (top[0] not in ("ftyp", "styp", "moov", "moof", "sidx", "prft", "free", "skip",
                                  "wide", "mdat")):
        raise Mp4Error("not an MP4 file (first box %r)" % (top[0] if top else None))
    if moov is None:
        raise Mp4Error("no moov box")

    trk = parse_moov(buf, moov)
    result.update(codec=trk.codec, width=trk.width, height=trk.height,
                  track_id=trk.track_id, timescale=trk.timescale,
                  nal_length_size=trk.length_size)
    ts = trk.timescale or 1
    for p in result["prft"]:
        p["media_time_s"] = p["media_time"] / ts

    if moofs or child(buf, moov, "mvex"):
        result["fragmented"] = True
        result["fragments"] = len(moofs)
        raw = classic_samples(buf, trk, file_size)  # normally empty with empty_moov
        raw += fragmented_samples(buf, trk, moofs, file_size, result)
    else:
        raw = classic_samples(buf, trk, file_size)
        complete = [s for s in raw if s["offset"] is not None
                    and s["offset"] + s["size"] <= file_size]
        if len(complete) != len(raw):
            result["truncated"] = True
            result["dropped_samples"] += len(raw) - len(complete)
            result["truncated_detail"] = result["truncated_detail"] or (
                "%d samples reach past the end of the file" % (len(raw) - len(complete)))
            raw = complete

    hevc = trk.codec in ("hvc1", "hev1")
    samples = []
    for i, s in enumerate(raw):
        sei = scan_sample(buf, s["offset"], s["size"], trk.length_size, hevc)
        samples.append({
            "index": i,
            "dts": s["dts"] / ts,
            "pts": (s["dts"] + s["cto"]) / ts,
            "duration": s["duration"] / ts,
            "keyframe": bool(s["keyframe"]),
            "size": s["size"],
            "offset": s["offset"],
            "fragment": s.get("fragment"),
            "counter": sei[0] if sei else None,
            "send_us": sei[1] if sei else None,
        })
    result["samples"] = samples
    summarize(result)


def summarize(result):
    """Adds the summary fields derived from result["samples"]."""
    samples = result["samples"]
    result["sample_count"] = len(samples)
    result["keyframes"] = [s["index"] for s in samples if s["keyframe"]]
    result["keyframe_count"] = len(result["keyframes"])
    counters = [s["counter"] for s in samples if s["counter"] is not None]
    result["samples_with_counter"] = len(counters)
    result["first_counter"] = counters[0] if counters else None
    result["last_counter"] = counters[-1] if counters else None
    result["counter_gaps"] = [[a, b] for a, b in zip(counters, counters[1:]) if b != a + 1]
    if samples:
        result["first_dts"] = samples[0]["dts"]
        result["duration"] = samples[-1]["dts"] + samples[-1]["duration"] - samples[0]["dts"]
    else:
        result["first_dts"] = None
        result["duration"] = 0.0
    return result


def format_summary(r):
    lines = []
    lines.append("file: %s (%d bytes)" % (r["path"], r["file_size"]))
    lines.append("codec: %s %sx%s, track %s, timescale %s, NAL length size %s" % (
        r["codec"], r["width"], r["height"], r["track_id"], r["timescale"],
        r["nal_length_size"]))
    lines.append("layout: %s" % ("fragmented, %d fragments" % r["fragments"]
                                 if r["fragmented"] else "classic"))
    lines.append("samples: %d" % r["sample_count"])
    kf = r["keyframes"]
    spacing = sorted({b - a for a, b in zip(kf, kf[1:])})
    lines.append("keyframes: %d at %s%s%s" % (
        len(kf), ", ".join(str(k) for k in kf[:12]), ", ..." if len(kf) > 12 else "",
        " (spacing %s)" % ",".join(str(s) for s in spacing) if spacing else ""))
    lines.append("duration: %.3f s (first dts %s)" % (
        r["duration"], "%.3f" % r["first_dts"] if r["first_dts"] is not None else "-"))
    if r["first_counter"] is not None:
        gaps = r["counter_gaps"]
        lines.append("counters: %d samples, first %d, last %d, gaps: %s" % (
            r["samples_with_counter"], r["first_counter"], r["last_counter"],
            "none" if not gaps else "%d %s" % (
                len(gaps), " ".join("(%d,%d)" % (a, b) for a, b in gaps[:20]))))
    else:
        lines.append("counters: none")
    if r["prft"]:
        p = r["prft"][0]
        lines.append("prft: %d boxes, first utc %.6f media time %d (%.3f s)" % (
            len(r["prft"]), p["utc"], p["media_time"], p["media_time_s"]))
    else:
        lines.append("prft: none")
    lines.append("truncated tail: %s" % ("yes: %s; %d samples left out" % (
        r["truncated_detail"], r["dropped_samples"]) if r["truncated"] else "no"))
    return "\n".join(lines)


def main(argv):
    args = [a for a in argv[1:] if a != "--json"]
    if len(args) != 1 or any(a.startswith("-") and a != "-" for a in args):
        sys.stderr.write("usage: mp4inspect.py FILE [--json]\n")
        return 2
    try:
        r = inspect(args[0])
    except (OSError, Mp4Error) as e:
        sys.stderr.write("mp4inspect: %s: %s\n" % (args[0], e))
        return 1
    if "--json" in argv[1:]:
        json.dump(r, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_summary(r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
