# Diagnostics, not in the default plan: how often a guest dies when log-dirty tracking
# starts (the first moments of every live save), measured apart from any copying.
# Sourced by dom0-init.sh; uses its helpers.  Repeat the step in a plan to collect more
# rounds: run.sh toolstack+pvh_create+logdirty_stress+logdirty_stress+...
#
#   logdirty_stress              200 rounds of: log-dirty on, 100 ms, clean, off
#   logdirty_stress_guest_alive  g1 counts on afterwards, self-check ok
s_logdirty_stress() {
    need logdirty_stress "a running g1 guest" fresh_g1 || return
    set -- $(lastcnt g1)
    run logdirty_stress 300 $OURENV xhv-sr logdirty -i 100 -n 200 g1
    alive logdirty_stress_guest_alive g1 "$1"
}

# g1's vcpu 0 registers (xenctx) and Xen's domain summary, five times a second apart:
# where a guest that prints nothing is stuck.
s_guest_regs() {
    d=$(xl domid g1 2>/dev/null) || { failmark guest_regs "no g1"; return; }
    for i in 1 2 3 4 5; do
        note "guest_regs $i: $(xenctx -a "$d" 0 2>&1 | tr '\n' ' ' | cut -c1-900)"
        sleep 1
    done
    xl debug-keys q; xl dmesg | tail -n 40
    mark guest_regs OK "$(now)"
}

# Xen's TSC state per domain (`xl debug-keys s`): emulated (vtsc) or native, and how
# many RDTSC the guest made Xen emulate.
s_tsc_state() {
    xl debug-keys s
    note "tsc_state: $(xl dmesg | tail -n 12 | tr '\n' ' ')"
    mark tsc_state OK "$(now)"
}

# One resume path of our backend, repeated on a guest upstream created, with the dom0
# canary watching (its verdict follows the step): the slow resume a COLO secondary gets
# from its second checkpoint on (soft reset under xenstored's and xenconsoled's grant
# mappings), or the fast one (-f) the primary gets.  Separates those from the rest of a
# COLO checkpoint (stream, second domain, comparison).
#
#   resume_stress_slow / _fast    30 rounds: suspend, resume, 1 s of running
#   ..._guest_alive               g1 counts on afterwards, self-check ok
resume_stress() { # STEP FLAGS
    need "$1" "a running g1 guest" fresh_g1 || return
    set -- "$1" "$2" $(lastcnt g1)
    run "$1" 300 xen-resume-stress $2 -n 30 g1
    alive "$1_guest_alive" g1 "$3"
}
s_resume_stress_slow() { resume_stress resume_stress_slow ""; }
s_resume_stress_fast() { resume_stress resume_stress_fast -f; }
