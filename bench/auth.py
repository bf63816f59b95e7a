#!/usr/bin/env python3
"""What accounts cost: the time of a console login (Argon2id at the production defaults,
3 passes and 64 MiB, on a job thread) and the extra time authentication and authorisation add
to every API request, measured side by side in the same run: the same route asked
anonymously (public) and with an API token (a token lookup by hash, a user lookup and the
permission check), interleaved in rounds so that machine noise hits both alike.

    bench/auth.py [--build build] [--requests 2000] [--logins 10]

Prints last: RESULT auth login_ms_p50=X login_ms_max=X request_us_anon_p50=X request_us_auth_p50=X auth_overhead_us=X"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import free_port, poll  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--logins", type=int, default=10)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    d = tempfile.mkdtemp(prefix="sg-bench-auth-")
    port = free_port()
    conf = os.path.join(d, "sargas.conf")
    with open(conf, "w") as f:
        f.write("storage_root = %s/media\ncatalog = %s/catalog.db\nkey_dir = %s/keys\nlisten = 127.0.0.1:%d\n"
                "storage_min_free = 16M\nlog_level = warn\n" % (d, d, d, port))
    pw = "benchmark-password-1"
    sargas = [os.path.join(build, "sargas"), "--config", conf]
    subprocess.run(sargas + ["user", "add", "bench", "--role", "admin", "--password-stdin"], input=pw + "\n",
                   text=True, check=True, capture_output=True)
    token = subprocess.run(sargas + ["token", "add", "bench", "--name", "bench"], text=True, check=True,
                           capture_output=True).stdout.strip()
    daemon = subprocess.Popen([os.path.join(build, "sargasd"), "--config", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        def up():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/api/v1/health")
                return c.getresponse().status == 200
            except OSError:
                return False
        poll(up, 20, "sargasd up")
        logins = []
        for _ in range(a.logins):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            t = time.perf_counter()
            c.request("POST", "/api/v1/login", json.dumps({"user": "bench", "password": pw}),
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            logins.append((time.perf_counter() - t) * 1000)
            assert r.status == 200, r.status
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        anon, auth = [], []
        hdr = {"Authorization": "Bearer " + token}
        for i in range(a.requests):
            for h, out in (({}, anon), (hdr, auth)) if i % 2 else ((hdr, auth), ({}, anon)):
                t = time.perf_counter()
                c.request("GET", "/api/v1/session", headers=h)
                r = c.getresponse()
                r.read()
                out.append((time.perf_counter() - t) * 1e6)
        an, au = statistics.median(anon), statistics.median(auth)
        print("RESULT auth login_ms_p50=%.1f login_ms_max=%.1f request_us_anon_p50=%.0f request_us_auth_p50=%.0f "
              "auth_overhead_us=%.0f" % (statistics.median(logins), max(logins), an, au, au - an))
    finally:
        daemon.terminate()
        daemon.wait(20)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
