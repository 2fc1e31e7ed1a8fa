/*
 * COLO disk replication (tools/libs/diskrep/, docs/disk-replication.md).
 *
 * A primary applies each guest write to its disk and forwards it to the secondary; a
 * checkpoint completes once the secondary has acknowledged everything forwarded before
 * it.  The secondary writes forwarded data to its disk but keeps the contents it
 * overwrites (the hidden layer) and gives its own guest's writes an overlay (the active
 * layer), so that its guest sees the disk as of the last checkpoint plus its own writes.
 * A checkpoint empties both layers; a failover undoes the hidden layer and commits the
 * active one, and the survivor carries on as a primary without a peer, which may then
 * re-synchronise a new secondary.
 *
 * Every call returns 0 or -1 with errno set.  A protocol fault (errno EPROTO) also
 * records a named error (diskrep_last_error) and a message saying what was wrong.
 * One handle may be used from two threads (a serving thread and the guest's I/O); its
 * calls are serialised by the handle.
 */
#ifndef DISKREP_H
#define DISKREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- block devices ------------------------------------------------------------------- */

typedef struct diskrep_dev diskrep_dev;

/* A disk of size bytes on fd (a file or block device; the fd stays the caller's). */
diskrep_dev *diskrep_dev_fd(int fd, uint64_t size);
/* A zero-filled disk in memory. */
diskrep_dev *diskrep_dev_mem(uint64_t size);
void diskrep_dev_close(diskrep_dev *dev);
uint64_t diskrep_dev_size(const diskrep_dev *dev);
/* Whole transfers inside the disk (EINVAL past its end). */
int diskrep_dev_pread(diskrep_dev *dev, void *buf, size_t len, uint64_t off);
int diskrep_dev_pwrite(diskrep_dev *dev, const void *buf, size_t len, uint64_t off);
int diskrep_dev_flush(diskrep_dev *dev);

/* ---- replication --------------------------------------------------------------------- */

enum diskrep_role { DISKREP_PRIMARY, DISKREP_SECONDARY };

/*
 * NONE: created, no I/O (ENOTCONN).  SYNCING: a secondary receiving a whole-disk copy;
 * its guest has no disk yet (ENOTCONN) until the copy's closing checkpoint.  RUNNING:
 * replicating.  FAILED_OVER: no peer; I/O goes straight to the disk (a failed-over
 * secondary is a primary from then on).  STOPPED: no I/O (ESHUTDOWN).
 */
enum diskrep_state {
    DISKREP_NONE,
    DISKREP_SYNCING,
    DISKREP_RUNNING,
    DISKREP_FAILED_OVER,
    DISKREP_STOPPED,
};

/* Zero fields take the defaults in brackets. */
struct diskrep_config {
    uint32_t block_size;         /* layer granularity, power of two 512..65536 [4096];
                                  * the disk's size must be a multiple of it */
    uint32_t active_max_blocks;  /* secondary: blocks its own guest may write between
                                  * checkpoints [4096] */
    uint32_t hidden_max_blocks;  /* secondary: blocks the primary may write between
                                  * checkpoints (their originals are kept) [4096] */
    uint32_t max_io;             /* largest data payload of one message [1 MiB, at most
                                  * 16 MiB]; longer writes are split */
    unsigned int timeout_ms;     /* waits for an answer or the rest of a message [5000] */
};

/*
 * Named errors of the protocol and of its policy.  DISKREP_E_LAYER_FULL is the bound
 * policy: a write that would need a new block in a full layer (the secondary's active
 * layer, or on the primary the secondary's hidden layer as announced in its HELLO)
 * fails with ENOSPC before anything is written, and diskrep_needs_checkpoint() is true
 * until the next checkpoint; the caller forces one and retries.
 */
enum diskrep_error {
    DISKREP_E_NONE = 0,
    DISKREP_E_TRUNCATED_HEADER,
    DISKREP_E_TRUNCATED_PAYLOAD,
    DISKREP_E_BAD_MAGIC,
    DISKREP_E_BAD_VERSION,
    DISKREP_E_UNKNOWN_TYPE,
    DISKREP_E_RESERVED_NONZERO,
    DISKREP_E_OVERSIZED_LENGTH,
    DISKREP_E_BAD_LENGTH,
    DISKREP_E_OFFSET_PAST_END,
    DISKREP_E_RANGE_OVERFLOW,
    DISKREP_E_RANGE_PAST_END,
    DISKREP_E_SEQ_BACKWARDS,
    DISKREP_E_SEQ_GAP,
    DISKREP_E_BAD_STATE,
    DISKREP_E_BAD_GEOMETRY,
    DISKREP_E_HIDDEN_FULL,
    DISKREP_E_BAD_ACK,
    DISKREP_E_PEER_ERROR,
    DISKREP_E_LAYER_FULL,
    DISKREP_E_TIMEOUT,
    DISKREP_E_PEER_CLOSED,
    DISKREP_E_IO,
    DISKREP_E_COUNT
};
/* "truncated-header", ... ; "unknown" outside the enum. */
const char *diskrep_error_name(int code);

typedef struct diskrep diskrep;

/* dev stays the caller's and must outlive the handle. */
diskrep *diskrep_new(enum diskrep_role role, diskrep_dev *dev, const struct diskrep_config *cfg);
void diskrep_free(diskrep *h);

enum diskrep_loglevel { DISKREP_LOG_DEBUG, DISKREP_LOG_INFO, DISKREP_LOG_WARN, DISKREP_LOG_ERROR };
typedef void diskrep_log_fn(void *opaque, enum diskrep_loglevel level, int errnoval,
                            const char *msg);
/* Default: WARN and above to stderr.  A logger set here sees every level. */
void diskrep_set_logger(diskrep *h, diskrep_log_fn *fn, void *opaque);

/*
 * Connect to the peer over rfd/wfd (the same socket twice, or two pipes; they stay the
 * caller's).  Primary: sends HELLO and waits for the secondary's (the disks must already
 * be equal).  Secondary: attaches; the HELLO is read by diskrep_serve.
 */
int diskrep_start(diskrep *h, int rfd, int wfd);
/* Primary, NONE or FAILED_OVER: start toward a new secondary, copying the whole disk,
 * then a checkpoint; RUNNING once acknowledged. */
int diskrep_resync(diskrep *h, int rfd, int wfd);

/* The guest's I/O: a primary's goes to its disk and is forwarded; a secondary's reads
 * its view and writes its active layer. */
int diskrep_read(diskrep *h, void *buf, size_t len, uint64_t off);
int diskrep_write(diskrep *h, const void *buf, size_t len, uint64_t off);

/* Primary: every write so far is on the secondary's disk (FLUSH barrier) / the
 * secondary's view is the primary's disk from now on (CHECKPOINT barrier).  Both wait for
 * the secondary's ACK; call the checkpoint with both guests paused. */
int diskrep_flush(diskrep *h);
int diskrep_checkpoint(diskrep *h);

/* Secondary: one message (1), the peer closed at a message boundary (0), or -1. */
int diskrep_serve_one(diskrep *h);
/* Secondary: messages until the peer closes (0) or a fault (-1). */
int diskrep_serve(diskrep *h);

/* Secondary: the hidden layer is written back and the active layer committed; the
 * handle becomes a primary without a peer.  Primary: the peer is dropped.  Either way
 * FAILED_OVER.  Only from RUNNING (EINVAL: a secondary still receiving its whole-disk
 * copy has no disk to carry on with).  Call it once diskrep_serve has returned. */
int diskrep_failover(diskrep *h);
int diskrep_stop(diskrep *h);

enum diskrep_role diskrep_role(diskrep *h);
enum diskrep_state diskrep_state(diskrep *h);
bool diskrep_needs_checkpoint(diskrep *h);
/* The last named error and its message ("" if none). */
int diskrep_last_error(diskrep *h, const char **msg);

/* One consistent snapshot of the handle. */
struct diskrep_stats {
    enum diskrep_role role;
    enum diskrep_state state;
    bool needs_checkpoint;
    uint64_t checkpoints;
    uint64_t writes_forwarded;   /* primary: WRITE messages sent; secondary: applied */
    uint32_t active_blocks;      /* secondary */
    uint32_t hidden_blocks;      /* secondary */
    uint32_t pending_blocks;     /* primary: distinct blocks forwarded since the checkpoint */
    uint32_t pending_max;        /* primary: the secondary's hidden bound */
};
void diskrep_get_stats(diskrep *h, struct diskrep_stats *st);

#endif /* DISKREP_H */
