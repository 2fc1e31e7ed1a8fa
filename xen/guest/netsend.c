/*
 * "netsend": a guest with a network device (docs/colo-proxy.md).  Each step draws x
 * from the PRNG, folds it into an accumulator a (register r[0], also kept in page 0),
 * stamps page 1 + x mod (npages-1) with {a, 0xee<<56|pfn, mix(a^pfn)} and sends one
 * 32-byte packet {count, a, pfn, mix(a^count)}.  Everything a packet depends on is in
 * the vcpu context and guest memory, so two domains with the same state send the same
 * packets.  args[3] = D > 0: on average once every D steps the guest reads host-local
 * input (the domain's host_input) into a; r[1] counts those reads.  A COLO secondary
 * whose host input differs then sends different packets from that step until a
 * checkpoint makes it equal again.  Self-check: page 0 holds a, stamped pages are
 * consistent.
 */
#include <string.h>

#include "simxen-shared.h"

#define TAG (0xeeULL << 56)

static int check_args(const uint64_t *args, uint64_t npages)
{
    (void)args;
    return npages >= 2 ? 0 : -1;
}

static void init(struct sim_regs *r, const struct sim_guest *g)
{
    r->pc = 0;
    r->prng = g->args[SIMXEN_ARG_PROG] ^ 0x6e657473656e6421ULL;
    r->r[0] = 0;
    r->r[1] = 0;
}

static void step(struct sim_regs *r, const struct sim_guest *g)
{
    uint64_t x = sim_prng_next(&r->prng), d = g->args[SIMXEN_ARG_PROG];
    uint64_t a = r->r[0], p, tag, chk, pkt[4];
    uint8_t *page;

    if (d && sim_mix64(x ^ 0x686f7374ULL) % d == 0) {
        a = sim_mix64(a ^ g->host_input ^ 0x5a5a5a5aULL);   /* host-local input */
        r->r[1]++;
    }
    a = sim_mix64(a + x);
    p = 1 + x % (g->npages - 1);
    tag = TAG | p;
    chk = sim_mix64(a ^ p);
    page = g->mem + (p << 12);
    memcpy(page, &a, 8);
    memcpy(page + 8, &tag, 8);
    memcpy(page + 16, &chk, 8);
    memcpy(g->mem, &a, 8);
    r->r[0] = a;
    r->pc = p;
    pkt[0] = r->count;
    pkt[1] = a;
    pkt[2] = p;
    pkt[3] = sim_mix64(a ^ r->count);
    if (g->net)
        simxen_net_send(g->net, r->count, pkt, sizeof(pkt));
}

static int selfcheck(const struct sim_regs *r, const struct sim_guest *g, uint64_t *bad)
{
    uint64_t a;

    memcpy(&a, g->mem, 8);
    if (a != r->r[0]) {
        *bad = 0;
        return -1;
    }
    return sim_check_tagged_pages(g, 1, TAG, bad);
}

const struct sim_program sim_prog_netsend = {
    .name = "netsend", .id = 5, .check_args = check_args, .check_regs = sim_regs_pc_in_ram,
    .init = init, .step = step, .selfcheck = selfcheck, .uses_net = 1,
};
