#!/bin/bash
# Faults at random byte offsets (seeded: FAULT_SEED, printed), for Remus and COLO through
# xl on one host (a local pair, `-s ""`), from the fault table (COLO_FAULT,
# tools/include/xfault.h):
#   primary-dies-at=BYTES  the primary host dies there: the secondary takes over in
#                          exactly the last whole checkpoint (Remus: memory and context
#                          equal the primary's digest at that checkpoint), or, before the
#                          first one, refuses and leaves nothing behind;
#   main-cut-at=BYTES      the link breaks there, the primary lives: the secondary gives
#                          its copy up and the primary runs on.
# With the primary alive, these end in an error that names their effect, the secondary's
# copy given up (the primary lives, on this host) and the primary running on:
#   back-cut-at=BYTES      COLO: the secondary's back channel breaks;
#   back-corrupt-at=BYTES  COLO: one byte of it inverted (divergent guests, the pair
#                          compared after every checkpoint: never a difference; a
#                          corruption that changes nothing is a run stopped on request);
#   main-delay=BYTES:MS    a stall longer than the heartbeat: the primary is lost to the
#                          secondary; one shorter than it changes nothing: the run goes
#                          on until stopped on request, no failover on the way;
#   back-delay=BYTES:MS    COLO: the same on the back channel;
#   helper-pipe-cut-at=BYTES  the save helper's messages to libxl break;
#   helper-kill-at=POINT:N    the save or the restore helper is killed (SIGKILL).
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
    if eval "$@"; then ok "$what"; else
        notok "$what"; wrong=$((wrong+1))
        grep -m2 -E "test: COLO checkpoint [0-9]+: [1-9]" "$WORK/$name.out" | sed 's/^/#   /'
        sed 's/^/#   /' "$WORK/$name.out" | tail -6
    fi
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

# ---- faults with the primary alive, run in the background: stopped on request (SIGINT)
# three checkpoints after the fault when the fault did not end the run by itself ----
HB=3000   # the heartbeat (LIBXL_HEARTBEAT_TIMEOUT_MS)
run_link() {   # fault=value mode name [divergent]
    local spec=$1 mode=$2 name=$3 div=${4:-} recv=-r flags="-i 50" prog=incrementer
    local env_rx="" pvm pid k0="" t
    [ "$mode" = colo ] && { recv=--colo; flags="-c -i 50"; }
    rm -rf "$DIG"; mkdir -p "$DIG"
    [ -n "$div" ] && prog=divergent
    "$XL" create -q "$(guest_cfg "$name" $prog 4 2000)"
    # divergent: the secondary's host-local input differs (its B is not A), and the pair
    # is compared after every checkpoint (which turns staging off)
    pvm=$("$XL" list | awk -v n="$name" '$1 == n {print $2}')
    [ -n "$div" ] && env_rx="SIMXEN_HOST_INPUT=77 LIBXL_TEST_COLO_COMPARE=$pvm"
    env COLO_FAULT="$spec" LIBXL_CHECKPOINT_DIGEST_DIR=$DIG LIBXL_HEARTBEAT_TIMEOUT_MS=$HB \
        ${div:+LIBXL_TEST_COLO_COMPARE=$pvm} \
        "$XL" remus $flags -s "" "$name" "env $env_rx $XL migrate-receive $recv" \
        >"$WORK/$name.out" 2>&1 &
    pid=$!
    STOPPED=0
    for ((t = 0; t < 600; t++)); do   # 60 s
        kill -0 $pid 2>/dev/null || break
        if [ -z "$k0" ] && grep -q "fault ${spec%%=*}" "$WORK/$name.out"; then
            k0=$(ls "$DIG" | grep -c primary-checkpoint)
        fi
        if [ -n "$k0" ] && [ "$(ls "$DIG" | grep -c primary-checkpoint)" -ge $((k0 + 3)) ]; then
            kill -INT $pid; STOPPED=1; break
        fi
        sleep 0.1
    done
    if kill -0 $pid 2>/dev/null && [ $STOPPED = 0 ]; then
        kill -KILL $pid; wait $pid; RC=124
    else
        wait $pid; RC=$?
    fi
    sleep 0.5
}

# The primary lived: one copy, the primary, running and sound, nothing left of the
# secondary; the pair never differed after a checkpoint (when compared); and the run
# ended in an error that names the fault's effect (how 0), went on until stopped on
# request (how 2), or either (how 1).
link_verdict() {   # label effect-regex how
    local label=${1/#remus/Remus} rx=$2 how=$3 out=$WORK/$name.out ended
    label=${label/#colo/COLO}
    if [ $STOPPED = 1 ]; then
        links_stopped=$((links_stopped+1)); ended="ran on until stopped"
    else
        links_error=$((links_error+1))
        ended="error: $(grep -oE -m1 "${rx:-error: .*}" "$out")"
    fi
    verdict "$label: $ended; the primary runs, one copy" \
        '[ $RC != 124 ] && running_ok "$name" && [ "$(dom_field "$name--incoming" state)" = none ] && [ "$(copies_running "$name")" = 1 ] &&
         ! grep -E "test: COLO checkpoint [0-9]+: [1-9][0-9]* pages" "$out" >/dev/null &&
         if [ $STOPPED = 1 ]; then [ $how != 0 ] && [ $RC = 0 ] && grep -q "Replication stopped" "$out";
         else [ $how != 2 ] && grep -qE "$rx" "$out"; fi'
    "$XL" destroy "$name" >/dev/null 2>&1
}
links_stopped=0; links_error=0; ndl=0; ndh=0; nhp=0; nhk=0

for i in 1 2 3 4; do
    name=bc$i; off=$((RANDOM % 8000))
    run_link back-cut-at=$off colo "$name"
    link_verdict "COLO, back channel cut at byte $off" \
        "Unable to write record \(0x0000000f[^:]*|Back channel broken" 0
done
for i in 1 2 3 4 5 6; do
    name=bx$i; off=$((RANDOM % 8000))
    run_link back-corrupt-at=$off colo "$name" divergent
    link_verdict "COLO, back channel byte $off inverted" \
        "Back channel: [^:]*|lacks [0-9]+ of the pages this secondary reported dirty|secondary lost: [^:]*|Stream truncated inside record [^,]*" 1
done
for m in remus remus colo colo; do
    name=dl$m$((++ndl)); off=$(offset)
    run_link main-delay=$off:1000 $m "$name"
    link_verdict "$m, main stream stalls 1000 ms (below the ${HB} ms heartbeat) at byte $off" "" 2
done
for m in remus colo colo; do
    name=dh$m$((++ndh)); off=$(offset)
    run_link main-delay=$off:$((HB + 2000)) $m "$name"
    link_verdict "$m, main stream stalls $((HB + 2000)) ms (above the heartbeat) at byte $off" \
        "primary lost: the stream stalled|the stream had stalled[^)]*" 0
done
for i in 1 2 3; do
    name=bd$i; off=$((RANDOM % 8000)); ms=$([ $i = 3 ] && echo $((HB + 2000)) || echo 1000)
    run_link back-delay=$off:$ms colo "$name"
    if [ $i = 3 ]; then
        # the secondary's own watchdog ends it: its helper reads nothing while it stalls
        link_verdict "COLO, back channel stalls $ms ms (above the heartbeat) at byte $off" \
            "primary lost: the stream stalled" 0
    else
        link_verdict "COLO, back channel stalls $ms ms (below the heartbeat) at byte $off" "" 2
    fi
done
for m in remus remus colo colo; do
    name=hp$m$((++nhp)); off=$((RANDOM % 4000))
    run_link helper-pipe-cut-at=$off $m "$name"
    link_verdict "$m, the save helper's messages to libxl cut at byte $off" \
        "libxl-save-helper \(pid [0-9]+\) exited with status 3" 0
done
points=(suspend checkpoint restore-checkpoint)
for m in remus remus remus colo colo colo; do
    name=hk$m$((++nhk)); at=${points[RANDOM % 3]}:$((RANDOM % 6 + 1))
    run_link helper-kill-at=$at $m "$name"
    link_verdict "$m, $([ "${at%%:*}" = restore-checkpoint ] && echo restore || echo save) helper killed at $at" \
        "libxl-save-helper \(pid [0-9]+\) was killed by signal 9" 0
done

say "$runs runs (seed $SEED): $taken taken over, $refused before the first checkpoint, $links_error ended by the fault's error, $links_stopped ran on until stopped, $wrong wrong"
check "a malformed COLO_FAULT is refused, naming what is wrong" \
    eval 'COLO_FAULT=main-cut-at=x "$HELPER" --save-domain 3 -1 99999 0 0 0 3>/dev/null </dev/null 2>&1 >/dev/null | grep -q "main-cut-at.: .x. is not BYTES: no fault injected"'
check "  ... and so is a point helper-kill-at does not have" \
    eval 'COLO_FAULT=helper-kill-at=resume:2 "$HELPER" --save-domain 3 -1 99999 0 0 0 3>/dev/null </dev/null 2>&1 >/dev/null | grep -q "helper-kill-at.: .resume:2. is not POINT:N (POINT suspend, checkpoint or restore-checkpoint): no fault injected"'
exit $((FAILS > 0))
