/*
 * A COLO pair on one host: the primary (xc_domain_save, in the calling process) and
 * the secondary (xc_domain_restore, in a forked process), joined by a socketpair for
 * the main stream and one for the back channel, with the libxl-level handshake
 * (CHECKPOINT_END, CHECKPOINT_STATE NEW / SVM_SUSPENDED / SVM_READY / SVM_RESUMED)
 * played as libxl plays it.  Used by the demo and the COLO tests; the two-host path
 * through xl and the save helper is built on the same records.
 */
#ifndef COLO_LOCAL_H
#define COLO_LOCAL_H

#include <stdint.h>

#include "xenguest_colo.h"

/* Reported by the secondary after it applied a checkpoint, before it resumes: the SVM
 * is stopped, and compared with the PVM as the PVM was at that checkpoint. */
struct colo_checkpoint_report {
    uint32_t checkpoint;      /* 1, 2, ... */
    int32_t diff;             /* pages (+1 if the contexts differ) where SVM != PVM */
    uint64_t first_pfn;       /* first differing pfn, or UINT64_MAX */
    uint64_t svm_dirty;       /* |B|: pages the SVM dirtied in the epoch before */
    uint64_t svm_steps;       /* guest steps the SVM has executed */
};

struct colo_local_opts {
    uint32_t pvm_domid;       /* running primary */
    uint32_t svm_domid;       /* empty, paused domain of the same size */
    unsigned int checkpoints; /* stop after this many */
    unsigned int interval_ms; /* time between checkpoints */
    /* Compare SVM and PVM at every checkpoint: the SVM against a snapshot of the PVM
     * taken while it was suspended with the checkpoint's state (it may run again before
     * the SVM has the checkpoint). */
    int compare;
    /* Instead, this comparison (differing pages, first one in *first_pfn, or -1) of the
     * live PVM, which then stays suspended until the SVM has applied the checkpoint
     * (no staging).  Real Xen passes a batched one that skips Xen's own pages. */
    long (*compare_fn)(xc_interface *xch, uint32_t pvm, uint32_t svm, uint64_t *first_pfn);
    /* Checkpoints are staged (save_callbacks.resume_staged) unless send_suspended;
     * staging_mib: the staging limit (0: the engine's default). */
    int send_suspended;
    unsigned int staging_mib;
    /* Fault injection for tests: a proxy on the back channel empties every dirty pfn
     * list, so the primary sends A only. */
    int drop_dirty_list;
    /* Fault injection for tests: a proxy cuts a channel (both directions, as a dead
     * peer or link does) after cut_records whole records, or with cut_inside in the
     * middle of the next one.  The secondary fails over and reports its state.
     * count_records: proxies that only count the records of both channels. */
    enum { COLO_CUT_NONE, COLO_CUT_MAIN, COLO_CUT_BACK } cut_channel;
    unsigned int cut_records;
    int cut_inside;
    int count_records;
    /* The secondary digests itself whenever it stops (a whole-memory digest each time)
     * and at failover compares (colo_local_result.failover_exact). */
    int check_failover;
    /* A compare proxy's control connection (colo-vif-proxy --control-socket), or -1
     * (a zero-initialised opts has none: proxy_fd is used only with have_proxy): a
     * checkpoint is taken when the interval elapsed or the proxy asked for one, and the
     * proxy is told COLO_CHECKPOINT while both guests are stopped with the checkpoint's
     * state (the SVM has it), so it releases what the primary sent before. */
    int have_proxy, proxy_fd;
    void (*report)(const struct colo_checkpoint_report *r, void *opaque);
    void *opaque;
};

struct colo_local_result {
    int save_rc;              /* xc_domain_save's return */
    int restore_rc;           /* the secondary's xc_domain_restore return */
    unsigned int reports;     /* checkpoints reported */
    /* Primary downtime (suspend .. resumed) of the checkpoints after the first (the
     * first is a live migration): count, sum and maximum, in nanoseconds. */
    unsigned int downtimes;
    uint64_t downtime_ns_total, downtime_ns_max;
#define COLO_LOCAL_MAX_DOWNTIMES 256
    uint64_t downtime_ns[COLO_LOCAL_MAX_DOWNTIMES];   /* each of the first ones, in order */
    unsigned int staged;      /* checkpoints sent while the primary ran again */
    unsigned int proxy_requests;  /* checkpoints the compare proxy asked for */
    /* Records that crossed each channel (with a cut: up to the cut). */
    unsigned int main_records, back_records;
    /* The secondary at failover: where it was (COLO_SVM_*), the checkpoint of that
     * state, and (with check_failover) whether it is exactly the state it had there
     * when it was stopped (1), differs (0), or ran since or was not checked (-1). */
    int failover_phase;
    unsigned int failover_checkpoint;
    int failover_exact;
    unsigned int failover_differs;   /* when not exact: DOMAIN_DIFFERS_* (domain_compare.h) */
};

#define COLO_SVM_RUNNING   0   /* resumed after checkpoint failover_checkpoint */
#define COLO_SVM_SUSPENDED 1   /* suspended for the next checkpoint, nothing applied */
#define COLO_SVM_APPLIED   2   /* checkpoint failover_checkpoint applied, not resumed */

/* Runs the pair to completion; returns 0 if both sides ended cleanly. */
int colo_local_run(xc_interface *xch, const struct colo_local_opts *opts,
                   struct colo_local_result *res);

#endif
