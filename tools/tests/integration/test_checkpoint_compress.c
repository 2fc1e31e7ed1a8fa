/*
 * Checkpoint compression end to end on the simulated hypervisor: a live Remus pair
 * whose secondary accepts compression gets COMPRESSED_PAGE_DATA in its checkpoints
 * after the first, and still ends exactly equal to the primary's last checkpoint and
 * passes its own self-check; a secondary that cannot answer (no back channel, as any
 * restorer that does not know the record) gets plain PAGE_DATA only; random pages,
 * which do not compress, still arrive whole; so do staged checkpoints (copied while the
 * primary is suspended, sent after it resumed).  Compressed or not, every pair must end
 * exactly equal to the primary's last checkpoint.
 */
#include <stdio.h>

#include "guest.h"
#include "remus_pair.h"
#include "test.h"
#include "xhv.h"

#define PAGES 2048

static void run(xc_interface *xch, const char *what, const char *program, int compress,
                int silent, int expect_compressed, int staged)
{
    struct remus_pair_opts o = { .program = program, .pages = PAGES, .rate = 20000,
                                 .checkpoints = 6, .interval_ms = 20, .compress = compress,
                                 .back_channel = 1, .silent_secondary = silent,
                                 .staged = staged };
    struct remus_pair_result r;
    int rc = remus_pair_run(xch, &o, &r);

    CHECK(rc == 0 && r.checkpoints == 6, "%s: Remus ran 6 checkpoints (save %d, restore %d, "
          "%u whole)", what, r.save_rc, r.restore_rc, r.checkpoints);
    CHECK(r.diff == 0, "%s: the secondary equals the primary's last checkpoint (%ld pages "
          "differ)", what, r.diff);
    CHECK(r.selfcheck_ok, "%s: the failed-over secondary passes its self-check", what);
    CHECK(r.offers == (compress ? 1u : 0u), "%s: %u compression offers on the stream", what,
          r.offers);
    if (expect_compressed)
        CHECK(r.compressed > 0, "%s: %u COMPRESSED_PAGE_DATA records, %u PAGE_DATA", what,
              r.compressed, r.page_data);
    else
        CHECK(r.compressed == 0 && r.page_data > 0, "%s: plain PAGE_DATA only (%u; %u "
              "compressed)", what, r.page_data, r.compressed);
}

int main(void)
{
    xc_interface *xch = test_open();

    run(xch, "few bytes per page, compressed", "dirtyrate", 1, 0, 1, 0);
    run(xch, "few bytes per page, compressed and staged", "dirtyrate", 1, 0, 1, 1);
    run(xch, "random pages, compressed", "crcblocks", 1, 0, 1, 0);
    run(xch, "random pages, compression off", "crcblocks", 0, 0, 0, 0);
    run(xch, "secondary that never answers", "dirtyrate", 1, 1, 0, 0);
    run(xch, "compression off", "dirtyrate", 0, 0, 0, 0);
    xhv_close(xch);
    return test_done();
}
