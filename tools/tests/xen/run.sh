#!/bin/bash
# Boots Debian's Xen 4.17 with a PV dom0 under QEMU (TCG) from the image that
# build-image.sh made, runs a plan inside dom0 and reports every step as a test result.
#
#   tools/tests/xen/run.sh [step+step+...]      (default: $XEN_PLAN or the full plan)
#
# Environment: XEN_IMAGE (default build/xen-image), XEN_TIMEOUT (whole run, s; default
# 2700: the default plan takes about 25 min under TCG), XEN_QEMU_MEM (MiB, default 1536), XEN_CANARY_MB (dom0 canary, default 64),
# XEN_CANARY_STRICT (default 1: a step in which the dom0 canary sees a violation or a
# dom0 fault fails; 0: reported as @@INFO and counted, for diagnosis),
# XEN_LAZY_FPU (1: Xen's default lazy FPU switching instead of eager; it corrupts
# register state under this emulator, see below: to reproduce that),
# XEN_QEMU_ACCEL (default tcg; e.g. tcg,thread=single: one host thread for both vcpus),
# XEN_EXTRA_ARGS (more Xen command-line options).  Output: build/xen-image/serial.log
# (each line stamped with seconds since QEMU started) and one line per step:
#     PASS|FAIL  xen/<step>  <seconds inside dom0>  [reason]
# Exit status 0 only if every planned step reported OK.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${XEN_IMAGE:-$PWD/build/xen-image}
# The migration steps (c) run one g1 along; ours_xl_remus/ours_xl_colo are (d)/(e)
# through the project's own xl, secondary built by our libxl (steps/xlremus.sh).
MIGRATE_PLAN=toolstack+pvh_create+migrate_upstream+migrate_ours_to_upstream+migrate_upstream_to_ours+migrate_upstream_our_helper+migrate_ours
# `run.sh net` (make check-xen-net): the guest with a network device (steps/net.sh)
# through the migrations; not in the default plan yet: in a whole-plan CI run its
# guests died of the emulator's faults and its migrations failed after them (2026-12-02).
NET_PLAN=toolstack+net_probe+net_migrate_upstream+net_migrate_ours+net_migrate_upstream_to_ours+net_migrate_ours_to_upstream+net_negative
DEFAULT_PLAN=toolstack+dom0_canary_selftest+pvh_create+two_guests+xl_saverestore+ours_list+ours_save+ours_live+ours_xl_save+remus+colo+colo_nobackchannel+colo_failover+remus_cut+timing+ours_xl_restore+ours_xl_remus+ours_xl_colo+migrate_upstream+migrate_ours_to_upstream+migrate_upstream_to_ours+migrate_upstream_our_helper+migrate_ours+pv_create+pv_ours_save+pv_ours_live_refused+pv_ours_save_upstream_restore+pv_guest_alive+pv_upstream_save_ours_restore+pv_ours_roundtrip+pv_ours_save_resume+pv_ours_xl_restore
# `make check-xen-failover`: the failover steps beyond the default plan's (every live
# save start is a chance for the emulator to kill a guest, so the default plan stays
# short): the whole COLO and Remus matrices, a two-vcpu guest, the save helper killed.
FAILOVER_PLAN=toolstack+dom0_canary_selftest+pvh_create+colo_failover_full+remus_cut_full+colo_smp+ours_xl_colo_helper_kill
[ "${1:-}" = migrate ] && set -- "$MIGRATE_PLAN"
[ "${1:-}" = failover ] && set -- "$FAILOVER_PLAN"
[ "${1:-}" = net ] && set -- "$NET_PLAN"
PLAN=${1:-${XEN_PLAN:-$DEFAULT_PLAN}}
TMO=${XEN_TIMEOUT:-2700}
MEM=${XEN_QEMU_MEM:-1536}
LOG=$OUT/serial.log
for f in xen.elf vmlinuz dom0.cpio; do
    [ -f "$OUT/$f" ] || { echo "FAIL xen/image: $OUT/$f missing (run build-image.sh)"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "FAIL xen/qemu: qemu-system-x86_64 not installed"; exit 1; }

# Xen: smap=0 (the PV dom0 faults in create_bounce_frame under TCG otherwise),
# bootscrub=0 (boot time and QEMU memory), conring_size=1m (a step's whole `xl dmesg`:
# dom0-init.sh reads it for emulator faults).  QEMU: TCG, not KVM (Xen under this host's
# KVM dies on an endbr64 emulation failure); -rdtscp: QEMU 7.2's SVM gives no next-RIP
# for an intercepted RDTSCP and Xen fails the PVH guest.
# spec-ctrl=eager-fpu: on this (AMD-flavoured) emulated CPU Xen switches FPU state
# lazily (CR0.TS, restored at the first #NM), and under QEMU 7.2 TCG that leaves a
# process with the vector registers of whoever used the FPU last on that CPU: the dom0
# register canary sees it in every COLO step, and it is what corrupted dom0 processes
# (docs/real-xen.md, "dom0 corruption").  Eagerly switched, none.
# dom0_mem=640M: with 512M, upstream `xl create -p` (about 100 MB while it builds a
# guest) was OOM-killed beside a 146 MB live-save image in dom0's tmpfs, the canary's
# 64 MiB and the rest (a fresh-clone CI run, 2026-12-02).
FPU_ARG=spec-ctrl=eager-fpu
[ "${XEN_LAZY_FPU:-0}" = 1 ] && FPU_ARG=
XEN_ARGS="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot smap=0 bootscrub=0 conring_size=1m \
dom0_mem=640M,max:640M dom0_max_vcpus=1 $FPU_ARG ${XEN_EXTRA_ARGS:-}"
# xcanary: MiB of the dom0 canary's resident buffer (dom0-init.sh; 0: no canary).
DOM0_ARGS="console=hvc0 earlyprintk=xen loglevel=4 xplan=$PLAN xcanary=${XEN_CANARY_MB:-64} xcanarystrict=${XEN_CANARY_STRICT:-1}"
# The transfer disk: dom0 writes saved images into it (@@EXPORT name offset_mb size),
# 256 MiB slots; sparse, so room for 8 exports (the default plan and steps/pv.sh's make
# five; with 1 GiB the fifth, pv_ours_xl_save, found no room).
rm -f "$OUT/xfer.img"; truncate -s 2G "$OUT/xfer.img"
QEMU=(qemu-system-x86_64 -accel "${XEN_QEMU_ACCEL:-tcg}" -cpu "${XEN_QEMU_CPU:-max,-rdtscp}" -smp 2 -m "$MEM"
      -display none -monitor none -no-reboot -serial stdio -pidfile "$OUT/qemu.pid"
      -kernel "$OUT/xen.elf" -append "$XEN_ARGS"
      -initrd "$OUT/vmlinuz $DOM0_ARGS,$OUT/dom0.cpio"
      -drive file="$OUT/xfer.img",format=raw,if=virtio)

# One run per image directory: a second one shares serial.log and xfer.img, and the
# first one's end kills the QEMU its pid file then names (seen: a run's steps lost).
if [ -f "$OUT/qemu.pid" ] && kill -0 "$(cat "$OUT/qemu.pid")" 2>/dev/null; then
    echo "FAIL xen/run: another run uses $OUT (QEMU pid $(cat "$OUT/qemu.pid")); set XEN_IMAGE"; exit 1
fi
echo "xen: booting Xen under QEMU TCG, plan $PLAN (log: $LOG, limit ${TMO}s)"
START=${EPOCHREALTIME/./}
rm -f "$OUT/qemu.pid"
# Stamp each serial line; stop QEMU at @@DONE (dom0 powers off itself, this is the
# backstop), at a dom0 crash or a Xen panic.
timeout -k 10 "$TMO" "${QEMU[@]}" </dev/null 2>&1 | while IFS= read -r line; do
    line=${line//$'\r'/}
    us=$(( ${EPOCHREALTIME/./} - START ))
    printf '[%4d.%02d] %s\n' $((us/1000000)) $(((us/10000)%100)) "$line"
    case "$line" in
        *@@DONE*|*"Hardware Dom0 crashed"*|*"Hardware Dom0 halted"*|*"Panic on CPU"*)
            # dom0's poweroff halts Xen but leaves QEMU running: stop our QEMU by its pid.
            sleep 1; [ -f "$OUT/qemu.pid" ] && kill "$(cat "$OUT/qemu.pid")" 2>/dev/null; break ;;
    esac
done > "$LOG"
rc_qemu=${PIPESTATUS[0]}
us=$(( ${EPOCHREALTIME/./} - START )); WALL=$((us/1000000)).$(((us/100000)%10))

# dom0 opens each attempt of a step with @@BEGIN; @@RERUN (a guest killed by the
# emulator, dom0-init.sh) discards that attempt's results and exports: they are shown
# as DISCARDED with the reason and not counted; the second attempt's results count.
marks=(); exports=(); reruns=0; m0=0; e0=0
while read -r kind rest; do
    case "$kind" in
        @@BEGIN) m0=${#marks[@]}; e0=${#exports[@]} ;;
        @@STEP) marks+=("$rest") ;;
        @@EXPORT) exports+=("$rest") ;;
        @@RERUN)
            reruns=$((reruns+1))
            echo "xen: step ${rest%% *} is run again: ${rest#* }"
            for ((i = m0; i < ${#marks[@]}; i++)); do
                read -r name st secs reason <<< "${marks[i]}"
                printf '%-4s %-50s %6ss %s\n' "(DISCARDED $st)" "xen/$name" "$secs" "$reason"
            done
            marks=("${marks[@]:0:m0}"); exports=("${exports[@]:0:e0}") ;;
    esac
done < <(grep -aoE '@@(BEGIN|STEP|EXPORT|RERUN) .*' "$LOG")
pass=0; fail=0
for m in "${marks[@]}"; do
    read -r name st secs reason <<< "$m"
    if [ "$st" = OK ]; then pass=$((pass+1)); s=PASS; else fail=$((fail+1)); s=FAIL; fi
    printf '%-4s %-50s %6ss %s\n' "$s" "xen/$name" "$secs" "$reason"
done
# Streams our engine saved on real Xen, checked by upstream's verify-stream-v2 (the
# raw libxc stream: -f libxc; a file with -i, not a pipe).
VERIFY=/usr/lib/xen-4.17/bin/verify-stream-v2
while read -r name off size fmt; do
    t0=${EPOCHREALTIME/./}
    tail -c +$((off * 1024 * 1024 + 1)) "$OUT/xfer.img" | head -c "$size" > "$OUT/$name.stream"
    if [ ! -x "$VERIFY" ]; then
        s=FAIL; why="$VERIFY not installed (xen-utils-4.17)"
    elif PYTHONPATH=/usr/lib/xen-4.17/lib/python python3 "$VERIFY" -v -f "${fmt:-libxc}" -i "$OUT/$name.stream" \
            > "$OUT/$name.verify.log" 2>&1; then
        s=PASS; why="$size bytes accepted (-f ${fmt:-libxc})"
    else
        s=FAIL; why="$(tail -n 1 "$OUT/$name.verify.log")"
    fi
    us=$(( ${EPOCHREALTIME/./} - t0 ))
    [ $s = PASS ] && pass=$((pass+1)) || fail=$((fail+1))
    printf '%-4s %-50s %6ss %s\n' $s "xen/${name}_verify_stream_v2" "$((us/1000000)).$(((us/10000)%100))" "$why"
    rm -f "$OUT/$name.stream"
done < <(for e in "${exports[@]}"; do echo "$e"; done)
rm -f "$OUT/xfer.img"
grep -aq '@@DONE' "$LOG" || {
    fail=$((fail+1))
    why=$(grep -aE 'Hardware Dom0|Panic on CPU' "$LOG" | head -n1)
    printf '%-4s %-50s %6ss %s\n' FAIL xen/run "$WALL" "no @@DONE: ${why:-QEMU exited ($rc_qemu) or timed out after ${TMO}s}"
}
boot=$(grep -a '@@INFO dom0 /init' "$LOG" | head -n1 | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
echo "xen: dom0 /init reached ${boot:-never} s after QEMU start; whole run ${WALL}s"
grep -a '@@INFO' "$LOG" | sed 's/^\[ *[0-9.]*\] //' | sed 's/^/xen: /'
again=; [ "$reruns" -gt 0 ] && again=", $reruns step(s) run again after an emulator fault (DISCARDED lines above)"
echo "xen: $pass passed, $fail failed$again"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
