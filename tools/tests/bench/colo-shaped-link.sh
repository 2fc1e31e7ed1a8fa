#!/bin/bash
# The COLO primary's pause over a 1 Gbit/s link: two network namespaces (twohosts.inc)
# whose veth is shaped with tc (tbf, host A's egress: the main stream), `xl remus -c`
# through ssh as a user runs it, once with checkpoints staged (the default) and once
# sent while suspended (LIBXL_CHECKPOINT_STAGING=0), in the same run.  The pauses are
# libxl's per-checkpoint figures ("last downtime"); printed: median, p99, the ratio.
# Needs root (namespaces, tc, sshd).  Usage: colo-shaped-link.sh [memory_mib [rate [seconds]]]
. "$(dirname "$0")/../scripts/twohosts.inc"
MEM=${1:-128}; RATE=${2:-20000}; SECS=${3:-20}
if [ "$(id -u)" != 0 ] || ! command -v tc >/dev/null; then
    echo "colo-shaped-link: skipped (needs root and tc)"; exit 0
fi
setup_hosts >/dev/null
tc -n "$NS_A" qdisc add dev "${TAG}va" root tbf rate 1gbit burst 128kb latency 100ms

# count, median and p99 (nearest rank) of the numbers on stdin, and their sum in s
stats() { sort -n | awk '{ v[NR] = $1; sum += $1 } END {
    if (!NR) { print "none"; exit }
    m = int(0.5 * NR + 0.999999); p = int(0.99 * NR + 0.999999)
    printf "%d %.3f %.3f %.2f\n", NR, v[m], v[p], sum / 1000 }'; }

run() {   # staging(0|1) -> "count median p99"
    local out=$WORK/remus-$1.out pid
    xlA create -q "$(guest_cfg bench divergent "$MEM" "$RATE")"
    # not through onA: the SIGINT that stops xl must reach it, not a subshell
    ip netns exec "$NS_A" env SIMXEN_DIR="$SIM_A" LIBXL_CHECKPOINT_STAGING="$1" \
        "$XL" -vvv remus -c -i 100 -s "ssh -F $SSHCFG" bench hostB >"$out" 2>&1 &
    pid=$!
    sleep "$SECS"
    kill -INT "$pid"
    wait_gone "$pid" 30 || kill -9 "$pid"
    wait "$pid"
    xlA destroy bench >/dev/null 2>&1
    xlB destroy bench--incoming >/dev/null 2>&1; xlB destroy bench >/dev/null 2>&1
    # the first checkpoint is the live migration: its line names no last downtime
    grep -o 'last downtime [0-9.]* ms' "$out" | awk '{ print $3 }' | stats
}
off=$(run 0)
on=$(run 1)
# (the first checkpoint's live migration is part of the SECS s; its pause is not counted)
printf 'colo-link-1gbit guest %6s MiB  %6s writes/s  sent while suspended: pauses %s median %s ms p99 %s ms, suspended %s s of %s s\n' \
    "$MEM" "$RATE" $off "$SECS"
printf 'colo-link-1gbit guest %6s MiB  %6s writes/s  staged:               pauses %s median %s ms p99 %s ms, suspended %s s of %s s\n' \
    "$MEM" "$RATE" $on "$SECS"
awk -v a="$on" -v b="$off" 'BEGIN { split(a, x, " "); split(b, y, " ");
    if (y[2] > 0) printf "colo-link-1gbit staged / sent while suspended: median pause ratio %.2f, p99 ratio %.2f\n",
        x[2] / y[2], x[3] / y[3] }'
