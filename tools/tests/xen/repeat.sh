#!/bin/bash
# The COLO-through-xl step (or another) many times in one boot, in several boots, with
# the dom0 canary watching (dom0-init.sh, dom0-canary.c); prints the counts.
#
#   tools/tests/xen/repeat.sh [RUNS [BOOTS [STEP]]]
#
# Defaults: XEN_REPEAT_RUNS=10, XEN_REPEAT_BOOTS=3, XEN_REPEAT_STEP=ours_xl_colo.
# Each boot runs the plan toolstack+dom0_canary_selftest+pvh_create+STEP x RUNS (one QEMU
# at a time; about a minute per COLO run under TCG).  Logs: build/xen-repeat/boot-N.*.
# Exit status 0 only if every boot passed every result, the canary's self-test passed
# in every boot, and no canary violation and no dom0 fault was seen anywhere.
set -uo pipefail
cd "$(dirname "$0")/../../.."
RUNS=${1:-${XEN_REPEAT_RUNS:-10}}
BOOTS=${2:-${XEN_REPEAT_BOOTS:-3}}
STEP=${3:-${XEN_REPEAT_STEP:-ours_xl_colo}}
OUT=${XEN_IMAGE:-$PWD/build/xen-image}
DIR=$PWD/build/xen-repeat
mkdir -p "$DIR"
PLAN=toolstack+dom0_canary_selftest+pvh_create
for ((i = 0; i < RUNS; i++)); do PLAN=$PLAN+$STEP; done
tot_runs=0; tot_ok=0; tot_viol=0; tot_faults=0; tot_fail=0; tot_rerun=0; bad_boots=0
for ((b = 1; b <= BOOTS; b++)); do
    echo "repeat: boot $b of $BOOTS: $STEP x $RUNS"
    XEN_CANARY_STRICT=1 XEN_TIMEOUT=${XEN_TIMEOUT:-$((400 + RUNS * 150))} ./tools/tests/xen/run.sh "$PLAN" \
        > "$DIR/boot-$b.out" 2>&1
    rc=$?
    cp "$OUT/serial.log" "$DIR/boot-$b.serial.log" 2>/dev/null
    res=$DIR/boot-$b.out
    # the step's own result lines (not its sub-results): one per run
    runs=$(grep -cE "^(PASS|FAIL) +xen/$STEP " "$res")
    ok=$(grep -cE "^PASS +xen/$STEP " "$res")
    fails=$(grep -cE '^FAIL ' "$res")
    dom0_ok=$(grep -cE "^PASS +xen/${STEP}_dom0 " "$res")
    dom0_fail=$(grep -cE "^FAIL +xen/${STEP}_dom0 " "$res")
    equal=$(grep -cE "^PASS +xen/${STEP}_equal " "$res")
    selftest=$(grep -E '^(PASS|FAIL) +xen/dom0_canary_selftest ' "$res" | awk '{print $1}')
    # From the serial log itself, outside the self-test's deliberate ones: reports of bad
    # memory and of faults the canary saw, and tool crashes the harness saw.
    viol=$(grep -a '@@CANARY \(BAD\|PROBE-DIED\)' "$DIR/boot-$b.serial.log" | grep -avc 'phase=dom0_canary_selftest')
    faults=$(grep -a '@@CANARY FAULT' "$DIR/boot-$b.serial.log" | grep -avc 'phase=dom0_canary_selftest')
    crashes=$(grep -ac '@@INFO harness: grep exited' "$DIR/boot-$b.serial.log")
    killed=$(grep -a 'dom0 processes killed by a fault' "$res" | sed 's/^xen: @@INFO //')
    reruns=$(grep -c '^xen: step .* is run again' "$res")
    summary=$(grep -E '^xen: [0-9]+ passed' "$res" | sed 's/^xen: //')
    echo "repeat: boot $b: $summary (rc $rc); $STEP: $ok of $runs runs passed, ${STEP}_equal $equal," \
         "canary verdicts $dom0_ok ok / $dom0_fail failed; canary self-test ${selftest:-missing};" \
         "violations $viol, kernel-logged faults $faults, harness tool crashes $crashes; reruns $reruns"
    echo "repeat: boot $b: ${killed:-dom0 processes killed by a fault: (line missing)}"
    grep -a '@@CANARY \(BAD\|FAULT\|PROBE-DIED\)' "$DIR/boot-$b.serial.log" | grep -av 'phase=dom0_canary_selftest' |
        head -n 5 | cut -c1-300 | sed 's/^/repeat:   /'
    tot_runs=$((tot_runs + runs)); tot_ok=$((tot_ok + ok)); tot_fail=$((tot_fail + fails))
    tot_viol=$((tot_viol + viol)); tot_faults=$((tot_faults + faults + crashes))
    tot_rerun=$((tot_rerun + reruns))
    if [ "$rc" != 0 ] || [ "$runs" != "$RUNS" ] || [ "$ok" != "$RUNS" ] || [ "$selftest" != PASS ] ||
       [ "$viol" != 0 ] || [ "$faults" != 0 ] || [ "$crashes" != 0 ]; then
        bad_boots=$((bad_boots + 1))
    fi
done
echo "repeat: $BOOTS boots x $RUNS runs of $STEP: $tot_ok of $tot_runs runs passed; $tot_fail failed results;" \
     "canary violations $tot_viol, dom0 faults $tot_faults; steps run again $tot_rerun; boots with a failure $bad_boots"
[ "$bad_boots" = 0 ]
