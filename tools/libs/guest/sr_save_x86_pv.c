/*
 * Save operations for x86 PV domains (64-bit), on the real-Xen backend.
 *
 * A PV guest manages its own physical-to-machine table (the p2m): its pfns are the
 * stream's page numbers, but Xen, foreign mapping and the page-type query know its
 * pages by machine frame number (mfn), and its page tables and vcpu context hold mfns.
 * So this saver reads the guest's p2m (the pages the guest publishes through its shared
 * info), looks pages up by mfn, and rewrites every mfn the stream carries into the pfn
 * the guest knows it by ("normalisation"); a restorer on another host does the reverse
 * with the mfns it allocates.
 *
 * Stream order (as upstream's PV saver): X86_PV_INFO, STATIC_DATA_END,
 * X86_PV_P2M_FRAMES, PAGE_DATA..., X86_TSC_INFO, SHARED_INFO, per online vcpu
 * X86_PV_VCPU_BASIC / _EXTENDED / _XSAVE / _MSRS, END.
 *
 * Plain (non-live) saves only: live and checkpointed streams need log-dirty, which for
 * a PV guest Xen implements with shadow paging, and Debian's Xen 4.17 is built without
 * shadow paging (so XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY fails for PV guests).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sr_common.h"

#define PV (ctx->x86_pv)
#define P2M_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))

/* Entries of a 64-bit p2m that are not machine frames: ~0 (no page), and Linux's
 * identity (bit 62) and foreign (bit 63) markers.  Anything beyond 52 bits is no mfn. */
static bool mfn_plausible(uint64_t mfn)
{
    return !(mfn & ~PAGE_DATA_PFN_MASK);
}

static uint64_t p2m_entry(const struct sr_context *ctx, uint64_t pfn)
{
    const uint64_t *page = ctx->x86_pv.p2m_pages[pfn / P2M_PER_PAGE];

    return page[pfn % P2M_PER_PAGE];
}

static int cmp_m2p(const void *a, const void *b)
{
    const struct sr_pv_m2p *x = a, *y = b;

    return x->mfn < y->mfn ? -1 : x->mfn > y->mfn;
}

/* The reverse of the p2m, as a sorted array: a guest has few pages and the host may have
 * many, so no table indexed by mfn. */
static int build_m2p(struct sr_context *ctx)
{
    size_t n = 0;

    if (!PV.m2p) {
        PV.m2p = malloc(PV.p2m_size * sizeof(*PV.m2p));
        if (!PV.m2p) {
            ERROR("Unable to allocate the reverse p2m (%llu entries)",
                  (unsigned long long)PV.p2m_size);
            errno = ENOMEM;
            return -1;
        }
    }
    for (uint64_t pfn = 0; pfn < PV.p2m_size; pfn++) {
        uint64_t mfn = p2m_entry(ctx, pfn);

        if (mfn_plausible(mfn))
            PV.m2p[n++] = (struct sr_pv_m2p){ mfn, pfn };
    }
    qsort(PV.m2p, n, sizeof(*PV.m2p), cmp_m2p);
    for (size_t i = 1; i < n; i++)
        if (PV.m2p[i].mfn == PV.m2p[i - 1].mfn) {
            ERROR("The guest's p2m maps pfns %#llx and %#llx to the same mfn %#llx",
                  (unsigned long long)PV.m2p[i - 1].pfn, (unsigned long long)PV.m2p[i].pfn,
                  (unsigned long long)PV.m2p[i].mfn);
            errno = EINVAL;
            return -1;
        }
    PV.nr_m2p = n;
    return 0;
}

/* 0 and *pfn, or -1 (ERANGE) for an mfn that is not one of the guest's pages. */
static int mfn_to_pfn(const struct sr_context *ctx, uint64_t mfn, uint64_t *pfn)
{
    size_t lo = 0, hi = ctx->x86_pv.nr_m2p;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ctx->x86_pv.m2p[mid].mfn == mfn) {
            *pfn = ctx->x86_pv.m2p[mid].pfn;
            return 0;
        }
        if (ctx->x86_pv.m2p[mid].mfn < mfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    errno = ERANGE;
    return -1;
}

static int map_p2m(struct sr_context *ctx)
{
    uint64_t size = 0;
    int n = xhv_pv_p2m_frames(ctx->xch, ctx->domid, &size, NULL, 0);

    if (n <= 0) {
        PERROR("Unable to find the guest's p2m");
        return -1;
    }
    if (!size || (uint64_t)n != (size + P2M_PER_PAGE - 1) / P2M_PER_PAGE ||
        size - 1 > UINT32_MAX) {
        ERROR("Inconsistent p2m: %llu entries in %d frames", (unsigned long long)size, n);
        errno = EINVAL;
        return -1;
    }
    PV.nr_p2m_frames = (size_t)n;
    PV.p2m_mfns = malloc(PV.nr_p2m_frames * sizeof(*PV.p2m_mfns));
    PV.p2m_pages = malloc(PV.nr_p2m_frames * sizeof(*PV.p2m_pages));
    PV.p2m_errs = malloc(PV.nr_p2m_frames * sizeof(*PV.p2m_errs));
    if (!PV.p2m_mfns || !PV.p2m_pages || !PV.p2m_errs) {
        errno = ENOMEM;
        return -1;
    }
    n = xhv_pv_p2m_frames(ctx->xch, ctx->domid, &PV.p2m_size, PV.p2m_mfns, PV.nr_p2m_frames);
    if (n < 0 || (size_t)n != PV.nr_p2m_frames || PV.p2m_size != size) {
        ERROR("The guest's p2m changed while it was read (%d frames, %llu entries)", n,
              (unsigned long long)PV.p2m_size);
        errno = errno ? errno : EAGAIN;
        return -1;
    }
    if (xhv_map_foreign(ctx->xch, ctx->domid, PROT_READ, PV.p2m_mfns, PV.p2m_pages, PV.p2m_errs,
                        PV.nr_p2m_frames)) {
        PERROR("Unable to map the %zu p2m frames", PV.nr_p2m_frames);
        return -1;
    }
    PV.p2m_mapped = true;
    for (size_t i = 0; i < PV.nr_p2m_frames; i++)
        if (PV.p2m_errs[i]) {
            errno = PV.p2m_errs[i];
            PERROR("Unable to map p2m frame %zu (mfn %#llx)", i,
                   (unsigned long long)PV.p2m_mfns[i]);
            return -1;
        }
    return 0;
}

static int pv_setup(struct sr_context *ctx)
{
    xhv_pv_info_t info;

    if (ctx->stream_type != XC_STREAM_PLAIN || ctx->save.live) {
        ERROR("Domain %u is a PV guest: only a plain non-live save is supported. Live "
              "migration, Remus and COLO need log-dirty tracking, which Xen does for PV "
              "guests with shadow paging, and this hypervisor (Debian's Xen 4.17) is built "
              "without shadow paging", ctx->domid);
        errno = EOPNOTSUPP;
        return -1;
    }
    if (xhv_pv_info(ctx->xch, ctx->domid, &info)) {
        PERROR("Unable to get PV information of domain %u", ctx->domid);
        return -1;
    }
    if (info.guest_width != 8 || info.pt_levels != 4) {
        ERROR("Domain %u is a %u-bit PV guest with %u paging levels: only 64-bit PV guests "
              "are supported", ctx->domid, info.guest_width * 8, info.pt_levels);
        errno = EOPNOTSUPP;
        return -1;
    }
    PV.width = info.guest_width;
    PV.levels = info.pt_levels;
    PV.max_vcpu_id = info.max_vcpu_id;
    PV.shared_info_frame = info.shared_info_frame;
    if (map_p2m(ctx) || build_m2p(ctx))
        return -1;
    ctx->save.p2m_size = PV.p2m_size;
    IPRINTF("PV domain %u: %llu p2m entries in %zu frames, %zu pages present", ctx->domid,
            (unsigned long long)PV.p2m_size, PV.nr_p2m_frames, PV.nr_m2p);
    return 0;
}

static int pv_static_data(struct sr_context *ctx)
{
    struct sr_x86_pv_info pvi = { .guest_width = (uint8_t)PV.width,
                                  .pt_levels = (uint8_t)PV.levels };
    struct sr_record rec = { .type = REC_TYPE_X86_PV_INFO, .length = sizeof(pvi), .data = &pvi };

    if (write_record(ctx, ctx->fd, &rec))
        return -1;
    return write_x86_cpu_policy_records(ctx);
}

/* The pfns of the pages that hold the p2m, so that a restorer can write the new p2m
 * (with its own mfns) into the same guest pages. */
static int pv_start_of_stream(struct sr_context *ctx)
{
    struct sr_x86_pv_p2m_frames hdr = { .start_pfn = 0,
                                        .end_pfn = (uint32_t)(PV.p2m_size - 1) };
    struct sr_record rec = { .type = REC_TYPE_X86_PV_P2M_FRAMES, .length = sizeof(hdr),
                             .data = &hdr };
    uint64_t *pfns = malloc(PV.nr_p2m_frames * sizeof(*pfns));
    int rc = -1;

    if (!pfns) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < PV.nr_p2m_frames; i++)
        if (mfn_to_pfn(ctx, PV.p2m_mfns[i], &pfns[i])) {
            ERROR("p2m frame %zu (mfn %#llx) is not one of the guest's pages", i,
                  (unsigned long long)PV.p2m_mfns[i]);
            goto out;
        }
    rc = write_split_record(ctx, ctx->fd, &rec, pfns, PV.nr_p2m_frames * sizeof(*pfns));
 out:
    free(pfns);
    return rc;
}

/*
 * Before each PAGE_DATA batch.  The first batch comes after the suspend (plain save):
 * the reverse map built at setup described a running guest, so it is built again from
 * the now frozen p2m, and the p2m's shape must still be the one the P2M_FRAMES record
 * described.
 */
static int pv_prepare_batch(struct sr_context *ctx)
{
    uint64_t size = 0;
    int n;

    if (PV.m2p_after_suspend || !ctx->dominfo.shutdown)
        return 0;
    n = xhv_pv_p2m_frames(ctx->xch, ctx->domid, &size, NULL, 0);
    if (n < 0 || (size_t)n != PV.nr_p2m_frames || size != PV.p2m_size) {
        ERROR("The guest's p2m changed size before it suspended (%llu -> %llu entries): "
              "save again", (unsigned long long)PV.p2m_size, (unsigned long long)size);
        errno = EAGAIN;
        return -1;
    }
    if (build_m2p(ctx))
        return -1;
    PV.m2p_after_suspend = true;
    return 0;
}

static uint64_t pv_pfn_to_gfn(const struct sr_context *ctx, uint64_t pfn)
{
    uint64_t mfn;

    if (pfn >= ctx->x86_pv.p2m_size)
        return SR_INVALID_GFN;
    mfn = p2m_entry(ctx, pfn);
    return mfn_plausible(mfn) ? mfn : SR_INVALID_GFN;
}

/* Holes (no mfn) are XTAB without asking Xen; the rest as Xen reports them. */
static int pv_get_types(struct sr_context *ctx, size_t n, const uint64_t *gfns, uint32_t *types)
{
    uint64_t mfns[MAX_BATCH_SIZE];
    uint32_t t[MAX_BATCH_SIZE];
    size_t k = 0;

    if (n > MAX_BATCH_SIZE) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (gfns[i] != SR_INVALID_GFN)
            mfns[k++] = gfns[i];
    if (k && xhv_pv_mfn_types(ctx->xch, ctx->domid, k, mfns, t)) {
        PERROR("Failed to get the types of %zu mfns", k);
        return -1;
    }
    k = 0;
    for (size_t i = 0; i < n; i++)
        types[i] = gfns[i] == SR_INVALID_GFN ? XHV_PFINFO_XTAB : t[k++];
    return 0;
}

/*
 * A page table with its mfns rewritten to pfns.  Xen's own L4 slots are cleared (the
 * restoring Xen writes its own); a present entry must point at one of the guest's
 * pages (the guest is suspended, so anything else is a real inconsistency); L2/L3
 * superpages cannot exist in a PV guest.
 */
static int pv_normalise_page(struct sr_context *ctx, unsigned int type, const void *src,
                             void *dst)
{
    const uint64_t *in = src;
    uint64_t *out = dst;
    unsigned int level = type & 0x7U;

    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++) {
        uint64_t pte = in[i], pfn;

        if (level == 4 && i >= SR_PV_L4_XEN_FIRST && i < SR_PV_L4_XEN_END) {
            out[i] = 0;
            continue;
        }
        if (pte & SR_PTE_PRESENT) {
            uint64_t mfn = (pte & SR_PTE_FRAME_MASK) >> PAGE_SHIFT;

            if ((level == 2 || level == 3) && (pte & SR_PTE_PSE)) {
                ERROR("Superpage in the L%u page table at entry %u (%#llx)", level, i,
                      (unsigned long long)pte);
                errno = EINVAL;
                return -1;
            }
            if (mfn_to_pfn(ctx, mfn, &pfn)) {
                ERROR("L%u page table entry %u (%#llx) maps mfn %#llx, which is not one of "
                      "the guest's pages", level, i, (unsigned long long)pte,
                      (unsigned long long)mfn);
                errno = ERANGE;
                return -1;
            }
            pte = (pte & ~SR_PTE_FRAME_MASK) | (pfn << PAGE_SHIFT);
        }
        out[i] = pte;
    }
    return 0;
}

static int pv_nothing(struct sr_context *ctx)
{
    (void)ctx;
    return 0;
}

/* The shared info page as it is: the restorer takes the vcpu_info and arch parts. */
static int write_shared_info(struct sr_context *ctx)
{
    struct sr_record rec = { .type = REC_TYPE_SHARED_INFO, .length = PAGE_SIZE };
    uint64_t mfn = PV.shared_info_frame;
    void *page = NULL;
    int err = 0, rc;

    if (xhv_map_foreign(ctx->xch, ctx->domid, PROT_READ, &mfn, &page, &err, 1)) {
        PERROR("Unable to map the shared info frame %#llx", (unsigned long long)mfn);
        return -1;
    }
    if (err) {
        errno = err;
        PERROR("Unable to map the shared info frame %#llx", (unsigned long long)mfn);
        rc = -1;
    } else {
        rec.data = page;
        rc = write_record(ctx, ctx->fd, &rec);
    }
    xhv_unmap_foreign(ctx->xch, ctx->domid, &page, 1);
    return rc;
}

static int convert_frame(struct sr_context *ctx, uint64_t *frame, const char *what,
                         unsigned int vcpu)
{
    uint64_t pfn;

    if (mfn_to_pfn(ctx, *frame, &pfn)) {
        ERROR("vcpu %u: %s mfn %#llx is not one of the guest's pages", vcpu, what,
              (unsigned long long)*frame);
        return -1;
    }
    *frame = pfn;
    return 0;
}

/* The machine frames in the vcpu context become pfns: the GDT frames, the kernel (cr3)
 * and user (cr1) page table bases and, for vcpu 0, the start info frame that the
 * guest's suspend hypercall passed in rdx. */
static int normalise_vcpu_basic(struct sr_context *ctx, unsigned int vcpu,
                                struct sr_x86_64_pv_vcpu_ctx *v)
{
    uint64_t frame;

    if (v->gdt_ents > SR_PV_GDT_ENTS_MAX) {
        ERROR("vcpu %u: %llu GDT entries (at most %u)", vcpu, (unsigned long long)v->gdt_ents,
              SR_PV_GDT_ENTS_MAX);
        errno = EINVAL;
        return -1;
    }
    for (uint64_t i = 0; i < (v->gdt_ents + SR_PV_GDT_ENTS_PER_FRAME - 1) /
                                 SR_PV_GDT_ENTS_PER_FRAME; i++)
        if (convert_frame(ctx, &v->gdt_frames[i], "GDT frame", vcpu))
            return -1;
    frame = v->ctrlreg[3] >> PAGE_SHIFT;
    if (convert_frame(ctx, &frame, "cr3", vcpu))
        return -1;
    v->ctrlreg[3] = frame << PAGE_SHIFT;
    /* In the stream, bit 0 of cr1 says "there is a user page table" (pfn 0 is a valid
     * pfn, so 0 cannot); a restorer converts cr1 only when the bit is set. */
    if (v->ctrlreg[1]) {
        frame = v->ctrlreg[1] >> PAGE_SHIFT;
        if (convert_frame(ctx, &frame, "cr1 (user page table)", vcpu))
            return -1;
        v->ctrlreg[1] = (frame << PAGE_SHIFT) | SR_PV_CR1_VALID;
    }
    if (vcpu == 0 && convert_frame(ctx, &v->rdx, "start info (rdx)", vcpu))
        return -1;
    return 0;
}

/* One vcpu blob into a record; *size 0 (nothing to save) writes nothing. */
static int get_vcpu_blob(struct sr_context *ctx, unsigned int vcpu,
                         enum xhv_pv_vcpu_blob which, uint8_t **buf, size_t *size)
{
    int n = xhv_pv_vcpu_get(ctx->xch, ctx->domid, vcpu, which, NULL, 0);

    *buf = NULL;
    *size = 0;
    if (n < 0) {
        PERROR("Unable to get the size of vcpu %u's state %d", vcpu, (int)which);
        return -1;
    }
    if (!n)
        return 0;
    *buf = malloc((size_t)n);
    if (!*buf) {
        errno = ENOMEM;
        return -1;
    }
    n = xhv_pv_vcpu_get(ctx->xch, ctx->domid, vcpu, which, *buf, (size_t)n);
    if (n < 0) {
        PERROR("Unable to get vcpu %u's state %d", vcpu, (int)which);
        return -1;
    }
    *size = (size_t)n;
    return 0;
}

static int write_vcpu_record(struct sr_context *ctx, uint32_t type, unsigned int vcpu,
                             const void *blob, size_t size)
{
    struct sr_x86_pv_vcpu_hdr hdr = { .vcpu_id = vcpu };
    struct sr_record rec = { .type = type, .length = sizeof(hdr), .data = &hdr };

    return write_split_record(ctx, ctx->fd, &rec, blob, size);
}

static int write_one_vcpu(struct sr_context *ctx, unsigned int vcpu)
{
    static const struct {
        enum xhv_pv_vcpu_blob which;
        uint32_t type;
    } more[] = {
        { XHV_PV_VCPU_EXTENDED, REC_TYPE_X86_PV_VCPU_EXTENDED },
        { XHV_PV_VCPU_XSAVE, REC_TYPE_X86_PV_VCPU_XSAVE },
        { XHV_PV_VCPU_MSRS, REC_TYPE_X86_PV_VCPU_MSRS },
    };
    struct sr_x86_64_pv_vcpu_ctx *v;
    uint8_t *buf = NULL;
    size_t size;
    int rc = -1;

    if (get_vcpu_blob(ctx, vcpu, XHV_PV_VCPU_BASIC, &buf, &size))
        goto out;
    if (size != sizeof(*v)) {
        ERROR("vcpu %u: context of %zu bytes, expected %zu", vcpu, size, sizeof(*v));
        errno = EINVAL;
        goto out;
    }
    v = (struct sr_x86_64_pv_vcpu_ctx *)buf;
    if (!(v->flags & SR_PV_VGCF_ONLINE)) {
        DPRINTF("vcpu %u is offline: not saved", vcpu);
        rc = 0;
        goto out;
    }
    if (normalise_vcpu_basic(ctx, vcpu, v) ||
        write_vcpu_record(ctx, REC_TYPE_X86_PV_VCPU_BASIC, vcpu, buf, size))
        goto out;
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        free(buf);
        if (get_vcpu_blob(ctx, vcpu, more[i].which, &buf, &size))
            goto out;
        /* The receiver's bounds (see sr_stream_format.h): refuse to write what it
         * would reject. */
        if ((more[i].which == XHV_PV_VCPU_EXTENDED && size > PV_VCPU_EXTENDED_MAX) ||
            (more[i].which == XHV_PV_VCPU_XSAVE && size && size < PV_VCPU_XSAVE_MIN) ||
            (more[i].which == XHV_PV_VCPU_MSRS && size % PV_VCPU_MSR_SIZE)) {
            ERROR("vcpu %u: %s of %zu bytes is out of bounds", vcpu,
                  rec_type_to_str(more[i].type), size);
            errno = EINVAL;
            goto out;
        }
        if (size && write_vcpu_record(ctx, more[i].type, vcpu, buf, size))
            goto out;
    }
    rc = 0;
 out:
    free(buf);
    return rc;
}

static int pv_end_of_checkpoint(struct sr_context *ctx)
{
    if (write_x86_tsc_info(ctx) || write_shared_info(ctx))
        return -1;
    for (unsigned int v = 0; v <= PV.max_vcpu_id; v++)
        if (write_one_vcpu(ctx, v))
            return -1;
    return 0;
}

static int pv_cleanup(struct sr_context *ctx)
{
    if (PV.p2m_mapped)
        xhv_unmap_foreign(ctx->xch, ctx->domid, PV.p2m_pages, PV.nr_p2m_frames);
    free(PV.p2m_mfns);
    free(PV.p2m_pages);
    free(PV.p2m_errs);
    free(PV.m2p);
    memset(&PV, 0, sizeof(PV));
    return 0;
}

const struct sr_save_ops save_ops_x86_pv = {
    .dhdr_type = DHDR_TYPE_X86_PV,
    .prepare_batch = pv_prepare_batch,
    .pfn_to_gfn = pv_pfn_to_gfn,
    .get_types = pv_get_types,
    .normalise_page = pv_normalise_page,
    .setup = pv_setup,
    .static_data = pv_static_data,
    .start_of_stream = pv_start_of_stream,
    .start_of_checkpoint = pv_nothing,
    .end_of_checkpoint = pv_end_of_checkpoint,
    .check_vm_state = pv_nothing,
    .cleanup = pv_cleanup,
};
