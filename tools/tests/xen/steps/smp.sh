# COLO of a guest with two vcpus (real guests are SMP; g1 has one): g3 (the PVH guest
# with vcpus=2) and a paused g3s, three checkpoints compared page by page, each equal;
# the pair ends with the secondary taking over after the last checkpoint, and both
# count on.  Then one failover cut inside the last checkpoint (main stream, M-4 records
# of the uncut run): the secondary must be exactly the state it stopped in.
SMPCFG_ARGS='name="g3" vcpus=2'

fresh_g3() {
    if have g3; then
        case "$(xl list g3 2>/dev/null | awk 'NR==2{print $5}')" in
            *s*|*c*|*d*|*p*) xl destroy g3 ;; *) return 0 ;; esac
    fi
    rm -f "$LOGS/guest-g3.log"
    timeout 120 xl create $CFG $SMPCFG_ARGS >/dev/null 2>&1 && wait_cnt g3 0 120 && wait_cnt g3 2 60
}

s_colo_smp() {
    need colo_smp "xhv-sr in the image" command -v xhv-sr || return
    # g1 is not needed here: two vcpus more are enough for the two emulated CPUs
    xl destroy g1 >/dev/null 2>&1; xl destroy g1s >/dev/null 2>&1
    need colo_smp "a running two-vcpu g3 guest" fresh_g3 || return
    note "colo_smp: g3 has $(xl list g3 | awk 'NR==2{print $4}') vcpus"
    xl destroy g3s >/dev/null 2>&1; rm -f "$LOGS/guest-g3s.log"
    run colo_smp_xl_create_p 120 xl create -p $CFG 'name="g3s"' vcpus=2 || return
    run colo_smp 300 $XSR colo -i 1000 -n 3 -c g3 g3s || { xl list; dump; }
    grep '^@@COLO' /tmp/colo_smp.out | sed 's/^/@@INFO /'
    _m=$(sed -n 's/^@@COLO records main=\([0-9]*\) back=.*/\1/p' /tmp/colo_smp.out)
    set -- $(lastcnt g3) $(lastcnt g3s)
    _t=$(now)
    if wait_cnt g3 "$1" 60 && wait_cnt g3s "$3" 60; then
        mark colo_smp_both_alive OK "$_t" "g3 $(lastcnt g3), g3s $(lastcnt g3s)"
    else mark colo_smp_both_alive FAIL "$_t" "$WHY"; dump; fi
    xl destroy g3s >/dev/null 2>&1; rm -f "$LOGS/guest-g3s.log"
    [ -n "$_m" ] || { failmark colo_smp_failover "the uncut run counted no records"; return; }
    need colo_smp_failover "a running two-vcpu g3 guest" fresh_g3 || return
    timeout 120 xl create -p $CFG 'name="g3s"' vcpus=2 >/dev/null 2>&1 ||
        { failmark colo_smp_failover "xl create -p g3s failed"; return; }
    set -- $(lastcnt g3)
    _t=$(now)
    timeout 300 $XSR colo -i 1000 -n 3 -C main:$((_m - 4)) g3 g3s > /tmp/colo_smp_failover.out 2>&1
    _rc=$?
    _fl=$(grep '^@@COLO failover' /tmp/colo_smp_failover.out | tail -n 1)
    note "colo_smp_failover: $_fl"
    set -- "$@" $(lastcnt g3s)
    if [ $_rc = 0 ] && wait_cnt g3s "$3" 60 && wait_cnt g3 "$1" 60; then
        mark colo_smp_failover OK "$_t" "$(echo "$_fl" | sed -n 's/.* \(phase=[a-z-]* checkpoint=[0-9]* exact=[-0-9]*\) .*/\1/p'), survivor and primary run"
    else
        mark colo_smp_failover FAIL "$_t" "rc $_rc: ${_fl:-$(tail -n 1 /tmp/colo_smp_failover.out)} ${WHY:-}"; dump
    fi
    xl destroy g3s >/dev/null 2>&1
    xl destroy g3 >/dev/null 2>&1
}
