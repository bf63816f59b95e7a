#!/usr/bin/env bash
# bench/seek.sh: seek to any moment of a day of archive, server alone and console in Chromium.
#
#   bench/seek.sh [--samples N] [--hours H] [--source-seconds S] [--warm]
#
# Starts one fake camera and sargasd recording it (main and sub, segment_seconds = 10)
# through tests/browser/run.py; bench/seek.py records S s (default 60), builds H hours
# (default 24) of sub-stream archive ending an hour ago from copies of those files (prft
# moved to each copy's slot, one catalog row each; ~0.27 GB per hour), then for N (default
# 30) random moments measures (a) playlist + init + first fragment from a loopback client
# and (b) the console's seek to the first presented frame in headless Chromium
# (bench/seek.mjs). Page cache dropped for the archive files before each sample unless
# --warm. SG_SEED picks the moments (default 1). Last line:
#   RESULT seek samples=N browser_p95_ms=X server_p95_ms=X
# Target (docs/PERFORMANCE.md): first frame <= 300 ms in the browser.
# The loopback client uses the administrator's API token run.py makes (SARGAS_TOKEN); the
# console signs in with the administrator's password (SARGAS_ADMIN_PASSWORD).
# Builds nothing: expects build/ with sargasd, sargas, sargas-fakecam, web/, media/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$root/tests/browser/run.py" --cameras 1 --record-sub -- \
    python3 "$root/bench/seek.py" "$@"
