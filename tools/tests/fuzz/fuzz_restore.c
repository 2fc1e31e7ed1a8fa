/*
 * The engine's stream reader (xc_domain_restore) on one input: a plain, Remus or COLO
 * main stream from the libxc image header on, as it arrives on the secondary (for the
 * checkpointed ones with libxl's records after each CHECKPOINT, read by libxl's own
 * secondary callbacks).  FUZZ_STREAM selects the kind at build time.
 *
 * Every input is restored into the same empty, paused target domain of the simulated
 * hypervisor, created once: a restore only populates and writes its pages and sets its
 * context, which the next input may overwrite (the target is recreated only if an input
 * left it unusable).  COLO: the secondary's back channel goes to a memfd, and is then
 * read back with the primary's readers: what the secondary sends must be what the
 * primary accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "colo_svm_stub.h"
#include "fuzz.h"
#include "guest.h"
#include "libxl_checkpoint.h"
#include "libxl_records.h"
#include "sr_common.h"

#ifndef FUZZ_STREAM
#error "FUZZ_STREAM: XC_STREAM_PLAIN, XC_STREAM_REMUS or XC_STREAM_COLO"
#endif

/* The seeds are saved from guests of at most this many pages (gen-seeds.sh). */
#define FUZZ_PAGES 32

static xc_interface *xch;
static uint32_t target;
static uint64_t p2m_size;
static int main_fd, back_fd;
static unsigned long *bitmap;

static void make_target(void)
{
    xhv_dominfo_t info;

    target = test_create_target(xch, "fuzz-target", FUZZ_PAGES, 1);
    if (xhv_domain_info(xch, target, &info)) {
        perror("target domain");
        exit(2);
    }
    p2m_size = info.p2m_size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xch = test_open();
    fuzz_quiet(xch);
    make_target();
    bitmap = calloc(bitmap_longs(p2m_size), sizeof(*bitmap));
    if (!bitmap)
        exit(2);
    main_fd = fuzz_memfd("fuzz-main");
    back_fd = fuzz_memfd("fuzz-back");
    return 0;
}

/* The primary reads what the secondary wrote, in the order it expects it (libxl's
 * ckpt_primary_postcopy / _suspend and the engine's merge of the dirty pfn list); the
 * secondary may have stopped anywhere, but only at a record boundary. */
static void check_back_channel(unsigned int checkpoints)
{
    struct sr_context c = { .xch = xch };
    struct sr_context *ctx = &c;

    /* As a primary that offered compression: the secondary's answer, when the main
     * stream offered it, comes before its first dirty list. */
    c.save.compress.offered = true;
    off_t end = lseek(back_fd, 0, SEEK_END);
    unsigned int n;

    if (end < 0 || lseek(back_fd, 0, SEEK_SET))
        fuzz_fail("back channel memfd: %s", strerror(errno));
    for (n = 0;; n++) {
        uint64_t merged = 0;

        if (lseek(back_fd, 0, SEEK_CUR) == end)
            break;
        if (n > 0) {
            if (libxl__expect_state(back_fd, COLO_CHECKPOINT_SVM_SUSPENDED, NULL, 0))
                fuzz_fail("back channel, checkpoint %u: no SVM_SUSPENDED", n + 1);
            if (lseek(back_fd, 0, SEEK_CUR) == end)
                break;
            if (colo_merge_dirty_pfn_list(ctx, back_fd, bitmap, p2m_size, &merged))
                fuzz_fail("back channel, checkpoint %u: the secondary's dirty pfn list is "
                          "refused by the primary", n + 1);
            if (lseek(back_fd, 0, SEEK_CUR) == end)
                break;
        }
        if (libxl__expect_state(back_fd, COLO_CHECKPOINT_SVM_READY, NULL, 0))
            fuzz_fail("back channel, checkpoint %u: no SVM_READY", n + 1);
        if (libxl__expect_state(back_fd, COLO_CHECKPOINT_SVM_RESUMED, NULL, 0))
            fuzz_fail("back channel, checkpoint %u: no SVM_RESUMED", n + 1);
    }
    if (n > checkpoints)
        fuzz_fail("back channel: %u checkpoints' records, %u checkpoints applied", n,
                  checkpoints);
    memset(bitmap, 0, bitmap_longs(p2m_size) * sizeof(*bitmap));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ckpt_secondary s = { .xch = xch, .domid = target, .back_fd = -1 };
    struct restore_callbacks cb = { .data = &s };
    xen_pfn_t store = 0, console = 0;
    xhv_dominfo_t info;
    int rc;

    fuzz_memfd_load(main_fd, data, size);
    s.main_fd = main_fd;
    if (FUZZ_STREAM != XC_STREAM_PLAIN) {
        cb.checkpoint = ckpt_secondary_checkpoint;
        /* Remus: where the secondary answers an offer of compression (then accepts
         * COMPRESSED_PAGE_DATA); nothing reads it back. */
        fuzz_memfd_reset(back_fd);
    }
    if (FUZZ_STREAM == XC_STREAM_COLO) {
        fuzz_memfd_reset(back_fd);
        s.colo = 1;
        s.back_fd = back_fd;
        cb.postcopy = test_colo_postcopy;
        cb.wait_checkpoint = ckpt_secondary_wait_checkpoint;
        cb.suspend = test_colo_suspend;
    }
    errno = 0;
    rc = xc_domain_restore(xch, main_fd, target, 1, &store, 0, 2, &console, 0, FUZZ_STREAM,
                           &cb, FUZZ_STREAM == XC_STREAM_PLAIN ? -1 : back_fd);
    if (rc && !errno)
        fuzz_fail("restore failed without an errno");
    if (FUZZ_STREAM == XC_STREAM_COLO)
        check_back_channel(s.applied);
    if (xhv_domain_info(xch, target, &info) || info.p2m_size != p2m_size) {
        xhv_domain_destroy(xch, target);
        make_target();
    }
    return 0;
}
