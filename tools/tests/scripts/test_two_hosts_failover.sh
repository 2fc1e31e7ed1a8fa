#!/bin/bash
# Two hosts (network namespaces, sshd on B): Remus and COLO with `xl remus` over ssh,
# and the failures a protected guest must survive.  B takes over only when it knows
# the primary is dead: its fence script (xl remus --fence-script; here one that
# destroys the domain on A out of band, as a fence agent powers a host off) succeeded,
# or an operator said so (xl failover).  Without either, B holds its copy, paused.
#   1. Remus: the primary host dies in the middle of a checkpoint (fenced);
#   2. Remus: the link is cut in the middle of a checkpoint: with a fence script, B
#      fences A and takes over; without one, B holds its copy and A runs on, then
#      `xl failover --release` gives B's copy up; and once A's primary is gone by
#      hand, `xl failover` makes B take over;
#   3. COLO: the primary host dies in the middle of a checkpoint (fenced);
#   4. COLO: the primary's libxl-save-helper is killed: A's primary resumes, B (no fence
#      script) holds its copy;
#   5. COLO: the secondary hangs (its xl and helper stopped): the primary notices within
#      its heartbeat timeout and continues unprotected; B, resumed, holds its copy;
#   6. COLO: the primary hangs between checkpoints: the secondary notices within its
#      heartbeat timeout (2.5 s here), fences A and fails over;
#   7. Remus: the primary's save helper hangs (SIGSTOP) while it streams a heavy
#      checkpoint, the connection stays up: the secondary sees the stream stall, fences
#      A, fails over into the last whole checkpoint, and equals A there.
# After each: exactly one copy of the guest runs (never two, never none).  The
# survivor's guest must pass its own memory self-check, and after a Remus failover B's
# domain must equal A's at the last whole checkpoint (digests of memory and vcpu
# context, taken by libxl on A while the guest was suspended with that checkpoint).
. "$(dirname "$0")/twohosts.inc"
setup_hosts
SSH="ssh -F $SSHCFG"
FENCE=$(fence_script)

# Host A dies: every process of the replication and the primary domain.
kill_host_A() {   # xl_pid domain
    local p
    for p in $(descendants "$1") "$1"; do kill -9 "$p" 2>/dev/null; done
    wait "$1" 2>/dev/null
    xlA destroy "$2" >/dev/null 2>&1
}
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2"; }

# Remus: B's domain must equal A's checkpoint k, where k = checkpoints B received whole.
check_remus_equal() {   # label
    local note=$DIG_B/secondary-failover k
    k=$(field checkpoints "$note")
    say "$1: B received $k whole checkpoints; B: $(cut -d' ' -f4- "$note"); A at checkpoint $k: $(cat "$DIG_A/primary-checkpoint-$k" 2>/dev/null)"
    check "$1: B fell back to checkpoint 3 (the one before the interrupted one)" [ "$k" = 3 ]
    check "$1: B's memory and context equal A's at checkpoint $k" \
        [ "mem=$(field mem "$note") ctx=$(field ctx "$note")" = "$(cat "$DIG_A/primary-checkpoint-$k" 2>/dev/null)" ]
}

check_survivor() {   # label onX domain
    sleep 0.5
    check "$1: the guest runs ($(dom_field "$2" "$3" state))" [ "$(dom_field "$2" "$3" state)" = "r-----" ]
    check "$1: the guest passed its self-check (passed $(dom_field "$2" "$3" selfchecks_passed), failed $(dom_field "$2" "$3" selfchecks_failed))" \
        [ "$(dom_field "$2" "$3" selfchecks_passed)" -ge 1 -a "$(dom_field "$2" "$3" selfchecks_failed)" = 0 ]
}

reset_digests() { rm -f "$DIG_A"/* "$DIG_B"/*; }

# B holds its copy: it exists and does not run (paused, or suspended where it stopped).
held_on_B() {   # domain
    local st i
    for i in $(seq 30); do   # the hold follows the failover note within moments
        st=$(dom_field onB "$1" state)
        [ "$st" != none ] && case "$st" in r*|-b*) ;; *) break ;; esac
        sleep 0.1
    done
    say "B's $1: $st"
    [ "$st" != none ] && case "$st" in r*|-b*) false ;; *) true ;; esac
}

# ---- 1. Remus: the primary dies mid-checkpoint --------------------------------------------
reset_digests
xlA create -q "$(guest_cfg r1 incrementer 16 20000)"
onA env COLO_FAULT=primary-stall=4 "$XL" remus -i 50 --fence-script "$FENCE" -s "$SSH" r1 hostB >"$WORK/r1.out" 2>&1 &
pid=$!
if wait_file "$DIG_A/primary-stalled" 30; then
    say "1: A stalled inside checkpoint 4 (CHECKPOINT sent, CHECKPOINT_END not): killing host A"
    kill_host_A $pid r1
    check "1: B failed over" wait_file "$DIG_B/secondary-failover" 20
    check_remus_equal "1"
    check_survivor "1" onB r1
    check "1: B ran its fence script first" grep -q "fence r1" "$WORK/fence.log"
    check_one_copy "1" r1
else
    notok "1: Remus did not reach checkpoint 4"; sed 's/^/#   /' "$WORK/r1.out" | tail; kill_host_A $pid r1
fi

# ---- 2. Remus: the link is cut mid-checkpoint ---------------------------------------------
link_cut_remus() {   # label domain [fence script]
    reset_digests
    xlA create -q "$(guest_cfg "$2" incrementer 16 20000)"
    onA env COLO_FAULT=primary-stall=4:1500 "$XL" remus -i 50 ${3:+--fence-script "$3"} \
        -s "$SSH" "$2" hostB >"$WORK/$2.out" 2>&1 &
    pid=$!
    if ! wait_file "$DIG_A/primary-stalled" 30; then
        notok "$1: Remus did not reach checkpoint 4"; sed 's/^/#   /' "$WORK/$2.out" | tail
        kill_host_A $pid "$2"; return 1
    fi
    say "$1: A stalled inside checkpoint 4: cutting the link"
    ip -n "$NS_A" link set "${TAG}va" down
    check "$1: B failed over (sshd's keepalive ends the session)" \
        wait_file "$DIG_B/secondary-failover" 20
    check "$1: A's xl remus ended" wait_gone $pid 20
    wait $pid
    check_remus_equal "$1"
}
if link_cut_remus 2a r2 "$FENCE"; then
    check "2a: B fenced A" grep -q "fence r2" "$WORK/fence.log"
    check_survivor "2a (B)" onB r2
    check "2a: A's primary is gone" [ "$(dom_field onA r2 state)" = none ]
    check_one_copy "2a" r2
    ip -n "$NS_A" link set "${TAG}va" up
    xlB destroy r2 >/dev/null 2>&1
fi
if link_cut_remus 2b r3; then
    sed 's/^/#   A: /' "$WORK/r3.out" | grep -v "checkpoint [0-9]* (" | tail -3
    check "2b: without a fence script B holds its copy, paused" held_on_B r3--incoming
    check "2b: ... and A's primary runs on, unprotected" \
        eval '[ "$(dom_field onA r3 state)" = "r-----" ] && grep -q "keeps running here, unprotected" "$WORK/r3.out"'
    check_one_copy "2b" r3
    xlB failover --release r3--incoming >"$WORK/r3-release.out" 2>&1
    check "2b: xl failover --release gives B's copy up" \
        eval '[ "$(dom_field onB r3--incoming state)" = none ] && [ "$(dom_field onB r3 state)" = none ]'
    check_one_copy "2b, released" r3
    ip -n "$NS_A" link set "${TAG}va" up
    xlA destroy r3 >/dev/null 2>&1
fi
if link_cut_remus 2c r4; then
    say "2c: B holds its copy; the operator makes sure A's primary is dead, then: xl failover"
    xlA destroy r4 >/dev/null 2>&1
    xlB failover r4--incoming >"$WORK/r4-failover.out" 2>&1
    check "2c: xl failover makes B's held copy take over" \
        eval '[ $? = 0 ] && [ "$(dom_field onB r4 state)" = "r-----" ]'
    sed 's/^/#   B: /' "$WORK/r4-failover.out"
    check_survivor "2c (B)" onB r4
    check_one_copy "2c" r4
    ip -n "$NS_A" link set "${TAG}va" up
    xlB destroy r4 >/dev/null 2>&1
fi

# ---- 3. COLO: the primary dies mid-checkpoint ---------------------------------------------
reset_digests
xlA create -q "$(guest_cfg c3 divergent 16 20000)"
onA env COLO_FAULT=primary-stall=4 "$XL" remus -c --fence-script "$FENCE" -s "$SSH" c3 hostB >"$WORK/c3.out" 2>&1 &
pid=$!
if wait_file "$DIG_A/primary-stalled" 30; then
    say "3: A stalled inside checkpoint 4 (SVM ready, PVM not resumed): killing host A"
    kill_host_A $pid c3
    check "3: B failed over" wait_file "$DIG_B/secondary-failover" 20
    say "3: B: $(cat "$DIG_B/secondary-failover")"
    check "3: B had applied checkpoint 4" [ "$(field checkpoints "$DIG_B/secondary-failover")" = 4 ]
    check_survivor "3" onB c3
    check_one_copy "3" c3
else
    notok "3: COLO did not reach checkpoint 4"; sed 's/^/#   /' "$WORK/c3.out" | tail; kill_host_A $pid c3
fi

# ---- 4. COLO: the save helper is killed ---------------------------------------------------
reset_digests
xlA create -q "$(guest_cfg c4 incrementer 16 20000)"
onA "$XL" remus -c -s "$SSH" c4 hostB >"$WORK/c4.out" 2>&1 &
pid=$!
if wait_file "$DIG_A/primary-checkpoint-3" 30; then
    helper=$(for p in $(descendants $pid); do
                 tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q "libxl-save-helper --save-domain" &&
                     echo $p; done)
    say "4: killing libxl-save-helper (pid $helper) on A"
    [ -n "$helper" ] && kill -9 $helper
    check "4: A's xl remus ends" wait_gone $pid 20 || kill_host_A $pid c4
    wait $pid; rc=$?
    sed 's/^/#   A: /' "$WORK/c4.out" | grep -v "checkpoint [0-9]* (" | tail -5
    check "4: the helper's death is reported with its signal" grep -q "killed by signal 9" "$WORK/c4.out"
    check "4: xl remus exits 1 and the primary keeps running" [ $rc = 1 ]
    check_survivor "4 (A: the primary was resumed)" onA c4
    check "4: B failed over" wait_file "$DIG_B/secondary-failover" 20
    check "4: B (no fence script) holds its copy, stopped" held_on_B c4--incoming
    check_one_copy "4" c4
    xlB failover --release c4--incoming >/dev/null 2>&1
else
    notok "4: COLO did not reach checkpoint 3"; sed 's/^/#   /' "$WORK/c4.out" | tail; kill_host_A $pid c4
fi
# ---- 5. COLO: the secondary hangs ---------------------------------------------------------
reset_digests
xlA create -q "$(guest_cfg c5 incrementer 16 2000)"
onA env LIBXL_HEARTBEAT_TIMEOUT_MS=1500 LIBXL_SAVE_HELPER_TIMEOUT_MS=1500 \
    "$XL" remus -c -s "$SSH" c5 hostB >"$WORK/c5.out" 2>&1 &
pid=$!
if wait_file "$DIG_A/primary-checkpoint-3" 30; then
    stopped=$(for p in $(descendants "$SSHD_PID"); do
                  tr '\0' ' ' </proc/$p/cmdline 2>/dev/null |
                      grep -qE "xl migrate-receive|libxl-save-helper" && echo $p; done)
    say "5: stopping B's xl migrate-receive and helper (pids $(echo $stopped))"
    kill -STOP $stopped
    start=$(date +%s%N)
    check "5: A's xl remus gives up on the hung secondary" wait_gone $pid 20
    wait $pid; rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    sed 's/^/#   A: /' "$WORK/c5.out" | grep -E "error|Backup" | tail -3
    check "5: ... within the heartbeat timeout ($ms ms, timeout 1500 ms + abort)" [ $ms -lt 6000 ]
    check "5: ... saying the secondary is lost (or the helper hung on a full link)" \
        grep -qE "secondary lost|hung" "$WORK/c5.out"
    check "5: xl remus exits 1, the primary continues unprotected" [ $rc = 1 ]
    check_survivor "5 (A)" onA c5
    kill -CONT $stopped 2>/dev/null
    # Resumed, B finds the stream gone: with no fence script it holds its copy.
    check "5: B, resumed, sees the stream gone" wait_file "$DIG_B/secondary-failover" 20
    check "5: ... and holds its copy, stopped" held_on_B c5--incoming
    check_one_copy "5" c5
    xlB failover --release c5--incoming >/dev/null 2>&1
else
    notok "5: COLO did not reach checkpoint 3"; sed 's/^/#   /' "$WORK/c5.out" | tail; kill_host_A $pid c5
fi

# ---- 6. COLO: the primary hangs between checkpoints ---------------------------------------
reset_digests
xlA create -q "$(guest_cfg c6 incrementer 16 20000)"
onA env COLO_FAULT=primary-stall=3 "$XL" remus -c --fence-script "$FENCE" -s "$SSH" c6 hostB >"$WORK/c6.out" 2>&1 &
pid=$!
if wait_file "$DIG_A/primary-stalled" 30; then
    start=$(date +%s%N)
    say "6: A hangs at checkpoint 3; its ssh connection stays up"
    check "6: B failed over on its heartbeat timeout" wait_file "$DIG_B/secondary-failover" 20
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "6: ... after $ms ms (timeout 2500 ms)" [ $ms -ge 2000 -a $ms -lt 8000 ]
    check "6: B had applied checkpoint 3" [ "$(field checkpoints "$DIG_B/secondary-failover")" = 3 ]
    check_survivor "6 (B)" onB c6
    check "6: B fenced A (its hung primary destroyed)" [ "$(dom_field onA c6 state)" = none ]
    check_one_copy "6" c6
    kill_host_A $pid c6
else
    notok "6: COLO did not reach checkpoint 3"; sed 's/^/#   /' "$WORK/c6.out" | tail; kill_host_A $pid c6
fi
# ---- 7. Remus: the primary hangs in the middle of streaming a checkpoint ------------------
reset_digests
xlA create -q "$(guest_cfg r7 incrementer 64 0)"
onA "$XL" remus -i 50 --fence-script "$FENCE" -s "$SSH" r7 hostB >"$WORK/r7.out" 2>&1 &
pid=$!
if wait_file "$DIG_A/primary-checkpoint-3" 60; then
    helper=$(for p in $(descendants $pid); do
                 tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q "libxl-save-helper --save-domain" &&
                     echo $p; done)
    kill -STOP $helper
    start=$(date +%s%N)
    say "7: A's save helper (pid $helper) stopped; its ssh connection stays up"
    check "7: B failed over on the stalled stream" wait_file "$DIG_B/secondary-failover" 20
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "7: ... after $ms ms (timeout 2500 ms)" [ $ms -ge 2000 -a $ms -lt 9000 ]
    note=$DIG_B/secondary-failover
    k=$(field checkpoints "$note")
    say "7: B received $k whole checkpoints; B: $(cut -d' ' -f4- "$note"); A at checkpoint $k: $(cat "$DIG_A/primary-checkpoint-$k" 2>/dev/null)"
    check "7: B's memory and context equal A's at checkpoint $k, the last whole one" \
        [ "mem=$(field mem "$note") ctx=$(field ctx "$note")" = "$(cat "$DIG_A/primary-checkpoint-$k" 2>/dev/null)" ]
    check_survivor "7 (B)" onB r7
    check_one_copy "7" r7
    kill_host_A $pid r7
else
    notok "7: Remus did not reach checkpoint 3"; sed 's/^/#   /' "$WORK/r7.out" | tail; kill_host_A $pid r7
fi
exit $((FAILS > 0))
