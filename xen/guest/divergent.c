/*
 * "divergent": each step draws x from the PRNG (args[3]: seed) and mixes in the
 * host-local input h (the domain's host_input, not part of the context): page
 * p = mix(x ^ h) mod npages receives {u64 v = mix(x + h + count), u64 0xdd<<56|p,
 * u64 mix(v ^ p)}.  The same context on two hosts with different host_input dirties
 * different pages with different values.  Self-check: every page is unwritten or
 * carries a consistent stamp for its own pfn.  pc holds the last page written.
 */
#include <string.h>

#include "simxen-shared.h"

#define TAG (0xddULL << 56)

static void init(struct sim_regs *r, const struct sim_guest *g)
{
    r->pc = 0;
    r->prng = g->args[SIMXEN_ARG_PROG] ^ 0x646976657267656eULL;
}

static void step(struct sim_regs *r, const struct sim_guest *g)
{
    uint64_t x = sim_prng_next(&r->prng);
    uint64_t p = sim_mix64(x ^ g->host_input) % g->npages;
    uint64_t v = sim_mix64(x + g->host_input + r->count);
    uint64_t tag = TAG | p, chk = sim_mix64(v ^ p);
    uint8_t *page = g->mem + (p << 12);

    memcpy(page, &v, 8);
    memcpy(page + 8, &tag, 8);
    memcpy(page + 16, &chk, 8);
    r->pc = p;
}

static int selfcheck(const struct sim_regs *r, const struct sim_guest *g, uint64_t *bad)
{
    (void)r;
    return sim_check_tagged_pages(g, 0, TAG, bad);
}

const struct sim_program sim_prog_divergent = {
    .name = "divergent", .id = 4, .check_args = sim_args_any, .check_regs = sim_regs_pc_in_ram,
    .init = init, .step = step, .selfcheck = selfcheck,
};
