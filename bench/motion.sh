#!/usr/bin/env bash
# bench/motion.sh: what motion analysis costs, sargasd against Debian's motion daemon.
#
#   bench/motion.sh --cameras N --seconds S [--sub-fps F] [--sub-rate R] [--warmup W] [--keyframes-only]
#                   [--quality | --quality-only] [--quality-batch B] [--sargas-only] [--keep]
#
# 1. starts sargas-replaycam with N cameras, each a main stream (1080p25, ~4 Mbit/s) and a
#    sub stream (640x360 at R frames/s: 25, or gen-media's sub.h264 re-encoded at R, e.g.
#    10); with --keyframes-only the main stream alone;
# 2. sargasd records the main streams and analyses the sub streams at F frames/s
#    (motion_fps, default 5; with --keyframes-only the main streams' keyframes): after a
#    warm-up of W s (default 10) it measures S s: CPU from /proc/PID/stat utime+stime, RSS
#    from VmRSS at the end; then the same with recording only (motion = false);
# 3. Debian's motion on the same feeds configured the same way (netcam_url = the sub
#    stream, netcam_high_url = the main stream, movies of it in passthrough, framerate F;
#    with --keyframes-only netcam_url = the main stream), measured the same way; skipped
#    with --sargas-only (for fleets motion cannot take);
# 4. counts the frames missing from sargasd's recordings in its window with analysis (SEI
#    counters, as bench/record.sh does) and its 'analysis behind' warnings (frames dropped
#    up to a keyframe), and decodes the analysed stream alone with ffmpeg for the decoding
#    share; prints
#    RESULT motion_overhead sargas_record_only_cpu_pct_per_cam=X sargas_analysis_cpu_pct_per_cam=X
#      decode_ref_cpu_pct_per_cam=X analysis_beyond_decoding_cpu_pct_per_cam=X [mode=keyframes]
#    and, last:
#    RESULT motion cameras=N sargas_cpu_pct_per_cam=X motion_cpu_pct_per_cam=X cpu_ratio=X
#      sargas_rss_mb_per_cam=X motion_rss_mb_per_cam=X lost_frames=X analysis_drops=X
#      sub_fps=F sub_rate=R seconds=S [mode=keyframes]
#    CPU is in % of one core per camera (the replay cameras not counted); cpu_ratio =
#    motion / sargasd; sargas_analysis = with analysis minus recording only.
# --quality: also the labelled clips of the motion core's test (bench_motion_core --dump,
#    57 clips) as replay cameras (bench/motion_measure.py: clip timeline, motion's settings,
#    scoring), B at a time (default 19, so that neither system runs short of CPU on two
#    shared cores), through sargasd and then motion, one 100 s loop each; printed before the
#    last line: RESULT motion_quality sargas_recall=X sargas_false_per_hour=X motion_recall=X
#    motion_false_per_hour=X. --quality-only: that alone (no --cameras/--seconds needed).
#
# SG_BENCH_CONFIG: extra sargasd config lines; SG_BENCH_MOTION_CONFIG: a file of extra
# motion.conf lines (e.g. lightswitch_percent 50); SG_BENCH_MOTION_AREA_PERMILLE: motion's
# threshold as a share of each camera's picture (default 4.88 per mille: motion's own 1500
# pixels of 640x480); SG_BENCH_CLIPS: a directory that keeps the encoded clips between runs
# (encoding takes ~3 min of two cores).
# Installs motion through scripts/deps.sh bench; builds nothing: expects build/ (SG_BUILD)
# with sargasd, sargas, sargas-replaycam (and bench_motion_core for --quality) and media/
# (SG_MEDIA_DIR; scripts/gen-media.sh). Works in its own directory under $TMPDIR (or /tmp),
# deleted at the end unless --keep; ports are picked by the kernel. Stops only the
# processes it started. Disk: ~0.5 MB/s per camera for each system's recordings.
set -u

usage() {
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

CAMERAS=
SECS=
FPS=5
SUB_RATE=25
WARMUP=10
MODE=sub
QUALITY=0
BATCH=19
CPU=1
MOTION=1
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --cameras|--seconds|--sub-fps|--sub-rate|--warmup|--quality-batch)
        [ $# -ge 2 ] || usage
        case "$1" in
        --sub-rate) SUB_RATE=$2 ;;
        --quality-batch) BATCH=$2 ;;
        --cameras) CAMERAS=$2 ;;
        --seconds) SECS=$2 ;;
        --sub-fps) FPS=$2 ;;
        --warmup) WARMUP=$2 ;;
        esac
        shift 2 ;;
    --keyframes-only) MODE=keyframes; shift ;;
    --quality) QUALITY=1; shift ;;
    --quality-only) QUALITY=1; CPU=0; shift ;;
    --sargas-only) MOTION=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "motion.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
if [ "$CPU" = 1 ]; then
    for v in "$CAMERAS" "$SECS"; do
        case "$v" in ''|*[!0-9]*) usage ;; esac
    done
    if [ "$CAMERAS" -lt 1 ] || [ "$SECS" -lt 1 ]; then usage; fi
fi
for v in "$FPS" "$SUB_RATE" "$WARMUP" "$BATCH"; do
    case "$v" in ''|*[!0-9]*) usage ;; esac
done
[ "$BATCH" -ge 1 ] || usage
if [ "$FPS" -lt 2 ] || [ "$FPS" -gt 25 ]; then
    echo "motion.sh: --sub-fps must be 2..25 (motion's framerate starts at 2)" >&2
    exit 2
fi
if [ "$SUB_RATE" -lt 1 ] || [ "$SUB_RATE" -gt 25 ] || [ $((1000000 % SUB_RATE)) -ne 0 ]; then
    echo "motion.sh: --sub-rate must be 1..25 and divide 1000000 (25, 20, 10, 8, 5, ...)" >&2
    exit 2
fi

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SG_BUILD:-$SOURCE/build}
MEDIA=${SG_MEDIA_DIR:-$BUILD/media}
MEASURE="$SOURCE/bench/motion_measure.py"
RECORD_MEASURE="$SOURCE/bench/record_measure.py"

"$SOURCE/scripts/deps.sh" bench || { echo "motion.sh: scripts/deps.sh bench failed" >&2; exit 1; }
NEED="sargasd sargas sargas-replaycam"
[ "$QUALITY" = 1 ] && NEED="$NEED bench_motion_core"
for f in $NEED; do
    if [ ! -x "$BUILD/$f" ]; then
        echo "motion.sh: $BUILD/$f missing: build first (cmake -S . -B build && cmake --build build)" >&2
        exit 1
    fi
done
if [ "$CPU" = 1 ] && [ ! -f "$MEDIA/main.h264" ]; then
    echo "motion.sh: $MEDIA/main.h264 missing: run scripts/gen-media.sh $MEDIA" >&2
    exit 1
fi
for c in ffmpeg motion python3; do
    command -v "$c" >/dev/null || { echo "motion.sh: $c not found" >&2; exit 1; }
done
if [ -n "${SG_BENCH_MOTION_CONFIG:-}" ] && [ ! -r "$SG_BENCH_MOTION_CONFIG" ]; then
    echo "motion.sh: SG_BENCH_MOTION_CONFIG: cannot read '$SG_BENCH_MOTION_CONFIG'" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sg-bench-motion.XXXXXX") || exit 1
STARTED=""     # every PID this script started, and only those
RC_PID=
EVENT_GAP=3    # motion's event_gap = sargasd's motion_end_quiet_s (default 3 s)

BENCH=motion.sh
STOP_LIMIT=30
. "$SOURCE/bench/lib.sh"

# Removes $1 from STARTED once stopped.
forget() {
    local p out=""
    for p in $STARTED; do [ "$p" = "$1" ] || out="$out $p"; done
    STARTED=$out
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until UTC time $1 (seconds since the epoch, may be fractional).
wait_until() {
    local left
    left=$(python3 -c "import time; print(max(0.0, $1 - time.time()))")
    nap "$left"
}

# start_replaycam LOG ARGS...: sets RC_PID and URL
start_replaycam() {
    local log=$1 port
    shift
    "$BUILD/sargas-replaycam" --port 0 --bind 127.0.0.1 "$@" >"$log.out" 2>"$log" &
    RC_PID=$!
    STARTED="$STARTED $RC_PID"
    for _ in $(seq 1 600); do
        grep -q '^replaycam: ready' "$log.out" 2>/dev/null && break
        kill -0 "$RC_PID" 2>/dev/null || break
        sleep 0.1
    done
    port=$(sed -n 's|^replaycam: ready rtsp://[^ ]*:\([0-9][0-9]*\)/ .*|\1|p' "$log.out")
    [ -n "$port" ] || die "sargas-replaycam did not start: $(tail -3 "$log")"
    URL="rtsp://127.0.0.1:$port"
}

stop_replaycam() {
    stop_pids "$RC_PID" 20
    forget "$RC_PID"
    RC_PID=
}

# sargas_conf DIR ANALYSE(true|false): writes DIR/sargas.conf
sargas_conf() {
    mkdir -p "$1"
    cat >"$1/sargas.conf" <<EOF
storage_root = $1/media
catalog = $1/catalog.db
key_dir = $1/keys
listen = 127.0.0.1:$(free_port)
segment_seconds = 60
storage_min_free = 1G
log_level = warn
motion = $2
motion_fps = $FPS
${SG_BENCH_CONFIG:-}
EOF
}

# waits up to $2 s more until sargasd (config $1) has $3 cameras online; prints how many
wait_online() {
    local online extra=0
    online=$(python3 "$RECORD_MEASURE" online "$1" "$BUILD" 2>/dev/null || echo "?")
    while [ "$online" != "$3" ] && [ "$extra" -lt "$2" ]; do
        sleep 1
        extra=$((extra + 1))
        online=$(python3 "$RECORD_MEASURE" online "$1" "$BUILD" 2>/dev/null || echo "?")
    done
    [ "$extra" -gt 0 ] && echo "# waited $extra s more: $online of $3 cameras online" >&2
    echo "$online"
}

# sargas_phase LABEL ANALYSE: records (and analyses) the N replay cameras, measured
sargas_phase() {
    local label=$1 dir="$TMP/$1" pid k sub
    sargas_conf "$dir" "$2"
    for k in $(seq 1 "$CAMERAS"); do
        sub=()
        [ "$MODE" = sub ] && sub=(--sub "$URL/cam$k/sub")
        "$BUILD/sargas" --config "$dir/sargas.conf" camera add --name "cam$k" --main "$URL/cam$k/main" \
            "${sub[@]}" >/dev/null || die "camera add failed"
    done
    "$BUILD/sargasd" --config "$dir/sargas.conf" >"$dir/sargasd.log" 2>&1 &
    pid=$!
    STARTED="$STARTED $pid"
    echo "sargasd ($label): $CAMERAS cameras, motion = $2; warm-up $WARMUP s, then $SECS s measured"
    nap "$WARMUP"
    kill -0 "$pid" 2>/dev/null || die "sargasd exited: $(tail -5 "$dir/sargasd.log")"
    wait_online "$dir/sargas.conf" 30 "$CAMERAS" >/dev/null
    sample "$label-t0" "$pid" "$RC_PID"
    nap "$SECS"
    sample "$label-t1" "$pid" "$RC_PID"
    sleep 1 # frames sent just before the end of the window reach the recorder
    kill -0 "$pid" 2>/dev/null || die "sargasd exited during the window: $(tail -5 "$dir/sargasd.log")"
    stop_pids "$pid" 60
    forget "$pid"
    grep -E 'error|ERROR' "$dir/sargasd.log" | head -5 | sed "s/^/sargasd ($label) log: /"
}

# motion_start DIR EXPECTED_CONNECTIONS LIMIT_S: starts motion on DIR/motion.conf, waits
# until its log shows the connections; sets MOTION_PID
motion_start() {
    local dir=$1 n=0
    motion -n -c "$dir/motion.conf" -l "$dir/motion.log" >"$dir/motion.out" 2>&1 &
    MOTION_PID=$!
    STARTED="$STARTED $MOTION_PID"
    for _ in $(seq 1 $(($3 * 10))); do
        n=$(grep -c 'Camera (cam[0-9]*) connected' "$dir/motion.log" 2>/dev/null)
        [ "${n:-0}" -ge "$2" ] && break
        kill -0 "$MOTION_PID" 2>/dev/null || die "motion exited: $(tail -5 "$dir/motion.log" "$dir/motion.out")"
        sleep 0.1
    done
    [ "${n:-0}" -ge "$2" ] || echo "# motion: $n of $2 stream connections after $3 s" >&2
}

motion_phase() {
    local dir="$TMP/motion" extra=() conns=$((CAMERAS * 2))
    [ "$MODE" = keyframes ] && conns=$CAMERAS
    [ -n "${SG_BENCH_MOTION_CONFIG:-}" ] && extra=(--extra "$SG_BENCH_MOTION_CONFIG")
    python3 "$MEASURE" motion-conf --dir "$dir" --url "$URL" --cameras "$CAMERAS" --mode "$MODE" \
        --fps "$FPS" --size "$( [ "$MODE" = sub ] && echo 640x360 || echo 1920x1080)" \
        --event-gap "$EVENT_GAP" "${extra[@]}" || die "writing motion's configuration failed"
    echo "motion: $CAMERAS cameras ($(motion -h 2>&1 | sed -n 's/^motion Version \([^,]*\),.*/\1/p')); warm-up $WARMUP s, then $SECS s measured"
    motion_start "$dir" "$conns" $((WARMUP + 30))
    nap "$WARMUP"
    sample motion-t0 "$MOTION_PID" "$RC_PID"
    nap "$SECS"
    sample motion-t1 "$MOTION_PID" "$RC_PID"
    kill -0 "$MOTION_PID" 2>/dev/null || die "motion exited during the window: $(tail -5 "$dir/motion.log")"
    stop_pids "$MOTION_PID" 30
    forget "$MOTION_PID"
}

# The systems take turns on successive loops; each starts 12 s before its loop (the end of
# the previous clip loop's still tail: nothing is scored there) and stops 2 s after it.

# quality_sargas_start DIR LOOP CAMS...: sargasd on these clip cameras, to be scored on LOOP
quality_sargas_start() {
    local dir=$1 loop=$2 k kind sub token
    shift 2
    sargas_conf "$dir" true
    for k in "$@"; do
        kind=$(awk -v k="$k" '$1 == k { print $2 }' "$Q/kinds")
        sub=()
        [ "$kind" = sub ] && sub=(--sub "$URL/cam$k/sub")
        "$BUILD/sargas" --config "$dir/sargas.conf" camera add --name "cam$k" \
            --main "$URL/cam$k/main" "${sub[@]}" >/dev/null || die "camera add failed"
    done
    echo "bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" | "$BUILD/sargas" --config "$dir/sargas.conf" \
        user add bench --role admin --password-stdin >/dev/null || die "user add failed"
    token=$("$BUILD/sargas" --config "$dir/sargas.conf" token add bench --name bench 2>/dev/null) \
        || die "token add failed"
    wait_until $((loop - 12))
    "$BUILD/sargasd" --config "$dir/sargas.conf" >"$dir/sargasd.log" 2>&1 &
    RUN_PID=$!
    STARTED="$STARTED $RUN_PID"
    python3 "$MEASURE" zones --manifest "$CLIPS/manifest.json" \
        --port "$(sed -n 's/^listen = 127.0.0.1:\([0-9]*\)$/\1/p' "$dir/sargas.conf")" \
        --token "$token" --config "$dir/sargas.conf" --build "$BUILD" >/dev/null \
        || die "giving sargasd the masks failed: $(tail -3 "$dir/sargasd.log")"
    echo "quality: sargasd on clip cameras $1..${!#}, scored on the loop from $(date -u -d "@$loop" +%H:%M:%S) UTC"
    RUN_LINE=$(printf '{"system": "sargas", "loop": %d, "config": "%s", "log": "%s", "cams": [%s]}' "$loop" \
        "$dir/sargas.conf" "$dir/sargasd.log" "$(echo "$@" | tr ' ' ',')")
    RUN_END=$((loop + 100 + 2))
}

# quality_motion_start DIR LOOP CAMS...: motion on these clip cameras, to be scored on LOOP
quality_motion_start() {
    local dir=$1 loop=$2 extra=() conns
    shift 2
    mkdir -p "$dir"
    # motion runs its event hooks through /bin/sh: each appends 'start|end CAMERA UTC'
    # shellcheck disable=SC2016 # expanded by the hook's shell, not here
    printf '#!/bin/sh\necho "$1 $2 $(date +%%s.%%N)" >> %s\n' "$dir/events.txt" >"$dir/hook"
    chmod +x "$dir/hook"
    [ -n "${SG_BENCH_MOTION_CONFIG:-}" ] && extra=(--extra "$SG_BENCH_MOTION_CONFIG")
    python3 "$MEASURE" motion-conf --dir "$dir" --url "$URL" --manifest "$CLIPS/manifest.json" \
        --only "$(echo "$@" | tr ' ' ',')" --fps "$FPS" --event-gap "$EVENT_GAP" --hook "$dir/hook" \
        "${extra[@]}" || die "writing motion's configuration failed"
    conns=$(for k in "$@"; do awk -v k="$k" '$1 == k { print $2 == "sub" ? 2 : 1 }' "$Q/kinds"; done \
        | awk '{ n += $1 } END { print n }')
    wait_until $((loop - 12))
    motion_start "$dir" "$conns" 10
    RUN_PID=$MOTION_PID
    echo "quality: motion on clip cameras $1..${!#}, scored on the loop from $(date -u -d "@$loop" +%H:%M:%S) UTC"
    RUN_LINE=$(printf '{"system": "motion", "loop": %d, "events": "%s", "log": "%s", "cams": [%s]}' "$loop" \
        "$dir/events.txt" "$dir/motion.log" "$(echo "$@" | tr ' ' ',')")
    RUN_END=$((loop + 100 + 2 + EVENT_GAP))
}

# quality_finish PID END LINE: stops a run at END and books it
quality_finish() {
    wait_until "$2"
    kill -0 "$1" 2>/dev/null || die "a system exited during its loop: $3"
    stop_pids "$1" 60
    forget "$1"
    echo "$3" >>"$Q/runs.jsonl"
}

# --- the labelled clips: in batches of B cameras, sargasd then motion, one loop of each clip
quality_phase() {
    local nq b first last loop sys prev
    Q="$TMP/quality"
    CLIPS=${SG_BENCH_CLIPS:-$Q/clips}
    mkdir -p "$Q"
    if [ ! -f "$CLIPS/manifest.json" ]; then
        echo "quality: writing the labelled clips and encoding them (H.264, 100 s loops)"
        "$BUILD/bench_motion_core" --dump "$Q/dump" >/dev/null || die "bench_motion_core --dump failed"
        python3 "$MEASURE" clips --dump "$Q/dump" --out "$CLIPS" || die "encoding the clips failed"
        rm -rf "$Q/dump"
    fi
    python3 -c 'import json, sys
for c in json.load(open(sys.argv[1]))["clips"]:
    print(c["cam"], "keyframes" if c["keyframes"] else "sub")' "$CLIPS/manifest.json" >"$Q/kinds" \
        || die "reading the clips' manifest failed"
    nq=$(wc -l <"$Q/kinds")
    start_replaycam "$Q/replaycam.log" --cameras "$nq" --clips "$CLIPS"
    b=0
    loop=$(python3 -c 'import time; print(int((time.time() + 20) // 100 + 1) * 100)')
    prev=
    for first in $(seq 1 "$BATCH" "$nq"); do
        b=$((b + 1))
        last=$((first + BATCH - 1))
        [ "$last" -gt "$nq" ] && last=$nq
        for sys in sargas motion; do
            [ "$sys" = motion ] && [ "$MOTION" = 0 ] && continue
            # shellcheck disable=SC2046 # the camera numbers, one word each
            "quality_${sys}_start" "$Q/$sys-$b" "$loop" $(seq "$first" "$last")
            [ -n "$prev" ] && quality_finish "${prev[@]}"
            prev=("$RUN_PID" "$RUN_END" "$RUN_LINE")
            loop=$((loop + 100))
        done
    done
    quality_finish "${prev[@]}"
    stop_replaycam
    python3 "$MEASURE" quality --manifest "$CLIPS/manifest.json" --build "$BUILD" --runs "$Q/runs.jsonl" \
        --event-gap "$EVENT_GAP" --details "$Q/details.txt" >"$Q/result.txt" || die "scoring the clips failed"
    grep -v '^RESULT' "$Q/result.txt"
    echo "quality: per-clip events in $Q/details.txt$([ "$KEEP" = 1 ] || echo ' (--keep keeps it)')"
    grep '^RESULT' "$Q/result.txt" >"$TMP/quality.result"
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$CPU" = 1 ]; then
    CAM_MEDIA=$MEDIA
    if [ "$MODE" = sub ] && [ "$SUB_RATE" != 25 ]; then
        # the sub stream at R frames/s: gen-media's, re-encoded (2 s GOPs, 30 s, same bit rate)
        CAM_MEDIA="$TMP/media-sub$SUB_RATE"
        mkdir -p "$CAM_MEDIA"
        ln -s "$(cd "$MEDIA" && pwd)/main.h264" "$CAM_MEDIA/main.h264"
        ffmpeg -nostdin -hide_banner -loglevel error -f h264 -r 25 -i "$MEDIA/sub.h264" \
            -vf "fps=$SUB_RATE" -frames:v $((30 * SUB_RATE)) -c:v libx264 -preset superfast -bf 0 \
            -b:v 600k -maxrate 600k -bufsize 600k \
            -x264-params "keyint=$((2 * SUB_RATE)):min-keyint=$((2 * SUB_RATE)):scenecut=0:open-gop=0:repeat-headers=1" \
            -f h264 "$CAM_MEDIA/sub.h264" || die "re-encoding the sub stream at $SUB_RATE frames/s failed"
    fi
    # the decoding alone, for the share of analysis beyond it (nothing of ours runs yet)
    if [ "$MODE" = sub ]; then
        python3 "$MEASURE" decode-ref "$CAM_MEDIA/sub.h264" --rate "$SUB_RATE" >"$TMP/decode.json" \
            || die "decode reference failed"
    else
        python3 "$MEASURE" decode-ref "$MEDIA/main.h264" --keyframes >"$TMP/decode.json" \
            || die "decode reference failed"
    fi
    STREAMS=both
    [ "$MODE" = keyframes ] && STREAMS=main
    start_replaycam "$TMP/replaycam.log" --cameras "$CAMERAS" --streams "$STREAMS" --media "$CAM_MEDIA" \
        --sub-rate "$SUB_RATE"
    sargas_phase sargas true
    sargas_phase record false
    [ "$MOTION" = 1 ] && motion_phase
    stop_replaycam
    grep '^replaycam: ' "$TMP/replaycam.log.out" | grep -v ' ready '
fi
[ "$QUALITY" = 1 ] && quality_phase
if [ "$CPU" = 1 ]; then
    margs=()
    [ "$MOTION" = 1 ] && margs=(--motion-log "$TMP/motion/motion.log")
    [ "$QUALITY" = 1 ] && margs+=(--quality-line "$TMP/quality.result")
    python3 "$MEASURE" report --samples "$TMP/samples.jsonl" --cameras "$CAMERAS" --seconds "$SECS" \
        --mode "$MODE" --fps "$FPS" --sub-rate "$SUB_RATE" --build "$BUILD" --source "$SOURCE" \
        --config "$TMP/sargas/sargas.conf" --sargas-log "$TMP/sargas/sargasd.log" \
        --decode-ref "$TMP/decode.json" --replaycam-log "$TMP/replaycam.log" "${margs[@]}" \
        || die "measuring failed"
else
    cat "$TMP/quality.result"
fi
