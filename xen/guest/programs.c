/* Registry of the simulated guest programs, and helpers they share. */
#include <string.h>

#include "simxen-shared.h"

static const struct sim_program *const programs[] = {
    &sim_prog_incrementer, &sim_prog_crcblocks, &sim_prog_dirtyrate, &sim_prog_divergent,
    &sim_prog_netsend,
};

const struct sim_program *sim_program_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
        if (!strcmp(programs[i]->name, name))
            return programs[i];
    return NULL;
}

const struct sim_program *sim_program_by_id(uint32_t id)
{
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
        if (programs[i]->id == id)
            return programs[i];
    return NULL;
}

int sim_check_common_args(const uint64_t *args)
{
    if (args[SIMXEN_ARG_FLAGS] & ~SIMXEN_PF_ALL)
        return -1;
    if (args[SIMXEN_ARG_MAX_STEPS] > (1ULL << 62))
        return -1;
    if (args[SIMXEN_ARG_RATE] > 1000000000ULL)
        return -1;
    return 0;
}

int sim_args_any(const uint64_t *args, uint64_t npages)
{
    (void)args;
    (void)npages;
    return 0;
}

int sim_regs_pc_in_ram(const struct sim_regs *r, const uint64_t *args, uint64_t npages)
{
    (void)args;
    return r->pc < npages ? 0 : -1;
}

int sim_check_tagged_pages(const struct sim_guest *g, uint64_t from, uint64_t tag, uint64_t *bad)
{
    for (uint64_t p = from; p < g->npages; p++) {
        uint64_t w[3];

        memcpy(w, g->mem + (p << 12), sizeof(w));
        if (w[0] == 0 && w[1] == 0 && w[2] == 0)
            continue;
        if (w[1] != (tag | p) || w[2] != sim_mix64(w[0] ^ p)) {
            *bad = p;
            return -1;
        }
    }
    return 0;
}

/* splitmix64 */
uint64_t sim_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sim_prng_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    return sim_mix64(*state);
}
