#!/bin/bash
# Regenerates the seed corpora (tools/tests/fuzz/corpus/<target>/) from the project's
# own binaries on a private simulated hypervisor: xhv-sr save (plain and live), the
# Remus and COLO primaries of fuzz-capture (with libxl's records as on the wire), xl
# save / restore (the save file, the helper's messages as libxl receives them), and a
# few hand-written inputs for what no run produces (proxy scripts, configs).  The
# seeds are kept small: guests of 4 pages, libxl-level streams without their page data.
# Usage: gen-seeds.sh   (after `make all build/fuzz/fuzz-capture`; `make fuzz-seeds`)
set -eu
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
. scripts/build-tree-env.sh
make -s --no-print-directory build/fuzz/fuzz-capture
OUT=tools/tests/fuzz/corpus
WORK=$(mktemp -d /tmp/fuzz-seeds.XXXXXX)
export SIMXEN_DIR=/dev/shm/fuzzseeds$$
XL=$ROOT/tools/xl/xl
SR=$ROOT/tools/misc/xhv-sr
cleanup() {
    set +e
    for id in $("$XL" list 2>/dev/null | awk 'NR>1 {print $2}'); do "$XL" destroy "$id" >/dev/null 2>&1; done
    rm -rf "$SIMXEN_DIR" "$WORK"
}
trap cleanup EXIT
mkdir -p "$SIMXEN_DIR"
for t in restore_plain restore_remus restore_colo backchannel libxl_stream save_msgs colo_proxy \
         xl_config xl_savefile diskrep netcompare; do
    rm -rf "${OUT:?}/$t"
    mkdir -p "$OUT/$t"
done

# ---- the engine's streams ----
"$SR" -b sim create -r 20000 p1 4 incrementer >/dev/null
sleep 0.2
"$SR" save p1 "$OUT/restore_plain/plain-4pages" 2>/dev/null
"$SR" -b sim create -r 20000 p2 4 dirtyrate >/dev/null
sleep 0.2
"$SR" save -l p2 "$OUT/restore_plain/live-4pages" 2>/dev/null
build/fuzz/fuzz-capture remus 4 2 "$OUT/restore_remus/remus-4pages-2cp" 2>/dev/null
build/fuzz/fuzz-capture colo 4 3 "$OUT/restore_colo/colo-4pages-3cp" \
    "$OUT/backchannel/colo-3cp" 2>/dev/null
# with checkpoint compression offered and accepted: COMPRESSED_PAGE_DATA inside
build/fuzz/fuzz-capture remus-compress 4 4 "$OUT/restore_remus/remus-compress-4pages-4cp" \
    2>/dev/null
build/fuzz/fuzz-capture colo-compress 4 4 "$OUT/restore_colo/colo-compress-4pages-4cp" \
    "$OUT/backchannel/colo-compress-4cp" 2>/dev/null

# ---- xl: a save file, and the helper's messages to libxl (a tee on its stdout) ----
cat > "$WORK/helper-tee.sh" <<TEE
#!/bin/bash
exec "$LIBXL_SAVE_HELPER" "\$@" > >(tee -a "$WORK/msgs\$1" )
TEE
chmod +x "$WORK/helper-tee.sh"
printf 'name = "seed"\nmemory = 1\nvcpus = 1\nsim_program = "incrementer"\nsim_rate = 20000\n' \
    > "$WORK/seed.cfg"
"$XL" create -q "$WORK/seed.cfg"
sleep 0.2
LIBXL_SAVE_HELPER=$WORK/helper-tee.sh "$XL" save seed "$WORK/seed.save" >/dev/null 2>&1
LIBXL_SAVE_HELPER=$WORK/helper-tee.sh "$XL" restore -p "$WORK/seed.save" >/dev/null 2>&1
"$XL" destroy seed
# Selector byte: bit 3 = the helper's output as bytes; bit 0 = restore.
{ printf '\x08'; cat "$WORK/msgs--save-domain"; } > "$OUT/save_msgs/from-helper-save"
{ printf '\x09'; cat "$WORK/msgs--restore-domain"; } > "$OUT/save_msgs/from-helper-restore"

python3 - "$WORK/seed.save" "$OUT" <<'PY'
import struct, sys
save, out = sys.argv[1], sys.argv[2]
data = open(save, 'rb').read()
optlen = struct.unpack_from('<I', data, 44)[0]
hdr_end = 48 + optlen
open(out + '/xl_savefile/xl-save-header', 'wb').write(data[:hdr_end])

LIBXL_HDR = struct.pack('>QII', 0x4c6962786c466d74, 2, 0)
def rec(t, body=b''):
    return struct.pack('<II', t, len(body)) + body + b'\0' * (-len(body) % 8)

def strip_page_data(libxc):
    """A libxc stream without its PAGE_DATA records (image and domain headers kept);
    the libxl records after CHECKPOINT are framed the same way and kept too."""
    out, off = bytearray(libxc[:40]), 40
    while off + 8 <= len(libxc):
        t, l = struct.unpack_from('<II', libxc, off)
        n = 8 + l + (-l % 8)
        if t != 1:
            out += libxc[off:off + n]
        off += n
    return bytes(out)

# The save file's libxl stream: header, LIBXC_CONTEXT, libxc stream, END.
stream = data[hdr_end:]
assert stream[:16] == LIBXL_HDR, 'libxl header'
open(out + '/libxl_stream/xl-save-nopages', 'wb').write(
    stream[:24] + strip_page_data(stream[24:]))
for kind in ('remus', 'colo'):
    import glob
    for f in glob.glob(out + '/restore_%s/*' % kind):
        main = open(f, 'rb').read()
        open(out + '/libxl_stream/%s-nopages' % kind, 'wb').write(
            LIBXL_HDR + rec(1) + strip_page_data(main))
# An emulator's records as upstream's libxl writes them, before END.
xs = struct.pack('<II', 2, 0) + b'device-model/0/state\0running\0'
open(out + '/libxl_stream/emulator-records', 'wb').write(
    LIBXL_HDR + rec(0x80000123, b'opt') + rec(1) + strip_page_data(stream[24:])[:-8]
    + rec(2, xs) + rec(3, struct.pack('<II', 2, 0) + b'qemu') + rec(0))

# Back channel: libxl's records alone.
open(out + '/backchannel/states-only', 'wb').write(
    rec(5, struct.pack('<I', 2)) + rec(5, struct.pack('<I', 3)) + rec(0x80000001, b'x')
    + rec(5, struct.pack('<I', 1)) + rec(15, struct.pack('<QQ', 0, 65)))

# The helper's encoders: message number, then its arguments (fuzz_save_msgs.c).
def s(x):
    return bytes([len(x)]) + x
scripts = {
    'encode-save-colo': b'\x04' + b'\x00' + struct.pack('<II', 3, 0) + s(b'xc_sr') + s(b'Saving')
        + b'\x01' + s(b'xc_sr') + s(b'Memory') + struct.pack('<QQ', 10, 20)
        + b'\x02' + b'\x03' + b'\x04' + b'\x05' + b'\x06' + struct.pack('<II', 1, 1)
        + b'\x09' + struct.pack('<ii', 0, 0),
    'encode-restore-colo': b'\x05' + b'\x07' + struct.pack('<I', 3) + b'\x08'
        + struct.pack('<QQ', 0x1ff, 0x1fe) + b'\x09' + struct.pack('<ii', -1, 5),
}
for name, body in scripts.items():
    open(out + '/save_msgs/' + name, 'wb').write(body)

# The compare proxy: byte 0 = 0 (the proxy), then operations (fuzz_colo_proxy.c).
def pkt(seq, epoch, data):
    return struct.pack('<QII', seq, epoch, len(data)) + data.ljust(32, b'\0')
def ctl(msg):
    return b'\x02' + bytes([len(msg)]) + msg
def sec(p):
    return b''.join(b'\x01' + bytes([len(p[i:i + 40])]) + p[i:i + 40] for i in range(0, len(p), 40))
same = ctl(b'COLO_USERSPACE_PROXY_INIT') + b'\x04' + struct.pack('<I', 1) + ctl(b'COLO_CHECKPOINT') \
    + b'\x00' + pkt(1, 1, b'hello') + sec(pkt(1, 1, b'hello')) \
    + b'\x00' + pkt(2, 1, b'world') + sec(pkt(2, 1, b'wOrld')) \
    + b'\x04' + struct.pack('<I', 2) + ctl(b'COLO_CHECKPOINT') + b'\x00' + pkt(3, 2, b'!')
open(out + '/colo_proxy/compare', 'wb').write(b'\x00' + same)
open(out + '/colo_proxy/bypass', 'wb').write(b'\x02' + same)
open(out + '/colo_proxy/ctl-raw', 'wb').write(
    b'\x00' + b'\x03\x09' + struct.pack('>I', 15) + b'COLO_' + b'\x03\x0a' + b'CHECKPOINT'
    + b'\x00' + pkt(0, 0, b'early'))
open(out + '/colo_proxy/libxl-reader', 'wb').write(
    b'\x01' + b''.join(struct.pack('>I', len(m)) + m for m in
                       (b'COLO_USERSPACE_PROXY_INIT', b'DO_CHECKPOINT', b'COLO_CHECKPOINT_DONE')))

# xl's header with a config as upstream's libxl writes it (no "sim" object).
import json
cfg = json.dumps({'c_info': {'type': 'pvh', 'name': 'up', 'uuid': '6a8b3c1e-0d2f-4e5a-9b7c-1d2e3f405162'},
                  'b_info': {'max_vcpus': 2, 'max_memkb': 262144}}).encode() + b'\0'
h = data[:32] + struct.pack('<IIII', 0x01020304, 3, 0, 4 + len(cfg)) + struct.pack('<I', len(cfg)) + cfg
open(out + '/xl_savefile/upstream-config', 'wb').write(h)
PY

# ---- xl configs: every key, and the forms the tests use ----
cp "$WORK/seed.cfg" "$OUT/xl_config/seed.cfg"
cat > "$OUT/xl_config/all-keys.cfg" <<'CFG'
# every key this toolstack reads
name = 'all'
type = "pvh"
memory = 0x10
maxmem = 16
vcpus = 2
sim_program = "netsend"   # a guest with a NIC
sim_rate = 1000
sim_seed = 7
sim_max_steps = 0
sim_flags = 010
sim_host_input = 3
sim_net = "all.sock"
sim_net_compare = "10.77.0.1:7811"
builder = "hvm"
on_crash = "destroy"
CFG
printf 'name = "x"\nmemory = 8\nvif = [ "bridge=xenbr0" ]\nsim_program = "incrementer"\n' \
    > "$OUT/xl_config/list.cfg"
# ---- the disk replication protocol (fuzz_diskrep.c): byte 0 = 0 what a primary sends,
# 1 what a secondary answers; 16 KiB disk, 512-byte blocks, max_io 2048 ----
python3 - "$OUT/diskrep" <<'PY'
import struct, sys
out = sys.argv[1]
MAGIC, DISK, BS = 0x50524b44, 16384, 512
class Stream:
    def __init__(self):
        self.b, self.seq = b'', 0
    def msg(self, t, payload=b''):
        self.seq += 1
        self.b += struct.pack('<IHHIIQ', MAGIC, 1, t, len(payload), 0, self.seq) + payload
        return self
    def hello(self, flags=0, hidden=8):
        return self.msg(1, struct.pack('<QIIII', DISK, BS, flags, 2048, hidden))
    def io(self, t, off, data):
        return self.msg(t, struct.pack('<QII', off, len(data), 0) + data)
    def ack(self, seq):
        return self.msg(6, struct.pack('<Q', seq))
def w(name, first, s):
    open('%s/%s' % (out, name), 'wb').write(bytes([first]) + s.b)
s = Stream().hello().io(2, 0, b'\x11' * 1536).io(2, 5000, b'\x22' * 700).msg(4).msg(5)
s.io(2, 1024, b'\x33' * 2048).io(2, 16384 - 512, b'\x44' * 512).msg(5)
w('writes-checkpoints', 0, s)
s = Stream().hello(flags=1)
for off in range(0, DISK, 2048):
    s.io(3, off, bytes([off // 2048 + 1]) * 2048)
w('resync-then-write', 0, s.msg(5).io(2, 3 * BS, b'\x55' * BS).msg(5))
s = Stream().hello()
for blk in range(8):
    s.io(2, blk * 2 * BS, b'\x66' * BS)
w('hidden-fill', 0, s.msg(5))
w('answers', 1, Stream().hello().ack(3).ack(5))
w('answer-error', 1, Stream().hello().msg(7, struct.pack('<II', 20, 4) + b'full'))
PY
# ---- the packet comparison core (fuzz_netcompare.c): byte 0 = mode (bit 0 mirror, bit 1
# small limits), then operations; Ethernet frames built from the wire layouts ----
python3 - "$OUT/netcompare" <<'PY'
import struct, sys
out = sys.argv[1]
def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
G, R = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 9])
def ip4(proto, l4, src=G, dst=R, vlan=None):
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack('>H', csum(h)) + h[12:]
    l4 = bytearray(l4)
    at = {6: 16, 17: 6, 1: 2}[proto]
    pseudo = src + dst + struct.pack('>BBH', 0, proto, len(l4)) if proto != 1 else b''
    l4[at:at + 2] = struct.pack('>H', csum(pseudo + bytes(l4)))
    eth = b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01'
    if vlan is not None:
        eth += struct.pack('>HH', 0x8100, vlan)
    f = eth + b'\x08\x00' + h + bytes(l4)
    return f.ljust(60, b'\0')
G6, R6 = bytes([0xfd] + [0] * 14 + [2]), bytes([0xfd] + [0] * 14 + [9])
def ip6(proto, l4, src=G6, dst=R6):
    l4 = bytearray(l4)
    at = {6: 16, 17: 6, 58: 2}[proto]
    pseudo = src + dst + struct.pack('>IxxxB', len(l4), proto)
    l4[at:at + 2] = struct.pack('>H', csum(pseudo + bytes(l4)))
    h = struct.pack('>IHBB16s16s', 0x60000000, len(l4), proto, 64, src, dst)
    return (b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x86\xdd' + h + bytes(l4)).ljust(60, b'\0')
def tcp6(seq, ack, flags, data=b'', sport=80, dport=40000, **kw):
    return ip6(6, struct.pack('>HHIIBBHHH', sport, dport, seq & 0xffffffff, ack, 5 << 4, flags,
                              29200, 0, 0) + data, **kw)
def tcp(seq, ack, flags, data=b'', sport=80, dport=40000, opts=b'', **kw):
    l4 = struct.pack('>HHIIBBHHH', sport, dport, seq & 0xffffffff, ack, (20 + len(opts)) // 4 << 4,
                     flags, 29200, 0, 0) + opts + data
    return ip4(6, l4, **kw)
def tcp_in(seq, ack, flags, data=b'', opts=b''):
    return tcp(seq, ack, flags, data, sport=40000, dport=80, opts=opts, src=R, dst=G)
def udp(data, sport=53):
    return ip4(17, struct.pack('>HHHH', sport, 5353, 8 + len(data), 0) + data)
def icmp(data):
    return ip4(1, struct.pack('>BBHHH', 8, 0, 0, 0x1234, 1) + data)
def op(code, frame):
    return bytes([code]) + struct.pack('<H', len(frame)) + frame
P, S, IN = (lambda f: op(0, f)), (lambda f: op(1, f)), (lambda f: op(2, f))
TICK = lambda ms: b'\x03' + struct.pack('<H', ms)
CKPT = b'\x04'
TS = b'\x01\x01\x08\x0a' + struct.pack('>II', 1, 2)
SACK = b'\x01\x01\x05\x0a' + struct.pack('>II', 8100, 8200)
def w(name, mode, body):
    open('%s/%s' % (out, name), 'wb').write(bytes([mode]) + body)
# the guest as a server: SYN-ACKs with other ISNs, data, the peer's ACK with SACK
server = IN(tcp_in(5000, 0, 2)) + P(tcp(77, 5001, 0x12)) + S(tcp(123456789, 5001, 0x12)) \
    + IN(tcp_in(5001, 78, 0x10, opts=SACK)) + P(tcp(78, 5001, 0x18, b'reply', opts=TS)) \
    + S(tcp(123456790, 5001, 0x18, b'reply', opts=TS))
w('server-isn', 0, server + CKPT + P(tcp(83, 5006, 0x10)) + S(tcp(83, 5006, 0x10)))
w('mismatch-udp-icmp', 0, P(udp(b'answer=1')) + S(udp(b'answer=2')) + P(icmp(b'ping'))
  + S(icmp(b'ping')) + P(udp(b'x', 99)) + TICK(4000) + CKPT)
w('mirror', 1, P(tcp(1, 2, 0x18, b'hello', vlan=5)) + P(udp(b'q')) + P(icmp(b'p'))
  + P(b'\xff' * 6 + b'\0' * 6 + b'\x08\x06' + b'\0' * 46) + P(tcp(1, 2, 0x10)[:40]))
w('limits', 2, b''.join(P(udp(b'%d' % i, 1000 + i % 4)) for i in range(8)) + TICK(100)
  + CKPT + P(tcp(10, 0, 2)) + S(tcp(20, 0, 2)) + P(tcp(10, 0, 2, sport=81))
  + S(tcp(30, 0, 2, sport=81)) + P(tcp(10, 0, 2, sport=82)) + S(tcp(40, 0, 2, sport=82)))
w('failover', 0, P(tcp(500, 9, 0x12)) + S(tcp(90000, 9, 0x12)) + S(tcp(90001, 9, 0x18, b'data'))
  + P(udp(b'lost')) + b'\x05\x01' + op(0, tcp(90014, 9, 0x18, b'more'))
  + op(1, tcp_in(9, 518, 0x10, opts=SACK)))
w('ipv6', 0, P(tcp6(1, 0, 2)) + S(tcp6(99, 0, 2)) + op(2, tcp6(7, 2, 0x12, sport=40000, dport=80,
  src=R6, dst=G6)) + P(tcp6(2, 8, 0x18, b'six')) + S(tcp6(100, 8, 0x18, b'six'))
  + P(ip6(17, struct.pack('>HHHH', 53, 5353, 10, 0) + b'v6')) + S(ip6(17, struct.pack('>HHHH', 53, 5353, 10, 0) + b'v7'))
  + P(ip6(58, struct.pack('>BBHHH', 128, 0, 0, 1, 1) + b'ping')) + S(ip6(58, struct.pack('>BBHHH', 128, 0, 0, 1, 1) + b'ping'))
  + P(tcp6(5, 0, 0x10)[:14] + struct.pack('>IHBB16s16s', 0x60000000, 8, 0, 64, G6, R6) + b'\x06' + b'\0' * 7)
  + CKPT)
w('malformed', 0, P(tcp(1, 2, 0x10)[:30]) + S(tcp(1, 2, 0x10)[:30])
  + P(tcp(1, 2, 0x10, opts=b'\x08\x0a\0\0')) + S(tcp(1, 2, 0x10, opts=b'\x08\x0a\0\0'))
  + IN(tcp_in(1, 2, 0x10)[:50]))
# op 6: frames with an offload header (virtio_net_hdr, host order) through
# netcompare_finish: TCP segmentation over IPv4 and IPv6 with partial checksums, a
# partial UDP checksum alone, and headers that promise more than the frame holds
def vnet(frame, flags=1, gso=0, hdr_len=0, gso_size=0, cstart=0, coff=0):
    return b'\x06' + struct.pack('<BBHHHH', flags, gso, hdr_len, gso_size, cstart, coff) \
        + struct.pack('<H', len(frame)) + frame
big = tcp(1000, 7, 0x18, bytes(range(256)) + bytes(94))
big6 = tcp6(2000, 9, 0x18, bytes(300))
w('offload', 0, vnet(big, gso=1, hdr_len=54, gso_size=100, cstart=34, coff=16)
  + vnet(big6, gso=4, hdr_len=74, gso_size=120, cstart=54, coff=16)
  + vnet(udp(b'partial'), cstart=34, coff=6) + vnet(big, gso=1 | 0x80, hdr_len=54, gso_size=1)
  + vnet(tcp(1, 2, 0x10), gso=1, hdr_len=200, gso_size=10, cstart=34, coff=16)
  + vnet(udp(b'x'), cstart=58, coff=60) + S(tcp(1000, 7, 0x18, bytes(range(100)))) + CKPT)
PY
ls -l "$OUT"/*/ | awk '$5 > 65536 {print "gen-seeds: large seed:", $0}'
du -sh "$OUT"
