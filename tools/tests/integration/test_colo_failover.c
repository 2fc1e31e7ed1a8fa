/*
 * COLO failover at every instant, exact.  A COLO pair (divergent guests, a few
 * checkpoints) runs once with both channels counted; then once for every record
 * boundary of the main stream and of the back channel, and inside every record, the
 * channel is cut there (both directions, as a dead peer or link does) and the
 * secondary fails over.  At failover the secondary must be exactly as it was the last
 * time it stopped (suspended for a checkpoint: nothing of the interrupted one applied;
 * or a checkpoint applied: the primary's state), or, before its first checkpoint,
 * refuse to take over.  The survivor then runs and passes its own memory self-check,
 * and the primary keeps running.  All of it twice: with the primary's checkpoints
 * staged (sent after it resumed) and sent while it is suspended.
 */
#include <stdio.h>
#include <time.h>

#include "colo_local.h"
#include "guest.h"
#include "test.h"
#include "xhv_sim.h"

#define PAGES       1024
#define RATE        4000
#define INTERVAL_MS 20
#define CHECKPOINTS 3

static const char *const phase_name[] = { "running", "suspended", "applied" };

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* A domain left suspended (shut down for a checkpoint) or paused runs again: fast is
 * the suspend-cancel resume of a domain in its own context.  Returns 1 if it was
 * resumed (a new self-check follows), 0 if it was only unpaused or already ran (a
 * secondary that has its first checkpoint and never ran is paused, not suspended). */
static int run_again(xc_interface *xch, uint32_t domid, int fast)
{
    xhv_dominfo_t d;
    int resumed = 0;

    if (!xhv_domain_info(xch, domid, &d) && d.shutdown)
        resumed = !xhv_domain_resume(xch, domid, fast);
    if (!xhv_domain_info(xch, domid, &d) && d.paused)
        xhv_domain_unpause(xch, domid);
    return resumed;
}

/* The guest runs and its self-checks (one per resume) pass, a new one included when
 * it was resumed just now. */
static int survives(xc_interface *xch, uint32_t domid, uint64_t resumes_before)
{
    xhv_sim_status_t st = { 0 };

    /* generous: the sanitizer build runs the guest several times slower */
    for (int i = 0; i < 1000; i++) {
        if (!xhv_sim_status(xch, domid, &st) && st.vcpu_alive &&
            (resumes_before == UINT64_MAX || st.resumes > resumes_before))
            break;
        sleep_ms(10);
    }
    return st.vcpu_alive && !st.selfchecks_failed &&
           (resumes_before == UINT64_MAX || st.selfchecks_passed > 0);
}

struct totals {
    unsigned int runs, wrong, by_phase[3], refused;
};

/* One run with the given cut; 0 when the failover was exact. */
static int run_cut(xc_interface *xch, int send_suspended, int channel, unsigned int records,
                   int inside, struct colo_local_result *res, struct totals *t)
{
    struct colo_local_opts opts = {
        .checkpoints = CHECKPOINTS, .interval_ms = INTERVAL_MS, .count_records = 1,
        .check_failover = 1, .send_suspended = send_suspended,
        .cut_channel = channel, .cut_records = records, .cut_inside = inside,
    };
    const char *where = channel == COLO_CUT_MAIN ? "main stream"
                        : channel == COLO_CUT_BACK ? "back channel" : "nothing";
    xhv_sim_status_t st = { 0 };
    int ok, svm_ok = -1, pvm_ok;

    opts.pvm_domid = test_create_guest(xch, "pvm", "divergent", PAGES, 1111, RATE);
    opts.svm_domid = test_create_target(xch, "svm", PAGES, 2222);
    colo_local_run(xch, &opts, res);
    t->runs++;
    if (res->failover_phase < 0) {
        /* no checkpoint reached the secondary: nothing to take over */
        ok = res->restore_rc != 0;
        t->refused++;
    } else {
        int phase = res->failover_phase;

        ok = res->restore_rc == 0 &&
             (phase == COLO_SVM_RUNNING || res->failover_exact == 1);
        xhv_sim_status(xch, opts.svm_domid, &st);
        svm_ok = survives(xch, opts.svm_domid,
                          run_again(xch, opts.svm_domid, phase != COLO_SVM_APPLIED)
                              ? st.resumes : UINT64_MAX);
        ok = ok && svm_ok;
        if (phase >= 0 && phase <= 2)
            t->by_phase[phase]++;
    }
    run_again(xch, opts.pvm_domid, 1);
    pvm_ok = survives(xch, opts.pvm_domid, UINT64_MAX);
    ok = ok && pvm_ok;
    if (!ok) {
        t->wrong++;
        printf("# cut %s %s record %u: restore rc %d, secondary %s after checkpoint %u, "
               "exact %d, survivor runs %d, primary runs %d\n", where,
               inside ? "inside" : "before", records + 1, res->restore_rc,
               res->failover_phase >= 0 ? phase_name[res->failover_phase] : "never ran",
               res->failover_checkpoint, res->failover_exact, svm_ok, pvm_ok);
    }
    xhv_domain_destroy(xch, opts.pvm_domid);
    xhv_domain_destroy(xch, opts.svm_domid);
    return ok ? 0 : -1;
}

static void run_mode(xc_interface *xch, int send_suspended)
{
    const char *mode = send_suspended ? "sent while suspended" : "staged";
    struct colo_local_result ref, res;
    struct totals t = { 0 };
    unsigned int n[2];

    /* The reference run: no cut, both channels counted. */
    run_cut(xch, send_suspended, COLO_CUT_NONE, 0, 0, &ref, &t);
    n[0] = ref.main_records;
    n[1] = ref.back_records;
    CHECK(ref.save_rc == 0 && ref.restore_rc == 0 && ref.reports == CHECKPOINTS,
          "%s: the uncut pair runs %u checkpoints (save %d, restore %d)", mode, ref.reports,
          ref.save_rc, ref.restore_rc);
    CHECK(ref.staged == (send_suspended ? 0 : CHECKPOINTS - 1),
          "%s: %u checkpoints sent after the primary resumed", mode, ref.staged);
    CHECK(n[0] > 3 * CHECKPOINTS && n[1] >= 3 * (CHECKPOINTS - 1),
          "%s: records counted: %u on the main stream, %u on the back channel", mode, n[0],
          n[1]);
    for (int c = 0; c < 2; c++)
        for (unsigned int k = 0; k < n[c]; k++)
            for (int inside = 0; inside < 2; inside++)
                run_cut(xch, send_suspended, c ? COLO_CUT_BACK : COLO_CUT_MAIN, k, inside, &res,
                        &t);
    printf("# %s: %u runs: failover while the secondary was running %u, suspended %u, with a "
           "checkpoint applied %u; refused before any checkpoint %u\n", mode, t.runs,
           t.by_phase[COLO_SVM_RUNNING], t.by_phase[COLO_SVM_SUSPENDED],
           t.by_phase[COLO_SVM_APPLIED], t.refused);
    CHECK(t.wrong == 0, "%s: every failover is exact and the survivor runs (%u of %u wrong)",
          mode, t.wrong, t.runs);
    CHECK(t.by_phase[COLO_SVM_RUNNING] && t.by_phase[COLO_SVM_SUSPENDED] &&
              t.by_phase[COLO_SVM_APPLIED] && t.refused,
          "%s: the cuts met the secondary in every phase (running, suspended, applied, before "
          "the first checkpoint)", mode);
}

int main(void)
{
    xc_interface *xch = test_open();

    run_mode(xch, 0);
    run_mode(xch, 1);
    xhv_close(xch);
    return test_done();
}
