/*
 * The save/restore engine's public interface: migration stream v2 with Remus and COLO
 * checkpointing.  Entry points, callbacks and return conventions follow upstream
 * libxenguest's names so that a caller of upstream's engine recognises them.
 */
#ifndef XENGUEST_COLO_H
#define XENGUEST_COLO_H

#include <stdint.h>
#include "xhv.h"

#define XCFLAGS_LIVE  (1 << 0)
#define XCFLAGS_DEBUG (1 << 1)

typedef enum {
    XC_STREAM_PLAIN = 0,
    XC_STREAM_REMUS = 1,
    XC_STREAM_COLO  = 2,
} xc_stream_type_t;

typedef uint64_t xen_pfn_t;

/* Precopy policy (upstream's defaults: at most 5 iterations, or < 50 dirty pages). */
struct precopy_stats {
    unsigned int iteration;
    unsigned long total_written;
    long dirty_count;             /* -1 if unknown */
};
#define XGS_POLICY_ABORT             (-1)
#define XGS_POLICY_CONTINUE_PRECOPY  0
#define XGS_POLICY_STOP_AND_COPY     1
typedef int (*precopy_policy_t)(struct precopy_stats, void *data);
#define XG_PRECOPY_MAX_ITERATIONS   5
#define XG_PRECOPY_TARGET_DIRTY     50

struct save_callbacks {
    /* Suspend the domain.  1: suspended; 0: failed. */
    int (*suspend)(void *data);
    /* Precopy policy; NULL selects the default. */
    precopy_policy_t precopy_policy;
    /* Checkpointed streams, after each checkpoint's records: resume the guest.
     * >0: continue; 0: stop gracefully; <0: error. */
    int (*postcopy)(void *data);
    /* Remus: wait for the next checkpoint; COLO: called after CHECKPOINT to let the
     * caller write its own records.  >0 continue; 0 stop gracefully; <0 error. */
    int (*checkpoint)(void *data);
    /* COLO: block until the next checkpoint is due.  1 continue; 0 stop. */
    int (*wait_checkpoint)(void *data);
    /* Log-dirty for the device model (HVM); 0 OK, -1 fail.  May be NULL. */
    int (*switch_qemu_logdirty)(uint32_t domid, unsigned int enable, void *data);
    /* Progress: called once per batch with pages sent so far in this pass. May be NULL. */
    void (*progress)(const char *what, unsigned long done, unsigned long total, void *data);
    /* Checkpointed streams, optional (NULL: each checkpoint is sent while the guest is
     * suspended): copy, resume, then send.  Each checkpoint after the first is copied
     * (its pages and records) into a staging buffer of at most staging_mib MiB while the
     * guest is suspended; then this resumes the guest, and the staged checkpoint is sent
     * (the same bytes as without).  A checkpoint that does not fit is sent while the
     * guest is suspended, without this call (postcopy resumes it).  >0: continue;
     * 0: stop after sending it; <0: error. */
    int (*resume_staged)(void *data);
    unsigned int staging_mib;     /* 0: XC_CHECKPOINT_STAGING_DEFAULT_MIB */
    /* Checkpointed HVM streams, optional (0: off): offer checkpoint compression
     * (COMPRESSED_PAGE_DATA, docs/stream-format.md).  Checkpoints after the first are
     * compressed only once the secondary accepted on the back channel (recv_fd, which
     * Remus then needs too); without its answer they go as PAGE_DATA.  The last-sent
     * copies are kept for at most compress_cache_mib MiB (0: the default). */
    int checkpoint_compress;
    unsigned int compress_cache_mib;
    void *data;
};
/* A 1 GiB guest's 10 % of pages fits; the buffer is reserved, and grows in use, only
 * once a checkpoint is staged. */
#define XC_CHECKPOINT_STAGING_DEFAULT_MIB 128
/* 8192 pages: a working set that a checkpoint interval rewrites, not the guest. */
#define XC_CHECKPOINT_COMPRESS_DEFAULT_MIB 32

#define XGR_CHECKPOINT_ERROR    0
#define XGR_CHECKPOINT_SUCCESS  1
#define XGR_CHECKPOINT_FAILOVER 2

#define XGR_SDD_MISSING_CPUID (1 << 0)
#define XGR_SDD_MISSING_MSR   (1 << 1)

struct restore_callbacks {
    /* Called at each CHECKPOINT record (Remus and COLO): the caller reads its own
     * records.  XGR_CHECKPOINT_SUCCESS / _FAILOVER / _ERROR. */
    int (*checkpoint)(void *data);
    /* COLO secondary: resume the SVM after a checkpoint was applied.  1 OK, 2 failover. */
    int (*postcopy)(void *data);
    /* COLO secondary: wait for the primary's next checkpoint.  1 OK, 2 failover. */
    int (*wait_checkpoint)(void *data);
    /* COLO secondary: suspend the SVM.  1 OK, 2 failover. */
    int (*suspend)(void *data);
    /* Static data complete; missing: XGR_SDD_MISSING_*.  0 OK. May be NULL. */
    int (*static_data_done)(unsigned int missing, void *data);
    /* COLO secondary, after each applied checkpoint. May be NULL. */
    void (*restore_results)(xen_pfn_t store_gfn, xen_pfn_t console_gfn, void *data);
    void *data;
};

/*
 * Save domain dom to io_fd.  flags: XCFLAGS_*.  recv_fd: the back channel (records
 * from the secondary); used by COLO, and by Remus only with checkpoint_compress.
 * Returns 0 on success (for checkpointed streams: when a callback asked to stop),
 * -1 with errno set otherwise.
 */
int xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom, uint32_t flags,
                   struct save_callbacks *callbacks, xc_stream_type_t stream_type, int recv_fd);

/*
 * Restore into the already-created domain dom from io_fd.  send_back_fd: the back
 * channel (-1 when none): COLO's, and where a Remus secondary accepts compression.  For checkpointed streams the restorer applies a
 * checkpoint only when it is complete; when the stream breaks it leaves the domain
 * in the last complete checkpoint and returns 0 (failover).
 */
int xc_domain_restore(xc_interface *xch, int io_fd, uint32_t dom,
                      unsigned int store_evtchn, xen_pfn_t *store_mfn, uint32_t store_domid,
                      unsigned int console_evtchn, xen_pfn_t *console_mfn, uint32_t console_domid,
                      xc_stream_type_t stream_type, struct restore_callbacks *callbacks,
                      int send_back_fd);

#endif /* XENGUEST_COLO_H */
