/*
 * The packet comparison core (tools/include/netcompare.h) on frames built here from the
 * wire layouts (Ethernet, 802.1Q, IPv4, IPv6, TCP, UDP, ICMP), with checksums computed
 * and verified here by a full sum rather than by the library's incremental update.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netcompare.h"
#include "test.h"

/* ---- frames --------------------------------------------------------------------------- */

enum { MAXF = 8192 };

struct spec {
    int v6, vlan;              /* vlan: VID or -1 */
    uint8_t proto;             /* 6, 17, 1 (58 on IPv6) */
    uint8_t src, dst;          /* last byte of 10.0.0.x / fd00::x */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags, ttl, icmp_type;
    uint16_t ipid;
    const uint8_t *opt;        /* TCP options, a multiple of 4 bytes */
    size_t optlen;
    const char *data;
    size_t dlen;
};

enum { GUEST = 2, PEER = 9, SYN = 0x02, ACK = 0x10, PSH = 0x08 };

static struct spec tcp_spec(uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
    struct spec s = { 0 };

    s.vlan = -1;
    s.proto = 6;
    s.src = GUEST;
    s.dst = PEER;
    s.sport = 80;
    s.dport = 40000;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.ttl = 64;
    s.ipid = 1;
    s.data = data;
    s.dlen = data ? strlen(data) : 0;
    return s;
}

static struct spec udp_spec(const char *data)
{
    struct spec s = tcp_spec(0, 0, 0, data);

    s.proto = 17;
    s.sport = 53;
    s.dport = 5353;
    return s;
}

/* The same spec from the peer to the guest. */
static struct spec inbound(struct spec s)
{
    uint8_t a = s.src;
    uint16_t p = s.sport;

    s.src = s.dst;
    s.dst = a;
    s.sport = s.dport;
    s.dport = p;
    return s;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}
static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static uint32_t get32(const uint8_t *p)
{
    return get16(p) << 16 | get16(p + 2);
}

/* Plain one's complement sum over n bytes, added to sum. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += get16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}
static uint16_t finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Offsets of a frame built by build() (the test's own view of the layout). */
struct layout {
    size_t l3, l4, end;
    int v6;
};

static struct layout layout_of(const uint8_t *f)
{
    struct layout l = { 14, 0, 0, 0 };

    if (get16(f + 12) == 0x8100)
        l.l3 = 18;
    l.v6 = get16(f + l.l3 - 2) == 0x86dd;
    if (l.v6) {
        l.l4 = l.l3 + 40;
        l.end = l.l4 + get16(f + l.l3 + 4);
    } else {
        l.l4 = l.l3 + (f[l.l3] & 0xf) * 4;
        l.end = l.l3 + get16(f + l.l3 + 2);
    }
    return l;
}

/* The transport checksum over the pseudo header and the segment: 0 when correct. */
static uint16_t l4_sum(const uint8_t *f)
{
    struct layout l = layout_of(f);
    uint32_t sum = 0, seglen = (uint32_t)(l.end - l.l4);

    if (l.v6) {
        sum = sum16(f + l.l3 + 8, 32, 0) + seglen + f[l.l3 + 6];
    } else {
        sum = sum16(f + l.l3 + 12, 8, 0) + seglen + f[l.l3 + 9];
        if (f[l.l3 + 9] == 1)
            sum = 0; /* ICMPv4 has no pseudo header */
    }
    return finish(sum16(f + l.l4, seglen, sum));
}

static int tcp_csum_ok(const uint8_t *f)
{
    return l4_sum(f) == 0;
}

static size_t build(uint8_t *f, const struct spec *s)
{
    size_t n = 0, l3, l4, hl = 0;

    memset(f, 0, MAXF);
    memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    n = 12;
    if (s->vlan >= 0) {
        put16(f + n, 0x8100);
        put16(f + n + 2, (uint32_t)s->vlan);
        n += 4;
    }
    put16(f + n, s->v6 ? 0x86dd : 0x0800);
    l3 = n + 2;
    l4 = l3 + (s->v6 ? 40 : 20);
    switch (s->proto) {
    case 6:
        hl = 20 + s->optlen;
        put16(f + l4, s->sport);
        put16(f + l4 + 2, s->dport);
        put32(f + l4 + 4, s->seq);
        put32(f + l4 + 8, s->ack);
        f[l4 + 12] = (uint8_t)((hl / 4) << 4);
        f[l4 + 13] = s->flags;
        put16(f + l4 + 14, 29200);
        if (s->optlen)
            memcpy(f + l4 + 20, s->opt, s->optlen);
        break;
    case 17:
        hl = 8;
        put16(f + l4, s->sport);
        put16(f + l4 + 2, s->dport);
        put16(f + l4 + 4, (uint32_t)(8 + s->dlen));
        break;
    default:
        hl = 8;
        f[l4] = s->icmp_type;
        put16(f + l4 + 4, 0x1234); /* echo id */
        put16(f + l4 + 6, s->seq);
        break;
    }
    if (s->dlen)
        memcpy(f + l4 + hl, s->data, s->dlen);
    if (s->v6) {
        f[l3] = 0x60;
        f[l3 + 3] = (uint8_t)s->ipid; /* flow label */
        put16(f + l3 + 4, (uint32_t)(hl + s->dlen));
        f[l3 + 6] = s->proto;
        f[l3 + 7] = s->ttl;
        f[l3 + 8] = 0xfd;
        f[l3 + 23] = s->src;
        f[l3 + 24] = 0xfd;
        f[l3 + 39] = s->dst;
    } else {
        f[l3] = 0x45;
        put16(f + l3 + 2, (uint32_t)(20 + hl + s->dlen));
        put16(f + l3 + 4, s->ipid);
        put16(f + l3 + 6, 0x4000);
        f[l3 + 8] = s->ttl;
        f[l3 + 9] = s->proto;
        f[l3 + 12] = 10;
        f[l3 + 15] = s->src;
        f[l3 + 16] = 10;
        f[l3 + 19] = s->dst;
        put16(f + l3 + 10, finish(sum16(f + l3, 20, 0)));
    }
    n = l4 + hl + s->dlen;
    /* checksum field: TCP 16, UDP 6, ICMP 2 */
    {
        size_t at = l4 + (s->proto == 6 ? 16 : s->proto == 17 ? 6 : 2);

        put16(f + at, l4_sum(f));
    }
    if (n < 60)
        n = 60; /* Ethernet minimum, zero padding */
    return n;
}

/* ---- a comparison handle with a recorded output and a fake clock ------------------------ */

static uint64_t fake_ns;
static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return fake_ns;
}

struct out {
    int n;
    size_t len[64];
    uint8_t f[64][MAXF];
};
static struct out out;

static void record(void *opaque, const uint8_t *frame, size_t len)
{
    (void)opaque;
    if (out.n < 64 && len <= MAXF) {
        memcpy(out.f[out.n], frame, len);
        out.len[out.n] = len;
    }
    out.n++;
}

static netcompare *nc_new(const struct netcompare_limits *lim)
{
    struct netcompare_ops ops = { .release = record, .now = fake_now };

    memset(&out, 0, sizeof(out));
    fake_ns = 1000000000ull;
    return netcompare_new(lim, &ops);
}

static int feed(netcompare *nc, enum netcompare_side side, const struct spec *s)
{
    uint8_t f[MAXF];
    size_t n = build(f, s);

    return netcompare_input(nc, side, f, n);
}

static int released_is(int i, const struct spec *s)
{
    uint8_t f[MAXF];
    size_t n = build(f, s);

    return i < out.n && out.len[i] == n && !memcmp(out.f[i], f, n);
}

static uint32_t held(netcompare *nc)
{
    struct netcompare_stats st;

    netcompare_get_stats(nc, &st);
    return st.held_frames;
}

/* ---- tests ------------------------------------------------------------------------------ */

static const uint8_t ts_opt[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };

static void test_identical(void)
{
    netcompare *nc = nc_new(NULL);
    struct spec s[8];
    int ok = 1;

    CHECK(nc, "handle created");
    s[0] = tcp_spec(100, 200, ACK | PSH, "hello");
    s[1] = udp_spec("query");
    s[2] = tcp_spec(105, 200, ACK | PSH, "world");
    s[3] = tcp_spec(0, 0, 0, "ping-payload");
    s[3].proto = 1;
    s[3].icmp_type = 8;
    s[4] = udp_spec("six");
    s[4].v6 = 1;
    s[5] = tcp_spec(7, 9, ACK, "tagged");
    s[5].vlan = 42;
    s[6] = tcp_spec(0, 0, 0, "v6-ping");
    s[6].v6 = 1;
    s[6].proto = 58;
    s[6].icmp_type = 128;
    s[7] = tcp_spec(110, 200, ACK, "x");
    s[7].opt = ts_opt;
    s[7].optlen = sizeof(ts_opt);
    /* interleaved: each secondary frame right after the primary's */
    for (int i = 0; i < 8; i++) {
        ok &= feed(nc, NETCOMPARE_PRIMARY, &s[i]) == 0;
        ok &= feed(nc, NETCOMPARE_SECONDARY, &s[i]) == 0;
        ok &= released_is(i, &s[i]);
    }
    CHECK(ok && out.n == 8 && held(nc) == 0 && !netcompare_wanted(nc),
          "identical frames (TCP, UDP, ICMP, IPv6 UDP and ICMPv6, 802.1Q, TCP timestamps) are "
          "released one by one as the secondary sends each (%d)", out.n);

    /* all of the primary's first, then the secondary's: nothing goes before its match */
    for (int i = 0; i < 8; i++)
        ok &= feed(nc, NETCOMPARE_PRIMARY, &s[i]) == 0;
    CHECK(ok && out.n == 8 && held(nc) == 8, "the primary's frames are held until the secondary's");
    for (int i = 0; i < 8; i++)
        ok &= feed(nc, NETCOMPARE_SECONDARY, &s[i]) == 0;
    for (int i = 0; i < 8; i++)
        ok &= released_is(8 + i, &s[i]);
    CHECK(ok && out.n == 16 && held(nc) == 0 && !netcompare_wanted(nc),
          "then released, in order, once the secondary sent the same");

    /* fields a guest fills from uncompared state: IP id, IPv6 flow label, TS values,
     * checksums (an offloading guest leaves them partial), Ethernet padding */
    {
        struct spec p = s[7], q = s[7], u = s[4], v = s[4], w = s[0];
        uint8_t ts2[12] = { 1, 1, 8, 10, 0, 0, 0x10, 1, 0, 0, 0, 3 };

        q.ipid = 999;
        q.opt = ts2;
        v.ipid = 77; /* the IPv6 flow label */
        ok = feed(nc, NETCOMPARE_PRIMARY, &p) == 0 && feed(nc, NETCOMPARE_SECONDARY, &q) == 0;
        ok &= feed(nc, NETCOMPARE_PRIMARY, &u) == 0 && feed(nc, NETCOMPARE_SECONDARY, &v) == 0;
        CHECK(ok && out.n == 18 && released_is(16, &p) && released_is(17, &u) &&
              !netcompare_wanted(nc),
              "IP id, IPv6 flow label and TCP timestamp values are not compared; the "
              "primary's frame is what is released");
        w.data = "hellp";
        feed(nc, NETCOMPARE_PRIMARY, &s[0]);
        feed(nc, NETCOMPARE_SECONDARY, &w);
        CHECK((netcompare_wanted(nc) & NETCOMPARE_WANT_MISMATCH) && out.n == 18,
              "but the payload is: %s", netcompare_reason(nc));
    }
    netcompare_free(nc);

    nc = nc_new(NULL);
    {
        struct spec p = s[0];
        uint8_t a[MAXF], b[MAXF];
        size_t n = build(a, &p);

        memcpy(b, a, n);
        put16(b + 14 + 20 + 16, 0xbeef); /* another TCP checksum */
        memset(b + n, 0xee, 8);          /* other Ethernet padding */
        CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY, a, n) == 0 &&
              netcompare_input(nc, NETCOMPARE_SECONDARY, b, n + 8) == 0 && out.n == 1 &&
              !netcompare_wanted(nc), "TCP checksum and Ethernet padding are not compared");
    }
    netcompare_free(nc);
}

/* One mismatching pair of each kind. */
static void mismatch_case(const char *what, const struct spec *p, const struct spec *s,
                          const char *expect)
{
    netcompare *nc = nc_new(NULL);
    struct spec other = udp_spec("other flow");
    struct spec later = *p;

    other.sport = 9999; /* not the flow under test, whatever its kind */
    later.seq += 1000;
    later.data = "later";
    later.dlen = 5;
    CHECK(feed(nc, NETCOMPARE_PRIMARY, p) == 0 && feed(nc, NETCOMPARE_SECONDARY, s) == 0,
          "%s: fed", what);
    CHECK((netcompare_wanted(nc) & NETCOMPARE_WANT_MISMATCH) && out.n == 0 &&
          strstr(netcompare_reason(nc), expect),
          "%s: checkpoint needed, nothing released: %s", what, netcompare_reason(nc));
    /* the flow is held from here on, others are not */
    feed(nc, NETCOMPARE_PRIMARY, &later);
    feed(nc, NETCOMPARE_SECONDARY, &later);
    feed(nc, NETCOMPARE_PRIMARY, &other);
    feed(nc, NETCOMPARE_SECONDARY, &other);
    CHECK(out.n == 1 && released_is(0, &other) && held(nc) == 4,
          "%s: later frames of the flow stay held, another flow's are released", what);
    CHECK(netcompare_checkpoint(nc) == 0 && out.n == 3 && released_is(1, p) &&
          released_is(2, &later) && held(nc) == 0 && !netcompare_wanted(nc),
          "%s: the checkpoint releases the primary's held frames in order, drops the "
          "secondary's, clears the request", what);
    netcompare_free(nc);
}

static void test_mismatch(void)
{
    struct spec p = tcp_spec(100, 200, ACK | PSH, "payload-A"), s = p;

    s.data = "payload-B";
    mismatch_case("TCP payload", &p, &s, "payload");
    s = p;
    s.ttl = 63;
    mismatch_case("IPv4 TTL", &p, &s, "IPv4 header");
    s = p;
    s.ack = 201;
    mismatch_case("TCP ack", &p, &s, "acknowledgement");
    s = p;
    s.seq = 101;
    mismatch_case("TCP seq without a SYN", &p, &s, "sequence");
    s = p;
    s.flags = ACK;
    mismatch_case("TCP flags", &p, &s, "flags");
    p = udp_spec("answer=1");
    s = udp_spec("answer=2");
    mismatch_case("UDP payload", &p, &s, "payload");
    p.proto = s.proto = 1;
    p.icmp_type = s.icmp_type = 0;
    mismatch_case("ICMP payload", &p, &s, "payload");
    s = p;
    s.seq = 5; /* echo sequence */
    mismatch_case("ICMP echo sequence", &p, &s, "ICMP header");
    p = udp_spec("v6");
    p.v6 = 1;
    s = p;
    s.ttl = 1;
    mismatch_case("IPv6 hop limit", &p, &s, "IPv6 header");

    /* the byte-compare queue */
    {
        netcompare *nc = nc_new(NULL);
        uint8_t arp1[60] = { 0 }, arp2[60];

        memset(arp1, 0xff, 6);
        arp1[12] = 0x08;
        arp1[13] = 0x06;
        memcpy(arp2, arp1, 60);
        arp2[59] = 1;
        CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY, arp1, 60) == 0 &&
              netcompare_input(nc, NETCOMPARE_SECONDARY, arp1, 60) == 0 && out.n == 1,
              "identical ARP frames: released");
        CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY, arp1, 60) == 0 &&
              netcompare_input(nc, NETCOMPARE_SECONDARY, arp2, 60) == 0 && out.n == 1 &&
              (netcompare_wanted(nc) & NETCOMPARE_WANT_MISMATCH) &&
              strstr(netcompare_reason(nc), "other frame (not IP): bytes"),
              "ARP frames differing in a padding byte: compared byte for byte: %s",
              netcompare_reason(nc));
        netcompare_free(nc);
    }
}

/* Guest as client and as server, ISNs differing between the guests. */
static void test_isn(void)
{
    netcompare *nc = nc_new(NULL);
    const uint32_t P = 1000, S = 0xfffff000u; /* the secondary's wraps */
    struct spec p, s, in;
    uint8_t f[MAXF], g[MAXF];
    size_t n;
    struct netcompare_stats st;
    int ok = 1;

    /* client: SYN from both guests */
    p = tcp_spec(P, 0, SYN, NULL);
    p.sport = 40000;
    p.dport = 80;
    s = p;
    s.seq = S;
    ok &= feed(nc, NETCOMPARE_PRIMARY, &p) == 0 && feed(nc, NETCOMPARE_SECONDARY, &s) == 0;
    CHECK(ok && out.n == 1 && released_is(0, &p) && !netcompare_wanted(nc),
          "SYNs with ISNs %u and %u: matched, the primary's released", P, S);
    /* the peer's SYN-ACK: the primary's copy as it is, the secondary's acknowledging S+1 */
    in = inbound(tcp_spec(7000, P + 1, SYN | ACK, NULL));
    in.sport = 80;
    in.dport = 40000;
    n = build(f, &in);
    CHECK(netcompare_inbound(nc, f, n, g, sizeof(g)) == 0 && get32(g + 14 + 20 + 8) == S + 1 &&
          get32(g + 14 + 20 + 4) == 7000 && tcp_csum_ok(g) && !memcmp(g, f, 14 + 20 + 8),
          "inbound SYN-ACK to the secondary: ack %u (the primary's %u), seq kept, checksum "
          "correct", get32(g + 14 + 20 + 8), P + 1);
    /* data from both, each in its own sequence space */
    for (uint32_t i = 0; i < 3; i++) {
        p = tcp_spec(P + 1 + 5 * i, 7001, ACK | PSH, "abcde");
        p.sport = 40000;
        p.dport = 80;
        s = p;
        s.seq = S + 1 + 5 * i;
        ok &= feed(nc, NETCOMPARE_PRIMARY, &p) == 0 && feed(nc, NETCOMPARE_SECONDARY, &s) == 0;
        ok &= released_is(1 + (int)i, &p);
    }
    netcompare_get_stats(nc, &st);
    CHECK(ok && out.n == 4 && !netcompare_wanted(nc) && st.offsets_learnt == 1 && st.conns == 1,
          "data segments matched through the offset (%u connection)", st.conns);

    /* server: the peer's SYN mirrored, SYN-ACKs with other ISNs, the peer's ACK with SACK */
    in = inbound(tcp_spec(0, 0, SYN, NULL));
    in.seq = 5000;
    n = build(f, &in);
    CHECK(netcompare_inbound(nc, f, n, g, sizeof(g)) == 0 && !memcmp(f, g, n),
          "inbound SYN of a new connection: unchanged");
    p = tcp_spec(77, 5001, SYN | ACK, NULL);
    s = p;
    s.seq = 123456789;
    ok &= feed(nc, NETCOMPARE_PRIMARY, &p) == 0 && feed(nc, NETCOMPARE_SECONDARY, &s) == 0;
    CHECK(ok && out.n == 5 && released_is(4, &p), "SYN-ACKs with ISNs 77 and 123456789 matched");
    {
        uint8_t sack[12] = { 1, 1, 5, 10 };

        put32(sack + 4, 78 + 100);
        put32(sack + 8, 78 + 200);
        in = inbound(tcp_spec(5001, 78, ACK, NULL));
        in.opt = sack;
        in.optlen = sizeof(sack);
        n = build(f, &in);
        CHECK(tcp_csum_ok(f), "the test's own checksum is correct");
        CHECK(netcompare_inbound(nc, f, n, g, sizeof(g)) == 0 &&
              get32(g + 14 + 20 + 8) == 123456790u && get32(g + 14 + 20 + 24) == 123456789u + 101 &&
              get32(g + 14 + 20 + 28) == 123456789u + 201 && tcp_csum_ok(g),
              "inbound ACK with a SACK block: ack and both edges in the secondary's space, "
              "checksum correct");
    }
    p = tcp_spec(78, 5001, ACK | PSH, "reply");
    s = p;
    s.seq = 123456790;
    ok &= feed(nc, NETCOMPARE_PRIMARY, &p) == 0 && feed(nc, NETCOMPARE_SECONDARY, &s) == 0;
    CHECK(ok && out.n == 6 && !netcompare_wanted(nc), "the server's reply matched");

    /* an inbound frame of a connection without an offset, and one to the other port */
    in = inbound(tcp_spec(1, 2, ACK, NULL));
    in.sport = 81;
    n = build(f, &in);
    CHECK(netcompare_inbound(nc, f, n, g, sizeof(g)) == 0 && !memcmp(f, g, n),
          "inbound frame of a connection without an offset: unchanged");
    CHECK(netcompare_inbound(nc, f, n, g, n - 1) == -1 && errno == ENOSPC, "short buffer: ENOSPC");

    /* after a checkpoint the secondary's connection is the primary's: no offset */
    CHECK(netcompare_checkpoint(nc) == 0, "checkpoint");
    netcompare_get_stats(nc, &st);
    p = tcp_spec(83, 5001, ACK | PSH, "after");
    ok = feed(nc, NETCOMPARE_PRIMARY, &p) == 0 && feed(nc, NETCOMPARE_SECONDARY, &p) == 0;
    CHECK(ok && st.conns == 0 && out.n == 7 && !netcompare_wanted(nc),
          "after a checkpoint the offsets are gone and equal sequence numbers match");
    in = inbound(tcp_spec(5001, 88, ACK, NULL));
    n = build(f, &in);
    CHECK(netcompare_inbound(nc, f, n, g, sizeof(g)) == 0 && !memcmp(f, g, n),
          "and inbound ACKs go to the secondary unchanged");
    netcompare_free(nc);
}

static void test_failover(void)
{
    netcompare *nc = nc_new(NULL);
    struct netcompare_offset *tab;
    size_t ntab;
    struct spec p, s, in;
    uint8_t f[MAXF], g[MAXF];
    size_t n;

    p = tcp_spec(500, 9, SYN | ACK, NULL);
    s = p;
    s.seq = 90000;
    feed(nc, NETCOMPARE_PRIMARY, &p);
    feed(nc, NETCOMPARE_SECONDARY, &s);
    /* the secondary is ahead: its data is not matched yet; the primary's other flow is held */
    s = tcp_spec(90001, 9, ACK | PSH, "survivor-data");
    feed(nc, NETCOMPARE_SECONDARY, &s);
    in = udp_spec("lost with the primary");
    feed(nc, NETCOMPARE_PRIMARY, &in);
    CHECK(out.n == 1 && held(nc) == 2, "SYN-ACK released, the secondary's data held");
    CHECK(netcompare_failover(nc, NETCOMPARE_SECONDARY, &tab, &ntab) == 0 && ntab == 1 &&
          tab[0].seq_offset == 500u - 90000u && tab[0].flow.sport == 80 &&
          tab[0].flow.dport == 40000,
          "failover to the secondary: one offset (%zu), guest side first", ntab);
    p = tcp_spec(501, 9, ACK | PSH, "survivor-data");
    CHECK(out.n == 2 && released_is(1, &p) && tcp_csum_ok(out.f[1]),
          "the survivor's unmatched frame is released in the primary's sequence space, "
          "checksum correct");
    n = build(f, &in);
    CHECK(held(nc) == 0 && out.n == 2 && netcompare_input(nc, NETCOMPARE_PRIMARY, f, n) == -1 &&
          errno == ESHUTDOWN, "the primary's held frame dropped; input refused afterwards");

    /* the survivor's path keeps applying the table */
    s = tcp_spec(90014, 9, ACK | PSH, "more");
    n = build(f, &s);
    CHECK(netcompare_rewrite(tab, ntab, NETCOMPARE_OUT, f, n) == 1 &&
              get32(f + 14 + 20 + 4) == 514 && tcp_csum_ok(f),
          "outbound: seq 90014 -> 514, checksum correct");
    in = inbound(tcp_spec(9, 518, ACK, NULL));
    n = build(f, &in);
    CHECK(netcompare_rewrite(tab, ntab, NETCOMPARE_IN, f, n) == 1 &&
              get32(f + 14 + 20 + 8) == 90018 && tcp_csum_ok(f),
          "inbound: ack 518 -> 90018, checksum correct");
    in.sport = 1;
    n = build(f, &in);
    memcpy(g, f, n);
    CHECK(netcompare_rewrite(tab, ntab, NETCOMPARE_IN, f, n) == 0 && !memcmp(f, g, n),
          "another connection: untouched");
    /* a checksum that was wrong stays wrong by the same amount (nothing is laundered) */
    n = build(f, &s);
    f[14 + 20 + 16] ^= 0x01;
    {
        uint16_t before = l4_sum(f);

        netcompare_rewrite(tab, ntab, NETCOMPARE_OUT, f, n);
        CHECK(!tcp_csum_ok(f) && l4_sum(f) == before, "a bad checksum stays bad");
    }
    free(tab);
    netcompare_free(nc);

    nc = nc_new(NULL);
    p = tcp_spec(1, 2, ACK, "held");
    feed(nc, NETCOMPARE_PRIMARY, &p);
    feed(nc, NETCOMPARE_SECONDARY, &s);
    CHECK(netcompare_failover(nc, NETCOMPARE_PRIMARY, &tab, &ntab) == 0 && ntab == 0 && !tab &&
          out.n == 1 && released_is(0, &p) && held(nc) == 0,
          "failover to the primary: its held frames released, no rewriting");
    netcompare_free(nc);
}

static void test_timeout(void)
{
    struct netcompare_limits lim = { .timeout_ns = 100000000 };
    struct spec p = udp_spec("q");
    netcompare *nc = nc_new(&lim);

    CHECK(netcompare_deadline(nc) == UINT64_MAX, "nothing held: no deadline");
    feed(nc, NETCOMPARE_PRIMARY, &p);
    CHECK(netcompare_deadline(nc) == fake_ns + 100000000, "deadline: arrival + 100 ms");
    fake_ns += 100000000;
    netcompare_poll(nc);
    CHECK(!netcompare_wanted(nc), "at 100 ms: not yet");
    fake_ns += 1;
    netcompare_poll(nc);
    CHECK(netcompare_wanted(nc) == NETCOMPARE_WANT_TIMEOUT &&
              strstr(netcompare_reason(nc), "timeout on udp") && out.n == 0 &&
              netcompare_deadline(nc) == UINT64_MAX,
          "past 100 ms: checkpoint needed (%s), nothing released, no further deadline",
          netcompare_reason(nc));
    netcompare_checkpoint(nc);
    CHECK(out.n == 1 && !netcompare_wanted(nc), "released at the checkpoint");
    feed(nc, NETCOMPARE_SECONDARY, &p);
    fake_ns += 200000000;
    netcompare_poll(nc);
    CHECK(netcompare_wanted(nc) == NETCOMPARE_WANT_TIMEOUT && out.n == 1,
          "a secondary frame the primary never sends times out too");
    netcompare_free(nc);
}

/* n primary UDP frames carrying data, spread over the given number of flows (source
 * ports 1000, 1001, ...). */
static void feed_flows(netcompare *nc, int n, int flows, const char *data)
{
    for (int i = 0; i < n; i++) {
        struct spec p = udp_spec(data);

        p.sport = (uint16_t)(1000 + i % flows);
        feed(nc, NETCOMPARE_PRIMARY, &p);
    }
}

static void test_limits(void)
{
    struct netcompare_limits lim = { .flow_max_frames = 4, .flow_max_bytes = 400, .max_frames = 10,
                                     .max_bytes = 700, .max_flows = 3, .max_conns = 1 };
    netcompare *nc = nc_new(&lim);
    struct spec p = udp_spec("x");
    struct netcompare_stats st;

    for (int i = 0; i < 5; i++)
        feed(nc, NETCOMPARE_PRIMARY, &p);
    netcompare_get_stats(nc, &st);
    CHECK(st.held_frames == 4 && st.limit_drops[0] == 1 &&
              netcompare_wanted(nc) == NETCOMPARE_WANT_LIMIT &&
              strstr(netcompare_reason(nc), "frames held on the flow"),
          "4 frames a flow: the 5th dropped, checkpoint needed (%s)", netcompare_reason(nc));
    netcompare_checkpoint(nc);
    CHECK(out.n == 4 && held(nc) == 0, "the checkpoint releases the 4 held, not the dropped one");

    /* bytes per flow: 60-byte frames, 400 bytes */
    for (int i = 0; i < 7; i++)
        feed(nc, NETCOMPARE_SECONDARY, &p);
    netcompare_get_stats(nc, &st);
    CHECK(st.held_frames == 4 && st.limit_drops[1] == 3,
          "per-flow frames on the secondary's side too");
    netcompare_checkpoint(nc);
    p.data = "a longer payload that makes the frame well over a hundred bytes long ...... ....";
    p.dlen = strlen(p.data);
    for (int i = 0; i < 4; i++)
        feed(nc, NETCOMPARE_PRIMARY, &p);
    netcompare_get_stats(nc, &st);
    CHECK(st.held_frames == 3 && strstr(netcompare_reason(nc), "bytes held on the flow"),
          "400 bytes a flow: 3 frames of %zu bytes held (%s)", p.dlen + 42, netcompare_reason(nc));
    netcompare_checkpoint(nc);

    /* flows: 3 */
    feed_flows(nc, 4, 4, "f");
    netcompare_get_stats(nc, &st);
    CHECK(st.held_frames == 3 && st.flows == 3 && strstr(netcompare_reason(nc), "3 flows"),
          "3 flows: the 4th flow's frame dropped (%s)", netcompare_reason(nc));
    /* the byte queue is not a flow slot */
    CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY,
                           (const uint8_t *)"\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\x08\x06",
                           14) == 0 &&
              held(nc) == 4,
          "the byte-compare queue is there when the flows are full");
    netcompare_checkpoint(nc);

    /* in all: 10 frames, 700 bytes, over three flows */
    feed_flows(nc, 12, 3, "t");
    netcompare_get_stats(nc, &st);
    CHECK(st.held_frames == 10 && strstr(netcompare_reason(nc), "frames held in all"),
          "10 frames in all (%s)", netcompare_reason(nc));
    netcompare_checkpoint(nc);
    feed_flows(nc, 7, 3, "a longer payload that makes the frame well over a hundred bytes long ..");
    netcompare_get_stats(nc, &st);
    CHECK(st.held_frames == 6 && st.held_bytes <= 700 &&
              strstr(netcompare_reason(nc), "bytes held in all"),
          "700 bytes in all: %u frames, %llu bytes (%s)", st.held_frames,
          (unsigned long long)st.held_bytes, netcompare_reason(nc));
    netcompare_checkpoint(nc);

    /* connections with an offset: 1 */
    {
        struct spec a = tcp_spec(10, 0, SYN, NULL), b = a;

        b.seq = 20;
        out.n = 0;
        feed(nc, NETCOMPARE_PRIMARY, &a);
        feed(nc, NETCOMPARE_SECONDARY, &b);
        a.sport = b.sport = 81;
        feed(nc, NETCOMPARE_PRIMARY, &a);
        feed(nc, NETCOMPARE_SECONDARY, &b);
        netcompare_get_stats(nc, &st);
        CHECK(st.conns == 1 && out.n == 1 &&
              netcompare_wanted(nc) == (NETCOMPARE_WANT_LIMIT | NETCOMPARE_WANT_MISMATCH) &&
              strstr(netcompare_reason(nc), "1 connections with an offset"),
              "one connection with an offset: the second's SYN cannot be matched (%s)",
              netcompare_reason(nc));
        netcompare_checkpoint(nc);
        feed(nc, NETCOMPARE_PRIMARY, &a);
        feed(nc, NETCOMPARE_SECONDARY, &b);
        netcompare_get_stats(nc, &st);
        CHECK(st.conns == 1 && !netcompare_wanted(nc), "after the checkpoint there is room again");
    }
    netcompare_free(nc);
}

/* The classification of f[0..n) and why. */
static int is(const uint8_t *f, size_t n, enum netcompare_class cls, const char *why)
{
    struct netcompare_pkt pkt;

    netcompare_parse(f, n, &pkt);
    if (pkt.cls != cls || (why && (!pkt.why || !strstr(pkt.why, why)))) {
        fprintf(stderr, "# len %zu: %s (%s), expected %s (%s)\n", n, netcompare_class_name(pkt.cls),
                pkt.why ? pkt.why : "-", netcompare_class_name(cls), why ? why : "-");
        return 0;
    }
    return 1;
}

static void test_malformed(void)
{
    uint8_t f[MAXF], g[MAXF];
    struct spec s = tcp_spec(1, 2, ACK, "data");
    uint8_t opts[16] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 1, 0 };
    size_t n, full;
    int ok = 1;
    netcompare *nc;

    s.vlan = 5;
    s.opt = opts;
    s.optlen = sizeof(opts);
    full = build(f, &s);
    CHECK(is(f, full, NETCOMPARE_TCP, NULL), "the whole frame is TCP");
    /* every truncation: each header boundary and everything between */
    for (n = 0; n < 14 + 4 + 20 + 20 + 16 + 4; n++) {
        const char *why = n < 14 ? "shorter than an Ethernet" : n < 18 ? "802.1Q" :
                          n < 38 ? "truncated IPv4" : "total length past";

        ok &= is(f, n, NETCOMPARE_MALFORMED, why);
    }
    CHECK(ok, "truncated at every length below the full frame: malformed, with the header named");

    /* the same truncations with lengths that agree (the IP length cut too) */
    ok = 1;
    for (size_t tcplen = 0; tcplen < 20 + 16; tcplen++) {
        memcpy(g, f, full);
        put16(g + 18 + 2, (uint32_t)(20 + tcplen));
        ok &= is(g, 18 + 20 + tcplen, NETCOMPARE_MALFORMED,
                 tcplen < 20 ? "truncated TCP" : "data offset past");
    }
    CHECK(ok, "an IP packet ending inside the TCP header or its options: malformed");

#define MUTATE(off, val, cls, why, text)                                                        \
    do {                                                                                        \
        memcpy(g, f, full);                                                                     \
        g[off] = (uint8_t)(val);                                                                \
        CHECK(is(g, full, cls, why), text);                                                     \
    } while (0)
    MUTATE(18, 0x44, NETCOMPARE_MALFORMED, "header length below 5", "IHL 4");
    MUTATE(18, 0x40, NETCOMPARE_MALFORMED, "header length below 5", "IHL 0");
    MUTATE(18, 0x4f, NETCOMPARE_MALFORMED, "truncated TCP",
           "IHL 15: IP options swallow the TCP header");
    MUTATE(18, 0x65, NETCOMPARE_MALFORMED, "other IP version", "version 6 in an IPv4 ethertype");
    MUTATE(21, 0x10, NETCOMPARE_MALFORMED, "below the header length", "total length 16");
    MUTATE(21, 0xff, NETCOMPARE_MALFORMED, "past the frame", "total length past the frame");
    MUTATE(38 + 12, 0x40, NETCOMPARE_MALFORMED, "data offset below 5", "TCP data offset 4");
    MUTATE(38 + 12, 0xf0, NETCOMPARE_MALFORMED, "data offset past", "TCP data offset 15");
    MUTATE(38 + 20 + 3, 1, NETCOMPARE_MALFORMED, "below 2", "option length 1");
    MUTATE(38 + 20 + 3, 0, NETCOMPARE_MALFORMED, NULL, "option length 0");
    MUTATE(38 + 20 + 3, 16, NETCOMPARE_MALFORMED, "overruns", "option running past the header");
    MUTATE(38 + 20 + 3, 8, NETCOMPARE_MALFORMED, "wrong length", "timestamp option of length 8");
    MUTATE(38 + 20 + 15, 3, NETCOMPARE_MALFORMED, "length byte past",
           "an option kind in the header's last byte");
    memcpy(g, f, full);
    g[38 + 20 + 2] = 5;
    g[38 + 20 + 3] = 12;
    CHECK(is(g, full, NETCOMPARE_MALFORMED, "SACK option of the wrong length"),
          "SACK option of length 12");
    memcpy(g, f, full);
    g[18] = 0x4f;
    CHECK(is(g, 18 + 40, NETCOMPARE_MALFORMED, "header length past the frame"),
          "IHL 15 in a frame with 40 bytes of IP");
    MUTATE(38 + 20 + 12, 8, NETCOMPARE_MALFORMED, NULL, "a second option overrunning");
    MUTATE(18 + 7, 0x10, NETCOMPARE_OTHER, "fragment", "an IPv4 fragment: byte-compared");
    MUTATE(18 + 6, 0x20, NETCOMPARE_OTHER, "fragment",
           "an IPv4 first fragment (MF): byte-compared");
    MUTATE(18 + 9, 47, NETCOMPARE_OTHER, "not compared by field", "GRE: byte-compared");
    MUTATE(16, 0x05, NETCOMPARE_OTHER, "802.3", "an 802.3 length field");
    MUTATE(17, 0x06, NETCOMPARE_OTHER, "not IP", "ARP");
    MUTATE(18 + 9, 58, NETCOMPARE_OTHER, "other IP version", "ICMPv6 in IPv4");
    memcpy(g, f, full);
    put16(g + 16, 0x8100);
    CHECK(is(g, full, NETCOMPARE_OTHER, "stacked"), "two VLAN tags: byte-compared");
    CHECK(is(f, NETCOMPARE_MAX_FRAME + 1, NETCOMPARE_MALFORMED, "longer"), "over-long length");

    /* UDP, ICMP and IPv6 */
    s = udp_spec("udp");
    full = build(f, &s);
    CHECK(is(f, full, NETCOMPARE_UDP, NULL), "UDP");
    MUTATE(14 + 20 + 5, 12, NETCOMPARE_MALFORMED, "UDP length", "UDP length shorter than the IP's");
    MUTATE(14 + 20 + 5, 200, NETCOMPARE_MALFORMED, "UDP length", "UDP length longer than the IP's");
    memcpy(g, f, full);
    put16(g + 14 + 2, 20 + 7);
    CHECK(is(g, full, NETCOMPARE_MALFORMED, "truncated UDP"), "7 bytes of UDP header");
    s.proto = 1;
    full = build(f, &s);
    memcpy(g, f, full);
    put16(g + 14 + 2, 20 + 7);
    CHECK(is(f, full, NETCOMPARE_ICMP, NULL) && is(g, full, NETCOMPARE_MALFORMED, "truncated ICMP"),
          "ICMP; 7 bytes of it: malformed");
    s = udp_spec("v6");
    s.v6 = 1;
    full = build(f, &s);
    CHECK(is(f, full, NETCOMPARE_UDP, NULL), "IPv6 UDP");
    ok = 1;
    for (n = 14; n < 14 + 40; n++)
        ok &= is(f, n, NETCOMPARE_MALFORMED, "truncated IPv6");
    CHECK(ok, "IPv6 truncated anywhere in its header: malformed");
    MUTATE(14 + 5, 0xff, NETCOMPARE_MALFORMED, "payload length past",
           "IPv6 payload length past the frame");
    MUTATE(14 + 6, 0, NETCOMPARE_OTHER, "extension header",
           "IPv6 hop-by-hop header: byte-compared");
    MUTATE(14, 0x40, NETCOMPARE_MALFORMED, "other IP version", "version 4 in an IPv6 ethertype");
    memcpy(g, f, full);
    g[14 + 4] = g[14 + 5] = 0;
    CHECK(is(g, full, NETCOMPARE_OTHER, "jumbogram"), "IPv6 payload length 0: byte-compared");
#undef MUTATE

    /* malformed frames go through the byte-compare queue */
    nc = nc_new(NULL);
    s = tcp_spec(1, 2, ACK, "data");
    full = build(f, &s);
    f[14 + 20 + 12] = 0x40;
    memcpy(g, f, full);
    g[full - 1] ^= 1;
    CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY, f, full) == 0 &&
          netcompare_input(nc, NETCOMPARE_SECONDARY, f, full) == 0 && out.n == 1 &&
          netcompare_input(nc, NETCOMPARE_PRIMARY, f, 3) == 0 &&
          netcompare_input(nc, NETCOMPARE_SECONDARY, f, 3) == 0 && out.n == 2,
          "identical malformed frames (bad data offset, 3 bytes): released");
    CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY, f, full) == 0 &&
          netcompare_input(nc, NETCOMPARE_SECONDARY, g, full) == 0 && out.n == 2 &&
          strstr(netcompare_reason(nc), "malformed frame (TCP data offset below 5): bytes"),
          "differing malformed frames: %s", netcompare_reason(nc));
    CHECK(netcompare_input(nc, NETCOMPARE_PRIMARY, f, NETCOMPARE_MAX_FRAME + 1) == -1 &&
          errno == EMSGSIZE, "a frame over NETCOMPARE_MAX_FRAME: EMSGSIZE");
    netcompare_free(nc);
}

/* ---- frames with the kernel's offload state (netcompare_finish) ------------------------ */

static struct {
    uint8_t f[8][MAXF];
    size_t len[8];
    int n;
} segs;

static void keep_seg(void *opaque, uint8_t *frame, size_t len)
{
    (void)opaque;
    if (segs.n < 8 && len <= MAXF) {
        memcpy(segs.f[segs.n], frame, len);
        segs.len[segs.n] = len;
    }
    segs.n++;
}

/* A GSO frame of 3000 payload bytes cut into 1200-byte segments, IPv4 or IPv6. */
static void gso_case(int v6)
{
    static char data[3001];
    static uint8_t f[MAXF];
    struct spec sp;
    struct netcompare_vnet_hdr vh = { 0 };
    size_t len, hdr;
    int ok_hdrs = 1, ok_data = 1, rc;

    for (int i = 0; i < 3000; i++)
        data[i] = (char)('a' + i % 26);
    sp = tcp_spec(1000, 77, PSH | ACK, data);
    sp.v6 = v6;
    len = build(f, &sp);
    hdr = 14 + (v6 ? 40 : 20) + 20;
    vh.gso_type = v6 ? NETCOMPARE_GSO_TCPV6 : NETCOMPARE_GSO_TCPV4;
    vh.gso_size = 1200;
    vh.hdr_len = (uint16_t)hdr;
    memset(&segs, 0, sizeof(segs));
    rc = netcompare_finish(&vh, f, len, keep_seg, NULL);
    CHECK(rc == 0 && segs.n == 3, "IPv%d GSO: 3000 bytes in segments of 1200 are 3 frames "
          "(rc %d, %d)", v6 ? 6 : 4, rc, segs.n);
    for (int i = 0; i < 3 && i < segs.n; i++) {
        const uint8_t *g = segs.f[i];
        struct layout l = layout_of(g);
        size_t want = i < 2 ? 1200 : 600;
        uint8_t fl = g[l.l4 + 13];

        ok_hdrs &= segs.len[i] == hdr + want && l.end == segs.len[i] && tcp_csum_ok(g) &&
                   get32(g + l.l4 + 4) == 1000 + 1200u * (uint32_t)i &&
                   get32(g + l.l4 + 8) == 77 && !!(fl & PSH) == (i == 2) && (fl & ACK);
        if (!v6)
            ok_hdrs &= finish(sum16(g + l.l3, 20, 0)) == 0 && get16(g + l.l3 + 4) == 1u + (uint32_t)i;
        ok_data &= !memcmp(g + hdr, data + 1200 * i, want);
    }
    CHECK(ok_hdrs, "IPv%d GSO: lengths, sequence numbers, PSH on the last only, %schecksums",
          v6 ? 6 : 4, v6 ? "" : "IP ids and ");
    CHECK(ok_data, "IPv%d GSO: each segment carries its slice of the payload", v6 ? 6 : 4);
}

static void test_offload(void)
{
    static uint8_t f[MAXF], orig[MAXF];
    struct netcompare_vnet_hdr vh = { 0 };
    struct spec sp = tcp_spec(5, 6, PSH | ACK, "partial checksum");
    struct layout l;
    size_t len;
    uint32_t pseudo;

    gso_case(0);
    gso_case(1);

    /* a partial checksum: the field holds the pseudo header's sum, as the kernel leaves it */
    len = build(f, &sp);
    memcpy(orig, f, len);
    l = layout_of(f);
    pseudo = sum16(f + l.l3 + 12, 8, 0) + 6 + (uint32_t)(l.end - l.l4);
    while (pseudo >> 16)
        pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    put16(f + l.l4 + 16, pseudo);
    vh.flags = NETCOMPARE_VNET_NEEDS_CSUM;
    vh.csum_start = (uint16_t)l.l4;
    vh.csum_offset = 16;
    memset(&segs, 0, sizeof(segs));
    /* the Ethernet padding build() adds is not part of the segment: finish up to its end */
    CHECK(netcompare_finish(&vh, f, l.end, keep_seg, NULL) == 0 && segs.n == 1 &&
          !memcmp(segs.f[0], orig, l.end), "a partial checksum is completed to the right one");
    memcpy(f, orig, len);
    vh = (struct netcompare_vnet_hdr){ 0 };
    memset(&segs, 0, sizeof(segs));
    CHECK(netcompare_finish(&vh, f, len, keep_seg, NULL) == 0 && segs.n == 1 &&
          segs.len[0] == len && !memcmp(segs.f[0], orig, len), "no offload: the frame as it is");

    /* hostile offload headers and frames: refused, nothing emitted */
#define REFUSED(e, what) do {                                                          \
        memset(&segs, 0, sizeof(segs));                                                 \
        errno = 0;                                                                      \
        CHECK(netcompare_finish(&vh, f, len, keep_seg, NULL) == -1 && errno == (e) &&   \
              segs.n == 0, "refused with %s: %s", #e, what);                            \
    } while (0)
    vh = (struct netcompare_vnet_hdr){ .flags = NETCOMPARE_VNET_NEEDS_CSUM,
                                       .csum_start = (uint16_t)len, .csum_offset = 0 };
    REFUSED(EPROTO, "checksum start at the frame's end");
    vh.csum_start = (uint16_t)(len - 1);
    REFUSED(EPROTO, "checksum field past the frame's end");
    vh.csum_start = (uint16_t)l.l4;
    vh.csum_offset = 15;
    REFUSED(EPROTO, "an odd checksum offset");
    vh = (struct netcompare_vnet_hdr){ .gso_type = NETCOMPARE_GSO_UDP, .gso_size = 100 };
    REFUSED(EPROTO, "UDP fragmentation offload");
    vh = (struct netcompare_vnet_hdr){ .gso_type = NETCOMPARE_GSO_TCPV4, .gso_size = 0 };
    REFUSED(EPROTO, "segmentation with a segment size of 0");
    vh.gso_size = 100;
    sp = udp_spec("not tcp");
    len = build(f, &sp);
    REFUSED(EPROTO, "TCP segmentation of a UDP frame");
    sp = tcp_spec(1, 2, ACK, "cut short");
    len = build(f, &sp);
    len = 14 + 20 + 10;
    REFUSED(EPROTO, "TCP segmentation of a frame cut inside its TCP header");
    vh = (struct netcompare_vnet_hdr){ 0 };
    len = NETCOMPARE_MAX_FRAME + 1;
    {
        uint8_t *big = calloc(1, len);

        memset(&segs, 0, sizeof(segs));
        errno = 0;
        CHECK(big && netcompare_finish(&vh, big, len, keep_seg, NULL) == -1 && errno == EMSGSIZE &&
              segs.n == 0, "refused with EMSGSIZE: a frame over NETCOMPARE_MAX_FRAME");
        free(big);
    }
#undef REFUSED
}

int main(void)
{
    test_offload();
    test_identical();
    test_mismatch();
    test_isn();
    test_failover();
    test_timeout();
    test_limits();
    test_malformed();
    return test_done();
}
