#!/bin/sh
# /init of the dom0 initramfs built by build-image.sh.
# Starts a minimal Xen toolstack (xenfs, xenstored, xen-init-dom0, xenconsoled), then
# runs the plan given on the kernel command line (xplan=step+step+..., '+' because a
# ',' would split QEMU's multiboot module list) and prints one marker per step:
#     @@STEP <name> <OK|FAIL> <seconds> [reason]
# A step whose precondition is missing is a FAIL with the reason, never a skip.
# "@@DONE" ends the run; run.sh turns the markers into test results.
export PATH=/opt/colo/bin:/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu
export HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run

now() { read u _ < /proc/uptime; echo "$u"; }
# Seconds since an uptime (2 decimals), in the shell alone: busybox awk segfaulted
# twice in CI under the COLO step's load, and an empty elapsed time then ended a wait
# loop early ("sh: bad number").
cs() { echo $(( ${1%.*} * 100 + 1${1#*.} - 100 )); }    # uptime "12.34" -> 1234
since() { _d=$(( $(cs "$(now)") - $(cs "$1") )); printf '%d.%02d' $((_d / 100)) $((_d % 100)); }
# Every result goes through mark/failmark: STEP_FAILED tells the plan loop that the
# current step failed (see the rerun rule there).
STEP_FAILED=0
mark() { # NAME OK|FAIL START [reason]
    [ "$2" = OK ] || STEP_FAILED=1; echo "@@STEP $1 $2 $(since "$3") $4"
    canary_phase "$CUR_STEP>after:$1"
}
failmark() { STEP_FAILED=1; echo "@@STEP $1 FAIL 0.00 $2"; }                 # NAME reason
note() { echo "@@INFO $*"; }

XPLAN=toolstack
CANARY_MB=64
for a in $(cat /proc/cmdline); do
    case "$a" in xplan=*) XPLAN=${a#xplan=} ;; xcanary=*) CANARY_MB=${a#xcanary=} ;;
        xcanarystrict=*) CANARY_STRICT=${a#xcanarystrict=} ;; esac
done
CUR_STEP=boot
note "dom0 /init at uptime $(now); plan $XPLAN"

KM=/lib/modules/$(uname -r)/kernel
for m in drivers/xen/xen-evtchn drivers/xen/xen-privcmd drivers/xen/xen-gntdev \
         drivers/xen/xen-gntalloc drivers/xen/xenfs/xenfs \
         drivers/virtio/virtio_ring drivers/virtio/virtio \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci drivers/block/virtio_blk; do
    insmod "$KM/$m.ko" || note "insmod $m failed"
done
mkdir -p /proc/xen && mount -t xenfs xenfs /proc/xen || note "mount xenfs failed"
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen/console /tmp
T0=$(now)
export XENSTORED_ROOTDIR=/run/xenstored
xenstored --pid-file /run/xenstore.pid
i=0
until xenstore-ls / >/dev/null 2>&1; do
    i=$((i+1)); [ $i -gt 60 ] && { note "xenstored did not come up"; break; }
    sleep 0.5
done
xen-init-dom0 >/dev/null
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console

# ---- the dom0 canary (dom0-canary.c): a resident process re-verifying a buffer whose
# frames it keeps recycling, short-lived probe processes that check their own fresh
# memory, and the kernel log read for processes that died of a fault.  It runs for the
# whole plan; every step gets a verdict "<step>_dom0" (below).  Why: during the COLO
# steps short-lived dom0 tools died of bad memory (docs/real-xen.md).
CANARY=/opt/colo/bin/dom0-canary
CANARY_PID=
canary_phase() { echo "$1" > /run/canary.phase; }
# The canary's counters (CANARY_PASSES, _BAD_PAGES, _PROBE_BAD, _PROBE_CRASH, _FAULTS...).
canary_stat() { [ -f /run/canary.stat ] && . /run/canary.stat; }
: > /run/canary.log; : > /run/harness.crashes
# The shell's stderr goes through the canary (which copies it to the console): this
# shell met bad memory too (a command name one byte short), and its script errors and
# the crashes it reports are counted as dom0 faults.
if [ -x "$CANARY" ] && [ "$CANARY_MB" != 0 ]; then
    canary_phase boot
    : > /run/init.stderr
    "$CANARY" run -m "$CANARY_MB" -d /run -e /run/init.stderr &
    CANARY_PID=$!
    exec 2>>/run/init.stderr
fi

# The register canary (reg-canary.c): vector registers loaded, kept over a spin, read
# back, at the lowest priority for the whole plan; a difference (REG-BAD in its log) is a
# violation of the step it happens in.  Why: the dom0 faults look like string functions
# going wrong, and memory the canary owns was never hit.
REGCANARY=/opt/colo/bin/reg-canary
REGLOG=/run/regcanary.log
: > $REGLOG
note "dom0 cpu flags: $(for _f in avx avx2 xsave xsaveopt xsavec xsaves; do grep -q -w $_f /proc/cpuinfo && printf '%s ' $_f; done)"
[ -x "$REGCANARY" ] && { "$REGCANARY" -l $REGLOG -s 2000000 & }
reg_bad() { grep -c '^REG-BAD' "${1:-$REGLOG}"; }   # [LOG]

LOGS=/var/log/xen/console
CFG=/etc/xen/g1-pvh.cfg
# Highest "@@CNT n st" line in the console logs of the guest names in $1 (one name, or
# several separated by spaces): prints "n st" (or "0 none").
lastcnt() {
    for _g in $1; do [ -f "$LOGS/guest-$_g.log" ] && tr -d '\r' < "$LOGS/guest-$_g.log"; done |
        awk '$1=="@@CNT" && $2+0 >= n+0 {n=$2; s=$3} END{ if (n=="") print "0 none"; else print n, s }'
}
# The xl state letters of the domains named in $1 (a stuck counter is a paused,
# suspended, crashed or vanished domain, or a hung guest: CI shows the reason only).
gstate() {
    for _g in $1; do
        _st=$(xl list "$_g" 2>/dev/null | awk 'NR==2{print $2, $5}')
        printf '%s %s; ' "$_g" "${_st:-absent}"
    done
}
# wait_cnt NAME ABOVE TIMEOUT: until guest NAME prints a counter > ABOVE; fails on a
# BAD self-check, on timeout.  Sets WHY.
wait_cnt() {
    _t=$(now)
    while :; do
        set -- "$1" "$2" "$3" $(lastcnt "$1")
        if [ "$4" -gt "$2" ]; then
            [ "$5" = ok ] && return 0
            WHY="guest $1 self-check $5 at counter $4"; return 1
        fi
        if [ "$(since "$_t" | cut -d. -f1)" -ge "$3" ]; then
            WHY="guest $1 counter stuck at $4 (wanted > $2) for $3 s; $(gstate "$1")"; return 1
        fi
        sleep 0.5
    done
}
# run NAME TIMEOUT cmd...: time a command; OK on exit 0.
run() {
    _n=$1; _to=$2; shift 2
    _t=$(now)
    timeout "$_to" "$@" > "/tmp/$_n.out" 2>&1
    _rc=$?
    sed "s/^/[$_n] /" "/tmp/$_n.out" | tail -n 30
    # a failure's reason carries the command's last words: CI shows result lines only
    _last=$(tr -d '\r' < "/tmp/$_n.out" | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-200)
    # and the first error it printed: the last line is often only a summary
    _ferr=$(tr -d '\r' < "/tmp/$_n.out" | grep -iE 'error|fail|refus|cannot|couldn|lacks|timed out' |
             grep -vF "$_last" | head -n 1 | cut -c1-240)
    [ -n "$_ferr" ] && _last="$_last; first error: $_ferr"
    if [ $_rc = 0 ]; then mark "$_n" OK "$_t"; else mark "$_n" FAIL "$_t" "rc=$_rc ($_last): $*"; fi
    return $_rc
}
# Lines of FILE matching the ERE PATTERN.  Short-lived dom0 tools have crashed now and
# then during the COLO steps (busybox awk: "Segmentation fault"; grep: "malloc():
# invalid size"); an empty count then ended a wait loop early ("sh: bad number").  A
# crashed count is said (@@INFO) and taken again, up to 3 times.
count_lines() { # PATTERN FILE
    for _i in 1 2 3; do
        _c=$(grep -cE "$1" "$2" 2>/dev/null); _s=$?
        case "$_c" in ''|*[!0-9]*) note "harness: grep exited $_s counting '$1' in $2: counted again" >&2
                                   echo "$CUR_STEP grep exited $_s" >> /run/harness.crashes ;;
                      *) echo "$_c"; return 0 ;; esac
    done
    echo 0
}
have() { xl domid "$1" >/dev/null 2>&1; }
dump() { # each guest's console: its kernel messages, then its last counter lines
    for f in $LOGS/guest-*.log; do
        [ -f "$f" ] || continue
        echo "---- $f"; tr -d '\r' < "$f" | grep -v '^@@CNT' | tail -n 30
        tr -d '\r' < "$f" | grep '^@@CNT' | tail -n 3
    done
}
need() { # need STEP CONDITION-DESCRIPTION CMD...: FAIL STEP (with reason) unless CMD works
    _s=$1; _d=$2; shift 2
    "$@" >/dev/null 2>&1 && return 0
    failmark "$_s" "precondition: $_d"; return 1
}
fresh_g1() { # a running g1 guest that has counted at least once
    # a g1 that died (crashed guests are preserved) or was left paused by a failed step
    # is replaced, so that one failure fails the step it happened in, not every later one
    if have g1; then
        _st=$(xl list g1 2>/dev/null | awk 'NR==2{print $5}')
        case "$_st" in *s*|*c*|*d*|*p*) note "g1 found not running (state $_st): replaced"; xl destroy g1 ;;
                       *) return 0 ;; esac
    fi
    for d in $(xl list | awk 'NR>2{print $1}'); do xl destroy "$d"; done
    rm -f $LOGS/guest-g1.log $LOGS/guest-g1--incoming.log
    # Counting from 3 on: the guest's boot (xenbus, its control/shutdown watch) is over;
    # a suspend request in the first second after the first count is not answered.
    timeout 120 xl create $CFG >/dev/null 2>&1 && wait_cnt g1 0 120 && wait_cnt g1 2 60
}
# A paused, empty-to-be-filled copy of g1's configuration named $1 (restore target).
create_paused() { timeout 120 xl create -p $CFG "name=\"$1\"" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------- steps
s_toolstack() {
    if xl info > /tmp/xlinfo 2>&1; then mark toolstack OK "$T0"
    else mark toolstack FAIL "$T0" "xl info failed: $(tail -n1 /tmp/xlinfo)"; fi
    grep -E 'xen_version|virt_caps|total_memory|free_memory' /tmp/xlinfo
}
s_pvh_create() {
    for d in $(xl list | awk 'NR>2{print $1}'); do xl destroy "$d"; done
    rm -f $LOGS/guest-g1.log $LOGS/guest-g1--incoming.log
    _t=$(now)
    run pvh_xl_create 120 xl create $CFG || return
    if wait_cnt g1 0 120; then mark pvh_guest_boot OK "$_t"
    else mark pvh_guest_boot FAIL "$_t" "$WHY"; dump; return; fi
    wait_cnt g1 2 60 || { mark pvh_guest_settle FAIL "$_t" "$WHY"; xl list; dump; }
}
s_xl_saverestore() {
    need pvh_xl_save "a running g1 guest" fresh_g1 || return
    run pvh_xl_save 300 xl save g1 /tmp/xl.img || { xl list; dump; return; }
    set -- $(lastcnt g1); c=$1
    note "xl image $(stat -c %s /tmp/xl.img) bytes; counter at save $c"
    run pvh_xl_restore 300 xl restore /tmp/xl.img || return
    _t=$(now)
    if wait_cnt g1 "$c" 60; then mark pvh_xl_restore_alive OK "$_t"
    else mark pvh_xl_restore_alive FAIL "$_t" "$WHY"; dump; fi
    rm -f /tmp/xl.img
}

# Hand a file to run.sh through the raw virtio "transfer disk" (/dev/vda): 256 MiB
# slots; run.sh cuts it out and runs upstream's verify-stream-v2 on it.
XFER_SLOT=0
export_image() { # export_image NAME FILE [FORMAT: libxc (default) | xl]
    if [ ! -b /dev/vda ]; then failmark "$1_export" "no transfer disk /dev/vda"; return; fi
    _sz=$(stat -c %s "$2")
    if dd if="$2" of=/dev/vda bs=1M seek=$((XFER_SLOT * 256)) conv=fsync 2>/dev/null; then
        echo "@@EXPORT $1 $((XFER_SLOT * 256)) $_sz ${3:-libxc}"
    else
        failmark "$1_export" "dd to /dev/vda failed"
    fi
    XFER_SLOT=$((XFER_SLOT + 1))
}

# ---- this project's engine on real Xen (tools/misc/xhv-sr, backend "xen") ----------
XSR="xhv-sr -b xen"
s_ours_list() {
    need ours_list "xhv-sr in the image" command -v xhv-sr || return
    run ours_list 30 $XSR list
}
# ours_saverestore STEP FLAGS: our save of g1 to a file, then our restore into a
# paused domain that upstream `xl create -p` made from the same config.
ours_saverestore() {
    need "$1" "xhv-sr in the image" command -v xhv-sr || return
    need "$1" "a running g1 guest" fresh_g1 || return
    run "$1" 300 $XSR save $2 g1 /tmp/ours.img || { xl list; dump; xl destroy g1; return; }
    set -- "$1" "$2" $(lastcnt g1)
    note "$1: image $(stat -c %s /tmp/ours.img) bytes, guest counter at save $3"
    export_image "$1" /tmp/ours.img
    xl destroy g1
    run "$1_xl_create_p" 120 xl create -p $CFG "name=\"g1\"" || return
    run "$1_restore" 300 $XSR restore /tmp/ours.img g1 || { rm -f /tmp/ours.img; return; }
    rm -f /tmp/ours.img
    _t=$(now)
    if wait_cnt g1 "$3" 60; then mark "$1_guest_alive" OK "$_t"
    else mark "$1_guest_alive" FAIL "$_t" "$WHY"; dump; xl destroy g1; fi
}
s_ours_save() { ours_saverestore ours_save ""; }
s_ours_live() { ours_saverestore ours_live -l; }

# (d) Remus into a paused g1s; destroy the primary; g1s must take over.
s_remus() {
    need remus "xhv-sr in the image" command -v xhv-sr || return
    need remus "a running g1 guest" fresh_g1 || return
    xl destroy g1s >/dev/null 2>&1
    rm -f $LOGS/guest-g1s.log
    run remus_xl_create_p 120 xl create -p $CFG "name=\"g1s\"" || return
    _t=$(now)
    $XSR remus -i 1000 g1 g1s > /tmp/remus.out 2>&1 &
    rp=$!
    while [ "$(count_lines '@@REMUS checkpoint' /tmp/remus.out)" -lt 3 ]; do
        kill -0 $rp 2>/dev/null || break
        [ "$(since "$_t" | cut -d. -f1)" -ge 120 ] && break
        sleep 0.5
    done
    n=$(count_lines '@@REMUS checkpoint' /tmp/remus.out)
    if [ "$n" -ge 3 ]; then mark remus_checkpoints OK "$_t" "$n checkpoints"
    else mark remus_checkpoints FAIL "$_t" "$n checkpoints: $(grep -v '^@@' /tmp/remus.out | tail -n 1)"; fi
    set -- $(lastcnt g1); c=$1
    _t=$(now)
    xl destroy g1
    i=0; while kill -0 $rp 2>/dev/null && [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done
    kill $rp 2>/dev/null
    sed 's/^/[remus] /' /tmp/remus.out | tail -n 20
    if ! grep -q '@@FAILOVER' /tmp/remus.out; then
        mark remus_failover FAIL "$_t" "no failover: $(tail -n 1 /tmp/remus.out)"
    elif wait_cnt g1s "$c" 60; then mark remus_failover OK "$_t" "primary counter $c, secondary now $(lastcnt g1s)"
    else mark remus_failover FAIL "$_t" "$WHY"; dump; fi
    xl destroy g1s >/dev/null 2>&1
}

# The environment that puts the project's engine on the real-Xen backend: for the
# project's xl (with its libxl and libxl-save-helper), or for upstream's xl, whose
# libxl then runs our libxl-save-helper ($LIBXL_SAVE_HELPER).
OURENV="env XHV_BACKEND=xen SIMXEN_DIR=/run/colo LIBXL_SAVE_HELPER=/opt/colo/bin/libxl-save-helper"
OURXL="$OURENV xl-colo"
# Upstream's xl as a migration receiver that our xl starts: without our environment
# (upstream's libxl honours LIBXL_SAVE_HELPER, and would run our helper).
UPXL="env -u LIBXL_SAVE_HELPER -u XHV_BACKEND -u SIMXEN_DIR xl"

# (a, PVH) the project's xl saving a guest that upstream xl created, through
# the real-Xen backend; the image is checked by verify-stream-v2 -f xl (run.sh) and
# brought back by upstream `xl restore` (with the config file: ours stores its own JSON).
s_ours_xl_save() {
    need ours_xl_save "xl-colo in the image" command -v xl-colo || return
    need ours_xl_save "a running g1 guest" fresh_g1 || return
    mkdir -p /run/colo
    run ours_xl_save 300 $OURXL save g1 /tmp/a.img ||
        { xl list; dump; return; }
    set -- $(lastcnt g1); c=$1
    note "ours_xl_save: image $(stat -c %s /tmp/a.img) bytes, guest counter at save $c"
    export_image ours_xl_save /tmp/a.img xl
    xl destroy g1 >/dev/null 2>&1
    run ours_xl_save_upstream_restore 300 xl restore $CFG /tmp/a.img || { rm -f /tmp/a.img; return; }
    rm -f /tmp/a.img
    _t=$(now)
    if wait_cnt g1 "$c" 60; then mark ours_xl_save_guest_alive OK "$_t"
    else mark ours_xl_save_guest_alive FAIL "$_t" "$WHY"; dump; xl destroy g1; fi
}

# alive STEP NAME ABOVE: mark STEP by whether guest NAME counts past ABOVE (console log
# continues, self-check ok).
alive() {
    _t=$(now)
    if wait_cnt "$2" "$3" 60; then mark "$1" OK "$_t" "counter now $(lastcnt "$2")"
    else mark "$1" FAIL "$_t" "$WHY"; xl list; dump; fi
}
# What a domain left in xenstore (none after a destroy).
xs_left() { xenstore-ls "/local/domain/$1" 2>/dev/null | wc -l; }

# (b) upstream `xl save` -> our `xl restore`: our libxl builds the domain on real Xen
# (xenstore, event channels, console), the restored guest's console continues in
# xenconsoled's log; then upstream xl saves and restores the domain we built, and our
# xl destroys one and leaves nothing in xenstore.
s_ours_xl_restore() {
    need ours_xl_restore "xl-colo in the image" command -v xl-colo || return
    need ours_xl_restore "a running g1 guest" fresh_g1 || return
    mkdir -p /run/colo
    run upstream_xl_save_for_ours 300 xl save g1 /tmp/b.img || { dump; return; }
    set -- $(lastcnt g1); c=$1
    run ours_xl_restore 300 $OURXL restore /tmp/b.img || { rm -f /tmp/b.img; return; }
    rm -f /tmp/b.img
    alive ours_xl_restore_guest_alive g1 "$c"
    d=$(xl domid g1)
    note "ours_xl_restore: domain $d, xenstore: $(xenstore-ls /local/domain/$d | tr '\n' ' ' | cut -c1-600)"
    note "ours_xl_restore: userdata $(ls /var/lib/xen | tr '\n' ' ')"
    run ours_restored_upstream_save 300 xl save g1 /tmp/b.img || { dump; return; }
    set -- $(lastcnt g1); c=$1
    run ours_restored_upstream_restore 300 xl restore /tmp/b.img || { rm -f /tmp/b.img; return; }
    alive ours_restored_upstream_alive g1 "$c"
    # once more into a domain of ours, then our destroy must clean up after itself
    xl destroy g1
    run ours_xl_restore_again 300 $OURXL restore -p /tmp/b.img || { rm -f /tmp/b.img; return; }
    rm -f /tmp/b.img
    d=$(xl domid g1)
    _t=$(now)
    $OURXL destroy g1 > /tmp/ours_destroy.out 2>&1
    n=$(xs_left "$d")
    if ! xl domid g1 >/dev/null 2>&1 && [ "$n" = 0 ] && ! ls /var/lib/xen | grep -q "userdata-d\.$d\."; then
        mark ours_xl_destroy_clean OK "$_t"
    else
        mark ours_xl_destroy_clean FAIL "$_t" "after our destroy of domain $d: $n xenstore lines left, $(xl list | grep -c g1) g1 in xl list, userdata: $(ls /var/lib/xen | tr '\n' ' ')"
        xl destroy g1 >/dev/null 2>&1
    fi
}

# (c) live migration to localhost: ours -> ours, ours -> upstream's migrate-receive,
# upstream's migrate -> ours, and upstream's own as the baseline.  `-s ""` makes the
# host argument the receiver's command.  Which log the migrated guest's output lands in
# depends on when xenconsoled attaches: upstream's receiver starts the guest while it is
# still named g1--incoming (guest-g1--incoming.log), ours renames it first
# (guest-g1.log).  The check: with the source gone, the guest counts past the highest
# counter in either log.
migrate_step() { # STEP SENDER RECEIVER
    # The guest the previous step left (a new one only if it is gone): every boot under
    # TCG is a chance for the guest to die on its own (one triple fault seen 11 s after
    # a boot, before any step touched it).
    need "$1" "a running g1 guest" fresh_g1 || return
    run "$1" 300 $2 migrate -s "" g1 "$3 migrate-receive" || { xl list; dump; return; }
    if [ "$(xl list | awk '$1=="g1"' | wc -l)" = 1 ] && ! xl domid g1--migratedaway >/dev/null 2>&1 &&
       ! xl domid g1--incoming >/dev/null 2>&1
    then mark "$1_names" OK "$(now)" "g1 is domain $(xl domid g1)"
    else mark "$1_names" FAIL "$(now)" "after migration: $(xl list | awk 'NR>1{print $1}' | tr '\n' ' ')"; fi
    set -- "$@" $(lastcnt "g1 g1--incoming")
    alive "$1_guest_alive" "g1 g1--incoming" "$4"
}
s_migrate_upstream() {    # the baseline: upstream's own localhost migration
    migrate_step migrate_upstream xl xl
}
s_console_state() {       # diagnostics: g1's console as xenstore and xenconsoled see it
    d=$(xl domid g1 2>/dev/null)
    note "console_state: g1 is domain $d; $(xenstore-ls /local/domain/$d/console 2>&1 | tr '\n' ' ')"
    note "console_state: store $(xenstore-ls /local/domain/$d/store 2>&1 | tr '\n' ' ')"
    note "console_state: logs $(ls -l $LOGS | awk 'NR>1{print $5, $9}' | tr '\n' ' ')"
    note "console_state: xenconsoled $(pidof xenconsoled || echo not running)"
}
s_migrate_ours() {
    need migrate_ours "xl-colo in the image" command -v xl-colo || return
    mkdir -p /run/colo
    migrate_step migrate_ours "$OURXL" "$OURXL"
}
# Upstream's xl and libxl with our libxl-save-helper (upstream's libxl runs the helper
# $LIBXL_SAVE_HELPER names): our engine restores inside upstream's receiver, which
# then introduces the domain to xenstored through the grant entries our restore seeded.
s_migrate_upstream_our_helper() {
    need migrate_upstream_our_helper "libxl-save-helper in the image" \
        test -x /opt/colo/bin/libxl-save-helper || return
    mkdir -p /run/colo
    migrate_step migrate_upstream_our_helper xl "$OURENV xl"
}
s_migrate_ours_to_upstream() {
    need migrate_ours_to_upstream "xl-colo in the image" command -v xl-colo || return
    mkdir -p /run/colo
    migrate_step migrate_ours_to_upstream "$OURXL" "$UPXL"
}
s_migrate_upstream_to_ours() {
    need migrate_upstream_to_ours "xl-colo in the image" command -v xl-colo || return
    mkdir -p /run/colo
    migrate_step migrate_upstream_to_ours xl "$OURXL"
}

# (e) COLO between g1 and a paused g1s: both run and write memory; after every
# checkpoint both are compared page by page (equal), and with the back channel's
# dirty lists dropped (-D) the secondary must refuse a checkpoint, none differing (-x).
colo_run() {
    need "$1" "xhv-sr in the image" command -v xhv-sr || return
    need "$1" "a running g1 guest" fresh_g1 || return
    xl destroy g1s >/dev/null 2>&1
    run "$1_xl_create_p" 120 xl create -p $CFG "name=\"g1s\"" || return
    run "$1" 300 $XSR colo -i 1000 -n 5 $2 g1 g1s || { xl list; dump; }
    grep '^@@COLO' "/tmp/$1.out" | sed 's/^/@@INFO /'
    # a g1 that our receiver made (ours_xl_colo) writes guest-g1--incoming.log
    set -- "$1" $(lastcnt "g1 g1--incoming")
    _t=$(now)
    if wait_cnt "g1 g1--incoming" "$2" 60; then mark "$1_primary_alive" OK "$_t"
    else mark "$1_primary_alive" FAIL "$_t" "$WHY"; dump; fi
    xl destroy g1s >/dev/null 2>&1
}
s_colo() { colo_run colo ""; }
# Two guests and dom0 sharing the CPUs for a minute, started by upstream's xl alone: no
# save, no checkpoint, nothing of ours.  The <step>_dom0 verdict (register canary
# included) says whether sharing the CPUs is enough to corrupt dom0's state.
s_two_guests() {
    need two_guests "a running g1 guest" fresh_g1 || return
    xl destroy g1s >/dev/null 2>&1
    run two_guests_create 120 xl create $CFG "name=\"g1s\"" || return
    _t2=$(now); set -- $(lastcnt g1)    # (wait_cnt sets _t)
    sleep 60
    if wait_cnt g1 "$1" 30 && wait_cnt g1s 0 30; then mark two_guests OK "$_t2" "g1 $(lastcnt g1), g1s $(lastcnt g1s)"
    else mark two_guests FAIL "$_t2" "$WHY"; dump; fi
    xl destroy g1s >/dev/null 2>&1
}
s_colo_nobackchannel() { colo_run colo_nobackchannel "-D -x"; }

# (f) same guest, same run: our non-live save against upstream's `xl save`.
s_timing() {
    need timing "xhv-sr in the image" command -v xhv-sr || return
    need timing "a running g1 guest" fresh_g1 || return
    _t=$(now)
    if ! timeout 300 $XSR save -r g1 /tmp/ours.img > /tmp/timing_ours.out 2>&1; then
        mark timing FAIL "$_t" "our save failed: $(tail -n 1 /tmp/timing_ours.out)"; return
    fi
    ours=$(since "$_t"); so=$(stat -c %s /tmp/ours.img); rm -f /tmp/ours.img
    # our fast resume (save -r) must leave a guest that counts on
    set -- $(lastcnt g1)
    alive timing_ours_resume_alive g1 "$1"
    sleep 2
    _u=$(now)
    if ! timeout 300 xl save g1 /tmp/xl.img > /tmp/timing_xl.out 2>&1; then
        mark timing FAIL "$_t" "xl save failed: $(tail -n 1 /tmp/timing_xl.out)"
        sed 's/^/[timing] /' /tmp/timing_xl.out; xl list; dump; return
    fi
    up=$(since "$_u"); sx=$(stat -c %s /tmp/xl.img)
    r=$(awk -v a="$ours" -v b="$up" 'BEGIN{printf "%.2f", a/b}')
    note "timing: ours ${ours}s ($so bytes) vs xl save ${up}s ($sx bytes): ratio ours/xl $r"
    mark timing OK "$_t" "ours ${ours}s vs xl save ${up}s, ratio $r"
    timeout 120 xl restore /tmp/xl.img >/dev/null 2>&1; rm -f /tmp/xl.img
}

# More steps, one file per topic (tools/tests/xen/steps/*.sh), using the helpers above.
for f in /opt/colo/steps/*.sh; do [ -f "$f" ] && . "$f"; done

# Every triple fault Xen logged since the step began, one per line: "dNvM CS:[<RIP>"
# from the vcpu state Xen dumps after it (or "dNvM no-state").
triple_faults() {
    xl dmesg 2>/dev/null | tr -d '\r' | awk '
        /Triple fault/ { if (want) print d, "no-state"
                         for (i = 1; i <= NF; i++) if ($i ~ /^d[0-9]+v[0-9]+$/) d = $i
                         want = 1; next }
        want && /RIP:/ { want = 0
                         if (match($0, /[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:\[<[0-9a-f]+/))
                             print d, substr($0, RSTART, RLENGTH) ">]"
                         else print d, "no-state" }
        END { if (want) print d, "no-state" }'
}
# The triple faults with the kernel symbol of each guest-kernel RIP: the guests boot
# dom0's own kernel (/boot/vmlinuz), which is not relocated in either, so dom0's
# /proc/kallsyms names the function (Debian ships no System.map outside its -dbg
# package).  Text addresses all have 16 digits, so they compare as strings.
triple_faults_named() {
    triple_faults | while read -r _d _r; do
        _a=$(echo "$_r" | sed -n 's/^0010:\[<\(ffffffff[0-9a-f]*\)>\]$/\1/p')
        _s=
        [ -n "$_a" ] && _s=$(awk -v a="$_a" '$2 ~ /^[tT]$/ && $1 <= a { b = $1; n = $3 }
                                         END { if (n != "") print b, n }' /proc/kallsyms 2>/dev/null)
        if [ -n "$_s" ] && [ "${_s%% *}" != 0000000000000000 ]; then
            echo "$_d $_r (${_s#* }+0x$(printf %x $((0x$_a - 0x${_s%% *}))))"
        else
            echo "$_d $_r"
        fi
    done
}

# Guest deaths that are the emulator's, not the guest's or ours: at a triple fault Xen
# dumps the vcpu state from the guest's VMCB; when that holds Xen's own context (CS
# e008, RIP in Xen's text: seen at the instruction after Xen's VMRUN, RSP on Xen's
# stack, RAX the VMCB's address), the emulated CPU (QEMU TCG's nested SVM) stored the
# host's registers as the guest's.  No guest code or toolstack state can put them there.
# Prints the faults on one line if every triple fault since the step began is such a
# one, nothing otherwise (none, or any that looks like the guest's own).
emulator_faults() {
    _tf=$(triple_faults)
    [ -n "$_tf" ] || return 0
    echo "$_tf" | grep -qv ' e008:\[<ffff82d0' && return 0
    echo "$_tf" | tr '\n' ';'
}

# The canary must be able to fail: a byte flipped in its resident buffer, in a fresh
# (must-be-zero) slot and in a probe's memory (through /proc/self/mem, another path to
# the frame than the checker's), a process dying of a segfault and a script error on
# the shell's stderr must each be reported, once.
SELFTEST_SEGV_PID=
s_dom0_canary_selftest() {
    _t=$(now)
    if [ -z "$CANARY_PID" ] || ! kill -0 "$CANARY_PID" 2>/dev/null; then
        mark dom0_canary_selftest FAIL "$_t" "the canary is not running ($CANARY)"; return
    fi
    # its counters exist once its signal handlers are in place (after the first fill)
    _i=0; while [ ! -f /run/canary.stat ] && [ $_i -lt 120 ]; do sleep 0.5; _i=$((_i+1)); done
    canary_stat; _b=${CANARY_BAD_PAGES:-0}; _p=${CANARY_PROBE_BAD:-0}; _f=${CANARY_FAULTS:-0}
    kill -USR1 "$CANARY_PID"; kill -USR2 "$CANARY_PID"
    # the shell's own "Segmentation fault" for it is not one more fault
    { "$CANARY" segv & SELFTEST_SEGV_PID=$!; wait "$SELFTEST_SEGV_PID"; } 2>/dev/null
    echo "/init: line 0: dom0-canary-selftest: not found (a script error on purpose)" >&2
    # the register canary, with one register changed on purpose (its own log: not counted)
    "$REGCANARY" -i -n 1 -s 1000 -l /run/regcanary.selftest.log >/dev/null 2>&1
    _rb=$(reg_bad /run/regcanary.selftest.log)
    _i=0
    while [ $_i -lt 60 ]; do
        canary_stat
        [ "$CANARY_BAD_PAGES" -gt $((_b + 1)) ] && [ "$CANARY_PROBE_BAD" -gt "$_p" ] &&
            [ "$CANARY_FAULTS" -gt $((_f + 1)) ] && break
        sleep 0.5; _i=$((_i+1))
    done
    sleep 1; canary_stat
    _d="resident and fresh slots +$((CANARY_BAD_PAGES - _b)) pages, probe +$((CANARY_PROBE_BAD - _p)), faults (kernel log, shell stderr) +$((CANARY_FAULTS - _f)), register lanes $_rb"
    if [ $((CANARY_BAD_PAGES - _b)) = 2 ] && [ $((CANARY_PROBE_BAD - _p)) = 1 ] &&
       [ $((CANARY_FAULTS - _f)) = 2 ] && [ "${_rb:-0}" -ge 2 ]; then
        mark dom0_canary_selftest OK "$_t" "each injected fault reported once: $_d"
    else
        mark dom0_canary_selftest FAIL "$_t" "wanted +2, +1, +2, >= 2: $_d"
    fi
}

# After each step: the canary's verdict on it.  It waits for two more whole passes of
# the resident buffer (so every chunk was checked after the step ended), then compares
# the counters with the step's start.  Any violation, probe that found bad memory or
# died, kernel-logged fault, harness tool crash, or a dead canary fails "<step>_dom0"
# with the first report, and dumps Xen's grant tables and the reported frames.
DOM0_STEPS=0; DOM0_BAD_STEPS=0; DOM0_VIOL=0; DOM0_FAULTS=0; DOM0_REG=0
dom0_begin() {
    canary_stat
    _B0=${CANARY_BAD_PAGES:-0}; _P0=${CANARY_PROBE_BAD:-0}; _C0=${CANARY_PROBE_CRASH:-0}
    _F0=${CANARY_FAULTS:-0}; _H0=$(wc -l < /run/harness.crashes); _L0=$(wc -l < /run/canary.log)
    _R0=$(reg_bad); _RL0=$(wc -l < $REGLOG)
    _T0=$(now)
}
dom0_diag() {
    note "$1: dom0 canary diagnostics (Xen grant tables and domains on the serial log)"
    xl debug-keys g >/dev/null 2>&1; xl debug-keys q >/dev/null 2>&1
    xl dmesg 2>/dev/null | tail -n 120 | sed 's/^/[diag] /'
    for _pfn in $(sed -n "$((_L0 + 1)),\$p" /run/canary.log | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2 | sort -u | head -n 4); do
        _h=${_pfn#0x}
        note "$1: dom0 pfn $_pfn in dom0's p2m: $(xen-mfndump dump-p2m 0 2>/dev/null | grep -iE "(^|[^0-9a-f])0*$_h([^0-9a-f]|\$)" | head -n 2 | tr '\n' ';')"
    done
    grep -E 'MemFree|Cached|Shmem:' /proc/meminfo | tr '\n' ' ' | sed 's/^/[diag] /'; echo
}
dom0_verdict() {
    _t=$_T0
    canary_stat; _p0=${CANARY_PASSES:-0}; _i=0
    while [ -n "$CANARY_PID" ] && kill -0 "$CANARY_PID" 2>/dev/null && [ $_i -lt 60 ]; do
        canary_stat; [ "${CANARY_PASSES:-0}" -ge $((_p0 + 2)) ] && break
        sleep 0.5; _i=$((_i+1))
    done
    canary_stat
    _r=$(( $(reg_bad) - _R0 ))
    _v=$(( ${CANARY_BAD_PAGES:-0} - _B0 + ${CANARY_PROBE_BAD:-0} - _P0 + ${CANARY_PROBE_CRASH:-0} - _C0 + _r ))
    DOM0_REG=$((DOM0_REG + _r))
    _f=$(( ${CANARY_FAULTS:-0} - _F0 + $(wc -l < /run/harness.crashes) - _H0 ))
    DOM0_STEPS=$((DOM0_STEPS + 1)); DOM0_VIOL=$((DOM0_VIOL + _v)); DOM0_FAULTS=$((DOM0_FAULTS + _f))
    if [ -z "$CANARY_PID" ] || ! kill -0 "$CANARY_PID" 2>/dev/null; then
        DOM0_BAD_STEPS=$((DOM0_BAD_STEPS + 1))
        echo "@@STEP $1_dom0 FAIL $(since "$_t") the dom0 canary is not running (phase $CANARY_PHASE)"
        return
    fi
    if [ "$_v" = 0 ] && [ "$_f" = 0 ]; then
        echo "@@STEP $1_dom0 OK $(since "$_t") canary: 0 violations, 0 dom0 faults ($CANARY_PASSES passes, $CANARY_PROBES probes so far)"
        return
    fi
    DOM0_BAD_STEPS=$((DOM0_BAD_STEPS + 1))
    _first=$(sed -n "$((_L0 + 1)),\$p" /run/canary.log | grep -m 1 -E 'BAD|FAULT|DIED' | cut -c1-260)
    [ -n "$_first" ] || _first=$(sed -n "$((_RL0 + 1)),\$p" $REGLOG | grep -m 1 '^REG-BAD' | cut -c1-260)
    [ -n "$_first" ] || _first=$(sed -n "$((_H0 + 1)),\$p" /run/harness.crashes | head -n 1)
    [ "$_r" = 0 ] || note "$1: register canary: $_r register lanes differed: $(sed -n "$((_RL0 + 1)),\$p" $REGLOG | grep '^REG-BAD' | head -n 8 | tr '\n' ';')"
    # Strict unless the run asked otherwise (xcanarystrict=0: to study the defect with
    # lazy FPU switching, run.sh's XEN_LAZY_FPU, without every step failing).
    if [ "${CANARY_STRICT:-1}" = 1 ]; then
        echo "@@STEP $1_dom0 FAIL $(since "$_t") $_v canary violations, $_f dom0 faults during $1; first: $_first"
    else
        note "$1_dom0: NOT STRICT: $_v canary violations, $_f dom0 faults during $1; first: $_first"
    fi
    dom0_diag "$1"
}

# The plan.  "@@BEGIN step" opens an attempt.  A step that failed while the emulator
# killed a guest (above) runs once more with a fresh guest: "@@RERUN step why" tells
# run.sh to report the first attempt's results as discarded, with the reason, and to
# count the second attempt's.  Any other failure stands.
for s in $(echo "$XPLAN" | tr '+' ' '); do
    type "s_$s" >/dev/null 2>&1 || { failmark "$s" "no such step in dom0-init.sh"; continue; }
    CUR_STEP=$s; canary_phase "$s"
    dom0_begin
    _try=1
    while :; do
        xl dmesg -c >/dev/null 2>&1
        STEP_FAILED=0
        echo "@@BEGIN $s"
        "s_$s"
        [ "$STEP_FAILED" = 1 ] || break
        _tf=$(triple_faults_named)
        [ -z "$_tf" ] || note "$s: triple faults: $(echo "$_tf" | tr '\n' ';')"
        [ $_try = 1 ] || break
        _emu=$(emulator_faults)
        [ -n "$_emu" ] || break
        echo "@@RERUN $s emulator fault: $_emu"
        _try=2
    done
    # after the attempts: a rerun does not wash out what the canary saw in the first
    case "$s" in toolstack|dom0_canary_selftest) ;; *) dom0_verdict "$s" ;; esac
done
CUR_STEP=end; canary_phase end
xl list
canary_stat
note "dom0 canary: $DOM0_STEPS steps checked, $DOM0_BAD_STEPS failed; $DOM0_VIOL violations, $DOM0_FAULTS dom0 faults; ${CANARY_PASSES:-0} passes over ${CANARY_MB} MiB (${CANARY_PAGES:-0} page checks, ${CANARY_RECYCLED:-0} chunks recycled), ${CANARY_PROBES:-0} probes; register canary: $DOM0_REG lanes differed ($(grep '^REG-STAT' $REGLOG | tail -n 1))"
[ -n "$CANARY_PID" ] && kill "$CANARY_PID" 2>/dev/null
# dom0 processes the kernel saw die of a fault (busybox tools crashed during the COLO
# steps; see docs/real-xen.md): said, with the kernel's line for each.
# The canary self-test's deliberate segfault is left out (by its pid).
_segv=$(dmesg | grep -E 'segfault at|traps:|general protection' |
        grep -v "dom0-canary\[${SELFTEST_SEGV_PID:-none}\]" | tail -n 8 | tr '\n' ';')
note "dom0 processes killed by a fault: ${_segv:-none}"
echo "@@DONE uptime=$(now)"
sync
poweroff -f
