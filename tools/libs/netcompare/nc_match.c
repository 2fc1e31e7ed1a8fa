/*
 * When two frames are "the same" for COLO.  Everything the network sees is compared
 * except fields a guest fills from state COLO does not make equal, and fields derived
 * from the others:
 *   IPv4 identification and header checksum; IPv6 flow label;
 *   TCP: checksum, the timestamp option's two values (guest clocks); the secondary's
 *        sequence number is compared after adding the connection's offset;
 *   UDP and ICMP checksums;
 *   Ethernet padding after the IP packet.
 * A checksum is not compared because it follows from the rest (and a guest with
 * checksum offload leaves a partial one); the released frame is the primary's own.
 * OTHER and MALFORMED frames are compared byte for byte, padding included.
 */
#include <stdbool.h>
#include <string.h>

#include "nc_handle.h"

/* Bytes [from, to) of both frames. */
static bool eq(const uint8_t *a, const uint8_t *b, uint32_t from, uint32_t to)
{
    return !memcmp(a + from, b + from, to - from);
}

static const char *ip_header(const uint8_t *a, const uint8_t *b, const struct netcompare_pkt *p)
{
    uint32_t l3 = p->l3_off;

    if (p->flow.family == 4) {
        /* skip identification (4..5) and checksum (10..11) */
        if (!eq(a, b, l3, l3 + 4) || !eq(a, b, l3 + 6, l3 + 10) || !eq(a, b, l3 + 12, p->l4_off))
            return "IPv4 header";
        return NULL;
    }
    /* version and traffic class; the flow label's 20 bits are skipped */
    if (a[l3] != b[l3] || (a[l3 + 1] & 0xf0) != (b[l3 + 1] & 0xf0) || !eq(a, b, l3 + 4, p->l4_off))
        return "IPv6 header";
    return NULL;
}

static const char *tcp(const uint8_t *a, const uint8_t *b, const struct netcompare_pkt *p,
                       const struct netcompare_pkt *s, uint32_t seq_offset)
{
    uint32_t l4 = p->l4_off;

    if (!eq(a, b, l4, l4 + 4))
        return "TCP ports";
    if (p->seq != s->seq + seq_offset)
        return "TCP sequence number";
    if (!eq(a, b, l4 + 8, l4 + 12))
        return "TCP acknowledgement number";
    if (!eq(a, b, l4 + 12, l4 + 16))
        return "TCP flags or window";
    if (!eq(a, b, l4 + 18, l4 + 20))
        return "TCP urgent pointer";
    if (p->ts_off != s->ts_off)
        return "TCP options";
    if (p->ts_off ? !eq(a, b, l4 + 20, p->ts_off) || !eq(a, b, p->ts_off + 8, p->data_off)
                  : !eq(a, b, l4 + 20, p->data_off))
        return "TCP options";
    return NULL;
}

const char *nc_differs(const struct nc_frame *pf, const struct nc_frame *sf, uint32_t seq_offset)
{
    const struct netcompare_pkt *p = &pf->pkt, *s = &sf->pkt;
    const uint8_t *a = pf->data, *b = sf->data;
    const char *why;
    uint32_t l4 = p->l4_off;

    if (p->cls != s->cls)
        return "kind of frame";
    if (p->cls == NETCOMPARE_OTHER || p->cls == NETCOMPARE_MALFORMED)
        return pf->len == sf->len && !memcmp(a, b, pf->len) ? NULL : "bytes";
    if (p->l3_off != s->l3_off || p->l4_off != s->l4_off || p->data_off != s->data_off ||
        p->ip_end != s->ip_end)
        return "header or packet length";
    if (!eq(a, b, 0, p->l3_off))
        return "Ethernet header";
    why = ip_header(a, b, p);
    if (why)
        return why;
    switch (p->cls) {
    case NETCOMPARE_TCP:
        why = tcp(a, b, p, s, seq_offset);
        break;
    case NETCOMPARE_UDP:
        why = eq(a, b, l4, l4 + 6) ? NULL : "UDP header"; /* checksum at 6..7 */
        break;
    default:
        why = eq(a, b, l4, l4 + 2) && eq(a, b, l4 + 4, p->data_off) ? NULL : "ICMP header";
        break;
    }
    if (!why && !eq(a, b, p->data_off, p->ip_end))
        why = "payload";
    return why;
}
