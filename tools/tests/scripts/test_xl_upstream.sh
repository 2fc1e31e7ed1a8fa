#!/bin/bash
# xl behaves as upstream Xen 4.17's xl: help and exit statuses, global options (-v -f -N
# -t -T; the migration sender's remote command under a terminal, as upstream runs it),
# save -p, migrate -p, list's columns and state letters, diagnostics on stderr, refused
# options that make no sense here.
. "$(dirname "$0")/local.inc"

# ---- help, usage and exit statuses ----
"$XL" >"$WORK/out" 2>"$WORK/err"; rc=$?
check "xl with no command: usage on stdout, status 1 (upstream's)" \
    eval '[ $rc = 1 ] && grep -q "^Usage: xl" "$WORK/out"'
"$XL" help >"$WORK/out" 2>"$WORK/err"; rc=$?
check "xl help: status 0, every command listed" \
    eval '[ $rc = 0 ] && [ "$(grep -cE "^ (create|list|destroy|pause|unpause|save|restore|migrate|migrate-receive|remus|debug-digest|help) " "$WORK/out")" = 12 ]'
"$XL" -Z list >"$WORK/out" 2>"$WORK/err"; rc=$?
check "an unknown global option: status 1, said on stderr" \
    eval '[ $rc = 1 ] && grep -q "unknown global option" "$WORK/err" && [ ! -s "$WORK/out" ]'
"$XL" frobnicate >"$WORK/out" 2>"$WORK/err"; rc=$?
check "an unknown command: status 1, said on stderr" \
    eval '[ $rc = 1 ] && grep -q "not implemented" "$WORK/err" && [ ! -s "$WORK/out" ]'
"$XL" li >"$WORK/out" 2>&1; rc=$?
check "an unambiguous prefix runs the command (xl li = xl list), as upstream" \
    eval '[ $rc = 0 ] && grep -q "^Name  *ID" "$WORK/out"'
# Every option of upstream's getopt string for each command is in its help.
while read -r cmd opts; do
    for form in "help $cmd" "$cmd --help" "$cmd -h"; do
        "$XL" $form >"$WORK/out" 2>"$WORK/err"; rc=$?
        check "xl $form: status 0, usage on stdout" \
            eval '[ $rc = 0 ] && grep -q "^Usage: xl .*$cmd" "$WORK/out" && [ ! -s "$WORK/err" ]'
    done
    [ -n "$opts" ] || continue
    missing=
    for o in $opts; do grep -qE -- "(^|[ ,])$o([ ,=]|\$)" "$WORK/out" || missing="$missing $o"; done
    check "xl help $cmd lists every upstream option ($opts)" [ -z "$missing" ]
    [ -z "$missing" ] || say "missing:$missing"
done <<'EOF'
create -p -q -f -n -d -e -F -c -V -A --quiet --defconfig --dryrun --vncviewer --vncviewer-autopass
list -l -v -Z -c -n --long --verbose --context --cpupool --numa
destroy -f
save -c -p -D
restore -F -c -p -d -e -V -A --vncviewer --vncviewer-autopass
migrate -F -C -s -e -p -D --debug --live
migrate-receive -F -e -d -r -p --colo --coloft-script --userspace-colo-proxy
remus -F -b -u -n -d -i -s -N -e -c -p
pause
unpause
EOF
cfg=$(guest_cfg g1 incrementer 16 20000)
# A carriage return that does not start a CR LF (a terminal turns every newline into one).
has_bare_cr() {
    python3 -c 'import re, sys; sys.exit(0 if re.search(rb"\r(?!\n)", open(sys.argv[1], "rb").read()) else 1)' "$1"
}
"$XL" save -Z g1 "$WORK/x" >"$WORK/out" 2>"$WORK/err"; rc=$?
check "an unknown subcommand option: status 2, said on stderr" \
    eval '[ $rc = 2 ] && grep -q "option -Z not supported" "$WORK/err" && [ ! -s "$WORK/out" ]'
"$XL" save g1 >"$WORK/out" 2>"$WORK/err"; rc=$?
check "too few arguments: status 2, usage on stderr" \
    eval '[ $rc = 2 ] && grep -q "needs at least 2 arguments" "$WORK/err" && grep -q "^Usage: xl" "$WORK/err" && [ ! -s "$WORK/out" ]'

# ---- diagnostics on stderr ----
"$XL" create "$cfg" >"$WORK/out" 2>"$WORK/err"; rc=$?
check "xl create: 'Parsing config from' on stderr, nothing on stdout" \
    eval '[ $rc = 0 ] && grep -q "^Parsing config from $cfg" "$WORK/err" && [ ! -s "$WORK/out" ]'
"$XL" destroy nosuch >"$WORK/out" 2>"$WORK/err"; rc=$?
check "an error (destroy of a missing domain) is on stderr only, status 1" \
    eval '[ $rc = 1 ] && [ -s "$WORK/err" ] && [ ! -s "$WORK/out" ]'
"$XL" create /nonexistent.cfg >"$WORK/out" 2>"$WORK/err"
check "a config that cannot be read: said on stderr only" \
    eval 'grep -q "Failed to read config file" "$WORK/err" && [ ! -s "$WORK/out" ]'

# ---- global -N, -f, -v, -T ----
"$XL" -N list >"$WORK/out" 2>"$WORK/err"; rc=$?
check "-N with a command without a dry run: refused, status 1" \
    eval '[ $rc = 1 ] && grep -q "no dry run" "$WORK/err" && [ ! -s "$WORK/out" ]'
cfg2=$(guest_cfg dry incrementer 8 1000)
for form in "-N create $cfg2" "create -n $cfg2"; do
    "$XL" $form >"$WORK/out" 2>"$WORK/err"; rc=$?
    check "xl $form: prints the config as JSON (domid null), creates nothing" \
        eval '[ $rc = 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"domid\"] is None and d[\"config\"][\"c_info\"][\"name\"] == \"dry\"" "$WORK/out" && [ "$(dom_field dry state)" = none ]'
done
check "xl -f list: -f is accepted" eval '"$XL" -f list >/dev/null'
check "xl -vv list: -v is repeatable" eval '"$XL" -vv list >/dev/null'
"$XL" -T pause nosuch >"$WORK/out" 2>"$WORK/err"
check "-T: messages start with a timestamp and xl's pid" \
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Za-z+0-9-]+ \[[0-9]+\] xl: no domain' "$WORK/err"

# ---- save -p / -c / plain ----
sleep 0.3
"$XL" save -p g1 "$WORK/p.save" >/dev/null 2>"$WORK/err"; rc=$?
check "xl save -p: status 0" [ $rc = 0 ]
check "  ... leaves the domain paused (not destroyed)" [ "$(dom_field g1 state)" = "--p---" ]
"$XL" unpause g1
sleep 0.3
check "  ... and after unpause it runs on, self-checks passed" running_ok g1
verify_xl xl "$WORK/p.save"
check "  ... the image of save -p is accepted by verify-stream-v2" [ $? = 0 ]
"$XL" -t save -c g1 "$WORK/c.save" >/dev/null 2>"$WORK/err"
check "xl -t save: progress lines overwrite each other (carriage returns)" has_bare_cr "$WORK/err"
check "  ... save -c leaves the domain running" running_ok g1
"$XL" save -c g1 "$WORK/c2.save" >/dev/null 2>"$WORK/err"
check "without -t, stderr not a terminal: no carriage returns" eval '! has_bare_cr "$WORK/err"'

# ---- the migration sender's remote command (fake ssh: logs, then runs it here) ----
# The remote command is the name xl is installed under (the build's XL_NAME).
RXL=$(make -s --no-print-directory -C "$ROOT" print-XL_NAME)
mkdir -p "$WORK/bin"
ln -s "$XL" "$WORK/bin/$RXL"
cat > "$WORK/fakessh" <<EOF
#!/bin/bash
echo "\$*" >> "$WORK/ssh.log"
shift
PATH="$WORK/bin:\$PATH" exec bash -c "\$*"
EOF
chmod +x "$WORK/fakessh"
# stderr on a terminal, as when a user runs xl migrate: upstream's sender then runs the
# receiver as `xl -t migrate-receive`.
cat > "$WORK/ontty.py" <<'EOF'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
out = b''
while True:
    try:
        d = os.read(m, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
open(sys.argv[1], 'wb').write(out)
sys.exit(p.wait())
EOF
: > "$WORK/ssh.log"
python3 "$WORK/ontty.py" "$WORK/tty.out" "$XL" migrate -s "$WORK/fakessh" g1 localhost; rc=$?
check "xl migrate with stderr on a terminal: runs '$RXL -t migrate-receive' on the host" \
    grep -qx "localhost $RXL -t migrate-receive" "$WORK/ssh.log"
check "  ... the receiver accepts -t: migration successful (rc $rc)" \
    eval '[ $rc = 0 ] && grep -q "Migration successful" "$WORK/tty.out"'
check "  ... progress overwrote itself on the terminal" has_bare_cr "$WORK/tty.out"
sleep 0.3
check "  ... the migrated guest runs, self-checks passed" running_ok g1
: > "$WORK/ssh.log"
"$XL" migrate -s "$WORK/fakessh" g1 localhost >/dev/null 2>&1
check "stderr not a terminal: '$RXL migrate-receive' without -t" \
    grep -qx "localhost $RXL migrate-receive" "$WORK/ssh.log"
: > "$WORK/ssh.log"
"$XL" -v -t migrate -e --debug -s "$WORK/fakessh" g1 localhost >/dev/null 2>&1; rc=$?
check "xl -v -t migrate -e --debug: passes -t and -v, then -e -d (upstream's order), rc $rc" \
    eval '[ $rc = 0 ] && grep -qx "localhost $RXL -t -v migrate-receive -e -d" "$WORK/ssh.log"'

# ---- migrate -p ----
sleep 0.3
: > "$WORK/ssh.log"
"$XL" migrate -p -s "$WORK/fakessh" g1 localhost >"$WORK/out" 2>&1; rc=$?
check "xl migrate -p: passes -p to migrate-receive (rc $rc)" \
    eval '[ $rc = 0 ] && grep -qx "localhost $RXL migrate-receive -p" "$WORK/ssh.log"'
check "  ... the domain is left paused on the target" [ "$(dom_field g1 state)" = "--p---" ]
"$XL" unpause g1
sleep 0.3
check "  ... and runs once unpaused, self-checks passed" running_ok g1

# ---- list: upstream's columns and state letters ----
"$XL" list >"$WORK/list"
check "xl list: upstream's header" \
    [ "$(head -1 "$WORK/list")" = "$(printf 'Name                                        ID   Mem VCPUs\tState\tTime(s)')" ]
id=$("$XL" list | awk '$1 == "g1" {print $2}')
row=$(printf '%-40s %5d %5d %5d     %s' g1 "$id" 16 1 r-----)
check "xl list: upstream's column widths" grep -qE "^$row  [ 0-9]{6}\\.[0-9]\$" "$WORK/list"
"$XL" list -v >"$WORK/list"
check "xl list -v: UUID, reason code and security label columns" \
    eval 'head -1 "$WORK/list" | grep -q "UUID.*Reason-Code.*Security Label" && grep -qE "^g1 .* [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} +- +-\$" "$WORK/list"'
"$XL" list g1 g2 >"$WORK/out" 2>"$WORK/err"; rc=$?
check "xl list takes one domain at most (status 1, as upstream)" \
    eval '[ $rc = 1 ] && [ ! -s "$WORK/out" ]'
"$XL" list nosuch >"$WORK/out" 2>"$WORK/err"; rc=$?
check "xl list of a missing domain: status 1, said on stderr" \
    eval '[ $rc = 1 ] && grep -q "does not exist" "$WORK/err" && [ ! -s "$WORK/out" ]'
# A suspended domain: the final handshake fails after the target's go (the transport
# passes the banner and the ready message, then closes), so the sender keeps its copy
# suspended as g1--migratedaway.
"$XL" migrate -s "" g1 "$XL migrate-receive | dd bs=1 count=88 status=none" >"$WORK/out" 2>&1; rc=$?
check "a migration that fails in the final handshake: status 1 (upstream's)" \
    eval '[ $rc = 1 ] && grep -q "final handshake" "$WORK/out"'
check "  ... the sender's copy is listed suspended: ---ss-" \
    grep -qE "^g1--migratedaway +[0-9]+ +16 +1     ---ss-  " <("$XL" list)
"$XL" destroy g1--migratedaway
sleep 0.3
# A crashed domain: its vcpu process is gone.
id=$("$XL" list | awk '$1 == "g1" {print $2}')
vpid=$(ps -eo pid=,args= | awk -v d="$SIMXEN_DIR" -v id="$id" '$2 ~ /simxen-vcpu$/ && $3 == d && $4 == id {print $1}')
[ -n "$vpid" ] && kill -KILL "$vpid"
sleep 0.3
check "a crashed domain (its vcpu process killed) is listed ---sc-" \
    grep -qE "^g1 +$id +16 +1     ---sc-  " <("$XL" list)
"$XL" destroy g1

# ---- options that make no sense here: refused, saying why ----
"$XL" create -q "$cfg"
while read -r args; do
    eval "set -- $args"
    "$XL" "$@" >"$WORK/out" 2>"$WORK/err"; rc=$?
    check "xl $args: refused with the reason (status 2)" \
        eval '[ $rc = 2 ] && grep -q "is not supported here: ." "$WORK/err" && [ ! -s "$WORK/out" ]'
done <<EOF
create -c $cfg
create -F $cfg
create -V $cfg
list -c
list -n
save -D g1 $WORK/d.save
restore -c $WORK/p.save
restore -A $WORK/p.save
migrate -C $cfg g1 somehost
migrate -D g1 somehost
remus -N script g1 somehost
migrate-receive -F
EOF
check "  ... and g1 was left running" running_ok g1
"$XL" migrate-receive --coloft-script /x/y </dev/null >/dev/null 2>"$WORK/err"
check "migrate-receive --coloft-script (sent by upstream's COLO primary): warned, not silently ignored" \
    grep -q "coloft-script /x/y: not run" "$WORK/err"
"$XL" destroy 0 >"$WORK/out" 2>"$WORK/err"; rc=$?
check "xl destroy 0: refused without -f (status 1)" eval '[ $rc = 1 ] && grep -q "without -f" "$WORK/err"'
"$XL" destroy -f 0 >"$WORK/out" 2>"$WORK/err"
check "xl destroy -f 0: goes ahead (no domain 0 on the simulated hypervisor)" \
    eval '! grep -q "without -f" "$WORK/err" && grep -q "does not exist" "$WORK/err"'
exit $((FAILS > 0))
