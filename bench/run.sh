#!/usr/bin/env bash
# bench/run.sh: `make bench`.  Measures ecslocal and, when moto_server is
# installed, moto side by side, and prints a Markdown table (also written to
# bench/results/latest.json).  A measurement, never a test: it fails only
# when it cannot measure, never because a number is bad.
#
# Each phase is a program in bench/phases/ (NN_name.py, run in name order)
# that starts its own servers, measures, and writes one JSON document to
# $BENCH_OUT (format in bench/lib.py).  A phase whose operations a server
# does not emulate yet records a skip with the server's NotImplemented
# message instead of numbers, so later phases can land before the features
# they measure.
#
# Environment:
#   ECSLOCAL_BIN   binary to measure (default build/release/ecslocal)
#   MOTO_BIN       moto_server to compare with (default: found on PATH;
#                  BENCH_NO_MOTO=1 leaves moto out)
#   BENCH_PHASES   space-separated phase names to run (default: all), e.g.
#                  "startup api_mix"
#   BENCH_RESULTS  where to write the JSON (default bench/results/latest.json)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${BENCH_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3

ECSLOCAL_BIN=${ECSLOCAL_BIN:-build/release/ecslocal}
case $ECSLOCAL_BIN in /*) ;; *) ECSLOCAL_BIN=$ROOT/$ECSLOCAL_BIN ;; esac
if [ ! -x "$ECSLOCAL_BIN" ]; then
    echo "bench: $ECSLOCAL_BIN is not built (make, or set ECSLOCAL_BIN)" >&2
    exit 2
fi

# moto_server as installed; behind a pyenv shim, the real script, so the
# start-up time is moto's own and the measured process is python itself.
MOTO_BIN=${MOTO_BIN:-}
if [ -z "$MOTO_BIN" ] && [ -z "${BENCH_NO_MOTO:-}" ] && command -v moto_server >/dev/null; then
    MOTO_BIN=$(command -v moto_server)
    if command -v pyenv >/dev/null && [[ $MOTO_BIN == */shims/* ]]; then
        MOTO_BIN=$(pyenv which moto_server 2>/dev/null || echo "$MOTO_BIN")
    fi
fi
[ -n "${BENCH_NO_MOTO:-}" ] && MOTO_BIN=

WORK=$(mktemp -d /tmp/ecsl-bench.XXXXXX)
# Servers are stopped by the phases that start them, and get SIGKILL from
# the kernel if their phase dies first (PR_SET_PDEATHSIG), so only the
# scratch directory is left to remove.  BENCH_KEEP=1 keeps it (server logs).
cleanup() {
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench: scratch directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# The tools are C so that no interpreter sits in the measured path.
CFLAGS="-O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror"
JANSSON=$(pkg-config --cflags --libs jansson 2>/dev/null || echo -ljansson)
cc $CFLAGS -o "$WORK/load" bench/load.c $JANSSON -lpthread
cc $CFLAGS -o "$WORK/firstreply" bench/firstreply.c
cc $CFLAGS -o "$WORK/netprobe" bench/netprobe.c

export ECSLOCAL_BIN MOTO_BIN
export BENCH_WORK=$WORK BENCH_LOAD=$WORK/load BENCH_FIRSTREPLY=$WORK/firstreply
export BENCH_NETPROBE=$WORK/netprobe

mkdir -p "$WORK/results"
"$PY" bench/report.py --meta "$WORK/meta.json" --begin

echo "bench: ecslocal $("$ECSLOCAL_BIN" --version | awk '{print $2}') ($ECSLOCAL_BIN)" >&2
if [ -n "$MOTO_BIN" ]; then
    echo "bench: moto_server ($MOTO_BIN)" >&2
else
    echo "bench: moto_server not installed (or BENCH_NO_MOTO set): ecslocal only" >&2
fi

start=$(date +%s)
for phase in bench/phases/[0-9]*; do
    file=${phase##*/}
    name=${file%.*}
    name=${name#*_}
    if [ -n "${BENCH_PHASES:-}" ] && [[ " $BENCH_PHASES " != *" $name "* ]]; then
        continue
    fi
    echo "bench: phase $name" >&2
    out="$WORK/results/$file.json"
    case $phase in
        *.py) cmd=("$PY" "$phase") ;;
        *) cmd=("$phase") ;;
    esac
    t0=$(date +%s)
    if ! BENCH_PHASE=$name BENCH_OUT=$out "${cmd[@]}"; then
        # A phase that could not measure is reported, not fatal: the other
        # phases' numbers are still worth printing.
        "$PY" -c 'import json,sys; json.dump({"phase": sys.argv[1], "title": sys.argv[1],
            "error": "the phase failed; see the messages above", "rows": []},
            open(sys.argv[2], "w"))' "$name" "$out"
    fi
    echo "bench: phase $name took $(( $(date +%s) - t0 )) s" >&2
done
echo "bench: all phases took $(( $(date +%s) - start )) s" >&2

RESULTS=${BENCH_RESULTS:-bench/results/latest.json}
mkdir -p "$(dirname "$RESULTS")"
"$PY" bench/report.py --meta "$WORK/meta.json" --end --json "$RESULTS" \
    "$WORK"/results/[0-9]*.json
