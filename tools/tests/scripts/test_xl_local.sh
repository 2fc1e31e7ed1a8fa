#!/bin/bash
# xl on one host: configs, create/list/destroy, save/restore (images accepted by
# Debian's verify-stream-v2 -f xl), local migrate, remus option rules, clear errors.
. "$(dirname "$0")/local.inc"

# ---- configs and create ----
printf 'memory = 16\nsim_program = "incrementer"\n' > "$WORK/noname.cfg"
"$XL" create "$WORK/noname.cfg" >"$WORK/out" 2>&1
check "a config without a name is rejected, saying so" grep -q "no name" "$WORK/out"
printf 'name = "x"\nmemory = lots\nsim_program = "incrementer"\n' > "$WORK/bad.cfg"
"$XL" create "$WORK/bad.cfg" >"$WORK/out" 2>&1
check "a non-numeric memory is rejected with file:line" grep -q "bad.cfg:2: memory must be a number" "$WORK/out"
"$XL" create /nonexistent.cfg >"$WORK/out" 2>&1
check "a missing config file is reported" grep -q "Failed to read config file" "$WORK/out"
cfg=$(guest_cfg g1 incrementer 16 20000)
check "xl create" "$XL" create -q "$cfg"
"$XL" create "$cfg" >"$WORK/out" 2>&1
check "a second domain with the same name is refused" grep -q "already exists" "$WORK/out"
check "xl create with Variable=value overrides" "$XL" create -q "$cfg" 'name="g2"' 'memory=8'
"$XL" list >"$WORK/list"
check "xl list shows both" [ "$(grep -cE '^g[12] ' "$WORK/list")" = 2 ]
check "xl list: g2 has 8 MiB" grep -qE '^g2 +[0-9]+ +8 ' "$WORK/list"
check "xl list -l is JSON with the config" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["config"]["c_info"]["name"]' \
    <("$XL" list -l) 2>/dev/null
check "xl pause" "$XL" pause g2
check "  ... shows p" [ "$(dom_field g2 state)" = "--p---" ]
check "xl unpause" "$XL" unpause g2
check "xl destroy" "$XL" destroy g2
"$XL" destroy g2 >"$WORK/out" 2>&1
check "destroying a missing domain fails clearly" grep -q "no domain called 'g2'" "$WORK/out"

# ---- save / restore ----
sleep 0.3
"$XL" save g1 "$WORK/g1.save" >"$WORK/out" 2>&1
check "xl save" [ $? = 0 ]
check "  ... shows progress" grep -q "pages" "$WORK/out"
check "  ... and destroys the domain" [ "$(dom_field g1 state)" = none ]
verify_xl xl "$WORK/g1.save"
check "verify-stream-v2 -f xl accepts the saved image" [ $? = 0 ]
"$XL" restore "$WORK/g1.save" >"$WORK/out" 2>&1
check "xl restore" [ $? = 0 ]
sleep 0.3
check "  ... the guest runs and passed its self-check" \
    [ "$(dom_field g1 selfchecks_passed)" -ge 1 -a "$(dom_field g1 selfchecks_failed)" = 0 ]
"$XL" restore "$WORK/g1.save" >"$WORK/out" 2>&1
check "restoring while a domain of that name runs fails clearly" grep -q "already exists" "$WORK/out"
"$XL" save -c g1 "$WORK/g1c.save" >/dev/null 2>&1
check "xl save -c leaves the domain running" running_ok g1
verify_xl xl "$WORK/g1c.save"
check "verify-stream-v2 -f xl accepts the image of save -c" [ $? = 0 ]
head -c 3000000 "$WORK/g1c.save" > "$WORK/trunc.save"
"$XL" destroy g1
"$XL" restore "$WORK/trunc.save" >"$WORK/out" 2>&1
check "a truncated image fails to restore" [ $? != 0 ]
check "  ... and leaves no domain behind" [ "$("$XL" list | wc -l)" = 1 ]
head -c 4096 /dev/urandom > "$WORK/junk.save"
"$XL" restore "$WORK/junk.save" >"$WORK/out" 2>&1
check "a junk file is refused as not an xl save file" grep -q "not an xl save file" "$WORK/out"
"$XL" restore -p "$WORK/g1c.save" >/dev/null 2>&1
check "xl restore -p leaves it paused" [ "$(dom_field g1 state)" = "--p---" ]
"$XL" unpause g1

# ---- migrate on one host (transport: run the receiver directly, as -s "" does) ----
"$XL" migrate -s "" g1 "$XL migrate-receive" >"$WORK/out" 2>&1
check "xl migrate -s '' to a local receiver" grep -q "Migration successful" "$WORK/out"
sleep 0.3
check "  ... the migrated guest runs and passed its self-check" running_ok g1
"$XL" migrate -s "" g1 "echo hello" >"$WORK/out" 2>&1
check "a receiver that does not send the banner is detected" grep -q "did not get the receiver's banner" "$WORK/out"
check "  ... and the domain keeps running" running_ok g1

# ---- a Remus stream as received, through upstream's verifier ----
# As on upstream's own Remus streams (facts §7), verify-stream-v2 -f xl accepts the xl
# header, the libxl header and every libxc record up to the first CHECKPOINT, then reads
# libxl's CHECKPOINT_END (libxl type 4) as a libxc record of type 4.  -u: the verifier
# rejects the compression offer (any record type it does not know, optional or not).
"$XL" remus -u -i 50 -s "" g1 "tee $WORK/remus.stream | $XL migrate-receive -r -p" \
    >"$WORK/remus.out" 2>&1 &
pid=$!
sleep 1.5
kill -INT $pid; wait $pid
sleep 0.5
verify_xl xl "$WORK/remus.stream"
say "verify-stream-v2 on the Remus stream: $(grep -E "Error" "$WORK/verify.out" | tail -1)"
check "Remus stream: the verifier reads up to the first CHECKPOINT, then stops where it stops on upstream's" \
    grep -q "X86_PV_VCPU_basic record length must be at least 8 bytes long" "$WORK/verify.out"
check "  ... after accepting the libxl header and the libxc records before it" \
    bash -c "grep -q 'Libxl Header' '$WORK/verify.out' && grep -q 'Libxc Record: Checkpoint, length 0' '$WORK/verify.out'"
"$XL" destroy g1--incoming >/dev/null 2>&1; "$XL" destroy g1 >/dev/null 2>&1
"$XL" create -q "$cfg"

# Replicate g1 for SECS seconds into OUT (the command after them, run as given), then
# interrupt, clean up, and start g1 afresh.
replicate() {   # OUT SECS command...
    local out=$1 secs=$2
    shift 2
    "$@" >"$out" 2>&1 &
    pid=$!
    sleep "$secs"
    kill -INT $pid; wait $pid
    sleep 0.3
    "$XL" destroy g1--incoming >/dev/null 2>&1; "$XL" destroy g1 >/dev/null 2>&1
    "$XL" create -q "$cfg"
}

# ---- checkpoint staging: on by default; LIBXL_CHECKPOINT_STAGING=0 turns it off ----
for staging in default 0; do
    if [ $staging = default ]; then envset=(-u LIBXL_CHECKPOINT_STAGING)
    else envset=(LIBXL_CHECKPOINT_STAGING=$staging); fi
    replicate "$WORK/staging-$staging.out" 1 \
        env "${envset[@]}" "$XL" -vvv remus -i 50 -s "" g1 "$XL migrate-receive -r -p"
done
check "remus: checkpoints are staged (copied, resumed, then sent) by default" \
    grep -q "Checkpoints staged (sent while the guest ran): [1-9]" "$WORK/staging-default.out"
check "  ... and with LIBXL_CHECKPOINT_STAGING=0 sent while suspended" \
    bash -c "grep -q 'checkpoints; downtime' '$WORK/staging-0.out' && ! grep -q 'Checkpoints staged' '$WORK/staging-0.out'"

# ---- checkpoint compression: on by default, -u turns it off ----
check "remus: checkpoints after the first are compressed by default" \
    grep -qE "Checkpoint compression: [1-9][0-9]* pages as XOR" "$WORK/staging-default.out"
replicate "$WORK/remus-u.out" 1 "$XL" -vvv remus -u -i 50 -s "" g1 "$XL migrate-receive -r -p"
check "  ... and remus -u sends plain pages (no offer, nothing compressed)" \
    bash -c "grep -q 'checkpoints; downtime' '$WORK/remus-u.out' && ! grep -q 'Checkpoint compression' '$WORK/remus-u.out'"
# COLO compresses too; the secondary is compared with the stopped primary after every
# checkpoint it applied (LIBXL_TEST_COLO_COMPARE, which also turns staging off).
pvm=$("$XL" list | awk '$1 == "g1" {print $2}')
replicate "$WORK/colo-c.out" 2 env LIBXL_TEST_COLO_COMPARE=$pvm "$XL" -vvv remus -c -i 100 \
    -s "" g1 "env LIBXL_TEST_COLO_COMPARE=$pvm $XL migrate-receive --colo"
ncmp=$(grep -c "test: COLO checkpoint [0-9]*: 0 pages" "$WORK/colo-c.out")
nbad=$(grep "test: COLO checkpoint" "$WORK/colo-c.out" | grep -vc ": 0 pages")
say "COLO with compression: $ncmp checkpoints equal, $nbad differing; $(grep -o 'Checkpoint compression: .*' "$WORK/colo-c.out" | tail -1)"
check "remus -c: COLO checkpoints are compressed by default" \
    grep -qE "Checkpoint compression: [1-9][0-9]* pages as XOR" "$WORK/colo-c.out"
check "  ... and the secondary equals the primary after each (>= 3 compared, none differ)" \
    [ "$ncmp" -ge 3 -a "$nbad" = 0 ]

# ---- hostile streams into migrate-receive ----
# Built from a real image: xl header + config, then a libxl header we can spoil.
python3 - "$WORK/g1c.save" "$WORK" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
optlen = struct.unpack_from('=I', data, 44)[0]
xl = data[:48 + optlen]
libxl = data[48 + optlen:]
w = sys.argv[2]
open(w + '/v3.stream', 'wb').write(xl + libxl[:8] + struct.pack('>I', 3) + libxl[12:4096])
open(w + '/cut.stream', 'wb').write(xl + libxl[:16 + 8 + 40 + 100000])
big = struct.pack('=II', 0x80000077, 0xfffffff0)
open(w + '/huge.stream', 'wb').write(xl + libxl[:16] + big)
noname = b'{"b_info": {"max_memkb": 16384}}\0'
hdr = data[:32] + struct.pack('=IIII', 0x01020304, 3, 0, 4 + len(noname))
open(w + '/noname.stream', 'wb').write(hdr + struct.pack('=I', len(noname)) + noname + libxl)
PY
"$XL" destroy g1 >/dev/null 2>&1
for t in v3:"libxl stream version 3" cut:"Domain creation failed" huge:"exceeds the cap" noname:"has no name"; do
    f=${t%%:*}; want=${t#*:}
    "$XL" migrate-receive < "$WORK/$f.stream" >/dev/null 2>"$WORK/out"
    rc=$?
    check "migrate-receive of a hostile stream ($f): rc $rc, says '$want'" \
        bash -c "[ $rc = 1 ] && grep -q '$want' '$WORK/out'"
    check "  ... and leaves no domain behind" [ "$("$XL" list | wc -l)" = 1 ]
done
"$XL" create -q "$cfg"

# ---- remus option rules (upstream's) ----
"$XL" remus -c -d g1 somehost >"$WORK/out" 2>&1; rc=$?
check "remus: -c with -d is refused with upstream's status 255 (-i is allowed: the COLO period)" \
    eval '[ $rc = 255 ] && grep -q "option -c is conflict with -d, -n or -b" "$WORK/out"'
"$XL" remus --colo -n g1 somehost >"$WORK/out" 2>&1
check "remus: --colo with -n is refused" grep -q "option -c is conflict" "$WORK/out"
"$XL" remus -b g1 >"$WORK/out" 2>&1
check "remus: -b without -F is refused as unsafe" grep -q "unsafe mode must be enabled" "$WORK/out"
"$XL" remus -p g1 somehost >"$WORK/out" 2>&1; rc=$?
check "remus: -p without -c is refused (status 255, as upstream)" \
    eval '[ $rc = 255 ] && grep -q "Option -p must be used in conjunction with -c" "$WORK/out"'
sleep 0.3
"$XL" remus -F -b -i 50 g1 >"$WORK/out" 2>&1 &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
check "remus -F -b (blackhole) runs until interrupted, then exits 0" [ $rc = 0 ]
check "  ... and says the domain keeps running" grep -q "keeps running here, unprotected" "$WORK/out"
check "  ... the guest runs, self-checks passed" running_ok g1
exit $((FAILS > 0))
