/* Bounded block layers (dr_layer.h). */
#include "dr_layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dr_layer_init(struct dr_layer *l, uint32_t max_blocks, uint32_t block_size)
{
    uint64_t slots = 2;

    memset(l, 0, sizeof(*l));
    while (slots < 2 * (uint64_t)max_blocks)
        slots <<= 1;
    if (slots > UINT32_MAX || (uint64_t)max_blocks * block_size > SIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    l->max_blocks = max_blocks;
    l->block_size = block_size;
    l->index_mask = (uint32_t)(slots - 1);
    l->index = calloc((size_t)slots, sizeof(*l->index));
    l->blocks = calloc(max_blocks ? max_blocks : 1, sizeof(*l->blocks));
    /* Untouched pages of a large layer cost nothing until a block lands there. */
    l->data = malloc(max_blocks ? (size_t)max_blocks * block_size : 1);
    if (!l->index || !l->blocks || !l->data) {
        dr_layer_fini(l);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void dr_layer_fini(struct dr_layer *l)
{
    free(l->index);
    free(l->blocks);
    free(l->data);
    memset(l, 0, sizeof(*l));
}

static uint32_t first_slot(const struct dr_layer *l, uint64_t block)
{
    return (uint32_t)((block * 0x9e3779b97f4a7c15ULL) >> 32) & l->index_mask;
}

/* The slot holding block, or the empty slot where it would go (the index is never more
 * than half full, so the probe ends). */
static uint32_t probe(const struct dr_layer *l, uint64_t block)
{
    uint32_t s = first_slot(l, block);

    while (l->index[s] && l->blocks[l->index[s] - 1] != block)
        s = (s + 1) & l->index_mask;
    return s;
}

uint8_t *dr_layer_find(const struct dr_layer *l, uint64_t block)
{
    uint32_t s = probe(l, block);

    if (!l->index[s])
        return NULL;
    return l->data + (uint64_t)(l->index[s] - 1) * l->block_size;
}

uint8_t *dr_layer_add(struct dr_layer *l, uint64_t block)
{
    uint32_t s;

    if (l->count >= l->max_blocks) {
        errno = ENOSPC;
        return NULL;
    }
    s = probe(l, block);
    l->blocks[l->count] = block;
    l->index[s] = ++l->count;
    return l->data + (uint64_t)(l->count - 1) * l->block_size;
}

void dr_layer_clear(struct dr_layer *l)
{
    memset(l->index, 0, ((size_t)l->index_mask + 1) * sizeof(*l->index));
    l->count = 0;
}
