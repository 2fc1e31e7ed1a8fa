/*
 * Restore operations for x86 PV domains (64-bit), on the real-Xen backend, into a
 * fresh domain: one that has no memory yet (upstream libxl makes such a domain for a
 * restore; `xl create -p` does not: it builds the guest).
 *
 * The reverse of sr_save_x86_pv.c: every pfn that needs a page gets a newly allocated
 * mfn (populate), the engine keeps the pfn -> mfn table, page tables are rewritten
 * pfn -> mfn as they arrive ("localisation"), and at the end of the stream: the guest's
 * own p2m pages are filled with the new mfns, the page tables the guest had pinned are
 * pinned again (Xen validates them), the start info page and the vcpu contexts get
 * mfns and the new event channels, shared info is taken over, and the console and
 * xenstore rings are granted to their backends.
 *
 * Plain streams only (a checkpointed PV stream needs a PV saver with log-dirty).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sr_common.h"

#define PV (ctx->x86_pv)
#define P2M_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))
/* Xen's limit on a PV domain's vcpus (MAX_VIRT_CPUS) less one. */
#define SR_CHECK_PV_MAX_VCPU_ID 8191
#define PFN_PENDING (SR_INVALID_GFN - 1)   /* being populated (never an mfn: > 52 bits) */

static bool pv_pfn_is_valid(const struct sr_context *ctx, uint64_t pfn)
{
    return ctx->x86_pv.have_p2m_frames && pfn <= ctx->x86_pv.max_pfn;
}

static int pv_setup(struct sr_context *ctx)
{
    xhv_pv_info_t info;

    if (ctx->restore.check_only) {
        /* No domain to ask: any vcpu id a 64-bit PV domain can have. */
        memset(&info, 0, sizeof(info));
        info.guest_width = 8;
        info.max_vcpu_id = SR_CHECK_PV_MAX_VCPU_ID;
    } else if (xhv_pv_info(ctx->xch, ctx->domid, &info)) {
        PERROR("Unable to get PV information of domain %u", ctx->domid);
        return -1;
    }
    if (info.guest_width != 8) {
        ERROR("Domain %u is a %u-bit PV domain: only 64-bit PV guests are supported",
              ctx->domid, info.guest_width * 8);
        errno = EOPNOTSUPP;
        return -1;
    }
    PV.max_vcpu_id = info.max_vcpu_id;
    PV.shared_info_frame = info.shared_info_frame;
    PV.nr_vcpus = info.max_vcpu_id + 1;
    PV.vcpus = calloc(PV.nr_vcpus, sizeof(*PV.vcpus));
    if (!PV.vcpus) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

static int handle_pv_info(struct sr_context *ctx, struct sr_record *rec)
{
    const struct sr_x86_pv_info *pvi = rec->data;

    if (PV.seen_pv_info) {
        ERROR("Multiple X86_PV_INFO records");
        errno = EBADMSG;
        return -1;
    }
    if (rec->length < sizeof(*pvi)) {
        ERROR("X86_PV_INFO record length %u, expected %zu", rec->length, sizeof(*pvi));
        errno = EBADMSG;
        return -1;
    }
    if (!((pvi->guest_width == 8 && pvi->pt_levels == 4) ||
          (pvi->guest_width == 4 && pvi->pt_levels == 3))) {
        ERROR("X86_PV_INFO: width %u with %u levels is no x86 PV guest", pvi->guest_width,
              pvi->pt_levels);
        errno = EBADMSG;
        return -1;
    }
    if (pvi->guest_width != 8) {
        ERROR("X86_PV_INFO: a 32-bit PV guest; only 64-bit PV guests are supported");
        errno = EOPNOTSUPP;
        return -1;
    }
    PV.width = pvi->guest_width;
    PV.levels = pvi->pt_levels;
    PV.seen_pv_info = true;
    return 0;
}

static int handle_p2m_frames(struct sr_context *ctx, struct sr_record *rec)
{
    const struct sr_x86_pv_p2m_frames *hdr = rec->data;
    uint64_t nframes, nr_pfns;

    if (!PV.seen_pv_info) {
        ERROR("X86_PV_P2M_FRAMES before X86_PV_INFO");
        errno = EBADMSG;
        return -1;
    }
    if (PV.have_p2m_frames) {
        ERROR("Multiple X86_PV_P2M_FRAMES records");
        errno = EBADMSG;
        return -1;
    }
    if (rec->length < sizeof(*hdr)) {
        ERROR("X86_PV_P2M_FRAMES record length %u, header needs %zu", rec->length,
              sizeof(*hdr));
        errno = EBADMSG;
        return -1;
    }
    if (hdr->start_pfn > hdr->end_pfn) {
        ERROR("X86_PV_P2M_FRAMES: start pfn %#x after end pfn %#x", hdr->start_pfn,
              hdr->end_pfn);
        errno = EBADMSG;
        return -1;
    }
    /* One record describing the whole p2m, as savers write it. */
    if (hdr->start_pfn != 0) {
        ERROR("X86_PV_P2M_FRAMES from pfn %#x: only a p2m from pfn 0 is supported",
              hdr->start_pfn);
        errno = EOPNOTSUPP;
        return -1;
    }
    nr_pfns = (uint64_t)hdr->end_pfn + 1;
    if (nr_pfns > PV_RESTORE_MAX_PFNS) {
        ERROR("X86_PV_P2M_FRAMES: %llu pfns, more than this restorer takes (%llu)",
              (unsigned long long)nr_pfns, (unsigned long long)PV_RESTORE_MAX_PFNS);
        errno = EFBIG;
        return -1;
    }
    nframes = hdr->end_pfn / P2M_PER_PAGE + 1;
    if (rec->length != sizeof(*hdr) + nframes * sizeof(uint64_t)) {
        ERROR("X86_PV_P2M_FRAMES record length %u, expected %llu for pfns 0..%#x",
              rec->length, (unsigned long long)(sizeof(*hdr) + nframes * sizeof(uint64_t)),
              hdr->end_pfn);
        errno = EBADMSG;
        return -1;
    }
    PV.frame_pfns = malloc(nframes * sizeof(uint64_t));
    PV.p2m = malloc(nr_pfns * sizeof(uint64_t));
    PV.types = malloc(nr_pfns);
    if (!PV.frame_pfns || !PV.p2m || !PV.types) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(PV.frame_pfns, hdr + 1, nframes * sizeof(uint64_t));
    for (uint64_t i = 0; i < nframes; i++)
        if (PV.frame_pfns[i] > hdr->end_pfn) {
            ERROR("X86_PV_P2M_FRAMES: frame %llu is pfn %#llx, beyond the p2m",
                  (unsigned long long)i, (unsigned long long)PV.frame_pfns[i]);
            errno = EBADMSG;
            return -1;
        }
    for (uint64_t pfn = 0; pfn < nr_pfns; pfn++)
        PV.p2m[pfn] = SR_INVALID_GFN;
    memset(PV.types, PT_XTAB, nr_pfns);
    PV.nr_frame_pfns = (size_t)nframes;
    PV.max_pfn = hdr->end_pfn;
    PV.have_p2m_frames = true;
    ctx->restore.p2m_size = nr_pfns;
    return 0;
}

/* Give pfns[0..n) pages (those that have none yet). */
static int populate_pfns(struct sr_context *ctx, size_t n, const uint64_t *pfns)
{
    uint64_t want[MAX_BATCH_SIZE], mfns[MAX_BATCH_SIZE];
    size_t k = 0;

    if (n > MAX_BATCH_SIZE) {
        errno = EINVAL;
        return -1;
    }
    /* A pfn named twice is populated once: marked pending when first seen. */
    for (size_t i = 0; i < n; i++)
        if (PV.p2m[pfns[i]] == SR_INVALID_GFN) {
            PV.p2m[pfns[i]] = PFN_PENDING;
            want[k++] = pfns[i];
        }
    if (!k)
        return 0;
    if (xhv_pv_populate(ctx->xch, ctx->domid, k, want, mfns)) {
        PERROR("Failed to populate %zu pfns", k);
        for (size_t i = 0; i < k; i++)
            PV.p2m[want[i]] = SR_INVALID_GFN;
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        if (!mfns[i] || (mfns[i] & ~PAGE_DATA_PFN_MASK)) {
            ERROR("Populating pfn %#llx gave mfn %#llx", (unsigned long long)want[i],
                  (unsigned long long)mfns[i]);
            errno = EIO;
            return -1;
        }
        PV.p2m[want[i]] = mfns[i];
    }
    return 0;
}

static int pv_prepare_page_data(struct sr_context *ctx, const uint64_t *entries,
                                uint32_t count, uint64_t *frames)
{
    uint64_t need[MAX_BATCH_SIZE];
    size_t n = 0, j = 0;

    for (uint32_t i = 0; i < count; i++) {
        unsigned int type = (unsigned int)(entries[i] >> 60);

        if (page_type_to_populate(type))
            need[n++] = entries[i] & PAGE_DATA_PFN_MASK;
    }
    if (n && populate_pfns(ctx, n, need))
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t pfn = entries[i] & PAGE_DATA_PFN_MASK;
        unsigned int type = (unsigned int)(entries[i] >> 60);

        PV.types[pfn] = (uint8_t)type;
        if (page_type_has_stream_data(type))
            frames[j++] = PV.p2m[pfn];
    }
    return 0;
}

/* pfn -> mfn in a page table, in place.  A pfn that has no page yet (a table that
 * arrives before the pages it maps) gets one now, as the stream will fill it later.
 * Xen's own L4 slots stay as the stream has them (empty): Xen writes its own when the
 * table is pinned. */
static int pv_localise_page(struct sr_context *ctx, unsigned int type, void *page)
{
    uint64_t *pte = page;
    unsigned int level = type & 0x7U;

    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++) {
        uint64_t pfn;

        if (!(pte[i] & SR_PTE_PRESENT))
            continue;
        if (level == 4 && i >= SR_PV_L4_XEN_FIRST && i < SR_PV_L4_XEN_END) {
            ERROR("L4 page table entry %u (%#llx) in Xen's slots", i,
                  (unsigned long long)pte[i]);
            errno = EBADMSG;
            return -1;
        }
        pfn = (pte[i] & SR_PTE_FRAME_MASK) >> PAGE_SHIFT;
        if (pfn > PV.max_pfn) {
            ERROR("L%u page table entry %u (%#llx) maps pfn %#llx, beyond the p2m", level, i,
                  (unsigned long long)pte[i], (unsigned long long)pfn);
            errno = EBADMSG;
            return -1;
        }
        if (PV.p2m[pfn] == SR_INVALID_GFN && populate_pfns(ctx, 1, &pfn))
            return -1;
        pte[i] = (pte[i] & ~SR_PTE_FRAME_MASK) | (PV.p2m[pfn] << PAGE_SHIFT);
    }
    return 0;
}

static int handle_shared_info(struct sr_context *ctx, struct sr_record *rec)
{
    if (rec->length != PAGE_SIZE) {
        ERROR("SHARED_INFO record length %u, expected %lu", rec->length, PAGE_SIZE);
        errno = EBADMSG;
        return -1;
    }
    free(PV.shared_info);
    PV.shared_info = malloc(PAGE_SIZE);
    if (!PV.shared_info) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(PV.shared_info, rec->data, PAGE_SIZE);
    return 0;
}

/* Stash a vcpu blob; it is applied at the end of the stream. */
static int handle_vcpu_blob(struct sr_context *ctx, struct sr_record *rec,
                            enum xhv_pv_vcpu_blob which)
{
    const struct sr_x86_pv_vcpu_hdr *hdr = rec->data;
    uint32_t size;
    uint8_t *copy;

    if (!PV.seen_pv_info) {
        ERROR("%s before X86_PV_INFO", rec_type_to_str(rec->type));
        errno = EBADMSG;
        return -1;
    }
    if (rec->length < sizeof(*hdr)) {
        ERROR("%s record length %u, header needs %zu", rec_type_to_str(rec->type),
              rec->length, sizeof(*hdr));
        errno = EBADMSG;
        return -1;
    }
    if (hdr->vcpu_id >= PV.nr_vcpus) {
        ERROR("%s for vcpu %u, the domain has %u", rec_type_to_str(rec->type), hdr->vcpu_id,
              PV.nr_vcpus);
        errno = EBADMSG;
        return -1;
    }
    size = rec->length - (uint32_t)sizeof(*hdr);
    if (!size)
        return 0;   /* zero-content records of older savers: nothing to apply */
    if ((which == XHV_PV_VCPU_BASIC && size != sizeof(struct sr_x86_64_pv_vcpu_ctx)) ||
        (which == XHV_PV_VCPU_EXTENDED && size > PV_VCPU_EXTENDED_MAX) ||
        (which == XHV_PV_VCPU_XSAVE && size < PV_VCPU_XSAVE_MIN) ||
        (which == XHV_PV_VCPU_MSRS && size % PV_VCPU_MSR_SIZE)) {
        ERROR("%s for vcpu %u: %u bytes is out of bounds", rec_type_to_str(rec->type),
              hdr->vcpu_id, size);
        errno = EBADMSG;
        return -1;
    }
    copy = malloc(size);
    if (!copy) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(copy, hdr + 1, size);
    free(PV.vcpus[hdr->vcpu_id].blob[which]);
    PV.vcpus[hdr->vcpu_id].blob[which] = copy;
    PV.vcpus[hdr->vcpu_id].size[which] = size;
    return 0;
}

static int pv_process_record(struct sr_context *ctx, struct sr_record *rec)
{
    switch (rec->type) {
    case REC_TYPE_X86_PV_INFO:
        return handle_pv_info(ctx, rec);
    case REC_TYPE_X86_PV_P2M_FRAMES:
        return handle_p2m_frames(ctx, rec);
    case REC_TYPE_X86_TSC_INFO:
        return handle_x86_tsc_info(ctx, rec);
    case REC_TYPE_SHARED_INFO:
        return handle_shared_info(ctx, rec);
    case REC_TYPE_X86_PV_VCPU_BASIC:
        return handle_vcpu_blob(ctx, rec, XHV_PV_VCPU_BASIC);
    case REC_TYPE_X86_PV_VCPU_EXTENDED:
        return handle_vcpu_blob(ctx, rec, XHV_PV_VCPU_EXTENDED);
    case REC_TYPE_X86_PV_VCPU_XSAVE:
        return handle_vcpu_blob(ctx, rec, XHV_PV_VCPU_XSAVE);
    case REC_TYPE_X86_PV_VCPU_MSRS:
        return handle_vcpu_blob(ctx, rec, XHV_PV_VCPU_MSRS);
    case REC_TYPE_X86_CPUID_POLICY:
    case REC_TYPE_X86_MSR_POLICY:
        return handle_x86_cpu_policy_record(ctx, rec);
    default:
        return RECORD_NOT_PROCESSED;
    }
}

static int pv_static_data_complete(struct sr_context *ctx, unsigned int *missing)
{
    if (!PV.seen_pv_info) {
        ERROR("Static data complete without an X86_PV_INFO record");
        errno = EBADMSG;
        return -1;
    }
    return apply_x86_cpu_policy(ctx, missing);
}

/* A pfn the stream gave a page of the given type (nibble without the pin bit), or -1. */
static int pfn_to_mfn_checked(struct sr_context *ctx, uint64_t pfn, unsigned int want_level,
                              const char *what, uint64_t *mfn)
{
    if (pfn > PV.max_pfn || PV.p2m[pfn] == SR_INVALID_GFN) {
        ERROR("%s: pfn %#llx has no page", what, (unsigned long long)pfn);
        errno = EBADMSG;
        return -1;
    }
    if ((PV.types[pfn] & 0x7U) != want_level) {
        ERROR("%s: pfn %#llx has type %#x, expected level %u", what, (unsigned long long)pfn,
              PV.types[pfn], want_level);
        errno = EBADMSG;
        return -1;
    }
    *mfn = PV.p2m[pfn];
    return 0;
}

/* The guest's own p2m pages get the new mfns (no page: ~0). */
static int update_guest_p2m(struct sr_context *ctx)
{
    uint64_t *mfns = malloc(PV.nr_frame_pfns * sizeof(*mfns));
    void **pages = malloc(PV.nr_frame_pfns * sizeof(*pages));
    int *errs = malloc(PV.nr_frame_pfns * sizeof(*errs));
    int rc = -1;

    if (!mfns || !pages || !errs) {
        errno = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < PV.nr_frame_pfns; i++)
        if (pfn_to_mfn_checked(ctx, PV.frame_pfns[i], 0, "p2m frame", &mfns[i]))
            goto out;
    if (xhv_map_foreign(ctx->xch, ctx->domid, PROT_READ | PROT_WRITE, mfns, pages, errs,
                        PV.nr_frame_pfns)) {
        PERROR("Unable to map the guest's %zu p2m frames", PV.nr_frame_pfns);
        goto out;
    }
    for (size_t i = 0; i < PV.nr_frame_pfns; i++)
        if (errs[i]) {
            errno = errs[i];
            PERROR("Unable to map p2m frame %zu", i);
            goto unmap;
        }
    for (size_t i = 0; i < PV.nr_frame_pfns; i++) {
        uint64_t *p = pages[i];

        for (size_t j = 0; j < P2M_PER_PAGE; j++) {
            uint64_t pfn = i * P2M_PER_PAGE + j;

            p[j] = pfn <= PV.max_pfn ? PV.p2m[pfn] : SR_INVALID_GFN;
        }
    }
    rc = 0;
 unmap:
    xhv_unmap_foreign(ctx->xch, ctx->domid, pages, PV.nr_frame_pfns);
 out:
    free(mfns);
    free(pages);
    free(errs);
    return rc;
}

/* Every page table the guest had pinned, pinned again, lowest levels first (Xen
 * validates a table's lower tables when it pins it; pinned ones are already done). */
static int pin_page_tables(struct sr_context *ctx)
{
    uint64_t *mfns = NULL;
    unsigned int *levels = NULL;
    size_t n = 0, max = 0;
    int rc = -1;

    for (uint64_t pfn = 0; pfn <= PV.max_pfn; pfn++)
        if ((PV.types[pfn] & PT_LPINTAB) && PV.types[pfn] != PT_XTAB &&
            PV.types[pfn] != PT_BROKEN && PV.types[pfn] != PT_XALLOC)
            max++;
    if (!max)
        return 0;
    mfns = malloc(max * sizeof(*mfns));
    levels = malloc(max * sizeof(*levels));
    if (!mfns || !levels) {
        errno = ENOMEM;
        goto out;
    }
    for (unsigned int level = 1; level <= 4; level++)
        for (uint64_t pfn = 0; pfn <= PV.max_pfn; pfn++)
            if (PV.types[pfn] == (PT_LPINTAB | level) && PV.p2m[pfn] != SR_INVALID_GFN) {
                mfns[n] = PV.p2m[pfn];
                levels[n++] = level;
            }
    if (xhv_pv_pin(ctx->xch, ctx->domid, n, mfns, levels)) {
        PERROR("Unable to pin %zu page tables", n);
        goto out;
    }
    DPRINTF("Pinned %zu page tables", n);
    rc = 0;
 out:
    free(mfns);
    free(levels);
    return rc;
}

/* vcpu 0's rdx names the start info page (a pfn in the stream). */
static int fix_start_info(struct sr_context *ctx, struct sr_x86_64_pv_vcpu_ctx *v)
{
    struct sr_x86_64_start_info *si;
    uint64_t mfn, store_pfn, console_pfn;
    void *page = NULL;
    int err = 0, rc = -1;

    if (pfn_to_mfn_checked(ctx, v->rdx, 0, "start info (vcpu 0 rdx)", &mfn))
        return -1;
    if (xhv_map_foreign(ctx->xch, ctx->domid, PROT_READ | PROT_WRITE, &mfn, &page, &err, 1)) {
        PERROR("Unable to map the start info page");
        return -1;
    }
    if (err) {
        errno = err;
        PERROR("Unable to map the start info page");
        goto out;
    }
    si = page;
    if (memcmp(si->magic, "xen-", 4)) {
        ERROR("The page vcpu 0's rdx names (pfn %#llx) is no start info page",
              (unsigned long long)v->rdx);
        errno = EBADMSG;
        goto out;
    }
    store_pfn = si->store_mfn;
    console_pfn = si->console_mfn;
    if (pfn_to_mfn_checked(ctx, store_pfn, 0, "xenstore ring", &ctx->restore.xenstore_gfn) ||
        pfn_to_mfn_checked(ctx, console_pfn, 0, "console ring", &ctx->restore.console_gfn))
        goto out;
    si->store_mfn = ctx->restore.xenstore_gfn;
    si->store_evtchn = ctx->restore.store_evtchn;
    si->console_mfn = ctx->restore.console_gfn;
    si->console_evtchn = ctx->restore.console_evtchn;
    si->nr_pages = PV.max_pfn + 1;
    si->shared_info = PV.shared_info_frame << PAGE_SHIFT;
    si->flags = 0;
    v->rdx = mfn;
    rc = 0;
 out:
    xhv_unmap_foreign(ctx->xch, ctx->domid, &page, 1);
    return rc;
}

/* The pfns saved in the vcpu context become the new mfns. */
static int localise_vcpu_basic(struct sr_context *ctx, unsigned int vcpu,
                               struct sr_x86_64_pv_vcpu_ctx *v)
{
    uint64_t mfn;

    if (v->gdt_ents > SR_PV_GDT_ENTS_MAX) {
        ERROR("vcpu %u: %llu GDT entries (at most %u)", vcpu, (unsigned long long)v->gdt_ents,
              SR_PV_GDT_ENTS_MAX);
        errno = EBADMSG;
        return -1;
    }
    for (uint64_t i = 0; i < (v->gdt_ents + SR_PV_GDT_ENTS_PER_FRAME - 1) /
                                 SR_PV_GDT_ENTS_PER_FRAME; i++) {
        if (pfn_to_mfn_checked(ctx, v->gdt_frames[i], 0, "GDT frame", &mfn))
            return -1;
        v->gdt_frames[i] = mfn;
    }
    if (pfn_to_mfn_checked(ctx, v->ctrlreg[3] >> PAGE_SHIFT, 4, "cr3", &mfn))
        return -1;
    v->ctrlreg[3] = mfn << PAGE_SHIFT;
    if (v->ctrlreg[1] & SR_PV_CR1_VALID) {
        if (pfn_to_mfn_checked(ctx, v->ctrlreg[1] >> PAGE_SHIFT, 4, "cr1", &mfn))
            return -1;
        v->ctrlreg[1] = mfn << PAGE_SHIFT;
    }
    if (vcpu == 0 && fix_start_info(ctx, v))
        return -1;
    return 0;
}

static int pv_stream_complete(struct sr_context *ctx)
{
    struct sr_pv_vcpu_blobs *v0 = PV.vcpus ? &PV.vcpus[0] : NULL;

    if (!PV.have_p2m_frames || !PV.shared_info || !v0 || !v0->blob[XHV_PV_VCPU_BASIC]) {
        ERROR("Stream complete without %s",
              !PV.have_p2m_frames ? "X86_PV_P2M_FRAMES"
              : !PV.shared_info ? "SHARED_INFO" : "vcpu 0's X86_PV_VCPU_BASIC");
        errno = EBADMSG;
        return -1;
    }
    if (ctx->restore.check_only)
        return 0;
    for (unsigned int i = 0; i < PV.nr_vcpus; i++)
        if (PV.vcpus[i].blob[XHV_PV_VCPU_BASIC] &&
            localise_vcpu_basic(ctx, i,
                                (struct sr_x86_64_pv_vcpu_ctx *)PV.vcpus[i].blob[XHV_PV_VCPU_BASIC]))
            return -1;
    if (update_guest_p2m(ctx) || pin_page_tables(ctx))
        return -1;
    if (xhv_pv_set_shared_info(ctx->xch, ctx->domid, PV.shared_info, PAGE_SIZE)) {
        PERROR("Unable to set the shared info");
        return -1;
    }
    for (unsigned int i = 0; i < PV.nr_vcpus; i++)
        for (unsigned int w = XHV_PV_VCPU_BASIC; w <= XHV_PV_VCPU_MSRS; w++) {
            if (!PV.vcpus[i].blob[w])
                continue;
            if (xhv_pv_vcpu_set(ctx->xch, ctx->domid, i, (enum xhv_pv_vcpu_blob)w,
                                PV.vcpus[i].blob[w], PV.vcpus[i].size[w])) {
                PERROR("Unable to set vcpu %u's state %u", i, w);
                return -1;
            }
        }
    if (xhv_seed_grants(ctx->xch, ctx->domid, ctx->restore.console_gfn,
                        ctx->restore.console_domid, ctx->restore.xenstore_gfn,
                        ctx->restore.store_domid)) {
        PERROR("Unable to grant the console and xenstore rings");
        return -1;
    }
    IPRINTF("PV domain %u restored: pfns 0..%#llx, xenstore mfn %#llx, console mfn %#llx",
            ctx->domid, (unsigned long long)PV.max_pfn,
            (unsigned long long)ctx->restore.xenstore_gfn,
            (unsigned long long)ctx->restore.console_gfn);
    return 0;
}

static int pv_cleanup(struct sr_context *ctx)
{
    for (unsigned int i = 0; PV.vcpus && i < PV.nr_vcpus; i++)
        for (unsigned int w = 0; w < 4; w++)
            free(PV.vcpus[i].blob[w]);
    free(PV.vcpus);
    free(PV.p2m);
    free(PV.types);
    free(PV.frame_pfns);
    free(PV.shared_info);
    memset(&PV, 0, sizeof(PV));
    free_x86_cpu_policy(ctx);
    return 0;
}

const struct sr_restore_ops restore_ops_x86_pv = {
    .page_tables = true,
    .prepare_page_data = pv_prepare_page_data,
    .localise_page = pv_localise_page,
    .pfn_is_valid = pv_pfn_is_valid,
    .setup = pv_setup,
    .process_record = pv_process_record,
    .static_data_complete = pv_static_data_complete,
    .stream_complete = pv_stream_complete,
    .cleanup = pv_cleanup,
};
