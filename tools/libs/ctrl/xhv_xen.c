/*
 * The real-Xen backend of xhv, on Debian's libxenctrl, libxenforeignmemory and
 * libxenstore (libxen-dev).  Built when ./configure found them (CONFIG_XEN=1); the
 * stub at the end of this file is built otherwise.
 *
 * This file: domain info, pause, suspend/resume, memory, log-dirty, HVM state, TSC.
 * Beside it: xhv_xen_domain.c (building restore targets, xenstore, rings),
 * xhv_xen_cpu.c (CPU policy), xhv_xen_pv.c (PV guests: p2m, vcpu contexts, pinning).
 *
 * Name clash: xhv.h calls its handle type xc_interface (the engine is written against
 * upstream's names) and so does <xenctrl.h>.  In this file only, xhv.h's typedef is
 * renamed to xhv_xc_interface_t by the macro below; the ABI is the same pointer.
 */
#include "config.h"

#define xc_interface xhv_xc_interface_t
#include "xhv_backend.h"
#undef xc_interface

#include <errno.h>

#if CONFIG_XEN

#include "xhv_xen_priv.h"
#include "xutil.h"

int xen_fail(xhv_t *xch, const char *what, uint32_t domid)
{
    int e = errno ? errno : EIO;

    xhv_log(xch, (e == ESRCH) ? XHV_LOG_DEBUG : XHV_LOG_ERROR, e, what, "domain %u", domid);
    errno = e;
    return -1;
}

static int xen_open(xhv_t *xch)
{
    struct xen_priv *p = calloc(1, sizeof(*p));

    if (!p)
        return -1;
    p->xc = xc_interface_open(NULL, NULL, 0);
    if (!p->xc) {
        xhv_log(xch, XHV_LOG_ERROR, errno, "xhv_open", "xc_interface_open failed (is this "
                "a Xen dom0 with /proc/xen mounted and privcmd loaded?)");
        goto err;
    }
    p->fmem = xenforeignmemory_open(NULL, 0);
    if (!p->fmem) {
        xhv_log(xch, XHV_LOG_ERROR, errno, "xhv_open", "xenforeignmemory_open failed");
        goto err;
    }
    p->hb = (xc_hypercall_buffer_t){ .hbuf = NULL, .param_shadow = NULL,
                                     HYPERCALL_BUFFER_INIT_NO_BOUNCE };
    xch->priv = p;
    return 0;
 err:
    {
        int e = errno;
        if (p->xc)
            xc_interface_close(p->xc);
        free(p);
        errno = e ? e : ENODEV;
    }
    return -1;
}

static void xen_close(xhv_t *xch)
{
    struct xen_priv *p = P(xch);

    if (!p)
        return;
    if (p->hb.hbuf)
        xc__hypercall_buffer_free_pages(p->xc, &p->hb, (int)p->bitmap_pages);
    if (p->xs)
        xs_close(p->xs);
    xenforeignmemory_close(p->fmem);
    xc_interface_close(p->xc);
    free(p);
}

struct xs_handle *xen_xs(xhv_t *xch)
{
    struct xen_priv *p = P(xch);

    if (!p->xs) {
        p->xs = xs_open(0);
        if (!p->xs)
            xhv_log(xch, XHV_LOG_ERROR, errno, "xenstore", "xs_open failed");
    }
    return p->xs;
}

/* ---- domains ----------------------------------------------------------------------- */

static void read_name(xhv_t *xch, uint32_t domid, char *name, size_t len)
{
    char path[64];
    unsigned int n = 0;
    char *v;

    name[0] = 0;
    if (!xen_xs(xch))
        return;
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    v = xs_read(P(xch)->xs, XBT_NULL, path, &n);
    if (v) {
        snprintf(name, len, "%.*s", (int)n, v);
        free(v);
    }
}

static int fill_info(xhv_t *xch, const xc_domaininfo_t *di, xhv_dominfo_t *info)
{
    xen_pfn_t gpfns = 0;

    memset(info, 0, sizeof(*info));
    info->domid = di->domain;
    info->dying = !!(di->flags & XEN_DOMINF_dying);
    info->hvm = !!(di->flags & XEN_DOMINF_hvm_guest);
    info->shutdown = !!(di->flags & XEN_DOMINF_shutdown);
    info->paused = !!(di->flags & XEN_DOMINF_paused);
    info->running = !info->paused && !info->shutdown && !info->dying;
    info->shutdown_reason = (di->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    info->max_pages = di->max_pages;
    info->nr_pages = di->tot_pages;
    if (xc_domain_nr_gpfns(P(xch)->xc, di->domain, &gpfns) == 0)
        info->p2m_size = gpfns;
    read_name(xch, di->domain, info->name, sizeof(info->name));
    memcpy(info->uuid, di->handle, sizeof(info->uuid));
    return 0;
}

static int xen_domain_info(xhv_t *xch, uint32_t domid, xhv_dominfo_t *info)
{
    xc_domaininfo_t di;

    errno = 0;
    if (xc_domain_getinfolist(P(xch)->xc, domid, 1, &di) != 1 || di.domain != domid) {
        errno = ESRCH;
        return xen_fail(xch, "domain_info", domid);
    }
    return fill_info(xch, &di, info);
}

static int xen_domain_list(xhv_t *xch, xhv_dominfo_t *info, int max)
{
    xc_domaininfo_t *di;
    int n, i;

    if (max <= 0)
        return 0;
    di = calloc((size_t)max, sizeof(*di));
    if (!di)
        return -1;
    n = xc_domain_getinfolist(P(xch)->xc, 0, (unsigned int)max, di);
    for (i = 0; i < n; i++)
        fill_info(xch, &di[i], &info[i]);
    free(di);
    return n < 0 ? xen_fail(xch, "domain_list", 0) : n;
}

static int xen_domain_lookup(xhv_t *xch, const char *name, uint32_t *domid)
{
    xhv_dominfo_t info[256];
    int n = xen_domain_list(xch, info, 256);

    for (int i = 0; i < n; i++)
        if (!strcmp(info[i].name, name) && !info[i].dying) {
            *domid = info[i].domid;
            return 0;
        }
    errno = ESRCH;
    return -1;
}

static int xen_domain_rename(xhv_t *xch, uint32_t domid, const char *name)
{
    char path[64];

    if (!xen_xs(xch))
        return -1;
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if (!xs_write(P(xch)->xs, XBT_NULL, path, name, strlen(name)))
        return xen_fail(xch, "domain_rename", domid);
    return 0;
}

static int xen_domain_pause(xhv_t *xch, uint32_t domid)
{
    if (xc_domain_pause(P(xch)->xc, domid))
        return xen_fail(xch, "domain_pause", domid);
    return 0;
}

static int xen_domain_unpause(xhv_t *xch, uint32_t domid)
{
    if (xc_domain_unpause(P(xch)->xc, domid))
        return xen_fail(xch, "domain_unpause", domid);
    return 0;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The guest's own suspend protocol: write "suspend" to control/shutdown (Linux's
 * xenbus watch freezes the guest, which calls SCHEDOP_shutdown(SHUTDOWN_suspend)),
 * then wait for Xen to report the domain shut down with reason suspend.
 */
static int xen_domain_suspend(xhv_t *xch, uint32_t domid, unsigned int timeout_ms)
{
    xhv_dominfo_t info;
    struct timespec t0;
    char path[64];

    if (xen_domain_info(xch, domid, &info))
        return -1;
    if (info.shutdown && info.shutdown_reason == XHV_SHUTDOWN_suspend)
        return 0;
    if (info.shutdown || info.dying) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "domain_suspend", "domain %u is %s (reason %u)",
                domid, info.dying ? "dying" : "shut down", info.shutdown_reason);
        errno = EINVAL;
        return -1;
    }
    if (!xen_xs(xch))
        return -1;
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
    if (!xs_write(P(xch)->xs, XBT_NULL, path, "suspend", 7))
        return xen_fail(xch, "domain_suspend: write control/shutdown", domid);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (xen_domain_info(xch, domid, &info))
            return -1;
        if (info.shutdown && info.shutdown_reason == XHV_SHUTDOWN_suspend)
            return 0;
        if (info.shutdown || info.dying) {
            xhv_log(xch, XHV_LOG_ERROR, 0, "domain_suspend", "domain %u shut down with "
                    "reason %u instead of suspending", domid, info.shutdown_reason);
            errno = EINVAL;
            return -1;
        }
        if (elapsed_ms(&t0) >= (long)timeout_ms)
            break;
        nanosleep(&(struct timespec){ 0, 2 * 1000 * 1000 }, NULL);
    }
    /* Withdraw the request (the guest may not have seen it: no PV control). */
    xs_write(P(xch)->xs, XBT_NULL, path, "", 0);
    xhv_log(xch, XHV_LOG_ERROR, ETIMEDOUT, "domain_suspend", "domain %u did not suspend "
            "within %u ms (does the guest run xenbus with control/shutdown?)", domid,
            timeout_ms);
    errno = ETIMEDOUT;
    return -1;
}

static int resumedomain(xhv_t *xch, uint32_t domid)
{
    struct xen_domctl d;

    xen_domctl_init(&d, XEN_DOMCTL_resumedomain, domid);
    if (xc_domctl(P(xch)->xc, &d))
        return xen_fail(xch, "domain_resume", domid);
    return 0;
}

/*
 * Make the guest's suspend hypercall return 1 ("cancelled"): vcpu 0's rax, through the
 * vcpu context (XEN_DOMCTL_get/setvcpucontext), as upstream does.  Not through the
 * HVM context, as before: that loads every HVM record (LAPIC, timers, TSC, XSAVE...)
 * back into a domain that has run, which hvm_load is not meant for.  Guests resumed
 * that way later triple-faulted when their next save began (3 times on 2026-11-22);
 * not proven to be the cause.
 */
static int set_suspend_cancelled(xhv_t *xch, uint32_t domid, bool hvm)
{
    xc_interface *xc = P(xch)->xc;
    vcpu_guest_context_any_t ctxt;
    unsigned int width = 8;
    uint64_t cb = 0;

    /* An HVM guest without PV drivers has no return code to modify. */
    if (hvm && xc_hvm_param_get(xc, domid, HVM_PARAM_CALLBACK_IRQ, &cb) == 0 && !cb)
        return 0;
    /* HVM vcpus use the hypervisor's (64-bit) layout; PV ones their guest's width. */
    if (!hvm && xc_domain_get_guest_width(xc, domid, &width))
        return xen_fail(xch, "domain_resume: guest width", domid);
    if (xc_vcpu_getcontext(xc, domid, 0, &ctxt))
        return xen_fail(xch, "domain_resume: get vcpu context", domid);
    if (width == 8)
        ctxt.x64.user_regs.rax = 1;
    else
        ctxt.x32.user_regs.eax = 1;
    if (xc_vcpu_setcontext(xc, domid, 0, &ctxt))
        return xen_fail(xch, "domain_resume: set vcpu context", domid);
    return 0;
}

/*
 * A domain that already ran and now resumes into a context it did not save itself
 * (a COLO secondary after its second checkpoint: memory and vcpu state are the
 * primary's) must look fresh to the guest's full resume path: Linux registers its
 * vcpu_info again (Xen refuses a second registration: "register_vcpu_info failed"
 * panic), rebinds its event channels and maps shared info again.  Soft reset (Xen's
 * kexec reset) drops exactly that guest-established state; the toolstack-established
 * part is then put back: the xenstore and console event channels at the ports the
 * HVM params name, xenstored's binding (a second XS_INTRODUCE rebinds) and
 * xenconsoled's (rewriting console/port fires its watch; its port is unbound now).
 */
static int xen_hvm_state_digest(xhv_t *xch, uint32_t domid, uint64_t *digest);

static int soft_reset_for_resume(xhv_t *xch, uint32_t domid)
{
    xc_interface *xc = P(xch)->xc;
    uint64_t store = 0, console = 0, store_gfn = 0, before = 0, after = 0;
    int got_store = 0, got_console = 0, rc = -1, before_ok;
    char path[64], val[16];

    if (xc_hvm_param_get(xc, domid, HVM_PARAM_STORE_EVTCHN, &store) ||
        xc_hvm_param_get(xc, domid, HVM_PARAM_CONSOLE_EVTCHN, &console) ||
        xc_hvm_param_get(xc, domid, HVM_PARAM_STORE_PFN, &store_gfn))
        return xen_fail(xch, "domain_resume: reading params", domid);
    if (xc_domain_pause(xc, domid))
        return xen_fail(xch, "domain_resume: pause", domid);
    before_ok = !xen_hvm_state_digest(xch, domid, &before);
    if (xc_domain_soft_reset(xc, domid)) {
        xen_fail(xch, "domain_resume: soft reset", domid);
        goto out;
    }
    /* The soft reset is meant to drop only what the guest registered (vcpu_info, event
     * channels, grants): say so when it changed the vcpu or platform state too. */
    if (before_ok && !xen_hvm_state_digest(xch, domid, &after) && after != before)
        xhv_log(xch, XHV_LOG_WARN, 0, "domain_resume", "domain %u: the soft reset changed "
                "its vcpu or platform state (HVM context)", domid);
    for (int i = 0; i < 64 && !(got_store && got_console); i++) {
        int port = xc_evtchn_alloc_unbound(xc, domid, 0);

        if (port < 0) {
            xen_fail(xch, "domain_resume: event channel", domid);
            goto out;
        }
        got_store |= (uint64_t)port == store || !store;
        got_console |= (uint64_t)port == console || !console;
    }
    if (!got_store || !got_console) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "domain_resume", "domain %u: could not get event "
                "channels %llu and %llu back after the soft reset", domid,
                (unsigned long long)store, (unsigned long long)console);
        errno = EBUSY;
        goto out;
    }
    if (!xen_xs(xch))
        goto out;
    if (store && !xs_introduce_domain(P(xch)->xs, domid, (unsigned long)store_gfn,
                                      (unsigned int)store)) {
        xen_fail(xch, "domain_resume: xenstore introduce", domid);
        goto out;
    }
    if (console) {
        snprintf(path, sizeof(path), "/local/domain/%u/console/port", domid);
        snprintf(val, sizeof(val), "%llu", (unsigned long long)console);
        xs_write(P(xch)->xs, XBT_NULL, path, val, strlen(val));
    }
    rc = 0;
 out:
    if (xc_domain_unpause(xc, domid) && !rc)
        return xen_fail(xch, "domain_resume: unpause", domid);
    return rc;
}

/*
 * fast=1: cancel the suspend (the guest continues with its Xen state intact, as
 * upstream's cooperative resume); fast=0: resume with the context as it is, so a
 * guest whose context came from a restore runs its full resume path (reconnects).
 * A domain that is not shut down (restored into a paused domain) is just unpaused.
 */
static int xen_domain_resume(xhv_t *xch, uint32_t domid, int fast)
{
    xhv_dominfo_t info;

    if (xen_domain_info(xch, domid, &info))
        return -1;
    if (!info.shutdown)
        return info.paused ? xen_domain_unpause(xch, domid) : 0;
    if (!fast) {
        /* Soft reset resumes the domain itself (after our own pause is dropped). */
        if (soft_reset_for_resume(xch, domid))
            return -1;
    } else if (set_suspend_cancelled(xch, domid, info.hvm) || resumedomain(xch, domid)) {
        return -1;
    }
    /* Tell xenstored (XS_RESUME), as libxl does: it fires @releaseDomain only when a
     * domain's shutdown flag changes, so without this the next suspend of this domain
     * is not announced and upstream libxl's suspend wait times out ("guest did not
     * suspend, timed out") although the guest suspended. */
    if (xen_xs(xch) && !xs_resume_domain(P(xch)->xs, domid))
        xhv_log(xch, XHV_LOG_WARN, errno, "domain_resume", "domain %u: xenstore resume",
                domid);
    return info.paused ? xen_domain_unpause(xch, domid) : 0;
}

/* ---- memory ------------------------------------------------------------------------ */

static int xen_populate(xhv_t *xch, uint32_t domid, const uint64_t *pfns, size_t n)
{
    xen_pfn_t *arr = malloc(n * sizeof(*arr));
    int rc;

    if (!arr)
        return -1;
    for (size_t i = 0; i < n; i++)
        arr[i] = (xen_pfn_t)pfns[i];
    rc = xc_domain_populate_physmap_exact(P(xch)->xc, domid, n, 0, 0, arr);
    free(arr);
    if (rc)
        return xen_fail(xch, "populate", domid);
    return 0;
}

/* Populated RAM of an HVM-type guest is NOTAB; holes and Xen's own pages (shared info,
 * grant frames) are XTAB, as getpageframeinfo3 reports them. */
static int xen_get_pfn_type_batch(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *pfns,
                                  uint32_t *types)
{
    xen_pfn_t arr[GETPFN_BATCH];

    for (size_t done = 0; done < n;) {
        unsigned int k = (unsigned int)(n - done < GETPFN_BATCH ? n - done : GETPFN_BATCH);

        for (unsigned int i = 0; i < k; i++)
            arr[i] = pfns[done + i];
        if (xc_get_pfn_type_batch(P(xch)->xc, domid, k, arr))
            return xen_fail(xch, "get_pfn_type_batch", domid);
        /* Xen writes the type alone over each entry. */
        for (unsigned int i = 0; i < k; i++)
            types[done + i] = (uint32_t)(arr[i] & XEN_DOMCTL_PFINFO_LTAB_MASK);
        done += k;
    }
    return 0;
}

static int xen_map_foreign(xhv_t *xch, uint32_t domid, int prot, const uint64_t *pfns,
                           void **pages, int *errs, size_t n)
{
    char *base;

    if (!n)
        return 0;
    base = xenforeignmemory_map(P(xch)->fmem, domid, prot, n, (const xen_pfn_t *)pfns, errs);
    if (!base)
        return xen_fail(xch, "map_foreign", domid);
    for (size_t i = 0; i < n; i++) {
        pages[i] = base + i * XHV_PAGE_SIZE;
        if (errs[i] < 0)
            errs[i] = -errs[i];
    }
    return 0;
}

static int xen_unmap_foreign(xhv_t *xch, uint32_t domid, void **pages, size_t n)
{
    if (!n)
        return 0;
    if (xenforeignmemory_unmap(P(xch)->fmem, pages[0], n))
        return xen_fail(xch, "unmap_foreign", domid);
    return 0;
}

/* ---- log-dirty --------------------------------------------------------------------- */

static int xen_logdirty(xhv_t *xch, uint32_t domid, enum xhv_logdirty_op op,
                        unsigned long *bitmap, uint64_t nr_pfns, xhv_logdirty_stats_t *stats)
{
    struct xen_priv *p = P(xch);
    xc_shadow_op_stats_t st;
    size_t bytes, pages;
    uint64_t count = 0;
    unsigned long *hb;

    switch (op) {
    case XHV_LOGDIRTY_ENABLE:
        if (xc_shadow_control(p->xc, domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, NULL, 0)) {
            /* Already on (an earlier run that died): restart it with an empty set. */
            xc_shadow_control(p->xc, domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0);
            if (xc_shadow_control(p->xc, domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, NULL, 0))
                return xen_fail(xch, "logdirty enable", domid);
        }
        if (stats)
            stats->dirty_count = 0;
        return 0;
    case XHV_LOGDIRTY_OFF:
        if (xc_shadow_control(p->xc, domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0))
            return xen_fail(xch, "logdirty off", domid);
        return 0;
    case XHV_LOGDIRTY_PEEK:
    case XHV_LOGDIRTY_CLEAN:
    case XHV_LOGDIRTY_CLEAN_FINAL:
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    bytes = ((nr_pfns + 63) / 64) * 8;
    pages = (bytes + XHV_PAGE_SIZE - 1) / XHV_PAGE_SIZE;
    if (!pages)
        pages = 1;
    if (p->bitmap_pages < pages) {
        if (p->hb.hbuf)
            xc__hypercall_buffer_free_pages(p->xc, &p->hb, (int)p->bitmap_pages);
        p->bitmap_pages = 0;
        if (!xc__hypercall_buffer_alloc_pages(p->xc, &p->hb, (int)pages))
            return xen_fail(xch, "logdirty: bitmap buffer", domid);
        p->bitmap_pages = pages;
    }
    hb = p->hb.hbuf;
    memset(hb, 0, bytes);
    if (xc_logdirty_control(p->xc, domid, op == XHV_LOGDIRTY_PEEK
                            ? XEN_DOMCTL_SHADOW_OP_PEEK : XEN_DOMCTL_SHADOW_OP_CLEAN,
                            &p->hb, nr_pfns, op == XHV_LOGDIRTY_CLEAN_FINAL
                            ? XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL : 0, &st) < 0)
        return xen_fail(xch, op == XHV_LOGDIRTY_PEEK ? "logdirty peek" : "logdirty clean",
                        domid);
    for (size_t i = 0; i < bytes / sizeof(unsigned long); i++) {
        if (bitmap)
            bitmap[i] |= hb[i];
        count += (uint64_t)__builtin_popcountl(hb[i]);
    }
    if (stats)
        stats->dirty_count = count;
    return 0;
}

/* ---- vcpu and platform state ------------------------------------------------------- */

static int xen_hvm_getcontext(xhv_t *xch, uint32_t domid, uint8_t *buf, size_t size)
{
    int rc = xc_domain_hvm_getcontext(P(xch)->xc, domid, buf, (uint32_t)size);

    if (rc <= 0) {
        errno = errno ? errno : EIO;
        return xen_fail(xch, "hvm_getcontext", domid);
    }
    return rc;
}

/* The HVM context's records but the timers, the CPU records with their TSC zeroed: what
 * a stopped domain keeps (its TSC runs on, as the timers' counts do). */
static int xen_hvm_state_digest(xhv_t *xch, uint32_t domid, uint64_t *digest)
{
    int len = xc_domain_hvm_getcontext(P(xch)->xc, domid, NULL, 0), rc = -1;
    uint8_t *buf = len > 0 ? malloc((size_t)len) : NULL;
    uint64_t h = FNV1A_INIT;
    size_t off = 0;

    if (!buf || (len = xen_hvm_getcontext(xch, domid, buf, (size_t)len)) <= 0)
        goto out;
    while (off + sizeof(struct hvm_save_descriptor) <= (size_t)len) {
        struct hvm_save_descriptor d;
        const uint8_t *body = buf + off + sizeof(d);

        memcpy(&d, buf + off, sizeof(d));
        if (d.length > (size_t)len - off - sizeof(d)) {
            xhv_log(xch, XHV_LOG_ERROR, EPROTO, "hvm_state_digest", "domain %u: record %u "
                    "at %zu overruns the context", domid, d.typecode, off);
            errno = EPROTO;
            goto out;
        }
        if (d.typecode == HVM_SAVE_CODE(CPU) && d.length >= sizeof(struct hvm_hw_cpu)) {
            struct hvm_hw_cpu cpu;

            memcpy(&cpu, body, sizeof(cpu));
            cpu.tsc = 0;
            h = fnv1a_words(h, &d, sizeof(d));
            h = fnv1a_words(h, &cpu, sizeof(cpu));
            h = fnv1a_words(h, body + sizeof(cpu), d.length - sizeof(cpu));
        } else if (d.typecode != HVM_SAVE_CODE(PIT) && d.typecode != HVM_SAVE_CODE(RTC) &&
                   d.typecode != HVM_SAVE_CODE(HPET) && d.typecode != HVM_SAVE_CODE(PMTIMER)) {
            h = fnv1a_words(h, &d, sizeof(d));
            h = fnv1a_words(h, body, d.length);
        }
        off += sizeof(d) + d.length;
    }
    *digest = h;
    rc = 0;
 out:
    free(buf);
    return rc;
}

static int xen_hvm_setcontext(xhv_t *xch, uint32_t domid, const uint8_t *buf, size_t size)
{
    uint8_t *copy = malloc(size);
    int rc;

    if (!copy)
        return -1;
    memcpy(copy, buf, size);
    rc = xc_domain_hvm_setcontext(P(xch)->xc, domid, copy, (uint32_t)size);
    free(copy);
    if (rc)
        return xen_fail(xch, "hvm_setcontext", domid);
    return 0;
}

static int xen_hvm_param_get(xhv_t *xch, uint32_t domid, uint32_t index, uint64_t *value)
{
    if (xc_hvm_param_get(P(xch)->xc, domid, index, value))
        return xen_fail(xch, "hvm_param_get", domid);
    return 0;
}

static int xen_hvm_param_set(xhv_t *xch, uint32_t domid, uint32_t index, uint64_t value)
{
    if (xc_hvm_param_set(P(xch)->xc, domid, index, value))
        return xen_fail(xch, "hvm_param_set", domid);
    return 0;
}

static int xen_tsc_info_get(xhv_t *xch, uint32_t domid, uint32_t *mode, uint64_t *nsec,
                            uint32_t *khz, uint32_t *incarnation)
{
    if (xc_domain_get_tsc_info(P(xch)->xc, domid, mode, nsec, khz, incarnation))
        return xen_fail(xch, "tsc_info_get", domid);
    return 0;
}

static int xen_tsc_info_set(xhv_t *xch, uint32_t domid, uint32_t mode, uint64_t nsec,
                            uint32_t khz, uint32_t incarnation)
{
    if (xc_domain_set_tsc_info(P(xch)->xc, domid, mode, nsec, khz, incarnation))
        return xen_fail(xch, "tsc_info_set", domid);
    return 0;
}

static int xen_version(xhv_t *xch, uint32_t *major, uint32_t *minor)
{
    int v = xc_version(P(xch)->xc, XENVER_version, NULL);

    if (v < 0)
        return xen_fail(xch, "version", 0);
    *major = (uint32_t)v >> 16;
    *minor = (uint32_t)v & 0xffff;
    return 0;
}

static int xen_sim_status(xhv_t *xch, uint32_t domid, xhv_sim_status_t *st)
{
    (void)xch;
    (void)domid;
    (void)st;
    errno = ENOSYS;
    return -1;
}

const struct xhv_backend_ops xhv_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    .domain_create = xen_domain_create,
    .domain_destroy = xen_domain_destroy,
    .domain_info = xen_domain_info,
    .domain_list = xen_domain_list,
    .domain_lookup = xen_domain_lookup,
    .domain_rename = xen_domain_rename,
    .domain_ports = xen_domain_ports,
    .domain_introduce = xen_domain_introduce,
    .xenstore = xen_xs,
    .domain_pause = xen_domain_pause,
    .domain_unpause = xen_domain_unpause,
    .domain_suspend = xen_domain_suspend,
    .domain_resume = xen_domain_resume,
    .populate = xen_populate,
    .get_pfn_type_batch = xen_get_pfn_type_batch,
    .map_foreign = xen_map_foreign,
    .unmap_foreign = xen_unmap_foreign,
    .logdirty = xen_logdirty,
    .hvm_getcontext = xen_hvm_getcontext,
    .hvm_state_digest = xen_hvm_state_digest,
    .hvm_setcontext = xen_hvm_setcontext,
    .hvm_param_get = xen_hvm_param_get,
    .hvm_param_set = xen_hvm_param_set,
    .tsc_info_get = xen_tsc_info_get,
    .tsc_info_set = xen_tsc_info_set,
    .cpu_policy_get = xen_cpu_policy_get,
    .cpu_policy_set = xen_cpu_policy_set,
    .version = xen_version,
    .sim_status = xen_sim_status,
    .pv_info = xen_pv_info,
    .pv_p2m_frames = xen_pv_p2m_frames,
    .pv_mfn_types = xen_pv_mfn_types,
    .pv_vcpu_get = xen_pv_vcpu_get,
    .pv_populate = xen_pv_populate,
    .pv_pin = xen_pv_pin,
    .pv_vcpu_set = xen_pv_vcpu_set,
    .pv_set_shared_info = xen_pv_set_shared_info,
    .seed_grants = xen_seed_grants,
    .granted_writable = xen_granted_writable,
};

#else /* !CONFIG_XEN: built without libxen-dev */

static int xen_open(xhv_xc_interface_t *xch)
{
    xhv_log(xch, XHV_LOG_ERROR, ENOSYS, "xhv_open",
            "built without Debian's Xen libraries (libxen-dev; see ./configure): the "
            "real-Xen backend is not available; use the simulated hypervisor (\"sim\")");
    errno = ENOSYS;
    return -1;
}

static void xen_close(xhv_xc_interface_t *xch)
{
    (void)xch;
}

const struct xhv_backend_ops xhv_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    /* every other op is NULL: the dispatcher returns ENOSYS */
};

#endif
