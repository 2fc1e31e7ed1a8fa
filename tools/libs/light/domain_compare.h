/*
 * Snapshots and page-by-page comparison of domains (memory and vcpu context), through
 * foreign mapping: how the COLO pair and the tests prove two domains are equal.
 */
#ifndef DOMAIN_COMPARE_H
#define DOMAIN_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "xhv.h"

struct snapshot {
    uint64_t p2m_size;
    uint8_t *mem;
    uint8_t ctx[4096];
    int ctx_len;
};

int snapshot_take(xc_interface *xch, uint32_t domid, struct snapshot *snap);
/* Into snap->mem, which holds snap->p2m_size pages (the domain's size). */
int snapshot_fill(xc_interface *xch, uint32_t domid, struct snapshot *snap);
void snapshot_free(struct snapshot *snap);
/* Number of pages that differ (+1 if the contexts differ), -1 if not comparable;
 * *first_pfn gets the first differing pfn (UINT64_MAX if none). */
long snapshot_diff(const struct snapshot *a, const struct snapshot *b, uint64_t *first_pfn);
/* Two stopped domains of any size, memory only, batch by batch: pages that are not
 * guest RAM on the first (XTAB) are skipped, a page on one side only is a difference;
 * the first 8 differing pages are described on stderr.  Real Xen compares with this
 * (the pair's contexts differ in timers and TSC). */
long domain_diff_pages(xc_interface *xch, uint32_t a, uint32_t b, uint64_t *first_pfn);



/* Digests of a stopped domain's guest RAM (pages Xen reports as not RAM, XTAB, are
 * left out; each page's pfn goes in with it) and of its vcpu and platform state without
 * what runs on with time (xhv_hvm_state_digest): two of one stopped domain agree unless
 * its state changed; for comparing across hosts and over a failover. */
int domain_digest(xc_interface *xch, uint32_t domid, uint64_t *mem_digest, uint64_t *ctx_digest);

/* The pfns of a domain's guest RAM (not XTAB), in *pfns (malloc'd, *n of them). */
int domain_ram_pfns(xc_interface *xch, uint32_t domid, uint64_t **pfns, size_t *n);
/* The memory digest of domain_digest over the given pfns only, so that a domain can be
 * digested over another's RAM (a restored secondary's own XTAB pages, shared info and
 * grant frames, are where the primary's were not sent); a pfn that cannot be mapped
 * goes in as such. */
int domain_digest_pfns(xc_interface *xch, uint32_t domid, const uint64_t *pfns, size_t n,
                       uint64_t *mem_digest);

/* What a failover check found different (colo_local.h, remus_local.h). */
#define DOMAIN_DIFFERS_MEMORY  1u
#define DOMAIN_DIFFERS_CONTEXT 2u

/* The svm-scribble fault (xfault.h), for a negative control of the failover checks:
 * when it is set, one byte of the given page of the stopped domain changes. */
void domain_scribble_fault(xc_interface *xch, uint32_t domid);
#endif
