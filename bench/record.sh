#!/usr/bin/env bash
# bench/record.sh: what recording N cameras costs, sargasd against ffmpeg.
#
#   bench/record.sh --cameras N --seconds S [--warmup W] [--ffmpeg-max M] [--keep]
#
# 1. starts sargas-replaycam with N cameras (main streams, 1080p ~4 Mbit/s);
# 2. records all N with sargasd (motion analysis off: the peer only records; bench/motion.sh
#    measures analysis); after a warm-up of W s (default 10) measures
#    S s: CPU from /proc/PID/stat utime+stime, RSS from VmRSS at the end;
#    then stops sargasd;
# 3. records min(N, M) of the same cameras (M default 64: an ffmpeg takes
#    ~53 MB RSS) with one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment`
#    per camera, measured the same way (warm-up W s, then S s);
# 4. counts the frames sargasd's recordings miss in its window (SEI counters
#    and video-loss intervals; see bench/record_measure.py) and prints, last:
#    RESULT record cameras=N seconds=S sargas_cpu_pct_per_cam=X
#      sargas_rss_mb_per_cam=X ffmpeg_cpu_pct_per_cam=X ffmpeg_rss_mb_per_cam=X
#      cpu_ratio=X lost_frames=X
#    CPU is in % of one core per camera; the replay cameras are not counted.
#
# SG_BENCH_CONFIG: extra sargasd config lines, e.g. SG_BENCH_CONFIG='ingest_batch_ms = 20'.
# Builds nothing: expects build/ (SG_BUILD) with sargasd, sargas,
# sargas-replaycam and media/ (SG_MEDIA_DIR; scripts/gen-media.sh). Works in
# its own directory under $TMPDIR (or /tmp), deleted at the end unless
# --keep; listens on a port the kernel picks. Stops only the processes it
# started. Disk: sargasd writes ~0.5 MB/s per camera (256 cameras, 120 s:
# ~17 GB), the ffmpeg peers as much again for their cameras.
set -u

usage() {
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

CAMERAS=
SECS=
WARMUP=10
FFMPEG_MAX=64
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --cameras|--seconds|--warmup|--ffmpeg-max)
        [ $# -ge 2 ] || usage
        case "$1" in
        --cameras) CAMERAS=$2 ;;
        --seconds) SECS=$2 ;;
        --warmup) WARMUP=$2 ;;
        --ffmpeg-max) FFMPEG_MAX=$2 ;;
        esac
        shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "record.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
for v in "$CAMERAS" "$SECS" "$WARMUP" "$FFMPEG_MAX"; do
    case "$v" in ''|*[!0-9]*) usage ;; esac
done
if [ "$CAMERAS" -lt 1 ] || [ "$SECS" -lt 1 ] || [ "$FFMPEG_MAX" -lt 1 ]; then
    usage
fi

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SG_BUILD:-$SOURCE/build}
MEDIA=${SG_MEDIA_DIR:-$BUILD/media}
MEASURE="$SOURCE/bench/record_measure.py"
for f in sargasd sargas sargas-replaycam; do
    if [ ! -x "$BUILD/$f" ]; then
        echo "record.sh: $BUILD/$f missing: build first (cmake -S . -B build && cmake --build build)" >&2
        exit 1
    fi
done
if [ ! -f "$MEDIA/main.h264" ]; then
    echo "record.sh: $MEDIA/main.h264 missing: run scripts/gen-media.sh $MEDIA" >&2
    exit 1
fi
command -v ffmpeg >/dev/null || { echo "record.sh: ffmpeg not found" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sg-bench-record.XXXXXX") || exit 1
STARTED=""     # every PID this script started, and only those
RC_PID=
SG_PID=
FF_PIDS=""

BENCH=record.sh
STOP_LIMIT=20
. "$SOURCE/bench/lib.sh"

# --- the replay cameras
"$BUILD/sargas-replaycam" --cameras "$CAMERAS" --port 0 --bind 127.0.0.1 --streams main \
    --media "$MEDIA" >"$TMP/replaycam.out" 2>"$TMP/replaycam.log" &
RC_PID=$!
STARTED="$RC_PID"
for _ in $(seq 1 100); do
    grep -q '^replaycam: ready' "$TMP/replaycam.out" 2>/dev/null && break
    kill -0 "$RC_PID" 2>/dev/null || break
    sleep 0.1
done
PORT=$(sed -n 's|^replaycam: ready rtsp://[^ ]*:\([0-9][0-9]*\)/ .*|\1|p' "$TMP/replaycam.out")
[ -n "$PORT" ] || die "sargas-replaycam did not start: $(tail -3 "$TMP/replaycam.log")"
URL="rtsp://127.0.0.1:$PORT"

# --- sargasd
CONF="$TMP/sargas.conf"
cat >"$CONF" <<EOF
storage_root = $TMP/media
catalog = $TMP/catalog.db
segment_seconds = 60
storage_min_free = 1G
log_level = warn
motion = false
${SG_BENCH_CONFIG:-}
EOF
for k in $(seq 1 "$CAMERAS"); do
    "$BUILD/sargas" --config "$CONF" camera add --name "cam$k" --main "$URL/cam$k/main" \
        >/dev/null || die "camera add failed"
done
"$BUILD/sargasd" --config "$CONF" >"$TMP/sargasd.log" 2>&1 &
SG_PID=$!
STARTED="$STARTED $SG_PID"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(uname -r)"
echo "sargasd: recording $CAMERAS replay cameras ($URL/camK/main); warm-up $WARMUP s, then $SECS s measured"
nap "$WARMUP"
kill -0 "$SG_PID" 2>/dev/null || die "sargasd exited: $(tail -5 "$TMP/sargasd.log")"
ONLINE=$(python3 "$MEASURE" online "$CONF" "$BUILD" 2>/dev/null || echo "?")
extra=0
while [ "$ONLINE" != "$CAMERAS" ] && [ "$extra" -lt 30 ]; do
    sleep 1
    extra=$((extra + 1))
    ONLINE=$(python3 "$MEASURE" online "$CONF" "$BUILD" 2>/dev/null || echo "?")
done
[ "$extra" -gt 0 ] && echo "# warm-up extended by $extra s: $ONLINE of $CAMERAS cameras online"
sample sargas-t0 "$SG_PID" "$RC_PID"
nap "$SECS"
sample sargas-t1 "$SG_PID" "$RC_PID"
sleep 1 # frames sent just before the end of the window reach the recorder
kill -0 "$SG_PID" 2>/dev/null || die "sargasd exited during the window: $(tail -5 "$TMP/sargasd.log")"
stop_pids "$SG_PID" 60
STARTED="$RC_PID"
sleep 1 # the replay cameras log the closed connections
RC_SPLIT=$(wc -l <"$TMP/replaycam.log")
grep -E 'error|ERROR' "$TMP/sargasd.log" | head -5 | sed 's/^/sargasd log: /'

# --- the ffmpeg peers
PEERS=$CAMERAS
if [ "$PEERS" -gt "$FFMPEG_MAX" ]; then
    PEERS=$FFMPEG_MAX
    echo "# ffmpeg peers: $PEERS of the $CAMERAS cameras (one ffmpeg takes ~53 MB RSS); per-camera figures are per ffmpeg process"
fi
mkdir -p "$TMP/ffmpeg"
for k in $(seq 1 "$PEERS"); do
    ffmpeg -nostdin -hide_banner -loglevel error -rtsp_transport tcp -i "$URL/cam$k/main" \
        -c copy -f segment -segment_time 60 -segment_format mp4 -reset_timestamps 1 \
        "$TMP/ffmpeg/cam$k-%05d.mp4" 2>"$TMP/ffmpeg/cam$k.log" &
    FF_PIDS="$FF_PIDS $!"
    STARTED="$STARTED $!"
done
echo "ffmpeg: recording $PEERS cameras, one process each; warm-up $WARMUP s, then $SECS s measured"
nap "$WARMUP"
# shellcheck disable=SC2086
sample ffmpeg-t0 "$RC_PID" $FF_PIDS
nap "$SECS"
# shellcheck disable=SC2086
sample ffmpeg-t1 "$RC_PID" $FF_PIDS
stop_pids "$FF_PIDS" 30
STARTED="$RC_PID"
for k in $(seq 1 "$PEERS"); do
    [ -s "$TMP/ffmpeg/cam$k.log" ] && sed "s/^/ffmpeg cam$k: /" "$TMP/ffmpeg/cam$k.log" | head -2
done | head -6

# --- the replay cameras' own account, then the figures
stop_pids "$RC_PID" 20
STARTED=""
grep '^replaycam: ' "$TMP/replaycam.out" | grep -v ' ready '
python3 "$MEASURE" report --samples "$TMP/samples.jsonl" --cameras "$CAMERAS" --seconds "$SECS" \
    --peers "$PEERS" --config "$CONF" --build "$BUILD" --source "$SOURCE" \
    --replaycam-log "$TMP/replaycam.log" --replaycam-split "$RC_SPLIT" --ffmpeg-dir "$TMP/ffmpeg" \
    || die "measuring failed"
