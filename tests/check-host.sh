#!/bin/bash
# Check that tests leave the host as they found it.
#
#   tests/check-host.sh snapshot FILE   record the host's network state in FILE
#   tests/check-host.sh compare FILE    record it again; fail listing what
#                                       differs from FILE
#   tests/check-host.sh leftovers       fail if any ecslocal namespace, link,
#                                       nftables table, mount or process is left
#
# The state is what ecslocal must never change (DESIGN.md, "The network"):
# links, addresses, routes and rules of every table, the nftables ruleset,
# /etc/resolv.conf and /etc/hosts, the namespaces and forwarding sysctls.
# Values that move on their own (packet counters, address lifetimes, route
# expiry) are blanked so only configuration is compared.
set -u
set -o pipefail

PREFIX=ecsl-

die() {
    echo "check-host: $*" >&2
    exit 2
}

# One section: a header, then the command's output (or its error, which is
# as stable as the output when the command is not allowed here).
section() {
    local title=$1
    shift
    echo "### $title"
    "$@" 2>&1 || true
}

# Blank what changes without anyone changing the configuration.
normalize() {
    sed -E \
        -e 's/counter packets [0-9]+ bytes [0-9]+/counter/g' \
        -e 's/(quota .*)used [0-9]+ [a-z]+/\1/g' \
        -e 's/expires [0-9a-z]+/expires -/g' \
        -e 's/valid_lft [^ ]+ preferred_lft [^ ]+/lft -/g' \
        -e 's/ +$//'
}

# Namespaces in name order; "ip netns list" also prints a transient error
# for a namespace deleted while it lists, which is no state.
namespaces() {
    ip netns list 2>/dev/null | sort || true
}

snapshot() {
    {
        section "links" ip -o link show
        section "addresses" ip -o addr show
        section "ipv4 routes (all tables)" ip -4 route show table all
        section "ipv6 routes (all tables)" ip -6 route show table all
        section "ipv4 rules" ip -4 rule show
        section "ipv6 rules" ip -6 rule show
        section "nftables ruleset" nft list ruleset
        section "network namespaces" namespaces
        section "/etc/resolv.conf" cat /etc/resolv.conf
        section "/etc/hosts" cat /etc/hosts
        section "forwarding" sysctl net.ipv4.ip_forward net.ipv4.conf.all.forwarding \
            net.ipv6.conf.all.forwarding
    } | normalize
}

cmd_snapshot() {
    local file=$1
    snapshot >"$file" || die "cannot write $file"
}

cmd_compare() {
    local file=$1 now
    [ -r "$file" ] || die "no snapshot $file"
    now=$(mktemp)
    snapshot >"$now"
    if diff -u --label "before ($file)" --label "after" "$file" "$now" >"$now.diff"; then
        rm -f "$now" "$now.diff"
        echo "check-host: the host is as it was"
        return 0
    fi
    echo "check-host: the host changed (- before, + after):"
    sed 's/^/    /' "$now.diff"
    rm -f "$now" "$now.diff"
    return 1
}

cmd_leftovers() {
    local found=0 out
    out=$(ip netns list 2>/dev/null | grep -E "^$PREFIX" || true)
    [ -n "$out" ] && { echo "leftover namespaces:"; echo "$out" | sed 's/^/    /'; found=1; }
    out=$(ip -o link show 2>/dev/null | grep -E "^[0-9]+: $PREFIX" || true)
    [ -n "$out" ] && { echo "leftover links:"; echo "$out" | sed 's/^/    /'; found=1; }
    out=$(nft list tables 2>/dev/null | grep -E " (${PREFIX}|ecslocal)" || true)
    [ -n "$out" ] && { echo "leftover nftables tables:"; echo "$out" | sed 's/^/    /'; found=1; }
    out=$(grep -E "/$PREFIX|/ecslocal-task" /proc/self/mountinfo 2>/dev/null || true)
    [ -n "$out" ] && { echo "leftover mounts:"; echo "$out" | sed 's/^/    /'; found=1; }
    out=$(pgrep -a -x ecslocal 2>/dev/null || true)
    [ -n "$out" ] && { echo "leftover ecslocal processes:"; echo "$out" | sed 's/^/    /'; found=1; }
    if [ "$found" -eq 0 ]; then
        echo "check-host: nothing of ecslocal's is left"
        return 0
    fi
    echo "check-host: ecslocal left the above behind"
    return 1
}

case "${1:-}" in
snapshot) [ $# -eq 2 ] || die "usage: $0 snapshot FILE"; cmd_snapshot "$2" ;;
compare) [ $# -eq 2 ] || die "usage: $0 compare FILE"; cmd_compare "$2" ;;
leftovers) [ $# -eq 1 ] || die "usage: $0 leftovers"; cmd_leftovers ;;
*) die "usage: $0 snapshot FILE | compare FILE | leftovers" ;;
esac
