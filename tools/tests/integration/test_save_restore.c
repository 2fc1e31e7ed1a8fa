/*
 * Save -> restore of simulated guests: plain, live (guest writing throughout), and a
 * live migration between two processes through a pipe.  The restored domain's memory
 * and context must equal the source's at the moment it was suspended, the guest's own
 * self-check must pass after it resumes, and Debian's verify-stream-v2 must accept
 * every stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "test.h"
#include "xhv_sim.h"

#define PAGES 2048

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static int wait_resumed(xc_interface *xch, uint32_t domid, xhv_sim_status_t *st)
{
    int i;

    for (i = 0; i < 500; i++) {
        if (xhv_sim_status(xch, domid, st))
            return -1;
        if (st->resumes > 0 && st->steps > 0)
            return 0;
        sleep_ms(10);
    }
    return -1;
}

struct policy_log {
    unsigned int calls;
    long max_dirty_after_first;   /* largest dirty count seen in a later round */
};

static int logging_policy(struct precopy_stats stats, void *data)
{
    struct test_save_data *d = data;
    struct policy_log *log = (struct policy_log *)(d + 1);

    log->calls++;
    /* Before each log-dirty collection give the guest time to write, however slow
     * the build (sanitizers), so the live rounds always have pages to find. */
    if (stats.dirty_count == -1)
        sleep_ms(20);
    if (stats.iteration > 0 && stats.dirty_count > log->max_dirty_after_first)
        log->max_dirty_after_first = stats.dirty_count;
    if ((stats.dirty_count >= 0 && stats.dirty_count < XG_PRECOPY_TARGET_DIRTY) ||
        stats.iteration >= XG_PRECOPY_MAX_ITERATIONS)
        return XGS_POLICY_STOP_AND_COPY;
    return XGS_POLICY_CONTINUE_PRECOPY;
}

static int restore_from_fd(xc_interface *xch, int fd, uint32_t target)
{
    struct restore_callbacks rcb = { 0 };
    xen_pfn_t store = 0, console = 0;

    return xc_domain_restore(xch, fd, target, 1, &store, 0, 2, &console, 0, XC_STREAM_PLAIN,
                             &rcb, -1);
}

/* Save src to a file (live or not), restore into a new domain, check everything. */
static void save_restore_file(xc_interface *xch, const char *program, int live)
{
    char path[512], out[8192];
    struct {
        struct test_save_data d;
        struct policy_log log;
    } data = { { xch, 0 }, { 0, 0 } };
    struct save_callbacks scb = { 0 };
    struct snapshot src;
    xhv_sim_status_t st;
    uint32_t domid, target;
    uint64_t first;
    long diff;
    int fd, rc;

    domid = test_create_guest(xch, live ? "src-live" : "src", program, PAGES, 7, 0);
    data.d.domid = domid;
    sleep_ms(100);   /* let the guest write */
    snprintf(path, sizeof(path), "%s/%s-%s.stream", test_sim_dir(), program,
             live ? "live" : "plain");
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    scb.suspend = test_suspend_cb;
    scb.precopy_policy = logging_policy;
    scb.data = &data;
    rc = xc_domain_save(xch, fd, domid, live ? XCFLAGS_LIVE : 0, &scb, XC_STREAM_PLAIN, -1);
    CHECK(rc == 0, "%s %s save succeeds (errno %d)", program, live ? "live" : "plain", errno);
    if (live) {
        CHECK(data.log.calls >= 3, "live save consulted the precopy policy (%u calls)",
              data.log.calls);
        CHECK(data.log.max_dirty_after_first > 0,
              "log-dirty reported pages the running guest wrote during the live rounds (%ld)",
              data.log.max_dirty_after_first);
    }
    CHECK(snapshot_take(xch, domid, &src) == 0, "snapshot of the suspended source");

    target = test_create_target(xch, live ? "dst-live" : "dst", PAGES, 9);
    lseek(fd, 0, SEEK_SET);
    rc = restore_from_fd(xch, fd, target);
    CHECK(rc == 0, "%s restore succeeds (errno %d)", program, errno);
    close(fd);
    {
        struct snapshot dst;

        CHECK(snapshot_take(xch, target, &dst) == 0, "snapshot of the restored domain");
        diff = snapshot_diff(&src, &dst, &first);
        CHECK(diff == 0, "restored memory and context equal the source (%ld differ, first pfn %lld)",
              diff, (long long)first);
        snapshot_free(&dst);
    }
    snapshot_free(&src);
    CHECK(xhv_domain_unpause(xch, target) == 0, "restored domain unpauses");
    rc = wait_resumed(xch, target, &st);
    CHECK(rc == 0, "restored guest runs (steps %llu, resumes %llu)",
          (unsigned long long)st.steps, (unsigned long long)st.resumes);
    CHECK(st.selfchecks_passed >= 1 && st.selfchecks_failed == 0,
          "restored guest's self-check passes (passed %llu failed %llu)",
          (unsigned long long)st.selfchecks_passed, (unsigned long long)st.selfchecks_failed);

    rc = run_verifier("libxc", path, out, sizeof(out));
    CHECK(rc == 0, "verify-stream-v2 accepts the %s %s stream (rc %d)", program,
          live ? "live" : "plain", rc);
    if (rc)
        printf("# verifier said:\n%s\n", out);
    xhv_domain_destroy(xch, domid);
    xhv_domain_destroy(xch, target);
}

/* Live migration from this process to a restorer in another process, via a pipe. */
static void migrate_between_processes(xc_interface *xch)
{
    struct test_save_data data = { xch, 0 };
    struct save_callbacks scb = { .suspend = test_suspend_cb, .data = &data };
    struct snapshot src;
    xhv_sim_status_t st;
    uint32_t domid, target;
    uint64_t first;
    int pipefd[2], status, rc;
    pid_t child;
    long diff;

    domid = test_create_guest(xch, "mig-src", "incrementer", PAGES, 1, 0);
    target = test_create_target(xch, "mig-dst", PAGES, 2);
    data.domid = domid;
    if (pipe(pipefd))
        exit(2);
    child = fork();
    if (child == 0) {
        xc_interface *cx = xhv_open("sim");

        close(pipefd[1]);
        _exit(cx && restore_from_fd(cx, pipefd[0], target) == 0 ? 0 : 1);
    }
    close(pipefd[0]);
    rc = xc_domain_save(xch, pipefd[1], domid, XCFLAGS_LIVE, &scb, XC_STREAM_PLAIN, -1);
    close(pipefd[1]);
    CHECK(rc == 0, "live migration sender succeeds (errno %d)", errno);
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "receiver process restores the domain");
    CHECK(snapshot_take(xch, domid, &src) == 0, "snapshot of the suspended source");
    {
        struct snapshot dst;

        snapshot_take(xch, target, &dst);
        diff = snapshot_diff(&src, &dst, &first);
        CHECK(diff == 0, "migrated memory and context equal the source (%ld differ, first %lld)",
              diff, (long long)first);
        snapshot_free(&dst);
    }
    snapshot_free(&src);
    xhv_domain_unpause(xch, target);
    CHECK(wait_resumed(xch, target, &st) == 0 && st.selfchecks_passed >= 1 &&
              st.selfchecks_failed == 0,
          "migrated guest runs and passes its self-check");
    xhv_domain_destroy(xch, domid);
    xhv_domain_destroy(xch, target);
}

int main(void)
{
    xc_interface *xch = test_open();

    save_restore_file(xch, "incrementer", 0);
    save_restore_file(xch, "incrementer", 1);
    save_restore_file(xch, "crcblocks", 1);
    migrate_between_processes(xch);
    xhv_close(xch);
    return test_done();
}
