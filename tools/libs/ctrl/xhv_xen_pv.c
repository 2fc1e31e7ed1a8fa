/*
 * The real-Xen backend's PV-guest operations (xhv.h, "PV guests"): guest width, the
 * guest's p2m frames as published in its shared info, machine frame types and the
 * per-vcpu state blobs.  Everything here reads the domain; nothing changes it.
 *
 * Only built with Debian's Xen libraries (CONFIG_XEN); without them the ops table in
 * xhv_xen.c has no PV entries and the dispatcher returns ENOSYS.
 */
#include "config.h"

#define xc_interface xhv_xc_interface_t
#include "xhv_backend.h"
#undef xc_interface

#include <errno.h>

#if CONFIG_XEN

#include <sys/mman.h>

#include "xhv_xen_priv.h"
#include "xutil.h"
#include <xen/grant_table.h>
#include <xen/memory.h>

/* The engine (sr_stream_format.h) describes the x86-64 vcpu context by these sizes. */
_Static_assert(sizeof(vcpu_guest_context_x86_64_t) == 5168, "x86-64 PV vcpu context layout");
_Static_assert(sizeof(xen_domctl_vcpu_msr_t) == 16, "PV vcpu MSR entry layout");

/* Frame list entries are guest words; the tree is at most three pages wide per level. */
#define FPP(width) (XHV_PAGE_SIZE / (width))

static int getinfo(xhv_t *xch, uint32_t domid, xc_domaininfo_t *di)
{
    errno = 0;
    if (xc_domain_getinfolist(P(xch)->xc, domid, 1, di) != 1 || di->domain != domid) {
        errno = ESRCH;
        return xen_fail(xch, "pv: domain info", domid);
    }
    if (di->flags & XEN_DOMINF_hvm_guest) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "pv", "domain %u is not a PV guest", domid);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int xen_pv_info(xhv_t *xch, uint32_t domid, xhv_pv_info_t *info)
{
    xc_domaininfo_t di;
    unsigned int width = 0;

    if (getinfo(xch, domid, &di))
        return -1;
    if (xc_domain_get_guest_width(P(xch)->xc, domid, &width))
        return xen_fail(xch, "pv: guest width", domid);
    if (width != 8 && width != 4) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "pv", "domain %u: unexpected guest width %u", domid,
                width);
        errno = EINVAL;
        return -1;
    }
    memset(info, 0, sizeof(*info));
    info->guest_width = width;
    /* Xen 4.17 runs 64-bit PV guests with 4 levels and 32-bit ones with PAE (3). */
    info->pt_levels = width == 8 ? 4 : 3;
    info->max_vcpu_id = di.max_vcpu_id;
    info->shared_info_frame = di.shared_info_frame;
    return 0;
}

/* Read guest words [0, n) of a mapped page of the given width. */
static uint64_t word(const void *page, unsigned int width, size_t i)
{
    return width == 8 ? ((const uint64_t *)page)[i] : ((const uint32_t *)page)[i];
}

static void *map_mfns(xhv_t *xch, uint32_t domid, const xen_pfn_t *mfns, size_t n,
                      const char *what)
{
    int *errs = calloc(n, sizeof(*errs));
    void *p;

    if (!errs)
        return NULL;
    p = xenforeignmemory_map(P(xch)->fmem, domid, PROT_READ, n, mfns, errs);
    if (!p) {
        xen_fail(xch, what, domid);
    } else {
        for (size_t i = 0; i < n; i++)
            if (errs[i]) {
                xhv_log(xch, XHV_LOG_ERROR, errs[i] < 0 ? -errs[i] : errs[i], what,
                        "domain %u: mfn %#llx", domid, (unsigned long long)mfns[i]);
                xenforeignmemory_unmap(P(xch)->fmem, p, n);
                p = NULL;
                errno = EFAULT;
                break;
            }
    }
    free(errs);
    return p;
}

/*
 * The p2m tree: shared info's arch.pfn_to_mfn_frame_list_list is the mfn of a page of
 * mfns of "frame list" pages, whose entries are the mfns of the p2m pages.  Linux builds
 * it at boot and keeps it while it runs, unless the domain builder told it (SIF_VIRT_
 * P2M_4TOOLS) that the tools read the virtually mapped p2m instead (then the field is
 * ~0); upstream's libxl does not, and this backend does not walk the virtual one.
 */
int xen_pv_p2m_frames(xhv_t *xch, uint32_t domid, uint64_t *p2m_size, uint64_t *frames,
                      size_t max)
{
    xhv_pv_info_t info;
    xen_pfn_t fn;
    shared_info_t *shinfo = NULL;
    void *fll = NULL, *mid = NULL;
    xen_pfn_t *mids = NULL;
    uint64_t size, fll_mfn, nframes, nmid;
    unsigned int w;
    int rc = -1;

    if (xen_pv_info(xch, domid, &info))
        return -1;
    w = info.guest_width;
    if (w != 8) {
        /* The 32-bit shared info has another layout; no 32-bit guest to test with. */
        xhv_log(xch, XHV_LOG_ERROR, 0, "pv_p2m_frames", "domain %u is a 32-bit PV guest: "
                "only 64-bit PV guests are supported", domid);
        errno = EOPNOTSUPP;
        return -1;
    }
    fn = (xen_pfn_t)info.shared_info_frame;
    shinfo = map_mfns(xch, domid, &fn, 1, "pv_p2m_frames: shared info");
    if (!shinfo)
        return -1;
    size = shinfo->arch.max_pfn;
    fll_mfn = shinfo->arch.pfn_to_mfn_frame_list_list;
    if (!size || !fll_mfn || fll_mfn == ~(uint64_t)0) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "pv_p2m_frames", "domain %u publishes no p2m frame "
                "list (max_pfn %llu, frame_list_list %#llx): not booted far enough, or a "
                "virtually mapped p2m only", domid, (unsigned long long)size,
                (unsigned long long)fll_mfn);
        errno = ENODATA;
        goto out;
    }
    nframes = (size + FPP(w) - 1) / FPP(w);
    nmid = (nframes + FPP(w) - 1) / FPP(w);
    if (nmid > FPP(w)) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "pv_p2m_frames", "domain %u: max_pfn %llu is more "
                "than a frame list tree can describe", domid, (unsigned long long)size);
        errno = ERANGE;
        goto out;
    }
    *p2m_size = size;
    if (!frames) {
        rc = (int)nframes;
        goto out;
    }
    if (nframes > max) {
        errno = E2BIG;
        goto out;
    }
    fn = (xen_pfn_t)fll_mfn;
    fll = map_mfns(xch, domid, &fn, 1, "pv_p2m_frames: frame list list");
    if (!fll)
        goto out;
    mids = malloc(nmid * sizeof(*mids));
    if (!mids)
        goto out;
    for (uint64_t i = 0; i < nmid; i++)
        mids[i] = (xen_pfn_t)word(fll, w, i);
    mid = map_mfns(xch, domid, mids, nmid, "pv_p2m_frames: frame lists");
    if (!mid)
        goto out;
    for (uint64_t i = 0; i < nframes; i++)
        frames[i] = word((char *)mid + (i / FPP(w)) * XHV_PAGE_SIZE, w, i % FPP(w));
    rc = (int)nframes;
 out:
    if (mid)
        xenforeignmemory_unmap(P(xch)->fmem, mid, nmid);
    if (fll)
        xenforeignmemory_unmap(P(xch)->fmem, fll, 1);
    xenforeignmemory_unmap(P(xch)->fmem, shinfo, 1);
    free(mids);
    return rc;
}

/* getpageframeinfo3 takes gfns, which for a PV guest are mfns. */
int xen_pv_mfn_types(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *mfns,
                     uint32_t *types)
{
    xen_pfn_t arr[GETPFN_BATCH];

    for (size_t done = 0; done < n;) {
        unsigned int k = (unsigned int)(n - done < GETPFN_BATCH ? n - done : GETPFN_BATCH);

        for (unsigned int i = 0; i < k; i++)
            arr[i] = (xen_pfn_t)mfns[done + i];
        if (xc_get_pfn_type_batch(P(xch)->xc, domid, k, arr))
            return xen_fail(xch, "pv_mfn_types", domid);
        for (unsigned int i = 0; i < k; i++)
            types[done + i] = (uint32_t)(arr[i] & XEN_DOMCTL_PFINFO_LTAB_MASK);
        done += k;
    }
    return 0;
}

static int put_blob(uint8_t *buf, size_t size, const void *src, size_t len)
{
    if (!buf)
        return (int)len;
    if (size < len) {
        errno = E2BIG;
        return -1;
    }
    memcpy(buf, src, len);
    return (int)len;
}

static int vcpu_basic(xhv_t *xch, uint32_t domid, uint32_t vcpu, uint8_t *buf, size_t size)
{
    vcpu_guest_context_any_t ctxt;
    unsigned int width = 0;

    if (xc_domain_get_guest_width(P(xch)->xc, domid, &width))
        return xen_fail(xch, "pv_vcpu: guest width", domid);
    if (xc_vcpu_getcontext(P(xch)->xc, domid, vcpu, &ctxt))
        return xen_fail(xch, "pv_vcpu: get context", domid);
    return put_blob(buf, size, &ctxt, width == 8 ? sizeof(ctxt.x64) : sizeof(ctxt.x32));
}

static int vcpu_extended(xhv_t *xch, uint32_t domid, uint32_t vcpu, uint8_t *buf, size_t size)
{
    struct xen_domctl d;
    size_t len;

    xen_domctl_init(&d, XEN_DOMCTL_get_ext_vcpucontext, domid);
    d.u.ext_vcpucontext.vcpu = vcpu;
    if (xc_domctl(P(xch)->xc, &d))
        return xen_fail(xch, "pv_vcpu: extended context", domid);
    /* Xen says how much of the structure it filled; never more than the structure. */
    len = d.u.ext_vcpucontext.size;
    if (len > sizeof(d.u.ext_vcpucontext))
        len = sizeof(d.u.ext_vcpucontext);
    return put_blob(buf, size, &d.u.ext_vcpucontext, len);
}

/*
 * Not through xc_vcpu_get_extstate: that returns the query's size (the largest state
 * the vcpu may ever have), not the size Xen actually filled, and a restoring Xen
 * accepts only the exact size that the saved xcr0_accum implies.
 */
static int vcpu_xsave(xhv_t *xch, uint32_t domid, uint32_t vcpu, uint8_t *buf, size_t size)
{
    xc_interface *xc = P(xch)->xc;
    DECLARE_HYPERCALL_BUFFER(uint8_t, area);
    struct xen_domctl d;
    uint32_t max;
    int rc = -1;

    /* A null buffer asks for the largest size and the host's feature mask. */
    xen_domctl_init(&d, XEN_DOMCTL_getvcpuextstate, domid);
    d.u.vcpuextstate.vcpu = vcpu;
    if (xc_domctl(xc, &d))
        return xen_fail(xch, "pv_vcpu: xsave size", domid);
    if (!d.u.vcpuextstate.xfeature_mask || !d.u.vcpuextstate.size)
        return 0;   /* no xsave on this host: no record */
    if (d.u.vcpuextstate.size > (1U << 20)) {
        errno = ERANGE;
        return xen_fail(xch, "pv_vcpu: xsave size", domid);
    }
    max = (uint32_t)d.u.vcpuextstate.size;
    area = xc_hypercall_buffer_alloc(xc, area, max);
    if (!area)
        return xen_fail(xch, "pv_vcpu: xsave buffer", domid);
    set_xen_guest_handle(d.u.vcpuextstate.buffer, area);
    if (xc_domctl(xc, &d)) {
        xen_fail(xch, "pv_vcpu: xsave state", domid);
        goto out;
    }
    /* Now the size Xen filled: xcr0, xcr0_accum and the area xcr0_accum needs. */
    if (d.u.vcpuextstate.size > max || d.u.vcpuextstate.size < 16) {
        errno = ERANGE;
        xen_fail(xch, "pv_vcpu: xsave state size", domid);
        goto out;
    }
    rc = put_blob(buf, size, area, (size_t)d.u.vcpuextstate.size);
 out:
    xc_hypercall_buffer_free(xc, area);
    return rc;
}

static int vcpu_msrs(xhv_t *xch, uint32_t domid, uint32_t vcpu, uint8_t *buf, size_t size)
{
    xc_interface *xc = P(xch)->xc;
    DECLARE_HYPERCALL_BUFFER(xen_domctl_vcpu_msr_t, msrs);
    struct xen_domctl d;
    uint32_t count;
    int rc = -1;

    /* A null handle asks how many MSRs Xen may report. */
    xen_domctl_init(&d, XEN_DOMCTL_get_vcpu_msrs, domid);
    d.u.vcpu_msrs.vcpu = vcpu;
    if (xc_domctl(xc, &d))
        return xen_fail(xch, "pv_vcpu: MSR count", domid);
    count = d.u.vcpu_msrs.msr_count;
    if (!count)
        return 0;
    if (count > 4096) {
        errno = ERANGE;
        return xen_fail(xch, "pv_vcpu: MSR count", domid);
    }
    msrs = xc_hypercall_buffer_alloc(xc, msrs, count * sizeof(*msrs));
    if (!msrs)
        return xen_fail(xch, "pv_vcpu: MSR buffer", domid);
    set_xen_guest_handle(d.u.vcpu_msrs.msrs, msrs);
    d.u.vcpu_msrs.msr_count = count;
    if (xc_domctl(xc, &d)) {
        xen_fail(xch, "pv_vcpu: MSRs", domid);
        goto out;
    }
    /* Xen writes only the MSRs that are set and says how many. */
    if (d.u.vcpu_msrs.msr_count > count) {
        errno = ERANGE;
        xen_fail(xch, "pv_vcpu: MSRs", domid);
        goto out;
    }
    rc = put_blob(buf, size, msrs, d.u.vcpu_msrs.msr_count * sizeof(*msrs));
 out:
    xc_hypercall_buffer_free(xc, msrs);
    return rc;
}

int xen_pv_vcpu_get(xhv_t *xch, uint32_t domid, uint32_t vcpu, enum xhv_pv_vcpu_blob which,
                    uint8_t *buf, size_t size)
{
    switch (which) {
    case XHV_PV_VCPU_BASIC: return vcpu_basic(xch, domid, vcpu, buf, size);
    case XHV_PV_VCPU_EXTENDED: return vcpu_extended(xch, domid, vcpu, buf, size);
    case XHV_PV_VCPU_XSAVE: return vcpu_xsave(xch, domid, vcpu, buf, size);
    case XHV_PV_VCPU_MSRS: return vcpu_msrs(xch, domid, vcpu, buf, size);
    }
    errno = EINVAL;
    return -1;
}

/* ---- restore ---------------------------------------------------------------------- */

/* For a PV domain populate_physmap writes the machine frame it allocated back into each
 * extent (and records the gpfn in Xen's M2P). */
int xen_pv_populate(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *pfns, uint64_t *mfns)
{
    xen_pfn_t *arr;

    if (!n)
        return 0;
    arr = malloc(n * sizeof(*arr));
    if (!arr)
        return -1;
    for (size_t i = 0; i < n; i++)
        arr[i] = (xen_pfn_t)pfns[i];
    if (xc_domain_populate_physmap_exact(P(xch)->xc, domid, (unsigned long)n, 0, 0, arr)) {
        free(arr);
        return xen_fail(xch, "pv_populate", domid);
    }
    for (size_t i = 0; i < n; i++)
        mfns[i] = arr[i];
    free(arr);
    return 0;
}

#define PIN_BATCH 512

int xen_pv_pin(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *mfns,
               const unsigned int *levels)
{
    struct mmuext_op ops[PIN_BATCH];

    for (size_t done = 0; done < n;) {
        unsigned int k = (unsigned int)(n - done < PIN_BATCH ? n - done : PIN_BATCH);

        for (unsigned int i = 0; i < k; i++) {
            unsigned int level = levels[done + i];

            if (level < 1 || level > 4) {
                errno = EINVAL;
                return xen_fail(xch, "pv_pin: level", domid);
            }
            memset(&ops[i], 0, sizeof(ops[i]));
            ops[i].cmd = MMUEXT_PIN_L1_TABLE + (level - 1);
            ops[i].arg1.mfn = (xen_pfn_t)mfns[done + i];
        }
        if (xc_mmuext_op(P(xch)->xc, ops, k, domid))
            return xen_fail(xch, "pv_pin", domid);
        done += k;
    }
    return 0;
}

static int domctl_with_buffer(xhv_t *xch, struct xen_domctl *d, const uint8_t *buf,
                              size_t size, const char *what)
{
    xc_interface *xc = P(xch)->xc;
    DECLARE_HYPERCALL_BUFFER(uint8_t, hb);
    int rc = -1;

    hb = xc_hypercall_buffer_alloc(xc, hb, size);
    if (!hb)
        return xen_fail(xch, what, d->domain);
    memcpy(hb, buf, size);
    if (d->cmd == XEN_DOMCTL_setvcpuextstate)
        set_xen_guest_handle(d->u.vcpuextstate.buffer, hb);
    else
        /* hb is hypercall memory; the checked macro wants the handle's own type. */
        set_xen_guest_handle_raw(d->u.vcpu_msrs.msrs, (void *)hb);
    if (xc_domctl(xc, d))
        xen_fail(xch, what, d->domain);
    else
        rc = 0;
    xc_hypercall_buffer_free(xc, hb);
    return rc;
}

int xen_pv_vcpu_set(xhv_t *xch, uint32_t domid, uint32_t vcpu, enum xhv_pv_vcpu_blob which,
                    const uint8_t *buf, size_t size)
{
    struct xen_domctl d;
    unsigned int width = 0;

    xen_domctl_init(&d, 0, domid);     /* cmd set per case */
    switch (which) {
    case XHV_PV_VCPU_BASIC: {
        vcpu_guest_context_any_t ctxt;

        if (xc_domain_get_guest_width(P(xch)->xc, domid, &width))
            return xen_fail(xch, "pv_vcpu_set: guest width", domid);
        if (size != (width == 8 ? sizeof(ctxt.x64) : sizeof(ctxt.x32))) {
            errno = EINVAL;
            return xen_fail(xch, "pv_vcpu_set: context size", domid);
        }
        memset(&ctxt, 0, sizeof(ctxt));
        memcpy(&ctxt, buf, size);
        if (xc_vcpu_setcontext(P(xch)->xc, domid, vcpu, &ctxt))
            return xen_fail(xch, "pv_vcpu_set: set context", domid);
        return 0;
    }
    case XHV_PV_VCPU_EXTENDED:
        if (size > sizeof(d.u.ext_vcpucontext)) {
            errno = E2BIG;
            return xen_fail(xch, "pv_vcpu_set: extended context size", domid);
        }
        d.cmd = XEN_DOMCTL_set_ext_vcpucontext;
        memcpy(&d.u.ext_vcpucontext, buf, size);
        d.u.ext_vcpucontext.vcpu = vcpu;        /* the target's vcpu, not the blob's */
        d.u.ext_vcpucontext.size = (uint32_t)size;
        if (xc_domctl(P(xch)->xc, &d))
            return xen_fail(xch, "pv_vcpu_set: extended context", domid);
        return 0;
    case XHV_PV_VCPU_XSAVE:
        d.cmd = XEN_DOMCTL_setvcpuextstate;
        d.u.vcpuextstate.vcpu = vcpu;
        d.u.vcpuextstate.size = size;
        return domctl_with_buffer(xch, &d, buf, size, "pv_vcpu_set: xsave state");
    case XHV_PV_VCPU_MSRS:
        if (size % sizeof(xen_domctl_vcpu_msr_t)) {
            errno = EINVAL;
            return xen_fail(xch, "pv_vcpu_set: MSRs size", domid);
        }
        if (!size)
            return 0;
        d.cmd = XEN_DOMCTL_set_vcpu_msrs;
        d.u.vcpu_msrs.vcpu = vcpu;
        d.u.vcpu_msrs.msr_count = (uint32_t)(size / sizeof(xen_domctl_vcpu_msr_t));
        return domctl_with_buffer(xch, &d, buf, size, "pv_vcpu_set: MSRs");
    }
    errno = EINVAL;
    return -1;
}

int xen_pv_set_shared_info(xhv_t *xch, uint32_t domid, const uint8_t *page, size_t size)
{
    const shared_info_t *old = (const shared_info_t *)page;
    shared_info_t *new;
    xhv_pv_info_t info;
    xen_pfn_t fn;
    int err = 0;

    if (size != XHV_PAGE_SIZE) {
        errno = EINVAL;
        return xen_fail(xch, "pv_set_shared_info: size", domid);
    }
    if (xen_pv_info(xch, domid, &info))
        return -1;
    if (info.guest_width != 8) {
        errno = EOPNOTSUPP;
        return xen_fail(xch, "pv_set_shared_info: 32-bit guest", domid);
    }
    fn = (xen_pfn_t)info.shared_info_frame;
    new = xenforeignmemory_map(P(xch)->fmem, domid, PROT_READ | PROT_WRITE, 1, &fn, &err);
    if (!new || err) {
        if (err)
            errno = err < 0 ? -err : err;
        if (new)
            xenforeignmemory_unmap(P(xch)->fmem, new, 1);
        return xen_fail(xch, "pv_set_shared_info: map", domid);
    }
    memcpy(new->vcpu_info, old->vcpu_info, sizeof(new->vcpu_info));
    memcpy(&new->arch, &old->arch, sizeof(new->arch));
    new->arch.pfn_to_mfn_frame_list_list = 0;
    memset(new->evtchn_pending, 0, sizeof(new->evtchn_pending));
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        new->vcpu_info[i].evtchn_pending_sel = 0;
    memset(new->evtchn_mask, 0xff, sizeof(new->evtchn_mask));
    xenforeignmemory_unmap(P(xch)->fmem, new, 1);
    return 0;
}

int xen_seed_grants(xhv_t *xch, uint32_t domid, uint64_t console_mfn,
                       uint32_t console_domid, uint64_t store_mfn, uint32_t store_domid)
{
    xenforeignmemory_resource_handle *res;
    grant_entry_v1_t *g = NULL;

    if (console_mfn > UINT32_MAX || store_mfn > UINT32_MAX) {
        errno = ERANGE;
        return xen_fail(xch, "seed_grants: ring frame beyond a v1 grant entry", domid);
    }
    res = xenforeignmemory_map_resource(P(xch)->fmem, domid, XENMEM_resource_grant_table,
                                        XENMEM_resource_grant_table_id_shared, 0, 1,
                                        (void **)&g, PROT_READ | PROT_WRITE, 0);
    if (!res)
        return xen_fail(xch, "seed_grants: map grant table", domid);
    if (console_mfn) {
        g[GNTTAB_RESERVED_CONSOLE].domid = (domid_t)console_domid;
        g[GNTTAB_RESERVED_CONSOLE].frame = (uint32_t)console_mfn;
        __atomic_store_n(&g[GNTTAB_RESERVED_CONSOLE].flags, GTF_permit_access,
                         __ATOMIC_RELEASE);
    }
    if (store_mfn) {
        g[GNTTAB_RESERVED_XENSTORE].domid = (domid_t)store_domid;
        g[GNTTAB_RESERVED_XENSTORE].frame = (uint32_t)store_mfn;
        __atomic_store_n(&g[GNTTAB_RESERVED_XENSTORE].flags, GTF_permit_access,
                         __ATOMIC_RELEASE);
    }
    xenforeignmemory_unmap_resource(P(xch)->fmem, res);
    return 0;
}

int xen_granted_writable(xhv_t *xch, uint32_t domid, unsigned long *bitmap, uint64_t nbits,
                         uint64_t *added)
{
    xenforeignmemory_resource_handle *res = NULL;
    struct gnttab_query_size q = { .dom = (domid_t)domid };
    grant_entry_v1_t *g = NULL;
    unsigned int nr;

    /* Only the frames in use: acquiring frames beyond them makes Xen grow the table. */
    if (xc_gnttab_query_size(P(xch)->xc, &q) || q.status != GNTST_okay) {
        errno = q.status == GNTST_okay ? errno : EINVAL;
        return xen_fail(xch, "granted_writable: query the grant table's size", domid);
    }
    nr = q.nr_frames;
    if (!nr)
        return 0;
    res = xenforeignmemory_map_resource(P(xch)->fmem, domid, XENMEM_resource_grant_table,
                                        XENMEM_resource_grant_table_id_shared, 0, nr,
                                        (void **)&g, PROT_READ, 0);
    if (!res)
        return xen_fail(xch, "granted_writable: map grant table", domid);
    for (size_t i = 0; i < (size_t)nr * XC_PAGE_SIZE / sizeof(*g); i++) {
        uint16_t f = __atomic_load_n(&g[i].flags, __ATOMIC_ACQUIRE);
        uint64_t pfn = g[i].frame;

        /* mapped writable by its grantee right now (Xen keeps GTF_writing set) */
        if ((f & GTF_type_mask) != GTF_permit_access || (f & GTF_readonly) ||
            !(f & GTF_writing) || pfn >= nbits || bitmap_test_bit(bitmap, pfn))
            continue;
        bitmap_set_bit(bitmap, pfn);
        (*added)++;
    }
    xenforeignmemory_unmap_resource(P(xch)->fmem, res);
    return 0;
}

#endif /* CONFIG_XEN */
