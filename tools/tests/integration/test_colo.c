/*
 * COLO with divergent guests.  The primary and the secondary run the same guest
 * program but read different host-local input, so between checkpoints they dirty
 * different pages (A on the primary, B on the secondary).  After every checkpoint,
 * while both are stopped, the secondary's memory and context must equal the
 * primary's.  The same run with the back channel's dirty lists emptied by a proxy
 * (the primary sends A only) must find a difference: proof the check can fail.
 */
#include <stdio.h>

#include "colo_local.h"
#include "guest.h"
#include "test.h"

#define PAGES       4096
#define RATE        4000      /* guest page writes per second */
#define INTERVAL_MS 25
#define CHECKPOINTS 8

struct tally {
    const char *label;
    unsigned int n, differing;
    uint64_t b_total;
};

static void report(const struct colo_checkpoint_report *r, void *opaque)
{
    struct tally *t = opaque;

    printf("# %s checkpoint %u: diff %d (first pfn %lld), |B| before it %llu, svm steps %llu\n",
           t->label, r->checkpoint, r->diff, (long long)r->first_pfn,
           (unsigned long long)r->svm_dirty, (unsigned long long)r->svm_steps);
    t->n++;
    t->differing += r->diff != 0;
    if (r->checkpoint > 1)
        t->b_total += r->svm_dirty;
}

static int run(xc_interface *xch, int drop, struct tally *t, struct colo_local_result *res)
{
    struct colo_local_opts opts = {
        .checkpoints = CHECKPOINTS, .interval_ms = INTERVAL_MS, .compare = 1,
        .drop_dirty_list = drop, .report = report, .opaque = t,
    };
    int rc;

    opts.pvm_domid = test_create_guest(xch, "pvm", "divergent", PAGES, 1111, RATE);
    opts.svm_domid = test_create_target(xch, "svm", PAGES, 2222);
    rc = colo_local_run(xch, &opts, res);
    xhv_domain_destroy(xch, opts.pvm_domid);
    xhv_domain_destroy(xch, opts.svm_domid);
    return rc;
}

int main(void)
{
    xc_interface *xch = test_open();
    struct tally with = { "A∪B", 0, 0, 0 }, without = { "A only", 0, 0, 0 };
    struct colo_local_result res;

    run(xch, 0, &with, &res);
    CHECK(res.save_rc == 0, "COLO primary runs %d checkpoints and stops cleanly", CHECKPOINTS);
    CHECK(res.restore_rc == 0, "COLO secondary fails over cleanly when the primary stops");
    CHECK(with.n == CHECKPOINTS, "secondary compared %u checkpoints (expected %d)", with.n,
          CHECKPOINTS);
    CHECK(with.differing == 0, "after every checkpoint the secondary equals the primary (%u differ)",
          with.differing);
    CHECK(with.b_total > 0,
          "the secondary ran and dirtied its own pages between checkpoints (|B| total %llu)",
          (unsigned long long)with.b_total);

    run(xch, 1, &without, &res);
    CHECK(without.n >= 3, "negative run compared %u checkpoints", without.n);
    CHECK(without.differing > 0,
          "with the back channel ignored (A only) the comparison detects divergence (%u of %u)",
          without.differing, without.n);
    xhv_close(xch);
    return test_done();
}
