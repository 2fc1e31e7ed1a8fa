/*
 * The COLO primary's back-channel reader on one input, in the order the primary reads
 * it (libxl's ckpt_primary_postcopy and _suspend, the engine's suspend_and_send_dirty):
 * SVM_READY and SVM_RESUMED after the first checkpoint, then per checkpoint
 * SVM_SUSPENDED, a CHECKPOINT_DIRTY_PFN_LIST merged into the dirty bitmap, SVM_READY and
 * SVM_RESUMED, until a read fails.  A merge must be all or nothing and count exactly the
 * pages it added.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest.h"
#include "libxl_records.h"
#include "sr_common.h"

/* The p2m size of the seeds' 4-page guests (and a little room above). */
#define FUZZ_P2M_SIZE 70
#define FUZZ_LONGS ((FUZZ_P2M_SIZE + 63) / 64)

static xc_interface *xch;
static int fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* For the engine's logging only: no domain is touched. */
    xch = test_open();
    fuzz_quiet(xch);
    fd = fuzz_memfd("fuzz-back");
    return 0;
}

static uint64_t count_bits(const unsigned long *b, uint64_t n)
{
    return bitmap_count(b, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sr_context c = { .xch = xch };
    unsigned long bitmap[FUZZ_LONGS], before[FUZZ_LONGS];
    uint32_t type, id;

    memset(bitmap, 0, sizeof(bitmap));
    /* Some pages already dirty on the primary (A). */
    bitmap_set_bit(bitmap, 1);
    bitmap_set_bit(bitmap, FUZZ_P2M_SIZE - 1);
    fuzz_memfd_load(fd, data, size);
    for (unsigned int n = 0;; n++) {
        if (n > 0) {
            uint64_t merged = ~0ULL, had;

            if (libxl__expect_state(fd, COLO_CHECKPOINT_SVM_SUSPENDED, NULL, 0))
                break;
            memcpy(before, bitmap, sizeof(bitmap));
            had = count_bits(bitmap, FUZZ_P2M_SIZE);
            if (colo_merge_dirty_pfn_list(&c, fd, bitmap, FUZZ_P2M_SIZE, &merged)) {
                if (memcmp(before, bitmap, sizeof(bitmap)))
                    fuzz_fail("a refused dirty pfn list changed the bitmap");
                break;
            }
            if (count_bits(bitmap, FUZZ_P2M_SIZE) != had + merged)
                fuzz_fail("merge reported %llu new pages, the bitmap grew by %llu",
                          (unsigned long long)merged,
                          (unsigned long long)(count_bits(bitmap, FUZZ_P2M_SIZE) - had));
            for (uint64_t i = 0; i < FUZZ_LONGS; i++)
                if (before[i] & ~bitmap[i])
                    fuzz_fail("merge cleared a dirty page");
        }
        if (libxl__expect_state(fd, COLO_CHECKPOINT_SVM_READY, NULL, 0) ||
            libxl__expect_state(fd, COLO_CHECKPOINT_SVM_RESUMED, NULL, 0))
            break;
    }
    /* libxl's record reader on its own, from the start (unknown optional records are
     * skipped, CHECKPOINT_STATE must carry its id). */
    lseek(fd, 0, SEEK_SET);
    while (!libxl__read_record(fd, &type, &id))
        ;
    return 0;
}
