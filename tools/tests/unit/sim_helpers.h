/* Helpers shared by the simulated-hypervisor unit tests (header-only). */
#ifndef SIM_HELPERS_H
#define SIM_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "xhv.h"
#include "xhv_sim.h"

static inline uint64_t sim_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline xc_interface *sim_open(void)
{
    xc_interface *xch;

    test_sim_dir();
    xch = xhv_open("sim");
    if (!xch) {
        printf("Bail out! xhv_open(sim): %s\n", strerror(errno));
        exit(1);
    }
    return xch;
}

static inline uint32_t sim_create(xc_interface *xch, const char *name, const char *program,
                                  uint64_t pages, uint64_t a0, uint64_t a1, uint64_t a2,
                                  uint64_t a3, uint64_t host_input, int paused)
{
    xhv_domain_config_t cfg;
    struct xhv_sim_guest sim;
    uint32_t domid = 0;

    memset(&cfg, 0, sizeof(cfg));

    memset(&sim, 0, sizeof(sim));

    cfg.sim = &sim;
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    snprintf(sim.program, sizeof(sim.program), "%s", program);
    cfg.max_pages = pages;
    sim.prog_args[0] = a0;
    sim.prog_args[1] = a1;
    sim.prog_args[2] = a2;
    sim.prog_args[3] = a3;
    sim.host_input = host_input;
    cfg.start_paused = paused;
    if (xhv_domain_create(xch, &cfg, &domid)) {
        printf("# create %s (%s): %s\n", name, program, strerror(errno));
        return 0;
    }
    return domid;
}

static inline uint64_t sim_steps(xc_interface *xch, uint32_t domid)
{
    xhv_sim_status_t st;
    if (xhv_sim_status(xch, domid, &st))
        return UINT64_MAX;
    return st.steps;
}

/* Wait until the domain executed at least n steps (or timeout_ms passed). */
static inline int sim_wait_steps(xc_interface *xch, uint32_t domid, uint64_t n, int timeout_ms)
{
    uint64_t end = sim_now_ms() + timeout_ms;
    while (sim_now_ms() < end) {
        uint64_t s = sim_steps(xch, domid);
        if (s != UINT64_MAX && s >= n)
            return 0;
        usleep(1000);
    }
    return -1;
}

static inline int sim_wait_status(xc_interface *xch, uint32_t domid, int timeout_ms,
                                  uint64_t min_checks, xhv_sim_status_t *st)
{
    uint64_t end = sim_now_ms() + timeout_ms;
    while (sim_now_ms() < end) {
        if (xhv_sim_status(xch, domid, st) == 0 &&
            st->selfchecks_passed + st->selfchecks_failed >= min_checks)
            return 0;
        usleep(1000);
    }
    return -1;
}

static inline int bit_test(const unsigned long *bm, uint64_t i)
{
    return (bm[i / (8 * sizeof(long))] >> (i % (8 * sizeof(long)))) & 1;
}

#endif
