#include "domain_compare.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int snapshot_take(xc_interface *xch, uint32_t domid, struct snapshot *snap)
{
    xhv_dominfo_t info;
    uint64_t *pfns = NULL, i;
    void **pages = NULL;
    int *errs = NULL, rc = -1;

    memset(snap, 0, sizeof(*snap));
    if (xhv_domain_info(xch, domid, &info))
        return -1;
    snap->p2m_size = info.p2m_size;
    snap->mem = calloc(info.p2m_size, XHV_PAGE_SIZE);
    pfns = malloc(info.p2m_size * sizeof(*pfns));
    pages = malloc(info.p2m_size * sizeof(*pages));
    errs = malloc(info.p2m_size * sizeof(*errs));
    if (!snap->mem || !pfns || !pages || !errs)
        goto out;
    for (i = 0; i < info.p2m_size; i++)
        pfns[i] = i;
    if (xhv_map_foreign(xch, domid, PROT_READ, pfns, pages, errs, info.p2m_size))
        goto out;
    for (i = 0; i < info.p2m_size; i++)
        if (!errs[i])
            memcpy(snap->mem + i * XHV_PAGE_SIZE, pages[i], XHV_PAGE_SIZE);
    xhv_unmap_foreign(xch, domid, pages, info.p2m_size);
    snap->ctx_len = xhv_hvm_getcontext(xch, domid, snap->ctx, sizeof(snap->ctx));
    rc = snap->ctx_len > 0 ? 0 : -1;
 out:
    free(pfns);
    free(pages);
    free(errs);
    return rc;
}

void snapshot_free(struct snapshot *snap)
{
    free(snap->mem);
    snap->mem = NULL;
}

long snapshot_diff(const struct snapshot *a, const struct snapshot *b, uint64_t *first_pfn)
{
    long diff = 0;
    uint64_t i;

    *first_pfn = UINT64_MAX;
    if (a->p2m_size != b->p2m_size)
        return -1;
    for (i = 0; i < a->p2m_size; i++) {
        if (memcmp(a->mem + i * XHV_PAGE_SIZE, b->mem + i * XHV_PAGE_SIZE, XHV_PAGE_SIZE)) {
            if (!diff)
                *first_pfn = i;
            diff++;
        }
    }
    if (a->ctx_len != b->ctx_len || memcmp(a->ctx, b->ctx, (size_t)a->ctx_len))
        diff++;
    return diff;
}

long domain_diff(xc_interface *xch, uint32_t a, uint32_t b, uint64_t *first_pfn)
{
    struct snapshot sa, sb;
    long diff = -1;

    if (!snapshot_take(xch, a, &sa) && !snapshot_take(xch, b, &sb)) {
        diff = snapshot_diff(&sa, &sb, first_pfn);
        snapshot_free(&sb);
    }
    snapshot_free(&sa);
    return diff;
}


int domain_digest(xc_interface *xch, uint32_t domid, uint64_t *mem_digest, uint64_t *ctx_digest)
{
    struct snapshot s;
    uint64_t h = 0xcbf29ce484222325ULL, c = 0xcbf29ce484222325ULL;
    const uint64_t *w;
    size_t n;

    if (snapshot_take(xch, domid, &s))
        return -1;
    /* FNV-1a over 64-bit words: cheap and good enough to tell states apart. */
    w = (const uint64_t *)s.mem;
    n = (size_t)s.p2m_size * XHV_PAGE_SIZE / 8;
    for (size_t i = 0; i < n; i++)
        h = (h ^ w[i]) * 0x100000001b3ULL;
    for (int i = 0; i < s.ctx_len; i++)
        c = (c ^ s.ctx[i]) * 0x100000001b3ULL;
    snapshot_free(&s);
    *mem_digest = h;
    *ctx_digest = c;
    return 0;
}
