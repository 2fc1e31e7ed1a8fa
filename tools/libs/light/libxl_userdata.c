/*
 * The config a domain was created with, kept for save and migration.  Real Xen:
 * upstream libxl's place and form, so that upstream's xl and this toolstack each find
 * the config of a domain the other one built.
 */
#include "libxl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USERDATA_MAX (1 << 20)      /* a stored config larger than this is not ours */

/*
 * Where a domain's config is kept.  Real Xen: upstream libxl's place,
 * /var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json, so that upstream's xl finds the
 * config of a domain this toolstack restored and the other way round.  Simulated
 * hypervisor: beside its state.
 */
int libxl__userdata_path(libxl_ctx *ctx, char *buf, size_t len, uint32_t domid)
{
    const char *dir = getenv("SIMXEN_DIR");
    xhv_dominfo_t info;
    const uint8_t *u = info.uuid;

    if (!libxl__on_xen(ctx)) {
        snprintf(buf, len, "%s/userdata-d%u.libxl-json", dir && *dir ? dir : "/dev/shm/simxen",
                 domid);
        return 0;
    }
    if (xhv_domain_info(ctx->xch, domid, &info))
        return -1;
    snprintf(buf, len, "/var/lib/xen/userdata-d.%u." LIBXL_UUID_FMT ".libxl-json", domid,
             LIBXL__UUID_BYTES(u));
    return 0;
}

void libxl__userdata_store(libxl_ctx *ctx, uint32_t domid, libxl_domain_config *c)
{
    char path[512], *s;
    FILE *f;

    /* Real Xen: only upstream's own JSON is useful to upstream's xl. */
    if ((libxl__on_xen(ctx) && !c->xen_json) ||
        libxl__userdata_path(ctx, path, sizeof(path), domid))
        return;
    s = libxl_domain_config_to_json(ctx, c);
    f = s ? fopen(path, "w") : NULL;
    if (f) {
        fputs(s, f);
        fclose(f);
    }
    free(s);
}

int libxl_retrieve_domain_configuration(libxl_ctx *ctx, uint32_t domid,
                                        libxl_domain_config *d_config,
                                        const libxl_asyncop_how *ao_how)
{
    char path[512], *buf;
    xhv_dominfo_t info;
    FILE *f = NULL;
    long n;
    int rc;

    (void)ao_how;
    if (xhv_domain_info(ctx->xch, domid, &info)) {
        LOG_ERR(ctx, "domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (!libxl__userdata_path(ctx, path, sizeof(path), domid))
        f = fopen(path, "r");
    if (!f) {
        /* No stored config: reconstruct what the hypervisor knows. */
        libxl_domain_config_init(d_config);
        d_config->c_info.name = strdup(info.name);
        d_config->b_info.max_memkb = info.max_pages * 4;
        if (libxl__on_xen(ctx)) {
            d_config->c_info.type = info.hvm ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_PV;
            memcpy(d_config->c_info.uuid.uuid, info.uuid, sizeof(info.uuid));
        }
        return 0;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    if (n < 0 || n > USERDATA_MAX) {
        LOG_ERR(ctx, "domain %u: stored config %s is %ld bytes (at most %d)", domid, path, n,
             USERDATA_MAX);
        fclose(f);
        return ERROR_FAIL;
    }
    buf = calloc(1, (size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return ERROR_FAIL;
    }
    fclose(f);
    rc = libxl_domain_config_from_json(ctx, d_config, buf);
    free(buf);
    if (!rc) {
        free(d_config->c_info.name);
        d_config->c_info.name = strdup(info.name);   /* it may have been renamed */
    }
    return rc;
}
