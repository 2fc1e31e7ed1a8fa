#!/bin/bash
# libxl-save-helper and the save callout: argv checks, LIBXL_SAVE_HELPER override,
# malformed / truncated / unexpected messages, a hung helper (SIGTERM, then SIGKILL), a
# helper killed mid-save.  In every failure the error names the cause and the domain
# is resumed: it keeps running and its self-checks pass.
. "$(dirname "$0")/local.inc"

# ---- the helper's own argv checks ----
"$HELPER" >"$WORK/out" 2>&1; rc=$?
check "helper without arguments: usage, exit 2" \
    eval '[ $rc = 2 ] && grep -q "save-domain <io_fd> <recv_fd> <domid> <xcflags> <cbflags> <stream_type>" "$WORK/out"'
"$HELPER" --save-domain 3 -1 x 0 136 0 >"$WORK/out" 2>&1; rc=$?
check "helper: a non-numeric domid is refused" eval '[ $rc = 2 ] && grep -q "bad domid .x." "$WORK/out"'
"$HELPER" --restore-domain 3 -1 1 1 0 2 0 136 0 >"$WORK/out" 2>&1
check "helper: restore with save-only cbflags (0x88) is refused" grep -q "cbflags 0x88" "$WORK/out"
"$HELPER" --save-domain 3 -1 1 0 136 7 >"$WORK/out" 2>&1
check "helper: an unknown stream type is refused" grep -q "bad stream_type" "$WORK/out"

cfg=$(guest_cfg h1 incrementer 16 20000)
"$XL" create -q "$cfg"
sleep 0.2

# A fake helper: python writes the given frames on stdout, then waits.
fake() {   # name python-body
    { echo '#!/usr/bin/python3'
      echo 'import os, struct, sys, time'
      echo 'def frame(body): os.write(1, struct.pack("=H", len(body)) + body)'
      echo "$2"; } > "$WORK/$1"
    chmod +x "$WORK/$1"
}
save_with() {   # helper -> output in $WORK/out, rc in $rc
    LIBXL_SAVE_HELPER=$1 "$XL" save -c h1 "$WORK/h.save" >"$WORK/out" 2>&1
    rc=$?
}
fake malformed 'frame(struct.pack("=H", 99) + b"junk"); time.sleep(30)'
save_with "$WORK/malformed"
check "LIBXL_SAVE_HELPER is honoured; an unknown message number is a clear error" \
    eval '[ $rc != 0 ] && grep -q "malformed message: unknown message number 99" "$WORK/out"'
check "  ... the domain keeps running" running_ok h1

fake uninstalled 'frame(struct.pack("=H", 6)); time.sleep(30)'
save_with "$WORK/uninstalled"
check "a callback message libxl did not install (wait_checkpoint on a plain save) is malformed" \
    grep -q "wait_checkpoint (6), a callback libxl did not install" "$WORK/out"

fake badstring 'frame(struct.pack("=HII", 1, 3, 0) + struct.pack("=I", 50) + b"short\0"); time.sleep(30)'
save_with "$WORK/badstring"
check "a log message whose STRING overruns the message is malformed" \
    grep -q "log (1) with .* bytes of arguments that do not parse" "$WORK/out"

fake truncated 'os.write(1, struct.pack("=H", 100) + b"abc"); sys.exit(0)'
save_with "$WORK/truncated"
check "a message cut short is reported" grep -q "truncated message" "$WORK/out"
check "  ... the domain keeps running" running_ok h1

fake nocomplete 'sys.exit(0)'
save_with "$WORK/nocomplete"
check "a helper that exits without 'complete' is an error" grep -q "exited without reporting completion" "$WORK/out"

fake exit3 'sys.exit(3)'
save_with "$WORK/exit3"
check "a helper's exit status is reported" grep -q "exited with status 3" "$WORK/out"

printf '#!/bin/sh\nexec sleep 30\n' > "$WORK/hang"; chmod +x "$WORK/hang"
LIBXL_SAVE_HELPER_TIMEOUT_MS=700 save_with "$WORK/hang"
check "a silent helper is declared hung and aborted (SIGTERM)" \
    eval 'grep -q "hung: no message for 700 ms; aborted" "$WORK/out" && grep -q "signal 15" "$WORK/out"'
printf "#!/bin/sh\ntrap '' TERM\nexec sleep 30\n" > "$WORK/hang-noterm"; chmod +x "$WORK/hang-noterm"
start=$(date +%s)
LIBXL_SAVE_HELPER_TIMEOUT_MS=500 save_with "$WORK/hang-noterm"
check "a helper that ignores SIGTERM gets SIGKILL ($(( $(date +%s) - start )) s)" grep -q "signal 9" "$WORK/out"
check "  ... the domain keeps running" running_ok h1

# ---- the real helper killed in the middle of a save ----
# The save goes into a FIFO whose reader stops after 2 MB, so the helper blocks with the
# guest suspended; the wrapper records the helper's pid (exec keeps it).
printf '#!/bin/sh\necho $$ > %s/helper.pid\nexec %s "$@"\n' "$WORK" "$HELPER" > "$WORK/wrap"
chmod +x "$WORK/wrap"
cfg=$(guest_cfg h2 incrementer 64 20000)
"$XL" create -q "$cfg"
sleep 0.2
mkfifo "$WORK/fifo"
( head -c 2000000 >/dev/null; sleep 30 ) < "$WORK/fifo" &
reader=$!
LIBXL_SAVE_HELPER=$WORK/wrap "$XL" save h2 "$WORK/fifo" >"$WORK/out" 2>&1 &
xlpid=$!
for i in $(seq 50); do [ -s "$WORK/helper.pid" ] && break; sleep 0.1; done
sleep 0.5
state=$(dom_field h2 state)
kill -9 "$(cat "$WORK/helper.pid")"
wait $xlpid; rc=$?
kill $reader 2>/dev/null; wait $reader 2>/dev/null
say "domain state while the helper was blocked: $state"
sed 's/^/#   /' "$WORK/out" | grep -v iteration
check "the guest was suspended when the helper was killed" [ "$state" = "---ss-" ]
check "xl save fails (rc $rc) and reports the helper's signal" \
    eval '[ $rc != 0 ] && grep -q "killed by signal 9" "$WORK/out"'
sleep 0.3
check "  ... the domain was resumed: it runs, self-checks pass" running_ok h2
check "  ... and it says so" grep -q "keeps running" "$WORK/out"

# And after all that, a normal save still works.
"$XL" save h1 "$WORK/h1.save" >/dev/null 2>&1
check "a normal save afterwards works" [ $? = 0 ]
verify_xl xl "$WORK/h1.save"
check "  ... and verify-stream-v2 accepts it" [ $? = 0 ]
exit $((FAILS > 0))
