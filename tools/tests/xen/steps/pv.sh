# PV guests (plan step a for PV): our engine saving a 64-bit PV guest that
# upstream `xl` created (tools/libs/guest/sr_save_x86_pv.c, the backend's PV operations
# in tools/libs/ctrl/xhv_xen_pv.c).  Sourced by dom0-init.sh; uses its helpers.
#
#   pv_create                      upstream `xl create` of g2 (g2-pv.cfg); OK once the
#                                  guest's counter is seen
#   pv_ours_save                   our plain save (`xhv-sr -b xen save g2 FILE`); the raw
#                                  libxc stream goes to verify-stream-v2 -f libxc on the
#                                  host (xen/pv_ours_save_verify_stream_v2); g2 stays
#                                  suspended
#   pv_ours_live_refused           our live save of g2 must fail, naming why (no PV
#                                  log-dirty without shadow paging)
#   pv_ours_save_upstream_restore  the project's `xl save` (XHV_BACKEND=xen, our engine)
#                                  of the suspended g2 to an xl image (verify-stream-v2
#                                  -f xl: xen/pv_ours_xl_save_verify_stream_v2), `xl
#                                  destroy g2`, upstream `xl restore g2-pv.cfg IMAGE`
#   pv_guest_alive                 g2 counts past its counter at our save, self-check ok
#   pv_upstream_save_ours_restore  upstream `xl save` of g2; upstream `xl restore` with
#                                  our libxl-save-helper: our PV restore (sr_restore_x86_
#                                  pv.c) into the fresh domain libxl made; _alive: g2
#                                  counts on
#   pv_ours_roundtrip              the project's `xl save` of g2 and our restore as above
#   pv_ours_save_resume            our save with the fast resume after it (save -r);
#                                  _alive: g2 counts on
#   pv_ours_xl_restore             the project's `xl save` and the project's `xl restore`
#                                  (our libxl builds the PV domain); _alive: g2 counts on
#
# Order: toolstack, pv_create, pv_ours_save, pv_ours_live_refused,
# pv_ours_save_upstream_restore, pv_guest_alive, pv_upstream_save_ours_restore,
# pv_ours_roundtrip, pv_ours_save_resume, pv_ours_xl_restore.  pv_ours_save_upstream_restore
# and pv_guest_alive need
# pv_ours_save's suspended g2 and counter and FAIL with that precondition otherwise;
# the other steps make a running g2 when there is none (fresh_g2).
PVCFG=/etc/xen/g2-pv.cfg
PV_CNT=                       # g2's counter when our save suspended it

# A running (not paused, not shut down) g2 that has counted past 2; made here when the
# g2 there is missing or not running (a restore that failed half way leaves a paused one).
fresh_g2() {
    if have g2 && xl list g2 2>/dev/null | awk 'NR==2{exit !($5 ~ /^(r|-b)/)}'; then return 0; fi
    xl destroy g2 >/dev/null 2>&1
    rm -f $LOGS/guest-g2.log
    timeout 120 xl create $PVCFG >/dev/null 2>&1 && wait_cnt g2 0 120 && wait_cnt g2 2 60
}

s_pv_create() {
    xl destroy g2 >/dev/null 2>&1
    rm -f $LOGS/guest-g2.log
    _t=$(now)
    if ! timeout 120 xl create $PVCFG > /tmp/pv_create.out 2>&1; then
        sed 's/^/[pv_create] /' /tmp/pv_create.out | tail -n 20
        mark pv_create FAIL "$_t" "xl create: $(tail -n 1 /tmp/pv_create.out)"; return
    fi
    # Counting from 3 on: the guest's xenbus (its control/shutdown watch) is up.
    if wait_cnt g2 0 120 && wait_cnt g2 2 60; then mark pv_create OK "$_t" "counter $(lastcnt g2)"
    else mark pv_create FAIL "$_t" "$WHY"; xl list; dump; fi
}

s_pv_ours_save() {
    need pv_ours_save "xhv-sr in the image" command -v xhv-sr || return
    need pv_ours_save "a running g2 guest" fresh_g2 || return
    rm -f /tmp/pv.img
    run pv_ours_save 300 $XSR save g2 /tmp/pv.img || { xl list; dump; return; }
    set -- $(lastcnt g2); PV_CNT=$1
    note "pv_ours_save: stream $(stat -c %s /tmp/pv.img) bytes, guest counter at save $PV_CNT"
    export_image pv_ours_save /tmp/pv.img
    rm -f /tmp/pv.img
}

# A live (or checkpointed) save of a PV guest cannot work on this hypervisor: the step
# passes only when xhv-sr fails and says why.
s_pv_ours_live_refused() {
    need pv_ours_live_refused "xhv-sr in the image" command -v xhv-sr || return
    need pv_ours_live_refused "a g2 guest (pv_create)" have g2 || return
    _t=$(now)
    if timeout 120 $XSR save -l g2 /tmp/pvlive.img > /tmp/pv_live.out 2>&1; then
        mark pv_ours_live_refused FAIL "$_t" "live save of a PV guest succeeded"
    elif grep -q 'shadow paging' /tmp/pv_live.out; then
        mark pv_ours_live_refused OK "$_t" "$(grep -o 'only a plain non-live save[^.]*' /tmp/pv_live.out | head -n 1)"
    else
        mark pv_ours_live_refused FAIL "$_t" "failed without the reason: $(tail -n 1 /tmp/pv_live.out)"
    fi
    sed 's/^/[pv_ours_live_refused] /' /tmp/pv_live.out | tail -n 5
    rm -f /tmp/pvlive.img
}

# The same suspended state, as an xl image written by the project's xl through our
# engine; upstream's `xl restore` (its libxc PV restorer) must bring the guest back.
s_pv_ours_save_upstream_restore() {
    need pv_ours_save_upstream_restore "xl-colo in the image" command -v xl-colo || return
    need pv_ours_save_upstream_restore "a g2 guest (pv_create)" have g2 || return
    [ -n "$PV_CNT" ] || { failmark pv_ours_save_upstream_restore "precondition: pv_ours_save did not run or failed"; return; }
    mkdir -p /run/colo
    rm -f /tmp/pvxl.img
    _t=$(now)
    if ! timeout 300 $OURXL save g2 /tmp/pvxl.img > /tmp/pv_xlsave.out 2>&1; then
        sed 's/^/[pv_ours_xl_save] /' /tmp/pv_xlsave.out | tail -n 20
        mark pv_ours_save_upstream_restore FAIL "$_t" "xl-colo save: $(tail -n 1 /tmp/pv_xlsave.out)"
        return
    fi
    note "pv_ours_save_upstream_restore: xl image $(stat -c %s /tmp/pvxl.img) bytes in $(since "$_t") s"
    export_image pv_ours_xl_save /tmp/pvxl.img xl
    xl destroy g2 >/dev/null 2>&1
    _u=$(now)
    if timeout 300 xl restore $PVCFG /tmp/pvxl.img > /tmp/pv_restore.out 2>&1; then
        mark pv_ours_save_upstream_restore OK "$_t" "xl restore $(since "$_u") s"
    else
        sed 's/^/[pv_ours_save_upstream_restore] /' /tmp/pv_restore.out | tail -n 30
        mark pv_ours_save_upstream_restore FAIL "$_t" "xl restore: $(tail -n 1 /tmp/pv_restore.out)"
        xl list; dump
    fi
    rm -f /tmp/pvxl.img
}

s_pv_guest_alive() {
    [ -n "$PV_CNT" ] || { failmark pv_guest_alive "precondition: no counter from pv_ours_save"; return; }
    need pv_guest_alive "a g2 guest (pv_ours_save_upstream_restore)" have g2 || return
    _t=$(now)
    if wait_cnt g2 "$PV_CNT" 60; then mark pv_guest_alive OK "$_t" "counter at save $PV_CNT, now $(lastcnt g2)"
    else mark pv_guest_alive FAIL "$_t" "$WHY"; xl list; dump; xl destroy g2 >/dev/null 2>&1; fi
}

# ---- our restore of a PV guest (stretch) ----------------------------------------------
# A PV restore needs a domain without memory, which `xl create -p` does not give (it
# builds the guest).  Upstream's `xl restore` makes exactly that domain and then runs
# libxl-save-helper, which $LIBXL_SAVE_HELPER names: with the project's helper (same
# argv and messages as upstream's) the restore into the fresh domain is our engine's
# (sr_restore_x86_pv.c) on the real-Xen backend ($OURENV, dom0-init.sh).

# pv_restore_with_ours STEP IMAGE: upstream xl restore of IMAGE through our helper, then
# STEP_alive: g2 counts past $PV_CNT.
pv_restore_with_ours() {
    xl destroy g2 >/dev/null 2>&1
    _t=$(now)
    if timeout 300 $OURENV xl restore $PVCFG "$2" > "/tmp/$1.out" 2>&1; then
        # Our engine's own line (through our helper's log messages): the restore was ours.
        if grep -q 'xc_sr: .*PV domain [0-9]* restored' "/tmp/$1.out"; then
            mark "$1" OK "$_t" "restore $(since "$_t") s"
            grep 'xc_sr: .*PV domain [0-9]* restored' "/tmp/$1.out" | sed 's/^/@@INFO /'
        else
            sed "s/^/[$1] /" "/tmp/$1.out" | tail -n 30
            mark "$1" FAIL "$_t" "xl restore worked but not through our engine (no 'PV domain N restored' line)"
        fi
    else
        sed "s/^/[$1] /" "/tmp/$1.out" | tail -n 30
        mark "$1" FAIL "$_t" "xl restore with our helper: $(grep -v '^libxl: error: libxl_domain' "/tmp/$1.out" | tail -n 1)"
        xl list; xl destroy g2 >/dev/null 2>&1; return 1
    fi
    _t=$(now)
    if wait_cnt g2 "$PV_CNT" 60; then mark "$1_alive" OK "$_t" "counter at save $PV_CNT, now $(lastcnt g2)"
    else mark "$1_alive" FAIL "$_t" "$WHY"; xl list; dump; xl destroy g2 >/dev/null 2>&1; return 1; fi
}

# Upstream's `xl save` of the PV guest (its own libxc saver), our restore.
s_pv_upstream_save_ours_restore() {
    need pv_upstream_save_ours_restore "our libxl-save-helper in the image" \
        test -x /opt/colo/bin/libxl-save-helper || return
    need pv_upstream_save_ours_restore "a running g2 guest" fresh_g2 || return
    rm -f /tmp/pvup.img
    _t=$(now)
    if ! timeout 300 xl save g2 /tmp/pvup.img > /tmp/pv_upsave.out 2>&1; then
        sed 's/^/[pv_upstream_save] /' /tmp/pv_upsave.out | tail -n 20
        mark pv_upstream_save_ours_restore FAIL "$_t" "upstream xl save: $(tail -n 1 /tmp/pv_upsave.out)"
        return
    fi
    set -- $(lastcnt g2); PV_CNT=$1
    note "pv_upstream_save_ours_restore: upstream xl save $(since "$_t") s, $(stat -c %s /tmp/pvup.img) bytes, counter $PV_CNT"
    pv_restore_with_ours pv_upstream_save_ours_restore /tmp/pvup.img
    rm -f /tmp/pvup.img
}

# pv_our_xl_save STEP FILE: the project's `xl save` of g2 (our saver) to FILE; sets PV_CNT.
pv_our_xl_save() {
    need "$1" "xl-colo and our libxl-save-helper in the image" \
        test -x /opt/colo/bin/xl-colo -a -x /opt/colo/bin/libxl-save-helper || return
    need "$1" "a running g2 guest" fresh_g2 || return
    mkdir -p /run/colo
    rm -f "$2"
    _t=$(now)
    if ! timeout 300 $OURXL save g2 "$2" > "/tmp/$1.save.out" 2>&1; then
        sed "s/^/[$1] /" "/tmp/$1.save.out" | tail -n 20
        mark "$1" FAIL "$_t" "xl-colo save: $(tail -n 1 "/tmp/$1.save.out")"
        return 1
    fi
    set -- "$@" $(lastcnt g2); PV_CNT=$3
    note "$1: our xl save $(since "$_t") s, $(stat -c %s "$2") bytes, counter $PV_CNT"
}

# Both directions ours: the project's `xl save` (our saver) and our restore.
s_pv_ours_roundtrip() {
    pv_our_xl_save pv_ours_roundtrip /tmp/pvrt.img || return
    pv_restore_with_ours pv_ours_roundtrip /tmp/pvrt.img
    rm -f /tmp/pvrt.img
}

# The whole toolstack ours: the project's `xl save`, then the project's `xl restore`:
# our libxl builds the PV domain (xhv_domain_create, PV type), our engine fills it, the
# rings are connected; the guest's console output continues in guest-g2.log.
s_pv_ours_xl_restore() {
    pv_our_xl_save pv_ours_xl_restore /tmp/pvx.img || return
    xl destroy g2 >/dev/null 2>&1
    _t=$(now)
    if timeout 300 $OURXL restore /tmp/pvx.img > /tmp/pv_ours_xl_restore.out 2>&1; then
        mark pv_ours_xl_restore OK "$_t" "restore $(since "$_t") s, g2 is domain $(xl domid g2 2>&1)"
    else
        sed 's/^/[pv_ours_xl_restore] /' /tmp/pv_ours_xl_restore.out | tail -n 30
        mark pv_ours_xl_restore FAIL "$_t" "xl-colo restore: $(tail -n 1 /tmp/pv_ours_xl_restore.out)"
        xl list; xl destroy g2 >/dev/null 2>&1; rm -f /tmp/pvx.img; return
    fi
    rm -f /tmp/pvx.img
    alive pv_ours_xl_restore_alive g2 "$PV_CNT"
}

# Our save with the guest resumed after it (`xhv-sr save -r`: the "cancelled" fast
# resume, vcpu 0's return value set through the vcpu context): g2 counts on.
s_pv_ours_save_resume() {
    need pv_ours_save_resume "xhv-sr in the image" command -v xhv-sr || return
    need pv_ours_save_resume "a running g2 guest" fresh_g2 || return
    run pv_ours_save_resume 300 $XSR save -r g2 /tmp/pvr.img || { xl list; dump; return; }
    rm -f /tmp/pvr.img
    set -- $(lastcnt g2)
    alive pv_ours_save_resume_alive g2 "$1"
}
