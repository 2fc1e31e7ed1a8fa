/*
 * COLO with divergent guests.  The primary and the secondary run the same guest
 * program but read different host-local input, so between checkpoints they dirty
 * different pages (A on the primary, B on the secondary).  After every checkpoint,
 * while the secondary is stopped, its memory and context must equal the primary's as
 * it was suspended for that checkpoint (a snapshot: a staged primary runs again before
 * the secondary has the checkpoint).  The same run with the back channel's dirty lists
 * emptied by a proxy (the primary sends A only) must be refused by the secondary at
 * the first checkpoint that lacks pages of its B, before anything of it is applied
 * (before the secondary checked that, this run was the comparison's proof that it can
 * fail: 85 pages differed at checkpoint 2).
 * The pair runs with each checkpoint staged (copied while the primary is suspended and
 * sent once it runs again: the default), sent while suspended, and staged with a limit
 * no checkpoint fits (each falls back to being sent while suspended).
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

/* How the primary sends its checkpoints. */
struct mode {
    const char *name;
    uint64_t rate;                /* guest page writes per second */
    int send_suspended;
    unsigned int staging_mib;
    int falls_back;               /* some checkpoints do not fit the limit */
};

static int run(xc_interface *xch, const struct mode *m, int drop, struct tally *t,
               struct colo_local_result *res)
{
    struct colo_local_opts opts = {
        .checkpoints = CHECKPOINTS, .interval_ms = INTERVAL_MS, .compare = 1,
        .drop_dirty_list = drop, .report = report, .opaque = t,
        .send_suspended = m->send_suspended, .staging_mib = m->staging_mib,
    };
    int rc;

    opts.pvm_domid = test_create_guest(xch, "pvm", "divergent", PAGES, 1111, m->rate);
    opts.svm_domid = test_create_target(xch, "svm", PAGES, 2222);
    rc = colo_local_run(xch, &opts, res);
    xhv_domain_destroy(xch, opts.pvm_domid);
    xhv_domain_destroy(xch, opts.svm_domid);
    return rc;
}

/* At RATE a checkpoint is ~100 pages, far below the default limit; at FAST_RATE it is
 * several hundred pages, more than a 1 MiB limit holds (255 pages). */
#define FAST_RATE 40000
static const struct mode modes[] = {
    { "staged", RATE, 0, 0, 0 },
    { "sent while suspended", RATE, 1, 0, 0 },
    { "staged, limit 1 MiB (falls back)", FAST_RATE, 0, 1, 1 },
};

static void run_mode(xc_interface *xch, const struct mode *m)
{
    struct tally with = { "A∪B", 0, 0, 0 }, without = { "A only", 0, 0, 0 };
    struct colo_local_result res;

    printf("# mode: %s\n", m->name);
    run(xch, m, 0, &with, &res);
    CHECK(res.save_rc == 0, "%s: COLO primary runs %d checkpoints and stops cleanly", m->name,
          CHECKPOINTS);
    CHECK(res.restore_rc == 0, "%s: COLO secondary fails over cleanly when the primary stops",
          m->name);
    CHECK(with.n == CHECKPOINTS, "%s: secondary compared %u checkpoints (expected %d)", m->name,
          with.n, CHECKPOINTS);
    CHECK(with.differing == 0,
          "%s: after every checkpoint the secondary equals the primary (%u differ)", m->name,
          with.differing);
    CHECK(with.b_total > 0,
          "%s: the secondary ran and dirtied its own pages between checkpoints (|B| total %llu)",
          m->name, (unsigned long long)with.b_total);
    if (m->send_suspended)
        CHECK(res.staged == 0, "%s: no checkpoint sent while the primary ran (%u)", m->name,
              res.staged);
    else if (m->falls_back)
        CHECK(res.staged < CHECKPOINTS - 1, "%s: %u of %d checkpoints staged, the others sent "
              "while suspended", m->name, res.staged, CHECKPOINTS - 1);
    else
        CHECK(res.staged == CHECKPOINTS - 1, "%s: every checkpoint after the first sent while "
              "the primary ran (%u of %d)", m->name, res.staged, CHECKPOINTS - 1);

    /* A only: the secondary refuses the first checkpoint that lacks pages of its B. */
    run(xch, m, 1, &without, &res);
    CHECK(res.restore_rc != 0 && without.n >= 1 && without.n < CHECKPOINTS,
          "%s: with the back channel ignored (A only) the secondary refuses a checkpoint "
          "(restore %d after %u applied)", m->name, res.restore_rc, without.n);
    CHECK(without.differing == 0, "%s: ... and applied nothing inexact (%u differ)", m->name,
          without.differing);
}

int main(void)
{
    xc_interface *xch = test_open();

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        run_mode(xch, &modes[i]);
    xhv_close(xch);
    return test_done();
}
