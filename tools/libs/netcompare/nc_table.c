/* The fixed-capacity key table behind flows and connections (nc_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

/* FNV-1a over the key's 40 bytes (the key has no padding). */
static uint32_t hash(const struct netcompare_flow *key)
{
    const uint8_t *p = (const uint8_t *)key;
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < sizeof(*key); i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

void nc_table_clear(struct nc_table *t)
{
    for (uint32_t i = 0; i < t->nbuckets; i++)
        t->bucket[i] = NC_NONE;
    for (uint32_t i = 0; i < t->cap; i++) {
        t->next[i] = i + 1 < t->cap ? i + 1 : NC_NONE;
    }
    t->free_head = t->cap ? 0 : NC_NONE;
    t->used = 0;
}

int nc_table_init(struct nc_table *t, uint32_t cap)
{
    int rc = -1;

    memset(t, 0, sizeof(*t));
    if (cap == 0 || cap > (1u << 24)) {
        errno = EINVAL;
        goto out;
    }
    t->cap = cap;
    t->nbuckets = 1;
    while (t->nbuckets < 2 * cap)
        t->nbuckets <<= 1;
    t->bucket = malloc(t->nbuckets * sizeof(*t->bucket));
    t->next = malloc(cap * sizeof(*t->next));
    t->keys = malloc(cap * sizeof(*t->keys));
    if (!t->bucket || !t->next || !t->keys) {
        nc_table_destroy(t);
        errno = ENOMEM;
        goto out;
    }
    nc_table_clear(t);
    rc = 0;
out:
    return rc;
}

void nc_table_destroy(struct nc_table *t)
{
    free(t->bucket);
    free(t->next);
    free(t->keys);
    memset(t, 0, sizeof(*t));
}

uint32_t nc_table_find(const struct nc_table *t, const struct netcompare_flow *key)
{
    uint32_t i = t->bucket[hash(key) & (t->nbuckets - 1)];

    while (i != NC_NONE && memcmp(&t->keys[i], key, sizeof(*key)))
        i = t->next[i];
    return i;
}

uint32_t nc_table_add(struct nc_table *t, const struct netcompare_flow *key)
{
    uint32_t i = t->free_head, b;

    if (i == NC_NONE)
        return NC_NONE;
    t->free_head = t->next[i];
    b = hash(key) & (t->nbuckets - 1);
    t->keys[i] = *key;
    t->next[i] = t->bucket[b];
    t->bucket[b] = i;
    t->used++;
    return i;
}

void nc_table_del(struct nc_table *t, uint32_t idx)
{
    uint32_t *link = &t->bucket[hash(&t->keys[idx]) & (t->nbuckets - 1)];

    while (*link != idx)
        link = &t->next[*link];
    *link = t->next[idx];
    t->next[idx] = t->free_head;
    t->free_head = idx;
    t->used--;
}
