/*
 * TCP sequence rewriting between the secondary's and the primary's sequence spaces, for
 * the comparison core and for a survivor's path after a failover.  Only the guest's own
 * sequence space differs between the two: what the peer sends is mirrored to both, so
 * outbound only seq moves, inbound only ack and the SACK blocks (which acknowledge the
 * guest's data).
 */
#include <string.h>

#include "nc_internal.h"

void nc_csum_replace32(uint8_t *csum, uint8_t *word, uint32_t v)
{
    uint32_t old = nc_get32(word);
    /* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over each 16-bit half. */
    uint32_t sum = (uint16_t)~nc_get16(csum);

    sum += (uint16_t)~(old >> 16) + (uint16_t)~old;
    sum += (v >> 16) + (v & 0xffff);
    nc_put32(word, v);
    nc_put16(csum, (uint16_t)~nc_csum_fold(sum));
}

void nc_rewrite_tcp(uint8_t *f, const struct netcompare_pkt *pkt, enum netcompare_dir dir,
                    uint32_t delta)
{
    uint8_t *th = f + pkt->l4_off, *csum = th + 16;

    if (dir == NETCOMPARE_OUT) {
        nc_csum_replace32(csum, th + 4, pkt->seq + delta);
        return;
    }
    if (pkt->tcp_flags & NETCOMPARE_TCP_ACK)
        nc_csum_replace32(csum, th + 8, pkt->ack - delta);
    for (uint32_t i = 0; i < 2u * pkt->sack_blocks; i++) {
        uint8_t *edge = f + pkt->sack_off + 4 * i;

        nc_csum_replace32(csum, edge, nc_get32(edge) - delta);
    }
}

void nc_conn_key(const struct netcompare_pkt *pkt, enum netcompare_dir dir,
                 struct netcompare_flow *key)
{
    *key = pkt->flow;
    if (dir == NETCOMPARE_IN) {
        memcpy(key->src, pkt->flow.dst, sizeof(key->src));
        memcpy(key->dst, pkt->flow.src, sizeof(key->dst));
        key->sport = pkt->flow.dport;
        key->dport = pkt->flow.sport;
    }
}

int netcompare_rewrite(const struct netcompare_offset *tab, size_t n, enum netcompare_dir dir,
                       uint8_t *frame, size_t len)
{
    struct netcompare_pkt pkt;
    struct netcompare_flow key;

    netcompare_parse(frame, len, &pkt);
    if (pkt.cls != NETCOMPARE_TCP)
        return 0;
    nc_conn_key(&pkt, dir, &key);
    /* A survivor's table holds the connections opened in one checkpoint interval: few,
     * and a linear search keeps the table a plain array the caller can hand on. */
    for (size_t i = 0; i < n; i++)
        if (!memcmp(&tab[i].flow, &key, sizeof(key))) {
            nc_rewrite_tcp(frame, &pkt, dir, tab[i].seq_offset);
            return 1;
        }
    return 0;
}
