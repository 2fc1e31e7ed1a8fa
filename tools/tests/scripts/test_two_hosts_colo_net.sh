#!/bin/bash
# COLO with a network device across two hosts (network namespaces, sshd on B): the
# secondary's forwarder on B sends its packets over TCP to the compare proxy on A
# ($IP_A:port, sim_net_compare), a client on A reads the released output.  The
# secondary sees different host input, so the proxy must hold and checkpoint; then
# host A dies and B's output goes straight to a client on B.
. "$(dirname "$0")/twohosts.inc"
setup_hosts
SSH="ssh -F $SSHCFG"
CHECK="python3 $(dirname "$0")/colo_net_check.py"
PORT=$(( 20000 + $$ % 20000 ))

cat > "$WORK/n1.cfg" <<EOC
name = "n1"
memory = 16
vcpus = 1
sim_program = "netsend"
sim_rate = 500
sim_seed = 100
sim_net = "n1.sock"
sim_net_compare = "$IP_A:$PORT"
EOC
onA env COLO_PROXY_LOG="$WORK/pri.log" "$XL" create -q "$WORK/n1.cfg"
onA env COLO_PROXY_LOG="$WORK/pri.log" "$XL" remus -c -i 1000 --fence-script "$(fence_script)" -s "$SSH" n1 \
    "hostB env SIMXEN_HOST_INPUT=7 COLO_PROXY_LOG=$WORK/sec.log" >"$WORK/remus.out" 2>&1 &
pid=$!
onA $CHECK client "$SIM_A/n1.sock" "$WORK/clientA" 4
NCP=$(ls "$DIG_A" | grep -c primary-checkpoint-)
say "A: $NCP checkpoints in 4 s; $(grep -c '^Q' "$WORK/pri.log") asked for by the proxy"
$CHECK verify "$WORK/clientA" "$WORK/pri.log" "$WORK/sec.log" "$DIG_A" 1e12 >"$WORK/verify" 2>&1
VRC=$?
sed 's/^/# /' "$WORK/verify"
check "the secondary's packets crossed the link (forwarder on B -> proxy on A)" \
    grep -q "the secondary's forwarder connected" "$SIM_A"/dom*.proxy.log
check "the secondary diverged" grep -Eq "differ from the primary's: [1-9]" "$WORK/verify"
check "the client on A saw only the primary's packets, in order, none released before the secondary agreed or a checkpoint resolved it" [ $VRC = 0 ]
check "the proxy asked for checkpoints" grep -q '^Q .* mismatch' "$WORK/pri.log"
LAST=$(grep -v '^#' "$WORK/clientA" | tail -1 | cut -d' ' -f3)

# Host A dies: B (its fence script finds A's domain gone) takes over, its forwarder
# serves B's output itself.
for p in $(descendants $pid) $pid; do kill -9 "$p" 2>/dev/null; done
wait $pid 2>/dev/null
xlA destroy n1 >/dev/null 2>&1
check "B failed over" wait_file "$DIG_B/secondary-failover" 20
onB $CHECK client "$SIM_B/n1.sock" "$WORK/clientB" 1.5
grep -v '^#' "$WORK/clientB" > "$WORK/clientB.pkts"
NB=$(wc -l < "$WORK/clientB.pkts")
FIRST=$(head -1 "$WORK/clientB.pkts" | cut -d' ' -f3)
say "after the failover a client on B got $NB packets, from seq ${FIRST:-none} (A released up to $LAST)"
check "B's output reaches its client directly" [ "$NB" -ge 50 ]
check_one_copy "after the failover" n1
check "B's output continues after what A released" [ "${FIRST:-0}" -gt "${LAST:-0}" ]
check "B's packets are in order" awk 'NR>1 && $3 != prev+1 {exit 1} {prev=$3}' "$WORK/clientB.pkts"
check "B's guest runs and passed its self-checks" [ "$(dom_field onB n1 selfchecks_failed)" = 0 -a "$(dom_field onB n1 state)" = "r-----" ]
[ $FAILS = 0 ]
