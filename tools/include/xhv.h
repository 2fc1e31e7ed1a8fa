/*
 * xhv: the narrow hypervisor interface the toolstack is written against.
 *
 * It is shaped by what real Xen offers (libxenctrl, libxenforeignmemory): domain
 * info, pause/unpause, suspend with a shutdown reason, log-dirty enable/peek/clean,
 * foreign mapping, populate, HVM context and params, TSC info.  Two backends
 * implement it: the embedded simulated hypervisor (xen/) and real Xen (libxenctrl).
 * Names carry the xhv_ prefix so that a backend file may include Debian's
 * <xenctrl.h> without clashes.
 *
 * Every function returns 0 (or a count) on success and -1 with errno set on failure.
 */
#ifndef XHV_H
#define XHV_H

#include <stddef.h>
#include <stdint.h>

#define XHV_PAGE_SHIFT 12
#define XHV_PAGE_SIZE  (1UL << XHV_PAGE_SHIFT)

/* Shutdown reasons (values as in Xen's public sched.h). */
#define XHV_SHUTDOWN_poweroff 0
#define XHV_SHUTDOWN_reboot   1
#define XHV_SHUTDOWN_suspend  2
#define XHV_SHUTDOWN_crash    3

/* Page types reported by xhv_get_pfn_type_batch, already in the stream's nibble
 * position (bits 28..31 of a 32-bit type, as XEN_DOMCTL_PFINFO_*). */
#define XHV_PFINFO_NOTAB 0x0U
#define XHV_PFINFO_XTAB  (0xfU << 28)   /* no page at this pfn */

typedef struct xhv_handle xc_interface;

typedef struct xhv_dominfo {
    uint32_t domid;
    unsigned int paused:1, shutdown:1, dying:1, hvm:1, running:1;
    unsigned int shutdown_reason;
    uint64_t max_pages;       /* pages the domain may hold */
    uint64_t nr_pages;        /* pages populated */
    uint64_t p2m_size;        /* highest gfn + 1 (xc_domain_nr_gpfns) */
    char name[64];
    uint8_t uuid[16];         /* Xen: the domain handle; sim: zero */
} xhv_dominfo_t;

typedef struct xhv_logdirty_stats {
    uint64_t dirty_count;     /* pages reported dirty by this operation */
} xhv_logdirty_stats_t;

enum xhv_logdirty_op {
    XHV_LOGDIRTY_ENABLE,      /* start tracking with an empty dirty set */
    XHV_LOGDIRTY_OFF,         /* stop tracking */
    XHV_LOGDIRTY_PEEK,        /* read the dirty set, leave it as it is */
    XHV_LOGDIRTY_CLEAN,       /* read and clear the dirty set atomically */
    /* CLEAN with the domain paused or suspended, for the last look at its dirty set:
     * also reports the pages the hypervisor itself keeps mapped writable in the guest
     * (Xen writes them without marking them dirty; XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL). */
    XHV_LOGDIRTY_CLEAN_FINAL,
};

/* ---- handle ---------------------------------------------------------------------------- */

/*
 * Open a handle.  backend: "sim" (the simulated hypervisor in $SIMXEN_DIR, default
 * /dev/shm/simxen), "xen" (real Xen, when built with libxen-dev), or NULL for
 * $XHV_BACKEND, defaulting to "sim".  A sim handle runs the log-dirty probe once and
 * fails (errno ENOTSUP, message on stderr) when the kernel's tracker does not report
 * a page that was just written.
 */
xc_interface *xhv_open(const char *backend);
void xhv_close(xc_interface *xch);
const char *xhv_backend_name(xc_interface *xch);

/* ---- domains --------------------------------------------------------------------------- */

/* Configuration for creating a domain. */
struct xhv_sim_guest;
typedef struct xhv_domain_config {
    char name[64];
    uint64_t max_pages;           /* guest RAM in pages, special pages excluded */
    /* The simulated hypervisor's guest program (xhv_sim.h); NULL: an empty domain that
     * a restore will fill.  Real Xen builds restore targets only, and refuses one. */
    const struct xhv_sim_guest *sim;
    int start_paused;             /* 1: created paused (restore targets) */
    /* Real Xen builds restore targets only (empty, paused domains a stream will fill): */
    int guest_type;               /* XHV_GUEST_* */
    unsigned int max_vcpus;       /* 0 means 1 */
    uint8_t uuid[16];             /* the domain handle (all zero: left zero) */
} xhv_domain_config_t;

/* Guest types (xhv_domain_config_t.guest_type; the simulated hypervisor has one kind). */
#define XHV_GUEST_PVH 0
#define XHV_GUEST_PV  1
#define XHV_GUEST_HVM 2

int xhv_domain_create(xc_interface *xch, const xhv_domain_config_t *cfg, uint32_t *domid);
int xhv_domain_destroy(xc_interface *xch, uint32_t domid);
int xhv_domain_info(xc_interface *xch, uint32_t domid, xhv_dominfo_t *info);
/* Fill up to max entries; returns the number of domains. */
int xhv_domain_list(xc_interface *xch, xhv_dominfo_t *info, int max);
int xhv_domain_lookup(xc_interface *xch, const char *name, uint32_t *domid);
int xhv_domain_rename(xc_interface *xch, uint32_t domid, const char *name);

/*
 * The event channels of a restore target's xenstore and console rings: on Xen unbound
 * ports with dom0 at the other end, allocated by xhv_domain_create (also in xenstore,
 * store/port and console/port); the restore writes them into the guest.
 */
int xhv_domain_ports(xc_interface *xch, uint32_t domid, unsigned int *store_port,
                     unsigned int *console_port);
/*
 * After a restore into a domain xhv_domain_create made, connect the restored rings (the
 * gfns xc_domain_restore returned, whose grant entries the restore seeded) to xenstored
 * and xenconsoled: on Xen store/ring-ref and console/ring-ref are written and the domain
 * is introduced to xenstored.  The simulated hypervisor has nothing to connect.
 */
int xhv_domain_introduce(xc_interface *xch, uint32_t domid, uint64_t store_gfn,
                         uint64_t console_gfn);

/*
 * The backend's connection to xenstored (opened on first use, closed with the handle),
 * for the toolstack's devices: NULL with errno ENOSYS on the simulated hypervisor,
 * which has no xenstore.
 */
struct xs_handle;
struct xs_handle *xhv_xenstore(xc_interface *xch);

/* Pause is synchronous: when it returns, the domain's vcpus no longer run. */
int xhv_domain_pause(xc_interface *xch, uint32_t domid);
int xhv_domain_unpause(xc_interface *xch, uint32_t domid);

/*
 * Ask the guest to suspend itself (Xen: control/shutdown = "suspend").  Returns when
 * the domain is shut down with reason SHUTDOWN_suspend and its vcpu context is
 * saved, or fails with ETIMEDOUT after timeout_ms.
 */
int xhv_domain_suspend(xc_interface *xch, uint32_t domid, unsigned int timeout_ms);
/*
 * Resume a suspended domain.  fast=1: the suspend is cancelled and the guest
 * continues where it stopped (checkpointing); fast=0: the guest resumes as after a
 * restore (it re-reads its context and runs its resume path).
 */
int xhv_domain_resume(xc_interface *xch, uint32_t domid, int fast);

/* ---- memory ---------------------------------------------------------------------------- */

int xhv_populate(xc_interface *xch, uint32_t domid, const uint64_t *pfns, size_t n);

/* types[i] = the type (XHV_PFINFO_*) of pfns[i]; the pfns are full 64-bit frame numbers
 * (the types do not share their bits, unlike xc_get_pfn_type_batch's in/out array). */
int xhv_get_pfn_type_batch(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *pfns,
                           uint32_t *types);

/*
 * Map n guest pages of domid.  pages[i] receives the address of pfns[i], errs[i] 0 or
 * an errno (ENOENT: not populated).  The mapping stays valid until
 * xhv_unmap_foreign with the same arrays.  prot is PROT_READ or PROT_READ|PROT_WRITE.
 * Returns 0 if the call itself worked (check errs), -1 otherwise.
 */
int xhv_map_foreign(xc_interface *xch, uint32_t domid, int prot, const uint64_t *pfns,
                    void **pages, int *errs, size_t n);
int xhv_unmap_foreign(xc_interface *xch, uint32_t domid, void **pages, size_t n);

/* ---- log-dirty ------------------------------------------------------------------------- */

/*
 * bitmap: one bit per pfn, nr_pfns bits (may be NULL for ENABLE/OFF).  Bits of pages
 * found dirty are set; other bits are left unchanged (callers clear first), so a
 * caller may OR several results together.  stats may be NULL.
 */
int xhv_logdirty(xc_interface *xch, uint32_t domid, enum xhv_logdirty_op op,
                 unsigned long *bitmap, uint64_t nr_pfns, xhv_logdirty_stats_t *stats);

/* ---- vcpu and platform state ----------------------------------------------------------- */

/* Copy the HVM context blob into buf.  buf NULL: return the size needed. Returns size. */
int xhv_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *buf, size_t size);
int xhv_hvm_setcontext(xc_interface *xch, uint32_t domid, const uint8_t *buf, size_t size);
/* A digest of the vcpu and platform state (the HVM context) without what moves on with
 * time while a domain is stopped, so that two digests of a stopped domain agree unless
 * its state was changed: real Xen leaves out the timers (PIT, RTC, HPET, PM timer
 * records) and the TSC of the CPU records; the simulated hypervisor digests its whole
 * context. */
int xhv_hvm_state_digest(xc_interface *xch, uint32_t domid, uint64_t *digest);

int xhv_hvm_param_get(xc_interface *xch, uint32_t domid, uint32_t index, uint64_t *value);
int xhv_hvm_param_set(xc_interface *xch, uint32_t domid, uint32_t index, uint64_t value);

int xhv_tsc_info_get(xc_interface *xch, uint32_t domid, uint32_t *mode, uint64_t *elapsed_nsec,
                     uint32_t *khz, uint32_t *incarnation);
int xhv_tsc_info_set(xc_interface *xch, uint32_t domid, uint32_t mode, uint64_t elapsed_nsec,
                     uint32_t khz, uint32_t incarnation);

/*
 * The domain's x86 CPU policy, in the stream's layouts: CPUID leaves of
 * XHV_CPUID_LEAF_SIZE bytes {u32 leaf, subleaf, a, b, c, d} and MSR entries of
 * XHV_MSR_ENTRY_SIZE bytes {u32 idx, flags; u64 val}.  get: *nr_leaves / *nr_msrs give
 * the buffers' capacity and return the counts; NULL buffers return the largest counts
 * the hypervisor may report.  The simulated CPU has no policy: ENOSYS.
 */
#define XHV_CPUID_LEAF_SIZE 24
#define XHV_MSR_ENTRY_SIZE  16
int xhv_cpu_policy_get(xc_interface *xch, uint32_t domid, void *leaves, uint32_t *nr_leaves,
                       void *msrs, uint32_t *nr_msrs);
int xhv_cpu_policy_set(xc_interface *xch, uint32_t domid, const void *leaves,
                       uint32_t nr_leaves, const void *msrs, uint32_t nr_msrs);

/* Xen version the hypervisor reports (for the stream's domain header). */
int xhv_version(xc_interface *xch, uint32_t *major, uint32_t *minor);

/* ---- PV guests (real backend only; sim: ENOSYS) --------------------------------------- */

/*
 * A PV guest's memory is known to Xen by machine frame numbers (mfns): the guest keeps
 * its own pfn -> mfn table (the p2m) and its page tables hold mfns.  For foreign
 * mapping the "gfn" of a PV guest is the mfn, so xhv_map_foreign maps mfns here.
 */
typedef struct xhv_pv_info {
    unsigned int guest_width;     /* bytes per guest word: 8 (64-bit) or 4 (32-bit) */
    unsigned int pt_levels;       /* paging levels: 4 (64-bit) or 3 (32-bit PAE) */
    unsigned int max_vcpu_id;
    uint64_t shared_info_frame;   /* mfn of the guest's shared info page */
} xhv_pv_info_t;

int xhv_pv_info(xc_interface *xch, uint32_t domid, xhv_pv_info_t *info);

/*
 * The guest's p2m as the guest publishes it in its shared info (the frame list list,
 * a three-level tree of mfns).  *p2m_size receives the number of p2m entries (highest
 * pfn + 1); frames[] the mfns of the pages that hold the entries, in pfn order
 * (guest_width bytes per entry).  frames NULL: only the count.  Returns the number of
 * frames (more than max: E2BIG, nothing written to frames).
 */
int xhv_pv_p2m_frames(xc_interface *xch, uint32_t domid, uint64_t *p2m_size, uint64_t *frames,
                      size_t max);

/* types[i] = XHV_PFINFO_* type (nibble at bit 28) of machine frame mfns[i]; frames the
 * domain does not own are XTAB. */
int xhv_pv_mfn_types(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *mfns,
                     uint32_t *types);

/*
 * Per-vcpu state blobs, in Xen's own layouts (the migration stream carries them as they
 * are, after the toolstack's mfn -> pfn rewriting of BASIC):
 *   BASIC     vcpu_guest_context for the guest's width (x86-64: 5168 bytes)
 *   EXTENDED  XEN_DOMCTL_get_ext_vcpucontext's structure, its own size field's length
 *   XSAVE     XEN_DOMCTL_getvcpuextstate's buffer (xcr0, xcr0_accum, xsave area);
 *             0 bytes when the vcpu has no xsave state
 *   MSRS      {u32 index, u32 reserved, u64 value}[]; 0 bytes when no MSR is set
 * buf NULL: returns the size needed.  Otherwise returns the size written (E2BIG when
 * size is too small).
 */
enum xhv_pv_vcpu_blob {
    XHV_PV_VCPU_BASIC,
    XHV_PV_VCPU_EXTENDED,
    XHV_PV_VCPU_XSAVE,
    XHV_PV_VCPU_MSRS,
};
int xhv_pv_vcpu_get(xc_interface *xch, uint32_t domid, uint32_t vcpu,
                    enum xhv_pv_vcpu_blob which, uint8_t *buf, size_t size);

/* Restoring a PV guest into a fresh domain (no memory yet). */

/* Allocate a page for each of pfns[0..n): mfns[i] receives its machine frame. */
int xhv_pv_populate(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *pfns,
                    uint64_t *mfns);
/* Pin page tables: mfns[i] as a level levels[i] (1..4) table; Xen validates each. */
int xhv_pv_pin(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *mfns,
               const unsigned int *levels);
/* Load a vcpu blob (layouts as xhv_pv_vcpu_get; BASIC with machine frames). */
int xhv_pv_vcpu_set(xc_interface *xch, uint32_t domid, uint32_t vcpu,
                    enum xhv_pv_vcpu_blob which, const uint8_t *buf, size_t size);
/*
 * Take a saved shared info page (4096 bytes) into the domain's own: its vcpu_info and
 * arch parts; no p2m frame list (the guest publishes a new one when it resumes), no
 * event pending, every event channel masked (the guest unmasks what it binds again).
 */
int xhv_pv_set_shared_info(xc_interface *xch, uint32_t domid, const uint8_t *page,
                           size_t size);
/*
 * The pages of an HVM/PVH domain that another domain has mapped writable through its
 * grant table right now (a backend's shared rings): set in bitmap (pfn space, nbits),
 * *added counts the new bits.  Writes through such a mapping are invisible to
 * log-dirty.  ENOSYS on the simulated hypervisor (it has no grant table).
 */
int xhv_granted_writable(xc_interface *xch, uint32_t domid, unsigned long *bitmap,
                         uint64_t nbits, uint64_t *added);
/* Grant entries 0 and 1 of the domain's (v1) grant table for the console and xenstore
 * rings, which the backends map through them (xenstored's introduce fails without
 * entry 1).  The restore seeds them for every guest type, as upstream's does; frames
 * are gfns for HVM-type guests and mfns for PV.  A zero frame leaves its entry alone. */
int xhv_seed_grants(xc_interface *xch, uint32_t domid, uint64_t console_mfn,
                       uint32_t console_domid, uint64_t store_mfn, uint32_t store_domid);

/* ---- logging --------------------------------------------------------------------------- */

enum xhv_loglevel { XHV_LOG_DEBUG, XHV_LOG_INFO, XHV_LOG_WARN, XHV_LOG_ERROR };
typedef void xhv_log_fn(void *opaque, enum xhv_loglevel level, int errnoval,
                        const char *context, const char *msg);
/* Default: messages at INFO and above to stderr ($XHV_LOGLEVEL=debug for more). */
void xhv_set_logger(xc_interface *xch, xhv_log_fn *fn, void *opaque);
void xhv_log(xc_interface *xch, enum xhv_loglevel level, int errnoval, const char *context,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* XHV_H */
