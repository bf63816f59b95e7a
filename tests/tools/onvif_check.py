#!/usr/bin/env python3
"""Checks an ONVIF Export File independently of Sargas' own code.

    onvif_check.py FILE [--frames N] [--fragments N] [--codec h264|hevc] [--key-bits N]
                        [--operator S] [--source-name S] [--start-utc-us N] [--export-time-s N]
    onvif_check.py FILE --countersign KEY.pem CERT.pem OUT [--info TEXT]

Check (the default), against the ONVIF Export File Format Specification:
  - structure: ftyp first, one moov, then prft? + moof + mdat per fragment, then one
    file-level meta, then at most an mfra; every traf has tfhd, tfdt and trun; sequence
    numbers increase; no fragment starts before the previous one ends (tfdt + durations);
  - meta: full box v0, hdlr 'null', exactly one suep (version 1, fields parsed), cstb, ipro with
    protection_count 1 and sinf boxes, each with schm 'oeff' version 0x00010000 and schi with
    exactly one sibo and one cert (DER X.509, RSA key);
  - every signing instance verifies with the `openssl` command line tool: RSASSA-PSS, SHA-256,
    MGF1-SHA-256, salt length 20, over the file up to the end of that instance with its own
    signature zeroed (earlier instances: meta and ipro sizes cut back to that end, Annex A);
  - the media decodes: `ffmpeg -xerror` decodes every frame without an error and `ffprobe
    -count_frames` counts them.
Prints a summary (--json: everything found); exit status 0 when everything holds, 1 otherwise (the reasons on stderr).

--countersign appends a second signing instance with KEY/CERT the way the specification's
"Repeated signing" procedure says (a sinf at the foot of ipro, meta and ipro grown, the whole
file hashed with the new sibo zeroed), writing the result to OUT.

Python 3 standard library, plus the openssl, ffmpeg and ffprobe programs.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"dinf",
              b"sinf", b"schi", b"udta"}
EPOCH_1904 = 2082844800
EPOCH_1601 = 11644473600


class CheckError(Exception):
    pass


def boxes(buf, start, end):
    """(type, start, header length, size) of each box in buf[start:end]."""
    pos = start
    while pos < end:
        if end - pos < 8:
            raise CheckError("a partial box header at offset %d" % pos)
        size, btype = struct.unpack(">I4s", buf[pos:pos + 8])
        hl = 8
        if size == 1:
            size = struct.unpack(">Q", buf[pos + 8:pos + 16])[0]
            hl = 16
        if size < hl or pos + size > end:
            raise CheckError("box %r at offset %d does not fit its parent" % (btype, pos))
        yield btype, pos, hl, size
        pos += size


def children(buf, start, hl, size, skip=0):
    return list(boxes(buf, start + hl + skip, start + size))


def one(kids, btype, where):
    found = [k for k in kids if k[0] == btype]
    if len(found) != 1:
        raise CheckError("%s: %d %s boxes, expected exactly one" % (where, len(found),
                                                                   btype.decode()))
    return found[0]


def cstr(buf, pos, end):
    z = buf.index(b"\0", pos, end)
    return buf[pos:z].decode("utf-8"), z + 1


def check_fragments(buf, top):
    info = {"fragments": 0, "samples": 0}
    seq_prev, next_dts = 0, 0
    for btype, pos, hl, size in top:
        if btype != b"moof":
            continue
        kids = children(buf, pos, hl, size)
        mfhd = one(kids, b"mfhd", "moof at %d" % pos)
        seq = struct.unpack(">I", buf[mfhd[1] + 12:mfhd[1] + 16])[0]
        if seq <= seq_prev:
            raise CheckError("fragment sequence numbers do not increase (%d after %d)" %
                             (seq, seq_prev))
        seq_prev = seq
        for traf in [k for k in kids if k[0] == b"traf"]:
            tk = children(buf, traf[1], traf[2], traf[3])
            tfhd = one(tk, b"tfhd", "traf at %d" % traf[1])
            tfdt = one(tk, b"tfdt", "traf at %d" % traf[1])  # required (Timing)
            trun = one(tk, b"trun", "traf at %d" % traf[1])
            b = tfdt[1] + 8
            dts = struct.unpack(">Q", buf[b + 4:b + 12])[0] if buf[b] == 1 else \
                struct.unpack(">I", buf[b + 4:b + 8])[0]
            if dts < next_dts:
                raise CheckError("fragment %d starts at %d, before the previous one ends (%d)" %
                                 (seq, dts, next_dts))
            tf = struct.unpack(">I", buf[tfhd[1] + 8:tfhd[1] + 12])[0] & 0xffffff
            default_dur = 0
            if tf & 0x8:
                o = tfhd[1] + 16 + (8 if tf & 1 else 0) + (4 if tf & 2 else 0)
                default_dur = struct.unpack(">I", buf[o:o + 4])[0]
            b = trun[1] + 8
            flags = struct.unpack(">I", buf[b:b + 4])[0] & 0xffffff
            n = struct.unpack(">I", buf[b + 4:b + 8])[0]
            o = b + 8 + (4 if flags & 1 else 0) + (4 if flags & 4 else 0)
            per = sum(4 for f in (0x100, 0x200, 0x400, 0x800) if flags & f)
            dur = 0
            for i in range(n):
                dur += struct.unpack(">I", buf[o + i * per:o + i * per + 4])[0] \
                    if flags & 0x100 else default_dur
            next_dts = dts + dur
            info["samples"] += n
        info["fragments"] += 1
    return info


def parse_suep(buf, pos, hl, size):
    b, end = pos + hl, pos + size
    if buf[b] != 1:
        raise CheckError("suep is version %d, not 1" % buf[b])
    p = b + 4
    s = {}
    s["unit_name"], p = cstr(buf, p, end)
    s["unit_url"], p = cstr(buf, p, end)
    s["unit_mac"], p = cstr(buf, p, end)
    s["export_time_s"] = struct.unpack(">Q", buf[p:p + 8])[0] - EPOCH_1904
    p += 8
    s["operator"], p = cstr(buf, p, end)
    n = struct.unpack(">I", buf[p:p + 4])[0]
    p += 4
    s["sources"] = []
    for _ in range(n):
        track = struct.unpack(">H", buf[p:p + 2])[0]
        p += 2
        e = {"track": track}
        for f in ("name", "url", "mac", "line"):
            e[f], p = cstr(buf, p, end)
        s["sources"].append(e)
    if p != end:
        raise CheckError("suep has %d bytes after its last field" % (end - p))
    return s


def openssl(args, data=None):
    r = subprocess.run(["openssl"] + args, input=data, capture_output=True)
    return r.returncode, r.stdout, r.stderr


def verify_instance(buf, meta, ipro_pos, sinf, last, tmp):
    """Verifies one signing instance with the openssl program; returns (ok, bits)."""
    schi = one(children(buf, sinf[1], sinf[2], sinf[3]), b"schi", "sinf")
    sk = children(buf, schi[1], schi[2], schi[3])
    sibo = one(sk, b"sibo", "schi")
    cert = one(sk, b"cert", "schi")
    der = buf[cert[1] + cert[2]:cert[1] + cert[3]]
    sig = buf[sibo[1] + sibo[2]:sibo[1] + sibo[3]]
    rc, pub, err = openssl(["x509", "-inform", "DER", "-noout", "-pubkey"], der)
    if rc:
        raise CheckError("the cert box is not a DER certificate: %s" % err.decode())
    rc, text, _ = openssl(["x509", "-inform", "DER", "-noout", "-text"], der)
    bits = 0
    for line in text.decode().splitlines():
        if "Public-Key:" in line:
            bits = int(line.split("(")[1].split()[0])
    end = meta[1] + meta[3] if last else sinf[1] + sinf[3]
    data = bytearray(buf[:end])
    data[sibo[1] + sibo[2]:sibo[1] + sibo[3]] = bytes(len(sig))
    if not last:
        struct.pack_into(">I", data, meta[1], end - meta[1])
        struct.pack_into(">I", data, ipro_pos, end - ipro_pos)
    paths = {k: os.path.join(tmp, k) for k in ("pub.pem", "sig.bin", "data.bin")}
    for k, v in (("pub.pem", pub), ("sig.bin", sig), ("data.bin", data)):
        with open(paths[k], "wb") as f:
            f.write(v)
    rc, out, err = openssl(["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss",
                            "-sigopt", "rsa_pss_saltlen:20", "-sigopt", "rsa_mgf1_md:sha256",
                            "-verify", paths["pub.pem"], "-signature", paths["sig.bin"],
                            paths["data.bin"]])
    return rc == 0 and b"Verified OK" in out, bits


def check_meta(buf, meta, tmp):
    if buf[meta[1] + 8] != 0:
        raise CheckError("meta is not a full box of version 0")
    kids = children(buf, meta[1], meta[2], meta[3], skip=4)
    hdlr = one(kids, b"hdlr", "meta")
    if buf[hdlr[1] + 16:hdlr[1] + 20] != b"null":
        raise CheckError("meta's handler is %r, not 'null'" % buf[hdlr[1] + 16:hdlr[1] + 20])
    res = {"suep": parse_suep(buf, *one(kids, b"suep", "meta")[1:])}
    cstb = [k for k in kids if k[0] == b"cstb"]
    if cstb:
        b = cstb[0][1] + 8
        n, track, start = struct.unpack(">IIQ", buf[b:b + 16])
        res["cstb"] = {"entries": n, "track": track, "start_utc_us": start // 10 - EPOCH_1601 * 10**6}
    ipro = one(kids, b"ipro", "meta")
    count = struct.unpack(">H", buf[ipro[1] + 12:ipro[1] + 14])[0]
    if count != 1:
        raise CheckError("ipro protection_count is %d, not 1" % count)
    sinfs = [k for k in children(buf, ipro[1], ipro[2], ipro[3], skip=6) if k[0] == b"sinf"]
    if not sinfs:
        raise CheckError("no sinf in ipro: not signed")
    res["signatures"] = []
    for i, sinf in enumerate(sinfs):
        sk = children(buf, sinf[1], sinf[2], sinf[3])
        schm = one(sk, b"schm", "sinf")
        stype, sver = struct.unpack(">4sI", buf[schm[1] + 12:schm[1] + 20])
        if stype != b"oeff" or sver != 0x00010000:
            raise CheckError("schm is %r version %#x, not 'oeff' 0x00010000" % (stype, sver))
        ok, bits = verify_instance(buf, meta, ipro[1], sinf, i == len(sinfs) - 1, tmp)
        res["signatures"].append({"verified": ok, "key_bits": bits})
    return res


def check_media(path):
    r = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", path, "-map", "0:v:0",
                        "-f", "null", "-"], capture_output=True)
    if r.returncode or r.stderr.strip():
        raise CheckError("ffmpeg could not decode every frame: %s" % r.stderr.decode()[-500:])
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=codec_name,width,height,nb_read_frames",
                        "-of", "json", path], capture_output=True, check=True)
    st = json.loads(r.stdout)["streams"][0]
    return {"codec": st["codec_name"], "width": st["width"], "height": st["height"],
            "decoded_frames": int(st["nb_read_frames"])}


def check(path, args):
    with open(path, "rb") as f:
        buf = f.read()
    top = list(boxes(buf, 0, len(buf)))
    problems = []
    types = [t for t, _, _, _ in top]
    if types[0] != b"ftyp" or types.count(b"moov") != 1 or types.index(b"moov") != 1:
        problems.append("ftyp then one moov must come first: %r" % types[:3])
    if types.count(b"meta") != 1:
        raise CheckError("%d file-level meta boxes, expected exactly one" % types.count(b"meta"))
    mi = types.index(b"meta")
    after = types[mi + 1:]
    if after not in ([], [b"mfra"]):
        problems.append("boxes after the sealed meta: %r" % after)
    for t in types[2:mi]:
        if t not in (b"prft", b"moof", b"mdat", b"free", b"skip"):
            problems.append("unexpected top-level box %r among the fragments" % t)
    for i, t in enumerate(types[2:mi], 2):
        if t == b"moof" and (i + 1 >= len(types) or types[i + 1] != b"mdat"):
            problems.append("moof at index %d not followed by its mdat" % i)
    res = {"fragments": check_fragments(buf, top)}
    with tempfile.TemporaryDirectory(prefix="sg-onvif-check-") as tmp:
        res.update(check_meta(buf, top[mi], tmp))
    try:
        res.update(check_media(path))
    except CheckError as e:
        problems.append(str(e))
        res.update({"codec": None, "decoded_frames": None})

    want = [("fragments", res["fragments"]["fragments"]), ("frames", res["decoded_frames"]),
            ("codec", res["codec"]), ("operator", res["suep"]["operator"]),
            ("source_name", res["suep"]["sources"][0]["name"] if res["suep"]["sources"] else None),
            ("start_utc_us", res.get("cstb", {}).get("start_utc_us")),
            ("export_time_s", res["suep"]["export_time_s"]),
            ("key_bits", res["signatures"][0]["key_bits"])]
    for name, got in want:
        exp = getattr(args, name)
        if exp is not None and str(exp) != str(got):
            problems.append("%s is %r, expected %r" % (name, got, exp))
    if res["decoded_frames"] is not None and res["fragments"]["samples"] != res["decoded_frames"]:
        problems.append("%d samples in the fragments but %d frames decoded" %
                        (res["fragments"]["samples"], res["decoded_frames"]))
    for i, s in enumerate(res["signatures"]):
        if not s["verified"]:
            problems.append("signature %d does not verify (openssl)" % (i + 1))
    if args.json:
        print(json.dumps(res, indent=1))
    else:
        print("onvif_check: %s: %d fragments, %s frames decoded (%s), signatures verified by "
              "openssl: %s" % (path, res["fragments"]["fragments"], res["decoded_frames"],
                               res["codec"], [s["verified"] for s in res["signatures"]]))
    for p in problems:
        print("onvif_check: " + p, file=sys.stderr)
    return 1 if problems else 0


def countersign(path, key, cert_pem, out, info):
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    top = list(boxes(buf, 0, len(buf)))
    meta = top[-1]
    if meta[0] != b"meta":
        raise CheckError("the meta box is not the last box: cannot be extended")
    ipro = one(children(buf, meta[1], meta[2], meta[3], skip=4), b"ipro", "meta")
    if ipro[1] + ipro[3] != meta[1] + meta[3]:
        raise CheckError("ipro is not the last box of meta: cannot be extended")
    rc, der, err = openssl(["x509", "-in", cert_pem, "-outform", "DER"])
    rc2, text, _ = openssl(["rsa", "-in", key, "-noout", "-text"])
    if rc or rc2:
        raise CheckError("cannot read the key or certificate: %s" % err.decode())
    bits = int(text.decode().split("(")[1].split()[0])

    def box(t, payload):
        return struct.pack(">I4s", 8 + len(payload), t) + payload

    sig_len = (bits + 7) // 8
    schi = box(b"sibo", bytes(sig_len)) + box(b"cert", der)
    if info:
        schi += box(b"auib", info.encode() + b"\0")
    sinf = box(b"sinf", box(b"schm", struct.pack(">I4sI", 0, b"oeff", 0x00010000)) +
               box(b"schi", schi))
    sibo_at = len(buf) + 8 + 20 + 8 + 8  # sinf header, schm, schi header, sibo header
    buf += sinf
    struct.pack_into(">I", buf, meta[1], meta[3] + len(sinf))
    struct.pack_into(">I", buf, ipro[1], ipro[3] + len(sinf))
    with open(out, "wb") as f:
        f.write(buf)
    rc, sig, err = openssl(["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss",
                            "-sigopt", "rsa_pss_saltlen:20", "-sigopt", "rsa_mgf1_md:sha256",
                            "-sign", key, out])
    if rc or len(sig) != sig_len:
        raise CheckError("openssl could not sign: %s" % err.decode())
    buf[sibo_at:sibo_at + sig_len] = sig
    with open(out, "wb") as f:
        f.write(buf)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    for name in ("frames", "fragments", "key_bits", "start_utc_us", "export_time_s"):
        ap.add_argument("--" + name.replace("_", "-"), type=int)
    for name in ("codec", "operator", "source_name"):
        ap.add_argument("--" + name.replace("_", "-"))
    ap.add_argument("--countersign", nargs=3, metavar=("KEY", "CERT", "OUT"))
    ap.add_argument("--info")
    ap.add_argument("--json", action="store_true", help="print everything found, as JSON")
    args = ap.parse_args()
    try:
        if args.countersign:
            return countersign(args.file, *args.countersign, args.info)
        return check(args.file, args)
    except (CheckError, ValueError, struct.error) as e:
        print("onvif_check: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
