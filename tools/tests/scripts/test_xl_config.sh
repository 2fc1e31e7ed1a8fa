#!/bin/bash
# xl configs with every key malformed (docs/hostile-input.md): each is refused with
# file:line and what is wrong with the value, and no domain is created.
. "$(dirname "$0")/local.inc"

base() {   # a valid config; the line under test follows as line 5
    printf 'name = "cfg"\nmemory = 16\nvcpus = 1\nsim_program = "incrementer"\n'
}
no_domain() { [ "$("$XL" list | awk 'NR > 1' | wc -l)" = 0 ]; }
refused() {   # line message
    { base; printf '%s\n' "$1"; } > "$WORK/c.cfg"
    "$XL" create -q "$WORK/c.cfg" >"$WORK/out" 2>&1; rc=$?
    if [ $rc != 0 ] && grep -qF -- "$2" "$WORK/out" && no_domain; then
        ok "refused: $1 -> $2"
    else
        notok "refused: $1 -> $2 (rc $rc: $(tr '\n' ' ' < "$WORK/out"))"
        # so that one wrongly created domain does not fail the cases after it
        for id in $("$XL" list | awk 'NR > 1 {print $2}'); do "$XL" destroy "$id"; done
    fi
}

for key in name type builder sim_program sim_net sim_net_compare; do
    refused "$key = cfg2" "c.cfg:5: $key must be a quoted string (got cfg2)"
    refused "$key = \"cfg2'" "c.cfg:5: $key must be a quoted string (got \"cfg2')"
    refused "$key = [ \"a\" ]" "c.cfg:5: $key: lists are not supported by this toolstack"
done
refused 'type = "xen"' 'c.cfg:5: unknown type "xen"'
refused 'builder = ""' 'c.cfg:5: unknown builder ""'
for key in memory maxmem vcpus maxvcpus sim_rate sim_seed sim_max_steps sim_flags sim_host_input; do
    refused "$key = lots" "c.cfg:5: $key must be a number (got lots)"
    refused "$key = \"16\"" "c.cfg:5: $key must be a number (got \"16)"
    refused "$key = -1" "c.cfg:5: $key must be a number (got -1)"
    refused "$key = 16x" "c.cfg:5: $key must be a number (got 16x)"
    refused "$key =" "c.cfg:5: $key must be a number (got )"
    refused "$key = 18446744073709551616" "c.cfg:5: $key must be a number (got 18446744073709551616)"
done
refused 'vcpus = 0' 'c.cfg:5: vcpus must be 1 to 128 (got 0)'
refused 'maxvcpus = 129' 'c.cfg:5: maxvcpus must be 1 to 128 (got 129)'
refused 'memory = 16385' 'c.cfg: memory 16385 MiB is more than the simulated hypervisor'"'"'s 16384 MiB'
refused 'memory = 0' 'c.cfg: no memory (add `memory = <MiB>`)'
refused 'maxmem = 32' 'c.cfg: maxmem (32) must equal memory (16): no ballooning here'
refused 'memory 16' 'c.cfg:5: expected `key = value`'
refused 'name = ""' "domain config: no name"
refused 'sim_program = "nosuch"' "unknown guest program 'nosuch'"

# The base itself is accepted, so that each refusal above is the line's doing.
base > "$WORK/c.cfg"
check "the config without the line is accepted" "$XL" create -q "$WORK/c.cfg"
check "  ... and its domain exists" eval '! no_domain'
exit $((FAILS > 0))
