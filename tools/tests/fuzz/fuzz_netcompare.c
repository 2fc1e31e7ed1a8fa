/*
 * The packet comparison core (tools/libs/netcompare/) on one input.
 *
 * Byte 0: bit 0 mirror mode (every frame goes to both guests, so nothing may ever
 * mismatch, be held or be released other than as it went in); bit 1 small limits (so
 * that they are reached).  Then operations, each a byte (its value mod 7) and for frames
 * a 16-bit little-endian length and that many bytes:
 *   0 the primary's frame, 1 the secondary's, 2 an inbound frame (mirrored), 3 the clock
 *   advances by the next 16 bits in ms, 4 a checkpoint, 5 a failover to the side in the
 *   next byte's bit 0 (the rest of the input is then rewritten by the returned table),
 *   6 a frame with an offload header (10 bytes, then the length and the frame) through
 *   netcompare_finish: each finished frame within its promises, then the primary's.
 * After each operation the handle's counters must be within its limits, a reason and a
 * deadline must be there exactly when due, every parse must give offsets inside the
 * frame, and a rewritten frame must parse as the original did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "netcompare.h"

static uint64_t clock_ns;
static int mirror, failed_over;
static uint64_t released;
static const uint8_t *last;
static size_t last_len;

static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return clock_ns;
}

static void check_parse(const uint8_t *f, size_t len, struct netcompare_pkt *pkt)
{
    netcompare_parse(f, len, pkt);
    if (!pkt->why != (pkt->cls != NETCOMPARE_OTHER && pkt->cls != NETCOMPARE_MALFORMED))
        fuzz_fail("class %s with%s a reason", netcompare_class_name(pkt->cls),
                  pkt->why ? "" : "out");
    if (pkt->cls > NETCOMPARE_ICMP)
        return;
    if (!(pkt->l3_off < pkt->l4_off && pkt->l4_off <= pkt->data_off &&
          pkt->data_off <= pkt->ip_end && pkt->ip_end <= len))
        fuzz_fail("offsets %u %u %u %u outside a frame of %zu", pkt->l3_off, pkt->l4_off,
                  pkt->data_off, pkt->ip_end, len);
    if (pkt->ts_off && (pkt->ts_off <= pkt->l4_off || pkt->ts_off + 8 > pkt->data_off))
        fuzz_fail("timestamp at %u outside the TCP header", pkt->ts_off);
    if (pkt->sack_off && pkt->sack_off + 8u * pkt->sack_blocks > pkt->data_off)
        fuzz_fail("SACK blocks at %u outside the TCP header", pkt->sack_off);
}

/* A rewritten frame keeps its structure; only seq/ack/SACK and the checksum move. */
static void check_rewrite(const uint8_t *a, const uint8_t *b, size_t len)
{
    struct netcompare_pkt p, q;

    check_parse(a, len, &p);
    check_parse(b, len, &q);
    if (p.cls != q.cls || p.l4_off != q.l4_off || p.data_off != q.data_off ||
        p.ip_end != q.ip_end || p.ts_off != q.ts_off || p.sack_blocks != q.sack_blocks)
        fuzz_fail("rewriting changed the frame's structure");
    if (p.cls == NETCOMPARE_TCP && memcmp(a + p.data_off, b + p.data_off, len - p.data_off))
        fuzz_fail("rewriting changed the payload");
    if (p.cls != NETCOMPARE_TCP && memcmp(a, b, len))
        fuzz_fail("a frame other than TCP was rewritten");
}

static void on_release(void *opaque, const uint8_t *frame, size_t len)
{
    struct netcompare_pkt pkt;

    (void)opaque;
    released++;
    check_parse(frame, len, &pkt);
    if (mirror && (len != last_len || memcmp(frame, last, len)))
        fuzz_fail("mirror mode released a frame other than the one just fed");
}

static void check_bounds(const netcompare *nc, const struct netcompare_limits *lim)
{
    struct netcompare_stats st;

    netcompare_get_stats(nc, &st);
    if (st.held_frames > lim->max_frames || st.held_bytes > lim->max_bytes ||
        st.flows > lim->max_flows || st.conns > lim->max_conns)
        fuzz_fail("over a limit: %u frames, %llu bytes, %u flows, %u conns", st.held_frames,
                  (unsigned long long)st.held_bytes, st.flows, st.conns);
    if (!failed_over && released != st.matched + st.released_at_checkpoint)
        fuzz_fail("%llu frames released, %llu counted", (unsigned long long)released,
                  (unsigned long long)(st.matched + st.released_at_checkpoint));
    if (!netcompare_wanted(nc) != !*netcompare_reason(nc))
        fuzz_fail("wanted %#x with reason \"%s\"", netcompare_wanted(nc), netcompare_reason(nc));
    if ((netcompare_deadline(nc) == UINT64_MAX) !=
        (!st.held_frames || (netcompare_wanted(nc) & NETCOMPARE_WANT_TIMEOUT)))
        fuzz_fail("deadline %llu with %u frames held", (unsigned long long)netcompare_deadline(nc),
                  st.held_frames);
    if (mirror && (st.held_frames || netcompare_wanted(nc)))
        fuzz_fail("mirror mode: %u frames held, wanted %#x (%s)", st.held_frames,
                  netcompare_wanted(nc), netcompare_reason(nc));
}

static void after_failover(struct in *in, const struct netcompare_offset *tab, size_t n)
{
    static uint8_t a[NETCOMPARE_MAX_FRAME], b[NETCOMPARE_MAX_FRAME];

    while (in->p < in->end) {
        uint8_t op = 0;
        uint16_t len = 0;
        size_t got;

        take(in, &op, 1);
        take(in, &len, 2);
        got = take(in, a, len);
        memcpy(b, a, got);
        if (netcompare_rewrite(tab, n, op & 1 ? NETCOMPARE_IN : NETCOMPARE_OUT, b, got) < 0)
            fuzz_fail("netcompare_rewrite failed");
        check_rewrite(a, b, got);
    }
}

/* A frame netcompare_finish made (op 6): within the limits it promises, then compared
 * as the primary's (both sides' in mirror mode) like any other. */
struct finish_ctx {
    netcompare *nc;
    const struct netcompare_vnet_hdr *vh;
    unsigned int emitted;
};
static void finished(void *opaque, uint8_t *f, size_t len)
{
    struct finish_ctx *fc = opaque;
    uint8_t gso = fc->vh->gso_type & (uint8_t)~NETCOMPARE_GSO_ECN;
    struct netcompare_pkt pkt;

    fc->emitted++;
    if (len > NETCOMPARE_MAX_FRAME)
        fuzz_fail("a finished frame of %zu bytes", len);
    check_parse(f, len, &pkt);
    if (gso != NETCOMPARE_GSO_NONE &&
        (pkt.cls != NETCOMPARE_TCP || pkt.ip_end - pkt.data_off > fc->vh->gso_size))
        fuzz_fail("a segment of class %s with %u payload bytes (segment size %u)",
                  netcompare_class_name(pkt.cls), pkt.ip_end - pkt.data_off, fc->vh->gso_size);
    last = f;
    last_len = len;
    if (netcompare_input(fc->nc, NETCOMPARE_PRIMARY, f, len) ||
        (mirror && netcompare_input(fc->nc, NETCOMPARE_SECONDARY, f, len)))
        fuzz_fail("netcompare_input failed on a finished frame");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[NETCOMPARE_MAX_FRAME], sec[NETCOMPARE_MAX_FRAME];
    struct netcompare_ops ops = { .release = on_release, .now = fake_now };
    struct netcompare_limits lim = { 0 };
    struct in in = { data, data + size };
    struct netcompare_stats st;
    uint8_t mode = 0;
    netcompare *nc;

    take(&in, &mode, 1);
    mirror = mode & 1;
    failed_over = 0;
    released = 0;
    clock_ns = 1;
    /* Mirror mode holds nothing between operations, so only a frame bigger than a limit
     * could reach one: it gets room for any frame. */
    if ((mode & 2) && !mirror)
        lim = (struct netcompare_limits){.max_flows = 3,
                                         .flow_max_frames = 3,
                                         .flow_max_bytes = 300,
                                         .max_frames = 6,
                                         .max_bytes = 500,
                                         .max_conns = 2,
                                         .timeout_ns = 50000000};
    else
        lim = (struct netcompare_limits){ .max_flows = 64, .flow_max_frames = 64,
                                          .flow_max_bytes = 1u << 20, .max_frames = 256,
                                          .max_bytes = 4u << 20, .max_conns = 64,
                                          .timeout_ns = 3000000000ull };
    nc = netcompare_new(&lim, &ops);
    if (!nc)
        fuzz_fail("netcompare_new failed");
    while (in.p < in.end) {
        uint8_t op = 0, side = 0;
        uint16_t len = 0;
        size_t got;
        struct netcompare_offset *tab;
        size_t n;

        take(&in, &op, 1);
        switch (op % 7) {
        case 0:
        case 1:
            take(&in, &len, 2);
            got = take(&in, frame, len);
            check_parse(frame, got, &(struct netcompare_pkt){ 0 });
            last = frame;
            last_len = got;
            if (mirror) {
                if (netcompare_input(nc, NETCOMPARE_PRIMARY, frame, got) ||
                    netcompare_input(nc, NETCOMPARE_SECONDARY, frame, got))
                    fuzz_fail("netcompare_input failed");
            } else if (netcompare_input(nc, op % 7 ? NETCOMPARE_SECONDARY : NETCOMPARE_PRIMARY,
                                        frame, got)) {
                fuzz_fail("netcompare_input failed");
            }
            break;
        case 2:
            take(&in, &len, 2);
            got = take(&in, frame, len);
            if (netcompare_inbound(nc, frame, got, sec, sizeof(sec)))
                fuzz_fail("netcompare_inbound failed");
            check_rewrite(frame, sec, got);
            break;
        case 3:
            take(&in, &len, 2);
            clock_ns += (uint64_t)len * 1000000;
            netcompare_poll(nc);
            break;
        case 4:
            if (netcompare_checkpoint(nc))
                fuzz_fail("netcompare_checkpoint failed");
            netcompare_get_stats(nc, &st);
            if (st.held_frames || st.held_bytes || st.flows || st.conns || netcompare_wanted(nc))
                fuzz_fail("state left after a checkpoint");
            break;
        case 5:
            take(&in, &side, 1);
            if (netcompare_failover(nc, side & 1 ? NETCOMPARE_SECONDARY : NETCOMPARE_PRIMARY, &tab,
                                    &n))
                fuzz_fail("netcompare_failover failed");
            failed_over = 1;
            netcompare_get_stats(nc, &st);
            if (st.held_frames || (!(side & 1) && n))
                fuzz_fail("state left after a failover");
            after_failover(&in, tab, n);
            free(tab);
            break;
        case 6: {
            struct netcompare_vnet_hdr vh;
            struct finish_ctx fc = { nc, &vh, 0 };

            memset(&vh, 0, sizeof(vh));
            take(&in, &vh, sizeof(vh));
            take(&in, &len, 2);
            got = take(&in, frame, len);
            if (netcompare_finish(&vh, frame, got, finished, &fc) && fc.emitted)
                fuzz_fail("netcompare_finish failed after emitting %u frames", fc.emitted);
            break;
        }
        }
        check_bounds(nc, &lim);
    }
    netcompare_free(nc);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
