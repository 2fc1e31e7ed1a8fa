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
