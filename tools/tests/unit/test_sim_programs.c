/* Guest programs: self-checks pass after resume and catch corruption; divergent
 * really depends on host-local input; the probe passes. */
#include <sys/mman.h>

#include "sim_helpers.h"
#include "simxen.h"

static void corrupt_and_check(xc_interface *xch, const char *prog, uint64_t a3, uint64_t pfn,
                              int offset)
{
    xhv_sim_status_t st;
    uint32_t d = sim_create(xch, prog, prog, 128, 0, 0, 0, a3, 7, 0);
    void *page;
    int err;

    CHECK(d, "%s: created", prog);
    CHECK(sim_wait_steps(xch, d, 2000, 5000) == 0, "%s: runs", prog);
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0, "%s: suspend", prog);
    CHECK(xhv_domain_resume(xch, d, 1) == 0, "%s: fast resume", prog);
    CHECK(sim_wait_status(xch, d, 5000, 1, &st) == 0 && st.selfchecks_passed == 1 &&
          st.selfchecks_failed == 0, "%s: self-check passed after resume", prog);
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0, "%s: suspend again", prog);
    CHECK(xhv_map_foreign(xch, d, PROT_READ | PROT_WRITE, &pfn, &page, &err, 1) == 0 && !err,
          "%s: map pfn %llu", prog, (unsigned long long)pfn);
    ((volatile uint8_t *)page)[offset] ^= 0x40;
    CHECK(xhv_domain_resume(xch, d, 0) == 0, "%s: resume", prog);
    CHECK(sim_wait_status(xch, d, 5000, 2, &st) == 0 && st.selfchecks_failed == 1 &&
          st.first_bad_pfn == pfn, "%s: corruption of pfn %llu caught (first bad %llu)", prog,
          (unsigned long long)pfn, (unsigned long long)st.first_bad_pfn);
    CHECK(xhv_domain_destroy(xch, d) == 0, "%s: destroy", prog);
}

static int mem_equal(xc_interface *xch, uint32_t a, uint32_t b, uint64_t n)
{
    for (uint64_t p = 0; p < n; p++) {
        void *x, *y;
        int e1, e2;
        if (xhv_map_foreign(xch, a, PROT_READ, &p, &x, &e1, 1) ||
            xhv_map_foreign(xch, b, PROT_READ, &p, &y, &e2, 1) || e1 || e2)
            return -1;
        if (memcmp(x, y, XHV_PAGE_SIZE))
            return 0;
    }
    return 1;
}

static void test_divergent(xc_interface *xch)
{
    enum { N = 256, STEPS = 100 };
    uint32_t a = sim_create(xch, "div-a", "divergent", N, 0, STEPS, 0, 42, 1111, 0);
    uint32_t b = sim_create(xch, "div-b", "divergent", N, 0, STEPS, 0, 42, 2222, 0);
    uint32_t c = sim_create(xch, "div-c", "divergent", N, 0, STEPS, 0, 42, 1111, 0);
    uint8_t ctx[1024];
    uint64_t hi;
    int len;

    CHECK(a && b && c, "three divergent guests, same seed, host inputs 1111/2222/1111");
    CHECK(sim_wait_steps(xch, a, STEPS, 5000) == 0 && sim_wait_steps(xch, b, STEPS, 5000) == 0 &&
          sim_wait_steps(xch, c, STEPS, 5000) == 0, "all ran %d steps", STEPS);
    CHECK(mem_equal(xch, a, c, N) == 1, "same host input: identical memory");
    CHECK(mem_equal(xch, a, b, N) == 0, "different host input: memory differs");

    /* host input stays with the host: b given a's context keeps its own input */
    CHECK(xhv_domain_pause(xch, a) == 0 && xhv_domain_pause(xch, b) == 0, "pause a, b");
    len = xhv_hvm_getcontext(xch, a, ctx, sizeof(ctx));
    CHECK(len > 0 && xhv_hvm_setcontext(xch, b, ctx, len) == 0, "a's context into b");
    {
        /* b is at its max steps: let it idle through one continue, then stop */
        xhv_sim_status_t st;
        CHECK(xhv_domain_unpause(xch, b) == 0, "b continues");
        CHECK(sim_wait_status(xch, b, 5000, 1, &st) == 0, "b ran its resume path");
        CHECK(xhv_domain_pause(xch, b) == 0, "b stops again");
    }
    CHECK(xhv_hvm_getcontext(xch, b, ctx, sizeof(ctx)) == len, "b's context");
    memcpy(&hi, ctx + 160, 8);
    CHECK(hi == 2222, "b still reports its own host input (%llu)", (unsigned long long)hi);
    xhv_domain_destroy(xch, a);
    xhv_domain_destroy(xch, b);
    xhv_domain_destroy(xch, c);
}

static void test_dirtyrate(xc_interface *xch)
{
    uint32_t d = sim_create(xch, "rate", "dirtyrate", 1024, SIMXEN_PF_NO_SELFCHECK, 0, 2000, 100, 0, 0);
    uint64_t s0, s1, t0;
    xhv_sim_status_t st;
    unsigned long bm[1026 / 64 + 1];
    xhv_logdirty_stats_t ls;

    CHECK(d, "dirtyrate 2000 pages/s over a 100-page working set, no self-check");
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_ENABLE, NULL, 0, NULL) == 0, "enable log-dirty");
    s0 = sim_steps(xch, d);
    t0 = sim_now_ms();
    usleep(500000);
    s1 = sim_steps(xch, d);
    printf("# %llu steps in %llu ms\n", (unsigned long long)(s1 - s0),
           (unsigned long long)(sim_now_ms() - t0));
    CHECK(s1 - s0 >= 200 && s1 - s0 <= 1400, "rate roughly 2000/s (%llu in 0.5 s)",
          (unsigned long long)(s1 - s0));
    memset(bm, 0, sizeof(bm));
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_CLEAN, bm, 1026, &ls) == 0 && ls.dirty_count == 100,
          "dirty set = the working set (%llu)", (unsigned long long)ls.dirty_count);
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0 && xhv_domain_resume(xch, d, 1) == 0,
          "suspend/resume");
    usleep(50000);
    CHECK(xhv_sim_status(xch, d, &st) == 0 && st.resumes == 1 && st.selfchecks_passed == 0 &&
          st.selfchecks_failed == 0, "resume path ran, self-check skipped by flag");
    xhv_domain_destroy(xch, d);
}

int main(void)
{
    xc_interface *xch = sim_open();
    char why[512] = "";

    CHECK(simxen_probe_logdirty(why, sizeof(why)) == 0, "log-dirty probe passes %s", why);
    corrupt_and_check(xch, "incrementer", 0, 77, 0);
    corrupt_and_check(xch, "crcblocks", 5, 9, 2000);
    corrupt_and_check(xch, "dirtyrate", 0, 3, 0);
    test_divergent(xch);
    test_dirtyrate(xch);
    xhv_close(xch);
    return test_done();
}
