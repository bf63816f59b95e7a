#!/bin/bash
# Runs every libFuzzer target of an SG_FUZZ build for a fixed time each.
#   tests/fuzz/run-all.sh BUILD_DIR SECONDS [TARGET...]
# TARGET is one of ALL_TARGETS below (default: all). Each fuzzer starts from
# a copy of its seed corpus (tests/fuzz/corpus/<target>/) in a temporary directory, so the committed
# corpus never grows. Prints one line per target; exits 1 when any fuzzer found a crash, a
# leak, a timeout or a broken invariant (the input is kept as BUILD_DIR/fuzz-artifacts/<target>-*
# and the whole log as BUILD_DIR/fuzz-logs/<target>.log), 2 on usage errors.
# SG_FUZZ_JOBS=N runs N targets at a time (default 1). SG_FUZZ_KEEP=DIR keeps each grown
# corpus as DIR/<target>/ (for coverage reports or minimising into the seeds by hand).
set -u

ALL_TARGETS="rtsp sdp h26x rtp url scan fragindex onvif http auth manifest"

usage() {
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]   (targets: $ALL_TARGETS)" >&2
    exit 2
}

# Longest input per target: a little above the largest input each parser is meant to refuse,
# so the size caps themselves are exercised.
max_len() {
    case $1 in
    rtsp) echo 17408 ;;  # header block cap SG_RTSP_MAX_HEADER is 16384
    sdp)  echo 8192 ;;   # base64 parameter sets up to 2 KiB, a=control up to 1 KiB
    h26x) echo 4096 ;;   # parameter sets up to SG_PS_MAX (1024)
    rtp)  echo 32768 ;;  # four times fuzz_rtp's 8 KiB frame cap
    url)  echo 2048 ;;   # URLs up to 1023 characters
    scan) echo 16384 ;;
    fragindex) echo 16384 ;;
    onvif) echo 16384 ;; # a seed (2 fragments, a 2048-bit signature and certificate) is ~2 KiB
    http) echo 2048 ;;   # paths up to 512 characters are served; longer ones refused
    auth) echo 1100 ;;   # login takes passwords up to 1024 bytes
    manifest) echo 8192 ;;  # the signed seed manifest is about 1.5 KiB
    esac
}

[ $# -ge 2 ] || usage
build=$1
secs=$2
shift 2
case $secs in ''|*[!0-9]*) usage ;; esac
[ "$secs" -gt 0 ] || usage
targets=${*:-$ALL_TARGETS}
for t in $targets; do
    case " $ALL_TARGETS " in *" $t "*) ;; *) echo "$0: unknown target '$t'" >&2; usage ;; esac
done
jobs=${SG_FUZZ_JOBS:-1}
case $jobs in ''|*[!0-9]*|0) echo "$0: SG_FUZZ_JOBS must be a positive number" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
[ -d "$build" ] || { echo "$0: no build directory $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
for t in $targets; do
    if [ ! -x "$build/fuzz_$t" ]; then
        echo "$0: $build/fuzz_$t missing: configure with CC=clang -DSG_FUZZ=ON and build" >&2
        exit 2
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sg-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
artifacts=$build/fuzz-artifacts
logs=$build/fuzz-logs
mkdir -p "$artifacts" "$logs"

# A "stat::NAME: VALUE" line of -print_final_stats from a target's log.
final_stat() {
    sed -n "s/^stat::$2: *//p" "$logs/$1.log" | tail -n 1
}

# Runs one fuzzer and writes its summary line to $work/<target>.result.
run_one() {
    local t=$1 dir=$work/$t rc dict=() execs rate cov ft corp result extra=""
    mkdir -p "$dir/corpus" "$dir/tmp"
    cp "$here/corpus/$t/"* "$dir/corpus/"
    [ -f "$here/$t.dict" ] && dict=("-dict=$here/$t.dict")
    rm -f "$artifacts/$t-"*
    # TMPDIR: fuzz_scan's, fuzz_fragindex's and fuzz_onvif's scratch files and fuzz_manifest's
    # package live (and die) in the work directory.
    TMPDIR=$dir/tmp "$build/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "${dict[@]}" "$dir/corpus" >"$logs/$t.log" 2>&1
    rc=$?
    if [ -n "${SG_FUZZ_KEEP:-}" ]; then
        mkdir -p "$SG_FUZZ_KEEP/$t" && cp "$dir/corpus/"* "$SG_FUZZ_KEEP/$t/"
    fi
    execs=$(final_stat "$t" number_of_executed_units)
    rate=$(final_stat "$t" average_exec_per_sec)
    # libFuzzer prints no final stats after a crash: fall back to its last status line.
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$logs/$t.log" | tail -n 1 | tr -d '#')
    [ -n "$rate" ] && [ "$rate" != 0 ] ||
        rate=$(grep -o 'exec/s: [0-9]*' "$logs/$t.log" | tail -n 1 | cut -d' ' -f2)
    # The last status line: "#N DONE cov: C ft: F corp: U/Sb ..."
    cov=$(grep -o 'cov: [0-9]*' "$logs/$t.log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$logs/$t.log" | tail -n 1 | cut -d' ' -f2)
    corp=$(grep -o 'corp: [0-9]*' "$logs/$t.log" | tail -n 1 | cut -d' ' -f2)
    if [ $rc -eq 0 ] && ! ls "$artifacts/$t-"* >/dev/null 2>&1; then
        result=OK
    else
        result="FAIL(rc=$rc)"
        extra=$(grep -m1 -E '^SUMMARY: |invariant failed|ERROR: libFuzzer' "$logs/$t.log")
        extra="$extra; input: $(ls "$artifacts/$t-"* 2>/dev/null | head -n 1); log: $logs/$t.log"
    fi
    printf '%-10s %-12s execs=%-10s exec/s=%-7s cov=%-5s ft=%-6s corpus=%s%s\n' "fuzz_$t" \
        "$result" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
        "${extra:+ -- $extra}" >"$work/$t.result"
}

echo "fuzzing $targets for ${secs}s each ($jobs at a time); logs in $logs"
set -- $targets
while [ $# -gt 0 ]; do
    batch=""
    for _ in $(seq "$jobs"); do
        [ $# -gt 0 ] || break
        run_one "$1" &
        batch="$batch $1"
        shift
    done
    wait
    for t in $batch; do
        cat "$work/$t.result"
    done
done

failed=0
for t in $targets; do
    grep -q '^fuzz_[a-z0-9]* *OK ' "$work/$t.result" || failed=$((failed + 1))
done
if [ $failed -gt 0 ]; then
    echo "fuzz: $failed target(s) failed; reproduce with: $build/fuzz_TARGET $artifacts/TARGET-..."
    exit 1
fi
echo "fuzz: all targets passed"
