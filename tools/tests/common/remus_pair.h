/*
 * A live Remus pair on the simulated hypervisor for engine tests and the compression
 * bench: the primary saves in this process, the secondary restores in a child, and a
 * thread between them captures the main stream so that its records can be counted.
 * Checkpoints are sent while the primary is suspended unless staged.
 */
#ifndef TEST_REMUS_PAIR_H
#define TEST_REMUS_PAIR_H

#include <stdint.h>

#include "domain_compare.h"
#include "xhv.h"

#define REMUS_PAIR_MAX_CHECKPOINTS 64

struct remus_pair_opts {
    const char *program;          /* the guest program (xen/guest/) */
    uint64_t pages, prog_arg, rate;
    unsigned int checkpoints, interval_ms;
    int compress;                 /* save_callbacks.checkpoint_compress */
    int back_channel;             /* the primary gets one (Remus hears answers there) */
    int silent_secondary;         /* the restorer is not given it: it never answers, as
                                     a restorer that does not know compression */
    int keep;                     /* keep the stream and every checkpoint's snapshot */
    int staged;                   /* copy, resume, send (save_callbacks.resume_staged) */
};

struct remus_pair_result {
    int save_rc, restore_rc;
    unsigned int checkpoints;     /* whole ones in the captured stream */
    /* Main-stream bytes of each checkpoint (from the record after one CHECKPOINT to
     * the next CHECKPOINT, inclusive), and its pages. */
    uint64_t bytes[REMUS_PAIR_MAX_CHECKPOINTS], pages[REMUS_PAIR_MAX_CHECKPOINTS];
    unsigned int page_data, compressed, offers;   /* records of each type */
    long diff;                    /* secondary vs the primary's last checkpoint, or -1 */
    int selfcheck_ok;             /* the secondary, run after failover, checks itself */
    /* With keep: the main stream as sent, and the primary at checkpoint n in snaps[n-1]
     * (remus_pair_free releases them). */
    uint8_t *stream;
    size_t stream_len;
    struct snapshot snaps[REMUS_PAIR_MAX_CHECKPOINTS];
    unsigned int nr_snaps;
};

int remus_pair_run(xc_interface *xch, const struct remus_pair_opts *o,
                   struct remus_pair_result *res);
void remus_pair_free(struct remus_pair_result *res);
/* The secondary's side: a Remus restore of fd into target (libxl's CHECKPOINT_END read
 * after each CHECKPOINT), answering an offer on back_fd (-1: none). */
int remus_pair_restore(xc_interface *xch, int fd, uint32_t target, int back_fd);

#endif
