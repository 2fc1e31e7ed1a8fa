/*
 * Engine internals shared by save and restore: one context struct per operation,
 * per-guest-type operation tables, record helpers.
 */
#ifndef SR_COMMON_H
#define SR_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "xenguest_colo.h"
#include "sr_stream_format.h"
#include "xutil.h"

#define PAGE_SHIFT XHV_PAGE_SHIFT
#define PAGE_SIZE  XHV_PAGE_SIZE

#define ERROR(fmt, ...)  xhv_log(ctx->xch, XHV_LOG_ERROR, 0, "xc_sr", fmt, ##__VA_ARGS__)
#define PERROR(fmt, ...) xhv_log(ctx->xch, XHV_LOG_ERROR, errno, "xc_sr", fmt, ##__VA_ARGS__)
#define IPRINTF(fmt, ...) xhv_log(ctx->xch, XHV_LOG_INFO, 0, "xc_sr", fmt, ##__VA_ARGS__)
#define DPRINTF(fmt, ...) xhv_log(ctx->xch, XHV_LOG_DEBUG, 0, "xc_sr", fmt, ##__VA_ARGS__)

/* A record with its body (malloc'd, padded length allocated). */
struct sr_record {
    uint32_t type;
    uint32_t length;
    void *data;
};

/* Return values of restore_ops.process_record besides 0 / -1. */
#define RECORD_NOT_PROCESSED 1
#define BROKEN_CHANNEL       2

struct sr_context;

struct sr_save_ops {
    uint32_t dhdr_type;             /* DHDR_TYPE_X86_HVM or DHDR_TYPE_X86_PV */
    /* Optional hooks of the PAGE_DATA batch (NULL for HVM, where a pfn is the frame Xen
     * knows and pages travel as they are):
     * prepare_batch: before each batch is looked at;
     * pfn_to_gfn: the frame Xen knows pfn by (PV: the mfn from the guest's p2m), or
     *   SR_INVALID_GFN when the pfn has no page (sent as XTAB);
     * get_types: XHV_PFINFO_* types of n gfns;
     * normalise_page: a page-table page (type nibble 1..4, 9..12) copied from src to
     *   dst with its machine frame numbers rewritten to pfns. */
    int (*prepare_batch)(struct sr_context *ctx);
    uint64_t (*pfn_to_gfn)(const struct sr_context *ctx, uint64_t pfn);
    int (*get_types)(struct sr_context *ctx, size_t n, const uint64_t *gfns, uint32_t *types);
    int (*normalise_page)(struct sr_context *ctx, unsigned int type, const void *src, void *dst);
    int (*setup)(struct sr_context *ctx);
    int (*static_data)(struct sr_context *ctx);
    int (*start_of_stream)(struct sr_context *ctx);
    int (*start_of_checkpoint)(struct sr_context *ctx);
    int (*end_of_checkpoint)(struct sr_context *ctx);
    int (*check_vm_state)(struct sr_context *ctx);
    /* Optional, final round (guest suspended): add to the dirty bitmap the pages dom0's
     * backends write through grant mappings, which log-dirty does not see; *count
     * grows by the pages added. */
    void (*mark_backend_pages)(struct sr_context *ctx, unsigned long *bitmap,
                               uint64_t *count);
    int (*cleanup)(struct sr_context *ctx);
};

struct sr_restore_ops {
    bool page_tables;               /* page-table types are valid in PAGE_DATA (PV) */
    /* Optional PAGE_DATA hooks (NULL for HVM, where a pfn is the frame Xen knows):
     * prepare_page_data: populate what the entries need, record their types, and give
     *   the frames (PV: mfns) of the entries that carry data, in entry order;
     * localise_page: a page-table page just written, its pfns turned into frames. */
    int (*prepare_page_data)(struct sr_context *ctx, const uint64_t *entries, uint32_t count,
                             uint64_t *frames);
    int (*localise_page)(struct sr_context *ctx, unsigned int type, void *page);
    bool (*pfn_is_valid)(const struct sr_context *ctx, uint64_t pfn);
    int (*setup)(struct sr_context *ctx);
    /* 0 handled, RECORD_NOT_PROCESSED, or -1. */
    int (*process_record)(struct sr_context *ctx, struct sr_record *rec);
    /* The checks process_record would make, without side effects: 0, RECORD_NOT_PROCESSED
     * (not a record of this type), or -1.  Run on every record of a buffered checkpoint
     * before any of it is applied.  NULL: the guest type's streams are never buffered
     * (plain only), its records are checked as they are processed. */
    int (*check_record)(struct sr_context *ctx, const struct sr_record *rec);
    int (*static_data_complete)(struct sr_context *ctx, unsigned int *missing);
    /* Apply the state gathered so far (context, params): end of stream or checkpoint. */
    int (*stream_complete)(struct sr_context *ctx);
    int (*cleanup)(struct sr_context *ctx);
};

/* A checkpoint copied while the guest is suspended, sent once it runs again. */
struct sr_staging {
    uint8_t *buf;                 /* limit bytes reserved on first use (mmap) */
    size_t limit, used;
    uint64_t nr_pages;            /* of the checkpoint being staged */
    uint64_t staged, sent_suspended;   /* checkpoints, for the statistics */
};

/* Save: checkpoint compression (sr_save_compress.c). */
struct sr_compress {
    bool offered;                 /* CHECKPOINT_COMPRESS written on the stream */
    bool accepted;                /* the secondary answered: COMPRESSED_PAGE_DATA from now */
    bool caching;                 /* every page sent updates the cache */
    bool answer_closed;           /* Remus: the back channel ended, stop polling it */
    /* Copies of the pages last sent, nr_slots of them; a clock picks the victim. */
    uint8_t *slots;
    uint64_t *slot_pfn;
    uint8_t *slot_ref;
    uint32_t *slot_of_pfn;        /* per pfn: slot + 1, 0 when not cached */
    uint32_t nr_slots, nr_used, hand;
    uint8_t *out;                 /* a batch's descriptors and encodings */
    uint32_t *descs;
    uint64_t pages_xor, pages_raw, hits, misses;   /* statistics */
};

struct sr_save_state {
    const struct sr_save_ops *ops;
    struct save_callbacks *callbacks;
    int recv_fd;
    bool live, debug, checkpointed_started;
    bool logdirty_on;             /* this save enabled log-dirty (cleanup turns it off) */
    uint64_t p2m_size;
    unsigned long *dirty_bitmap;
    struct precopy_stats stats;
    /* Current batch. */
    uint64_t *batch_pfns;
    unsigned int nr_batch_pfns;
    unsigned int nr_batch_runs;   /* runs of contiguous pfns: iovecs the batch will need */
    /* Flush buffers, sized once for MAX_BATCH_SIZE. */
    uint32_t *types;
    uint64_t *rec_pfns;
    void **pages;
    void **send_pages;            /* what PAGE_DATA carries: pages, or normalised copies */
    int *errs;
    struct iovec *iov;
    uint64_t *gfns;               /* PV: the batch's frames as Xen knows them */
    void *normalised;             /* PV: MAX_BATCH_SIZE pages of rewritten page tables */
    uint64_t pages_sent;          /* statistics */
    uint64_t batches_sent;
    struct sr_staging staging;
    struct sr_compress compress;
};

struct sr_restore_state {
    const struct sr_restore_ops *ops;
    struct restore_callbacks *callbacks;
    int send_back_fd;
    uint32_t format_version;
    uint32_t guest_type;
    uint32_t xen_major, xen_minor;
    uint64_t p2m_size;
    /* An empty HVM target (Xen builds restore targets with nothing populated): its p2m
     * grows as the stream populates it, until the first checkpoint fixes its size. */
    bool p2m_growable;
    bool seen_static_data_end;
    bool buffer_all_records;       /* after the first CHECKPOINT */
    bool have_whole_checkpoint;    /* a complete checkpoint has been applied */
    unsigned int checkpoints;      /* checkpoints applied */
    struct sr_record *buffered;
    unsigned int nr_buffered, max_buffered;
    size_t buffered_bytes;
    unsigned long *dirty_bitmap;   /* COLO: the secondary's own dirty set */
    xen_pfn_t xenstore_gfn, console_gfn;
    unsigned int store_evtchn, console_evtchn;
    uint32_t store_domid, console_domid;
    bool logdirty_enabled;
    bool dirty_list_sent;          /* COLO: dirty_bitmap is the B the primary has */
    /* A stream check (xc_stream_check): every record is read and checked as a restore
     * would, but nothing is applied and no hypervisor call is made. */
    bool check_only;
    bool failed_over;              /* the stream broke after a whole checkpoint */
    void *discard_page;            /* check_only: where PAGE_DATA contents are read to */
    /* Checkpoint compression: the primary offered it; this restorer said yes (only
     * then is COMPRESSED_PAGE_DATA accepted). */
    bool compress_offered, compress_accepted;
    const struct sr_check_observer *observer;
};

/* A CPU policy from the stream, kept until the static data is complete. */
struct sr_x86_policy {
    void *leaves, *msrs;           /* XHV_CPUID_LEAF_SIZE / XHV_MSR_ENTRY_SIZE entries */
    uint32_t nr_leaves, nr_msrs;
};

struct sr_context {
    xc_interface *xch;
    uint32_t domid;
    int fd;
    xc_stream_type_t stream_type;
    xhv_dominfo_t dominfo;
    /* Save: while set, what the engine writes to fd goes into this staged checkpoint. */
    struct sr_staging *staging;
    union {
        struct sr_save_state save;
        struct sr_restore_state restore;
    };
    /* x86 HVM guest-type state. */
    struct {
        void *context;             /* HVM_CONTEXT blob (restore: stashed until complete) */
        uint32_t context_size;
        struct sr_hvm_params_entry params[HVM_NR_PARAMS];
        unsigned int nr_params;
        bool have_context;
    } hvm;
    struct sr_x86_policy x86_policy;   /* restore */
    /* x86 PV guest-type state (sr_save_x86_pv.c). */
    struct {
        unsigned int width, levels, max_vcpu_id;
        uint64_t shared_info_frame;
        uint64_t p2m_size;         /* p2m entries: pfns 0 .. p2m_size - 1 */
        uint64_t *p2m_mfns;        /* mfns of the pages holding the p2m */
        size_t nr_p2m_frames;
        void **p2m_pages;          /* their read-only foreign mappings */
        int *p2m_errs;
        bool p2m_mapped;
        struct sr_pv_m2p *m2p;     /* (mfn, pfn) sorted by mfn: the reverse of the p2m */
        size_t nr_m2p;
        bool m2p_after_suspend;    /* rebuilt once the guest was suspended */
        /* restore (sr_restore_x86_pv.c) */
        bool seen_pv_info, have_p2m_frames;
        uint64_t max_pfn;          /* highest pfn of the stream's p2m */
        uint64_t *p2m;             /* pfn -> mfn in the new domain, SR_INVALID_GFN: none */
        uint8_t *types;            /* pfn -> type nibble from PAGE_DATA */
        uint64_t *frame_pfns;      /* X86_PV_P2M_FRAMES: the pages holding the p2m */
        size_t nr_frame_pfns;
        uint8_t *shared_info;      /* SHARED_INFO record, applied at the end */
        struct sr_pv_vcpu_blobs *vcpus;
        unsigned int nr_vcpus;
    } x86_pv;
};

#define SR_INVALID_GFN (~(uint64_t)0)
/* Stashed vcpu records, indexed by enum xhv_pv_vcpu_blob. */
struct sr_pv_vcpu_blobs {
    uint8_t *blob[4];
    uint32_t size[4];
};
struct sr_pv_m2p {
    uint64_t mfn, pfn;
};

extern const struct sr_save_ops save_ops_x86_hvm;
extern const struct sr_save_ops save_ops_x86_pv;
extern const struct sr_restore_ops restore_ops_x86_hvm;
extern const struct sr_restore_ops restore_ops_x86_pv;

/* ---- x86 records shared by the x86 guest types (sr_x86.c) ---- */
int write_x86_tsc_info(struct sr_context *ctx);
/* check_*: the record's own checks, without side effects (0, or -1 logged with errno);
 * handle_*: check, then apply or keep it. */
int check_x86_tsc_info(struct sr_context *ctx, const struct sr_record *rec);
int handle_x86_tsc_info(struct sr_context *ctx, struct sr_record *rec);
/* Save: the domain's policy as X86_CPUID_POLICY / X86_MSR_POLICY (none without one). */
int write_x86_cpu_policy_records(struct sr_context *ctx);
/* Restore: check and keep a policy record; apply what was kept (missing: XGR_SDD_*). */
int check_x86_cpu_policy_record(struct sr_context *ctx, const struct sr_record *rec);
int handle_x86_cpu_policy_record(struct sr_context *ctx, struct sr_record *rec);
int apply_x86_cpu_policy(struct sr_context *ctx, unsigned int *missing);
void free_x86_cpu_policy(struct sr_context *ctx);

/* ---- record I/O (sr_stream.c) ---- */
const char *rec_type_to_str(uint32_t type);
/* Header + body + body2 + zero padding in one writev. */
int write_split_record(struct sr_context *ctx, int fd, struct sr_record *rec,
                       const void *body2, size_t body2_len);
/* Write all of iov to fd, or append it to the checkpoint being staged if fd is the
 * stream (ctx->staging). */
int write_stream_iov(struct sr_context *ctx, int fd, struct iovec *iov, int n);
static inline int write_record(struct sr_context *ctx, int fd, struct sr_record *rec)
{
    return write_split_record(ctx, fd, rec, NULL, 0);
}
/* Read one record; rec->data is malloc'd (NULL for length 0).  Returns 0, or -1 with
 * errno: EBADMSG for a bad header or length, ENODATA for EOF at a record boundary,
 * EPIPE for EOF inside a record, or the read error. */
int read_record(struct sr_context *ctx, int fd, struct sr_record *rec);
/* The two halves of read_record: the header (length bounded), then the body. */
int read_record_header(struct sr_context *ctx, int fd, struct sr_rhdr *rhdr);
int read_record_body(struct sr_context *ctx, int fd, const struct sr_rhdr *rhdr,
                     struct sr_record *rec);
/* Read all of iov (loops over partial reads and IOV_MAX); EOF fails with errno 0. */
void free_record(struct sr_record *rec);
int write_headers(struct sr_context *ctx, uint32_t dhdr_type);
int read_headers(struct sr_context *ctx);
/* Write all of iov (loops over partial writes and IOV_MAX). */

/* Page-type predicates for PAGE_DATA entries (type = nibble 0..15). */
bool page_type_is_known(unsigned int type);
bool page_type_to_populate(unsigned int type);
bool page_type_has_stream_data(unsigned int type);

/* ---- checkpoint staging: copy, resume, send (sr_save_staging.c) ---- */
/* The guest is suspended with a checkpoint of nr_pages pages to send: stage it if it
 * can fit (ctx->staging set), or log that it is sent while suspended. */
void staging_begin(struct sr_context *ctx, uint64_t nr_pages);
/* Append to the staged checkpoint; one that outgrows the limit is written out at once
 * and the rest of it goes straight to fd (the guest is still suspended). */
int staging_append(struct sr_context *ctx, const struct iovec *iov, int n);
/* Send the staged checkpoint (the guest runs again); ctx->staging is cleared. */
int staging_send(struct sr_context *ctx);
void staging_cleanup(struct sr_context *ctx);

/* ---- checkpoint compression (sr_save_compress.c, sr_restore_compress.c) ---- */
int compress_setup(struct sr_context *ctx);
void compress_cleanup(struct sr_context *ctx);
/* Write the offer (after the static data) when compression is configured. */
int compress_offer(struct sr_context *ctx);
/* Remus: take the secondary's answer if it is waiting on the back channel. */
int compress_poll_answer(struct sr_context *ctx);
/* A CHECKPOINT_COMPRESS record from the back channel: the secondary's answer. */
int compress_take_answer(struct sr_context *ctx, const struct sr_record *rec);
/* The secondary changed pfn: its copy is no longer the one last sent. */
void compress_forget(struct sr_context *ctx, uint64_t pfn);
/* Write the batch's n entries (nr_data pages at pages[]) as COMPRESSED_PAGE_DATA when
 * the secondary accepted (*written set), and keep the pages as last sent. */
int compress_batch(struct sr_context *ctx, unsigned int n, const uint64_t *entries,
                   unsigned int nr_data, void *const *pages, bool *written);
/* Restore: the records and the answer. */
int restore_compress_offer(struct sr_context *ctx, const struct sr_record *rec);
int restore_compress_answer(struct sr_context *ctx);
int validate_compressed_page_data(struct sr_context *ctx, const struct sr_record *rec,
                                  uint32_t *nr_data);
int apply_compressed_page_data(struct sr_context *ctx, const struct sr_record *rec);
/* PAGE_DATA helpers of sr_restore.c the compressed records share. */
int check_page_entries(struct sr_context *ctx, const uint64_t *entries, uint32_t count,
                       uint32_t *nr_data);
int map_page_data(struct sr_context *ctx, const uint64_t *entries, uint32_t count,
                  uint32_t nr_data, void **pages);

/* COLO back channel (sr_backchannel.c). */
int colo_send_dirty_pfn_list(struct sr_context *ctx, int fd, const unsigned long *bitmap,
                             uint64_t nr_pfns);
/* Read one CHECKPOINT_DIRTY_PFN_LIST from fd and set its pfns in bitmap. */
int colo_merge_dirty_pfn_list(struct sr_context *ctx, int fd, unsigned long *bitmap,
                              uint64_t nr_pfns, uint64_t *merged);


/*
 * Stream check: the restorer's own record loop and checks over a stream, without a
 * domain (xch: a handle of the "none" backend with a logger).  The observer sees each
 * record header as it is read and each body once it is in (PAGE_DATA outside a
 * checkpoint: its header and pfns only); the restorer's messages go to xch's logger.
 * p2m_size 0: the bound of an empty target whose p2m grows (HVM).  Checkpointed
 * streams need cb->checkpoint (and COLO postcopy, wait_checkpoint, suspend), which read
 * the caller's own records from fd.  Returns the restorer's result: 0 (a whole stream,
 * or a failover after a whole checkpoint), -1 with errno.
 */
struct sr_check_observer {
    void (*stream)(void *opaque, uint32_t version, uint32_t guest_type, uint32_t xen_major,
                   uint32_t xen_minor);
    void (*header)(void *opaque, const struct sr_rhdr *rhdr);
    void (*body)(void *opaque, uint32_t type, const void *body, uint32_t length);
    void *opaque;
};
struct sr_check_result {
    unsigned int checkpoints;      /* whole checkpoints */
    bool failed_over;              /* ended by a failover to the last whole checkpoint */
};
int xc_stream_check(xc_interface *xch, int fd, xc_stream_type_t stream_type,
                    uint64_t p2m_size, struct restore_callbacks *cb,
                    const struct sr_check_observer *observer, struct sr_check_result *res);

/* A dirty pfn list record as the primary checks it before merging (sr_backchannel.c). */
int colo_check_dirty_pfn_list(struct sr_context *ctx, const struct sr_record *rec,
                              uint64_t nr_pfns);

#endif /* SR_COMMON_H */
