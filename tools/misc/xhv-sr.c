/*
 * xhv-sr: run the save/restore engine against either backend (the simulated
 * hypervisor or real Xen) without the libxl/xl layer.
 *
 *   xhv-sr [-b sim|xen] list
 *   xhv-sr [-b ...] save [-l] [-r] DOMAIN FILE|-       plain (or -l live) save; -r resumes
 *                                                       the domain afterwards (else it
 *                                                       stays suspended)
 *   xhv-sr [-b ...] restore [-p] FILE|- DOMAIN         fill an existing paused domain
 *                                                       (real Xen: `xl create -p` with the
 *                                                       guest's config); -p: leave paused
 *   xhv-sr [-b ...] remus [-i MS] [-n N] [-c] [-C CUT] PRIMARY SECONDARY
 *                           Remus into a paused SECONDARY in this host; when the primary
 *                           is lost the secondary resumes at the last whole checkpoint.
 *                           -c: count the stream's records (@@REMUS records ...);
 *                           -C N[:inside]: cut the stream after N whole records (or
 *                           inside the next one): the stopped secondary must equal the
 *                           primary's digest at the last checkpoint it applied (or
 *                           refuse, before the first); then it is started
 *                           (@@REMUS failover ...)
 *   xhv-sr [-b ...] colo [-i MS] [-n N] [-D] [-x] [-c] [-C CUT] [-P SOCK] PRIMARY SECONDARY
 *                           COLO pair: after every checkpoint both are stopped and
 *                           compared page by page.  -D: drop the back channel's dirty
 *                           pfn lists (fault injection); -x: expect that to be caught
 *                           (the secondary refuses a checkpoint, none differs);
 *                           -c: count both channels' records (@@COLO records ...);
 *                           -C main:N[:inside] or back:N[:inside]: cut that channel
 *                           after N whole records (or inside the next one): the
 *                           secondary fails over, and must be exactly the state it
 *                           last stopped in (or refuse, before its first checkpoint);
 *                           the survivor is then resumed (@@COLO failover ...);
 *                           -P: the compare proxy's control socket (colo-vif-proxy
 *                           --control-socket): checkpoints also when it asks
 *
 *   xhv-sr -b sim create [-p] [-r RATE] [-s ARG3] [-H HOST_INPUT] NAME PAGES PROGRAM
 *   xhv-sr [-b ...] destroy DOMAIN
 *                           simulated hypervisor: make / remove a guest (PROGRAM "" or
 *                           "none": an empty domain for a restore to fill)
 *
 *   xhv-sr [-b ...] logdirty [-i MS] [-n N] DOMAIN
 *                           N times: log-dirty on, MS ms, read and clear, off (what a
 *                           live save's start does to a guest, without the copying)
 *
 * DOMAIN is a name or a domain id.  Exit status 0 on success.  Lines starting with
 * "@@" are machine-readable results (used by the real-Xen harness).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "colo_local.h"
#include "domain_compare.h"
#include "libxl_checkpoint.h"
#include "remus_local.h"
#include "xenguest_colo.h"
#include "xutil.h"
#include "xhv_sim.h"

#define HVM_PARAM_STORE_EVTCHN   2
#define HVM_PARAM_CONSOLE_EVTCHN 18

static const char *backend;
static unsigned int suspend_timeout_ms = 60000;

static int usage(void)
{
    fprintf(stderr,
            "usage: xhv-sr [-b sim|xen] list\n"
            "       xhv-sr [-b ...] save [-l] [-r] DOMAIN FILE|-\n"
            "       xhv-sr [-b ...] restore [-p] FILE|- DOMAIN\n"
            "       xhv-sr [-b ...] remus [-i MS] [-n N] [-c] [-C CUT] PRIMARY SECONDARY\n"
            "       xhv-sr [-b ...] colo [-i MS] [-n N] [-D] [-x] [-c] [-C CUT] [-P SOCK] PRIMARY SECONDARY\n"
            "       xhv-sr -b sim create [-p] [-r RATE] [-s ARG3] [-H HOST_INPUT] NAME PAGES "
            "PROGRAM\n"
            "       xhv-sr [-b ...] destroy DOMAIN\n"
            "       xhv-sr [-b ...] logdirty [-i MS] [-n N] DOMAIN\n");
    return 2;
}

/* An option's value as an unsigned decimal number; anything else is a clear error. */
static int uint_arg(int opt, const char *s, unsigned int *v)
{
    char *end;
    unsigned long x;

    errno = 0;
    x = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || x > UINT_MAX) {
        fprintf(stderr, "xhv-sr: -%c: '%s' is not a number\n", opt, s);
        return -1;
    }
    *v = (unsigned int)x;
    return 0;
}

/* "-i MS -n N" of remus and logdirty: 0, or 2 (usage) after a message. */
static int interval_count_opts(int argc, char **argv, unsigned int *interval,
                               unsigned int *count)
{
    int opt;

    while ((opt = getopt(argc, argv, "i:n:")) != -1) {
        if (opt != 'i' && opt != 'n')
            return usage();
        if (uint_arg(opt, optarg, opt == 'i' ? interval : count))
            return 2;
    }
    return 0;
}

static int resolve(xc_interface *xch, const char *s, uint32_t *domid)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    xhv_dominfo_t info;

    if (*s && !*end && !xhv_domain_info(xch, (uint32_t)v, &info)) {
        *domid = (uint32_t)v;
        return 0;
    }
    if (!xhv_domain_lookup(xch, s, domid))
        return 0;
    fprintf(stderr, "xhv-sr: no domain '%s'\n", s);
    return -1;
}

/* ---- list ------------------------------------------------------------------------ */

static int cmd_list(xc_interface *xch)
{
    xhv_dominfo_t info[256];
    uint32_t maj = 0, min = 0;
    int n = xhv_domain_list(xch, info, 256);

    if (n < 0) {
        perror("xhv-sr: list");
        return 1;
    }
    if (!xhv_version(xch, &maj, &min))
        printf("# backend %s, hypervisor version %u.%u\n", xhv_backend_name(xch), maj, min);
    printf("%-20s %5s %10s %10s %10s %s\n", "name", "id", "max_pages", "nr_pages", "p2m_size",
           "state");
    for (int i = 0; i < n; i++)
        printf("%-20s %5u %10llu %10llu %10llu %s%s%s%s%s\n", info[i].name, info[i].domid,
               (unsigned long long)info[i].max_pages, (unsigned long long)info[i].nr_pages,
               (unsigned long long)info[i].p2m_size, info[i].hvm ? "hvm " : "pv ",
               info[i].paused ? "paused " : "", info[i].running ? "running " : "",
               info[i].shutdown ? "shutdown " : "", info[i].dying ? "dying" : "");
    return 0;
}

/* ---- create / destroy (simulated hypervisor) -------------------------------------- */

static int cmd_create(xc_interface *xch, int argc, char **argv)
{
    xhv_domain_config_t cfg;
    struct xhv_sim_guest sim;
    uint32_t domid;
    int opt;

    memset(&cfg, 0, sizeof(cfg));
    memset(&sim, 0, sizeof(sim));
    cfg.sim = &sim;
    sim.prog_args[2] = 20000;
    while ((opt = getopt(argc, argv, "pr:s:H:")) != -1) {
        if (opt == 'p')
            cfg.start_paused = 1;
        else if (opt == 'r')
            sim.prog_args[2] = strtoull(optarg, NULL, 0);
        else if (opt == 's')
            sim.prog_args[3] = strtoull(optarg, NULL, 0);
        else if (opt == 'H')
            sim.host_input = strtoull(optarg, NULL, 0);
        else
            return usage();
    }
    if (argc - optind != 3)
        return usage();
    snprintf(cfg.name, sizeof(cfg.name), "%s", argv[optind]);
    cfg.max_pages = strtoull(argv[optind + 1], NULL, 0);
    if (strcmp(argv[optind + 2], "none"))
        snprintf(sim.program, sizeof(sim.program), "%s", argv[optind + 2]);
    if (xhv_domain_create(xch, &cfg, &domid)) {
        perror("xhv-sr: create");
        return 1;
    }
    printf("%u\n", domid);
    return 0;
}

static int cmd_destroy(xc_interface *xch, int argc, char **argv)
{
    uint32_t domid;

    if (argc != 2)
        return usage();
    if (resolve(xch, argv[1], &domid))
        return 1;
    if (xhv_domain_destroy(xch, domid)) {
        perror("xhv-sr: destroy");
        return 1;
    }
    return 0;
}

/* ---- save / restore -------------------------------------------------------------- */

struct save_ctx {
    xc_interface *xch;
    uint32_t domid;
};

static int save_suspend(void *data)
{
    struct save_ctx *c = data;

    return xhv_domain_suspend(c->xch, c->domid, suspend_timeout_ms) ? 0 : 1;
}

static int cmd_save(xc_interface *xch, int argc, char **argv)
{
    int live = 0, resume = 0, opt, fd, rc;
    struct save_ctx c = { .xch = xch };
    struct save_callbacks cb = { .suspend = save_suspend, .data = &c };
    double t0;

    while ((opt = getopt(argc, argv, "lr")) != -1) {
        if (opt == 'l')
            live = 1;
        else if (opt == 'r')
            resume = 1;
        else
            return usage();
    }
    if (argc - optind != 2)
        return usage();
    if (resolve(xch, argv[optind], &c.domid))
        return 1;
    fd = strcmp(argv[optind + 1], "-") ? open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC |
                                              O_CLOEXEC, 0600) : 1;
    if (fd < 0) {
        perror(argv[optind + 1]);
        return 1;
    }
    t0 = clock_now_s();
    rc = xc_domain_save(xch, fd, c.domid, live ? XCFLAGS_LIVE : 0, &cb, XC_STREAM_PLAIN, -1);
    if (rc == 0 && fd != 1 && fsync(fd) && errno != EINVAL)
        rc = -1;
    fprintf(stderr, "@@SAVE domain=%u live=%d rc=%d seconds=%.3f\n", c.domid, live, rc,
            clock_now_s() - t0);
    if (fd != 1)
        close(fd);
    if (rc) {
        perror("xhv-sr: save");
        return 1;
    }
    if (resume && xhv_domain_resume(xch, c.domid, 1)) {
        perror("xhv-sr: resume after save");
        return 1;
    }
    return 0;
}

static void target_evtchns(xc_interface *xch, uint32_t domid, unsigned int *store,
                           unsigned int *console)
{
    uint64_t v;

    /* Real Xen: the ports `xl create -p` allocated for the target (xenstored and
     * xenconsoled are already connected to them). */
    *store = xhv_hvm_param_get(xch, domid, HVM_PARAM_STORE_EVTCHN, &v) == 0 && v ? (unsigned)v : 1;
    *console = xhv_hvm_param_get(xch, domid, HVM_PARAM_CONSOLE_EVTCHN, &v) == 0 && v
                   ? (unsigned)v : 2;
}

/* Start a domain a restore just filled: a target that never ran (made paused) is
 * unpaused; one that was suspended resumes into the restored context (slow resume). */
static int start_restored(xc_interface *xch, uint32_t domid)
{
    xhv_dominfo_t info;

    if (xhv_domain_info(xch, domid, &info))
        return -1;
    return info.shutdown ? xhv_domain_resume(xch, domid, 0) : xhv_domain_unpause(xch, domid);
}

static int cmd_restore(xc_interface *xch, int argc, char **argv)
{
    int paused = 0, opt, fd, rc;
    uint32_t domid;
    unsigned int store_ev, console_ev;
    xen_pfn_t store_gfn = 0, console_gfn = 0;
    struct restore_callbacks cb = { 0 };
    double t0;

    while ((opt = getopt(argc, argv, "p")) != -1) {
        if (opt == 'p')
            paused = 1;
        else
            return usage();
    }
    if (argc - optind != 2)
        return usage();
    if (resolve(xch, argv[optind + 1], &domid))
        return 1;
    fd = strcmp(argv[optind], "-") ? open(argv[optind], O_RDONLY | O_CLOEXEC) : 0;
    if (fd < 0) {
        perror(argv[optind]);
        return 1;
    }
    target_evtchns(xch, domid, &store_ev, &console_ev);
    t0 = clock_now_s();
    rc = xc_domain_restore(xch, fd, domid, store_ev, &store_gfn, 0, console_ev, &console_gfn, 0,
                           XC_STREAM_PLAIN, &cb, -1);
    fprintf(stderr, "@@RESTORE domain=%u rc=%d seconds=%.3f\n", domid, rc, clock_now_s() - t0);
    if (fd)
        close(fd);
    if (rc) {
        perror("xhv-sr: restore");
        return 1;
    }
    if (!paused && start_restored(xch, domid)) {
        perror("xhv-sr: starting the restored domain");
        return 1;
    }
    return 0;
}

/* ---- Remus ----------------------------------------------------------------------- */

/* Whatever happened to a pair, the primary keeps running (it may have stopped with the
 * primary suspended). */
static void keep_primary_running(xc_interface *xch, uint32_t domid)
{
    xhv_dominfo_t info;

    if (!xhv_domain_info(xch, domid, &info) && info.shutdown &&
        info.shutdown_reason == XHV_SHUTDOWN_suspend) {
        fprintf(stderr, "xhv-sr: resuming the primary (left suspended)\n");
        xhv_domain_resume(xch, domid, 1);
    }
}

static void remus_at_checkpoint(unsigned int n, void *opaque)
{
    (void)opaque;
    printf("@@REMUS checkpoint=%u t=%.3f\n", n, clock_now_s());
    fflush(stdout);
}

/* -C N[:inside] (Remus) or main:N[:inside] | back:N[:inside] (COLO): the channel, the
 * whole records before the cut, and whether it falls inside the next one. */
static int cut_arg(const char *s, int colo, int *channel, unsigned int *records, int *inside)
{
    const char *p = s;
    char *end;
    unsigned long n;

    *channel = COLO_CUT_MAIN;
    if (colo && !strncmp(p, "back:", 5))
        *channel = COLO_CUT_BACK;
    else if (colo && strncmp(p, "main:", 5))
        goto bad;
    if (colo)
        p += 5;
    errno = 0;
    n = strtoul(p, &end, 10);
    if (end == p || errno || *p == '-' || n > UINT_MAX)
        goto bad;
    *records = (unsigned int)n;
    *inside = !strcmp(end, ":inside");
    if (*end && !*inside)
        goto bad;
    return 0;
 bad:
    fprintf(stderr, colo ? "xhv-sr: -C %s: want main:N, back:N, main:N:inside or back:N:inside\n"
                         : "xhv-sr: -C %s: want N or N:inside\n", s);
    return -1;
}

static const char *differs_words(unsigned int differs)
{
    static const char *const w[] = { "", " memory-differs", " context-differs",
                                      " memory-differs context-differs" };

    return w[differs & 3];
}

static int cmd_remus(xc_interface *xch, int argc, char **argv)
{
    struct remus_local_opts o = { .interval_ms = 1000, .at_checkpoint = remus_at_checkpoint };
    struct remus_local_result res;
    int opt, ok, channel;

    while ((opt = getopt(argc, argv, "i:n:cC:")) != -1) {
        if (opt == 'i' || opt == 'n') {
            if (uint_arg(opt, optarg, opt == 'i' ? &o.interval_ms : &o.checkpoints))
                return 2;
        } else if (opt == 'c')
            o.count_records = 1;
        else if (opt == 'C') {
            if (cut_arg(optarg, 0, &channel, &o.cut_records, &o.cut_inside))
                return 2;
            o.cut = o.check_failover = 1;
        } else
            return usage();
    }
    if (argc - optind != 2)
        return usage();
    if (o.check_failover && (!o.checkpoints || o.checkpoints > REMUS_LOCAL_MAX_CHECKPOINTS)) {
        fprintf(stderr, "xhv-sr: remus -C needs -n 1..%u\n", REMUS_LOCAL_MAX_CHECKPOINTS);
        return 2;
    }
    if (resolve(xch, argv[optind], &o.pvm_domid) || resolve(xch, argv[optind + 1], &o.svm_domid))
        return 1;
    target_evtchns(xch, o.svm_domid, &o.store_evtchn, &o.console_evtchn);
    fflush(stdout);
    remus_local_run(xch, &o, &res);
    keep_primary_running(xch, o.pvm_domid);
    printf("@@REMUS primary-ended rc=%d checkpoints=%u%s%s\n", res.save_rc, res.checkpoints,
           res.err[0] ? " reason: " : "", res.err);
    if (o.count_records)
        printf("@@REMUS records main=%u\n", res.main_records);
    if (o.cut) {
        /* before the first whole checkpoint there is nothing to take over: refused */
        ok = res.applied ? res.restore_rc == 0 && res.failover_exact == 1 : res.restore_rc != 0;
        printf("@@REMUS failover cut=%u%s checkpoint=%u exact=%d%s restore_rc=%d "
               "main_records=%u => %s\n", o.cut_records, o.cut_inside ? ":inside" : "",
               res.applied, res.failover_exact, differs_words(res.failover_differs),
               res.restore_rc, res.main_records, ok ? "ok" : "WRONG");
    } else
        ok = res.restore_rc == 0;
    if (!res.restore_rc && start_restored(xch, o.svm_domid)) {
        fprintf(stderr, "xhv-sr: remus secondary: resume failed: %s\n", strerror(errno));
        ok = 0;
    } else if (!res.restore_rc)
        printf("@@FAILOVER secondary=%u checkpoints=%u t=%.3f\n", o.svm_domid, res.applied,
               clock_now_s());
    fflush(stdout);
    return ok ? 0 : 1;
}

/* ---- COLO ------------------------------------------------------------------------ */

struct colo_tally {
    unsigned int reports, equal, differ;
};

static void colo_report(const struct colo_checkpoint_report *r, void *opaque)
{
    struct colo_tally *t = opaque;

    t->reports++;
    if (r->diff == 0)
        t->equal++;
    else
        t->differ++;
    printf("@@COLO checkpoint=%u diff=%d first_pfn=%#llx svm_dirty=%llu\n", r->checkpoint,
           r->diff, (unsigned long long)r->first_pfn, (unsigned long long)r->svm_dirty);
    fflush(stdout);
}

/* After a cut: the secondary's verdict, and the survivor running again (a suspended
 * one in its own context, one holding an applied checkpoint into that context). */
static int colo_failover_verdict(xc_interface *xch, const struct colo_local_opts *o,
                                 const struct colo_local_result *res)
{
    static const char *const phase[] = { "running", "suspended", "applied" };
    int ok, p = res->failover_phase;
    xhv_dominfo_t info;

    if (p < 0)
        ok = res->restore_rc != 0;         /* nothing to take over: refused */
    else
        ok = res->restore_rc == 0 && (p == COLO_SVM_RUNNING || res->failover_exact == 1);
    printf("@@COLO failover cut=%s:%u%s phase=%s checkpoint=%u exact=%d%s restore_rc=%d "
           "main_records=%u back_records=%u => %s\n",
           o->cut_channel == COLO_CUT_MAIN ? "main" : "back", o->cut_records,
           o->cut_inside ? ":inside" : "", p >= 0 && p <= 2 ? phase[p] : "never-ran",
           res->failover_checkpoint, res->failover_exact, differs_words(res->failover_differs),
           res->restore_rc, res->main_records,
           res->back_records, ok ? "ok" : "WRONG");
    if (p >= 0 && !xhv_domain_info(xch, o->svm_domid, &info) && (info.shutdown || info.paused) &&
        xhv_domain_resume(xch, o->svm_domid, p != COLO_SVM_APPLIED)) {
        fprintf(stderr, "xhv-sr: resuming the survivor failed\n");
        ok = 0;
    }
    return ok;
}

/* A compare proxy's control socket (colo-vif-proxy --control-socket PATH). */
static int connect_unix(const char *path, int *fd)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(a.sun_path)) {
        fprintf(stderr, "xhv-sr: -P %s: path too long\n", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0 || connect(*fd, (struct sockaddr *)&a, sizeof(a))) {
        fprintf(stderr, "xhv-sr: -P %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int cmd_colo(xc_interface *xch, int argc, char **argv)
{
    struct colo_local_opts o = { .checkpoints = 5, .interval_ms = 1000, .compare = 1,
                                 .report = colo_report };
    struct colo_local_result res;
    struct colo_tally t = { 0 };
    int opt, expect_diff = 0, ok;

    while ((opt = getopt(argc, argv, "i:n:DxcC:P:")) != -1) {
        if (opt == 'P') {
            if (connect_unix(optarg, &o.proxy_fd))
                return 1;
            o.have_proxy = 1;
        } else if (opt == 'i' || opt == 'n') {
            if (uint_arg(opt, optarg, opt == 'i' ? &o.interval_ms : &o.checkpoints))
                return 2;
        } else if (opt == 'D')
            o.drop_dirty_list = 1;
        else if (opt == 'x')
            expect_diff = 1;
        else if (opt == 'c')
            o.count_records = 1;
        else if (opt == 'C') {
            int channel;

            if (cut_arg(optarg, 1, &channel, &o.cut_records, &o.cut_inside))
                return 2;
            o.cut_channel = channel;
            o.check_failover = 1;
        } else
            return usage();
    }
    if (argc - optind != 2)
        return usage();
    if (resolve(xch, argv[optind], &o.pvm_domid) || resolve(xch, argv[optind + 1], &o.svm_domid))
        return 1;
    if (!strcmp(xhv_backend_name(xch), "xen"))
        o.compare_fn = domain_diff_pages;
    o.opaque = &t;
    fflush(stdout);
    colo_local_run(xch, &o, &res);
    keep_primary_running(xch, o.pvm_domid);
    if (o.count_records)
        printf("@@COLO records main=%u back=%u\n", res.main_records, res.back_records);
    if (o.cut_channel != COLO_CUT_NONE) {
        /* the pair was cut on purpose: what counts is the failover, and no difference
         * at the checkpoints before it */
        ok = colo_failover_verdict(xch, &o, &res) && t.differ == 0;
        return ok ? 0 : 1;
    }
    /* With the dirty lists dropped the secondary must refuse the first checkpoint that
     * lacks its dirty pages, before applying it: no checkpoint compared may differ. */
    ok = expect_diff ? res.restore_rc != 0 && t.differ == 0
                     : res.save_rc == 0 && t.reports > 0 && t.differ == 0;
    printf("@@COLO result save_rc=%d restore_rc=%d checkpoints=%u equal=%u differ=%u "
           "drop_dirty_list=%d proxy_requests=%u => %s\n", res.save_rc, res.restore_rc,
           t.reports, t.equal, t.differ, o.drop_dirty_list, res.proxy_requests,
           ok ? "as expected" : "NOT as expected");
    return ok ? 0 : 1;
}

/* ---- logdirty: the start of a live save, over and over -------------------------- */

/* Turns log-dirty tracking on, reads and clears the dirty set after MS milliseconds,
 * turns it off, N times, and prints how many pages were found dirty in all.  Every guest
 * write after ENABLE is a write fault the hypervisor resolves: this reproduces the
 * first moments of a live save (where guests died under QEMU's emulated nested
 * paging) without the cost of copying memory, to measure how often that happens. */
static int cmd_logdirty(xc_interface *xch, int argc, char **argv)
{
    unsigned int interval = 200, rounds = 10;
    unsigned long *bitmap = NULL;
    xhv_logdirty_stats_t st;
    xhv_dominfo_t info;
    uint64_t total = 0;
    uint32_t domid;
    int rc;

    if ((rc = interval_count_opts(argc, argv, &interval, &rounds)))
        return rc;
    rc = 1;
    if (argc - optind != 1)
        return usage();
    if (resolve(xch, argv[optind], &domid) || xhv_domain_info(xch, domid, &info))
        return 1;
    bitmap = calloc((info.p2m_size + 63) / 64 + 1, sizeof(*bitmap));
    if (!bitmap)
        return 1;
    for (unsigned int i = 0; i < rounds; i++) {
        struct timespec ts = { interval / 1000, (long)(interval % 1000) * 1000000L };

        if (xhv_logdirty(xch, domid, XHV_LOGDIRTY_ENABLE, NULL, 0, NULL)) {
            fprintf(stderr, "xhv-sr: logdirty: round %u: enable: %s\n", i, strerror(errno));
            goto out;
        }
        nanosleep(&ts, NULL);
        if (xhv_logdirty(xch, domid, XHV_LOGDIRTY_CLEAN, bitmap, info.p2m_size, &st)) {
            fprintf(stderr, "xhv-sr: logdirty: round %u: clean: %s\n", i, strerror(errno));
            xhv_logdirty(xch, domid, XHV_LOGDIRTY_OFF, NULL, 0, NULL);
            goto out;
        }
        if (xhv_logdirty(xch, domid, XHV_LOGDIRTY_OFF, NULL, 0, NULL)) {
            fprintf(stderr, "xhv-sr: logdirty: round %u: off: %s\n", i, strerror(errno));
            goto out;
        }
        total += st.dirty_count;
    }
    printf("logdirty: %u rounds of %u ms, %llu pages dirty in all\n", rounds, interval,
           (unsigned long long)total);
    rc = 0;
out:
    free(bitmap);
    return rc;
}

int main(int argc, char **argv)
{
    xc_interface *xch;
    const char *cmd;
    int opt, rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "+b:t:")) != -1) {
        if (opt == 'b')
            backend = optarg;
        else if (opt == 't') {
            if (uint_arg(opt, optarg, &suspend_timeout_ms))
                return 2;
        }
        else
            return usage();
    }
    if (optind >= argc)
        return usage();
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    optind = 0;   /* GNU getopt: 0 re-initialises (permutation again allowed) */
    xch = xhv_open(backend);
    if (!xch)
        return 1;
    if (!strcmp(cmd, "list"))
        rc = cmd_list(xch);
    else if (!strcmp(cmd, "save"))
        rc = cmd_save(xch, argc, argv);
    else if (!strcmp(cmd, "restore"))
        rc = cmd_restore(xch, argc, argv);
    else if (!strcmp(cmd, "remus"))
        rc = cmd_remus(xch, argc, argv);
    else if (!strcmp(cmd, "colo"))
        rc = cmd_colo(xch, argc, argv);
    else if (!strcmp(cmd, "create"))
        rc = cmd_create(xch, argc, argv);
    else if (!strcmp(cmd, "destroy"))
        rc = cmd_destroy(xch, argc, argv);
    else if (!strcmp(cmd, "logdirty"))
        rc = cmd_logdirty(xch, argc, argv);
    else
        rc = usage();
    xhv_close(xch);
    return rc;
}
