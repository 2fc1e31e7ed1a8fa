/*
 * Saving a domain to a libxl stream (xl save, the sending side of a migration), and
 * the save helper's hooks every operation shares.
 */
#include "libxl_internal.h"

#include <errno.h>
#include <string.h>

#include "libxl_records.h"
#include "libxl_save_msgs.h"
#include "libxl_test.h"
#include "xenguest_colo.h"

void libxl__hook_log(uint32_t level, uint32_t errnoval, const char *context, const char *msg,
                     void *data)
{
    struct libxl__helper_op *op = data;

    libxl__log_engine(op->ctx, (int)level, (int)errnoval, context, msg);
}

void libxl__hook_progress(const char *context, const char *what, unsigned long done,
                          unsigned long total, void *data)
{
    struct libxl__helper_op *op = data;

    (void)context;
    libxl__progress(op->ctx, what, done, total);
}

int libxl__hook_logdirty(uint32_t domid, unsigned int enable, void *data)
{
    (void)domid; (void)enable; (void)data;
    return 0;   /* no device model */
}

unsigned int libxl__helper_silence_ms(libxl_ctx *ctx)
{
    return (unsigned int)libxl__setting_num(ctx, LIBXL__SAVE_HELPER_TIMEOUT_MS, 30000);
}

static int hook_suspend(void *data)
{
    struct libxl__helper_op *op = data;

    if (xhv_domain_suspend(op->ctx->xch, op->domid, 60000)) {
        libxl__log(op->ctx, XTL_ERROR, errno, "libxl", "suspending domain %u", op->domid);
        return 0;
    }
    return 1;
}

int libxl_domain_suspend(libxl_ctx *ctx, uint32_t domid, int fd, int flags,
                         const libxl_asyncop_how *ao_how)
{
    struct libxl__helper_op op = { .ctx = ctx, .domid = domid };
    struct save_helper_hooks h = {
        .data = &op, .suspend = hook_suspend, .switch_qemu_logdirty = libxl__hook_logdirty,
        .log = libxl__hook_log, .progress = libxl__hook_progress,
    };
    struct save_helper_params p = {
        .io_fd = fd, .back_fd = -1, .domid = domid, .cbflags = SHM_CBFLAGS_SAVE_PLAIN,
        .helper_path = libxl__setting_str(ctx, LIBXL__SAVE_HELPER),
        .stream_type = XC_STREAM_PLAIN, .silence_timeout_ms = libxl__helper_silence_ms(ctx),
        .xcflags = ((flags & LIBXL_SUSPEND_LIVE) ? XCFLAGS_LIVE : 0) |
                   ((flags & LIBXL_SUSPEND_DEBUG) ? XCFLAGS_DEBUG : 0),
    };
    struct save_helper_result res;
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (libxl_domain_info(ctx, NULL, domid)) {
        LOG_ERR(ctx, "domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (libxl__write_stream_start(fd)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "writing the libxl stream header");
        return ERROR_FAIL;
    }
    if (libxl__save_helper_run(&p, &h, &res)) {
        LOG_ERR(ctx, "saving domain %u: %s", domid, res.err);
        rc = ERROR_FAIL;
    } else if (libxl__write_end(fd)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "writing the libxl END record");
        rc = ERROR_FAIL;
    }
    if (rc)
        libxl__resume_if_suspended(ctx, domid);
    return rc;
}
