/*
 * Everything a restore can change on its target, taken before and after a hostile
 * stream: a rejected stream must leave all of it as it was.
 */
#ifndef TEST_TARGET_STATE_H
#define TEST_TARGET_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "domain_compare.h"

#define TARGET_STATE_PARAMS 64   /* the restorer's bound on HVM param indexes */

struct target_state {
    struct snapshot snap;        /* memory (unmapped pages as zeroes) and vcpu context */
    uint64_t nr_pages;
    uint32_t *types;             /* per pfn: what xhv_get_pfn_type_batch says (populated?) */
    uint64_t params[TARGET_STATE_PARAMS];
    uint32_t tsc_mode, tsc_khz, tsc_incarnation;
    uint64_t tsc_nsec;
};

/* 0, or -1 (the domain could not be read). */
int target_state_take(xc_interface *xch, uint32_t domid, struct target_state *s);
/* 1 when a and b are equal; else 0, with the first difference named in what. */
int target_state_same(const struct target_state *a, const struct target_state *b, char *what,
                      size_t whatlen);
/* 1 when a and b have the same vcpu context, HVM params and TSC (memory aside). */
int target_context_same(const struct target_state *a, const struct target_state *b);
void target_state_free(struct target_state *s);

#endif
