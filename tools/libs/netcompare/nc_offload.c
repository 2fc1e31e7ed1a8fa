/*
 * Frames as the wire carries them, from frames a packet socket hands over with the
 * kernel's offload state (PACKET_VNET_HDR): a guest's netfront and a veth send TCP
 * with the checksum left for the hardware, and in segments up to 64 KiB for it to cut.
 * The comparison and the clients need what would have gone out: checksums filled in,
 * segments of at most gso_size bytes of payload.  Two guests in lock step cut their
 * streams alike; where they do not, the comparison sees it as a mismatch.
 */
#include "nc_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The one's-complement sum of p[0..n), added to sum (not folded). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += nc_get16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

/* The TCP checksum of the segment at l4 (l4_len bytes) under its IP header. */
static uint16_t tcp_checksum(const uint8_t *frame, const struct netcompare_pkt *pk, size_t l4_len)
{
    uint32_t s = 0;

    if (pk->flow.family == 4)
        s = sum16(frame + pk->l3_off + 12, 8, 0);          /* source, destination */
    else
        s = sum16(frame + pk->l3_off + 8, 32, 0);
    s += 6 + (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
    return (uint16_t)~nc_csum_fold(sum16(frame + pk->l4_off, l4_len, s));
}

/* A partial checksum: the field holds the pseudo-header's sum, the rest is summed. */
static int complete_checksum(const struct netcompare_vnet_hdr *vh, uint8_t *frame, size_t len)
{
    size_t at = (size_t)vh->csum_start + vh->csum_offset;

    if (vh->csum_start >= len || at + 2 > len || vh->csum_offset & 1) {
        errno = EPROTO;
        return -1;
    }
    nc_put16(frame + at, (uint16_t)~nc_csum_fold(sum16(frame + vh->csum_start, len - vh->csum_start, 0)));
    return 0;
}

static int segment_tcp(const struct netcompare_vnet_hdr *vh, uint8_t *frame, size_t len,
                       netcompare_emit_fn *emit, void *opaque)
{
    struct netcompare_pkt pk;
    uint8_t *seg = NULL;
    size_t hdr, payload, off;
    uint32_t seq;
    uint16_t ipid = 0;
    uint8_t flags;

    netcompare_parse(frame, len, &pk);
    if (pk.cls != NETCOMPARE_TCP || !vh->gso_size) {
        errno = EPROTO;
        return -1;
    }
    hdr = pk.data_off;
    payload = pk.ip_end - pk.data_off;
    seq = pk.seq;
    flags = frame[pk.l4_off + 13];
    if (pk.flow.family == 4)
        ipid = nc_get16(frame + pk.l3_off + 4);
    seg = malloc(hdr + vh->gso_size);
    if (!seg)
        return -1;
    for (off = 0; off < payload || (off == 0 && payload == 0); off += vh->gso_size) {
        size_t n = payload - off < vh->gso_size ? payload - off : vh->gso_size;
        int last = off + n >= payload;
        uint8_t f = flags;

        memcpy(seg, frame, hdr);
        memcpy(seg + hdr, frame + hdr + off, n);
        if (!last)
            f &= (uint8_t)~(NETCOMPARE_TCP_FIN | 0x08 /* PSH */);
        if (off)
            f &= (uint8_t)~0x80;                         /* CWR on the first only */
        seg[pk.l4_off + 13] = f;
        nc_put32(seg + pk.l4_off + 4, seq + (uint32_t)off);
        if (pk.flow.family == 4) {
            size_t ihl = pk.l4_off - pk.l3_off;

            nc_put16(seg + pk.l3_off + 2, (uint16_t)(hdr - pk.l3_off + n));
            nc_put16(seg + pk.l3_off + 4, (uint16_t)(ipid + off / vh->gso_size));
            nc_put16(seg + pk.l3_off + 10, 0);
            nc_put16(seg + pk.l3_off + 10, (uint16_t)~nc_csum_fold(sum16(seg + pk.l3_off, ihl, 0)));
        } else {
            nc_put16(seg + pk.l3_off + 4, (uint16_t)(hdr - pk.l3_off - 40 + n));
        }
        nc_put16(seg + pk.l4_off + 16, 0);
        nc_put16(seg + pk.l4_off + 16, tcp_checksum(seg, &pk, hdr - pk.l4_off + n));
        emit(opaque, seg, hdr + n);
        if (last)
            break;
    }
    free(seg);
    return 0;
}

int netcompare_finish(const struct netcompare_vnet_hdr *vh, uint8_t *frame, size_t len,
                      netcompare_emit_fn *emit, void *opaque)
{
    uint8_t gso = vh->gso_type & (uint8_t)~NETCOMPARE_GSO_ECN;

    if (len > NETCOMPARE_MAX_FRAME) {
        errno = EMSGSIZE;
        return -1;
    }
    if (gso == NETCOMPARE_GSO_TCPV4 || gso == NETCOMPARE_GSO_TCPV6)
        return segment_tcp(vh, frame, len, emit, opaque);
    if (gso != NETCOMPARE_GSO_NONE) {
        errno = EPROTO;                 /* UDP fragmentation offload: not cut here */
        return -1;
    }
    if ((vh->flags & NETCOMPARE_VNET_NEEDS_CSUM) && complete_checksum(vh, frame, len))
        return -1;
    emit(opaque, frame, len);
    return 0;
}
