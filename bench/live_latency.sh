#!/usr/bin/env bash
# bench/live_latency.sh: live latency of the console in Chromium, glass to glass against the
# fake cameras' clock.
#
#   bench/live_latency.sh [--seconds S] [--tiles 1,16] [--warmup W] [--no-peer]
#
# Starts 16 fake cameras and sargasd recording them (main and sub) through
# tests/browser/run.py, then bench/live_latency.mjs drives the console in headless
# Chromium (/usr/bin/chromium, or SG_CHROMIUM): for each N in --tiles (default 1, then 16)
# N tiles of one console page (layout 4, 9 or 16; every tile over the console's one
# multiplexed live response) show N cameras' sub streams live; for S seconds (default 60),
# while the page also times GET /api/v1/health once a second, every presented frame
# is caught with requestVideoFrameCallback and its barcode read: latency = display time -
# the time the camera sent that frame (same machine clock). With the 1-tile run, as
# references: plain HLS of the same camera (hls.js defaults) and RTSP arrival straight from
# the camera. Prints per-run statistics and last, per N:
#   RESULT live_latency tiles=N p50_ms=X p95_ms=X
# Targets (docs/PERFORMANCE.md): p50 <= 500 ms, p95 <= 1000 ms.
# The pages sign in as the administrator run.py creates (SARGAS_ADMIN_PASSWORD).
# Builds nothing: expects build/ (SG_BUILD) with sargasd, sargas, sargas-fakecam, web/ and
# media/. Stops only what it started.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$root/tests/browser/run.py" --cameras 16 --record-sub -- \
    node "$root/bench/live_latency.mjs" "$@"
