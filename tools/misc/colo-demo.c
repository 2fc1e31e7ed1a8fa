/*
 * colo-demo: start a guest on the simulated hypervisor, protect it with COLO to a
 * secondary on this host for a few checkpoints, fail over, and print what happened.
 * Usage: colo-demo [checkpoints] [interval_ms]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "colo_local.h"
#include "xhv_sim.h"

#define PAGES 16384   /* 64 MiB guest */

static void report(const struct colo_checkpoint_report *r, void *opaque)
{
    int *bad = opaque;

    printf("  checkpoint %2u: secondary dirtied %5llu pages (B) since the last one; "
           "after A∪B: %s\n",
           r->checkpoint, (unsigned long long)r->svm_dirty,
           r->diff == 0 ? "secondary == primary (memory and context)" : "MISMATCH");
    if (r->diff)
        *bad += 1;
    fflush(stdout);
}

static int create(xc_interface *xch, const char *name, const char *program, uint64_t input,
                  int paused, uint32_t *domid)
{
    xhv_domain_config_t cfg;
    struct xhv_sim_guest sim;

    memset(&cfg, 0, sizeof(cfg));

    memset(&sim, 0, sizeof(sim));

    cfg.sim = &sim;
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    snprintf(sim.program, sizeof(sim.program), "%s", program);
    cfg.max_pages = PAGES;
    sim.prog_args[2] = 20000;   /* page writes per second */
    sim.host_input = input;
    cfg.start_paused = paused;
    if (xhv_domain_create(xch, &cfg, domid)) {
        perror(name);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned int checkpoints = argc > 1 ? (unsigned int)atoi(argv[1]) : 10;
    unsigned int interval = argc > 2 ? (unsigned int)atoi(argv[2]) : 100;
    struct colo_local_opts opts = { .checkpoints = checkpoints, .interval_ms = interval,
                                    .compare = 1, .report = report };
    struct colo_local_result res;
    xhv_sim_status_t before, after;
    struct timespec ts = { 0, 200 * 1000000L };
    xc_interface *xch;
    int bad = 0;

    opts.opaque = &bad;
    setvbuf(stdout, NULL, _IOLBF, 0);
    xch = xhv_open("sim");
    if (!xch) {
        perror("opening the simulated hypervisor");
        return 1;
    }
    if (create(xch, "demo-primary", "divergent", 1, 0, &opts.pvm_domid) ||
        create(xch, "demo-secondary", "", 2, 1, &opts.svm_domid))
        return 1;
    printf("Primary domain %u (64 MiB, writes 20000 pages/s, host input 1)\n", opts.pvm_domid);
    printf("Secondary domain %u (empty, host input 2: same guest, different local input)\n",
           opts.svm_domid);
    printf("COLO: %u checkpoints every %u ms; the first is a live migration.\n", checkpoints,
           interval);
    colo_local_run(xch, &opts, &res);
    printf("Primary stopped (save rc %d); secondary restore ended with %s.\n", res.save_rc,
           res.restore_rc == 0 ? "a clean failover" : "an ERROR");
    xhv_sim_status(xch, opts.svm_domid, &before);
    {
        /* The secondary takes over: it is running already unless the primary stopped
         * while the secondary was suspended for a checkpoint. */
        xhv_dominfo_t info;

        if (!xhv_domain_info(xch, opts.svm_domid, &info) && info.shutdown &&
            info.shutdown_reason == XHV_SHUTDOWN_suspend)
            xhv_domain_resume(xch, opts.svm_domid, 1);
    }
    nanosleep(&ts, NULL);
    xhv_sim_status(xch, opts.svm_domid, &after);
    printf("Secondary after failover: %s (%llu guest steps in 200 ms), self-checks passed %llu, "
           "failed %llu\n",
           after.steps > before.steps ? "running" : "NOT running",
           (unsigned long long)(after.steps - before.steps),
           (unsigned long long)after.selfchecks_passed, (unsigned long long)after.selfchecks_failed);
    xhv_domain_destroy(xch, opts.pvm_domid);
    xhv_domain_destroy(xch, opts.svm_domid);
    xhv_close(xch);
    if (bad || res.save_rc || res.restore_rc || after.steps <= before.steps ||
        after.selfchecks_failed) {
        printf("RESULT: FAILED\n");
        return 1;
    }
    printf("RESULT: %u checkpoints, secondary identical to primary at every one.\n",
           res.reports);
    return 0;
}
