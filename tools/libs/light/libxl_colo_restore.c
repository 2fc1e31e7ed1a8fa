/*
 * The secondary of a checkpointed stream.  Remus: each whole checkpoint is kept and
 * the domain stays paused until a failover.  COLO: the secondary VM runs from the
 * first checkpoint on, with the secondary's side of the checkpoint protocol from
 * libxl_checkpoint.c; its packets go to the primary's compare proxy.
 */
#include "libxl_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libxl_checkpoint.h"
#include "libxl_colo_proxy.h"
#include "libxl_records.h"
#include "libxl_save_msgs.h"
#include "libxl_test.h"
#include "xenguest_colo.h"

struct libxl__checkpoint_secondary {
    struct libxl__helper_op base;      /* first: the shared hooks' data */
    struct ckpt_secondary s;
    int stream;                        /* LIBXL_CHECKPOINTED_STREAM_REMUS or _COLO */
    int net_epochs;                    /* COLO with a network device */
    struct save_helper_result rings;   /* ring frames the helper reported */
    int rings_connected;               /* introduced to xenstored/xenconsoled */
};

static int sec_checkpoint(void *d)
{
    struct libxl__checkpoint_secondary *sec = d;
    int r = ckpt_secondary_checkpoint(&sec->s);

    if (r == XGR_CHECKPOINT_SUCCESS)
        libxl__progress(sec->base.ctx, "checkpoint", sec->s.applied, 0);
    return r;
}

/* A COLO checkpoint is applied, both sides stopped; the SVM starts or resumes next. */
static int sec_after_apply(unsigned int n, void *d)
{
    struct libxl__checkpoint_secondary *sec = d;

    libxl__test_secondary_compare(sec->base.ctx, sec->base.domid, n);
    /* The SVM runs from the first checkpoint on: it needs xenstored (every later
     * checkpoint suspends it through its control/shutdown node) and its console now,
     * not at failover.  After the comparison: xenstored at once serves what the ring
     * holds, and that is the SVM's own business. */
    if (!sec->rings_connected) {
        if (libxl__connect_rings(sec->base.ctx, sec->base.domid, &sec->rings))
            return -1;
        sec->rings_connected = 1;
    }
    return 0;
}

static void sec_restore_results(uint64_t store_gfn, uint64_t console_gfn, void *d)
{
    struct libxl__checkpoint_secondary *sec = d;

    sec->rings.store_gfn = store_gfn;
    sec->rings.console_gfn = console_gfn;
    sec->rings.results_seen = 1;
}

static int sec_postcopy(void *d)
{
    struct libxl__checkpoint_secondary *sec = d;

    /* The SVM resumes into checkpoint n: its packets from now on belong to epoch n. */
    if (sec->net_epochs)
        libxl__colo_net_epoch(sec->base.domid, sec->s.applied);
    return ckpt_secondary_postcopy(&sec->s);
}

static int sec_wait_checkpoint(void *d)
{
    return ckpt_secondary_wait_checkpoint(&((struct libxl__checkpoint_secondary *)d)->s);
}

static int sec_suspend(void *d)
{
    return ckpt_secondary_suspend(&((struct libxl__checkpoint_secondary *)d)->s);
}

/* The SVM's packets go to the primary's compare proxy, through a forwarder. */
static void colo_net_setup(struct libxl__checkpoint_secondary *sec,
                           const libxl_domain_config *c)
{
    char err[512];

    if (!c->sim.net || !*c->sim.net || !c->sim.net_compare || !*c->sim.net_compare)
        return;
    if (libxl__colo_proxy_spawn(sec->base.ctx, "secondary", sec->base.domid, c->sim.net,
                                c->sim.net_compare, NULL, err, sizeof(err)))
        LOG_ERR(sec->base.ctx, "restore: COLO network forwarder: %s", err);
    else
        sec->net_epochs = 1;
}

struct libxl__checkpoint_secondary *
libxl__checkpoint_secondary_new(libxl_ctx *ctx, uint32_t domid, int stream, int main_fd,
                                int back_fd, const libxl_domain_config *c,
                                struct save_helper_params *p, struct save_helper_hooks *h)
{
    struct libxl__checkpoint_secondary *sec = calloc(1, sizeof(*sec));
    int colo = stream == LIBXL_CHECKPOINTED_STREAM_COLO;

    if (!sec)
        return NULL;
    sec->base.ctx = ctx;
    sec->base.domid = domid;
    sec->stream = stream;
    sec->s.xch = ctx->xch;
    sec->s.domid = domid;
    sec->s.main_fd = main_fd;
    /* Heartbeat: a stalled stream (nothing read for this long) means the primary is
     * lost, whether it stopped between records or inside one. */
    sec->s.timeout_ms = (unsigned int)libxl__setting_num(ctx, LIBXL__HEARTBEAT_TIMEOUT_MS,
                                                         10000);
    p->stall_timeout_ms = sec->s.timeout_ms;
    h->data = sec;
    h->checkpoint = sec_checkpoint;
    if (!colo) {
        /* The engine's only use of it in Remus: the answer to an offer of
         * checkpoint compression. */
        sec->s.back_fd = -1;
        p->back_fd = back_fd;
        p->stream_type = XC_STREAM_REMUS;
        p->cbflags = SHM_CBFLAGS_RESTORE_REMUS;
        return sec;
    }
    /* The back channel carries the engine's dirty pfn lists (written by the helper
     * inside a checkpoint) and libxl's CHECKPOINT_STATE records (written here between
     * the helper's steps): one fd, written by one side at a time. */
    sec->s.back_fd = p->back_fd = back_fd;
    sec->s.colo = 1;
    sec->s.after_apply = sec_after_apply;
    sec->s.opaque = sec;
    sec->s.devices = ctx;
    p->stream_type = XC_STREAM_COLO;
    p->cbflags = SHM_CBFLAGS_RESTORE_COLO;
    h->postcopy = sec_postcopy;
    h->restore_results = sec_restore_results;
    h->wait_checkpoint = sec_wait_checkpoint;
    h->suspend = sec_suspend;
    colo_net_setup(sec, c);
    return sec;
}

/* The survivor's output goes straight to the clients: through its forwarder (COLO with
 * a network device), else served directly. */
static void switch_output(libxl_ctx *ctx, const libxl_domain_config *c, uint32_t domid)
{
    if (libxl__colo_proxy_failover(domid))
        libxl__start_direct_net(ctx, c, domid);
}

void libxl__checkpoint_secondary_failover(struct libxl__checkpoint_secondary *sec,
                                          const libxl_domain_config *c,
                                          const struct save_helper_result *res, int hold)
{
    libxl_ctx *ctx = sec->base.ctx;
    uint32_t domid = sec->base.domid;
    int colo = sec->stream == LIBXL_CHECKPOINTED_STREAM_COLO;
    xhv_dominfo_t d;

    LOG_NOTICE(ctx, "%s failover: %u checkpoint%s received; %s", colo ? "COLO" : "Remus",
               sec->s.applied, sec->s.applied == 1 ? "" : "s",
               res->stalled ? "primary lost: the stream stalled"
                            : sec->s.err[0] ? sec->s.err : "the stream ended");
    if (hold) {
        /* A COLO secondary runs between checkpoints: stop it where it is, so that no
         * second copy of the guest runs while the caller decides. */
        if (colo && !xhv_domain_info(ctx->xch, domid, &d) && !d.paused && !d.shutdown &&
            xhv_domain_pause(ctx->xch, domid))
            libxl__log(ctx, XTL_ERROR, errno, "libxl", "holding domain %u: pause", domid);
        libxl__test_secondary_failover(ctx, domid, colo ? "colo" : "remus", sec->s.applied);
        LOG_NOTICE(ctx, "domain %u is held: paused, its output held back", domid);
        return;
    }
    if (colo)
        libxl__resume_if_suspended(ctx, domid);
    switch_output(ctx, c, domid);
    libxl__test_secondary_failover(ctx, domid, colo ? "colo" : "remus", sec->s.applied);
}

int libxl_domain_takeover(libxl_ctx *ctx, uint32_t domid, unsigned int flags,
                          const libxl_asyncop_how *ao_how)
{
    libxl_domain_config c;
    xhv_dominfo_t d;
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_info(ctx->xch, domid, &d)) {
        LOG_ERR(ctx, "takeover: domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    libxl__resume_if_suspended(ctx, domid);
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL))
        libxl_domain_config_init(&c);
    switch_output(ctx, &c, domid);
    libxl_domain_config_dispose(&c);
    if (xhv_domain_info(ctx->xch, domid, &d)) {
        LOG_ERR(ctx, "takeover: domain %u is gone", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (!(flags & LIBXL_TAKEOVER_PAUSED) && d.paused)
        rc = libxl_domain_unpause(ctx, domid, NULL);
    else if ((flags & LIBXL_TAKEOVER_PAUSED) && !d.paused)
        rc = libxl_domain_pause(ctx, domid, NULL);
    if (!rc)
        LOG_NOTICE(ctx, "domain %u took over%s", domid,
                   flags & LIBXL_TAKEOVER_PAUSED ? " (paused)" : "");
    return rc;
}

int libxl__checkpoint_secondary_rings_connected(const struct libxl__checkpoint_secondary *sec)
{
    return sec->rings_connected;
}

const char *libxl__checkpoint_secondary_err(const struct libxl__checkpoint_secondary *sec)
{
    return sec->s.err;
}

void libxl__checkpoint_secondary_free(struct libxl__checkpoint_secondary *sec)
{
    free(sec);
}
