/*
 * A COLO pair on one host (see colo_local.h).  The callbacks follow the order and
 * return conventions of libxl's COLO save and restore sides.
 */
#include "colo_local.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "domain_compare.h"
#include "libxl_records.h"
#include "sr_common.h"

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- secondary ----------------------------------------------------------------------- */

struct svm {
    xc_interface *xch;
    const struct colo_local_opts *opts;
    int main_fd, back_fd, report_fd;
    unsigned int applied;
    uint64_t last_dirty;
};

static int svm_checkpoint(void *data)
{
    struct svm *s = data;
    uint32_t type = 0, id = 0;

    /* libxl reads its own records up to CHECKPOINT_END. */
    if (libxl_read_record(s->main_fd, &type, &id) || type != LIBXL_REC_CHECKPOINT_END)
        return XGR_CHECKPOINT_FAILOVER;
    return XGR_CHECKPOINT_SUCCESS;
}

static int svm_postcopy(void *data)
{
    struct svm *s = data;
    struct colo_checkpoint_report r = { .first_pfn = UINT64_MAX };
    xhv_sim_status_t st = { 0 };
    uint32_t svm = s->opts->svm_domid;

    /* The checkpoint is applied and the primary waits for SVM_READY: both stopped. */
    r.checkpoint = ++s->applied;
    if (s->opts->compare)
        r.diff = (int32_t)domain_diff(s->xch, s->opts->pvm_domid, svm, &r.first_pfn);
    r.svm_dirty = s->last_dirty;
    if (!xhv_sim_status(s->xch, svm, &st))
        r.svm_steps = st.steps;
    if (write_exact(s->report_fd, &r, sizeof(r)))
        return 0;

    if (libxl_write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_READY))
        return 2;
    /* First time: start the SVM; later: resume it into the checkpoint's context. */
    if (s->applied == 1 ? xhv_domain_unpause(s->xch, svm) : xhv_domain_resume(s->xch, svm, 0))
        return 0;
    if (libxl_write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_RESUMED))
        return 2;
    return 1;
}

static int svm_wait_checkpoint(void *data)
{
    struct svm *s = data;

    return libxl_expect_state(s->main_fd, COLO_CHECKPOINT_NEW) ? 2 : 1;
}

static int svm_suspend(void *data)
{
    struct svm *s = data;
    uint32_t svm = s->opts->svm_domid;
    xhv_logdirty_stats_t stats = { 0 };
    xhv_dominfo_t info;
    unsigned long *bm;

    if (xhv_domain_suspend(s->xch, svm, 5000))
        return 0;
    /* |B| for the report; PEEK leaves the set for the engine to collect. */
    if (!xhv_domain_info(s->xch, svm, &info)) {
        bm = calloc(bitmap_longs(info.p2m_size), sizeof(*bm));
        if (bm && !xhv_logdirty(s->xch, svm, XHV_LOGDIRTY_PEEK, bm, info.p2m_size, &stats))
            s->last_dirty = stats.dirty_count;
        free(bm);
    }
    return libxl_write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_SUSPENDED) ? 2 : 1;
}

static int run_secondary(const char *backend, const struct colo_local_opts *opts, int main_fd,
                         int back_fd, int report_fd)
{
    struct svm s = { .opts = opts, .main_fd = main_fd, .back_fd = back_fd,
                     .report_fd = report_fd };
    struct restore_callbacks cb = {
        .checkpoint = svm_checkpoint, .postcopy = svm_postcopy,
        .wait_checkpoint = svm_wait_checkpoint, .suspend = svm_suspend, .data = &s,
    };
    xen_pfn_t store = 0, console = 0;
    int rc;

    s.xch = xhv_open(backend);
    if (!s.xch)
        return 1;
    rc = xc_domain_restore(s.xch, main_fd, opts->svm_domid, 1, &store, 0, 2, &console, 0,
                           XC_STREAM_COLO, &cb, back_fd);
    xhv_close(s.xch);
    return rc ? 1 : 0;
}

/* Fault injection: forward the back channel, emptying every dirty pfn list. */
static int run_dropping_proxy(int from_fd, int to_fd)
{
    for (;;) {
        uint32_t hdr[2];
        size_t padded;
        char *body;

        if (read_exact(from_fd, hdr, sizeof(hdr)))
            return 0;
        padded = (hdr[1] + 7u) & ~7u;
        if (padded > REC_LENGTH_MAX)
            return 1;
        body = malloc(padded ? padded : 1);
        if (!body || (padded && read_exact(from_fd, body, padded))) {
            free(body);
            return 1;
        }
        if (hdr[0] == REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST) {
            hdr[1] = 0;
            padded = 0;
        }
        if (write_exact(to_fd, hdr, sizeof(hdr)) ||
            (padded && write_exact(to_fd, body, padded))) {
            free(body);
            return 1;
        }
        free(body);
    }
}

/* ---- primary ------------------------------------------------------------------------- */

struct pvm {
    xc_interface *xch;
    const struct colo_local_opts *opts;
    struct colo_local_result *res;
    int main_fd, recv_fd;
    int svm_running;
    unsigned int checkpoints;
    uint64_t suspended_at;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int pvm_suspend(void *data)
{
    struct pvm *p = data;

    p->suspended_at = now_ns();
    if (xhv_domain_suspend(p->xch, p->opts->pvm_domid, 5000))
        return 0;
    if (p->svm_running && libxl_expect_state(p->recv_fd, COLO_CHECKPOINT_SVM_SUSPENDED))
        return 0;
    return 1;
}

static int pvm_checkpoint(void *data)
{
    struct pvm *p = data;

    return libxl_write_checkpoint_end(p->main_fd) ? 0 : 1;
}

static int pvm_postcopy(void *data)
{
    struct pvm *p = data;

    if (libxl_expect_state(p->recv_fd, COLO_CHECKPOINT_SVM_READY))
        return 0;
    if (xhv_domain_resume(p->xch, p->opts->pvm_domid, 1))
        return -1;
    if (p->svm_running) {
        uint64_t d = now_ns() - p->suspended_at;

        p->res->downtimes++;
        p->res->downtime_ns_total += d;
        if (d > p->res->downtime_ns_max)
            p->res->downtime_ns_max = d;
    }
    if (libxl_expect_state(p->recv_fd, COLO_CHECKPOINT_SVM_RESUMED))
        return 0;
    p->svm_running = 1;
    return 1;
}

static int pvm_wait_checkpoint(void *data)
{
    struct pvm *p = data;

    if (++p->checkpoints >= p->opts->checkpoints)
        return 0;
    sleep_ms(p->opts->interval_ms);
    return libxl_write_checkpoint_state(p->main_fd, COLO_CHECKPOINT_NEW) ? 0 : 1;
}

int colo_local_run(xc_interface *xch, const struct colo_local_opts *opts,
                   struct colo_local_result *res)
{
    int main_sv[2] = { -1, -1 }, back_sv[2] = { -1, -1 }, proxy_sv[2] = { -1, -1 };
    int report_pipe[2] = { -1, -1 };
    pid_t svm_pid = -1, proxy_pid = -1;
    struct pvm p = { .xch = xch, .opts = opts, .res = res };
    struct save_callbacks cb = {
        .suspend = pvm_suspend, .checkpoint = pvm_checkpoint, .postcopy = pvm_postcopy,
        .wait_checkpoint = pvm_wait_checkpoint, .data = &p,
    };
    struct colo_checkpoint_report r;
    void (*old_sigpipe)(int);
    int status;

    memset(res, 0, sizeof(*res));
    res->save_rc = res->restore_rc = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, main_sv) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, back_sv) ||
        pipe2(report_pipe, O_CLOEXEC))
        goto out;
    old_sigpipe = signal(SIGPIPE, SIG_IGN);

    svm_pid = fork();
    if (svm_pid < 0)
        goto out;
    if (svm_pid == 0) {
        close(main_sv[0]);
        close(back_sv[0]);
        close(report_pipe[0]);
        _exit(run_secondary(xhv_backend_name(xch), opts, main_sv[1], back_sv[1], report_pipe[1]));
    }
    close(main_sv[1]);
    close(back_sv[1]);
    close(report_pipe[1]);
    main_sv[1] = back_sv[1] = report_pipe[1] = -1;

    p.main_fd = main_sv[0];
    p.recv_fd = back_sv[0];
    if (opts->drop_dirty_list) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, proxy_sv))
            goto out;
        proxy_pid = fork();
        if (proxy_pid == 0) {
            close(proxy_sv[0]);
            close(main_sv[0]);
            close(report_pipe[0]);
            _exit(run_dropping_proxy(back_sv[0], proxy_sv[1]));
        }
        close(proxy_sv[1]);
        proxy_sv[1] = -1;
        p.recv_fd = proxy_sv[0];
    }

    res->save_rc = xc_domain_save(xch, main_sv[0], opts->pvm_domid, XCFLAGS_LIVE, &cb,
                                  XC_STREAM_COLO, p.recv_fd);
    /* The primary stops: the secondary sees the stream end and fails over. */
    close(main_sv[0]);
    main_sv[0] = -1;
    while (read_exact(report_pipe[0], &r, sizeof(r)) == 0) {
        res->reports++;
        if (opts->report)
            opts->report(&r, opts->opaque);
    }
    waitpid(svm_pid, &status, 0);
    res->restore_rc = WIFEXITED(status) ? -WEXITSTATUS(status) : -128;
    if (proxy_pid > 0) {
        close(back_sv[0]);
        back_sv[0] = -1;
        waitpid(proxy_pid, &status, 0);
    }
    signal(SIGPIPE, old_sigpipe);
 out:
    for (int *fd = (int[]){ main_sv[0], back_sv[0], proxy_sv[0], report_pipe[0] },
             *end = fd + 4; fd < end; fd++)
        if (*fd >= 0)
            close(*fd);
    return res->save_rc == 0 && res->restore_rc == 0 ? 0 : -1;
}
