#!/bin/bash
# xhv-sr, the engine's command line, on the simulated hypervisor (the same commands run
# on real Xen in `make check-xen`): save + restore into an empty paused domain (and
# verify-stream-v2 accepts the stream), Remus to a paused secondary, COLO compared at
# every checkpoint (equal), and the same COLO with the back channel's dirty lists
# dropped (the secondary refuses a checkpoint), COLO cut on purpose (an exact failover; with one byte of
# the secondary changed, a wrong one); log-dirty rounds on a running guest (the guest keeps
# running and its writes are seen), on a missing domain and with a bad count (refused).
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
SR="$ROOT/tools/misc/xhv-sr -b sim"
WORK=$(mktemp -d /tmp/xhv-sr-test.XXXXXX)
export SIMXEN_DIR=/dev/shm/xhvsrtest$$
FAILS=0
check() { local what=$1; shift; if "$@"; then echo "ok - $what"; else echo "not ok - $what"; FAILS=$((FAILS+1)); fi; }
cleanup() {
    for d in p1 t1 p2 s2 p3 s3 p4 s4 p5 p6 s6 p7 s7; do $SR destroy "$d" >/dev/null 2>&1; done
    rm -rf "$SIMXEN_DIR" "$WORK"
}
trap cleanup EXIT
PAGES=2048

$SR create p1 $PAGES crcblocks -s 7 > /dev/null
sleep 0.3
$SR save p1 "$WORK/p1.stream" 2> "$WORK/save.err"
check "save of a running guest" [ $? = 0 ]
$SR create -p t1 $PAGES none > /dev/null
$SR restore "$WORK/p1.stream" t1 2> "$WORK/restore.err"
check "restore into an empty paused domain, started" [ $? = 0 ]
PYTHONPATH=/usr/lib/xen-4.17/lib/python python3 /usr/lib/xen-4.17/bin/verify-stream-v2 \
    -f libxc -i "$WORK/p1.stream" > "$WORK/verify.out" 2>&1
check "verify-stream-v2 accepts the saved stream" [ $? = 0 ]
$SR list > "$WORK/list"
check "list shows the restored domain running" grep -q '^t1 .*running' "$WORK/list"

$SR create p3 $PAGES crcblocks -s 3 > /dev/null
$SR create -p s3 $PAGES none > /dev/null
$SR remus -i 100 -n 3 p3 s3 > "$WORK/remus.out" 2>&1
check "remus: 3 checkpoints, then the secondary takes over" \
    eval '[ "$(grep -c "^@@REMUS checkpoint" "$WORK/remus.out")" = 3 ] && grep -q "^@@FAILOVER" "$WORK/remus.out"'

# Remus cut on purpose (-C): the stopped secondary must equal the primary's digest at
# the last checkpoint it applied; before the first there is nothing to take over.
$SR create p7 $PAGES crcblocks -s 5 > /dev/null
$SR create -p s7 $PAGES none > /dev/null
$SR remus -i 100 -n 3 -c p7 s7 > "$WORK/remus-count.out" 2>&1
rm_=$(sed -n 's/^@@REMUS records main=\([0-9]*\)$/\1/p' "$WORK/remus-count.out")
check "remus -c counts the stream's records" eval '[ "${rm_:-0}" -gt 6 ]'
remus_cut() { # CUT [FAULT]: a fresh secondary, the cut run; sets rc
    $SR destroy s7 > /dev/null
    $SR create -p s7 $PAGES none > /dev/null
    COLO_FAULT=${2:-} $SR remus -i 100 -n 3 -C "$1" p7 s7 > "$WORK/remus-cut.out" 2>&1
    rc=$?
}
remus_cut $((rm_ - 3))
check "remus -C $((rm_ - 3)): the secondary takes over exactly at checkpoint 2" eval '[ $rc = 0 ] &&
    grep -q "^@@REMUS failover cut=$((rm_ - 3)) checkpoint=2 exact=1 restore_rc=0 .*=> ok$" "$WORK/remus-cut.out"'
$SR list > "$WORK/list4"
check "remus -C: the survivor and the primary run" eval 'grep -q "^s7 .*running" "$WORK/list4" &&
    grep -q "^p7 .*running" "$WORK/list4"'
remus_cut $((rm_ - 3)):inside
check "remus -C $((rm_ - 3)):inside: exactly checkpoint 2" eval '[ $rc = 0 ] &&
    grep -q "checkpoint=2 exact=1 .*=> ok$" "$WORK/remus-cut.out"'
remus_cut 2
check "remus -C 2 (inside the first pass): refused, nothing to take over" eval '[ $rc = 0 ] &&
    grep -q "^@@REMUS failover cut=2 checkpoint=0 exact=-1 restore_rc=-1 .*=> ok$" "$WORK/remus-cut.out"'
remus_cut $((rm_ - 3)) svm-scribble=5
check "remus -C with svm-scribble: the failover check reports it" eval '[ $rc = 1 ] &&
    grep -q "exact=0 memory-differs .*=> WRONG$" "$WORK/remus-cut.out"'
$SR remus -C 3 p7 s7 > "$WORK/remus-badcut.out" 2>&1
rc=$?
check "remus -C without -n is refused" eval '[ $rc = 2 ] && grep -q "needs -n" "$WORK/remus-badcut.out"'

$SR create p2 $PAGES divergent -s 11 -H 1 > /dev/null
$SR create -p -H 2 s2 $PAGES none > /dev/null
$SR colo -i 100 -n 4 p2 s2 > "$WORK/colo.out" 2>&1
rc=$?
check "colo: every checkpoint equal" eval '[ $rc = 0 ] && grep -q "equal=4 differ=0" "$WORK/colo.out"'

$SR create p4 $PAGES divergent -s 11 -H 1 > /dev/null
$SR create -p -H 2 s4 $PAGES none > /dev/null
$SR colo -i 100 -n 4 -D -x p4 s4 > "$WORK/colo-drop.out" 2>&1
check "colo without the back channel's dirty lists: the secondary refuses a checkpoint, none differs" [ $? = 0 ]

# COLO cut on purpose (-C): the secondary fails over into exactly the state it last
# stopped in; with svm-scribble (one byte of it changed first) the check says WRONG.
$SR create p6 $PAGES divergent -s 11 -H 1 > /dev/null
$SR create -p -H 2 s6 $PAGES none > /dev/null
$SR colo -i 100 -n 3 -c p6 s6 > "$WORK/colo-count.out" 2>&1
m=$(sed -n 's/^@@COLO records main=\([0-9]*\) back=[0-9]*$/\1/p' "$WORK/colo-count.out")
check "colo -c counts the records of both channels" eval '[ "${m:-0}" -gt 6 ]'
$SR destroy s6 > /dev/null
$SR create -p -H 2 s6 $PAGES none > /dev/null
$SR colo -i 100 -n 3 -C main:$((m - 4)) p6 s6 > "$WORK/colo-cut.out" 2>&1
rc=$?
check "colo -C main:$((m - 4)): the secondary fails over, suspended, exactly" eval '[ $rc = 0 ] &&
    grep -q "^@@COLO failover cut=main:$((m - 4)) phase=suspended checkpoint=2 exact=1 .*=> ok$" "$WORK/colo-cut.out"'
$SR list > "$WORK/list3"
check "colo -C: the survivor and the primary run" eval 'grep -q "^s6 .*running" "$WORK/list3" &&
    grep -q "^p6 .*running" "$WORK/list3"'
$SR destroy s6 > /dev/null
$SR create -p -H 2 s6 $PAGES none > /dev/null
COLO_FAULT=svm-scribble=5 $SR colo -i 100 -n 3 -C main:$((m - 4)) p6 s6 > "$WORK/colo-scribble.out" 2>&1
rc=$?
check "colo -C with svm-scribble: the failover check reports it" eval '[ $rc = 1 ] &&
    grep -q "exact=0 .*=> WRONG$" "$WORK/colo-scribble.out"'
$SR colo -C sideways:3 p6 s6 > "$WORK/colo-badcut.out" 2>&1
rc=$?
check "colo -C sideways:3 is refused, naming the forms" eval '[ $rc = 2 ] &&
    grep -q "want main:N, back:N" "$WORK/colo-badcut.out"'

$SR create -r 5000 p5 $PAGES dirtyrate > /dev/null
$SR logdirty -i 50 -n 4 p5 > "$WORK/logdirty.out" 2>&1
rc=$?
check "logdirty: 4 rounds on a running guest, its writes seen" eval '[ $rc = 0 ] &&
    grep -Eq "^logdirty: 4 rounds of 50 ms, [1-9][0-9]* pages dirty in all$" "$WORK/logdirty.out"'
$SR list > "$WORK/list2"
check "logdirty: the guest still runs" grep -q '^p5 .*running' "$WORK/list2"
$SR logdirty nosuchdomain > "$WORK/logdirty-bad.out" 2>&1
rc=$?
check "logdirty of a missing domain fails with its name" \
    eval '[ $rc != 0 ] && grep -q "no domain .nosuchdomain." "$WORK/logdirty-bad.out"'
$SR logdirty -n 3x p5 > "$WORK/logdirty-n.out" 2>&1
rc=$?
check "logdirty -n 3x is refused, naming the value" \
    eval '[ $rc = 2 ] && grep -q "^xhv-sr: -n: .3x. is not a number$" "$WORK/logdirty-n.out"'

[ $FAILS = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do echo "== $f"; tail -n 15 "$f"; done; }
exit $((FAILS > 0))
