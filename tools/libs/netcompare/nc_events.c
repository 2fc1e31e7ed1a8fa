/*
 * What COLO's events do to the comparison state: a checkpoint (the secondary becomes the
 * primary's copy), a failover (one guest is gone), and the inbound path (frames from the
 * network to both guests, the secondary's in its own sequence space).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nc_handle.h"

/* Releases side's held frames in arrival order, rewriting each TCP frame of a
 * connection with an offset (the survivor's frames after a failover). */
static void release_all(netcompare *nc, enum netcompare_side side, bool rewrite)
{
    while (nc->ghead[side]) {
        struct nc_frame *f = nc->ghead[side];

        if (rewrite && f->pkt.cls == NETCOMPARE_TCP) {
            uint32_t i = nc_table_find(&nc->conns, &f->pkt.flow);

            if (i != NC_NONE)
                nc_rewrite_tcp(f->data, &f->pkt, NETCOMPARE_OUT, nc->conn_off[i]);
        }
        nc->ops.release(nc->ops.opaque, f->data, f->len);
        nc_frame_drop(nc, f, side);
    }
}

int netcompare_checkpoint(netcompare *nc)
{
    int rc = -1;

    if (nc->failed_over) {
        errno = ESHUTDOWN;
        goto out;
    }
    /* The primary's state that produced these frames is what the secondary is given. */
    nc->st.released_at_checkpoint += nc->st.held_frames;
    release_all(nc, NETCOMPARE_PRIMARY, false);
    nc->st.released_at_checkpoint -= nc->st.held_frames;
    nc->st.dropped_at_checkpoint += nc->st.held_frames;
    /* The rest is the secondary's, from a state it is leaving; its connections' sequence
     * numbers become the primary's, so the offsets go too (nc_reset). */
    nc_reset(nc);
    nc->wanted = 0;
    nc->reason[0] = '\0';
    nc->st.checkpoints++;
    rc = 0;
out:
    return rc;
}

int netcompare_failover(netcompare *nc, enum netcompare_side survivor,
                        struct netcompare_offset **tab, size_t *n)
{
    struct netcompare_offset *t = NULL;
    size_t k = 0;
    int rc = -1;

    *tab = NULL;
    *n = 0;
    if (nc->failed_over) {
        errno = ESHUTDOWN;
        goto out;
    }
    if (survivor == NETCOMPARE_SECONDARY && nc->conns.used) {
        t = calloc(nc->conns.used, sizeof(*t));
        if (!t) {
            errno = ENOMEM;
            goto out;
        }
        for (uint32_t b = 0; b < nc->conns.nbuckets; b++)
            for (uint32_t i = nc->conns.bucket[b]; i != NC_NONE; i = nc->conns.next[i])
                if (nc->conn_off[i]) {
                    t[k].flow = nc->conns.keys[i];
                    t[k++].seq_offset = nc->conn_off[i];
                }
    }
    /* The survivor's unmatched frames are output its state produced that the network
     * has not seen; the lost guest's are not. */
    release_all(nc, survivor, survivor == NETCOMPARE_SECONDARY);
    nc_reset(nc);
    nc->failed_over = true;
    *tab = t;
    *n = k;
    rc = 0;
out:
    return rc;
}

int netcompare_inbound(const netcompare *nc, const uint8_t *frame, size_t len, uint8_t *sec,
                       size_t cap)
{
    struct netcompare_pkt pkt;
    struct netcompare_flow key;
    uint32_t i;
    int rc = -1;

    if (len > NETCOMPARE_MAX_FRAME || cap < len) {
        errno = len > NETCOMPARE_MAX_FRAME ? EMSGSIZE : ENOSPC;
        goto out;
    }
    memcpy(sec, frame, len);
    netcompare_parse(sec, len, &pkt);
    if (pkt.cls == NETCOMPARE_TCP) {
        nc_conn_key(&pkt, NETCOMPARE_IN, &key);
        i = nc_table_find(&nc->conns, &key);
        if (i != NC_NONE)
            nc_rewrite_tcp(sec, &pkt, NETCOMPARE_IN, nc->conn_off[i]);
    }
    rc = 0;
out:
    return rc;
}
