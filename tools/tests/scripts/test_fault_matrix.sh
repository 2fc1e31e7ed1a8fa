#!/bin/bash
# Faults on the main stream at random byte offsets (seeded: FAULT_SEED, printed), for
# Remus and COLO through xl on one host (a local pair, `-s ""`), from the fault table
# (COLO_FAULT, tools/include/xfault.h):
#   primary-dies-at=BYTES  the primary host dies there: the secondary takes over in
#                          exactly the last whole checkpoint (Remus: memory and context
#                          equal the primary's digest at that checkpoint), or, before the
#                          first one, refuses and leaves nothing behind;
#   main-cut-at=BYTES      the link breaks there, the primary lives: the secondary gives
#                          its copy up and the primary runs on.
# Every run ends within its time limit, and never with two running copies.
. "$(dirname "$0")/local.inc"
SEED=${FAULT_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
say "seed $SEED (FAULT_SEED=$SEED reproduces these offsets)"
DIG=$WORK/digests
MAXOFF=$(( 9 * 1024 * 1024 ))   # a 4 MiB guest's live pass and a dozen checkpoints

offset() { echo $(( (RANDOM * 32768 + RANDOM) % MAXOFF )); }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2"; }
copies_running() {   # name: running copies under its name or as the incoming one
    local n=0 d
    for d in "$1" "$1--incoming"; do
        case "$(dom_field "$d" state)" in r*|-b*) n=$((n+1)) ;; esac
    done
    echo $n
}

# One run: FAULT mode name offset; sets RC and leaves the output in $WORK/NAME.out.
run_fault() {
    local fault=$1 mode=$2 name=$3 off=$4 recv=-r flags="-i 50"
    [ "$mode" = colo ] && { recv=--colo; flags="-c -i 50"; }
    rm -rf "$DIG"; mkdir -p "$DIG"
    "$XL" create -q "$(guest_cfg "$name" incrementer 4 2000)"
    COLO_FAULT=$fault=$off LIBXL_CHECKPOINT_DIGEST_DIR=$DIG LIBXL_HEARTBEAT_TIMEOUT_MS=3000 \
        timeout 90 "$XL" remus $flags -s "" "$name" "$XL migrate-receive $recv" \
        >"$WORK/$name.out" 2>&1
    RC=$?
}

wrong=0; runs=0; taken=0; refused=0
verdict() {   # label condition...
    local what=$1; shift
    runs=$((runs+1))
    if eval "$@"; then ok "$what"; else notok "$what"; wrong=$((wrong+1)); sed 's/^/#   /' "$WORK/$name.out" | tail -6; fi
}

# The primary dies at a random byte: the survivor, or nothing before the first checkpoint.
primary_dies() {   # mode name
    local mode=$1 name=$2 off=$(offset) note=$DIG/secondary-failover k label
    label=$([ "$mode" = colo ] && echo COLO || echo Remus)
    run_fault primary-dies-at "$mode" "$name" "$off"
    if [ -f "$note" ]; then
        k=$(field checkpoints "$note")
        taken=$((taken+1))
        sleep 0.5
        # Remus resumes exactly the last whole checkpoint; a COLO secondary ran on its own
        # since, so it is checked by running and by its self-checks.
        verdict "$label, primary dies at byte $off: the secondary took over after checkpoint $k, runs, self-checks pass, one copy" \
            '[ $RC != 124 ] && [ "$k" -ge 1 ] && [ "$(copies_running "$name")" = 1 ] && [ "$(dom_field "$name" state)" = "r-----" ] && [ "$(dom_field "$name" selfchecks_failed)" = 0 ] &&
             { [ "$mode" = colo ] || [ "mem=$(field mem "$note") ctx=$(field ctx "$note")" = "$(cat "$DIG/primary-checkpoint-$k" 2>/dev/null)" ]; }'
    else
        refused=$((refused+1))
        verdict "$label, primary dies at byte $off (before the first checkpoint): nothing taken over or left behind" \
            '[ $RC != 124 ] && [ ! -e "$DIG/primary-checkpoint-1" ] && [ "$(dom_field "$name" state)" = none ] && [ "$(dom_field "$name--incoming" state)" = none ]'
    fi
    "$XL" destroy "$name" >/dev/null 2>&1
}

for i in 1 2 3 4 5 6 7 8; do primary_dies remus rd$i; done
for i in 1 2 3 4 5; do primary_dies colo cd$i; done
for i in 1 2 3; do
    name=rc$i; off=$(offset)
    run_fault main-cut-at remus "$name" "$off"
    verdict "Remus, link cut at byte $off, the primary lives: the secondary gave its copy up, the primary runs" \
        '[ $RC != 124 ] && [ "$(dom_field "$name" state)" = "r-----" ] && [ "$(dom_field "$name--incoming" state)" = none ] && [ "$(copies_running "$name")" = 1 ]'
    "$XL" destroy "$name" >/dev/null 2>&1
done

say "$runs runs (seed $SEED): $taken taken over, $refused before the first checkpoint, $wrong wrong"
check "a malformed COLO_FAULT is refused, naming what is wrong" \
    eval 'COLO_FAULT=main-cut-at=x "$HELPER" --save-domain 3 -1 99999 0 0 0 3>/dev/null </dev/null 2>&1 >/dev/null | grep -q "main-cut-at.: .x. is not BYTES: no fault injected"'
exit $((FAILS > 0))
