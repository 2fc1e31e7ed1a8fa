# Remus and COLO through the project's own xl on real Xen (plan steps d and e end to
# end): `xl remus [-c] -i 1000 -s "" g1 "<our xl> migrate-receive -r|--colo -e"` in one
# dom0.  Our receiver's libxl builds the secondary (g1--incoming) and our engine fills
# it at every checkpoint; the primary runs our libxl with the save helper.  After three
# checkpoints the primary is paused (so it prints nothing more), its last counter read,
# and upstream `xl destroy` kills it; the receiver fails over (renames the secondary to
# g1 and, for Remus, unpauses it at the last whole checkpoint) and the guest must count
# past the primary's last counter.  Sourced by dom0-init.sh; uses its helpers.
#
#   ours_xl_remus, ours_xl_colo            three checkpoints reported by our xl remus
#   ..._failover                           our xl remus ends, the receiver says it took
#                                          over, exactly one g1 is left
#   ..._guest_alive                        g1 counts past the primary's last counter
#                                          (either console log), self-check ok
#   ours_xl_colo_equal                     the receiver compared the pair page by page
#                                          after every applied checkpoint (both stopped;
#                                          LIBXL_TEST_COLO_COMPARE): all equal, >= 3
#   ours_xl_colo_helper_kill               the same pair, but the primary's save helper
#                                          is killed (SIGKILL) instead of the domain:
#   ..._one_copy                           the primary still runs, so the receiver must
#                                          give its copy up: exactly one g1 runs, the
#                                          primary (same domid), no g1--incoming
#   ..._guest_alive                        and it counts on
xl_ha_step() { # STEP SENDER-FLAGS RECEIVER-FLAGS [VAR: receiver gets VAR=<g1's domid>] [helper]
    need "$1" "xl-colo in the image" command -v xl-colo || return
    # The helper's death is tested on a primary that never failed over: a COLO survivor
    # (resumed through soft resets) hung once after its helper died (docs/real-xen.md).
    [ "${5:-}" = helper ] && xl destroy g1 >/dev/null 2>&1
    need "$1" "a running g1 guest" fresh_g1 || return
    mkdir -p /run/colo
    xl destroy g1--incoming >/dev/null 2>&1
    # Comparing ~1M pfns takes seconds under TCG, inside the checkpoint: a longer
    # heartbeat on both sides then.
    _env=; [ -n "${4:-}" ] && _env="$4=$(xl domid g1) LIBXL_HEARTBEAT_TIMEOUT_MS=60000"
    _t=$(now)
    env $_env $OURXL remus -e $2 -i 1000 -s "" g1 "env $_env $OURXL migrate-receive $3 -e" \
        > "/tmp/$1.out" 2>&1 &
    _rp=$!
    while [ "$(count_lines '^(Remus|COLO): checkpoint [0-9]' "/tmp/$1.out")" -lt 3 ]; do
        kill -0 $_rp 2>/dev/null || break
        [ "$(since "$_t" | cut -d. -f1)" -ge 180 ] && break
        sleep 0.5
    done
    _n=$(count_lines '^(Remus|COLO): checkpoint [0-9]' "/tmp/$1.out")
    if [ "$_n" -ge 3 ]; then mark "$1" OK "$_t" "$_n checkpoints; secondary $(xl domid g1--incoming 2>&1)"
    else mark "$1" FAIL "$_t" "$_n checkpoints: $(tail -n 1 "/tmp/$1.out")"; fi
    if [ "${5:-}" = helper ]; then
        xl_helper_killed "$1" $_rp
        return
    fi
    xl pause g1; sleep 1
    set -- "$1" $(lastcnt "g1 g1--incoming")
    _t=$(now)
    xl destroy g1
    _i=0; while kill -0 $_rp 2>/dev/null && [ $_i -lt 120 ]; do sleep 0.5; _i=$((_i+1)); done
    kill $_rp 2>/dev/null; wait $_rp 2>/dev/null
    sed "s/^/[$1] /" "/tmp/$1.out" | tail -n 25
    if ! grep -qE 'failover' "/tmp/$1.out"; then
        mark "$1_failover" FAIL "$_t" "the receiver did not take over: $(tail -n 1 "/tmp/$1.out")"
    elif [ "$(xl list | awk '$1=="g1"' | wc -l)" != 1 ] || xl domid g1--incoming >/dev/null 2>&1; then
        mark "$1_failover" FAIL "$_t" "after failover: $(xl list | awk 'NR>1{print $1}' | tr '\n' ' ')"
    else
        mark "$1_failover" OK "$_t" "g1 is domain $(xl domid g1)"
    fi
    alive "$1_guest_alive" "g1 g1--incoming" "$2"
    # With the comparison asked for (COLO: LIBXL_TEST_COLO_COMPARE), the receiver
    # compared the pair after every applied checkpoint, both stopped: every comparison
    # must find 0 pages.
    if [ -n "$_env" ]; then
        # -1: not comparable (the primary is gone: the checkpoint after its destroy)
        _c=$(count_lines 'libxl: test: COLO checkpoint [0-9]*: 0 pages' "/tmp/$1.out")
        _bad=$(grep -E 'libxl: test: COLO checkpoint [0-9]+: [1-9][0-9]* pages' "/tmp/$1.out" | head -n 1)
        grep 'libxl: test: COLO checkpoint\|domain_diff_pages' "/tmp/$1.out" | head -n 20 | sed 's/^/@@INFO /'
        if [ "$_c" -ge 3 ] && [ -z "$_bad" ]; then mark "$1_equal" OK "$_t" "$_c checkpoints compared, all equal"
        else mark "$1_equal" FAIL "$_t" "$_c equal comparisons; ${_bad:-fewer than 3}"; fi
    fi
}
# The primary's save helper dies (SIGKILL), the primary lives: our xl resumes it
# unprotected, and the receiver, seeing the stream end while the primary still runs on
# this host, gives its copy up.  STEP XL-REMUS-PID.
xl_helper_killed() {
    _pd=$(xl domid g1)
    set -- "$1" "$2" $(lastcnt g1)
    _t=$(now)
    _hp=$(for _p in /proc/[0-9]*; do
              tr '\0' ' ' 2>/dev/null < "$_p/cmdline" | grep -q '^[^ ]*libxl-save-helper --save-domain ' &&
                  echo "${_p#/proc/}"
          done | head -n 1)
    [ -n "$_hp" ] && kill -9 "$_hp"
    _i=0; while kill -0 "$2" 2>/dev/null && [ $_i -lt 120 ]; do sleep 0.5; _i=$((_i+1)); done
    kill "$2" 2>/dev/null; wait "$2" 2>/dev/null
    sed "s/^/[$1] /" "/tmp/$1.out" | tail -n 12
    if [ -z "$_hp" ]; then
        mark "$1_one_copy" FAIL "$_t" "no save helper to kill"
    elif [ "$(xl list | awk '$1=="g1"' | wc -l)" = 1 ] && [ "$(xl domid g1)" = "$_pd" ] &&
         ! xl domid g1--incoming >/dev/null 2>&1; then
        mark "$1_one_copy" OK "$_t" "helper $_hp killed; g1 is still domain $_pd, no copy left"
    else
        mark "$1_one_copy" FAIL "$_t" "helper $_hp killed; after: $(xl list | awk 'NR>1{print $1 "/" $2}' | tr '\n' ' ')"
    fi
    alive "$1_guest_alive" g1 "$3"
}
s_ours_xl_remus() { xl_ha_step ours_xl_remus "" "-r"; }
s_ours_xl_colo() { xl_ha_step ours_xl_colo "-c" "--colo" LIBXL_TEST_COLO_COMPARE; }
s_ours_xl_colo_helper_kill() { xl_ha_step ours_xl_colo_helper_kill "-c" "--colo" "" helper; }
