/*
 * colo-bench: speed and scaling figures, each with its baseline measured in the same run.
 *
 *  1. Log-dirty collection (CLEAN) for the same dirty working set in a 64 MiB and a
 *     1 GiB guest: the cost should follow the dirty pages, not the guest's size.
 *  2. COLO checkpoint downtime of the primary (suspend .. resumed) for a 64 MiB and a
 *     1 GiB guest writing at the same rate: same expectation.  Each pair runs with its
 *     checkpoints staged (copied while suspended, sent after the resume: the default)
 *     and sent while suspended (the baseline): median and p99 over 100 pauses, and the
 *     ratio of the medians.
 *  3. Plain save throughput of a 1 GiB guest into a socketpair whose reader discards,
 *     against the same bytes written by a bare writev loop (the transport's ceiling).
 *  4. Save -> restore of a 1 GiB guest between two processes (compare with 3).
 *
 * Usage: colo-bench [quick]   (quick: smaller guests, for a smoke run)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "colo_local.h"
#include "xutil.h"
#include "xhv_sim.h"

static uint32_t create(xc_interface *xch, const char *name, const char *program, uint64_t pages,
                       uint64_t rate, uint64_t working_set, uint64_t input, int paused)
{
    xhv_domain_config_t cfg;
    struct xhv_sim_guest sim;
    uint32_t domid;

    memset(&cfg, 0, sizeof(cfg));

    memset(&sim, 0, sizeof(sim));

    cfg.sim = &sim;
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    snprintf(sim.program, sizeof(sim.program), "%s", program);
    cfg.max_pages = pages;
    sim.prog_args[0] = 1;          /* no self-check on resume: measure the engine */
    sim.prog_args[2] = rate;
    sim.prog_args[3] = working_set;
    sim.host_input = input;
    cfg.start_paused = paused;
    if (xhv_domain_create(xch, &cfg, &domid)) {
        fprintf(stderr, "create %s: %s\n", name, strerror(errno));
        exit(1);
    }
    return domid;
}

/* 1. CLEAN cost for a working set of ws pages in a guest of the given size. */
static void bench_logdirty(xc_interface *xch, uint64_t pages, uint64_t ws)
{
    uint32_t d = create(xch, "bench-ld", "dirtyrate", pages, 0, ws, 0, 0);
    xhv_dominfo_t info;
    unsigned long *bm;
    uint64_t best = UINT64_MAX, count = 0;
    int i;

    xhv_domain_info(xch, d, &info);
    bm = calloc(bitmap_longs(info.p2m_size), sizeof(*bm));
    xhv_logdirty(xch, d, XHV_LOGDIRTY_ENABLE, NULL, info.p2m_size, NULL);
    for (i = 0; i < 20; i++) {
        xhv_logdirty_stats_t st = { 0 };
        uint64_t t0;

        clock_sleep_ms(10);
        xhv_domain_pause(xch, d);
        memset(bm, 0, bitmap_longs(info.p2m_size) * sizeof(*bm));
        t0 = clock_now_ns();
        xhv_logdirty(xch, d, XHV_LOGDIRTY_CLEAN, bm, info.p2m_size, &st);
        t0 = clock_now_ns() - t0;
        xhv_domain_unpause(xch, d);
        if (t0 < best) {
            best = t0;
            count = st.dirty_count;
        }
    }
    printf("logdirty-clean  guest %6llu MiB  dirty %6llu pages  best of 20: %8.3f ms\n",
           (unsigned long long)(pages >> 8), (unsigned long long)count, best / 1e6);
    free(bm);
    xhv_domain_destroy(xch, d);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of n sorted values, in ms. */
static double quantile_ms(const uint64_t *sorted, unsigned int n, double q)
{
    unsigned int k = (unsigned int)(q * n + 0.999999);

    return n ? sorted[(k ? k : 1) - 1] / 1e6 : -1;
}

#define COLO_CHECKPOINTS 101   /* the first is the live migration: 100 pauses */

/* 2. COLO downtime for a guest of the given size writing `rate` pages/s; the median,
 * in ms (-1 when the pair failed). */
static double bench_colo(xc_interface *xch, uint64_t pages, uint64_t rate, int send_suspended)
{
    struct colo_local_opts opts = { .checkpoints = COLO_CHECKPOINTS, .interval_ms = 50,
                                    .send_suspended = send_suspended };
    static struct colo_local_result res;
    uint64_t t0;
    unsigned int n;
    int ok;
    double median, p99;

    opts.pvm_domid = create(xch, "bench-pvm", "divergent", pages, rate, 0, 1, 0);
    opts.svm_domid = create(xch, "bench-svm", "", pages, 0, 0, 2, 1);
    t0 = clock_now_ns();
    colo_local_run(xch, &opts, &res);
    t0 = clock_now_ns() - t0;
    n = res.downtimes < COLO_LOCAL_MAX_DOWNTIMES ? res.downtimes : COLO_LOCAL_MAX_DOWNTIMES;
    qsort(res.downtime_ns, n, sizeof(res.downtime_ns[0]), cmp_u64);
    ok = !res.save_rc && !res.restore_rc && n;
    median = ok ? quantile_ms(res.downtime_ns, n, 0.5) : -1;
    p99 = ok ? quantile_ms(res.downtime_ns, n, 0.99) : -1;
    printf("colo-downtime   guest %6llu MiB  %6llu writes/s  pauses %3u  median %7.3f ms  "
           "p99 %7.3f ms  mean %7.3f ms  %-20s (staged %3u; %.0f ms in all)%s\n",
           (unsigned long long)(pages >> 8), (unsigned long long)rate, n, median, p99,
           n ? res.downtime_ns_total / 1e6 / res.downtimes : -1.0,
           send_suspended ? "sent while suspended" : "staged", res.staged, t0 / 1e6,
           ok ? "" : "  FAILED");
    xhv_domain_destroy(xch, opts.pvm_domid);
    xhv_domain_destroy(xch, opts.svm_domid);
    return median;
}

/* The pause with staging against the same guest's pause without, in this run. */
static void bench_colo_staging(xc_interface *xch, uint64_t pages, uint64_t rate)
{
    double without = bench_colo(xch, pages, rate, 1), with = bench_colo(xch, pages, rate, 0);

    if (with > 0 && without > 0)
        printf("colo-pause      guest %6llu MiB  staged / sent while suspended: median pause "
               "ratio %.2f\n", (unsigned long long)(pages >> 8), with / without);
}

static pid_t start_sink(int fd, int other)
{
    pid_t pid = fork();

    if (pid == 0) {
        static char buf[1 << 20];

        close(other);
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
        _exit(0);
    }
    close(fd);
    return pid;
}

static int suspend_cb(void *data)
{
    uint32_t *d = data;
    static xc_interface *x;

    if (!x)
        x = xhv_open("sim");
    return xhv_domain_suspend(x, *d, 5000) == 0;
}

/* 3. Save throughput against the transport's own ceiling. */
static void bench_throughput(xc_interface *xch, uint64_t pages)
{
    uint32_t d = create(xch, "bench-tp", "dirtyrate", pages, 1, 0, 0, 0);
    struct save_callbacks cb = { .suspend = suspend_cb, .data = &d };
    int sv[2], status;
    uint64_t t_save, t_raw, bytes;
    pid_t sink;
    static char chunk[4 << 20];
    struct iovec iov = { chunk, sizeof(chunk) };

    /* Touch every page so the guest's memory is resident, as a running guest's is. */
    {
        uint64_t *pfns = malloc(pages * sizeof(*pfns)), i;
        void **pp = malloc(pages * sizeof(*pp));
        int *errs = malloc(pages * sizeof(*errs));

        for (i = 0; i < pages; i++)
            pfns[i] = i;
        xhv_domain_pause(xch, d);
        if (!xhv_map_foreign(xch, d, 3, pfns, pp, errs, pages))
            for (i = 0; i < pages; i++)
                if (!errs[i])
                    memset(pp[i], (int)i, 64);
        xhv_unmap_foreign(xch, d, pp, pages);
        xhv_domain_unpause(xch, d);
        free(pfns);
        free(pp);
        free(errs);
    }

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    sink = start_sink(sv[1], sv[0]);
    t_save = clock_now_ns();
    if (xc_domain_save(xch, sv[0], d, 0, &cb, XC_STREAM_PLAIN, -1))
        printf("save FAILED: %s\n", strerror(errno));
    t_save = clock_now_ns() - t_save;
    close(sv[0]);
    waitpid(sink, &status, 0);
    bytes = pages * (4096 + 8);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    sink = start_sink(sv[1], sv[0]);
    memset(chunk, 1, sizeof(chunk));
    t_raw = clock_now_ns();
    for (uint64_t done = 0; done < bytes; done += sizeof(chunk)) {
        iov.iov_base = chunk;
        iov.iov_len = sizeof(chunk);
        if (writev_exact(sv[0], &iov, 1))
            break;
    }
    t_raw = clock_now_ns() - t_raw;
    close(sv[0]);
    waitpid(sink, &status, 0);
    printf("save-throughput guest %6llu MiB  engine %6.2f GB/s  bare writev %6.2f GB/s  "
           "ratio %.2f\n",
           (unsigned long long)(pages >> 8), bytes / (double)t_save, bytes / (double)t_raw,
           (double)t_raw / (double)t_save);
    xhv_domain_destroy(xch, d);
}

/* 4. Save -> restore between two processes (a local migration, non-live). */
static void bench_migrate(xc_interface *xch, uint64_t pages)
{
    uint32_t d = create(xch, "bench-mig-src", "dirtyrate", pages, 1, 0, 0, 0);
    uint32_t t = create(xch, "bench-mig-dst", "", pages, 0, 0, 0, 1);
    struct save_callbacks cb = { .suspend = suspend_cb, .data = &d };
    int sv[2], status;
    uint64_t t0;
    pid_t child;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    child = fork();
    if (child == 0) {
        struct restore_callbacks rcb = { 0 };
        xen_pfn_t store, console;
        xc_interface *x = xhv_open("sim");

        close(sv[0]);
        _exit(x && !xc_domain_restore(x, sv[1], t, 1, &store, 0, 2, &console, 0,
                                      XC_STREAM_PLAIN, &rcb, -1) ? 0 : 1);
    }
    close(sv[1]);
    t0 = clock_now_ns();
    if (xc_domain_save(xch, sv[0], d, 0, &cb, XC_STREAM_PLAIN, -1))
        printf("save FAILED: %s\n", strerror(errno));
    close(sv[0]);
    waitpid(child, &status, 0);
    t0 = clock_now_ns() - t0;
    {
        /* Baseline: only fill a fresh domain's memory (the sim's page-allocation floor). */
        uint32_t f = create(xch, "bench-fill", "", pages, 0, 0, 0, 1);
        uint64_t *pfns = malloc(pages * sizeof(*pfns)), i, t1;
        void **pp = malloc(pages * sizeof(*pp));
        int *errs = malloc(pages * sizeof(*errs));

        for (i = 0; i < pages; i++)
            pfns[i] = i;
        t1 = clock_now_ns();
        xhv_populate(xch, f, pfns, pages);
        if (!xhv_map_foreign(xch, f, 3, pfns, pp, errs, pages))
            for (i = 0; i < pages; i++)
                if (!errs[i])
                    memset(pp[i], 1, 4096);
        t1 = clock_now_ns() - t1;
        xhv_unmap_foreign(xch, f, pp, pages);
        xhv_domain_destroy(xch, f);
        free(pfns);
        free(pp);
        free(errs);
        printf("migrate         guest %6llu MiB  save+restore %6.2f GB/s (%.0f ms)  "
               "baseline: populate+fill alone %6.2f GB/s (%.0f ms)%s\n",
               (unsigned long long)(pages >> 8), pages * 4096.0 / (double)t0, t0 / 1e6,
               pages * 4096.0 / (double)t1, t1 / 1e6,
               WIFEXITED(status) && !WEXITSTATUS(status) ? "" : "  RESTORE FAILED");
    }
    xhv_domain_destroy(xch, d);
    xhv_domain_destroy(xch, t);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "quick");
    uint64_t small = 16384, large = quick ? 65536 : 262144;
    xc_interface *xch = xhv_open("sim");

    if (!xch) {
        perror("xhv_open(sim)");
        return 1;
    }
    bench_logdirty(xch, small, 1000);
    bench_logdirty(xch, large, 1000);
    bench_colo_staging(xch, small, 20000);
    bench_colo_staging(xch, large, 20000);
    bench_throughput(xch, large);
    bench_migrate(xch, large);
    xhv_close(xch);
    return 0;
}
