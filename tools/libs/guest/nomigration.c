/*
 * The no-migration variant (./configure --disable-migration): the engine's entry
 * points exist with the same signatures and fail with ENOSYS.
 */
#include <errno.h>

#include "sr_common.h"

int xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom, uint32_t flags,
                   struct save_callbacks *callbacks, xc_stream_type_t stream_type, int recv_fd)
{
    (void)xch; (void)io_fd; (void)dom; (void)flags; (void)callbacks; (void)stream_type;
    (void)recv_fd;
    errno = ENOSYS;
    return -1;
}

int xc_domain_restore(xc_interface *xch, int io_fd, uint32_t dom,
                      unsigned int store_evtchn, xen_pfn_t *store_mfn, uint32_t store_domid,
                      unsigned int console_evtchn, xen_pfn_t *console_mfn, uint32_t console_domid,
                      xc_stream_type_t stream_type, struct restore_callbacks *callbacks,
                      int send_back_fd)
{
    (void)xch; (void)io_fd; (void)dom; (void)store_evtchn; (void)store_mfn;
    (void)store_domid; (void)console_evtchn; (void)console_mfn; (void)console_domid;
    (void)stream_type; (void)callbacks; (void)send_back_fd;
    errno = ENOSYS;
    return -1;
}

int xc_stream_check(xc_interface *xch, int fd, xc_stream_type_t stream_type,
                    uint64_t p2m_size, struct restore_callbacks *cb,
                    const struct sr_check_observer *observer, struct sr_check_result *res)
{
    (void)xch; (void)fd; (void)stream_type; (void)p2m_size; (void)cb; (void)observer;
    (void)res;
    errno = ENOSYS;
    return -1;
}

int colo_check_dirty_pfn_list(struct sr_context *ctx, const struct sr_record *rec,
                              uint64_t nr_pfns)
{
    (void)ctx; (void)rec; (void)nr_pfns;
    errno = ENOSYS;
    return -1;
}

int staging_append(struct sr_context *ctx, const struct iovec *iov, int n)
{
    (void)ctx; (void)iov; (void)n;
    errno = ENOSYS;
    return -1;
}
