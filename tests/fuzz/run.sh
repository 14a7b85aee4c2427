#!/bin/sh
# Build the libFuzzer targets and run each for a bounded time; fail on any
# crash, sanitizer report, leak, timeout or out-of-memory.
#
#   tests/fuzz/run.sh [SECONDS]      seconds per target (default 20, or
#                                    $FUZZ_SECONDS); 0 only replays the seeds
#   FUZZ_TARGETS="query api" ...     a subset of query json sigv4 api
#
# The build goes to $FUZZ_BUILD, default $B/fuzz (B as for make, default
# build).  Each target starts from its committed seeds
# (tests/fuzz/seeds/<target>) plus what earlier local runs found
# ($FUZZ_BUILD/corpus/<target>, not committed).  A failing input is kept
# under $FUZZ_BUILD/artifacts/; to reproduce and minimise one:
#   build/fuzz/fuzz_<target> <artifact>
#   build/fuzz/fuzz_<target> -minimize_crash=1 -runs=100000 <artifact>
# and add the minimised input to tests/fuzz/seeds/<target>/ once reported.
set -eu
cd "$(dirname "$0")/../.."

SECS=${1:-${FUZZ_SECONDS:-20}}
FB=${FUZZ_BUILD:-${B:-build}/fuzz}
TARGETS=${FUZZ_TARGETS:-query json sigv4 api}
JOBS=$(nproc 2>/dev/null || echo 2)

make -s -f tests/fuzz/fuzz.mk FB="$FB" -j"$JOBS" all

# Sanitizer reports must end the run (the fuzzer reports them as crashes).
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

mkdir -p "$FB/logs" "$FB/artifacts"

# Run one target in the background; its exit status lands in logs/<t>.rc.
start() {
    t=$1
    corpus="$FB/corpus/$t"
    mkdir -p "$corpus"
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    if [ "$SECS" -eq 0 ]; then
        # Replay only: every seed once.
        set -- "$FB/fuzz_$t" -runs=0 -timeout=10 -artifact_prefix="$FB/artifacts/$t-" \
            "tests/fuzz/seeds/$t"
    else
        set -- "$FB/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
            -max_len=8192 -print_final_stats=1 $dict \
            -artifact_prefix="$FB/artifacts/$t-" "$corpus" "tests/fuzz/seeds/$t"
    fi
    ( if "$@" >"$FB/logs/$t.log" 2>&1; then echo 0; else echo $?; fi >"$FB/logs/$t.rc" ) &
}

failed=""
running=0
for t in $TARGETS; do
    [ -x "$FB/fuzz_$t" ] || { echo "fuzz: no target $t" >&2; exit 2; }
    rm -f "$FB/logs/$t.rc"
    start "$t"
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait
        running=0
    fi
done
wait

for t in $TARGETS; do
    rc=$(cat "$FB/logs/$t.rc" 2>/dev/null || echo 99)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$FB/logs/$t.log" | grep -o '[0-9]*$' || true)
    cov=$(grep -o 'cov: [0-9]*' "$FB/logs/$t.log" | tail -1 || true)
    if [ "$rc" -eq 0 ] && [ "$SECS" -eq 0 ]; then
        echo "fuzz $t: ok (seeds replayed, ${cov:-cov: ?})"
    elif [ "$rc" -eq 0 ]; then
        echo "fuzz $t: ok (${runs:-?} runs, ${cov:-cov: ?}, ${SECS}s)"
    else
        echo "fuzz $t: FAILED (exit $rc); log $FB/logs/$t.log"
        grep -E 'ERROR: |SUMMARY: |runtime error|fuzz_api: |Test unit written to|artifact_prefix' \
            "$FB/logs/$t.log" | head -20 | sed 's/^/    /'
        failed="$failed $t"
    fi
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed"; exit 1; }
