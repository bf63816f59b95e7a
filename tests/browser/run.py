#!/usr/bin/env python3
"""Starts a private sargasd with fake cameras (tests/integration/harness.py), runs one command
against it, and tears everything down again.

    tests/browser/run.py [--cameras N] [--record-sub] [--segment-seconds S] [--log-level L]
                         [--user NAME:ROLE[:allow=ID+ID...][:deny=ID+ID...]]... [-- COMMAND ARGS...]

Without a command it runs the console's browser test, `node console.test.mjs` in this
directory, with --record-sub (playback tiles of a grid play the recorded sub streams) and
--user viewer1:viewer:deny=4 --user inv1:investigator. Before that, `npm ci` runs here when node_modules is missing
or older than package-lock.json (playwright-core, pinned). Camera K (1..N) is added with
rtsp://127.0.0.1:P/camK/main and /camK/sub of one sargas-fakecam.

Accounts: the harness creates the administrator "admin" (password Env.ADMIN_PASSWORD) and an
API token for it before sargasd starts. Each --user adds a user with the CLI, with the same
password: allow=... makes it a user of granted cameras only (`sargas user add --granted-only`)
with those cameras allowed (`sargas user grant NAME --camera ID`); deny=... denies cameras
(`--deny`), whatever else the user may see.

The command gets in its environment:
    SARGAS_URL      http://127.0.0.1:PORT (the console and the API)
    SARGAS_DIR      the private directory (config, catalog.db, media/, logs)
    SARGAS_CONFIG   its sargas.conf; SARGAS_CATALOG, SARGAS_MEDIA likewise
    SARGAS_PID      sargasd's process id (for CPU measurements)
    SARGAS_RTSP     rtsp://127.0.0.1:P (the fake cameras)
    SARGAS_CAMERAS  N
    SARGAS_ADMIN_USER, SARGAS_ADMIN_PASSWORD   the administrator (to sign in to the console)
    SARGAS_TOKEN    the administrator's API token (Authorization: Bearer ...)
    SARGAS_USERS    JSON: [{"name", "role", "password", "id", "allow": [ids], "deny": [ids]}] of --user
Exit status: the command's; 77 when Chromium is missing (SG_CHROMIUM, default
/usr/bin/chromium), so that CTest reports a skip; 1 when the setup fails.
SG_KEEP=1 keeps the private directory. SG_BUILD / SG_SOURCE / SG_MEDIA_DIR as for the
integration tests; SG_WEB_DIR: the console's files (default SG_BUILD/web)."""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Env, TestFailure, poll  # noqa: E402

CHROMIUM = os.environ.get("SG_CHROMIUM", "/usr/bin/chromium")


def npm_ci():
    """Installs playwright-core from the lock file when node_modules is missing or stale."""
    lock = os.path.join(HERE, "package-lock.json")
    stamp = os.path.join(HERE, "node_modules", ".package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
        return
    print("run.py: npm ci in %s" % HERE, flush=True)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE)
    if r.returncode != 0:
        raise TestFailure("npm ci failed in %s (exit %d)" % (HERE, r.returncode))
    os.utime(stamp)   # npm ci keeps the lock file's mtime: mark node_modules as fresh


def parse_user(spec):
    """NAME:ROLE[:allow=1+2][:deny=3] -> dict."""
    parts = spec.split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError("--user NAME:ROLE[:allow=ID+ID][:deny=ID+ID], not %r" % spec)
    u = {"name": parts[0], "role": parts[1], "allow": [], "deny": []}
    for p in parts[2:]:
        key, _, ids = p.partition("=")
        if key not in ("allow", "deny") or not ids:
            raise argparse.ArgumentTypeError("--user %s: unknown part %r" % (spec, p))
        try:
            u[key] = [int(x) for x in ids.split("+")]
        except ValueError:
            raise argparse.ArgumentTypeError("--user %s: camera ids are numbers: %r" % (spec, p))
    return u


def add_users(env, users):
    """Creates the --user accounts with the CLI; returns them with password and id."""
    out = []
    for u in users:
        extra = ["--granted-only"] if u["allow"] else []
        uid = env.user(u["name"], u["role"], Env.ADMIN_PASSWORD, *extra)
        for cam in u["allow"]:
            env.cli("user", "grant", u["name"], "--camera", str(cam))
        for cam in u["deny"]:
            env.cli("user", "grant", u["name"], "--camera", str(cam), "--deny")
        out.append(dict(u, id=uid, password=Env.ADMIN_PASSWORD))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--record-sub", action="store_true", help="record the sub streams too")
    ap.add_argument("--segment-seconds", type=int, default=10)
    ap.add_argument("--log-level", default="info",
                    help="info or debug: the harness waits for sargasd's info-level ready line")
    ap.add_argument("--user", action="append", type=parse_user, default=[], metavar="NAME:ROLE[:allow=..][:deny=..]",
                    help="also create this user (repeatable)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        cmd = ["node", os.path.join(HERE, "console.test.mjs")]
        a.record_sub = True
        if not a.user:
            a.user = [parse_user("viewer1:viewer:deny=4"), parse_user("inv1:investigator")]

    if not os.access(CHROMIUM, os.X_OK):
        print("SKIP: Chromium is not installed (%s); apt-get install chromium" % CHROMIUM)
        return 77
    env = None
    try:
        npm_ci()
        config = dict(segment_seconds=a.segment_seconds, log_level=a.log_level)
        if os.environ.get("SG_WEB_DIR"):   # the ASan pass serves the console of the main build
            config["web_root"] = os.environ["SG_WEB_DIR"]
        env = Env("browser", **config)
        fake = env.fakecam(a.cameras)
        base = "rtsp://127.0.0.1:%d" % fake.port
        for k in range(1, a.cameras + 1):
            extra = ["--record-sub"] if a.record_sub else []
            env.add_camera("Camera %d" % k, "%s/cam%d/main" % (base, k), "%s/cam%d/sub" % (base, k), *extra)
        env.ensure_admin()
        users = add_users(env, a.user)
        env.start()
        # every camera's streams online before the command starts
        poll(lambda: all(c["streams"]["main"]["state"] == "online" for c in env.api("GET", "/api/v1/cameras")["cameras"]),
             30, "all cameras online", interval=0.3)
        child_env = dict(os.environ, SARGAS_URL="http://127.0.0.1:%d" % env.http_port, SARGAS_DIR=env.dir,
                         SARGAS_CONFIG=env.config_path, SARGAS_CATALOG=env.catalog, SARGAS_MEDIA=env.media,
                         SARGAS_PID=str(env.daemon.pid), SARGAS_RTSP=base, SARGAS_CAMERAS=str(a.cameras),
                         SG_CHROMIUM=CHROMIUM, SARGAS_ADMIN_USER="admin",
                         SARGAS_ADMIN_PASSWORD=Env.ADMIN_PASSWORD, SARGAS_TOKEN=env.token,
                         SARGAS_USERS=json.dumps(users))
        print("run.py: sargasd at %s, %d cameras, directory %s" % (child_env["SARGAS_URL"], a.cameras, env.dir),
              flush=True)
        rc = subprocess.run(cmd, cwd=HERE, env=child_env).returncode
        if not env.daemon.alive():
            print("FAIL: sargasd died during the run:\n%s" % env.daemon.text()[-3000:])
            return 1
        if rc != 0:
            print("run.py: the command exited %d; last lines of sargasd.log:\n%s" % (rc, env.daemon.text()[-2000:]))
        return rc
    except TestFailure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if env:
            env.close()


if __name__ == "__main__":
    sys.exit(main())
