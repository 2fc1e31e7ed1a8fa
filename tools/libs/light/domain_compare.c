#include "domain_compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xfault.h"
#include "xutil.h"

/* pfns mapped at once by the whole-domain walks (Xen's getpageframeinfo3 limit too) */
#define MAP_BATCH 1024

int snapshot_fill(xc_interface *xch, uint32_t domid, struct snapshot *snap)
{
    xhv_dominfo_t info;
    uint64_t *pfns = NULL, i;
    void **pages = NULL;
    int *errs = NULL, rc = -1;

    snap->ctx_len = 0;
    if (xhv_domain_info(xch, domid, &info) || info.p2m_size != snap->p2m_size)
        return -1;
    pfns = malloc(info.p2m_size * sizeof(*pfns));
    pages = malloc(info.p2m_size * sizeof(*pages));
    errs = malloc(info.p2m_size * sizeof(*errs));
    if (!pfns || !pages || !errs)
        goto out;
    for (i = 0; i < info.p2m_size; i++)
        pfns[i] = i;
    if (xhv_map_foreign(xch, domid, PROT_READ, pfns, pages, errs, info.p2m_size))
        goto out;
    for (i = 0; i < info.p2m_size; i++) {
        if (!errs[i])
            memcpy(snap->mem + i * XHV_PAGE_SIZE, pages[i], XHV_PAGE_SIZE);
        else
            memset(snap->mem + i * XHV_PAGE_SIZE, 0, XHV_PAGE_SIZE);
    }
    xhv_unmap_foreign(xch, domid, pages, info.p2m_size);
    snap->ctx_len = xhv_hvm_getcontext(xch, domid, snap->ctx, sizeof(snap->ctx));
    rc = snap->ctx_len > 0 ? 0 : -1;
 out:
    free(pfns);
    free(pages);
    free(errs);
    return rc;
}

int snapshot_take(xc_interface *xch, uint32_t domid, struct snapshot *snap)
{
    xhv_dominfo_t info;

    memset(snap, 0, sizeof(*snap));
    if (xhv_domain_info(xch, domid, &info))
        return -1;
    snap->p2m_size = info.p2m_size;
    snap->mem = malloc(info.p2m_size * XHV_PAGE_SIZE);
    if (!snap->mem)
        return -1;
    return snapshot_fill(xch, domid, snap);
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

int domain_ram_pfns(xc_interface *xch, uint32_t domid, uint64_t **pfns, size_t *n)
{
    uint64_t batch[MAP_BATCH], *list = NULL;
    uint32_t types[MAP_BATCH];
    xhv_dominfo_t info;
    size_t m = 0;

    if (xhv_domain_info(xch, domid, &info))
        return -1;
    for (uint64_t base = 0; base < info.p2m_size; base += MAP_BATCH) {
        unsigned int k = (unsigned int)(info.p2m_size - base < MAP_BATCH ? info.p2m_size - base
                                                                           : MAP_BATCH);
        uint64_t *grown;

        for (unsigned int i = 0; i < k; i++)
            batch[i] = base + i;
        if (xhv_get_pfn_type_batch(xch, domid, k, batch, types))
            goto fail;
        grown = realloc(list, (m + k) * sizeof(*list));
        if (!grown)
            goto fail;
        list = grown;
        for (unsigned int i = 0; i < k; i++)
            if ((types[i] & XHV_PFINFO_XTAB) != XHV_PFINFO_XTAB)
                list[m++] = batch[i];
    }
    *pfns = list;
    *n = m;
    return 0;
 fail:
    free(list);
    return -1;
}

int domain_digest_pfns(xc_interface *xch, uint32_t domid, const uint64_t *pfns, size_t n,
                       uint64_t *mem_digest)
{
    static const uint64_t unmapped = UINT64_MAX;
    uint64_t h = FNV1A_INIT;
    void *pages[MAP_BATCH];
    int errs[MAP_BATCH];

    for (size_t base = 0; base < n; base += MAP_BATCH) {
        size_t k = n - base < MAP_BATCH ? n - base : MAP_BATCH;

        if (xhv_map_foreign(xch, domid, PROT_READ, pfns + base, pages, errs, k))
            return -1;
        for (size_t i = 0; i < k; i++) {
            h = fnv1a_words(h, &pfns[base + i], sizeof(pfns[base + i]));
            h = errs[i] ? fnv1a_words(h, &unmapped, sizeof(unmapped))
                        : fnv1a_words(h, pages[i], XHV_PAGE_SIZE);
        }
        xhv_unmap_foreign(xch, domid, pages, k);
    }
    *mem_digest = h;
    return 0;
}

int domain_digest(xc_interface *xch, uint32_t domid, uint64_t *mem_digest, uint64_t *ctx_digest)
{
    uint64_t *pfns = NULL;
    size_t n = 0;
    int rc = -1;

    if (!domain_ram_pfns(xch, domid, &pfns, &n) &&
        !domain_digest_pfns(xch, domid, pfns, n, mem_digest))
        rc = xhv_hvm_state_digest(xch, domid, ctx_digest);
    free(pfns);
    return rc;
}

void domain_scribble_fault(xc_interface *xch, uint32_t domid)
{
    const struct xfault *f = xfault(XFAULT_SVM_SCRIBBLE);
    uint64_t pfn;
    void *page = NULL;
    int err = 0;

    if (!f)
        return;
    pfn = f->arg[0];
    if (!xhv_map_foreign(xch, domid, PROT_READ | PROT_WRITE, &pfn, &page, &err, 1) && !err) {
        ((volatile unsigned char *)page)[0] ^= 0x5a;
        xhv_unmap_foreign(xch, domid, &page, 1);
    }
}

/* Where two differing pages first differ, and in how many bytes. */
static size_t bytes_differing(const unsigned char *x, const unsigned char *y, size_t *first)
{
    size_t o = 0, nb = 0;

    while (o < XHV_PAGE_SIZE && x[o] == y[o])
        o++;
    *first = o;
    for (; o < XHV_PAGE_SIZE; o++)
        nb += x[o] != y[o];
    return nb;
}

/*
 * Page-by-page comparison of two stopped domains, batch by batch (a PVH guest's p2m
 * reaches the special pages just below 4 GiB: ~1M pfns, mostly holes).  Pages that
 * Xen reports as not guest RAM (XTAB: holes, shared info, grant frames) on both sides
 * are skipped; a page present on one side only counts as a difference.
 */
long domain_diff_pages(xc_interface *xch, uint32_t a, uint32_t b, uint64_t *first_pfn)
{
    xhv_dominfo_t ia, ib;
    uint64_t n, pfns[MAP_BATCH], list[MAP_BATCH];
    uint32_t ta[MAP_BATCH], tb[MAP_BATCH];
    void *pa[MAP_BATCH], *pb[MAP_BATCH];
    int ea[MAP_BATCH], eb[MAP_BATCH];
    long diff = 0;
    int shown = 0;

    *first_pfn = UINT64_MAX;
    if (xhv_domain_info(xch, a, &ia) || xhv_domain_info(xch, b, &ib))
        return -1;
    n = ia.p2m_size > ib.p2m_size ? ia.p2m_size : ib.p2m_size;
    for (uint64_t base = 0; base < n; base += MAP_BATCH) {
        unsigned int k = (unsigned int)(n - base < MAP_BATCH ? n - base : MAP_BATCH), m = 0;

        for (unsigned int i = 0; i < k; i++)
            pfns[i] = base + i;
        if (xhv_get_pfn_type_batch(xch, a, k, pfns, ta) ||
            xhv_get_pfn_type_batch(xch, b, k, pfns, tb))
            return -1;
        /* The primary is the reference: its guest RAM must be equal on the secondary.
         * Xen's own pages there (shared info, grant frames) are not guest state. */
        for (unsigned int i = 0; i < k; i++)
            if ((ta[i] & XHV_PFINFO_XTAB) != XHV_PFINFO_XTAB)
                list[m++] = pfns[i];
        if (!m)
            continue;
        if (xhv_map_foreign(xch, a, PROT_READ, list, pa, ea, m))
            return -1;
        if (xhv_map_foreign(xch, b, PROT_READ, list, pb, eb, m)) {
            xhv_unmap_foreign(xch, a, pa, m);
            return -1;
        }
        for (unsigned int i = 0; i < m; i++) {
            unsigned int j = (unsigned int)(list[i] - base);
            int d = (!!ea[i] != !!eb[i]) ||
                    (tb[j] & XHV_PFINFO_XTAB) == XHV_PFINFO_XTAB ||
                    (!ea[i] && memcmp(pa[i], pb[i], XHV_PAGE_SIZE));

            if (!d)
                continue;
            if (!diff)
                *first_pfn = list[i];
            if (shown++ < 8) {
                size_t o = 0, nb = ea[i] || eb[i] ? 0 : bytes_differing(pa[i], pb[i], &o);

                fprintf(stderr, "domain_diff_pages: pfn %#llx differs%s: %zu bytes from "
                        "offset %#zx (types %#x/%#x)\n", (unsigned long long)list[i],
                        ea[i] || eb[i] ? " (mapped on one side only)" : "", nb, o,
                        ta[j] >> 28, tb[j] >> 28);
            }
            diff++;
        }
        xhv_unmap_foreign(xch, a, pa, m);
        xhv_unmap_foreign(xch, b, pb, m);
    }
    return diff;
}
