#!/usr/bin/env python3
"""The audit trail from the command line: sites and their keys, `audit sign`, `audit list`, and
`audit verify` on the real catalog and on tampered copies of it. The tampering is what someone
holding the database file could do: drop the append-only triggers, then edit, delete, reorder,
truncate, or rewrite entries with correctly recomputed hashes and even replace the sites' public
keys and sign again (which only a pinned key reveals). The chain hash is also recomputed here
from the documented encoding, as an outside verifier would."""
import hashlib
import json
import os
import re
import sqlite3
import stat
import struct

from harness import Env, check, run

TRIGGERS = ("audit_no_update", "audit_no_delete", "audit_sig_no_update", "audit_sig_no_delete")
COLS = "seq, ts_us, site_id, user_id, user_name, source, action, outcome, camera_id, object, detail, prev_hash"


def entry_hash(row):
    """SHA-256 of the canonical encoding documented in src/audit/audit.c."""
    h = hashlib.sha256(b"sargas-audit-v1\0")
    seq, ts, site, user_id, user, source, action, outcome, camera, obj, detail, prev = row
    for v in (seq, ts, site, user_id):
        h.update(struct.pack(">q", v))
    for s in (user, source, action, outcome):
        b = s.encode()
        h.update(struct.pack(">I", len(b)) + b)
    h.update(struct.pack(">q", camera))
    for s in (obj, detail):
        b = s.encode()
        h.update(struct.pack(">I", len(b)) + b)
    h.update(prev)
    return h.digest()


def copy_catalog(src, dst):
    """A consistent copy, WAL included."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    b.close()
    a.close()


def tampered(env, name, *sql, rewrite=None):
    """A copy of the catalog with the triggers dropped and `sql` run on it. rewrite=(seq, detail):
    also give entry seq a new detail and recompute its hash and every later one."""
    path = os.path.join(env.dir, name + ".db")
    copy_catalog(env.catalog, path)
    c = sqlite3.connect(path)
    for t in TRIGGERS:
        c.execute("DROP TRIGGER " + t)
    for q in sql:
        c.execute(q)
    if rewrite:
        seq, detail = rewrite
        c.execute("UPDATE audit SET detail = ? WHERE seq = ?", (detail, seq))
        prev = c.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()
        prev = prev[0] if prev else bytes(32)
        for row in c.execute("SELECT " + COLS + " FROM audit WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
            row = row[:-1] + (prev,)
            prev = entry_hash(row)
            c.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (row[-1], prev, row[0]))
    c.commit()
    c.close()
    return path


def verify(env, catalog=None, *extra):
    args = (["--catalog", catalog] if catalog else []) + ["audit", "verify"] + list(extra)
    return env.cli(*args, ok=False)


def expect_broken(env, path, seq, words, *extra):
    r = verify(env, path, *extra)
    first = r.stdout.splitlines()[0] if r.stdout else ""
    check(r.returncode == 1, "tampered catalog %s passed verification (%d): %s %s"
          % (os.path.basename(path), r.returncode, r.stdout, r.stderr))
    check(first.startswith("audit: BROKEN at entry %d: " % seq) and words in first,
          "%s: expected a break at entry %d (%s), got: %s" % (os.path.basename(path), seq, words, r.stdout))


def test_audit_trail():
    env = Env("audit")
    try:
        keys = os.path.join(env.dir, "keys")
        env.config["key_dir"] = keys
        env.write_config()
        names = ["Biržai", "Kaunas", "O'Brien\"; DROP TABLE sites;--", "Šiauliai"]
        fps = {}
        for n in names:
            out = env.cli("site", "add", n).stdout.strip()
            m = re.fullmatch(r"site (\d+) (.+) key ([0-9a-f]{4}(?: [0-9a-f]{4}){7})", out)
            check(m and m.group(2) == n, "site add printed %r" % out)
            fps[int(m.group(1))] = m.group(3)
        r = env.cli("site", "add", "Kaunas", ok=False)
        check(r.returncode == 1 and "already exists" in r.stderr, "duplicate site: %d %s" % (r.returncode, r.stderr))
        r = env.cli("site", "add", "tab\there", ok=False)
        check(r.returncode == 2, "a control character in a site name was accepted")

        sites = json.loads(env.cli("site", "list", "--json").stdout)
        check([s["name"] for s in sites] == ["default"] + names, "site list: %s" % sites)
        for s in sites:
            check(s["public_key"] and len(s["public_key"]) == 64 and s["fingerprint"], "site without key: %s" % s)
            check(s["id"] not in fps or fps[s["id"]] == s["fingerprint"], "fingerprint differs: %s" % s)
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s["created"]), "created: %s" % s)
            st = os.stat(os.path.join(keys, "site-%d.key" % s["id"]))
            check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 64, "key file of site %d" % s["id"])
        check(stat.S_IMODE(os.stat(keys).st_mode) == 0o700, "key directory mode")
        original_pk = sites[0]["public_key"]

        r = verify(env)
        check(r.returncode == 0 and r.stdout.splitlines() == [
            "audit: intact: 4 entries, 0 signatures, signed up to entry 0",
            "audit: 4 newest entries are chained but not yet signed"], "unsigned verify: %s" % r.stdout)
        check("5 signatures written" in env.cli("audit", "sign").stdout, "first sign")
        env.cli("site", "add", "Alytus")
        env.cli("site", "add", "Utena")
        check("7 signatures written" in env.cli("audit", "sign").stdout, "second sign")
        check("0 signatures written" in env.cli("audit", "sign").stdout, "signing twice")
        env.cli("site", "add", "Telšiai")
        r = verify(env)
        check(r.returncode == 0 and r.stdout.splitlines() == [
            "audit: intact: 7 entries, 12 signatures, signed up to entry 6",
            "audit: 1 newest entry is chained but not yet signed"], "verify: %s %s" % (r.stdout, r.stderr))
        r = verify(env, None, "--key", "1=" + original_pk, "--key", "Biržai=" + sites[1]["public_key"])
        check(r.returncode == 0, "verify with pinned keys: %s %s" % (r.stdout, r.stderr))

        # listing: newest first, filters, detail as JSON
        entries = json.loads(env.cli("audit", "list", "--json").stdout)
        check([e["seq"] for e in entries] == list(range(7, 0, -1)), "audit list order: %s" % entries)
        e = entries[-1]
        check(e["action"] == "site.add" and e["outcome"] == "ok" and e["source"] == "cli"
              and e["object"] == "site:2" and e["site"] == 2 and e["camera"] is None
              and e["detail"]["name"] == "Biržai" and e["user"].startswith("cli:")
              and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"])
              and len(e["hash"]) == 64, "audit entry: %s" % e)
        check(len(json.loads(env.cli("audit", "list", "--json", "--limit", "2").stdout)) == 2, "--limit")
        check(len(json.loads(env.cli("audit", "list", "--json", "--action", "site.").stdout)) == 7, "prefix")
        check(json.loads(env.cli("audit", "list", "--json", "--user", "nobody").stdout) == [], "--user")
        check(json.loads(env.cli("audit", "list", "--json", "--to", "2001-01-01T00:00:00Z").stdout) == [], "--to")
        check("site.add" in env.cli("audit", "list").stdout, "table listing")
        check(env.cli("audit", "list", "--limit", "10001", ok=False).returncode == 2, "--limit bound")

        # an outside verifier's recomputation of every hash
        c = sqlite3.connect(env.catalog)
        prev = bytes(32)
        for row in c.execute("SELECT " + COLS + ", hash FROM audit ORDER BY seq"):
            check(row[-2] == prev and entry_hash(row[:-1]) == row[-1], "entry %d: hash differs" % row[0])
            prev = row[-1]
        # the untouched catalog refuses changes to the trail
        for q in ("UPDATE audit SET detail = '' WHERE seq = 1", "DELETE FROM audit WHERE seq = 7",
                  "UPDATE audit_signatures SET seq = 1", "DELETE FROM audit_signatures"):
            try:
                c.execute(q)
                c.commit()
                check(False, "the catalog allowed: %s" % q)
            except sqlite3.DatabaseError as ex:
                check("append-only" in str(ex), "%s: %s" % (q, ex))
                c.rollback()
        c.close()
        check(verify(env).returncode == 0, "verify after refused changes")

        # tampered copies, each found at the exact entry
        expect_broken(env, tampered(env, "edit", "UPDATE audit SET detail = '{\"name\":\"x\"}' WHERE seq = 3"),
                      3, "do not match its hash")
        expect_broken(env, tampered(env, "delete", "DELETE FROM audit WHERE seq = 2"), 2, "entry 2 is missing")
        expect_broken(env, tampered(
            env, "reorder", "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (4, 5)",
            "UPDATE audit SET (ts_us, site_id, user_id, user_name, source, action, outcome, camera_id, object,"
            " detail, prev_hash, hash) = (SELECT ts_us, site_id, user_id, user_name, source, action, outcome,"
            " camera_id, object, detail, prev_hash, hash FROM t WHERE t.seq = 9 - audit.seq)"
            " WHERE seq IN (4, 5)"), 4, "do not match its hash")
        expect_broken(env, tampered(env, "truncate", "DELETE FROM audit WHERE seq >= 5"), 5,
                      "entry 6 was signed but is missing")
        expect_broken(env, tampered(env, "rewrite", rewrite=(6, '{"name":"Forged"}')), 6,
                      "entry 6 was rewritten after it was signed")
        expect_broken(env, tampered(env, "rewrite2", rewrite=(2, '{"name":"Forged"}')), 4,
                      "the change is in entries 1 to 4")

        # The full forgery: rewrite, remove the signatures, give the sites new keys, sign again.
        # The catalog alone now looks intact; the key pinned from before does not agree.
        forged = tampered(env, "forged", "DELETE FROM audit_signatures", "UPDATE sites SET public_key = NULL",
                          rewrite=(2, '{"name":"Forged"}'))
        forger_conf = os.path.join(env.dir, "forger.conf")
        with open(forger_conf, "w") as f:
            f.write("key_dir = %s\n" % os.path.join(env.dir, "forger-keys"))
        check("8 signatures written" in env.cli("--config", forger_conf, "--catalog", forged, "audit", "sign").stdout,
              "the forger's signing")
        r = verify(env, forged)
        check(r.returncode == 0, "forged copy with replaced keys: %s" % r.stdout)
        expect_broken(env, forged, 7, "signature #1 for site 1 over entry 7 is invalid", "--key", "1=" + original_pk)
        # signatures removed: a pinned key notices that it signed nothing (site 2 has entry 1)
        expect_broken(env, tampered(env, "unsigned", "DELETE FROM audit_signatures"), 1,
                      "no signature made with the key given for it", "--key", "Biržai=" + sites[1]["public_key"])

        r = verify(env, None, "--json")
        check(json.loads(r.stdout) == {"intact": True, "entries": 7, "signatures": 12, "last_signed_seq": 6},
              "verify --json: %s" % r.stdout)
        r = verify(env, None, "--key", "1=00")
        check(r.returncode == 2 and "64 hex digits" in r.stderr, "bad --key: %s" % r.stderr)
    finally:
        env.close()


if __name__ == "__main__":
    run(test_audit_trail)
