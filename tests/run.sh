#!/bin/bash
# Everything a change must pass (`make test`; CI runs it through .ci/run on
# a fresh Debian 12 machine as root, after tests/install-deps.sh):
#
#   build     release and ASan/UBSan builds, with their unit test binaries
#   unit      C unit tests under both builds
#   fuzz      every libFuzzer target for a bounded time (FUZZ_SECONDS, 20)
#   e2e       the end-to-end suite against the ASan/UBSan build; any
#             sanitizer report fails it
#   smoke     the release build: the README walkthrough when it exists
#             (fixtures/walkthrough.sh), else a short CLI round trip
#   host      the host's network state is as before, nothing of ecslocal's
#             is left (tests/check-host.sh)
#
# Every stage runs even when an earlier one failed (except that nothing runs
# without a build), and a timing summary ends the output.
#
# Environment: B (build directory, default build), JOBS (default nproc),
# FUZZ_SECONDS, E2E_TIMEOUT (seconds, default 1200), PYTEST_ARGS for the
# e2e suite (e.g. "-k vpc"), and TEST_STAGES to run only some stages
# (default "unit fuzz e2e smoke host"; the build always runs).
#
# What a failure leaves to look at is in $B/test-logs: the sanitizer
# reports, the host snapshot, the smoke server's log.
set -u
set -o pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

B=${B:-build}
export B                # tests/fuzz/run.sh builds into $B/fuzz
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
E2E_TIMEOUT=${E2E_TIMEOUT:-1200}
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
export AWS_CLI

TEST_STAGES=${TEST_STAGES:-unit fuzz e2e smoke host}
case $B in
/*) BDIR=$B ;;
*) BDIR=$ROOT/$B ;;
esac
WORK=$BDIR/test-logs
SANLOG=$WORK/sanitizers
rm -rf "$WORK"
mkdir -p "$SANLOG"

STAGES=()
RESULTS=()
TIMES=()
FAILED=0
RUN_START=$(date +%s)

# stage NAME COMMAND...: run a stage, record its status and duration.
stage() {
    local name=$1 start rc
    shift
    echo
    echo "=== $name"
    start=$(date +%s)
    "$@"
    rc=$?
    STAGES+=("$name")
    TIMES+=($(($(date +%s) - start)))
    if [ "$rc" -eq 0 ]; then
        RESULTS+=("ok")
    else
        RESULTS+=("FAILED")
        FAILED=1
        echo "=== $name: FAILED"
    fi
    return "$rc"
}

summary() {
    echo
    echo "=== summary"
    for i in "${!STAGES[@]}"; do
        printf '  %-8s %-7s %4ss\n' "${STAGES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
    done
    printf '  %-8s %-7s %4ss\n' total "$([ "$FAILED" -eq 0 ] && echo ok || echo FAILED)" \
        $(($(date +%s) - RUN_START))
}

wanted() {
    case " $TEST_STAGES " in *" $1 "*) return 0 ;; esac
    return 1
}

build() {
    make -j"$JOBS" B="$B" "$B/release/ecslocal" "$B/release/unit_tests" \
        "$B/asan/ecslocal" "$B/asan/unit_tests"
}

unit() {
    local rc=0
    echo "--- release"
    "$B/release/unit_tests" || rc=1
    echo "--- asan/ubsan"
    ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$B/asan/unit_tests" || rc=1
    return "$rc"
}

fuzz() {
    tests/fuzz/run.sh "$FUZZ_SECONDS"
}

# Sanitizer reports of every ASan/UBSan process the e2e suite starts (the
# servers and anything they spawn) go to files named after their pid, so a
# report fails the run even when no test notices the process died.  The
# harness can attribute them to a test through ECSLOCAL_SANITIZER_LOG_DIR.
sanitizer_reports() {
    local f reports=0
    for f in $(find "$SANLOG" -type f 2>/dev/null | sort); do
        if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$f"; then
            [ "$reports" -eq 0 ] && echo "sanitizer reports from the ASan/UBSan build ($SANLOG):"
            reports=$((reports + 1))
            echo "--- $f"
            head -80 "$f"
        else
            # Not a report: e.g. LeakSanitizer failing to stop a thread
            # that was exiting ("Unable to get registers from thread").
            echo "sanitizer note ($f): $(head -c 300 "$f")"
        fi
    done
    [ "$reports" -eq 0 ]
}

e2e() {
    local rc=0
    # shellcheck disable=SC2086
    ECSLOCAL_BIN="$BDIR/asan/ecslocal" \
    ECSLOCAL_SANITIZER_LOG_DIR="$SANLOG" \
    ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$SANLOG/asan" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SANLOG/ubsan" \
        timeout --kill-after=30 "$E2E_TIMEOUT" \
        tests/e2e/run.sh --durations=10 ${PYTEST_ARGS:-} || rc=1
    # Last and alone: `ecslocal cleanup` after a kill -9 removes every
    # ecslocal object on the machine, so nothing else may run meanwhile.
    ECSLOCAL_EXCLUSIVE=1 \
    ECSLOCAL_BIN="$BDIR/asan/ecslocal" \
    ECSLOCAL_SANITIZER_LOG_DIR="$SANLOG" \
    ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$SANLOG/asan" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SANLOG/ubsan" \
        timeout --kill-after=30 300 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        tests/e2e/test_host_safety.py -k cleanup_after_kill9 || rc=1
    sanitizer_reports || rc=1
    return "$rc"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The release build as a user meets it: start it, use it with the CLI,
# reset it, stop it with SIGTERM and expect a clean exit.  A subshell, so what it
# exports stays here.
smoke() (
    rc=0
    port=$(free_port)
    dns=$(free_port)
    log=$WORK/smoke.log
    endpoint="http://127.0.0.1:$port"
    "$B/release/ecslocal" serve --listen "127.0.0.1:$port" --dns-listen "127.0.0.1:$dns" \
        --data-dir "$WORK/smoke-data" >"$log" 2>&1 &
    pid=$!
    up=0
    for _ in $(seq 1 300); do
        if "$B/release/ecslocal" status --endpoint "$endpoint" >/dev/null 2>&1; then
            up=1
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$up" -ne 1 ]; then
        echo "smoke: ecslocal did not come up:"
        cat "$log"
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        exit 1
    fi
    # ENDPOINT and ECSLOCAL are what fixtures/walkthrough.sh reads.
    export ENDPOINT=$endpoint ECSLOCAL="$BDIR/release/ecslocal" \
        ECSLOCAL_ENDPOINT=$endpoint AWS_ENDPOINT_URL=$endpoint \
        ECSLOCAL_BIN="$BDIR/release/ecslocal" \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
        AWS_REGION=us-east-1 AWS_PAGER="" AWS_CONFIG_FILE=/dev/null \
        AWS_SHARED_CREDENTIALS_FILE=/dev/null
    if [ -x fixtures/walkthrough.sh ]; then
        echo "--- fixtures/walkthrough.sh against $endpoint"
        timeout 300 fixtures/walkthrough.sh || rc=1
    else
        echo "--- no fixtures/walkthrough.sh yet: a CLI round trip against $endpoint"
        smoke_cli "$endpoint" || rc=1
    fi
    # Tasks outlive the server by design: tear everything down first.
    if ! "$B/release/ecslocal" reset --endpoint "$endpoint" >/dev/null; then
        echo "smoke: ecslocal reset failed"
        rc=1
    fi
    kill -TERM "$pid"
    if ! wait "$pid"; then
        echo "smoke: ecslocal did not exit cleanly on SIGTERM"
        rc=1
    fi
    if [ "$rc" -ne 0 ]; then
        echo "--- server log"
        tail -50 "$log"
    fi
    exit "$rc"
)

smoke_cli() {
    local endpoint=$1 account vpc found
    local aws=("$AWS_CLI" --endpoint-url "$endpoint" --output text)
    account=$("${aws[@]}" sts get-caller-identity --query Account) || return 1
    [ "$account" = "000000000000" ] || { echo "smoke: account is '$account'"; return 1; }
    vpc=$("${aws[@]}" ec2 create-vpc --cidr-block 10.42.0.0/16 --query Vpc.VpcId) || return 1
    found=$("${aws[@]}" ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock') ||
        return 1
    [ "$found" = "10.42.0.0/16" ] || { echo "smoke: describe-vpcs says '$found'"; return 1; }
    "${aws[@]}" ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.42.1.0/24 >/dev/null ||
        return 1
    found=$("${aws[@]}" ec2 describe-vpcs --filters Name=is-default,Values=true \
        --query 'Vpcs[0].CidrBlock') || return 1
    [ "$found" = "172.31.0.0/16" ] || { echo "smoke: default VPC is '$found'"; return 1; }
    "$B/release/ecslocal" status --endpoint "$endpoint" >/dev/null || return 1
    echo "smoke: CLI round trip ok ($vpc)"
}

host_check() {
    local rc=0
    tests/check-host.sh compare "$WORK/host.before" || rc=1
    tests/check-host.sh leftovers || rc=1
    return "$rc"
}

echo "ecslocal tests: B=$B, $JOBS jobs, fuzz ${FUZZ_SECONDS}s per target"
if ! tests/check-host.sh leftovers >/dev/null 2>&1; then
    echo "warning: ecslocal objects or processes exist before the tests started:"
    tests/check-host.sh leftovers
fi

if ! stage build build; then
    summary
    exit 1
fi
wanted unit && stage unit unit
wanted fuzz && stage fuzz fuzz
tests/check-host.sh snapshot "$WORK/host.before"
wanted e2e && stage e2e e2e
wanted smoke && stage smoke smoke
wanted host && stage host host_check
summary
echo "logs: $WORK"
exit "$FAILED"
