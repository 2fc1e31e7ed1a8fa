/*
 * A bounded set of disk blocks in memory, keyed by block number: the secondary's hidden
 * and active layers.  Blocks are only ever added, or all dropped at once (a checkpoint or
 * a failover), so the index is open addressing without deletion.
 */
#ifndef DR_LAYER_H
#define DR_LAYER_H

#include <stdint.h>

struct dr_layer {
    uint32_t max_blocks, block_size;
    uint32_t count;
    uint32_t index_mask;     /* index has index_mask + 1 slots, at least 2 * max_blocks */
    uint32_t *index;         /* slot -> 1 + position in blocks[], 0: empty */
    uint64_t *blocks;        /* block numbers in the order added */
    uint8_t *data;           /* max_blocks * block_size */
};

int dr_layer_init(struct dr_layer *l, uint32_t max_blocks, uint32_t block_size);
void dr_layer_fini(struct dr_layer *l);
/* The block's data, or NULL if the layer does not hold it. */
uint8_t *dr_layer_find(const struct dr_layer *l, uint64_t block);
/* Room for a block the layer does not hold (uninitialised), or NULL with ENOSPC. */
uint8_t *dr_layer_add(struct dr_layer *l, uint64_t block);
/* The i-th block added (i < count). */
static inline uint8_t *dr_layer_at(const struct dr_layer *l, uint32_t i, uint64_t *block)
{
    *block = l->blocks[i];
    return l->data + (uint64_t)i * l->block_size;
}
void dr_layer_clear(struct dr_layer *l);

#endif
