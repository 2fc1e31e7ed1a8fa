/*
 * "crcblocks": each step fills page pc with {u64 pfn, u64 pass, PRNG bytes, u32 crc32
 * of the first 4092 bytes}, then advances pc (wrapping, pass++).  Self-check: pages
 * [0,pc) carry generation pass, pages [pc,npages) generation pass-1 (none if pass is
 * 0), every written page has its own pfn and a valid CRC.  args[3]: PRNG seed.
 */
#include <string.h>
#include <zlib.h>

#include "simxen-shared.h"

#define CRC_OFF 4092

static void init(struct sim_regs *r, const struct sim_guest *g)
{
    r->pc = 0;
    r->pass = 0;
    r->prng = g->args[SIMXEN_ARG_PROG] ^ 0x6372636272636b73ULL;
}

static void step(struct sim_regs *r, const struct sim_guest *g)
{
    uint8_t *page = g->mem + (r->pc << 12);
    uint64_t v;
    uint32_t crc, tail;

    memcpy(page, &r->pc, 8);
    memcpy(page + 8, &r->pass, 8);
    for (unsigned off = 16; off + 8 <= CRC_OFF; off += 8) {
        v = sim_prng_next(&r->prng);
        memcpy(page + off, &v, 8);
    }
    tail = (uint32_t)sim_prng_next(&r->prng);
    memcpy(page + CRC_OFF - 4, &tail, 4);
    crc = (uint32_t)crc32(0L, page, CRC_OFF);
    memcpy(page + CRC_OFF, &crc, 4);
    if (++r->pc == g->npages) {
        r->pc = 0;
        r->pass++;
    }
}

static int selfcheck(const struct sim_regs *r, const struct sim_guest *g, uint64_t *bad)
{
    for (uint64_t p = 0; p < g->npages; p++) {
        const uint8_t *page = g->mem + (p << 12);
        uint64_t pfn, gen, want;
        uint32_t crc;

        if (p >= r->pc && r->pass == 0)
            break;
        want = p < r->pc ? r->pass : r->pass - 1;
        memcpy(&pfn, page, 8);
        memcpy(&gen, page + 8, 8);
        memcpy(&crc, page + CRC_OFF, 4);
        if (pfn != p || gen != want || crc != (uint32_t)crc32(0L, page, CRC_OFF)) {
            *bad = p;
            return -1;
        }
    }
    return 0;
}

const struct sim_program sim_prog_crcblocks = {
    .name = "crcblocks", .id = 2, .check_args = sim_args_any, .check_regs = sim_regs_pc_in_ram,
    .init = init, .step = step, .selfcheck = selfcheck,
};
