#!/bin/sh
# Tests of the task supervisor and the placeholder server (server/shim.c,
# server/placeholder.c).  Run as root: they create namespaces.
#
#   ECSLOCAL_BIN=build/release/ecslocal tests/shim/run.sh [pytest args]
#
# ECSLOCAL_BIN is any binary with the `shim` and `placeholder` subcommands.
# Without it, tests/shim/driver.c is linked against ECSL_LIB (default
# build/release/libecsl.a; a path under */asan/* links the sanitizers too)
# into a temporary directory.  Nothing else is built.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /tmp/ecsl-shimtest-bin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -z "${ECSLOCAL_BIN:-}" ]; then
    lib=${ECSL_LIB:-$root/build/release/libecsl.a}
    san=
    case "$lib" in */asan/*) san="-fsanitize=address,undefined -fno-omit-frame-pointer" ;; esac
    # shellcheck disable=SC2086,SC2046 # lists of objects and flags split on purpose
    ${CC:-cc} -std=c17 -D_GNU_SOURCE -O1 -g $san $(pkg-config --cflags jansson) \
        -o "$tmp/ecsl-shim-driver" "$here/driver.c" $lib $(pkg-config --libs jansson) -lm
    ECSLOCAL_BIN=$tmp/ecsl-shim-driver
fi
export ECSLOCAL_BIN
rc=0
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$here/test_shim.py" "$@" || rc=$?
exit $rc
