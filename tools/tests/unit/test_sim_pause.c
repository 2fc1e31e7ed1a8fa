/* Pause really stops the guest; pause nests; suspend/resume; a killed vcpu is reported. */
#include <signal.h>
#include <sys/mman.h>

#include "sim_helpers.h"

static uint64_t page_byte_sum(uint8_t **pages, int n)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s = s * 31 + pages[i][0];
    return s;
}

static void test_pause(xc_interface *xch)
{
    enum { N = 64 };
    uint64_t pfns[N], s1, s2, m1, m2, t0;
    uint8_t *pages[N];
    int errs[N], ok = 1;
    xhv_dominfo_t info;
    uint32_t d = sim_create(xch, "p", "incrementer", N, 0, 0, 0, 0, 0, 0);

    CHECK(d, "incrementer on %d pages, full speed", N);
    for (int i = 0; i < N; i++)
        pfns[i] = i;
    CHECK(xhv_map_foreign(xch, d, PROT_READ, pfns, (void **)pages, errs, N) == 0, "map all");
    for (int i = 0; i < N; i++)
        ok &= errs[i] == 0;
    CHECK(ok, "all pages mapped");
    CHECK(sim_wait_steps(xch, d, 100000, 5000) == 0, "guest runs");

    t0 = sim_now_ms();
    CHECK(xhv_domain_pause(xch, d) == 0, "pause");
    printf("# pause took %llu ms\n", (unsigned long long)(sim_now_ms() - t0));
    CHECK(xhv_domain_info(xch, d, &info) == 0 && info.paused && !info.running, "info: paused");
    s1 = sim_steps(xch, d);
    m1 = page_byte_sum(pages, N);
    usleep(100000);
    s2 = sim_steps(xch, d);
    m2 = page_byte_sum(pages, N);
    CHECK(s1 == s2, "no steps while paused (%llu -> %llu)", (unsigned long long)s1,
          (unsigned long long)s2);
    CHECK(m1 == m2, "memory unchanged while paused");

    /* nesting */
    CHECK(xhv_domain_pause(xch, d) == 0, "pause again (count 2)");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause once");
    usleep(50000);
    CHECK(sim_steps(xch, d) == s2, "still paused after one unpause of two pauses");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause twice");
    CHECK(sim_wait_steps(xch, d, s2 + 1000, 5000) == 0, "runs again");
    CHECK(xhv_domain_unpause(xch, d) == -1 && errno == EINVAL, "unpause of unpaused: EINVAL");

    /* many quick pause/unpause cycles, each truly stopping */
    ok = 1;
    for (int i = 0; i < 200 && ok; i++) {
        uint64_t a, b;
        ok &= xhv_domain_pause(xch, d) == 0;
        a = sim_steps(xch, d);
        m1 = page_byte_sum(pages, N);
        b = sim_steps(xch, d);
        m2 = page_byte_sum(pages, N);
        ok &= a == b && m1 == m2;
        ok &= xhv_domain_unpause(xch, d) == 0;
    }
    CHECK(ok, "200 pause/unpause cycles, each stops the guest");

    /* suspend / fast resume */
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0, "suspend");
    CHECK(xhv_domain_info(xch, d, &info) == 0 && info.shutdown &&
          info.shutdown_reason == XHV_SHUTDOWN_suspend && !info.running,
          "info: shut down, reason suspend");
    s1 = sim_steps(xch, d);
    usleep(50000);
    CHECK(sim_steps(xch, d) == s1, "no steps while suspended");
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0, "suspend again: already suspended");
    {
        uint8_t ctx[1024];
        CHECK(xhv_hvm_getcontext(xch, d, ctx, sizeof(ctx)) > 0, "getcontext while suspended");
    }
    CHECK(xhv_domain_resume(xch, d, 1) == 0, "fast resume");
    {
        xhv_sim_status_t st;
        CHECK(sim_wait_status(xch, d, 5000, 1, &st) == 0 && st.selfchecks_passed == 1 &&
              st.selfchecks_failed == 0 && st.resumes == 1,
              "resume ran the self-check, passed (pass %llu fail %llu)",
              (unsigned long long)st.selfchecks_passed, (unsigned long long)st.selfchecks_failed);
    }
    CHECK(sim_wait_steps(xch, d, s1 + 1000, 5000) == 0, "runs after resume");
    CHECK(xhv_domain_resume(xch, d, 1) == -1 && errno == EINVAL, "resume when not suspended");

    /* suspend + slow resume, with a pause in between */
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0, "suspend");
    CHECK(xhv_domain_pause(xch, d) == 0, "pause a suspended domain");
    CHECK(xhv_domain_resume(xch, d, 0) == 0, "slow resume while paused");
    s1 = sim_steps(xch, d);
    usleep(50000);
    CHECK(sim_steps(xch, d) == s1, "still paused after resume");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause");
    {
        xhv_sim_status_t st;
        CHECK(sim_wait_status(xch, d, 5000, 2, &st) == 0 && st.selfchecks_passed == 2 &&
              st.resumes == 2, "second resume: self-check passed");
    }

    /* a paused guest cannot act on a suspend request (as on Xen) */
    CHECK(xhv_domain_pause(xch, d) == 0, "pause");
    t0 = sim_now_ms();
    CHECK(xhv_domain_suspend(xch, d, 300) == -1 && errno == ETIMEDOUT,
          "suspend of a paused guest times out");
    CHECK(sim_now_ms() - t0 < 2000, "... after about the timeout");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause");
    CHECK(xhv_domain_info(xch, d, &info) == 0 && !info.shutdown && info.running,
          "the withdrawn request left it running");
    CHECK(xhv_domain_destroy(xch, d) == 0, "destroy");
}

static void test_dead_vcpu(xc_interface *xch)
{
    xhv_dominfo_t info;
    xhv_sim_status_t st;
    uint64_t t0, bm[1];
    uint8_t ctx[1024];
    uint32_t d = sim_create(xch, "victim", "incrementer", 32, 0, 0, 0, 0, 0, 0);
    int pid = 0;
    char path[256];
    FILE *f;

    CHECK(d, "created");
    snprintf(path, sizeof(path), "%s/dom%u.log", getenv("SIMXEN_DIR"), d);
    /* find the vcpu pid the domain reports */
    f = fopen(path, "r");
    CHECK(f != NULL, "vcpu log exists");
    if (f)
        fclose(f);
    {
        char cmd[300], line[64] = "";
        snprintf(cmd, sizeof(cmd), "pgrep -f 'simxen-vcpu %s %u$'", getenv("SIMXEN_DIR"), d);
        f = popen(cmd, "r");
        if (f && fgets(line, sizeof(line), f))
            pid = atoi(line);
        if (f)
            pclose(f);
    }
    CHECK(pid > 0, "vcpu pid %d", pid);
    kill(pid, SIGKILL);
    usleep(50000);
    t0 = sim_now_ms();
    CHECK(xhv_domain_pause(xch, d) == -1 && errno == ESRCH, "pause of a dead vcpu: ESRCH");
    CHECK(xhv_domain_suspend(xch, d, 3000) == -1 && errno == ESRCH, "suspend: ESRCH");
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_ENABLE, NULL, 0, NULL) == -1 && errno == ESRCH,
          "logdirty: ESRCH");
    (void)bm;
    CHECK(xhv_hvm_getcontext(xch, d, ctx, sizeof(ctx)) == -1 && errno == ESRCH,
          "getcontext of a running-but-dead guest: ESRCH");
    CHECK(sim_now_ms() - t0 < 1000, "all reported without waiting for a timeout");
    CHECK(xhv_sim_status(xch, d, &st) == 0 && !st.vcpu_alive, "status: vcpu not alive");
    CHECK(xhv_domain_info(xch, d, &info) == 0 && info.shutdown &&
          info.shutdown_reason == XHV_SHUTDOWN_crash && !info.running,
          "info: shut down (crash)");
    CHECK(xhv_domain_destroy(xch, d) == 0, "destroy a domain whose vcpu died");

    /* a vcpu runner that cannot start: create fails with the reason, no hang */
    char *vcpu = strdup(getenv("SIMXEN_VCPU") ? getenv("SIMXEN_VCPU") : "");

    setenv("SIMXEN_VCPU", "/bin/false", 1);
    t0 = sim_now_ms();
    CHECK(sim_create(xch, "nostart", "incrementer", 8, 0, 0, 0, 0, 0, 0) == 0,
          "create with a vcpu runner that exits fails");
    CHECK(sim_now_ms() - t0 < 5000, "... promptly");
    CHECK(xhv_domain_lookup(xch, "nostart", &d) == -1, "... and leaves no domain behind");
    setenv("SIMXEN_VCPU", vcpu, 1);
    free(vcpu);
}

int main(void)
{
    xc_interface *xch = sim_open();

    test_pause(xch);
    test_dead_vcpu(xch);
    xhv_close(xch);
    return test_done();
}
