#!/bin/sh
# Installs the Debian packages Sargas needs, and only those that are missing.
#   scripts/deps.sh build   - to build and run (make, make run)
#   scripts/deps.sh test    - additionally what the test suite needs
#   scripts/deps.sh bench   - additionally the peers the benchmarks compare with (bench/)
# Runs apt-get only when something is missing, so a second call costs nothing.
set -eu

BUILD_PKGS="build-essential cmake pkg-config libsqlite3-dev sqlite3 libjansson-dev libavutil-dev libavcodec-dev
 libavformat-dev libswscale-dev ffmpeg libgstrtspserver-1.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad fonts-dejavu-core
 libmicrohttpd-dev libsodium-dev libmosquitto-dev libarchive-dev libssl-dev"
TEST_PKGS="python3 procps util-linux e2fsprogs clang libclang-rt-14-dev chromium openssl mosquitto mosquitto-clients"
# bench/motion.sh runs Debian's motion daemon on the same feeds as sargasd
BENCH_PKGS="motion"

want="$BUILD_PKGS"
case "${1:-build}" in
    build) ;;
    test) want="$want $TEST_PKGS" ;;
    bench) want="$want $TEST_PKGS $BENCH_PKGS" ;;
    *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$st" in
        ii*) ;;
        *) missing="$missing $p" ;;
    esac
done
# The console's build (scripts/web-build.sh) needs npm. Many machines carry Node from
# nodesource, whose nodejs package already contains npm and conflicts with Debian's npm;
# so install Debian's nodejs and npm only when no npm command exists at all. (Both steps:
# the test step includes everything the build step needs.)
if ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
