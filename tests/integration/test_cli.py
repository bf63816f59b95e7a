#!/usr/bin/env python3
"""The admin CLI and the configuration file: camera add / list / set / remove against a running
daemon (which picks changes up within seconds), credentials never shown, the documented example
configuration matches the option table, and the daemon's own refusals of bad options."""
import os
import subprocess
import time

from harness import BUILD, SOURCE, Env, check, poll, run


def test_example_config():
    r = subprocess.run([os.path.join(BUILD, "sargasd"), "--print-example-config"], capture_output=True, text=True)
    with open(os.path.join(SOURCE, "etc", "sargas.conf.example")) as f:
        check(r.stdout == f.read(), "etc/sargas.conf.example is out of date: regenerate it with "
              "`build/sargasd --print-example-config > etc/sargas.conf.example`")
    # every option in the example is valid when uncommented
    env = Env("example")
    try:
        lines = [l[1:] for l in r.stdout.splitlines() if l.startswith("#") and " = " in l and not l.startswith("# ")]
        path = os.path.join(env.dir, "all.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = subprocess.run([os.path.join(BUILD, "sargasd"), "--config", path, "--check-config"], capture_output=True, text=True)
        check(r.returncode == 0 and "configuration OK" in r.stdout, "example options rejected: %s" % r.stderr)
        check(len(lines) >= 19, "example lists only %d options" % len(lines))
        r = subprocess.run([os.path.join(BUILD, "sargasd"), "--set", "segment_seconds=1", "--check-config"],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "segment_seconds" in r.stderr, "--set not validated: %s" % r.stderr)
    finally:
        env.close()


def test_camera_commands():
    env = Env("cli")
    try:
        fc = env.fakecam(2)
        env.start()
        a = env.add_camera("Biržai square", "rtsp://admin:s3cret@127.0.0.1:%d/cam1/main" % fc.port,
                           None, "--retain-hours", "24")
        # the running daemon notices the new camera by itself
        poll(lambda: env.camera(a)["state"] == "online", 20, "the new camera to come online")
        cams = env.cameras()
        check(len(cams) == 1 and cams[0]["name"] == "Biržai square" and cams[0]["retain_hours"] == 24, str(cams))
        listing = env.cli("camera", "list").stdout + env.cli("camera", "list", "--json").stdout
        check("s3cret" not in listing and "***@" in listing, "credentials shown by camera list")
        check("s3cret" not in env.daemon.text(), "credentials written to the log")
        check("h264 1920x1080" in env.cli("camera", "list").stdout, "state/format not listed")
        r = env.cli("camera", "add", "--name", "Biržai square", "--main", "rtsp://127.0.0.1/x", ok=False)
        check(r.returncode == 2 and "already exists" in r.stderr, "duplicate name: %s" % r.stderr)
        # switch the camera to another stream: the daemon restarts it
        env.cli("camera", "set", "--name", "Biržai square", "--main", "rtsp://127.0.0.1:%d/cam2/sub" % fc.port)
        poll(lambda: (env.camera(a).get("main") or {}).get("width") == 640, 20, "the camera to switch streams")
        env.cli("camera", "set", "--id", str(a), "--disable")
        poll(lambda: "stream stopped (settings changed)" in env.daemon.text(), 10, "the stream to stop")
        check(env.camera(a)["state"] == "disabled", "disabled camera not shown as disabled")
        r = env.cli("camera", "set", "--id", "999", "--enable", ok=False)
        check(r.returncode == 2 and "no such camera" in r.stderr, r.stderr)
        r = env.cli("camera", "set", "--id", str(a), "--transport", "sctp", ok=False)
        check(r.returncode == 2 and "--transport" in r.stderr, r.stderr)
        r = env.cli("segments", "--from", "yesterday", ok=False)
        check(r.returncode == 2 and "RFC 3339" in r.stderr, r.stderr)
        env.cli("camera", "remove", "--id", str(a))
        check(env.cameras() == [], "camera not removed")
        # the name can be used again after removal; the old recordings keep their camera id
        b = env.add_camera("Biržai square", "rtsp://127.0.0.1:%d/cam2/main" % fc.port)
        check(b != a, "ids reused")
        r = env.cli("bogus", ok=False)
        check(r.returncode == 2 and "usage" in r.stderr, "unknown command: %s" % r.stderr)
        env.stop()
    finally:
        env.close()


if __name__ == "__main__":
    run(test_example_config)
    run(test_camera_commands)
