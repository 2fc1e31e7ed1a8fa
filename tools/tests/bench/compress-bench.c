/*
 * Bytes on the wire per Remus checkpoint with and without checkpoint compression, in
 * one run, for a guest that changes a few bytes per page (dirtyrate: a 16-byte stamp on
 * each page it visits) and one that writes random pages (crcblocks).  The checkpoints
 * of the two runs do not hold the same number of pages (timing), so the ratio compared
 * is of bytes per page sent.
 * Measured over the second half of the run: the live migration is never compressed, and
 * a page is XORed only once a checkpoint has sent it before.
 */
#include <stdio.h>

#include "guest.h"
#include "remus_pair.h"
#include "test.h"

#define CHECKPOINTS 40

/* Mean bytes and pages per checkpoint over the second half of the run. */
static int measure(xc_interface *xch, const char *program, uint64_t rate, int compress,
                   double *bytes, double *pages)
{
    struct remus_pair_opts o = { .program = program, .pages = 4096, .rate = rate,
                                 .checkpoints = CHECKPOINTS, .interval_ms = 20,
                                 .compress = compress, .back_channel = 1 };
    struct remus_pair_result r;
    uint64_t b = 0, p = 0;
    unsigned int i, n = 0;

    if (remus_pair_run(xch, &o, &r) || r.diff != 0)
        return -1;
    /* Steady state: a page enters the cache when a checkpoint sends it, so the first
     * sweep of the guest's working set (about 8 checkpoints here) goes raw; the second
     * half of the run is measured. */
    for (i = CHECKPOINTS / 2; i < r.checkpoints && i < REMUS_PAIR_MAX_CHECKPOINTS; i++, n++) {
        b += r.bytes[i];
        p += r.pages[i];
    }
    *bytes = n ? (double)b / n : 0;
    *pages = n ? (double)p / n : 0;
    return 0;
}

int main(void)
{
    static const struct { const char *name, *program; uint64_t rate; } w[] = {
        { "few bytes/page", "dirtyrate", 20000 },
        { "random pages", "crcblocks", 0 },
    };
    xc_interface *xch = test_open();
    int rc = 0;

    for (unsigned int i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        double raw, rawp, cmp, cmpp;

        if (measure(xch, w[i].program, w[i].rate, 0, &raw, &rawp) ||
            measure(xch, w[i].program, w[i].rate, 1, &cmp, &cmpp)) {
            fprintf(stderr, "compress-bench: %s: a Remus run failed or diverged\n", w[i].name);
            rc = 1;
            continue;
        }
        printf("ckpt-bytes      %-15s Remus, 16 MiB: per checkpoint %9.0f B (%5.0f pages) "
               "plain, %9.0f B (%5.0f pages) compressed: bytes/page ratio %.3f\n", w[i].name,
               raw, rawp, cmp, cmpp, raw && cmpp ? (cmp / cmpp) / (raw / rawp) : 0);
    }
    xhv_close(xch);
    return rc;
}
