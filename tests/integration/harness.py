"""Integration-test harness: starts real processes (sargasd, sargas-fakecam, the hostile RTSP
server), polls for conditions instead of sleeping, and cleans up after itself.

Environment: SG_BUILD (build directory with the binaries), SG_MEDIA_DIR (generated media),
SG_WEB_DIR (the built console, default SG_BUILD/web),
SG_SOURCE (repository root)."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SOURCE = os.environ.get("SG_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("SG_BUILD", os.path.join(SOURCE, "build"))
MEDIA = os.environ.get("SG_MEDIA_DIR", os.path.join(BUILD, "media"))
WEB = os.environ.get("SG_WEB_DIR", os.path.join(BUILD, "web"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "tools"))
import mp4inspect  # noqa: E402

FPS = 25
GOP = 50


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def poll(cond, timeout, what, interval=0.1):
    """Calls cond() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    """A TCP port that is free now, with port+1 free too (RTSP servers may use pairs)."""
    for _ in range(100):
        p = random.randint(20000, 40000) & ~1
        ok = True
        for q in (p, p + 1):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
    raise TestFailure("no free port")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Proc:
    """A child process whose output goes to a log file; waits for a ready line."""

    def __init__(self, argv, log_path, ready=None, timeout=30, env=None):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.log_start = self.log.tell()  # a restarted process appends: look for `ready` after this
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        if ready:
            try:
                poll(lambda: ready in self.text()[self.log_start:] or self.p.poll() is not None, timeout,
                     "'%s' from %s" % (ready, os.path.basename(argv[0])))
            except TestFailure:
                # nobody holds this Proc yet: Env.close() could not stop it
                self.p.kill()
                self.p.wait()
                self.log.close()
                raise
            check(self.p.poll() is None, "%s exited early:\n%s" % (argv[0], self.text()[-3000:]))

    @property
    def pid(self):
        return self.p.pid

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise TestFailure("%s did not stop within %d s after signal %d" % (self.argv[0], timeout, sig))
        self.log.close()
        return self.p.returncode

    def kill9(self):
        self.p.kill()
        self.p.wait()
        self.log.close()


class Env:
    """A test's private directory, config and processes."""

    def __init__(self, name, **config):
        self.dir = tempfile.mkdtemp(prefix="sg-%s-" % name)
        self.media = os.path.join(self.dir, "media")
        self.catalog = os.path.join(self.dir, "catalog.db")
        self.procs = []
        self.config = {
            "storage_root": self.media,
            "catalog": self.catalog,
            "segment_seconds": 10,
            "storage_min_free": "16M",
            "log_level": "info",
            "backoff_min_ms": 200,
            "backoff_max_ms": 2000,
            "listen": "127.0.0.1:%d" % free_port(),
            "web_root": WEB,
            "key_dir": os.path.join(self.dir, "keys"),
            "export_dir": os.path.join(self.dir, "exports"),
            # Cheap Argon2id in tests (production: 3 passes, 64 MiB); test_auth checks the rehash.
            "password_opslimit": 1,
            "password_memlimit": "1M",
        }
        self.config.update(config)
        self.write_config()
        self.daemon = None
        self.daemon_runs = 0
        self.token = None      # an administrator's API token, made at the first start

    ADMIN_PASSWORD = "admin-password-for-tests"

    def user(self, name, role, password=None, *extra):
        """Creates a user with the CLI; returns its id."""
        r = subprocess.run([os.path.join(BUILD, "sargas"), "--config", self.config_path, "user", "add", name,
                            "--role", role, "--password-stdin"] + list(extra),
                           input=(password or self.ADMIN_PASSWORD) + "\n", capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 0, "user add %s failed: %s %s" % (name, r.stdout, r.stderr))
        return int(r.stdout.split()[1])

    def make_token(self, user, *scopes):
        args = ["token", "add", user, "--name", "tests"]
        for s in scopes:
            args += ["--scope", s]
        return self.cli(*args).stdout.strip()

    def ensure_admin(self):
        """An administrator 'admin' and an API token for it, used by http()/api() by default."""
        if self.token:
            return
        self.user("admin", "admin")
        self.token = self.make_token("admin")

    def write_config(self):
        self.config_path = os.path.join(self.dir, "sargas.conf")
        with open(self.config_path, "w") as f:
            for k, v in self.config.items():
                for item in (v if isinstance(v, list) else [v]):
                    f.write("%s = %s\n" % (k, str(item).lower() if isinstance(item, bool) else item))

    def fakecam(self, cameras, codec="h264", port=None, media=None):
        """media: a directory with the files of scripts/gen-media.sh (default MEDIA)."""
        port = port or free_port()
        p = Proc([os.path.join(BUILD, "sargas-fakecam"), "--cameras", str(cameras), "--port", str(port),
                  "--codec", codec, "--media", media or MEDIA],
                 os.path.join(self.dir, "fakecam-%d.log" % port), ready="fakecam: ready")
        p.port = port
        self.procs.append(p)
        return p

    def hostile(self, mode, media=None, extra=()):
        port = free_port()
        argv = [sys.executable, os.path.join(SOURCE, "tests", "tools", "hostile_rtsp.py"), "--port", str(port),
                "--mode", mode, "--media", media or os.path.join(MEDIA, "sub.h264")] + list(extra)
        p = Proc(argv, os.path.join(self.dir, "hostile-%s-%d.log" % (mode, port)), ready="hostile: ready")
        p.port = port
        self.procs.append(p)
        return p

    def start(self, ready=True):
        self.ensure_admin()
        self.daemon_runs += 1
        self.daemon = Proc([os.path.join(BUILD, "sargasd"), "--config", self.config_path],
                           os.path.join(self.dir, "sargasd.log"), ready="sargasd: ready" if ready else None)
        return self.daemon

    def stop(self):
        rc = self.daemon.stop()
        # the end of its log says why (an abort prints the reason on stderr, which is the log)
        check(rc == 0, "sargasd exited with %s; the end of its log:\n%s"
              % (rc, "\n".join(self.daemon.text().splitlines()[-30:])))
        check("stopped cleanly" in self.daemon.text(), "sargasd did not report a clean stop")

    def cli(self, *args, ok=True):
        r = subprocess.run([os.path.join(BUILD, "sargas"), "--config", self.config_path] + list(args),
                           capture_output=True, text=True, timeout=60)
        if ok:
            check(r.returncode == 0, "sargas %s failed (%d): %s %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def add_camera(self, name, main, sub=None, *extra):
        args = ["camera", "add", "--name", name, "--main", main]
        if sub:
            args += ["--sub", sub]
        out = self.cli(*(args + list(extra))).stdout
        return int(out.split()[1])

    def cameras(self):
        return json.loads(self.cli("camera", "list", "--json").stdout)

    def camera(self, cam_id):
        for c in self.cameras():
            if c["id"] == cam_id:
                return c
        raise TestFailure("camera %d not listed" % cam_id)

    def segments(self, camera=None):
        args = ["segments", "--json"] + (["--camera", str(camera)] if camera else [])
        return json.loads(self.cli(*args).stdout)

    def losses(self, camera=None):
        args = ["loss", "--json"] + (["--camera", str(camera)] if camera else [])
        return json.loads(self.cli(*args).stdout)

    @property
    def http_port(self):
        return int(str(self.config["listen"]).rsplit(":", 1)[1])

    def http(self, method, path, body=None, headers=None, timeout=30, tls=False, auth=True):
        """One HTTP request to the daemon, the path sent exactly as given (no normalising), as
        the administrator's API token unless auth is False or headers carry their own.
        Returns (status, headers as a lower-case dict, body bytes)."""
        import http.client
        import ssl
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", self.http_port, timeout=timeout, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        h = dict(headers or {})
        if auth and self.token and "Authorization" not in h and "Cookie" not in h:
            h["Authorization"] = "Bearer " + self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def api(self, method, path, body=None, expect=200, headers=None):
        """A JSON API call that must answer `expect`; returns the decoded body (or None)."""
        st, hd, data = self.http(method, path, body, headers)
        check(st == expect, "%s %s: expected %d, got %d: %s" % (method, path, expect, st, data[:300]))
        if data and hd.get("content-type", "").startswith("application/json"):
            return json.loads(data)
        return None

    def close(self, keep=os.environ.get("SG_KEEP") == "1"):
        for p in self.procs + ([self.daemon] if self.daemon else []):
            try:
                if p.alive():
                    p.stop(signal.SIGKILL)
            except Exception:
                pass
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def seg_path(seg):
    return os.path.join(seg["root"], seg["path"])


def counters(seg):
    """Frame counters (from the fake camera's SEI) of a recorded segment, in order."""
    info = mp4inspect.inspect(seg_path(seg))
    return [s["counter"] for s in info["samples"]], info


def ffprobe_frames(path):
    """Decodes every frame with ffprobe; returns (frames, width, height, codec)."""
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                        "stream=nb_read_frames,width,height,codec_name", "-of", "json", path],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "ffprobe failed on %s: %s" % (path, r.stderr[-500:]))
    check("error" not in r.stderr.lower(), "ffprobe reported errors on %s: %s" % (path, r.stderr[-500:]))
    st = json.loads(r.stdout)["streams"][0]
    return int(st["nb_read_frames"]), st["width"], st["height"], st["codec_name"]


def utc_us(rfc3339):
    from datetime import datetime
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1e6)


def stream_segments(env, cam, stream):
    segs = [s for s in env.segments(cam) if s["stream"] == stream and s["status"] == "complete"]
    return sorted(segs, key=lambda s: s["start"])


def run(test_fn):
    """Runs one test function with a fresh name; prints a result line CTest shows."""
    name = test_fn.__name__
    t0 = time.monotonic()
    try:
        test_fn()
    except TestFailure as e:
        print("FAIL %s (%.1f s): %s" % (name, time.monotonic() - t0, e))
        sys.exit(1)
    print("PASS %s (%.1f s)" % (name, time.monotonic() - t0))
