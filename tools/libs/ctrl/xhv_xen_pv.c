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

    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_get_ext_vcpucontext;
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.domain = (domid_t)domid;
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
    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_getvcpuextstate;
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.domain = (domid_t)domid;
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
    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_get_vcpu_msrs;
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.domain = (domid_t)domid;
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

#endif /* CONFIG_XEN */
