/* The replication core's handle, shared by its parts (tools/libs/diskrep/). */
#ifndef DR_INTERNAL_H
#define DR_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "diskrep.h"
#include "dr_layer.h"
#include "dr_wire.h"

struct diskrep {
    pthread_mutex_t lock;
    enum diskrep_role role;
    enum diskrep_state state;
    diskrep_dev *dev;
    struct diskrep_config cfg;       /* defaults filled in */
    uint64_t disk_size, nblocks;

    int rfd, wfd;                    /* -1: no peer */
    uint64_t tx_seq, rx_seq;         /* last message sent / received */
    uint8_t *rxbuf;                  /* one payload: dr_max_payload(cfg.max_io) */

    /* secondary */
    struct dr_layer hidden, active;
    uint8_t *blockbuf;               /* one block */

    /* primary: the blocks forwarded since the last checkpoint, which the secondary's
     * hidden layer holds; pending_max is its bound from the secondary's HELLO */
    unsigned long *pending_map;
    uint64_t *pending_list;
    uint32_t pending_count, pending_max;
    uint32_t peer_max_io;
    int peer_errno;                  /* a forward failed: the next barrier fails */

    bool needs_checkpoint;
    uint64_t checkpoints, writes_forwarded;

    int last_error;
    char last_msg[384];
    diskrep_log_fn *logfn;
    void *logopaque;
};

void dr_log(struct diskrep *h, enum diskrep_loglevel level, int errnoval, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records the named error with its message, logs it, sets errno to err: returns -1. */
int dr_fail(struct diskrep *h, int code, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- messages (dr_conn.c) ---- */
int dr_send(struct diskrep *h, uint16_t type, const void *head, size_t head_len,
            const void *data, size_t data_len);
/* The next message, checked: 1; the peer closed between messages: 0; -1 (dr_fail).
 * first_ms bounds the wait for its first byte (-1: none); the rest is bounded by the
 * handle's timeout. */
int dr_recv(struct diskrep *h, struct dr_msg *msg, int first_ms);
void dr_detach(struct diskrep *h);
/* An ERROR from the peer as a named error (its text made printable). */
int dr_peer_error(struct diskrep *h, const struct dr_msg *msg);

/* ---- the primary (dr_primary.c) ---- */
int dr_primary_start(struct diskrep *h, int rfd, int wfd, bool resync);
int dr_primary_write(struct diskrep *h, const void *buf, size_t len, uint64_t off);
int dr_primary_barrier(struct diskrep *h, uint16_t type);
void dr_primary_forget_pending(struct diskrep *h);

/* ---- the secondary (dr_secondary.c) ---- */
int dr_secondary_read(struct diskrep *h, void *buf, size_t len, uint64_t off);
int dr_secondary_write(struct diskrep *h, const void *buf, size_t len, uint64_t off);
int dr_secondary_apply(struct diskrep *h, const struct dr_msg *msg);
int dr_secondary_failover(struct diskrep *h);

static inline uint64_t dr_first_block(const struct diskrep *h, uint64_t off)
{
    return off / h->cfg.block_size;
}
static inline uint64_t dr_last_block(const struct diskrep *h, uint64_t off, size_t len)
{
    return (off + len - 1) / h->cfg.block_size;
}

#endif
