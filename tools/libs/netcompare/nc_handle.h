/* The comparison handle: held frames, flows, connections (nc_core.c, nc_events.c). */
#ifndef NC_HANDLE_H
#define NC_HANDLE_H

#include <stdbool.h>

#include "nc_internal.h"

/* A held frame: on its flow's queue (FIFO) and on its side's arrival-order list. */
struct nc_frame {
    struct nc_frame *fnext;
    struct nc_frame *gprev, *gnext;
    uint32_t flow;       /* index into netcompare.flow */
    uint64_t t;          /* arrival, for the timeout */
    struct netcompare_pkt pkt;
    uint32_t len;
    uint8_t data[];
};

struct nc_queue {
    struct nc_frame *head, *tail;
    uint32_t frames;
    uint64_t bytes;
};

struct nc_flow {
    struct nc_queue q[2];  /* by enum netcompare_side */
    bool diverged;         /* heads differed: nothing more is compared until a checkpoint */
};

struct netcompare {
    struct netcompare_limits lim;
    struct netcompare_ops ops;
    struct nc_table flows;     /* slot i is flow[i]; flow[max_flows] is the byte queue */
    struct nc_flow *flow;
    struct nc_table conns;     /* slot i has offset conn_off[i] */
    uint32_t *conn_off;
    struct nc_frame *ghead[2], *gtail[2];
    unsigned int wanted;
    char reason[256];
    bool failed_over;
    struct netcompare_stats st;
};

/* NULL if the secondary's frame s equals the primary's p for COLO (s's sequence numbers
 * shifted by seq_offset), else what differs (nc_match.c). */
const char *nc_differs(const struct nc_frame *p, const struct nc_frame *s, uint32_t seq_offset);

/* Frees a frame after taking it off its queue and its list. */
void nc_frame_drop(netcompare *nc, struct nc_frame *f, enum netcompare_side side);
/* Empties every queue, flow and connection (checkpoint, failover). */
void nc_reset(netcompare *nc);
/* "tcp 10.0.0.1:80 > 10.0.0.2:5000" into buf. */
void nc_flow_name(const struct netcompare_pkt *pkt, char *buf, size_t size);

#endif
