/*
 * The real-Xen backend: a domain's CPU policy (CPUID leaves and MSRs).
 *
 * A restored guest must see the CPU it ran on: its kernel enabled features (CR4 and
 * EFER bits, XSAVE components) that Xen checks against the domain's policy when the
 * vcpu state is loaded, and a fresh domain's default policy may lack some.  The stream
 * carries the policy (X86_CPUID_POLICY, X86_MSR_POLICY); these move it in and out.
 * Debian ships the policy helpers in libxenguest, whose migration symbols clash with
 * this project's engine, so the two domctls are issued through libxenctrl's xc_domctl.
 */
#include "config.h"

#define xc_interface xhv_xc_interface_t
#include "xhv_backend.h"
#undef xc_interface

#include <errno.h>

#if CONFIG_XEN

#include "xhv_xen_priv.h"

_Static_assert(sizeof(xen_cpuid_leaf_t) == XHV_CPUID_LEAF_SIZE, "CPUID leaf layout");
_Static_assert(sizeof(xen_msr_entry_t) == XHV_MSR_ENTRY_SIZE, "MSR entry layout");

/* One get or set domctl; leaves/msrs are copied through hypercall-safe buffers. */
static int policy_domctl(xhv_t *xch, uint32_t cmd, uint32_t domid, void *leaves,
                         uint32_t *nr_leaves, void *msrs, uint32_t *nr_msrs)
{
    xc_interface *xc = P(xch)->xc;
    struct xen_domctl domctl;
    DECLARE_HYPERCALL_BUFFER(xen_cpuid_leaf_t, lb);
    DECLARE_HYPERCALL_BUFFER(xen_msr_entry_t, mb);
    size_t lsize = (size_t)*nr_leaves * sizeof(xen_cpuid_leaf_t);
    size_t msize = (size_t)*nr_msrs * sizeof(xen_msr_entry_t);
    int rc = -1, e;

    xen_domctl_init(&domctl, cmd, domid);
    if (leaves && lsize) {
        lb = xc_hypercall_buffer_alloc(xc, lb, lsize);
        if (!lb)
            goto out;
        memcpy(lb, leaves, lsize);
        set_xen_guest_handle(domctl.u.cpu_policy.leaves, lb);
    }
    if (msrs && msize) {
        mb = xc_hypercall_buffer_alloc(xc, mb, msize);
        if (!mb)
            goto out;
        memcpy(mb, msrs, msize);
        set_xen_guest_handle(domctl.u.cpu_policy.msrs, mb);
    }
    domctl.u.cpu_policy.nr_leaves = *nr_leaves;
    domctl.u.cpu_policy.nr_msrs = *nr_msrs;
    rc = xc_domctl(xc, &domctl);
    if (rc) {
        if (cmd == XEN_DOMCTL_set_cpu_policy)
            xhv_log(xch, XHV_LOG_ERROR, errno, "cpu_policy_set", "domain %u: Xen refused the "
                    "policy (leaf %#x subleaf %#x msr %#x)", domid,
                    domctl.u.cpu_policy.err_leaf, domctl.u.cpu_policy.err_subleaf,
                    domctl.u.cpu_policy.err_msr);
        goto out;
    }
    if (domctl.u.cpu_policy.nr_leaves > *nr_leaves && leaves) {
        errno = ENOBUFS;
        rc = -1;
        goto out;
    }
    if (leaves && lb)
        memcpy(leaves, lb, domctl.u.cpu_policy.nr_leaves * sizeof(xen_cpuid_leaf_t));
    if (msrs && mb)
        memcpy(msrs, mb, domctl.u.cpu_policy.nr_msrs * sizeof(xen_msr_entry_t));
    *nr_leaves = domctl.u.cpu_policy.nr_leaves;
    *nr_msrs = domctl.u.cpu_policy.nr_msrs;
 out:
    e = errno;
    if (lb)
        xc_hypercall_buffer_free(xc, lb);
    if (mb)
        xc_hypercall_buffer_free(xc, mb);
    errno = e;
    return rc;
}

int xen_cpu_policy_get(xhv_t *xch, uint32_t domid, void *leaves, uint32_t *nr_leaves,
                       void *msrs, uint32_t *nr_msrs)
{
    if (policy_domctl(xch, XEN_DOMCTL_get_cpu_policy, domid, leaves, nr_leaves, msrs, nr_msrs))
        return xen_fail(xch, "cpu_policy_get", domid);
    return 0;
}

int xen_cpu_policy_set(xhv_t *xch, uint32_t domid, const void *leaves, uint32_t nr_leaves,
                       const void *msrs, uint32_t nr_msrs)
{
    if (policy_domctl(xch, XEN_DOMCTL_set_cpu_policy, domid, (void *)leaves, &nr_leaves,
                      (void *)msrs, &nr_msrs))
        return xen_fail(xch, "cpu_policy_set", domid);
    return 0;
}

#endif /* CONFIG_XEN */
