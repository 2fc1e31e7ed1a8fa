/* Inside the comparison core: byte access, checksums, the keyed table. */
#ifndef NC_INTERNAL_H
#define NC_INTERNAL_H

#include <stdint.h>

#include "netcompare.h"

/* Network byte order, at any alignment. */
static inline uint16_t nc_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t nc_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void nc_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void nc_put32(uint8_t *p, uint32_t v)
{
    nc_put16(p, (uint16_t)(v >> 16));
    nc_put16(p + 2, (uint16_t)v);
}

/* A one's-complement sum of 16-bit words, folded to 16 bits. */
static inline uint16_t nc_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* The TCP checksum field at csum after the 32-bit word at word changed to v: RFC 1624's
 * incremental update, so that the checksum's correctness is kept, not recreated. */
void nc_csum_replace32(uint8_t *csum, uint8_t *word, uint32_t v);

/* Rewrites one parsed TCP frame: seq += seq_delta (OUT) or ack and SACK blocks -=
 * seq_delta (IN). */
void nc_rewrite_tcp(uint8_t *frame, const struct netcompare_pkt *pkt, enum netcompare_dir dir,
                    uint32_t seq_delta);

/*
 * A fixed-capacity table of flow keys: indices 0..cap-1 are slots the caller keeps its
 * own data for.  Chained hashing over a bucket array twice the capacity.
 */
struct nc_table {
    uint32_t cap, nbuckets, used, free_head;
    uint32_t *bucket, *next;
    struct netcompare_flow *keys;
};
#define NC_NONE UINT32_MAX

int nc_table_init(struct nc_table *t, uint32_t cap);
void nc_table_destroy(struct nc_table *t);
uint32_t nc_table_find(const struct nc_table *t, const struct netcompare_flow *key);
/* A new slot for key (not in the table); NC_NONE when full. */
uint32_t nc_table_add(struct nc_table *t, const struct netcompare_flow *key);
void nc_table_del(struct nc_table *t, uint32_t idx);
void nc_table_clear(struct nc_table *t);

/* The key of the connection a frame belongs to, seen from the guest: outbound frames
 * as they are, inbound ones with source and destination swapped. */
void nc_conn_key(const struct netcompare_pkt *pkt, enum netcompare_dir dir,
                 struct netcompare_flow *key);

#endif
