/*
 * Domain creation: a new simulated guest from its config, and a domain built from a
 * libxl stream (plain restore, the receiving side of a migration, and the secondary of
 * Remus and COLO, whose checkpoint protocol is libxl_colo_restore.c's).
 */
#include "libxl_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libxl_colo_proxy.h"
#include "libxl_device.h"
#include "libxl_records.h"
#include "libxl_test.h"
#include "libxl_save_msgs.h"
#include "xenguest_colo.h"
#include "xhv_sim.h"

#define PAGES_PER_KB(kb) ((kb) / 4)

static int create_domain(libxl_ctx *ctx, libxl_domain_config *c, uint32_t *domid, int empty)
{
    xhv_domain_config_t cfg;
    struct xhv_sim_guest guest;
    uint32_t other;
    uint64_t kb = c->b_info.max_memkb;

    memset(&cfg, 0, sizeof(cfg));
    memset(&guest, 0, sizeof(guest));
    if (!c->c_info.name || !*c->c_info.name) {
        LOG_ERR(ctx, "domain config: no name");
        return ERROR_INVAL;
    }
    if (strlen(c->c_info.name) >= sizeof(cfg.name)) {
        LOG_ERR(ctx, "domain name '%s' is too long (at most %zu characters)", c->c_info.name,
             sizeof(cfg.name) - 1);
        return ERROR_INVAL;
    }
    if (!xhv_domain_lookup(ctx->xch, c->c_info.name, &other)) {
        LOG_ERR(ctx, "domain '%s' already exists with id %u", c->c_info.name, other);
        return ERROR_INVAL;
    }
    if (libxl__on_xen(ctx)) {
        /* Restore targets only: a fresh guest is built from its kernel by upstream xl. */
        if (!empty) {
            LOG_ERR(ctx, "domain '%s': on real Xen this toolstack builds the receiving side of "
                 "restore and migration only; create guests with upstream `xl create`",
                 c->c_info.name);
            return ERROR_INVAL;
        }
        if (c->b_info.max_vcpus < 1 || c->b_info.max_vcpus > 128) {
            LOG_ERR(ctx, "domain config: max_vcpus %d out of range 1..128", c->b_info.max_vcpus);
            return ERROR_INVAL;
        }
        cfg.guest_type = c->c_info.type == LIBXL_DOMAIN_TYPE_PV ? XHV_GUEST_PV
                         : c->c_info.type == LIBXL_DOMAIN_TYPE_PVH ? XHV_GUEST_PVH
                                                                   : XHV_GUEST_HVM;
        cfg.max_vcpus = (unsigned int)c->b_info.max_vcpus;
        memcpy(cfg.uuid, c->c_info.uuid.uuid, sizeof(cfg.uuid));
    } else if (c->b_info.max_vcpus != 1) {
        LOG_ERR(ctx, "simulated guests have exactly 1 vcpu (config asks for %d)",
             c->b_info.max_vcpus);
        return ERROR_INVAL;
    }
    if (kb < 64 || kb % 4) {
        LOG_ERR(ctx, "domain config: memory %llu KiB is not a positive number of pages",
             (unsigned long long)kb);
        return ERROR_INVAL;
    }
    snprintf(cfg.name, sizeof(cfg.name), "%s", c->c_info.name);
    cfg.max_pages = PAGES_PER_KB(kb);
    if (!empty) {
        if (!c->sim.program || !*c->sim.program) {
            LOG_ERR(ctx, "domain config: no sim workload (sim_program)");
            return ERROR_INVAL;
        }
        snprintf(guest.program, sizeof(guest.program), "%s", c->sim.program);
    }
    /* A restore target keeps its arguments too: the restored program reads them. */
    guest.prog_args[0] = c->sim.flags;
    guest.prog_args[1] = c->sim.max_steps;
    guest.prog_args[2] = c->sim.rate;
    guest.prog_args[3] = c->sim.seed;
    guest.host_input = c->sim.host_input;
    if (!libxl__on_xen(ctx))
        cfg.sim = &guest;
    cfg.start_paused = empty;
    if (xhv_domain_create(ctx->xch, &cfg, domid)) {
        LOG_ERR(ctx, "creating domain '%s': %s", c->c_info.name, strerror(errno));
        return ERROR_FAIL;
    }
    /* The vifs wait, connected to their bridges, for the guest's netfront: a restored
     * guest reconnects to them in its resume path. */
    if (libxl__on_xen(ctx) && libxl__nics_add(ctx, *domid, c)) {
        libxl_domain_destroy(ctx, *domid, NULL);
        return ERROR_FAIL;
    }
    libxl__userdata_store(ctx, *domid, c);
    return 0;
}

int libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid,
                            const libxl_asyncop_how *ao_how,
                            const libxl_asyncprogress_how *aop_console_how)
{
    int rc = libxl__check_ao(ctx, ao_how);

    (void)aop_console_how;
    if (rc)
        return rc;
    rc = create_domain(ctx, d_config, domid, 0);
    if (!rc)
        libxl__start_direct_net(ctx, d_config, *domid);
    return rc;
}

void libxl__start_direct_net(libxl_ctx *ctx, const libxl_domain_config *c, uint32_t domid)
{
    char err[512];

    if (!c->sim.net || !*c->sim.net)
        return;
    if (libxl__colo_proxy_spawn(ctx, "direct", domid, c->sim.net, NULL, NULL, err, sizeof(err)))
        LOG_ERR(ctx, "domain %u: network output %s: %s", domid, c->sim.net, err);
}


/* ---- restore ---- */
void libxl_domain_restore_params_init(libxl_domain_restore_params *p)
{
    memset(p, 0, sizeof(*p));
    p->stream_version = 2;
}

void libxl_domain_restore_params_dispose(libxl_domain_restore_params *p)
{
    free(p->colo_proxy_script);
    memset(p, 0, sizeof(*p));
}

static int hook_static_data_done(unsigned int missing, void *data)
{
    (void)missing; (void)data;
    return 0;   /* the simulated CPU has no CPUID/MSR policy to regenerate */
}

#define HVM_PARAM_STORE_PFN   1
#define HVM_PARAM_CONSOLE_PFN 17
int libxl__connect_rings(libxl_ctx *ctx, uint32_t domid, const struct save_helper_result *res)
{
    uint64_t store = res->store_gfn, console = res->console_gfn;

    /* A failover can stop the helper before it reported the frames (a stalled
     * primary): the restored domain's params have them too. */
    if (!res->results_seen &&
        (xhv_hvm_param_get(ctx->xch, domid, HVM_PARAM_STORE_PFN, &store) ||
         xhv_hvm_param_get(ctx->xch, domid, HVM_PARAM_CONSOLE_PFN, &console))) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "restoring domain %u: no ring frames from "
                   "the save helper or the domain's params", domid);
        return -1;
    }
    if (xhv_domain_introduce(ctx->xch, domid, store, console)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "restoring domain %u: connecting its "
                   "xenstore and console rings", domid);
        return -1;
    }
    return 0;
}

static int check_restore_args(libxl_ctx *ctx, int stream, int send_back_fd,
                              const libxl_domain_restore_params *params)
{
    if (params && params->stream_version != 0 && params->stream_version != 2) {
        LOG_ERR(ctx, "restore: stream version %d is not supported (only 2)",
                params->stream_version);
        return ERROR_INVAL;
    }
    if (stream < LIBXL_CHECKPOINTED_STREAM_NONE || stream > LIBXL_CHECKPOINTED_STREAM_COLO) {
        LOG_ERR(ctx, "restore: checkpointed_stream %d is not NONE, REMUS or COLO", stream);
        return ERROR_INVAL;
    }
    if (stream == LIBXL_CHECKPOINTED_STREAM_COLO && send_back_fd < 0) {
        LOG_ERR(ctx, "restore: COLO needs a back channel (send_back_fd)");
        return ERROR_INVAL;
    }
    return 0;
}

int libxl_domain_create_restore(libxl_ctx *ctx, libxl_domain_config *d_config,
                                uint32_t *domid, int restore_fd, int send_back_fd,
                                const libxl_domain_restore_params *params,
                                const libxl_asyncop_how *ao_how,
                                const libxl_asyncprogress_how *aop_console_how)
{
    struct libxl__helper_op op = { .ctx = ctx };
    struct save_helper_hooks h = {
        .data = &op, .static_data_done = hook_static_data_done, .log = libxl__hook_log,
        .progress = libxl__hook_progress,
    };
    struct save_helper_params p = {
        .helper_path = libxl__setting_str(ctx, LIBXL__SAVE_HELPER),
        .restore = 1, .io_fd = restore_fd, .back_fd = -1,
        .cbflags = SHM_CBFLAGS_RESTORE_PLAIN, .stream_type = XC_STREAM_PLAIN,
    };
    struct libxl__checkpoint_secondary *sec = NULL;
    struct save_helper_result res;
    char err[512];
    int stream = params ? params->checkpointed_stream : LIBXL_CHECKPOINTED_STREAM_NONE;
    int rc = libxl__check_ao(ctx, ao_how), created = 0;

    (void)aop_console_how;
    if (rc || (rc = check_restore_args(ctx, stream, send_back_fd, params)))
        goto out;
    if (libxl__read_stream_start(restore_fd, err, sizeof(err))) {
        LOG_ERR(ctx, "restore: %s", err);
        rc = ERROR_FAIL;
        goto out;
    }
    rc = create_domain(ctx, d_config, domid, 1);
    if (rc)
        goto out;
    created = 1;
    op.domid = p.domid = *domid;
    if (xhv_domain_ports(ctx->xch, *domid, &p.store_evtchn, &p.console_evtchn)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "restore: event channels of domain %u",
                   *domid);
        rc = ERROR_FAIL;
        goto out;
    }
    if (stream != LIBXL_CHECKPOINTED_STREAM_NONE) {
        /* the secondary's state takes over the hooks (and the back channel) */
        sec = libxl__checkpoint_secondary_new(ctx, *domid, stream, restore_fd, send_back_fd,
                                              d_config, &p, &h);
        if (!sec) {
            rc = ERROR_NOMEM;
            goto out;
        }
    }
    if (libxl__save_helper_run(&p, &h, &res)) {
        const char *why = sec ? libxl__checkpoint_secondary_err(sec) : "";

        LOG_ERR(ctx, "restoring domain %u: %s%s%s%s", *domid, res.err, *why ? " (" : "", why,
                *why ? ")" : "");
        rc = ERROR_FAIL;
        goto out;
    }
    if (sec) {
        /* The helper completed a checkpointed stream: the primary or the link is gone. */
        libxl__checkpoint_secondary_failover(sec, d_config, &res,
                                             params && params->hold_at_failover);
    } else if (libxl__read_records_until(restore_fd, LIBXL_REC_END, err, sizeof(err))) {
        LOG_ERR(ctx, "restore: after the libxc stream: %s", err);
        rc = ERROR_FAIL;
        goto out;
    } else {
        libxl__start_direct_net(ctx, d_config, *domid);
    }
    if ((!sec || !libxl__checkpoint_secondary_rings_connected(sec)) &&
        libxl__connect_rings(ctx, *domid, &res))
        rc = ERROR_FAIL;
 out:
    if (rc && created)
        libxl_domain_destroy(ctx, *domid, NULL);
    libxl__checkpoint_secondary_free(sec);
    return rc;
}
