/*
 * What only the simulated hypervisor has, through the hypervisor interface: the guest
 * program a new domain runs, and the program's account of itself.  The real-Xen
 * backend refuses a guest program and answers xhv_sim_status with ENOSYS.
 */
#ifndef XHV_SIM_H
#define XHV_SIM_H

#include <stdint.h>

#include "xhv.h"

/* xhv_domain_config_t.sim: the guest program (docs/simulated-hypervisor.md). */
struct xhv_sim_guest {
    char program[32];             /* "incrementer", "crcblocks", "dirtyrate", "divergent",
                                     "netsend" */
    uint64_t prog_args[4];        /* flags, max steps, rate, program specific */
    uint64_t host_input;          /* host-local input (divergent, netsend) */
};

typedef struct xhv_sim_status {
    uint64_t steps;               /* guest program steps executed since creation */
    uint64_t resumes;             /* times the guest ran its resume path */
    uint64_t selfchecks_passed;   /* resume-time memory self-checks that passed */
    uint64_t selfchecks_failed;   /* ... that found a violation */
    uint64_t first_bad_pfn;       /* first pfn of the last failed self-check */
    int vcpu_alive;               /* the vcpu process exists */
} xhv_sim_status_t;

int xhv_sim_status(xc_interface *xch, uint32_t domid, xhv_sim_status_t *st);

#endif
