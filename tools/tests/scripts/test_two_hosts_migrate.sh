#!/bin/bash
# Two hosts (network namespaces, sshd on B): `xl migrate` over ssh; the stream as B
# received it is accepted by Debian's verify-stream-v2 -f xl.
. "$(dirname "$0")/twohosts.inc"
setup_hosts

cfg=$(guest_cfg mig incrementer 16 20000)
xlA create -q "$cfg"
sleep 0.3
# Capture the live stream on B as it arrives (tee in B's session), then receive it.
onA "$XL" migrate -s "ssh -F $SSHCFG" mig "hostB 'tee $WORK/live.stream |'" \
    >"$WORK/migrate.out" 2>&1
rc=$?
sed 's/^/#   /' "$WORK/migrate.out" | grep -v "iteration" | head -20
check "xl migrate A -> B succeeds (rc $rc)" [ $rc = 0 ]
check "the banner/handshake completed" grep -q "Migration successful" "$WORK/migrate.out"
check "progress was shown" grep -q "pages" "$WORK/migrate.out"
check "the domain is gone from A" [ "$(dom_field onA mig state)" = none ]
sleep 0.3
check "the domain runs on B" [ "$(dom_field onB mig state)" = "r-----" ]
check "B's guest passed its self-check after the move" \
    [ "$(dom_field onB mig selfchecks_passed)" -ge 1 -a "$(dom_field onB mig selfchecks_failed)" = 0 ]
out=$(PYTHONPATH=/usr/lib/xen-4.17/lib/python /usr/bin/python3 \
      /usr/lib/xen-4.17/bin/verify-stream-v2 -f xl -i "$WORK/live.stream" 2>&1)
vrc=$?
check "verify-stream-v2 -f xl accepts the live stream B received (rc $vrc)" [ $vrc = 0 ]
[ $vrc = 0 ] || echo "$out" | tail -5 | sed 's/^/#   /'

# Back again, with the default transport words (ssh <host> xl migrate-receive).
onA "$XL" migrate -s "ssh -F $SSHCFG" mig hostB >/dev/null 2>&1  # mig is on B: must fail
check "migrating a domain A does not have fails cleanly" [ $? != 0 ]
exit $((FAILS > 0))
