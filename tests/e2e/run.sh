#!/bin/sh
# Run the end-to-end tests against $ECSLOCAL_BIN (default: the release build).
set -e
cd "$(dirname "$0")/../.."
export ECSLOCAL_BIN="${ECSLOCAL_BIN:-$PWD/build/release/ecslocal}"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"
