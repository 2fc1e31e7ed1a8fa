/*
 * The primary of Remus and COLO: libxl_domain_remus_start runs the engine's
 * checkpointed save in the helper, with the primary's side of the checkpoint
 * protocol from libxl_checkpoint.c, until replication ends.
 */
#include "libxl_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libxl_checkpoint.h"
#include "libxl_records.h"
#include "libxl_save_msgs.h"
#include "libxl_test.h"
#include "xenguest_colo.h"

/* The primary's state: the shared hooks' base first, then the protocol's. */
struct remus_primary {
    struct libxl__helper_op base;
    struct ckpt_primary p;
};

void libxl_domain_remus_info_init(libxl_domain_remus_info *p)
{
    memset(p, 0, sizeof(*p));
}

void libxl_domain_remus_info_dispose(libxl_domain_remus_info *p)
{
    free(p->netbufscript);
    memset(p, 0, sizeof(*p));
}

void libxl_domain_remus_stop(libxl_ctx *ctx)
{
    ctx->remus_stop = 1;
    libxl__save_helper_abort_requested = 0;
}

static int pri_suspend(void *d) { return ckpt_primary_suspend(&((struct remus_primary *)d)->p); }
static int pri_postcopy(void *d) { return ckpt_primary_postcopy(&((struct remus_primary *)d)->p); }
static int pri_checkpoint(void *d)
{
    return ckpt_primary_checkpoint(&((struct remus_primary *)d)->p);
}
static int pri_wait_checkpoint(void *d)
{
    return ckpt_primary_wait_checkpoint(&((struct remus_primary *)d)->p);
}

static int pri_resume_staged(void *d)
{
    return ckpt_primary_resume_staged(&((struct remus_primary *)d)->p);
}

/* The primary is suspended with checkpoint n's state. */
static void at_checkpoint(unsigned int n, void *opaque)
{
    struct remus_primary *rp = opaque;
    libxl_ctx *ctx = rp->base.ctx;

    libxl__progress(ctx, "checkpoint", n, (unsigned long)(rp->p.downtime_ns_last / 1000));
    libxl__test_primary_checkpoint(ctx, rp->base.domid, n);
    libxl__colo_save_epoch(ctx, rp->base.domid, &rp->p, n);
}

/* Checkpoint n is sent (COLO: the secondary has it). */
static void checkpoint_sent(unsigned int n, void *opaque)
{
    struct remus_primary *rp = opaque;

    libxl__test_primary_stall(rp->base.ctx, n);
    libxl__colo_save_checkpoint(rp->base.ctx, &rp->p, n);
}

/* Upstream's rules for the info's defaults and the combinations it refuses. */
static int check_remus_info(libxl_ctx *ctx, libxl_domain_remus_info *info, int recv_fd)
{
    bool colo;

    if (libxl_defbool_is_default(info->colo)) {
        LOG_ERR(ctx, "remus: info->colo must be set (true for COLO, false for Remus)");
        return ERROR_INVAL;
    }
    colo = libxl_defbool_val(info->colo);
    libxl_defbool_setdefault(&info->allow_unsafe, false);
    libxl_defbool_setdefault(&info->blackhole, false);
    /* Unlike upstream, COLO compresses too (docs/stream-format.md): on by default. */
    libxl_defbool_setdefault(&info->compression, true);
    libxl_defbool_setdefault(&info->netbuf, true);
    libxl_defbool_setdefault(&info->diskbuf, true);
    if (!libxl_defbool_val(info->allow_unsafe) &&
        (libxl_defbool_val(info->blackhole) || !libxl_defbool_val(info->netbuf) ||
         !libxl_defbool_val(info->diskbuf))) {
        LOG_ERR(ctx, "remus: unsafe mode must be enabled (allow_unsafe) to use a blackhole, "
                "or to disable network or disk buffering");
        return ERROR_INVAL;
    }
    if (colo && recv_fd < 0) {
        LOG_ERR(ctx, "COLO needs a back channel (recv_fd)");
        return ERROR_INVAL;
    }
    return 0;
}

int libxl_domain_remus_start(libxl_ctx *ctx, libxl_domain_remus_info *info, uint32_t domid,
                             int send_fd, int recv_fd, const libxl_asyncop_how *ao_how)
{
    struct remus_primary rp = { .base = { .ctx = ctx, .domid = domid } };
    struct ckpt_primary *p = &rp.p;
    struct save_helper_hooks h = {
        .data = &rp, .suspend = pri_suspend, .postcopy = pri_postcopy,
        .checkpoint = pri_checkpoint, .switch_qemu_logdirty = libxl__hook_logdirty,
        .log = libxl__hook_log, .progress = libxl__hook_progress,
    };
    struct save_helper_params hp = {
        .io_fd = send_fd, .back_fd = -1, .domid = domid, .xcflags = XCFLAGS_LIVE,
        .helper_path = libxl__setting_str(ctx, LIBXL__SAVE_HELPER),
        .silence_timeout_ms = libxl__helper_silence_ms(ctx),
        .stream_type = XC_STREAM_REMUS, .cbflags = SHM_CBFLAGS_SAVE_REMUS,
    };
    struct save_helper_result res;
    bool colo;
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc || (rc = check_remus_info(ctx, info, recv_fd)))
        return rc;
    if (libxl_domain_info(ctx, NULL, domid)) {
        LOG_ERR(ctx, "domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    colo = libxl_defbool_val(info->colo);
    ctx->remus_stop = 0;
    p->xch = ctx->xch;
    p->domid = domid;
    p->main_fd = send_fd;
    p->recv_fd = recv_fd;
    p->colo = colo;
    p->interval_ms = info->interval > 0 ? (unsigned int)info->interval : 200;
    p->stop = (volatile int *)&ctx->remus_stop;
    p->at_checkpoint = at_checkpoint;
    p->checkpoint_sent = checkpoint_sent;
    p->timeout_ms = colo ? (unsigned int)libxl__setting_num(ctx, LIBXL__HEARTBEAT_TIMEOUT_MS,
                                                            10000) : 0;
    p->opaque = &rp;
    if (colo) {
        if ((rc = libxl__colo_save_setup(ctx, domid, p)))
            return rc;
        hp.stream_type = XC_STREAM_COLO;
        hp.cbflags = SHM_CBFLAGS_SAVE_COLO;
        hp.back_fd = recv_fd;
        h.wait_checkpoint = pri_wait_checkpoint;
    }
    /* copy, resume, send (the engine's default limit) unless turned off, or unless the
     * test comparison of the pair (secondary against this primary, after every applied
     * checkpoint) needs the primary still stopped then */
    if (libxl__setting_num(ctx, LIBXL__CHECKPOINT_STAGING, 1) &&
        !libxl__setting_str(ctx, LIBXL__TEST_COLO_COMPARE)) {
        h.resume_staged = pri_resume_staged;
        hp.cbflags |= SHM_CBFLAG(SHM_RESUME_STAGED);
    }
    /* Offered; used once the secondary answers on the back channel (Remus too). */
    if (libxl_defbool_val(info->compression) && recv_fd >= 0) {
        hp.cbflags |= SHM_CBFLAG_COMPRESS;
        hp.back_fd = recv_fd;
    }
    if (libxl__write_stream_start(send_fd)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "writing the libxl stream header");
        libxl__colo_save_teardown(ctx, p);
        return ERROR_FAIL;
    }
    rc = libxl__save_helper_run(&hp, &h, &res);
    libxl__colo_save_teardown(ctx, p);
    if (p->downtimes)
        LOG_INFO(ctx, "%u checkpoints; downtime mean %.2f ms, max %.2f ms", p->checkpoints,
                 (double)p->downtime_ns_total / p->downtimes / 1e6,
                 (double)p->downtime_ns_max / 1e6);
    libxl__resume_if_suspended(ctx, domid);
    if (!rc && ctx->remus_stop) {
        LOG_NOTICE(ctx, "replication of domain %u stopped on request after %u checkpoints",
                   domid, p->checkpoints);
        return 0;
    }
    LOG_ERR(ctx, "replication of domain %u ended after %u checkpoints: %s%s%s", domid,
            p->checkpoints, p->err[0] ? p->err : (rc ? res.err : "the secondary went away"),
            p->err[0] && rc ? "; " : "", p->err[0] && rc ? res.err : "");
    return ERROR_FAIL;
}
