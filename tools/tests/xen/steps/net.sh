# A guest with a network device: gn, the test guest with a vif on the bridge xenbr0
# (dom0 is 10.99.0.1, the guest 10.99.0.2) running net-echo (the request/response
# service whose answers count what the guest has served).  net-client in dom0 keeps one
# TCP connection to it across what the step does and checks every answer.
#   net_probe          upstream xl creates gn; dom0 talks to it; the vif's xenstore
#                      entries and the hotplug script's environment are said (@@INFO)
#   net_migrate_upstream  the connection survives upstream's localhost xl migrate
#   net_migrate_ours   ... and our xl's (our libxl builds the receiver's vif)
#   net_migrate_ours_teardown  nothing of the old domain's vif is left (xenstore, links)
#   net_migrate_ours_to_upstream, net_migrate_upstream_to_ours  the two mixed directions
#   net_negative       the client's check fails when the vif leaves the bridge
#   net_vif_proxy      colo-vif-proxy between the bridge and two guests' vifs (gn and gn2,
#                      booted apart, one address): the client's answers through it, then
#                      through a failover to gn2 with gn destroyed.  A diagnosis of the
#                      packet path, not in the plans: two guests that are not copies of
#                      each other sooner or later ACK differently, and nothing here
#                      checkpoints them ("mismatch ... header or packet length", once in
#                      two runs)
#   net_colo           COLO of gn through the proxy (xhv-sr colo -P): the client across
#                      21 checkpoints, then a failover to the secondary; net_colo_equal:
#                      the two guests' pages equal at every checkpoint
NET_IP=10.99.0.2
NET_PORT=7000
NETCFG=/etc/xen/gn-pvh.cfg

net_setup() {
    [ -e /sys/class/net/xenbr0 ] && return 0
    for m in net/llc/llc net/802/stp net/bridge/bridge drivers/net/xen-netback/xen-netback drivers/net/veth; do
        grep -q "^$(basename $m | tr - _) " /proc/modules || insmod "$KM/$m.ko" || return 1
    done
    # a new bridge has STP off; busybox's brctl has no stp/setfd: the delay through sysfs
    brctl addbr xenbr0 && echo 0 > /sys/class/net/xenbr0/bridge/forward_delay &&
        ip addr add 10.99.0.1/24 dev xenbr0 && ip link set xenbr0 up
}

# gn running and answering (a new one unless one runs).
fresh_gn() {
    net_setup || return 1
    if have gn; then
        case "$(xl list gn 2>/dev/null | awk 'NR==2{print $5}')" in
            *s*|*c*|*d*|*p*) xl destroy gn ;; *) return 0 ;; esac
    fi
    rm -f "$LOGS/guest-gn.log" "$LOGS/guest-gn--incoming.log"
    timeout 120 xl create $NETCFG >/dev/null 2>&1 &&
        wait_cnt gn 0 120 && wait_cnt gn 2 60 && net_answers 30
}

# net_answers SECONDS: the service answers within SECONDS (a short client run).
net_answers() {
    _t=$(now)
    while :; do
        net-client -i 0 -w 5 -T 1 $NET_IP $NET_PORT >/tmp/net_answers.out 2>&1 && return 0
        [ "$(since "$_t" | cut -d. -f1)" -ge "$1" ] && { WHY="gn does not answer: $(cat /tmp/net_answers.out)"; return 1; }
        sleep 1
    done
}

# The client in the background (NETC_PID); net_count: answers so far.
net_client_start() { # WAIT_S
    rm -f /run/netc.stop /run/netc.count
    net-client -i 100 -w "$1" -T 1200 -s /run/netc.stop -c /run/netc.count $NET_IP $NET_PORT \
        > /tmp/netc.out 2>&1 &
    NETC_PID=$!
}
net_count() { _c=$( [ -f /run/netc.count ] && tr -d ' ' < /run/netc.count); echo "${_c:-0}"; }
# net_client_more N TIMEOUT: the client's count passes N within TIMEOUT s (still running).
net_client_more() {
    _t=$(now)
    while [ "$(net_count)" -le "$1" ]; do
        kill -0 "$NETC_PID" 2>/dev/null || return 1
        [ "$(since "$_t" | cut -d. -f1)" -ge "$2" ] && return 1
        sleep 0.5
    done
}
# net_client_stop: the client's verdict line; status 0 only for "ok".
net_client_stop() {
    touch /run/netc.stop; wait "$NETC_PID"; _rc=$?
    NETC_LINE=$(grep '^@@NETC' /tmp/netc.out | tail -n 1)
    [ -n "$NETC_LINE" ] || NETC_LINE="no verdict: $(tail -n 1 /tmp/netc.out)"
    return $_rc
}

s_net_probe() {
    xl destroy g1 >/dev/null 2>&1
    # the hotplug script's environment, as upstream's libxl runs it
    cat > /etc/xen/scripts/vif-probe <<'EOF'
#!/bin/bash
env | sort > /run/vif-env.$vif.$1
exec /etc/xen/scripts/vif-bridge "$@"
EOF
    chmod 755 /etc/xen/scripts/vif-probe
    _t=$(now)
    if ! net_setup; then mark net_probe FAIL "$_t" "bridge xenbr0 or netback could not be set up"; return; fi
    xl destroy gn >/dev/null 2>&1; rm -f "$LOGS/guest-gn.log"
    sed 's/bridge=xenbr0/bridge=xenbr0,script=vif-probe/' $NETCFG > /tmp/gn-probe.cfg
    run net_probe_create 120 xl create /tmp/gn-probe.cfg ||
        { dump; return; }
    if wait_cnt gn 0 120 && net_answers 60; then mark net_probe OK "$_t" "$(cat /tmp/net_answers.out)"
    else mark net_probe FAIL "$_t" "${WHY:-}"; dump; fi
    _d=$(xl domid gn 2>/dev/null)
    note "net_probe: frontend $(xenstore-ls -p /local/domain/$_d/device/vif 2>&1 | tr -s ' ' | tr '\n' ';')"
    note "net_probe: backend $(xenstore-ls -p /local/domain/0/backend/vif/$_d 2>&1 | tr -s ' ' | tr '\n' ';')"
    note "net_probe: libxl's record $(xenstore-ls -p /libxl/$_d/device 2>&1 | tr -s ' .' | tr '\n' ';')"
    note "net_probe: config $(xl list -l gn 2>/dev/null | tr -d '\n' | tr -s ' ' | grep -o '"nics": \[[^]]*\]')"
    for f in /run/vif-env.*; do [ -f "$f" ] && note "net_probe: $f: $(grep -vE '^(PATH|HOME|TERM|PWD|SHLVL|_)=' "$f" | tr '\n' ' ')"; done
    note "net_probe: links $(ls /sys/class/net | tr '\n' ' ') bridge: $(brctl show xenbr0 | awk 'NR>1{print $NF}' | tr '\n' ' ')"
    xl destroy gn
}

# net_migrate STEP SENDER RECEIVER: the client's connection through a localhost migration.
net_migrate() {
    case "$2 $3" in *xl-colo*)
        need "$1" "xl-colo in the image" command -v xl-colo || return
        mkdir -p /run/colo ;;
    esac
    need "$1" "a running gn guest that answers" fresh_gn || { dump; return; }
    _old=$(xl domid gn)
    net_client_start 60
    need "$1" "the client answered before the migration" net_client_more 10 30 || { net_client_stop; note "$1: $NETC_LINE"; return; }
    _n0=$(net_count)
    run "$1" 300 $2 migrate -s "" gn "$3 migrate-receive" || { net_client_stop; xl list; dump; return; }
    _t=$(now)
    if net_client_more $((_n0 + 20)) 60 && net_client_stop; then
        mark "$1_connection" OK "$_t" "$NETC_LINE; $_n0 answers before, $(net_count) in all"
    else
        net_client_stop; mark "$1_connection" FAIL "$_t" "$NETC_LINE (answers before the migration: $_n0)"
        xl list; dump
    fi
    NET_OLD_DOMID=$_old
}

s_net_migrate_upstream() { net_migrate net_migrate_upstream xl xl; }
s_net_migrate_ours() {
    net_migrate net_migrate_ours "$OURXL" "$OURXL"
    # the sender's domain is gone: nothing of its vif may be left behind
    _t=$(now)
    _left="$(xenstore-ls /local/domain/0/backend/vif/$NET_OLD_DOMID 2>/dev/null | wc -l) backend nodes, links: $(ls /sys/class/net | grep "^vif$NET_OLD_DOMID\." | tr '\n' ' ')"
    # and the sender's libxl removed it without an error (the hotplug script's offline)
    _err=$(grep -m 1 'libxl: error' /tmp/net_migrate_ours.out 2>/dev/null | cut -c1-160)
    [ -z "$_err" ] || _left="$_left; sender: $_err"
    case "$_left" in "0 backend nodes, links: ") mark net_migrate_ours_teardown OK "$_t" ;;
        *) mark net_migrate_ours_teardown FAIL "$_t" "old domain $NET_OLD_DOMID left $_left" ;; esac
}

# Mixed: our xl sends, upstream's receives (its libxl builds the vif from the config
# our xl sent on), and the other way round (ours builds it from upstream's config).
s_net_migrate_ours_to_upstream() { net_migrate net_migrate_ours_to_upstream "$OURXL" "$UPXL"; }
s_net_migrate_upstream_to_ours() { net_migrate net_migrate_upstream_to_ours xl "$OURXL"; }

# The check can fail: the guest's vif taken off the bridge mid-run ends the client in
# a FAIL (no answer within its wait).
s_net_negative() {
    need net_negative "a running gn guest that answers" fresh_gn || { dump; return; }
    _vif=vif$(xl domid gn).0
    net_client_start 5
    need net_negative "the client answered" net_client_more 5 30 || { net_client_stop; return; }
    _t=$(now)
    brctl delif xenbr0 "$_vif"
    if wait "$NETC_PID"; then mark net_negative FAIL "$_t" "the client saw nothing wrong with $_vif off the bridge"
    else NETC_LINE=$(grep '^@@NETC' /tmp/netc.out | tail -n 1); mark net_negative OK "$_t" "client: $NETC_LINE"; fi
    brctl addif xenbr0 "$_vif"
}

# Two guests booted apart with one MAC and address, each on a bridge of its own, their
# vifs then taken off it and given to colo-vif-proxy; the proxy's uplink is a veth whose
# other end is on xenbr0.  No COLO here (the two are not copies; no checkpoint is ever
# asked for): the packet path on netback's vifs, its offloads, the comparison, and a
# failover to the second guest.
# /tmp/NAME.cfg: gn's config renamed, its vif on BRIDGE (made here), xnetquiet=1.
proxy_guest_cfg() { # NAME BRIDGE
    sed -e "s/^name .*/name = \"$1\"/" -e "s/bridge=xenbr0/bridge=$2/" \
        -e 's/xip=10.99.0.2"/xip=10.99.0.2 xnetquiet=1"/' $NETCFG > /tmp/$1.cfg
    brctl addbr "$2" 2>/dev/null; ip link set "$2" up
}
vif_proxy_guest() { # NAME BRIDGE
    proxy_guest_cfg "$1" "$2"
    rm -f "$LOGS/guest-$1.log"
    timeout 120 xl create /tmp/$1.cfg >/dev/null 2>&1 && wait_cnt "$1" 1 120 &&
        grep -q '@@NET listening' "$LOGS/guest-$1.log"
}
# The proxy's ports: both vifs off their bridges (up), the uplink veth vpx0 whose
# other end vpx1 is on xenbr0.
proxy_ports() { # PRIMARY-VIF ITS-BRIDGE SECONDARY-VIF ITS-BRIDGE
    brctl delif "$2" "$1" 2>/dev/null; brctl delif "$4" "$3" 2>/dev/null
    ip link set "$1" up && ip link set "$3" up || return 1
    ip link del vpx0 2>/dev/null
    ip link add name vpx0 type veth && ip link set veth0 name vpx1 && brctl addif xenbr0 vpx1 &&
        ip link set vpx0 up && ip link set vpx1 up
}
vif_proxy_stat() { grep '^@@VIFPROXY exit' /tmp/vifproxy.log | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }

s_net_vif_proxy() {
    need net_vif_proxy "colo-vif-proxy in the image" command -v colo-vif-proxy || return
    need net_vif_proxy "the bridge xenbr0" net_setup || return
    for d in g1 gn gn2; do xl destroy $d >/dev/null 2>&1; done
    need net_vif_proxy "guest gn on its own bridge" vif_proxy_guest gn xenbp || { dump; return; }
    need net_vif_proxy "guest gn2 on its own bridge" vif_proxy_guest gn2 xenbs || { dump; return; }
    _p=vif$(xl domid gn).0; _s=vif$(xl domid gn2).0
    proxy_ports $_p xenbp $_s xenbs || { failmark net_vif_proxy "the proxy's ports"; return; }
    rm -f /tmp/vifproxy.log
    colo-vif-proxy --uplink vpx0 --primary $_p --secondary $_s --timeout 2000 --log /tmp/vifproxy.log &
    _px=$!
    _t=$(now)
    net_client_start 30
    if net_client_more 30 60; then mark net_vif_proxy OK "$_t" "$(net_count) answers through the proxy"
    else net_client_stop; mark net_vif_proxy FAIL "$_t" "$NETC_LINE"; kill $_px; head -n 5 /tmp/vifproxy.log; return; fi
    _n0=$(net_count)
    _t=$(now)
    kill -USR1 $_px; xl destroy gn
    if net_client_more $((_n0 + 20)) 60 && net_client_stop; then
        mark net_vif_proxy_failover OK "$_t" "$NETC_LINE; $_n0 answers before the failover"
    else
        net_client_stop; mark net_vif_proxy_failover FAIL "$_t" "$NETC_LINE ($_n0 before the failover)"
    fi
    kill $_px; wait $_px
    _t=$(now)
    note "net_vif_proxy: $(grep -v '^frame' /tmp/vifproxy.log | tail -n 4 | tr '\n' ';')"
    if [ "$(vif_proxy_stat matched)" -gt 30 ] && [ "$(vif_proxy_stat mismatches)" = 0 ] &&
       [ "$(vif_proxy_stat unfinished)" = 0 ] && grep -q 'failover: the secondary runs alone' /tmp/vifproxy.log
    then mark net_vif_proxy_compare OK "$_t" "matched $(vif_proxy_stat matched), offsets $(vif_proxy_stat offsets)"
    else mark net_vif_proxy_compare FAIL "$_t" "$(grep '^@@VIFPROXY exit' /tmp/vifproxy.log)"; fi
    xl destroy gn2 >/dev/null 2>&1; ip link del vpx0 2>/dev/null
}

# The secondary's vif states (frontend/backend) each time they change, with the uptime.
vif_states_watch() { # DOMAIN
    _d=$(xl domid "$1") || return
    _was=
    while :; do
        _is="$(xenstore-read /local/domain/$_d/device/vif/0/state 2>/dev/null)/$(xenstore-read /local/domain/0/backend/vif/$_d/0/state 2>/dev/null)"
        [ "$_is" = "$_was" ] || echo "$(now) $_is"
        _was=$_is
        sleep 0.2
    done > /tmp/vif-states.log
}
# What a failed net_colo leaves to look at: the pair's messages (without the routine
# per-checkpoint lines), the proxy's last lines, the secondary's vif states, the consoles.
net_colo_diag() { # SECONDARY
    grep -vE '^@@COLO checkpoint|Checkpoint sent|^\(XEN\) HVM' /tmp/net_colo.out | head -n 60 |
        sed 's/^/[net_colo] /'
    tail -n 14 /tmp/netcolo-proxy.log
    note "net_colo: $1 vif states (uptime frontend/backend): $(tail -n 40 /tmp/vif-states.log | tr '\n' ';')"
    dump
}

# COLO of the networked guest with the compare proxy: gn runs, gns is its empty copy
# (xl create -p), both vifs go to colo-vif-proxy, and xhv-sr colo checkpoints the pair
# every second or when the proxy asks (its control socket).  The client's answers must
# be right and in order across at least 20 checkpoints; then the primary is destroyed
# (the proxy told first that the secondary takes over) and the client's connection must
# go on with the survivor.
s_net_colo() {
    need net_colo "colo-vif-proxy in the image" command -v colo-vif-proxy || return
    need net_colo "xhv-sr in the image" command -v xhv-sr || return
    need net_colo "the bridge xenbr0" net_setup || return
    for d in g1 gn gn2 gns; do xl destroy $d >/dev/null 2>&1; done
    need net_colo "guest gn on its own bridge" vif_proxy_guest gn xenbp || { dump; return; }
    proxy_guest_cfg gns xenbs
    run net_colo_xl_create_p 120 xl create -p /tmp/gns.cfg || return
    _p=vif$(xl domid gn).0; _s=vif$(xl domid gns).0
    proxy_ports $_p xenbp $_s xenbs || { failmark net_colo "the proxy's ports"; return; }
    rm -f /tmp/netcolo-proxy.log /run/vifproxy.sock
    colo-vif-proxy --uplink vpx0 --primary $_p --secondary $_s --timeout 500 \
        --control-socket /run/vifproxy.sock --log /tmp/netcolo-proxy.log &
    _px=$!
    sleep 1
    $XSR colo -i 1000 -n 1000 -P /run/vifproxy.sock gn gns > /tmp/net_colo.out 2>&1 &
    _xp=$!
    vif_states_watch gns &
    _vw=$!
    _t=$(now)
    # xhv-sr reports the checkpoints at its end; the proxy logs each as it comes
    while [ "$(grep -c '^@@VIFPROXY checkpoint' /tmp/netcolo-proxy.log)" = 0 ]; do
        kill -0 $_xp 2>/dev/null && [ "$(since "$_t" | cut -d. -f1)" -lt 180 ] || break
        sleep 1
    done
    net_client_start 60
    _t=$(now)
    while :; do
        _ck=$(grep -c '^@@VIFPROXY checkpoint' /tmp/netcolo-proxy.log)
        [ "$_ck" -ge 21 ] && break
        kill -0 $_xp 2>/dev/null && kill -0 $NETC_PID 2>/dev/null &&
            [ "$(since "$_t" | cut -d. -f1)" -lt 300 ] || break
        sleep 1
    done
    _n0=$(net_count)
    if [ "$_ck" -ge 21 ] && kill -0 $NETC_PID 2>/dev/null && [ "$_n0" -gt 20 ]; then
        mark net_colo OK "$_t" "$_ck checkpoints; $_n0 answers, all right and in order"
    else
        net_client_stop
        mark net_colo FAIL "$_t" "$_ck checkpoints; client: ${NETC_LINE:-$(net_count) answers}"
        kill $_xp $_px $_vw 2>/dev/null; net_colo_diag gns
        return
    fi
    # the primary's host dies: the proxy is told first, then the primary goes
    _t=$(now)
    kill -USR1 $_px; xl destroy gn
    if net_client_more $((_n0 + 20)) 90 && net_client_stop; then
        mark net_colo_failover OK "$_t" "$NETC_LINE; $_n0 answers before the failover"
    else
        net_client_stop
        mark net_colo_failover FAIL "$_t" "$NETC_LINE ($_n0 answers before the failover); $(gstate gns)"
    fi
    wait $_xp
    kill $_px $_vw; wait $_px
    # the pages of both guests compared at every checkpoint (xhv-sr's reports)
    _t=$(now)
    _eq=$(grep -c '^@@COLO checkpoint=.* diff=0 ' /tmp/net_colo.out)
    _all=$(grep -c '^@@COLO checkpoint=' /tmp/net_colo.out)
    if [ "$_all" -ge 21 ] && [ "$_eq" = "$_all" ]; then mark net_colo_equal OK "$_t" "$_eq of $_all checkpoints equal"
    else mark net_colo_equal FAIL "$_t" "$_eq of $_all checkpoints equal: $(grep '^@@COLO checkpoint=' /tmp/net_colo.out | grep -v ' diff=0 ' | head -n 1)"; fi
    note "net_colo: $(grep -c 'let go (InitWait)' /tmp/net_colo.out) resets of the secondary's vif, last: $(grep 'let go (InitWait)' /tmp/net_colo.out | tail -n 1)"
    note "net_colo: $(grep '^@@COLO result' /tmp/net_colo.out); $(grep -v '^frame' /tmp/netcolo-proxy.log | grep -E 'wanted|failover|exit' | tail -n 4 | tr '\n' ';')"
    _t=$(now)
    _st=$(grep '^@@VIFPROXY exit' /tmp/netcolo-proxy.log | tail -n 1)
    case "$_st" in
        *" matched=0 "*|"") mark net_colo_compare FAIL "$_t" "${_st:-no counters}" ;;
        *) mark net_colo_compare OK "$_t" "$(echo "$_st" | cut -d' ' -f3-9)" ;;
    esac
    xl destroy gns >/dev/null 2>&1; ip link del vpx0 2>/dev/null
}
