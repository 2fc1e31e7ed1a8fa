/*
 * The real-Xen backend: not implemented yet.  Opening it fails with ENOSYS; the
 * ops table exists so that the implementation (libxenctrl/libxenforeignmemory) can be
 * dropped into this file without touching the dispatcher.
 */
#include <errno.h>

#include "xhv_backend.h"

static int xen_open(xc_interface *xch)
{
    xhv_log(xch, XHV_LOG_ERROR, ENOSYS, "xhv_open",
            "the real-Xen backend is not implemented yet; use the simulated hypervisor "
            "(backend \"sim\")");
    errno = ENOSYS;
    return -1;
}

static void xen_close(xc_interface *xch)
{
    (void)xch;
}

const struct xhv_backend_ops xhv_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    /* every other op is NULL: the dispatcher returns ENOSYS */
};
