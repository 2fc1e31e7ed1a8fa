# COLO failover at chosen instants on real Xen (xhv-sr colo -C): the pair g1 / g1s runs
# three checkpoints and one channel is cut after N whole records (or inside the next
# one), on the main stream near its end (inside the last checkpoints: before, during
# and after their pages, between CHECKPOINT and CHECKPOINT_END) and on the back channel
# (before and after the dirty list).  The secondary must then be exactly the state it
# last stopped in (the engine's digest at every stop; or refuse, before its first
# checkpoint), the survivor must run on from there, and the primary must keep running.
# A run with the svm-scribble fault (one byte of the stopped secondary changed) must be
# reported wrong: the check can fail.  N comes from a first, uncut run that counts both
# channels' records.

# One instant: STEP CUT [COLO_FAULT]; sets FO_PHASE.  OK when xhv-sr says ok.
failover_instant() {
    FO_PHASE=none
    need "$1" "a running g1 guest" fresh_g1 || return 1
    xl destroy g1s >/dev/null 2>&1; rm -f "$LOGS/guest-g1s.log"
    timeout 120 xl create -p $CFG "name=\"g1s\"" >/dev/null 2>&1 ||
        { failmark "$1" "xl create -p g1s failed"; return 1; }
    set -- "$1" "$2" "${3:-}" $(lastcnt g1)
    _ft=$(now)
    COLO_FAULT=$3 timeout 300 $XSR colo -i 1000 -n 3 -C "$2" g1 g1s > "/tmp/$1.out" 2>&1
    _frc=$?
    _fl=$(grep '^@@COLO failover' "/tmp/$1.out" | tail -n 1)
    FO_PHASE=$(echo "$_fl" | sed -n 's/.* phase=\([a-z-]*\) .*/\1/p')
    note "$1: $_fl"
    if [ -n "$3" ]; then
        # the negative control: the changed byte must make it wrong
        if [ $_frc != 0 ] && echo "$_fl" | grep -q 'exact=0 .*WRONG$'; then
            mark "$1" OK "$_ft" "with $3 the failover check reports the change: $FO_PHASE, exact=0"
        else
            mark "$1" FAIL "$_ft" "with $3 the check did not fail (rc $_frc): ${_fl:-no verdict}"
        fi
        xl destroy g1s >/dev/null 2>&1
        return 0
    fi
    if [ $_frc != 0 ] || [ -z "$_fl" ]; then
        grep -v '^@@COLO checkpoint' "/tmp/$1.out" | tail -n 8 | sed "s/^/[$1] /"
        mark "$1" FAIL "$_ft" "rc $_frc: ${_fl:-$(tail -n 1 "/tmp/$1.out")}"; dump
        xl destroy g1s >/dev/null 2>&1; return 1
    fi
    # the survivor runs on from its checkpoint (none to run when it refused)
    if [ "$FO_PHASE" != never-ran ]; then
        set -- "$@" $(lastcnt g1s)
        if ! wait_cnt g1s "$6" 60; then
            mark "$1" FAIL "$_ft" "$FO_PHASE failover, survivor: $WHY"; dump
            xl destroy g1s >/dev/null 2>&1; return 1
        fi
    fi
    if ! wait_cnt g1 "$4" 60; then
        mark "$1" FAIL "$_ft" "$FO_PHASE failover, primary: $WHY"; dump
        xl destroy g1s >/dev/null 2>&1; return 1
    fi
    mark "$1" OK "$_ft" "cut $2: $FO_PHASE failover$( [ "$FO_PHASE" = never-ran ] && echo ' (refused)' ), survivor and primary run"
    xl destroy g1s >/dev/null 2>&1
}

# The default plan's instants: inside the last checkpoints' pages, between their
# records, and on the back channel around the dirty list; colo_failover_full adds the
# very end of the main stream and more back-channel points.
s_colo_failover() { failover_matrix 2:inside,4,7:inside b2:inside; }
s_colo_failover_full() { failover_matrix 1,2:inside,4,7:inside,12 b1,b2:inside,b4; }

# failover_matrix MAIN-OFFSETS BACK-OFFSETS: each offset k (records before the end of the
# uncut run's channel), with ":inside" for a cut inside the next record.
failover_matrix() {
    need colo_failover "xhv-sr in the image" command -v xhv-sr || return
    need colo_failover "a running g1 guest" fresh_g1 || return
    xl destroy g1s >/dev/null 2>&1
    run colo_failover_ref_create 120 xl create -p $CFG "name=\"g1s\"" || return
    run colo_failover_ref 300 $XSR colo -i 1000 -n 3 -c g1 g1s || { xl destroy g1s; return; }
    _m=$(sed -n 's/^@@COLO records main=\([0-9]*\) back=.*/\1/p' /tmp/colo_failover_ref.out)
    _b=$(sed -n 's/^@@COLO records main=[0-9]* back=\([0-9]*\)$/\1/p' /tmp/colo_failover_ref.out)
    xl destroy g1s >/dev/null 2>&1
    [ -n "$_m" ] && [ -n "$_b" ] && [ "$_b" -gt 4 ] ||
        { failmark colo_failover "the reference run counted no records (main '$_m', back '$_b')"; return; }
    note "colo_failover: reference run: $_m main-stream records, $_b back-channel records"
    _cuts=
    for _k in $(echo "$1" | tr ',' ' '); do
        _cuts="$_cuts main:$((_m - ${_k%%:*}))$(case $_k in *:inside) echo :inside ;; esac)"
    done
    for _k in $(echo "$2" | tr ',' ' '); do
        _k=${_k#b}
        _cuts="$_cuts back:$((_b - ${_k%%:*}))$(case $_k in *:inside) echo :inside ;; esac)"
    done
    _i=0; _bad=0; _seen=; _stopcut=
    for _c in $_cuts; do
        _i=$((_i + 1))
        failover_instant "colo_failover_$_i" "$_c" || _bad=$((_bad + 1))
        case " $_seen " in *" $FO_PHASE "*) ;; *) _seen="$_seen $FO_PHASE" ;; esac
        case "$FO_PHASE" in suspended|applied) [ -n "$_stopcut" ] || _stopcut=$_c ;; esac
    done
    _t=$(now)
    if [ -n "$_stopcut" ]; then
        failover_instant colo_failover_negative "$_stopcut" svm-scribble=4096
    else
        failmark colo_failover_negative "no instant met the secondary stopped (phases:$_seen)"
    fi
    if [ $_bad = 0 ] && [ -n "$_stopcut" ]; then
        mark colo_failover OK "$_t" "$_i instants, every failover ok; phases met:$_seen"
    else
        mark colo_failover FAIL "$_t" "$_bad of $_i instants wrong; phases met:$_seen"
    fi
}
