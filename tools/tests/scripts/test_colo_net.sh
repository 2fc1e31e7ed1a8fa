#!/bin/bash
# COLO with a network device on one host (docs/colo-proxy.md): a netsend guest's packets
# go through the compare proxy to a client reading the output socket.
#   A. no divergence: the client gets exactly the primary's packets, in order, each one
#      agreed by the secondary; checkpoints come with the interval (-i 1000);
#   B. the secondary sees different host input (SIMXEN_HOST_INPUT): its packets differ,
#      the proxy asks for checkpoints on the mismatches, more checkpoints per second than
#      A, and still no packet the secondary disagreed with reaches the client before the
#      checkpoint that resolves it;
#   C. the same with the comparison bypassed (COLO_FAULT=proxy-bypass): the checker notices;
#   D. no divergence, but the secondary's forwarder stops for 1.5 s (SIGSTOP): primary
#      packets wait, the proxy asks for checkpoints on its timeout, and releases them
#      only at those checkpoints;
#   E. the secondary dies: the primary continues unprotected and its output passes
#      straight through to the client.
. "$(dirname "$0")/local.inc"
CHECK="python3 $(dirname "$0")/colo_net_check.py"
PORT=$(( 20000 + $$ % 20000 ))
SECS=3

# The secondary's forwarder of this test (from /proc: procps may not be installed).
forwarder_pid() {
    local f
    for f in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null < "$f/cmdline" | grep -q "colo-proxy secondary" || continue
        tr '\0' '\n' 2>/dev/null < "$f/environ" | grep -qx "SIMXEN_DIR=$SIMXEN_DIR" || continue
        echo "${f#/proc/}"; return 0
    done
    return 1
}
kill_secondary() {   # label: once COLO runs, destroy the secondary's domain
    local i
    for i in $(seq 50); do [ -e "$WORK/$1.dig/primary-checkpoint-1" ] && break; sleep 0.1; done
    sleep 0.7
    "$XL" destroy "n$1--incoming" >/dev/null 2>&1
}
stall_forwarder() {   # label for_s: once COLO runs, stop the secondary's forwarder a while
    local fp i
    for i in $(seq 50); do [ -e "$WORK/$1.dig/primary-checkpoint-1" ] && break; sleep 0.1; done
    fp=$(forwarder_pid)
    [ -n "$fp" ] || { echo "# no forwarder found"; return; }
    kill -STOP "$fp"; sleep "$2"; kill -CONT "$fp"
}

destroy_all() { for id in $("$XL" list 2>/dev/null | awk 'NR>1 {print $2}'); do "$XL" destroy "$id" >/dev/null 2>&1; done; }

run() {   # label seed secondary_host_input bypass [stall]
    local l=$1 dig=$WORK/$1.dig pid cpid spid=
    destroy_all
    mkdir -p "$dig"
    cat > "$WORK/$l.cfg" <<EOC
name = "n$l"
memory = 16
vcpus = 1
sim_program = "netsend"
sim_rate = 500
sim_seed = $2
sim_net = "$WORK/$l.sock"
sim_net_compare = "127.0.0.1:$PORT"
EOC
    COLO_PROXY_LOG="$WORK/$l.pri.log" "$XL" create -q "$WORK/$l.cfg" || { notok "$l: create"; return; }
    env LIBXL_CHECKPOINT_DIGEST_DIR="$dig" COLO_PROXY_LOG="$WORK/$l.pri.log" COLO_FAULT=$([ "$4" = 1 ] && echo proxy-bypass) \
        "$XL" remus -c -i 1000 -s "" "n$l" \
        "env SIMXEN_HOST_INPUT=$3 COLO_PROXY_LOG=$WORK/$l.sec.log $XL migrate-receive --colo" \
        >"$WORK/$l.out" 2>&1 &
    pid=$!
    case "${5:-}" in
    stall) stall_forwarder "$l" 1.5 & spid=$! ;;
    kill) kill_secondary "$l" & spid=$! ;;
    esac
    if [ "${5:-}" = kill ]; then
        # replication ends by itself (the secondary is gone); read on for 1 s more
        $CHECK client "$WORK/$l.sock" "$WORK/$l.client" 30 &
        cpid=$!
        for i in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
        sleep 1
        kill $cpid; wait $cpid 2>/dev/null
    else
        $CHECK client "$WORK/$l.sock" "$WORK/$l.client" $SECS &
        cpid=$!
        wait $cpid
    fi
    [ -n "$spid" ] && wait $spid
    END=$(date +%s.%N)
    kill -TERM $pid 2>/dev/null; wait $pid
    NCP=$(ls "$dig" | grep -c primary-checkpoint-)
    REQ=$(sed -n 's/.*checkpoints, \([0-9]*\) of them asked for by the compare proxy.*/\1/p' "$WORK/$l.out")
    say "$l: $NCP checkpoints in ${SECS} s ($(awk -v n=$NCP -v s=$SECS 'BEGIN{printf "%.1f", n/s}')/s), ${REQ:-?} asked for by the proxy"
    $CHECK verify "$WORK/$l.client" "$WORK/$l.pri.log" "$WORK/$l.sec.log" "$dig" "$END" >"$WORK/$l.verify" 2>&1
    VRC=$?
    sed 's/^/# /' "$WORK/$l.verify"
    destroy_all
}

run A 0 0 0
check "A: the client saw only the primary's packets, in order, each agreed by the secondary" [ $VRC = 0 ]
check "A: compared packets reached the client" grep -Eq "[0-9]{3,} the secondary agreed" "$WORK/A.verify"
NCP_A=$NCP

run B 50 7 0
check "B: the secondary diverged" grep -Eq "differ from the primary's: [1-9]" "$WORK/B.verify"
check "B: no packet the secondary disagreed with got out before its checkpoint" [ $VRC = 0 ]
check "B: held packets were released at the resolving checkpoint" grep -Eq " [1-9][0-9]* released at a later checkpoint" "$WORK/B.verify"
check "B: the proxy asked for checkpoints (${REQ:-none})" [ "${REQ:-0}" -ge 2 ]
check "B: divergence makes checkpoints more frequent ($NCP vs $NCP_A in ${SECS} s)" [ "$NCP" -ge $(( NCP_A * 2 )) ]

run C 50 7 1
check "C: with the comparison bypassed the checker finds packets released without agreement" \
    grep -Eq "violations: [1-9]" "$WORK/C.verify"
run D 0 0 0 stall
check "D: the proxy asked for checkpoints on its timeout" [ "$(grep -c '^Q .* timeout' "$WORK/D.pri.log")" -ge 2 ]
check "D: held packets went out only at checkpoints (or agreed), nothing else" [ $VRC = 0 ]
NFL=$(grep -c '^R .* flush$' "$WORK/D.pri.log")
check "D: the proxy released held packets at the checkpoints ($NFL)" [ "$NFL" -ge 1 ]
run E 0 0 0 kill
check "E: the primary noticed and continues unprotected" grep -q "keeps running here, unprotected" "$WORK/E.out"
check "E: the client saw only the primary's packets, in order; unchecked ones only after protection ended" [ $VRC = 0 ]
check "E: the output passes straight through after replication ended" grep -Eq " [1-9][0-9]* after replication ended" "$WORK/E.verify"
[ $FAILS = 0 ]
