#!/bin/bash
# `make two-host-demo`: COLO-protect a guest from host A to host B with `xl remus -c`
# over ssh, then kill host A's side and watch B take over.  Uses scripts/two-hosts.sh.
set -e
H=$(cd "$(dirname "$0")" && pwd)/two-hosts.sh
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
trap '"$H" down >/dev/null 2>&1' EXIT
"$H" down >/dev/null 2>&1 || true
"$H" up
cfg=$(mktemp /tmp/guest.XXXXXX.cfg)
printf 'name = "guest"\nmemory = 64\nvcpus = 1\nsim_program = "incrementer"\nsim_rate = 20000\n' > "$cfg"
step "host A: xl create guest.cfg"; "$H" a xl create "$cfg"
step "host A: xl remus -c --fence-script .../fence-hostA -s \"ssh -F ...\" guest hostB   (in the background)"
"$H" a sh -c 'exec xl remus -c --fence-script "$XL_FENCE" -s "$XL_SSH" guest hostB' 2>&1 |
    sed 's/^/    [remus] /' &
sleep 4
step "host A: xl list"; "$H" a xl list
step "host B: xl list   (the secondary runs as guest--incoming)"; "$H" b xl list
step "host A: xl destroy guest   (the primary dies)"; "$H" a xl destroy guest
sleep 2
step "host B: xl list"; "$H" b xl list
step "host B: xl list -l guest"; "$H" b xl list -l guest | sed -n '/sim_status/,/}/p'
wait
rm -f "$cfg"
echo; echo "The secondary on host B took over once its fence script made sure the primary"
echo "on host A was dead: it runs, and its memory self-checks passed."
