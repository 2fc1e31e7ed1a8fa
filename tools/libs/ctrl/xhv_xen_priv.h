/*
 * Internal to libxhv: what the real-Xen backend's files (xhv_xen*.c) share; built when
 * CONFIG_XEN.  Include it after the xc_interface rename around xhv_backend.h (see
 * xhv_xen.c): here xc_interface is libxenctrl's handle and xhv_t is ours.
 */
#ifndef XHV_XEN_PRIV_H
#define XHV_XEN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xen/hvm/params.h>
#include <xen/hvm/save.h>

typedef xhv_xc_interface_t xhv_t;

/* Exported by Debian's libxenctrl 4.17 (VERS_4.17.0) but declared only in its private
 * header; same prototype as upstream's. */
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);

struct xen_priv {
    xc_interface *xc;
    xenforeignmemory_handle *fmem;
    struct xs_handle *xs;               /* opened on first use */
    xc_hypercall_buffer_t hb;           /* log-dirty bitmap, hypercall-safe memory */
    size_t bitmap_pages;
};

#define P(xch) ((struct xen_priv *)(xch)->priv)
#define GETPFN_BATCH 1024               /* Xen's limit for getpageframeinfo3 */

/* A domctl for domid, all else zero.  libxenctrl's xc_domctl sets interface_version. */
static inline void xen_domctl_init(struct xen_domctl *d, uint32_t cmd, uint32_t domid)
{
    memset(d, 0, sizeof(*d));
    d->cmd = cmd;
    d->domain = (domid_t)domid;
}

/* Log what failed (errno kept; ESRCH only at debug level) and return -1. */
int xen_fail(xhv_t *xch, const char *what, uint32_t domid);
/* The xenstore handle, opened on first use (NULL, logged, if xenstored is not there). */
struct xs_handle *xen_xs(xhv_t *xch);

/* Building restore targets and tearing domains down (xhv_xen_domain.c). */
int xen_domain_create(xhv_t *xch, const xhv_domain_config_t *cfg, uint32_t *domid);
int xen_domain_destroy(xhv_t *xch, uint32_t domid);
int xen_domain_ports(xhv_t *xch, uint32_t domid, unsigned int *store_port,
                     unsigned int *console_port);
int xen_domain_introduce(xhv_t *xch, uint32_t domid, uint64_t store_gfn, uint64_t console_gfn);

/* The domain's CPU policy (xhv_xen_cpu.c). */
int xen_cpu_policy_get(xhv_t *xch, uint32_t domid, void *leaves, uint32_t *nr_leaves,
                       void *msrs, uint32_t *nr_msrs);
int xen_cpu_policy_set(xhv_t *xch, uint32_t domid, const void *leaves, uint32_t nr_leaves,
                       const void *msrs, uint32_t nr_msrs);

/* PV guests (xhv_xen_pv.c). */
int xen_pv_info(xhv_t *xch, uint32_t domid, xhv_pv_info_t *info);
int xen_pv_p2m_frames(xhv_t *xch, uint32_t domid, uint64_t *p2m_size, uint64_t *frames,
                      size_t max);
int xen_pv_mfn_types(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *mfns,
                     uint32_t *types);
int xen_pv_vcpu_get(xhv_t *xch, uint32_t domid, uint32_t vcpu, enum xhv_pv_vcpu_blob which,
                    uint8_t *buf, size_t size);
int xen_pv_populate(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *pfns,
                    uint64_t *mfns);
int xen_pv_pin(xhv_t *xch, uint32_t domid, size_t n, const uint64_t *mfns,
               const unsigned int *levels);
int xen_pv_vcpu_set(xhv_t *xch, uint32_t domid, uint32_t vcpu, enum xhv_pv_vcpu_blob which,
                    const uint8_t *buf, size_t size);
int xen_pv_set_shared_info(xhv_t *xch, uint32_t domid, const uint8_t *page, size_t size);
int xen_granted_writable(xhv_t *xch, uint32_t domid, unsigned long *bitmap, uint64_t nbits,
                         uint64_t *added);
int xen_seed_grants(xhv_t *xch, uint32_t domid, uint64_t console_mfn,
                       uint32_t console_domid, uint64_t store_mfn, uint32_t store_domid);

#endif
