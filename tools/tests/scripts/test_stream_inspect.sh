#!/bin/bash
# xl-stream-inspect on streams made by this toolstack: xl save (plain), xl migrate and
# xhv-sr save -l (live), the three layers of each, a Remus and a COLO stream with its back
# channel captured through the transport; truncated and corrupted copies stop with the
# restorer's message and a non-zero exit; Debian's verify-stream-v2 agrees on plain and
# live streams (accept/refuse, record counts).
. "$(dirname "$0")/local.inc"
INSPECT=$ROOT/tools/misc/xl-stream-inspect
XHVSR=$ROOT/tools/misc/xhv-sr
VERIFY=/usr/lib/xen-4.17/bin/verify-stream-v2
inspect() {   # file [options...]: output in $WORK/i.out, status in $IRC
    local f=$1; shift
    "$INSPECT" "$@" "$f" >"$WORK/i.out" 2>&1
    IRC=$?
}
last() { tail -1 "$WORK/i.out"; }
has() { grep -q -- "$1" "$WORK/i.out"; }
count() { grep -c -- "$1" "$WORK/i.out"; }
# verify-stream-v2's status and record counts: libxc (PAGE_DATA runs via "Squashed N"),
# libxl (LIBXC_CONTEXT and END included, as ours).
verify() {   # format file
    PYTHONPATH=/usr/lib/xen-4.17/lib/python /usr/bin/python3 "$VERIFY" -v -f "$1" -i "$2" \
        >"$WORK/v.out" 2>&1
    VRC=$?
    VXC=$(awk '/^Libxc Record:/ {n++} /^Squashed [0-9]+ Page Data/ {n += $2} END {print n+0}' "$WORK/v.out")
    VXL=$(grep -c '^Libxl Record:' "$WORK/v.out")
}
ours() {   # "OK: ... N libxc records ... M libxl records" of the last inspection
    IXC=$(last | sed -n 's/.* \([0-9]\+\) libxc records.*/\1/p')
    IXL=$(last | sed -n 's/.* \([0-9]\+\) libxl records.*/\1/p')
}
agree() {   # what format file
    inspect "$3" -f "$2"; ours; verify "$2" "$3"
    check "$1: inspector (rc $IRC) and verify-stream-v2 (rc $VRC) both accept" \
        [ "$IRC" = 0 -a "$VRC" = 0 ]
    check "  ... and count the same records (libxc $IXC/$VXC, libxl $IXL/$VXL)" \
        [ -n "$IXC" -a "$IXC" = "$VXC" -a "$IXL" = "$VXL" ]
}
agree_refuse() {   # what format file message
    inspect "$3" -f "$2"; verify "$2" "$3"
    check "$1: refused (rc $IRC) with the restorer's message '$4'" \
        bash -c "[ $IRC = 1 ] && grep -q 'REFUSED at offset [0-9]*: .*$4' '$WORK/i.out'"
    check "  ... and verify-stream-v2 refuses it too (rc $VRC)" [ "$VRC" != 0 ]
}

# ---- streams ----
cfg=$(guest_cfg g1 incrementer 8 20000)
"$XL" create -q "$cfg"
sleep 0.3
"$XL" save -c g1 "$WORK/plain.xl" >/dev/null 2>&1
check "made a plain save file (xl save -c)" [ -s "$WORK/plain.xl" ]
"$XL" migrate -s "" g1 "tee $WORK/live.xl | $XL migrate-receive" >/dev/null 2>&1
check "made a live stream (xl migrate through tee)" [ -s "$WORK/live.xl" ]
"$XHVSR" save -l -r g1 "$WORK/live.libxc" >/dev/null 2>&1
check "made a bare live libxc stream (xhv-sr save -l)" [ -s "$WORK/live.libxc" ]
# -u (no checkpoint compression): these streams are compared with verify-stream-v2,
# which refuses the compression records, and spoilt where PAGE_DATA and the dirty lists
# stand; the compressed ones are made below.
capture() {   # SECS xl-remus-args...
    local secs=$1
    shift
    "$XL" remus "$@" >/dev/null 2>&1 &
    pid=$!; sleep "$secs"; kill -INT $pid; wait $pid
    sleep 0.3
    "$XL" destroy g1--incoming >/dev/null 2>&1
}
capture 1 -u -i 50 -s "" g1 "tee $WORK/remus.xl | $XL migrate-receive -r -p"
capture 1.5 -u -c -i 100 -s "" g1 \
    "tee $WORK/colo.xl | $XL migrate-receive --colo | tee $WORK/colo.back"
capture 1 -i 50 -s "" g1 "tee $WORK/remus-z.xl | $XL migrate-receive -r -p"
capture 1.5 -c -i 100 -s "" g1 \
    "tee $WORK/colo-z.xl | $XL migrate-receive --colo | tee $WORK/colo-z.back"
check "made a Remus stream and a COLO stream with its back channel" \
    [ -s "$WORK/remus.xl" -a -s "$WORK/colo.xl" -a -s "$WORK/colo.back" ]
# The inner layers, cut out of the xl file; and hostile copies.
python3 - "$WORK" <<'PY'
import struct, sys
w = sys.argv[1]
d = open(w + '/plain.xl', 'rb').read()
xl = 48 + struct.unpack_from('=I', d, 44)[0]
libxl = d[xl:]
libxc = libxl[24:-8]                      # libxl header + LIBXC_CONTEXT; libxl END
open(w + '/plain.libxl', 'wb').write(libxl)
open(w + '/plain.libxc', 'wb').write(libxc)
def recs(s, at):
    out = []
    while at + 8 <= len(s):
        t, l = struct.unpack_from('=II', s, at)
        out.append((at, t, l))
        at += 8 + ((l + 7) & ~7)
        if t == 0:
            break
    return out
r = recs(libxc, 40)
pd = [x for x in r if x[1] == 1]
end = r[-1][0]
def put(name, data):
    open(w + '/' + name, 'wb').write(data)
def patch(off, fmt, *v):
    b = bytearray(libxc); struct.pack_into(fmt, b, off, *v); return bytes(b)
put('cut-page.libxc', libxc[:pd[1][0] + 8 + 8 + 8 * 1024 + 100])   # inside PAGE_DATA's pages
put('cut-bound.libxc', libxc[:end])                                  # before END
put('cut-hdr.libxc', libxc[:pd[1][0] + 3])                           # inside a record header
put('count.libxc', patch(pd[1][0] + 8, '=I', 1025))
put('reserved.libxc', patch(pd[1][0] + 16, '=Q', 0x0100000000000000))
put('huge.libxc', patch(pd[1][0] + 4, '=I', (128 << 20) + 8))
put('marker.libxc', patch(0, '=Q', 0x1122334455667788))
put('bigendian.libxc', patch(16, '>H', 1))
put('unknown.libxc', patch(r[-2][0], '=I', 0x55))                   # HVM_PARAMS -> 0x55
put('ckpt-in-plain.libxc', patch(end, '=I', 14))                      # END -> CHECKPOINT
hp = [x for x in r if x[1] == 10][0]
put('params.libxc', patch(hp[0] + 8, '=I', 7))
put('badlibxl.libxl', bytes(libxl[:8]) + struct.pack('>I', 3) + libxl[12:])
put('badxl.xl', d[:10] + b'X' + d[11:])
# Remus: cut inside checkpoint 3's first record; corrupt a PAGE_DATA of checkpoint 3.
m = open(w + '/remus.xl', 'rb').read()
mx = 48 + struct.unpack_from('=I', m, 44)[0] + 24
at, ck, first3 = mx + 40, 0, None
while at + 8 <= len(m):
    t, l = struct.unpack_from('=II', m, at)
    if ck == 2 and first3 is None:
        first3 = at
    at += 8 + ((l + 7) & ~7)
    if t == 14:
        ck += 1
        at += 8                                  # libxl CHECKPOINT_END
put('remus-cut.xl', m[:first3 + 20])
b = bytearray(m); struct.pack_into('=Q', b, first3 + 16, 0x0100000000000000)
put('remus-bad.xl', bytes(b))
put('remus-tail.xl', m + b'\x01\x00\x00')
# Back channel: the first dirty list's length made odd; one of its pfns huge.
bc = open(w + '/colo.back', 'rb').read()
at = 54 + 3 * 16
b = bytearray(bc); struct.pack_into('=I', b, at + 4, struct.unpack_from('=I', bc, at + 4)[0] - 4)
put('back-len', bytes(b))
b = bytearray(bc); struct.pack_into('=Q', b, at + 8, 1 << 40)
put('back-pfn', bytes(b))
put('back-order', bc[:54] + bc[70:86] + bc[54:70] + bc[86:])
PY
check "cut the layers and made the hostile copies" [ -s "$WORK/plain.libxc" -a -s "$WORK/back-order" ]

# ---- plain and live: all three layers, and verify-stream-v2 agrees ----
inspect "$WORK/plain.xl"
check "xl save file: detected as the xl layer" has "xl layer (detected)"
check "  ... accepted (rc $IRC), a plain stream" bash -c "[ $IRC = 0 ] && tail -1 '$WORK/i.out' | grep -q '^OK: plain stream'"
check "  ... the record sequence: xl header, config, libxl header, LIBXC_CONTEXT, image and domain headers, STATIC_DATA_END ... END, libxl END" \
    bash -c "grep -oE '(xl header|xl config|libxl header|libxl [A-Z_]+|image header|domain header|libxc #[0-9]+ +[A-Z_0-9]+)' '$WORK/i.out' | sed 's/#[0-9]* *//' | uniq | tr '\n' ,  | grep -qx 'xl header,xl config,libxl header,libxl LIBXC_CONTEXT,image header,domain header,libxc STATIC_DATA_END,libxc PAGE_DATA,libxc X86_TSC_INFO,libxc HVM_CONTEXT,libxc HVM_PARAMS,libxc END,libxl END,'"
check "  ... PAGE_DATA shows count, pfn range, types and data pages" has "PAGE_DATA .*length 8200: 1024 pfns 0-0x3ff NOTAB:1024, 1024 pages of data"
check "  ... HVM_PARAMS and TSC info are decoded" bash -c "grep -q 'STORE_PFN(1)=' '$WORK/i.out' && grep -q 'X86_TSC_INFO .* kHz' '$WORK/i.out'"
inspect "$WORK/plain.libxl";  check "libxl stream: detected" has "libxl layer (detected)"
inspect "$WORK/plain.libxc";  check "libxc stream: detected" has "libxc layer (detected)"
cat "$WORK/plain.xl" | "$INSPECT" - >"$WORK/pipe.out" 2>&1
inspect "$WORK/plain.xl"
check "a pipe on stdin gives the same walk as the file" \
    diff <(sed 1d "$WORK/pipe.out") <(sed 1d "$WORK/i.out")
agree "plain, xl layer" xl "$WORK/plain.xl"
agree "plain, libxl layer" libxl "$WORK/plain.libxl"
agree "plain, libxc layer" libxc "$WORK/plain.libxc"
agree "live (xl migrate), xl layer" xl "$WORK/live.xl"
check "  ... the migration's trailing permission message is named" has "xl migrate's permission message"
agree "live (xhv-sr save -l), libxc layer" libxc "$WORK/live.libxc"

# ---- truncated and corrupted: the restorer's message, rc 1, and verify-stream-v2 refuses ----
agree_refuse "cut inside PAGE_DATA's pages" libxc "$WORK/cut-page.libxc" "Stream truncated inside PAGE_DATA (1024 pages of data expected)"
agree_refuse "cut at the record boundary before END" libxc "$WORK/cut-bound.libxc" "Stream ended before its END record"
agree_refuse "PAGE_DATA count 1025" libxc "$WORK/count.libxc" "PAGE_DATA record with 1025 pages, more than a batch (1024)"
agree_refuse "PAGE_DATA reserved bits" libxc "$WORK/reserved.libxc" "PAGE_DATA entry 0 (0x100000000000000): reserved bits set"
agree_refuse "record length over the limit" libxc "$WORK/huge.libxc" "length 134217736 exceeds max (134217728)"
agree_refuse "bad image header marker" libxc "$WORK/marker.libxc" "Invalid image header marker"
# verify-stream-v2 never sees the big-endian bit: it tests options & IHDR_OPT_BIT_ENDIAN,
# the bit's number (0), not its mask.  The restorer refuses the stream.
inspect "$WORK/bigendian.libxc"; verify libxc "$WORK/bigendian.libxc"
check "big-endian image header: refused (rc $IRC) with the restorer's message" \
    bash -c "[ $IRC = 1 ] && grep -q 'REFUSED.*Unable to restore a big-endian stream' '$WORK/i.out'"
say "  verify-stream-v2 on it: rc $VRC ($(head -1 "$WORK/v.out")): it does not test the bit"
agree_refuse "unknown mandatory record" libxc "$WORK/unknown.libxc" "Unknown mandatory record 0x00000055"
agree_refuse "HVM_PARAMS count/length mismatch" libxc "$WORK/params.libxc" "HVM_PARAMS record length 40 does not match count 7"
agree_refuse "libxl stream version 3" libxl "$WORK/badlibxl.libxl" "libxl stream version 3"
inspect "$WORK/ckpt-in-plain.libxc" -t plain
check "CHECKPOINT in a stream told plain: refused with the restorer's message" \
    bash -c "[ $IRC = 1 ] && grep -q 'REFUSED.*CHECKPOINT record found in a plain stream' '$WORK/i.out'"
inspect "$WORK/cut-hdr.libxc"
check "cut inside a record header: refused, saying so (rc $IRC)" bash -c "[ $IRC = 1 ] && grep -q 'Stream truncated inside a record header (3 of 8 bytes)' '$WORK/i.out'"
inspect "$WORK/badxl.xl" -f xl
check "a spoilt xl magic, told xl: xl restore's message, rc $IRC" \
    bash -c "[ $IRC = 1 ] && grep -q 'not an xl save file or migration stream (bad magic)' '$WORK/i.out'"
head -c 4096 /dev/urandom > "$WORK/junk"
inspect "$WORK/junk"
check "junk: no layer detected, rc $IRC" bash -c "[ $IRC = 1 ] && grep -q 'REFUSED at offset 0: unrecognised stream' '$WORK/i.out'"
inspect "$WORK/plain.xl" -t sideways
check "a bad option is a usage error (rc $IRC)" [ "$IRC" = 2 ]
inspect "$WORK/nonexistent"
check "a missing file is an error (rc $IRC)" bash -c "[ $IRC = 2 ] && grep -q 'No such file' '$WORK/i.out'"

# ---- Remus: followed to its end, where verify-stream-v2 stops at the first checkpoint ----
inspect "$WORK/remus.xl"
NCK=$(count 'libxc #[0-9]* *CHECKPOINT ')
check "Remus stream: accepted (rc $IRC), detected as Remus" bash -c "[ $IRC = 0 ] && grep -q '^OK: Remus stream of $NCK checkpoints' '$WORK/i.out'"
check "  ... $NCK checkpoints (at least 3), each CHECKPOINT followed by libxl's CHECKPOINT_END" \
    bash -c "[ $NCK -ge 3 ] && [ \$(grep -A1 'libxc #[0-9]* *CHECKPOINT ' '$WORK/i.out' | grep -c 'libxl CHECKPOINT_END') = $NCK ]"
check "  ... one '-- checkpoint N --' section per checkpoint" [ "$(count '^-- checkpoint ')" = "$NCK" ]
check "  ... checkpoint 2 onwards carry the dirty pages and the context again" \
    bash -c "sed -n '/^-- checkpoint 2 --/,/^-- checkpoint 3 --/p' '$WORK/i.out' | grep -q PAGE_DATA && sed -n '/^-- checkpoint 2 --/,/^-- checkpoint 3 --/p' '$WORK/i.out' | grep -q HVM_CONTEXT"
verify xl "$WORK/remus.xl"
check "  ... where verify-stream-v2 misreads CHECKPOINT_END at the first checkpoint (rc $VRC)" \
    bash -c "[ $VRC != 0 ] && grep -q 'X86_PV_VCPU_basic record length must be at least 8' '$WORK/v.out'"
inspect "$WORK/remus-cut.xl"
check "Remus cut inside checkpoint 3: rc $IRC, the restorer fails over to checkpoint 2" \
    bash -c "[ $IRC = 1 ] && tail -1 '$WORK/i.out' | grep -q '^INCOMPLETE.*Stream truncated inside.*fails over to checkpoint 2'"
inspect "$WORK/remus-bad.xl"
check "Remus with a bad PAGE_DATA in checkpoint 3: rejected whole, with the restorer's messages" \
    bash -c "[ $IRC = 1 ] && grep -q 'reserved bits set' '$WORK/i.out' && grep -q 'Checkpoint 3 rejected at record 0 (0x00000001, Page data): nothing applied' '$WORK/i.out'"
inspect "$WORK/remus-tail.xl"
check "Remus with 3 stray bytes after its last checkpoint: rc $IRC, says so" \
    bash -c "[ $IRC = 1 ] && tail -1 '$WORK/i.out' | grep -q 'INCOMPLETE.*Stream truncated inside a record header (3 of 8 bytes)'"

# ---- COLO and its back channel ----
inspect "$WORK/colo.xl"
NCK=$(count 'libxc #[0-9]* *CHECKPOINT ')
check "COLO stream: accepted (rc $IRC), detected as COLO, $NCK checkpoints" \
    bash -c "[ $IRC = 0 -a $NCK -ge 3 ] && grep -q '^OK: COLO stream of $NCK checkpoints' '$WORK/i.out'"
check "  ... each CHECKPOINT_END followed by CHECKPOINT_STATE NEW (but perhaps the last)" \
    bash -c "[ \$(grep -A1 'libxl CHECKPOINT_END' '$WORK/i.out' | grep -c 'CHECKPOINT_STATE .*NEW (0)') -ge $((NCK - 1)) ]"
inspect "$WORK/colo.xl" -t remus
check "  ... told Remus, the NEW record is misread as a libxc record and the stream refused" \
    bash -c "[ $IRC != 0 ] && ! grep -q '^OK' '$WORK/i.out'"
inspect "$WORK/colo.back"
NL=$(count 'CHECKPOINT_DIRTY_PFN_LIST')
check "back channel: detected, accepted (rc $IRC), banner skipped" \
    bash -c "[ $IRC = 0 ] && grep -q 'back channel layer (detected)' '$WORK/i.out' && grep -q 'xl receiver banner' '$WORK/i.out'"
check "  ... SVM_READY, SVM_RESUMED, SVM_SUSPENDED, dirty list, over and over" \
    bash -c "grep -oE '(SVM_[A-Z]+|DIRTY_PFN_LIST)' '$WORK/i.out' | head -8 | tr '\n' , | grep -qx 'SVM_READY,SVM_RESUMED,SVM_SUSPENDED,DIRTY_PFN_LIST,SVM_READY,SVM_RESUMED,SVM_SUSPENDED,DIRTY_PFN_LIST,'"
check "  ... $NL dirty lists with count and range, one per checkpoint after the first (main stream: $NCK)" \
    bash -c "[ $NL -ge $((NCK - 2)) -a $NL -le $NCK ] && grep -q 'DIRTY_PFN_LIST .*: [0-9]* pfns [0-9a-fx]*-0x' '$WORK/i.out'"
inspect "$WORK/back-len"
check "back channel, odd dirty list length: the primary's message, rc $IRC" \
    bash -c "[ $IRC = 1 ] && grep -q 'REFUSED.*is not a multiple of 8' '$WORK/i.out'"
inspect "$WORK/back-pfn" -p 2048
check "back channel, a pfn beyond -p: the primary's message, rc $IRC" \
    bash -c "[ $IRC = 1 ] && grep -q 'REFUSED.*dirty pfn 0x10000000000 (entry 0) is beyond the p2m size 0x800' '$WORK/i.out'"
inspect "$WORK/back-order"
check "back channel, SVM_RESUMED before SVM_READY: refused, rc $IRC" \
    bash -c "[ $IRC = 1 ] && grep -q 'REFUSED at offset 54: expected CHECKPOINT_STATE SVM_READY' '$WORK/i.out'"

# ---- with checkpoint compression (xl remus's default) ----
inspect "$WORK/remus-z.xl"
check "compressed Remus stream: accepted (rc $IRC), the offer and COMPRESSED_PAGE_DATA named" \
    bash -c "[ $IRC = 0 ] && grep -q 'CHECKPOINT_COMPRESS' '$WORK/i.out' && sed -n '/^-- checkpoint 3 --/,\$p' '$WORK/i.out' | grep -q COMPRESSED_PAGE_DATA"
inspect "$WORK/colo-z.back"
check "compressed COLO back channel: accepted (rc $IRC), the answer before the first dirty list" \
    bash -c "[ $IRC = 0 ] && grep -B0 -A1 'CHECKPOINT_COMPRESS' '$WORK/i.out' | grep -q CHECKPOINT_DIRTY_PFN_LIST"
inspect "$WORK/colo-z.xl"
check "compressed COLO stream: accepted (rc $IRC)" bash -c "[ $IRC = 0 ] && grep -q COMPRESSED_PAGE_DATA '$WORK/i.out'"

[ $FAILS = 0 ]
