/*
 * A Remus pair on one host: the primary (xc_domain_save of a checkpointed stream, in
 * the calling process) and the secondary (xc_domain_restore, in a forked process that
 * applies every whole checkpoint and never runs the guest), joined by a socketpair, as
 * libxl plays it (libxl_checkpoint.c).  For the failover tests a proxy may cut the
 * stream; the primary then records a digest of the guest at every checkpoint while it
 * is suspended, and the secondary, stopped after the cut, must equal the digest of the
 * last checkpoint it applied whole.  The caller starts the survivor.
 */
#ifndef REMUS_LOCAL_H
#define REMUS_LOCAL_H

#include <stdint.h>

#include "xenguest_colo.h"

struct remus_local_opts {
    uint32_t pvm_domid;       /* running primary */
    uint32_t svm_domid;       /* empty, paused domain of the same size */
    unsigned int store_evtchn, console_evtchn;   /* the secondary's (xc_domain_restore) */
    unsigned int checkpoints; /* stop after this many (0: until the stream breaks) */
    unsigned int interval_ms; /* time between checkpoints */
    /* Fault injection: a proxy cuts the stream after cut_records whole records (with
     * cut_inside in the middle of the next one); count_records: a proxy only counts. */
    int cut;
    unsigned int cut_records;
    int cut_inside;
    int count_records;
    /* Digest the primary at every checkpoint and check the secondary at failover
     * (needs checkpoints, at most REMUS_LOCAL_MAX_CHECKPOINTS). */
    int check_failover;
    void (*at_checkpoint)(unsigned int n, void *opaque);
    void *opaque;
};

#define REMUS_LOCAL_MAX_CHECKPOINTS 64

struct remus_local_result {
    int save_rc;              /* xc_domain_save's return */
    int restore_rc;           /* the secondary's xc_domain_restore return (0 or -1) */
    unsigned int checkpoints; /* the primary's, sent whole */
    unsigned int applied;     /* whole checkpoints the secondary applied */
    unsigned int main_records;   /* records that crossed the stream (up to a cut) */
    /* With check_failover: the secondary is exactly the primary at checkpoint
     * `applied` (1), differs (0: DOMAIN_DIFFERS_* in failover_differs), or was not
     * checked (-1: nothing applied, or the digests could not be taken). */
    int failover_exact;
    unsigned int failover_differs;
    char err[256];            /* why the primary stopped, if it says */
};

/* Runs the pair until the primary stops (its checkpoints done, or the stream broken)
 * and the secondary has the last whole checkpoint; returns 0 if both ended cleanly. */
int remus_local_run(xc_interface *xch, const struct remus_local_opts *opts,
                    struct remus_local_result *res);

#endif
