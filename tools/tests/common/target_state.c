#include "target_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int target_state_take(xc_interface *xch, uint32_t domid, struct target_state *s)
{
    xhv_dominfo_t info;
    uint64_t *pfns;
    uint32_t i;

    memset(s, 0, sizeof(*s));
    if (snapshot_take(xch, domid, &s->snap) || xhv_domain_info(xch, domid, &info))
        return -1;
    s->nr_pages = info.nr_pages;
    s->types = calloc(s->snap.p2m_size, sizeof(*s->types));
    pfns = malloc(s->snap.p2m_size * sizeof(*pfns));
    if (!s->types || !pfns) {
        free(pfns);
        return -1;
    }
    for (i = 0; i < s->snap.p2m_size; i++)
        pfns[i] = i;
    if (xhv_get_pfn_type_batch(xch, domid, s->snap.p2m_size, pfns, s->types)) {
        free(pfns);
        return -1;
    }
    free(pfns);
    /* A param the hypervisor does not keep reads as an error: it stays 0 on both sides. */
    for (i = 0; i < TARGET_STATE_PARAMS; i++)
        xhv_hvm_param_get(xch, domid, i, &s->params[i]);
    xhv_tsc_info_get(xch, domid, &s->tsc_mode, &s->tsc_nsec, &s->tsc_khz, &s->tsc_incarnation);
    return 0;
}

int target_state_same(const struct target_state *a, const struct target_state *b, char *what,
                      size_t whatlen)
{
    uint64_t pfn, i;
    long diff = snapshot_diff(&a->snap, &b->snap, &pfn);

    snprintf(what, whatlen, "unchanged");
    if (diff < 0) {
        snprintf(what, whatlen, "p2m size %llu -> %llu", (unsigned long long)a->snap.p2m_size,
                 (unsigned long long)b->snap.p2m_size);
        return 0;
    }
    if (diff && pfn != UINT64_MAX) {
        snprintf(what, whatlen, "%ld pages changed, the first pfn %#llx", diff,
                 (unsigned long long)pfn);
        return 0;
    }
    if (diff) {
        snprintf(what, whatlen, "the vcpu context changed");
        return 0;
    }
    if (a->nr_pages != b->nr_pages) {
        snprintf(what, whatlen, "nr_pages %llu -> %llu", (unsigned long long)a->nr_pages,
                 (unsigned long long)b->nr_pages);
        return 0;
    }
    for (i = 0; i < a->snap.p2m_size; i++) {
        if (a->types[i] != b->types[i]) {
            snprintf(what, whatlen, "pfn %#llx type %#x -> %#x", (unsigned long long)i,
                     a->types[i], b->types[i]);
            return 0;
        }
    }
    for (i = 0; i < TARGET_STATE_PARAMS; i++) {
        if (a->params[i] != b->params[i]) {
            snprintf(what, whatlen, "HVM param %llu %#llx -> %#llx", (unsigned long long)i,
                     (unsigned long long)a->params[i], (unsigned long long)b->params[i]);
            return 0;
        }
    }
    if (a->tsc_mode != b->tsc_mode || a->tsc_nsec != b->tsc_nsec || a->tsc_khz != b->tsc_khz ||
        a->tsc_incarnation != b->tsc_incarnation) {
        snprintf(what, whatlen, "TSC info changed");
        return 0;
    }
    return 1;
}

int target_context_same(const struct target_state *a, const struct target_state *b)
{
    return a->snap.ctx_len == b->snap.ctx_len &&
           !memcmp(a->snap.ctx, b->snap.ctx, (size_t)a->snap.ctx_len) &&
           !memcmp(a->params, b->params, sizeof(a->params)) && a->tsc_mode == b->tsc_mode &&
           a->tsc_nsec == b->tsc_nsec && a->tsc_khz == b->tsc_khz &&
           a->tsc_incarnation == b->tsc_incarnation;
}

void target_state_free(struct target_state *s)
{
    snapshot_free(&s->snap);
    free(s->types);
    s->types = NULL;
}
