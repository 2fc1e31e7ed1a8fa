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
#include "libxl_checkpoint.h"
#include "libxl_records.h"
#include "sr_stream_format.h"
#include "xutil.h"

/* ---- secondary ----------------------------------------------------------------------- */

struct svm {
    struct ckpt_secondary c;       /* the libxl side (libxl_checkpoint.c) */
    const struct colo_local_opts *opts;
    int report_fd;
    uint64_t last_dirty;
};

static int svm_after_apply(unsigned int n, void *opaque)
{
    struct svm *s = opaque;
    struct colo_checkpoint_report r = { .first_pfn = UINT64_MAX };
    xhv_sim_status_t st = { 0 };
    uint32_t svm = s->opts->svm_domid;

    /* The checkpoint is applied and the primary waits for SVM_READY: both stopped. */
    r.checkpoint = n;
    if (s->opts->compare)
        r.diff = (int32_t)(s->opts->compare_fn ? s->opts->compare_fn : domain_diff)(
            s->c.xch, s->opts->pvm_domid, svm, &r.first_pfn);
    r.svm_dirty = s->last_dirty;
    if (!xhv_sim_status(s->c.xch, svm, &st))
        r.svm_steps = st.steps;
    return write_exact(s->report_fd, &r, sizeof(r)) ? -1 : 0;
}

static int svm_suspend(void *data)
{
    struct svm *s = data;
    xhv_logdirty_stats_t stats = { 0 };
    xhv_dominfo_t info;
    unsigned long *bm;
    int r = ckpt_secondary_suspend(&s->c);

    if (r != 1)
        return r;
    /* |B| for the report; PEEK leaves the set for the engine to collect. */
    if (!xhv_domain_info(s->c.xch, s->c.domid, &info)) {
        bm = calloc(bitmap_longs(info.p2m_size), sizeof(*bm));
        if (bm && !xhv_logdirty(s->c.xch, s->c.domid, XHV_LOGDIRTY_PEEK, bm, info.p2m_size,
                                &stats))
            s->last_dirty = stats.dirty_count;
        free(bm);
    }
    return 1;
}

static int run_secondary(const char *backend, const struct colo_local_opts *opts, int main_fd,
                         int back_fd, int report_fd)
{
    struct svm s = { .opts = opts, .report_fd = report_fd };
    struct restore_callbacks cb = {
        .checkpoint = ckpt_secondary_checkpoint, .postcopy = ckpt_secondary_postcopy,
        .wait_checkpoint = ckpt_secondary_wait_checkpoint, .suspend = svm_suspend, .data = &s,
    };
    xen_pfn_t store = 0, console = 0;
    int rc;

    s.c.domid = opts->svm_domid;
    s.c.main_fd = main_fd;
    s.c.back_fd = back_fd;
    s.c.colo = 1;
    s.c.after_apply = svm_after_apply;
    s.c.opaque = &s;
    s.c.xch = xhv_open(backend);
    if (!s.c.xch)
        return 1;
    rc = xc_domain_restore(s.c.xch, main_fd, opts->svm_domid, 1, &store, 0, 2, &console, 0,
                           XC_STREAM_COLO, &cb, back_fd);
    xhv_close(s.c.xch);
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

int colo_local_run(xc_interface *xch, const struct colo_local_opts *opts,
                   struct colo_local_result *res)
{
    int main_sv[2] = { -1, -1 }, back_sv[2] = { -1, -1 }, proxy_sv[2] = { -1, -1 };
    int report_pipe[2] = { -1, -1 };
    pid_t svm_pid = -1, proxy_pid = -1;
    struct ckpt_primary p = { .xch = xch, .domid = opts->pvm_domid, .colo = 1,
                              .interval_ms = opts->interval_ms,
                              .max_checkpoints = opts->checkpoints };
    struct save_callbacks cb = {
        .suspend = ckpt_primary_suspend, .checkpoint = ckpt_primary_checkpoint,
        .postcopy = ckpt_primary_postcopy, .wait_checkpoint = ckpt_primary_wait_checkpoint,
        .data = &p,
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
    res->downtimes = p.downtimes;
    res->downtime_ns_total = p.downtime_ns_total;
    res->downtime_ns_max = p.downtime_ns_max;
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
