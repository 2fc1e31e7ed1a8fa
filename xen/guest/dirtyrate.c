/*
 * "dirtyrate": writes a stamp {u64 0xd1<<56|pfn, u64 step count} to the pages of its
 * working set in turn (args[3]: working set in pages, 0 = all RAM); the rate is the
 * generic args[2] (pages/s, 0 = as fast as possible).  Self-check: working-set pages
 * are unwritten or carry their own stamp, pages outside it are never stamped.
 */
#include <string.h>

#include "simxen-shared.h"

#define TAG (0xd1ULL << 56)

static uint64_t ws(const uint64_t *args, uint64_t npages)
{
    return args[SIMXEN_ARG_PROG] ? args[SIMXEN_ARG_PROG] : npages;
}

static int check_args(const uint64_t *args, uint64_t npages)
{
    return args[SIMXEN_ARG_PROG] <= npages ? 0 : -1;
}

static int check_regs(const struct sim_regs *r, const uint64_t *args, uint64_t npages)
{
    return r->pc < ws(args, npages) ? 0 : -1;
}

static void init(struct sim_regs *r, const struct sim_guest *g)
{
    (void)g;
    r->pc = 0;
}

static void step(struct sim_regs *r, const struct sim_guest *g)
{
    uint8_t *page = g->mem + (r->pc << 12);
    uint64_t stamp = TAG | r->pc;

    memcpy(page, &stamp, 8);
    memcpy(page + 8, &r->count, 8);
    if (++r->pc == ws(g->args, g->npages)) {
        r->pc = 0;
        r->pass++;
    }
}

static int selfcheck(const struct sim_regs *r, const struct sim_guest *g, uint64_t *bad)
{
    uint64_t w = ws(g->args, g->npages);

    (void)r;
    for (uint64_t p = 0; p < g->npages; p++) {
        uint64_t stamp;

        memcpy(&stamp, g->mem + (p << 12), 8);
        if (p < w ? (stamp != 0 && stamp != (TAG | p)) : stamp != 0) {
            *bad = p;
            return -1;
        }
    }
    return 0;
}

const struct sim_program sim_prog_dirtyrate = {
    .name = "dirtyrate", .id = 3, .check_args = check_args, .check_regs = check_regs,
    .init = init, .step = step, .selfcheck = selfcheck,
};
