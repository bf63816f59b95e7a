#!/usr/bin/env bash
# bench/viewers.sh: what live viewers cost sargasd, and that nobody loses a frame.
#
#   bench/viewers.sh [--viewers N] [--seconds S] [--warmup W] [--stream sub|main]
#
# Starts 16 fake cameras and sargasd recording their main streams (segment_seconds = 10)
# through tests/browser/run.py; bench/viewers.py measures sargasd's CPU for S s (default 60)
# with no viewer, then for S s with N (default 50) HTTP clients reading live/sub.mp4 of the
# cameras round-robin, and counts lost frames: missing from the recordings in both windows
# plus missing in any viewer's stream. Last line:
#   RESULT viewers n=N cpu_pct_per_viewer=X lost_frames=X
# cpu_pct_per_viewer: (CPU with N - CPU with none) / N, % of one core.
# The viewers send the administrator's API token run.py makes (SARGAS_TOKEN).
# Builds nothing: expects build/ with sargasd, sargas, sargas-fakecam, media/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$root/tests/browser/run.py" --cameras 16 -- python3 "$root/bench/viewers.py" "$@"
