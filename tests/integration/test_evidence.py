#!/usr/bin/env python3
"""Evidence: cases, locks and signed exports, end to end through sargasd with two real RTSP
cameras.

- An operator opens a case and adds footage of two cameras: each item holds an evidence lock
  (the CLI's lock list shows it); an investigator releases one with a reason; locks, releases
  and reasons are in the audit trail.
- An investigator exports the case: the job runs in the background with progress, the package
  downloads as a ZIP whose SHA-256 the API states; per item one MP4 that ffprobe decodes
  fully, starting at the keyframe at or before the requested start (within one GOP) and ending
  at the requested end; the manifest lists what was included; `sargas verify` and the
  standalone `sargas-verify` accept the package with the site's public key from the API.
- Tampering with the unpacked package (a flipped byte in the MP4, a removed file, an edited
  manifest) makes the verifier fail and name the file; another site's key is refused.
- Permissions: a viewer cannot see cases, create them or export; an operator cannot export or
  release; another site's investigator sees neither the case nor the export; every refusal
  is audited.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile

import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, SOURCE, Env, check, ffprobe_frames, mp4inspect, poll, run, stream_segments, utc_us  # noqa: E402

PW = "evidence-password-1"
GOP_US = 2_000_000  # fakecam: a keyframe every 50 frames at 25 fps


def rfc(us):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def as_user(env, token):
    def call(method, path, body=None, expect=None):
        st, hd, data = env.http(method, path, body=body, headers={"Authorization": "Bearer " + token}, auth=False)
        if expect is not None:
            check(st == expect, "%s %s: expected %d, got %d %s" % (method, path, expect, st, data[:300]))
        try:
            return st, json.loads(data) if data else None, hd
        except ValueError:
            return st, data, hd
    return call


def verify(args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def audit(env, **match):
    st, _, data = env.http("GET", "/api/v1/audit?limit=1000")
    check(st == 200, "audit: %d" % st)
    out = []
    for e in json.loads(data)["entries"]:
        if all(e.get(k) == v for k, v in match.items()):
            out.append(e)
    return out


def test_evidence():
    env = Env("evidence", segment_seconds=4)
    try:
        fc = env.fakecam(3)
        cams = [env.add_camera("evid-cam%d" % k, "rtsp://127.0.0.1:%d/cam%d/main" % (fc.port, k)) for k in (1, 2, 3)]
        out = env.cli("site", "add", "neighbour-town").stdout
        site2 = int(out.split()[1])
        env.start()
        users = {}
        for name, role, extra in [("olga", "operator", []), ("ivy", "investigator", []), ("vic", "viewer", []),
                                  ("xavier", "investigator", ["--site", str(site2)])]:
            env.user(name, role, PW, *extra)
            users[name] = as_user(env, env.make_token(name))
        olga, ivy, vic, xavier = users["olga"], users["ivy"], users["vic"], users["xavier"]

        # footage: two complete segments on cameras 1 and 2
        for cam in cams[:2]:
            poll(lambda cam=cam: len(stream_segments(env, cam, "main")) >= 2, 60, "two segments of camera %d" % cam)
        seg1 = stream_segments(env, cams[0], "main")
        seg2 = stream_segments(env, cams[1], "main")
        a1 = utc_us(seg1[0]["start"]) + 1.3e6
        b1 = utc_us(seg1[1]["end"]) - 0.5e6
        a2 = utc_us(seg2[0]["start"]) + 2.5e6
        b2 = a2 + 3e6

        # --- cases and locks ---
        st, c, _ = olga("POST", "/api/v1/cases", {"reference": "2026/11-117", "title": "Fight at the bus station",
                                                 "reason": "Report by patrol 7 at 02:14"}, expect=201)
        case_id = c["id"]
        check(c["state"] == "open" and c["owner"]["name"] == "olga", "case: %s" % c)
        olga("POST", "/api/v1/cases", {"reference": "2026/11-117", "title": "dup", "reason": "dup"}, expect=409)
        olga("POST", "/api/v1/cases", {"reference": "", "title": "t", "reason": "r"}, expect=400)
        olga("POST", "/api/v1/cases", {"reference": "x", "title": "t"}, expect=400)
        olga("POST", "/api/v1/cases/%d/items" % case_id, {"camera_id": cams[0], "start": rfc(b1), "end": rfc(a1)},
             expect=400)
        olga("POST", "/api/v1/cases/%d/items" % case_id, {"camera_id": 999, "start": rfc(a1), "end": rfc(b1)},
             expect=404)
        olga("POST", "/api/v1/cases/%d/items" % case_id, {"camera_id": cams[0], "start": rfc(a1), "end": rfc(b1),
                                                          "note": "the fight"}, expect=201)
        st, c, _ = olga("POST", "/api/v1/cases/%d/items" % case_id,
                        {"camera_id": cams[1], "start": rfc(a2), "end": rfc(b2), "note": "suspects leaving"}, expect=201)
        check(c["items"] == 2 and c["locked_items"] == 2 and len(c["item_list"]) == 2, "items: %s" % c)
        # a third item, to be released
        st, c, _ = olga("POST", "/api/v1/cases/%d/items" % case_id,
                        {"camera_id": cams[2], "start": rfc(a1), "end": rfc(b1)}, expect=201)
        extra_item = c["item_list"][-1]["id"]
        locks = [json.loads(l) for l in env.cli("lock", "list", "--json").stdout.splitlines()]
        check(len(locks) == 3 and all(l["case_item"] > 0 for l in locks), "case locks: %s" % locks)
        check(env.cli("lock", "remove", "--id", str(locks[0]["id"]), ok=False).returncode != 0,
              "the CLI removed a case's lock")

        # release: operator may not, investigator must give a reason
        olga("POST", "/api/v1/cases/%d/items/%d/release" % (case_id, extra_item), {"reason": "wrong camera"}, expect=403)
        ivy("POST", "/api/v1/cases/%d/items/%d/release" % (case_id, extra_item), {}, expect=400)
        ivy("POST", "/api/v1/cases/%d/items/%d/release" % (case_id, 999999), {"reason": "x"}, expect=404)
        st, c, _ = ivy("POST", "/api/v1/cases/%d/items/%d/release" % (case_id, extra_item),
                       {"reason": "camera 3 does not cover the scene"}, expect=200)
        check(c["locked_items"] == 2, "after release: %s" % c)
        rel = [i for i in c["item_list"] if i["id"] == extra_item][0]
        check(not rel["locked"] and rel["release_reason"] == "camera 3 does not cover the scene", "released: %s" % rel)
        ivy("POST", "/api/v1/cases/%d/items/%d/release" % (case_id, extra_item), {"reason": "again"}, expect=409)
        locks = [json.loads(l) for l in env.cli("lock", "list", "--json").stdout.splitlines()]
        check(len(locks) == 2, "the released item's lock is still there: %s" % locks)
        check(audit(env, action="lock.add", user="olga") and audit(env, action="case.create", user="olga"),
              "case creation and locks are not audited")
        rel_entries = audit(env, action="lock.release", user="ivy")
        check(rel_entries and rel_entries[0]["detail"]["reason"] == "camera 3 does not cover the scene",
              "release not audited with its reason: %s" % rel_entries)

        # --- permissions ---
        vic("GET", "/api/v1/cases", expect=403)
        vic("POST", "/api/v1/cases", {"reference": "v", "title": "t", "reason": "r"}, expect=403)
        vic("POST", "/api/v1/exports", {"case_id": case_id, "reason": "r"}, expect=403)
        olga("POST", "/api/v1/exports", {"case_id": case_id, "reason": "r"}, expect=403)
        xavier("GET", "/api/v1/cases/%d" % case_id, expect=404)
        xavier("POST", "/api/v1/exports", {"case_id": case_id, "reason": "curious"}, expect=404)
        st, lst, _ = xavier("GET", "/api/v1/cases", expect=200)
        check(lst["cases"] == [], "another site's user lists our cases: %s" % lst)
        xavier("POST", "/api/v1/exports", {"items": [{"camera_id": cams[0], "start": rfc(a1), "end": rfc(b1)}],
                                           "reason": "curious"}, expect=404)
        denied = audit(env, action="access.denied", user="vic") + audit(env, action="access.denied", user="olga")
        check(len(denied) >= 4, "denied attempts are not all audited: %s" % denied)
        # xavier's refusals are in his own site's part of the trail
        xa = json.loads(env.cli("audit", "list", "--user", "xavier", "--json").stdout)
        check(len([e for e in xa if e["action"] in ("export.create", "access.denied") and e["outcome"] == "denied"]) >= 3,
              "another site's refused requests are not all audited: %s" % xa)

        # --- export ---
        ivy("POST", "/api/v1/exports", {"case_id": case_id}, expect=400)  # a reason is required
        ivy("POST", "/api/v1/exports", {"case_id": case_id, "reason": "r", "format": "avi"}, expect=400)
        st, job, _ = ivy("POST", "/api/v1/exports", {"case_id": case_id, "reason": "Request of the State Police, file 88/26"},
                         expect=202)
        job_id = job["id"]
        check(job["state"] in ("queued", "running", "done") and len(job["items"]) == 3, "export job: %s" % job)
        seen_progress = set()

        def done():
            st, j, _ = ivy("GET", "/api/v1/exports/%d" % job_id, expect=200)
            seen_progress.add(j["state"])
            check(j["state"] != "failed", "export failed: %s" % j)
            return j if j["state"] == "done" else None
        job = poll(done, 120, "the export to finish")
        check(job["bytes"] > 0 and len(job["sha256"]) == 64 and job["download"].endswith(".zip"), "done: %s" % job)
        xavier("GET", "/api/v1/exports/%d" % job_id, expect=404)
        vic("GET", "/api/v1/exports/%d/package.zip" % job_id, expect=403)
        st, data, hd = ivy("GET", job["download"], expect=200)
        check(isinstance(data, bytes) and hashlib.sha256(data).hexdigest() == job["sha256"],
              "the package's SHA-256 differs from what the API states")
        check(hd.get("content-type") == "application/zip", "content type: %s" % hd)
        check(audit(env, action="export.download", user="ivy"), "the download is not audited")
        check(audit(env, action="export.finish", user="ivy", outcome="ok"), "the finished export is not audited")

        tmp = tempfile.mkdtemp(prefix="sg-evidence-")
        zpath = os.path.join(tmp, "package.zip")
        with open(zpath, "wb") as f:
            f.write(data)
        with zipfile.ZipFile(zpath) as z:
            z.extractall(tmp)
        pkg = os.path.join(tmp, "export-%d" % job_id)
        manifest = json.load(open(os.path.join(pkg, "manifest.json")))
        check(manifest["export"]["user"] == "ivy" and manifest["export"]["reason"].startswith("Request of the State"),
              "manifest export: %s" % manifest["export"])
        check(manifest["export"]["case"]["reference"] == "2026/11-117", "manifest case: %s" % manifest["export"])
        items = manifest["items"]
        check(len(items) == 3, "manifest items (camera 3's released item is exported too): %s" % items)
        for it, (a, b) in zip(items[:2], [(a1, b1), (a2, b2)]):
            path = os.path.join(pkg, "media", it["file"]) if not it["file"].startswith("media/") else os.path.join(pkg, it["file"])
            n, w, h, _ = ffprobe_frames(path)
            info = mp4inspect.inspect(path)
            check(n == len(info["samples"]) and w == 1920, "%s: %d frames decode of %d" % (it["file"], n, len(info["samples"])))
            first = info["samples"][0]["counter"] * 40000
            last = info["samples"][-1]["counter"] * 40000
            check(info["samples"][0]["keyframe"] and first <= a + 0.1e6 and a - first <= GOP_US + 0.1e6,
                  "%s starts at %s, requested %s" % (it["file"], rfc(first), rfc(a)))
            check(b - 0.2e6 <= last + 40000 <= b + 0.1e6, "%s ends at %s, requested %s" % (it["file"], rfc(last), rfc(b)))
            counters = [s["counter"] for s in info["samples"]]
            check(counters == list(range(counters[0], counters[0] + len(counters))), "%s misses frames" % it["file"])
            check(abs(utc_us(it["included"]["start"]) - first) <= 0.1e6, "manifest 'included' start: %s" % it)
            check(it["included"]["frames"] == n, "manifest frames %s vs %d" % (it["included"], n))

        st, key, _ = ivy("GET", "/api/v1/site/key.pub", expect=200)
        keyfile = os.path.join(tmp, "site.pub")
        with open(keyfile, "wb") as f:
            f.write(key if isinstance(key, bytes) else key.encode())
        rc, txt = verify([os.path.join(BUILD, "sargas"), "verify", pkg, "--key", keyfile])
        check(rc == 0 and "VERDICT: VERIFIED" in txt, "sargas verify refused the package (%d):\n%s" % (rc, txt))
        rc, txt = verify([os.path.join(BUILD, "sargas-verify"), pkg, "--key", keyfile])
        check(rc == 0, "sargas-verify refused the package (%d):\n%s" % (rc, txt))

        # another site's key: refused
        other = env.cli("site", "list").stdout
        other_key = None
        st, s2, _ = xavier("GET", "/api/v1/site/key.pub", expect=200)
        other_key = os.path.join(tmp, "other.pub")
        with open(other_key, "wb") as f:
            f.write(s2 if isinstance(s2, bytes) else s2.encode())
        rc, txt = verify([os.path.join(BUILD, "sargas-verify"), pkg, "--key", other_key])
        check(rc == 1 and "NOT VERIFIED" in txt, "a package verified with another site's key (%d):\n%s\n%s" % (rc, txt, other))

        # tampering: each makes the verifier fail and name the file
        media0 = os.path.join(pkg, "media", sorted(os.listdir(os.path.join(pkg, "media")))[0])
        for what, mutate, name in [
            ("flipped byte", lambda d: flip(os.path.join(d, "media", os.path.basename(media0))), os.path.basename(media0)),
            ("removed file", lambda d: os.unlink(os.path.join(d, "README.txt")), "README.txt"),
            ("edited manifest", lambda d: edit_manifest(os.path.join(d, "manifest.json")), "manifest"),
        ]:
            copy = os.path.join(tmp, "tampered")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(pkg, copy)
            mutate(copy)
            rc, txt = verify([os.path.join(BUILD, "sargas-verify"), copy, "--key", keyfile])
            check(rc == 1 and "NOT VERIFIED" in txt and name in txt,
                  "%s: the verifier did not fail naming %s (%d):\n%s" % (what, name, rc, txt))
        shutil.rmtree(tmp, ignore_errors=True)

        # the same footage of camera 1 as an ONVIF Export File (a single range, not a case):
        # sealed with the site's RSA certificate; an independent checker (own box parser,
        # openssl, ffmpeg) accepts it, and the signed package covers it
        st, job, _ = ivy("POST", "/api/v1/exports", {"items": [{"camera_id": cams[0], "start": rfc(a1), "end": rfc(b1)}],
                                                     "reason": "ONVIF copy for the court", "format": "onvif"}, expect=202)
        job = poll(lambda: (lambda j: j if j["state"] in ("done", "failed") else None)(
            ivy("GET", "/api/v1/exports/%d" % job["id"], expect=200)[1]), 120, "the ONVIF export")
        check(job["state"] == "done" and job["format"] == "onvif", "ONVIF export: %s" % job)
        st, data, _ = ivy("GET", job["download"], expect=200)
        tmp = tempfile.mkdtemp(prefix="sg-evidence-onvif-")
        with open(os.path.join(tmp, "p.zip"), "wb") as f:
            f.write(data)
        with zipfile.ZipFile(os.path.join(tmp, "p.zip")) as z:
            z.extractall(tmp)
        pkg = os.path.join(tmp, "export-%d" % job["id"])
        keyfile = os.path.join(tmp, "site.pub")
        with open(keyfile, "wb") as f:
            f.write(key if isinstance(key, bytes) else key.encode())
        rc, txt = verify([os.path.join(BUILD, "sargas-verify"), pkg, "--key", keyfile])
        check(rc == 0, "the ONVIF package does not verify (%d):\n%s" % (rc, txt))
        mp4s = sorted(os.listdir(os.path.join(pkg, "media")))
        check(len(mp4s) == 1, "ONVIF package media: %s" % mp4s)
        r = subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "tools", "onvif_check.py"),
                            os.path.join(pkg, "media", mp4s[0]), "--operator", "ivy", "--source-name", "evid-cam1"],
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "the ONVIF checker refused the export:\n%s%s" % (r.stdout, r.stderr))
        onvif_file = os.path.join(pkg, "media", mp4s[0])
        crt = os.path.join(env.config["key_dir"], "site-1-onvif.crt")
        rc, txt = verify([os.path.join(BUILD, "sargas"), "verify-onvif", onvif_file, "--cert", crt])
        check(rc == 0 and "VERDICT: VERIFIED" in txt and "operator ivy" in txt, "verify-onvif (%d):\n%s" % (rc, txt))
        flip(onvif_file)
        rc, txt = verify([os.path.join(BUILD, "sargas"), "verify-onvif", onvif_file, "--cert", crt])
        check(rc == 1 and "NOT VERIFIED" in txt, "verify-onvif accepted a flipped byte (%d):\n%s" % (rc, txt))
        shutil.rmtree(tmp, ignore_errors=True)

        # closing the case releases its locks, with a reason
        olga("POST", "/api/v1/cases/%d/close" % case_id, {"reason": "handed over"}, expect=403)
        st, c, _ = ivy("POST", "/api/v1/cases/%d/close" % case_id, {"reason": "Handed over to the State Police"}, expect=200)
        check(c["state"] == "closed" and c["locked_items"] == 0, "closed: %s" % c)
        check(env.cli("lock", "list", "--json").stdout.strip() == "", "locks remain after closing the case")
        olga("POST", "/api/v1/cases/%d/items" % case_id, {"camera_id": cams[0], "start": rfc(a1), "end": rfc(b1)},
             expect=409)
        check(audit(env, action="case.close", user="ivy"), "closing is not audited")

        # packages are deleted export_keep_days after they were made: age one, restart
        onvif_zip = os.path.join(env.config["export_dir"], "export-%d.zip" % job["id"])
        check(os.path.exists(onvif_zip), "no package file %s" % onvif_zip)
        env.stop()
        db = sqlite3.connect(env.config["catalog"])
        db.execute("UPDATE exports SET finished_us = finished_us - 31 * 86400 * 1000000 WHERE id = ?", (job["id"],))
        db.commit()
        db.close()
        env.start()
        poll(lambda: ivy("GET", "/api/v1/exports/%d" % job["id"])[0] == 404, 30, "the aged export to be deleted")
        check(not os.path.exists(onvif_zip), "the aged package file is still there")
        ivy("GET", "/api/v1/exports/%d" % job_id, expect=200)  # the recent one stays
        check(audit(env, action="export.expire"), "the deletion of an aged package is not audited")
        env.stop()
    finally:
        env.close()


def flip(path):
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x01]))


def edit_manifest(path):
    m = json.load(open(path))
    m["export"]["reason"] = "nothing to see"
    with open(path, "w") as f:
        json.dump(m, f, indent=2)


if __name__ == "__main__":
    run(test_evidence)
