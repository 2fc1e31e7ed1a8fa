/*
 * The libxl side of a checkpointed stream (Remus and COLO), as libxl plays it around
 * the engine: the primary's suspend / postcopy / checkpoint / wait_checkpoint and the
 * secondary's checkpoint / postcopy / wait_checkpoint / suspend, with the libxl records
 * (CHECKPOINT_END, CHECKPOINT_STATE) on the main stream and the back channel.  Used
 * in-process by the local COLO pair (colo_local.c) and, through libxl-save-helper's
 * messages, by the libxl API (libxl_remus.c, libxl_colo_restore.c).  Return values are
 * the engine's.
 */
#ifndef LIBXL_CHECKPOINT_H
#define LIBXL_CHECKPOINT_H

#include <stdint.h>

#include "xenguest_colo.h"

struct ckpt_primary {
    xc_interface *xch;
    uint32_t domid;
    int main_fd, recv_fd;
    int colo;                      /* COLO: the back channel handshake */
    unsigned int interval_ms;      /* time between checkpoints */
    unsigned int max_checkpoints;  /* 0: until an error or *stop */
    volatile int *stop;            /* set (e.g. by a signal) to stop gracefully */
    /* COLO: the secondary is lost when a back-channel record does not arrive within
     * this many ms (0: wait forever). */
    unsigned int timeout_ms;
    /* Called while the domain is suspended with checkpoint n's state (before resume,
     * before the checkpoint is sent when it is staged). */
    void (*at_checkpoint)(unsigned int n, void *opaque);
    /* Called in postcopy: checkpoint n is on its way, and the COLO secondary has it
     * (SVM_READY), whether the primary already runs (staged) or not. */
    void (*checkpoint_sent)(unsigned int n, void *opaque);
    void *opaque;
    /* COLO with a compare proxy (libxl_colo_proxy.h): between checkpoints, wait for
     * the interval or the proxy's "DO_CHECKPOINT", whichever comes first. */
    int have_proxy, proxy_fd;
    unsigned int proxy_requests;   /* checkpoints the proxy asked for */
    /* state */
    int svm_running;
    int resumed_staged;            /* resumed before this checkpoint was sent */
    unsigned int checkpoints;      /* checkpoints sent (whole) */
    unsigned int staged;           /* of them, sent while the guest ran (staged) */
    /* Downtime (suspend .. resumed) of the checkpoints after the first (the first is a
     * live migration): count, sum and maximum, in nanoseconds. */
    uint64_t suspended_at;
    unsigned int downtimes;
    uint64_t downtime_ns_total, downtime_ns_max, downtime_ns_last;
    char err[256];                 /* the reason of the last failure */
};

int ckpt_primary_suspend(void *data);
/* save_callbacks.resume_staged: the guest runs before its checkpoint is sent; postcopy
 * then completes the checkpoint without resuming. */
int ckpt_primary_resume_staged(void *data);
int ckpt_primary_postcopy(void *data);
int ckpt_primary_checkpoint(void *data);
int ckpt_primary_wait_checkpoint(void *data);

struct ckpt_secondary {
    xc_interface *xch;
    uint32_t domid;
    int main_fd, back_fd;
    int colo;
    /* The primary is lost when the rest of a checkpoint (CHECKPOINT_END) or, COLO, the
     * next checkpoint (NEW) does not arrive within this many ms (0: wait forever). */
    unsigned int timeout_ms;
    /* COLO: called after a checkpoint was applied, both sides stopped; 0 to go on. */
    int (*after_apply)(unsigned int n, void *opaque);
    /* COLO: the SVM's devices, disconnected at each suspend (NULL: none handled). */
    struct libxl__ctx *devices;
    void *opaque;
    /* state */
    unsigned int applied;          /* whole checkpoints received */
    int svm_suspended;
    char err[256];
};

int ckpt_secondary_checkpoint(void *data);
int ckpt_secondary_postcopy(void *data);
int ckpt_secondary_wait_checkpoint(void *data);
int ckpt_secondary_suspend(void *data);


#endif
