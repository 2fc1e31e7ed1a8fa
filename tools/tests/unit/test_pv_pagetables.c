/*
 * PV page-table rewriting without a hypervisor: the saver's normalisation (mfn -> pfn,
 * sr_save_x86_pv.c) and the restorer's localisation (pfn -> mfn, sr_restore_x86_pv.c),
 * through their ops tables, on a made-up guest whose p2m is known.  Checks: flags and
 * non-present entries survive, Xen's L4 slots are cleared on save and refused on
 * restore, an mfn that is not the guest's and a pfn beyond the p2m are errors, PV
 * superpages are refused, and the two directions are each other's inverse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sr_common.h"
#include "test.h"

#define NPFN 64
#define MFN(pfn) (0x5000ULL + 7 * (pfn))      /* the made-up host's frame of each pfn */
#define FLAGS 0x8000000000000067ULL            /* NX | dirty | accessed | user | rw | present */

static struct sr_pv_m2p m2p[NPFN];
static uint64_t p2m[NPFN];
static uint8_t types[NPFN];

static int cmp(const void *a, const void *b)
{
    const struct sr_pv_m2p *x = a, *y = b;

    return x->mfn < y->mfn ? -1 : x->mfn > y->mfn;
}

static void setup(struct sr_context *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    for (uint64_t pfn = 0; pfn < NPFN; pfn++) {
        m2p[pfn] = (struct sr_pv_m2p){ MFN(pfn), pfn };
        p2m[pfn] = MFN(pfn);
        types[pfn] = PT_NOTAB;
    }
    qsort(m2p, NPFN, sizeof(m2p[0]), cmp);
    ctx->x86_pv.m2p = m2p;
    ctx->x86_pv.nr_m2p = NPFN;
    ctx->x86_pv.p2m = p2m;
    ctx->x86_pv.types = types;
    ctx->x86_pv.max_pfn = NPFN - 1;
    ctx->x86_pv.have_p2m_frames = true;
}

int main(void)
{
    struct sr_context ctx_s, *ctx = &ctx_s;
    uint64_t src[512], dst[512], back[512];
    int rc;

    setup(ctx);

    /* L1: present entries with all sorts of flags; non-present ones with junk. */
    for (unsigned int i = 0; i < 512; i++)
        src[i] = (i % 3) ? (MFN(i % NPFN) << 12) | FLAGS | ((i & 1) ? 0x80 : 0)
                         : 0x00000000deadbee0ULL + 2 * i;   /* bit 0 clear: not present */
    rc = save_ops_x86_pv.normalise_page(ctx, PT_L1TAB, src, dst);
    CHECK(rc == 0, "L1 normalised");
    CHECK((dst[1] >> 12 & 0xffffffffffULL) == 1 % NPFN && (dst[1] & ~SR_PTE_FRAME_MASK) ==
          (src[1] & ~SR_PTE_FRAME_MASK), "an L1 entry's mfn becomes its pfn, flags kept "
          "(%#llx -> %#llx)", (unsigned long long)src[1], (unsigned long long)dst[1]);
    CHECK(dst[0] == src[0] && dst[3] == src[3], "non-present entries travel unchanged");
    CHECK(((dst[65] & SR_PTE_FRAME_MASK) >> 12) == 65 % NPFN && (dst[65] & 0x80),
          "bit 7 (PAT) in an L1 entry is no superpage");
    memcpy(back, dst, sizeof(back));
    rc = restore_ops_x86_pv.localise_page(ctx, PT_L1TAB | PT_LPINTAB, back);
    CHECK(rc == 0 && !memcmp(back, src, sizeof(src)), "localisation gives the L1 back");

    /* An mfn the guest does not own. */
    memcpy(dst, src, sizeof(src));
    src[5] = (0x999999ULL << 12) | 1;
    errno = 0;
    rc = save_ops_x86_pv.normalise_page(ctx, PT_L1TAB, src, dst);
    CHECK(rc == -1 && errno == ERANGE, "a foreign mfn in a page table: ERANGE (%d)", errno);
    src[5] = 0;

    /* L2 superpage: not in a PV guest. */
    memset(src, 0, sizeof(src));
    src[6] = (MFN(2) << 12) | 0x67;
    src[7] = (MFN(3) << 12) | SR_PTE_PSE | 1;
    errno = 0;
    rc = save_ops_x86_pv.normalise_page(ctx, PT_L2TAB, src, dst);
    CHECK(rc == -1 && errno == EINVAL, "an L2 superpage: EINVAL (%d)", errno);
    src[7] = 0;

    /* L4: Xen's slots [256, 272) are cleared, the guest's own from 272 on translated. */
    memset(src, 0, sizeof(src));
    src[0] = (MFN(10) << 12) | 0x67;
    src[256] = (0x123456ULL << 12) | 0x63;       /* Xen's, and not the guest's frame */
    src[271] = (0x123457ULL << 12) | 0x63;
    src[272] = (MFN(11) << 12) | 0x67;
    src[511] = (MFN(12) << 12) | 0x67;
    rc = save_ops_x86_pv.normalise_page(ctx, PT_L4TAB | PT_LPINTAB, src, dst);
    CHECK(rc == 0 && dst[256] == 0 && dst[271] == 0, "Xen's L4 slots are cleared");
    CHECK(dst[272] == ((11ULL << 12) | 0x67) && dst[511] == ((12ULL << 12) | 0x67) &&
          dst[0] == ((10ULL << 12) | 0x67), "the guest's L4 slots are translated");
    memcpy(back, dst, sizeof(back));
    rc = restore_ops_x86_pv.localise_page(ctx, PT_L4TAB, back);
    CHECK(rc == 0 && back[272] == src[272] && back[0] == src[0] && back[256] == 0,
          "localisation gives the guest's L4 slots back");

    /* Restore side: hostile tables. */
    memcpy(back, dst, sizeof(back));
    back[260] = (3ULL << 12) | 1;
    errno = 0;
    rc = restore_ops_x86_pv.localise_page(ctx, PT_L4TAB, back);
    CHECK(rc == -1 && errno == EBADMSG, "a present entry in Xen's L4 slots is refused (%d)",
          errno);
    memset(back, 0, sizeof(back));
    back[9] = ((uint64_t)NPFN << 12) | 1;          /* one past the p2m */
    errno = 0;
    rc = restore_ops_x86_pv.localise_page(ctx, PT_L1TAB, back);
    CHECK(rc == -1 && errno == EBADMSG, "a pfn beyond the p2m is refused (%d)", errno);

    /* The restorer's pfn range check. */
    CHECK(restore_ops_x86_pv.pfn_is_valid(ctx, NPFN - 1) &&
          !restore_ops_x86_pv.pfn_is_valid(ctx, NPFN), "pfn_is_valid is 0..max_pfn");
    ctx->x86_pv.have_p2m_frames = false;
    CHECK(!restore_ops_x86_pv.pfn_is_valid(ctx, 0), "no pfn is valid before P2M_FRAMES");
    return test_done();
}
