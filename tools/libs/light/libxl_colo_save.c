/*
 * The COLO primary's network side: a domain with a network device sends its packets
 * through the compare proxy, which releases them only when the secondary sent the
 * same and asks for a checkpoint when they differ (docs/colo-proxy.md).
 */
#include "libxl_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "libxl_checkpoint.h"
#include "libxl_colo_proxy.h"
#include "libxl_test.h"

int libxl__colo_save_setup(libxl_ctx *ctx, uint32_t domid, struct ckpt_primary *p)
{
    libxl_domain_config dc;
    char perr[512];
    int rc = 0;

    if (libxl_retrieve_domain_configuration(ctx, domid, &dc, NULL))
        return 0;   /* no stored config: no network device we know of */
    if (!dc.sim.net || !*dc.sim.net)
        goto out;
    if (!dc.sim.net_compare || !*dc.sim.net_compare) {
        LOG_ERR(ctx, "COLO: domain %u has a network device (sim_net) but no sim_net_compare "
                "address for the secondary's packets", domid);
        rc = ERROR_INVAL;
        goto out;
    }
    if (libxl__colo_proxy_spawn(ctx, "primary", domid, dc.sim.net, dc.sim.net_compare,
                                &p->proxy_fd, perr, sizeof(perr))) {
        LOG_ERR(ctx, "COLO: starting the compare proxy: %s", perr);
        rc = ERROR_FAIL;
        goto out;
    }
    p->have_proxy = 1;
    LOG_NOTICE(ctx, "COLO: domain %u's packets go through the compare proxy (output %s, "
               "secondary's packets on %s)", domid, dc.sim.net, dc.sim.net_compare);
 out:
    libxl_domain_config_dispose(&dc);
    return rc;
}

static void proxy_lost(libxl_ctx *ctx, struct ckpt_primary *p, unsigned int n)
{
    LOG_NOTICE(ctx, "COLO proxy lost at checkpoint %u (%s): checkpoints are periodic only",
               n, errno ? strerror(errno) : "no answer");
    close(p->proxy_fd);
    p->have_proxy = 0;
}

void libxl__colo_save_epoch(libxl_ctx *ctx, uint32_t domid, struct ckpt_primary *p,
                            unsigned int n)
{
    /* the checkpoint boundary of the primary's packets */
    if (p->have_proxy && libxl__colo_net_epoch(domid, n))
        proxy_lost(ctx, p, n);
}

void libxl__colo_save_checkpoint(libxl_ctx *ctx, struct ckpt_primary *p, unsigned int n)
{
    /* Not before: had the primary died with its checkpoint on the way, the secondary
     * would take over from the one before, and these packets' state would be lost. */
    if (p->have_proxy && libxl__colo_proxy_checkpoint(p->proxy_fd))
        proxy_lost(ctx, p, n);
}

void libxl__colo_save_teardown(libxl_ctx *ctx, struct ckpt_primary *p)
{
    if (!p->have_proxy && !p->proxy_requests)
        return;
    LOG_NOTICE(ctx, "COLO: %u checkpoints, %u of them asked for by the compare proxy",
               p->checkpoints, p->proxy_requests);
    if (p->have_proxy) {
        /* the proxy passes the output through from now on: unprotected */
        libxl__test_replication_ended(ctx);
        close(p->proxy_fd);
        p->have_proxy = 0;
    }
}
