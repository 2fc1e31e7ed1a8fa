/*
 * Frame classification.  The frame comes from a guest, so nothing in it is trusted:
 * every length, header length and option length is checked against what precedes it
 * before any byte it covers is read.  A frame that fails a check is MALFORMED, one that
 * is well formed but not compared field by field is OTHER; both carry the reason.
 */
#include <string.h>

#include "nc_internal.h"

enum {
    ETH_HLEN = 14,
    VLAN_HLEN = 4,
    ETH_P_IP = 0x0800,
    ETH_P_IPV6 = 0x86dd,
    ETH_P_8021Q = 0x8100,
    ETH_P_8021AD = 0x88a8,
    ETH_P_MIN = 0x0600, /* below: an 802.3 length field */
    IP4_HLEN = 20,
    IP6_HLEN = 40,
    TCP_HLEN = 20,
    UDP_HLEN = 8,
    ICMP4_HLEN = 8,
    ICMP6_HLEN = 4,
    PROTO_ICMP = 1,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
    PROTO_ICMPV6 = 58,
    TCPOPT_EOL = 0,
    TCPOPT_NOP = 1,
    TCPOPT_SACK = 5,
    TCPOPT_TS = 8,
    TCPOLEN_TS = 10,
};

/* Returns 0 so that a classification can end a function: return set(...). */
static int set(struct netcompare_pkt *pkt, enum netcompare_class cls, const char *why)
{
    pkt->cls = cls;
    pkt->why = why;
    return 0;
}

/* The options of the TCP header at h (hlen bytes, already known to be in the frame). */
static const char *tcp_options(const uint8_t *h, uint32_t hlen, uint32_t base,
                               struct netcompare_pkt *pkt)
{
    uint32_t off = TCP_HLEN;

    while (off < hlen) {
        uint8_t kind = h[off], olen;

        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP) {
            off++;
            continue;
        }
        if (off + 2 > hlen)
            return "TCP option length byte past the header";
        olen = h[off + 1];
        if (olen < 2)
            return "TCP option length below 2";
        if (olen > hlen - off)
            return "TCP option overruns the header";
        if (kind == TCPOPT_TS) {
            if (olen != TCPOLEN_TS)
                return "TCP timestamp option of the wrong length";
            if (pkt->ts_off)
                return "two TCP timestamp options";
            pkt->ts_off = base + off + 2;
        } else if (kind == TCPOPT_SACK) {
            if (olen < 10 || (olen - 2) % 8)
                return "TCP SACK option of the wrong length";
            if (pkt->sack_off)
                return "two TCP SACK options";
            pkt->sack_off = base + off + 2;
            pkt->sack_blocks = (uint8_t)((olen - 2) / 8);
        }
        off += olen;
    }
    return NULL;
}

/* The transport header at l4_off; the IP packet ends at pkt->ip_end. */
static int transport(const uint8_t *f, struct netcompare_pkt *pkt)
{
    uint32_t l4 = pkt->l4_off, avail = pkt->ip_end - l4;
    const uint8_t *h = f + l4;
    const char *why;

    switch (pkt->flow.proto) {
    case PROTO_TCP: {
        uint32_t hlen;

        if (avail < TCP_HLEN)
            return set(pkt, NETCOMPARE_MALFORMED, "truncated TCP header");
        hlen = (uint32_t)(h[12] >> 4) * 4;
        if (hlen < TCP_HLEN)
            return set(pkt, NETCOMPARE_MALFORMED, "TCP data offset below 5");
        if (hlen > avail)
            return set(pkt, NETCOMPARE_MALFORMED, "TCP data offset past the packet");
        why = tcp_options(h, hlen, l4, pkt);
        if (why)
            return set(pkt, NETCOMPARE_MALFORMED, why);
        pkt->flow.sport = nc_get16(h);
        pkt->flow.dport = nc_get16(h + 2);
        pkt->seq = nc_get32(h + 4);
        pkt->ack = nc_get32(h + 8);
        pkt->tcp_flags = h[13];
        pkt->data_off = l4 + hlen;
        return set(pkt, NETCOMPARE_TCP, NULL);
    }
    case PROTO_UDP:
        if (avail < UDP_HLEN)
            return set(pkt, NETCOMPARE_MALFORMED, "truncated UDP header");
        if (nc_get16(h + 4) != avail)
            return set(pkt, NETCOMPARE_MALFORMED, "UDP length disagrees with the IP length");
        pkt->flow.sport = nc_get16(h);
        pkt->flow.dport = nc_get16(h + 2);
        pkt->data_off = l4 + UDP_HLEN;
        return set(pkt, NETCOMPARE_UDP, NULL);
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
        uint32_t min = pkt->flow.proto == PROTO_ICMP ? ICMP4_HLEN : ICMP6_HLEN;

        if ((pkt->flow.proto == PROTO_ICMP) != (pkt->flow.family == 4))
            return set(pkt, NETCOMPARE_OTHER, "ICMP of the other IP version");
        if (avail < min)
            return set(pkt, NETCOMPARE_MALFORMED, "truncated ICMP header");
        pkt->data_off = l4 + min;
        return set(pkt, NETCOMPARE_ICMP, NULL);
    }
    default:
        return set(pkt, NETCOMPARE_OTHER, "IP protocol not compared by field");
    }
}

static int ipv4(const uint8_t *f, size_t len, struct netcompare_pkt *pkt)
{
    uint32_t l3 = pkt->l3_off, ihl, total;
    const uint8_t *h = f + l3;

    if (len - l3 < IP4_HLEN)
        return set(pkt, NETCOMPARE_MALFORMED, "truncated IPv4 header");
    if (h[0] >> 4 != 4)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv4 ethertype, other IP version");
    ihl = (uint32_t)(h[0] & 0xf) * 4;
    if (ihl < IP4_HLEN)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv4 header length below 5");
    if (ihl > len - l3)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv4 header length past the frame");
    total = nc_get16(h + 2);
    if (total < ihl)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv4 total length below the header length");
    if (total > len - l3)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv4 total length past the frame");
    pkt->ip_end = l3 + total;
    pkt->l4_off = l3 + ihl;
    pkt->flow.family = 4;
    pkt->flow.proto = h[9];
    memcpy(pkt->flow.src, h + 12, 4);
    memcpy(pkt->flow.dst, h + 16, 4);
    /* A fragment's transport header is elsewhere (or nowhere). */
    if (nc_get16(h + 6) & 0x3fff)
        return set(pkt, NETCOMPARE_OTHER, "IPv4 fragment");
    return transport(f, pkt);
}

static int ipv6(const uint8_t *f, size_t len, struct netcompare_pkt *pkt)
{
    uint32_t l3 = pkt->l3_off, plen;
    const uint8_t *h = f + l3;

    if (len - l3 < IP6_HLEN)
        return set(pkt, NETCOMPARE_MALFORMED, "truncated IPv6 header");
    if (h[0] >> 4 != 6)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv6 ethertype, other IP version");
    plen = nc_get16(h + 4);
    if (plen > len - l3 - IP6_HLEN)
        return set(pkt, NETCOMPARE_MALFORMED, "IPv6 payload length past the frame");
    pkt->ip_end = l3 + IP6_HLEN + plen;
    pkt->l4_off = l3 + IP6_HLEN;
    pkt->flow.family = 6;
    pkt->flow.proto = h[6];
    memcpy(pkt->flow.src, h + 8, 16);
    memcpy(pkt->flow.dst, h + 24, 16);
    /* Extension headers (and jumbograms, whose length is in one) are not walked: such
     * packets are rare from a guest and byte-compared whole. */
    if (plen == 0)
        return set(pkt, NETCOMPARE_OTHER, "IPv6 jumbogram or empty payload");
    if (h[6] != PROTO_TCP && h[6] != PROTO_UDP && h[6] != PROTO_ICMPV6)
        return set(pkt, NETCOMPARE_OTHER,
                   "IPv6 extension header or protocol not compared by field");
    return transport(f, pkt);
}

/* The Ethernet header and its tag; the rest by ethertype. */
static int ethernet(const uint8_t *f, size_t len, struct netcompare_pkt *pkt)
{
    uint16_t type;

    if (len > NETCOMPARE_MAX_FRAME)
        return set(pkt, NETCOMPARE_MALFORMED, "longer than any Ethernet frame");
    if (len < ETH_HLEN)
        return set(pkt, NETCOMPARE_MALFORMED, "shorter than an Ethernet header");
    pkt->l3_off = ETH_HLEN;
    type = nc_get16(f + 12);
    if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
        if (len < ETH_HLEN + VLAN_HLEN)
            return set(pkt, NETCOMPARE_MALFORMED, "truncated 802.1Q tag");
        pkt->flow.vlan = nc_get16(f + 14) & 0x0fff;
        type = nc_get16(f + 16);
        pkt->l3_off = ETH_HLEN + VLAN_HLEN;
        if (type == ETH_P_8021Q || type == ETH_P_8021AD)
            return set(pkt, NETCOMPARE_OTHER, "stacked VLAN tags");
    }
    if (type < ETH_P_MIN)
        return set(pkt, NETCOMPARE_OTHER, "802.3 length field, not an ethertype");
    if (type == ETH_P_IP)
        return ipv4(f, len, pkt);
    if (type == ETH_P_IPV6)
        return ipv6(f, len, pkt);
    return set(pkt, NETCOMPARE_OTHER, "not IP");
}

void netcompare_parse(const uint8_t *f, size_t len, struct netcompare_pkt *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    pkt->flow.vlan = NETCOMPARE_NO_VLAN;
    (void)ethernet(f, len, pkt);
}

const char *netcompare_class_name(enum netcompare_class cls)
{
    switch (cls) {
    case NETCOMPARE_TCP:
        return "tcp";
    case NETCOMPARE_UDP:
        return "udp";
    case NETCOMPARE_ICMP:
        return "icmp";
    case NETCOMPARE_OTHER:
        return "other";
    case NETCOMPARE_MALFORMED:
        return "malformed";
    }
    return "unknown";
}
