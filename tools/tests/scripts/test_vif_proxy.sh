#!/bin/bash
# colo-vif-proxy on real Linux interfaces, without Xen: three network namespaces stand
# for a client and two guests.  The guests (pvm, svm) have the same address and MAC
# and run the same service (net-echo); each is behind a veth pair whose root-namespace
# end is a port of the proxy, as a guest's vif is in dom0; the client's veth is the
# proxy's uplink.  Checks:
#   1. through the proxy the client's answers are right and in order, the frames
#      matched, no mismatch, and the secondary's ACKs were rewritten (ISNs differ);
#   2. failover to the secondary (SIGUSR1, the primary's service killed) keeps the
#      client's connection: every answer right and in order;
#   3. two guests that answer differently (net-echo -t) make the proxy want a
#      checkpoint (a mismatch);
#   4. a secondary without the service (it resets the client's SYN): the client gets
#      nothing through the proxy, and with --bypass it does (the comparison is what
#      held the primary's answers back).
# Needs root (namespaces, veths).  Frames carry the kernel's offloads (partial
# checksums, TCP segmentation), which the proxy finishes.
set -u
cd "$(dirname "$0")/../../.."
PROXY=$PWD/tools/misc/colo-vif-proxy
ECHO=$PWD/tools/tests/xen/net-echo
CLIENT=$PWD/tools/tests/xen/net-client
T=$(mktemp -d /tmp/vifproxy.XXXXXX)
P=vp$$                                   # a prefix for namespaces and links
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok - $*"; }
bad()  { fail=$((fail+1)); echo "not ok - $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

cleanup() {
    kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
    for n in cli pvm svm; do ip netns pids ${P}$n 2>/dev/null | xargs -r kill -9; ip netns del ${P}$n 2>/dev/null; done
    for l in up pv sv; do ip link del ${P}$l 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then echo "not ok - needs root (network namespaces)"; exit 1; fi
for b in "$PROXY" "$ECHO" "$CLIENT"; do [ -x "$b" ] || { echo "not ok - $b not built"; exit 1; }; done

# cli: 10.98.0.1; pvm, svm: 10.98.0.2 with one MAC, as a guest and its copy
setup() {
    for n in cli pvm svm; do ip netns add ${P}$n || return 1; done
    ip link add ${P}up type veth peer name c0 netns ${P}cli &&
    ip link add ${P}pv type veth peer name g0 netns ${P}pvm &&
    ip link add ${P}sv type veth peer name g0 netns ${P}svm || return 1
    ip -n ${P}cli addr add 10.98.0.1/24 dev c0
    for n in pvm svm; do
        ip -n ${P}$n link set g0 address 02:00:00:98:00:02
        ip -n ${P}$n addr add 10.98.0.2/24 dev g0
        # Two copies' TCP timestamps differ, and the survivor's would then be refused
        # by the client (PAWS); guests made equal at a checkpoint share them.
        ip netns exec ${P}$n sysctl -qw net.ipv4.tcp_timestamps=0
    done
    # IPv6's own chatter (router solicitations, listener reports) comes from each
    # namespace at its own time: real guests' would cost checkpoints, here it would
    # only make the counts below vary.
    for n in cli pvm svm; do ip netns exec ${P}$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
    for n in cli pvm svm; do ip -n ${P}$n link set lo up; done
    ip -n ${P}cli link set c0 up; ip -n ${P}pvm link set g0 up; ip -n ${P}svm link set g0 up
    for l in up pv sv; do ip link set ${P}$l up; done
}
services() { # [ARGS for net-echo in pvm] [ARGS in svm | none]
    ip netns exec ${P}pvm "$ECHO" $1 > "$T/pvm.out" 2>&1 & PVM=$!
    if [ "${2:-}" != none ]; then ip netns exec ${P}svm "$ECHO" ${2:-} > "$T/svm.out" 2>&1 & SVM=$!; else SVM=; fi
    sleep 0.3
}
services_stop() { kill $PVM $SVM 2>/dev/null; wait $PVM $SVM 2>/dev/null; }
proxy() { # [--bypass]
    : > "$T/proxy.log"
    "$PROXY" --uplink ${P}up --primary ${P}pv --secondary ${P}sv --timeout 300 --trace --log "$T/proxy.log" "$@" &
    PROXY_PID=$!
    sleep 0.3
}
proxy_stop() { kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null; }
stat_of() { grep '^@@VIFPROXY exit' "$T/proxy.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
client() { ip netns exec ${P}cli "$CLIENT" "$@" 10.98.0.2 7000; }

setup || { echo "not ok - namespaces and veths"; exit 1; }

# 1. through the proxy
services "" ""
proxy
out=$(client -i 5 -w 5 -T 3); rc=$?
proxy_stop
check "[ $rc = 0 ]" "client through the proxy: $out"
[ $rc = 0 ] || head -n 20 "$T/proxy.log"
check "[ \"$(stat_of matched)\" -gt 100 ] && [ \"$(stat_of mismatches)\" = 0 ]" \
      "frames matched ($(stat_of matched)), no mismatch ($(stat_of mismatches))"
check "[ \"$(stat_of offsets)\" -ge 1 ]" "the guests' ISNs differed: $(stat_of offsets) offset(s) learnt"
check "[ \"$(stat_of unfinished)\" = 0 ] && [ \"$(stat_of send_errors)\" = 0 ]" \
      "every frame finished and sent (unfinished $(stat_of unfinished), send errors $(stat_of send_errors))"

# 2. failover to the secondary mid-connection
proxy
rm -f "$T/stop"
client -i 20 -w 5 -T 30 -s "$T/stop" -c "$T/count" > "$T/client.out" 2>&1 & C=$!
sleep 1.5
n0=$(tr -d ' ' < "$T/count" 2>/dev/null)
kill -USR1 $PROXY_PID; sleep 0.1
kill $PVM; ip -n ${P}pvm link set g0 down
sleep 1.5; touch "$T/stop"; wait $C; rc=$?
n1=$(tr -d ' ' < "$T/count" 2>/dev/null)
proxy_stop; services_stop
check "[ $rc = 0 ] && [ \"${n1:-0}\" -gt \"$((${n0:-0} + 10))\" ]" \
      "failover to the secondary: the connection goes on ($n0 answers before, $n1 in all): $(cat "$T/client.out")"
check "grep -q 'failover: the secondary runs alone' \"$T/proxy.log\"" "the proxy says the failover"
ip -n ${P}pvm link set g0 up

# 3. divergent guests: a mismatch (the neighbour caches made alike first: the primary's
# link went down in 2, and a guest that asks for the client's address where the other
# does not is a difference of its own)
for n in cli pvm svm; do ip -n ${P}$n neigh flush all; done
services "-t" "-t"
proxy
client -i 20 -w 2 -T 2 > "$T/client3.out" 2>&1
proxy_stop; services_stop
check "[ \"$(stat_of mismatches)\" -ge 1 ] && grep -q 'checkpoint wanted: mismatch on tcp' \"$T/proxy.log\"" \
      "guests that answer differently: $(stat_of mismatches) mismatch(es), $(grep -m1 'checkpoint wanted' "$T/proxy.log")"

# 4. the comparison holds the primary back
for n in cli pvm svm; do ip -n ${P}$n neigh flush all; done
services "" none
proxy
client -i 20 -w 3 -T 2 > "$T/client4.out" 2>&1; rc=$?
proxy_stop
check "[ $rc != 0 ]" "a secondary that resets the connection: nothing reaches the client: $(cat "$T/client4.out")"
proxy --bypass
client -i 20 -w 3 -T 2 > "$T/client5.out" 2>&1; rc=$?
proxy_stop; services_stop
check "[ $rc = 0 ]" "the same with --bypass: the primary's answers go out: $(cat "$T/client5.out")"

echo "1..$((pass + fail))"
[ $fail = 0 ]
