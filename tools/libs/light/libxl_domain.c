/*
 * Domain lifecycle: list and info, rename, pause and unpause, resume, destroy.
 */
#include "libxl_internal.h"
#include "libxl_device.h"
#include "xhv_sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill_dominfo(libxl_ctx *ctx, const xhv_dominfo_t *d, libxl_dominfo *o)
{
    xhv_sim_status_t st;

    libxl_dominfo_init(o);
    memcpy(o->uuid.uuid, d->uuid, sizeof(o->uuid.uuid));
    o->domid = d->domid;
    o->running = d->running;
    o->blocked = !d->running && !d->paused && !d->shutdown;
    o->paused = d->paused;
    o->shutdown = d->shutdown;
    o->dying = d->dying;
    o->shutdown_reason = d->shutdown ? (libxl_shutdown_reason)d->shutdown_reason
                                     : LIBXL_SHUTDOWN_REASON_UNKNOWN;
    o->current_memkb = d->nr_pages * 4;
    o->max_memkb = d->max_pages * 4;
    o->vcpu_online = 1;
    o->vcpu_max_id = 0;
    o->domain_type = !libxl__on_xen(ctx) ? LIBXL_DOMAIN_TYPE_HVM
                     : d->hvm ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_PV;
    if (!xhv_sim_status(ctx->xch, d->domid, &st)) {
        o->cpu_time = st.steps;
        o->sim_resumes = st.resumes;
        o->sim_selfchecks_passed = st.selfchecks_passed;
        o->sim_selfchecks_failed = st.selfchecks_failed;
        o->sim_vcpu_alive = st.vcpu_alive;
    }
}

libxl_dominfo *libxl_list_domain(libxl_ctx *ctx, int *nb_domain_out)
{
    xhv_dominfo_t d[256];
    libxl_dominfo *out;
    int n = xhv_domain_list(ctx->xch, d, 256);

    *nb_domain_out = 0;
    if (n < 0) {
        LOG_ERR(ctx, "listing domains: %s", strerror(errno));
        return NULL;
    }
    out = calloc((size_t)n + 1, sizeof(*out));
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++)
        fill_dominfo(ctx, &d[i], &out[i]);
    *nb_domain_out = n;
    return out;
}

void libxl_dominfo_list_free(libxl_dominfo *list, int nb_domain)
{
    for (int i = 0; list && i < nb_domain; i++)
        libxl_dominfo_dispose(&list[i]);
    free(list);
}

void libxl_dominfo_init(libxl_dominfo *p)
{
    memset(p, 0, sizeof(*p));
    p->shutdown_reason = LIBXL_SHUTDOWN_REASON_UNKNOWN;
    p->domain_type = LIBXL_DOMAIN_TYPE_INVALID;
}

/* Nothing is allocated in a dominfo here; upstream callers pair init and dispose. */
void libxl_dominfo_dispose(libxl_dominfo *p)
{
    memset(p, 0, sizeof(*p));
}

int libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info_r, uint32_t domid)
{
    xhv_dominfo_t d;

    if (xhv_domain_info(ctx->xch, domid, &d))
        return ERROR_DOMAIN_NOTFOUND;
    if (info_r)
        fill_dominfo(ctx, &d, info_r);
    return 0;
}

int libxl_domain_rename(libxl_ctx *ctx, uint32_t domid, const char *old_name,
                        const char *new_name)
{
    xhv_dominfo_t d;

    if (xhv_domain_info(ctx->xch, domid, &d))
        return ERROR_DOMAIN_NOTFOUND;
    if (old_name && strcmp(old_name, d.name)) {
        LOG_ERR(ctx, "domain %u is called '%s', not '%s'", domid, d.name, old_name);
        return ERROR_INVAL;
    }
    if (xhv_domain_rename(ctx->xch, domid, new_name)) {
        LOG_ERR(ctx, "renaming domain %u to '%s': %s", domid, new_name, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

#define MAX_DEVICES 64
int libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    struct libxl__device devs[MAX_DEVICES];
    int ndev = 0;
    char path[512];
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc)
        return rc;
    /* the path names the domain's uuid: find it while the domain exists */
    if (libxl__userdata_path(ctx, path, sizeof(path), domid))
        path[0] = 0;
    /* Its devices' backends are told first; they are removed once the guest is gone
     * (whoever built it: upstream's xl for the source of a migration). */
    if (libxl__on_xen(ctx))
        ndev = libxl__devices_list(ctx, domid, devs, MAX_DEVICES);
    for (int i = 0; i < ndev; i++)
        libxl__device_offline(ctx, &devs[i]);
    if (xhv_domain_destroy(ctx->xch, domid)) {
        LOG_ERR(ctx, "destroying domain %u: %s", domid, strerror(errno));
        return errno == ESRCH || errno == ENOENT ? ERROR_DOMAIN_NOTFOUND : ERROR_FAIL;
    }
    for (int i = 0; i < ndev; i++)
        libxl__device_remove(ctx, &devs[i]);
    if (path[0])
        unlink(path);
    return 0;
}

int libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_pause(ctx->xch, domid)) {
        LOG_ERR(ctx, "pausing domain %u: %s", domid, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

int libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_unpause(ctx->xch, domid)) {
        LOG_ERR(ctx, "unpausing domain %u: %s", domid, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

int libxl_domain_resume(libxl_ctx *ctx, uint32_t domid, int suspend_cancel,
                        const libxl_asyncop_how *ao_how)
{
    int rc = libxl__check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_resume(ctx->xch, domid, suspend_cancel)) {
        LOG_ERR(ctx, "resuming domain %u: %s", domid, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

/* Resume the primary if a failed save left it suspended: nothing lost. */
void libxl__resume_if_suspended(libxl_ctx *ctx, uint32_t domid)
{
    xhv_dominfo_t d;

    if (!xhv_domain_info(ctx->xch, domid, &d) && d.shutdown &&
        d.shutdown_reason == XHV_SHUTDOWN_suspend) {
        if (xhv_domain_resume(ctx->xch, domid, 1))
            libxl__log(ctx, XTL_ERROR, errno, "libxl", "resuming domain %u after the failure",
                       domid);
        else
            LOG_NOTICE(ctx, "domain %u resumed", domid);
    }
}
