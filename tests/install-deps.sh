#!/bin/sh
# Install the Debian packages ecslocal needs to build, run and test,
# only the missing ones.  Runs apt-get as root (or through sudo).
set -e
PKGS="build-essential pkg-config clang libclang-rt-dev
libmicrohttpd-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev libgnutls28-dev
libmnl-dev libnftables-dev libldns-dev
python3 python3-pytest python3-boto3 awscli
iproute2 nftables procps curl diffutils coreutils"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends $missing
