# Failover at chosen instants on real Xen (xhv-sr colo -C, xhv-sr remus -C).
# COLO: the pair g1 / g1s runs three checkpoints and one channel is cut after N whole
# records (or inside the next one), on the main stream near its end (inside the last
# checkpoints: before, during and after their pages, between CHECKPOINT and
# CHECKPOINT_END) and on the back channel (before and after the dirty list).  The
# secondary must then be exactly the state it last stopped in (the engine's digest at
# every stop; or refuse, before its first checkpoint).  Remus: the stream is cut the
# same way (and once inside the first pass, where there is nothing to take over); the
# stopped secondary must equal the primary's digest (memory over the primary's RAM, and
# vcpu and platform state) at the last checkpoint it applied.  Either way the survivor
# must run on from there, and the primary must keep running.  A run with the
# svm-scribble fault (one byte of the stopped secondary changed) must be reported
# wrong: the check can fail.  N comes from a first, uncut run that counts the records.

# One instant: STEP MODE(colo|remus) CUT [COLO_FAULT]; sets FO_PHASE (COLO: where the
# secondary was; Remus: checkpoint-K, the one it took over, or never-ran).  OK when
# xhv-sr says ok.
failover_instant() {
    FO_PHASE=none
    need "$1" "a running g1 guest" fresh_g1 || return 1
    xl destroy g1s >/dev/null 2>&1; rm -f "$LOGS/guest-g1s.log"
    timeout 120 xl create -p $CFG "name=\"g1s\"" >/dev/null 2>&1 ||
        { failmark "$1" "xl create -p g1s failed"; return 1; }
    set -- "$1" "$2" "$3" "${4:-}" $(lastcnt g1)
    _ft=$(now)
    COLO_FAULT=$4 timeout 300 $XSR "$2" -i 1000 -n 3 -C "$3" g1 g1s > "/tmp/$1.out" 2>&1
    _frc=$?
    _fl=$(grep '^@@[A-Z]* failover' "/tmp/$1.out" | tail -n 1)
    if [ "$2" = colo ]; then
        FO_PHASE=$(echo "$_fl" | sed -n 's/.* phase=\([a-z-]*\) .*/\1/p')
    else
        FO_PHASE=$(echo "$_fl" | sed -n 's/.* checkpoint=\([0-9]*\) .*/checkpoint-\1/p')
        [ "$FO_PHASE" = checkpoint-0 ] && FO_PHASE=never-ran
    fi
    note "$1: $_fl"
    if [ -n "$4" ]; then
        # the negative control: the changed byte must make it wrong
        if [ $_frc != 0 ] && echo "$_fl" | grep -q 'exact=0 .*WRONG$'; then
            mark "$1" OK "$_ft" "with $4 the failover check reports the change: $FO_PHASE, exact=0"
        else
            mark "$1" FAIL "$_ft" "with $4 the check did not fail (rc $_frc): ${_fl:-no verdict}"
        fi
        xl destroy g1s >/dev/null 2>&1
        return 0
    fi
    if [ $_frc != 0 ] || [ -z "$_fl" ]; then
        grep -v '^@@[A-Z]* checkpoint' "/tmp/$1.out" | tail -n 8 | sed "s/^/[$1] /"
        mark "$1" FAIL "$_ft" "rc $_frc: ${_fl:-$(tail -n 1 "/tmp/$1.out")}"; dump
        xl destroy g1s >/dev/null 2>&1; return 1
    fi
    # the survivor runs on from its checkpoint (none to run when it refused)
    if [ "$FO_PHASE" != never-ran ]; then
        set -- "$@" $(lastcnt g1s)
        if ! wait_cnt g1s "$7" 60; then
            mark "$1" FAIL "$_ft" "$FO_PHASE failover, survivor: $WHY"; dump
            xl destroy g1s >/dev/null 2>&1; return 1
        fi
    fi
    if ! wait_cnt g1 "$5" 60; then
        mark "$1" FAIL "$_ft" "$FO_PHASE failover, primary: $WHY"; dump
        xl destroy g1s >/dev/null 2>&1; return 1
    fi
    mark "$1" OK "$_ft" "cut $3: $FO_PHASE failover$( [ "$FO_PHASE" = never-ran ] && echo ' (refused)' ), survivor and primary run"
    xl destroy g1s >/dev/null 2>&1
}

# The default plan's instants: COLO inside the last checkpoints' pages, between their
# records, and on the back channel around the dirty list; Remus inside and between the
# last checkpoint's records and once inside the first pass (f2: two records after the
# stream's start).  The _full variants add the very end of the stream and more points.
# On the back channel a checkpoint after the first is SVM_SUSPENDED, the dirty list,
# SVM_READY, SVM_RESUMED: b3 cuts before the last checkpoint's dirty list (the
# secondary suspended), b2 right after it (the primary still sends the checkpoint, the
# secondary applies it and finds the channel gone: applied), b2:inside inside
# SVM_READY.
s_colo_failover() { failover_matrix colo_failover colo 2:inside,4,7:inside b2,b3; }
s_colo_failover_full() { failover_matrix colo_failover colo 1,2:inside,4,7:inside,12 b1,b2,b2:inside,b3,b4; }
s_remus_cut() { failover_matrix remus_cut remus 2:inside; }
s_remus_cut_full() { failover_matrix remus_cut remus 1,2:inside,3,4,5:inside,7,12,f2,f5:inside; }

# failover_matrix STEP MODE CUTS [BACK-CUTS]: each cut k counts records back from the end
# of the uncut run's channel (fk: from the start), with ":inside" for a cut inside the
# next record; back cuts (COLO) are on the back channel.  Results STEP, STEP_ref,
# STEP_1.., STEP_negative.
failover_matrix() {
    _fm_step=$1; _mode=$2; shift
    need ${_fm_step} "xhv-sr in the image" command -v xhv-sr || return
    need ${_fm_step} "a running g1 guest" fresh_g1 || return
    xl destroy g1s >/dev/null 2>&1
    run ${_fm_step}_ref_create 120 xl create -p $CFG "name=\"g1s\"" || return
    run ${_fm_step}_ref 300 $XSR $_mode -i 1000 -n 3 -c g1 g1s || { xl destroy g1s; return; }
    _m=$(sed -n 's/^@@[A-Z]* records main=\([0-9]*\).*/\1/p' /tmp/${_fm_step}_ref.out)
    _b=$(sed -n 's/^@@COLO records main=[0-9]* back=\([0-9]*\)$/\1/p' /tmp/${_fm_step}_ref.out)
    [ $_mode = remus ] && _b=0
    xl destroy g1s >/dev/null 2>&1
    [ -n "$_m" ] && [ -n "$_b" ] && [ "$_m" -gt 12 ] && { [ $_mode = remus ] || [ "$_b" -gt 4 ]; } ||
        { failmark ${_fm_step} "the reference run counted no records (main '$_m', back '$_b')"; return; }
    note "${_fm_step}: reference run: $_m main-stream records, $_b back-channel records"
    _pre=; [ $_mode = colo ] && _pre=main:
    _cuts=
    for _k in $(echo "$2" | tr ',' ' '); do
        _in=$(case $_k in *:inside) echo :inside ;; esac)
        _k=${_k%%:*}
        case $_k in f*) _cuts="$_cuts $_pre${_k#f}$_in" ;; *) _cuts="$_cuts $_pre$((_m - _k))$_in" ;; esac
    done
    for _k in $(echo "${3:-}" | tr ',' ' '); do
        _k=${_k#b}
        _cuts="$_cuts back:$((_b - ${_k%%:*}))$(case $_k in *:inside) echo :inside ;; esac)"
    done
    _i=0; _bad=0; _seen=; _stopcut=
    for _c in $_cuts; do
        _i=$((_i + 1))
        failover_instant "${_fm_step}_$_i" $_mode "$_c" || _bad=$((_bad + 1))
        case " $_seen " in *" $FO_PHASE "*) ;; *) _seen="$_seen $FO_PHASE" ;; esac
        case "$FO_PHASE" in suspended|applied|checkpoint-*) [ -n "$_stopcut" ] || _stopcut=$_c ;; esac
    done
    _t=$(now)
    if [ -n "$_stopcut" ]; then
        failover_instant ${_fm_step}_negative $_mode "$_stopcut" svm-scribble=4096
    else
        failmark ${_fm_step}_negative "no instant met the secondary stopped (phases:$_seen)"
    fi
    if [ $_bad = 0 ] && [ -n "$_stopcut" ]; then
        mark ${_fm_step} OK "$_t" "$_i instants, every failover ok; phases met:$_seen"
    else
        mark ${_fm_step} FAIL "$_t" "$_bad of $_i instants wrong; phases met:$_seen"
    fi
}
