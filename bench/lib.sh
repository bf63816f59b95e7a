# bench/lib.sh: the process helpers that bench/record.sh and bench/motion.sh share. Sourced
# after the script has set BENCH (its name, for messages), SOURCE (the checkout), TMP (its
# work directory), KEEP (1: leave TMP behind), STARTED (every PID it started, and only those)
# and STOP_LIMIT (how long cleanup gives them to stop, in seconds). Installs the EXIT, INT
# and TERM traps.

NAP=

# sleep that a signal interrupts at once (bash runs traps only between commands)
nap() {
    sleep "$1" &
    NAP=$!
    wait "$NAP"
    NAP=
}

# Stops the given PIDs (ours): SIGTERM, up to $2 s, then SIGKILL.
stop_pids() {
    local pids=$1 limit=$2 p alive
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 $((limit * 10))); do
        alive=
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for p in $pids; do
        if kill -0 "$p" 2>/dev/null; then
            echo "$BENCH: PID $p did not stop within $limit s; killing it" >&2
            kill -KILL "$p" 2>/dev/null
        fi
    done
    for p in $pids; do wait "$p" 2>/dev/null; done
}

cleanup() {
    trap - EXIT INT TERM
    [ -n "$NAP" ] && kill "$NAP" 2>/dev/null
    [ -n "$STARTED" ] && stop_pids "$STARTED" "$STOP_LIMIT"
    if [ "$KEEP" = 1 ]; then
        echo "# kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
    echo "$BENCH: $*" >&2
    exit 1
}

# Samples CPU and memory of the PIDs into $TMP/samples.jsonl under LABEL.
sample() { # LABEL PID...
    python3 "$SOURCE/bench/record_measure.py" sample "$TMP/samples.jsonl" "$@" || die "sampling failed"
}
