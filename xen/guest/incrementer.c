/*
 * "incrementer" (the QEMU migration-test invariant): each step increments the first
 * byte of page pc and advances pc, wrapping to page 0 and incrementing pass.
 * Invariant: pages [0, pc) hold pass+1, pages [pc, npages) hold pass (mod 256).
 */
#include "simxen-shared.h"

static int check_args(const uint64_t *args, uint64_t npages)
{
    (void)npages;
    return args[SIMXEN_ARG_PROG] == 0 ? 0 : -1;
}

static void init(struct sim_regs *r, const struct sim_guest *g)
{
    (void)g;
    r->pc = 0;
    r->pass = 0;
}

static void step(struct sim_regs *r, const struct sim_guest *g)
{
    g->mem[r->pc << 12] = (uint8_t)(r->pass + 1);
    if (++r->pc == g->npages) {
        r->pc = 0;
        r->pass++;
    }
}

static int selfcheck(const struct sim_regs *r, const struct sim_guest *g, uint64_t *bad)
{
    for (uint64_t p = 0; p < g->npages; p++) {
        uint8_t want = (uint8_t)(p < r->pc ? r->pass + 1 : r->pass);
        if (((volatile uint8_t *)g->mem)[p << 12] != want) {
            *bad = p;
            return -1;
        }
    }
    return 0;
}

const struct sim_program sim_prog_incrementer = {
    .name = "incrementer", .id = 1, .check_args = check_args, .check_regs = sim_regs_pc_in_ram,
    .init = init, .step = step, .selfcheck = selfcheck,
};
