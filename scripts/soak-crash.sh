#!/bin/sh
# Crash soak: the kill -9 test of `make test` (20 kills) run with many more kills.
#   scripts/soak-crash.sh [KILLS] [BUILD_DIR]      default 200 kills, build/
# Each kill lands at a random moment; afterwards every segment must play end to end, the
# catalog and the disk must agree, and no crash may lose more than one GOP of received video.
# SG_SEED=N repeats a run's kill timings.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kills=${1:-200}
build=$(cd "${2:-$here/build}" && pwd)
SG_CRASHES=$kills SG_BUILD=$build SG_SOURCE=$here exec python3 "$here/tests/integration/test_crash.py"
