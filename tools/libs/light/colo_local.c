/*
 * A COLO pair on one host (see colo_local.h).  The callbacks follow the order and
 * return conventions of libxl's COLO save and restore sides.
 */
#include "colo_local.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "domain_compare.h"
#include "libxl.h"
#include "libxl_checkpoint.h"
#include "libxl_colo_proxy.h"
#include "libxl_records.h"
#include "record_proxy.h"
#include "sr_stream_format.h"
#include "xhv_sim.h"
#include "xutil.h"

/* ---- secondary ----------------------------------------------------------------------- */

struct svm {
    struct ckpt_secondary c;       /* the libxl side (libxl_checkpoint.c) */
    const struct colo_local_opts *opts;
    const struct snapshot *pvm_snap;   /* the PVM at the checkpoint (opts->compare) */
    int report_fd, verdict_fd;
    uint64_t last_dirty;
    /* Where the SVM is, and its digests the last time it was stopped. */
    int phase;
    unsigned int ckpt;
    uint64_t mem, ctx;
};

/* The secondary's state at failover (colo_local_result.failover_*). */
struct svm_verdict {
    int32_t phase, exact;
    uint32_t checkpoint, differs;
};

static void svm_stopped(struct svm *s, int phase, unsigned int n)
{
    s->phase = phase;
    s->ckpt = n;
    /* a whole-memory digest at every stop: only for a run whose failover is checked */
    if (s->opts->check_failover &&
        domain_digest(s->c.xch, s->opts->svm_domid, &s->mem, &s->ctx))
        s->mem = s->ctx = 0;
}

static int svm_postcopy(void *data)
{
    struct svm *s = data;
    int r = ckpt_secondary_postcopy(&s->c);
    xhv_dominfo_t d;

    /* It may have failed before or after the SVM started. */
    if (!xhv_domain_info(s->c.xch, s->opts->svm_domid, &d) && !d.paused && !d.shutdown)
        s->phase = COLO_SVM_RUNNING;
    return r;
}

/* The SVM against the PVM's snapshot (pages, +1 if the contexts differ), -1. */
static long diff_with_snapshot(xc_interface *xch, const struct snapshot *pvm, uint32_t svm,
                               uint64_t *first_pfn)
{
    struct snapshot got = { 0 };
    long diff;

    *first_pfn = UINT64_MAX;
    if (!pvm->ctx_len || snapshot_take(xch, svm, &got)) {
        snapshot_free(&got);
        return -1;
    }
    diff = snapshot_diff(pvm, &got, first_pfn);
    snapshot_free(&got);
    return diff;
}

static int svm_after_apply(unsigned int n, void *opaque)
{
    struct svm *s = opaque;
    struct colo_checkpoint_report r = { .first_pfn = UINT64_MAX };
    xhv_sim_status_t st = { 0 };
    uint32_t svm = s->opts->svm_domid;

    /* The checkpoint is applied and the SVM stopped until SVM_READY.  The PVM may run
     * already (staged): its snapshot from the suspend is what the SVM must equal;
     * compare_fn reads the live PVM, which then waits for SVM_READY suspended. */
    r.checkpoint = n;
    if (s->opts->compare_fn)
        r.diff = (int32_t)s->opts->compare_fn(s->c.xch, s->opts->pvm_domid, svm, &r.first_pfn);
    else if (s->opts->compare)
        r.diff = (int32_t)diff_with_snapshot(s->c.xch, s->pvm_snap, svm, &r.first_pfn);
    r.svm_dirty = s->last_dirty;
    if (!xhv_sim_status(s->c.xch, svm, &st))
        r.svm_steps = st.steps;
    svm_stopped(s, COLO_SVM_APPLIED, n);
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
    svm_stopped(s, COLO_SVM_SUSPENDED, s->ckpt);
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

static int run_secondary(const char *backend, const struct colo_local_opts *opts,
                         const struct snapshot *pvm_snap, int main_fd, int back_fd,
                         int report_fd, int verdict_fd)
{
    struct svm s = { .opts = opts, .pvm_snap = pvm_snap, .report_fd = report_fd,
                     .verdict_fd = verdict_fd, .phase = -1 };
    struct svm_verdict v = { .exact = -1 };
    struct restore_callbacks cb = {
        .checkpoint = ckpt_secondary_checkpoint, .postcopy = svm_postcopy,
        .wait_checkpoint = ckpt_secondary_wait_checkpoint, .suspend = svm_suspend, .data = &s,
    };
    xen_pfn_t store = 0, console = 0;
    libxl_ctx *devices = NULL;
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
    /* The SVM's devices (real Xen: a vif) are libxl's; its context opens the backend
     * named in the environment, and this process is the secondary's alone. */
    if (!strcmp(backend, "xen") && (setenv("XHV_BACKEND", backend, 1) ||
                                    libxl_ctx_alloc(&devices, LIBXL_VERSION, 0, NULL))) {
        xhv_close(s.c.xch);
        return 1;
    }
    if (devices)
        libxl_ctx_set_verbosity(devices, XTL_INFO);
    s.c.devices = devices;
    rc = xc_domain_restore(s.c.xch, main_fd, opts->svm_domid, 1, &store, 0, 2, &console, 0,
                           XC_STREAM_COLO, &cb, back_fd);
    /* Failover: a stopped SVM must be exactly as it was when it stopped (nothing of an
     * interrupted checkpoint applied); one that ran since has no such state. */
    v.phase = s.phase;
    v.checkpoint = s.ckpt;
    if (opts->check_failover &&
        (s.phase == COLO_SVM_SUSPENDED || s.phase == COLO_SVM_APPLIED)) {
        uint64_t m = 0, c = 0;

        domain_scribble_fault(s.c.xch, opts->svm_domid);
        v.exact = !domain_digest(s.c.xch, opts->svm_domid, &m, &c) && m == s.mem &&
                  c == s.ctx;
        v.differs = (m != s.mem ? DOMAIN_DIFFERS_MEMORY : 0) |
                    (c != s.ctx ? DOMAIN_DIFFERS_CONTEXT : 0);
    }
    if (write_exact(verdict_fd, &v, sizeof(v)))
        rc = -1;
    libxl_ctx_free(devices);
    xhv_close(s.c.xch);
    return rc ? 1 : 0;
}

/* The PVM's snapshot for the comparison, in memory the forked secondary shares: the
 * primary fills it while suspended with checkpoint n's state; the secondary reads it
 * once it has applied checkpoint n, before SVM_READY lets the primary take the next. */
static struct snapshot *shared_snapshot_create(xc_interface *xch, uint32_t domid)
{
    xhv_dominfo_t info;
    struct snapshot *snap;
    size_t len;

    if (xhv_domain_info(xch, domid, &info))
        return NULL;
    len = sizeof(*snap) + info.p2m_size * XHV_PAGE_SIZE;
    snap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (snap == MAP_FAILED)
        return NULL;
    snap->p2m_size = info.p2m_size;
    snap->mem = (uint8_t *)(snap + 1);
    snap->ctx_len = 0;
    return snap;
}

static void shared_snapshot_destroy(struct snapshot *snap)
{
    if (snap)
        munmap(snap, sizeof(*snap) + snap->p2m_size * XHV_PAGE_SIZE);
}

/* The primary: libxl's side, and the snapshot it takes at every suspend. */
struct pvm {
    struct ckpt_primary p;         /* first: the ckpt_primary_* callbacks' data */
    struct snapshot *snap;
    struct colo_local_result *res;
};

static int pvm_suspend(void *data)
{
    struct pvm *pv = data;
    int r = ckpt_primary_suspend(&pv->p);

    /* Suspended from here to the resume: the checkpoint's state. */
    if (r == 1 && pv->snap && snapshot_fill(pv->p.xch, pv->p.domid, pv->snap))
        pv->snap->ctx_len = 0;   /* compared as not comparable */
    return r;
}

/* After postcopy, once per checkpoint: its downtime is known (if it had one). */
static int pvm_wait_checkpoint(void *data)
{
    struct pvm *pv = data;
    unsigned int n = pv->p.downtimes;

    if (n && n <= COLO_LOCAL_MAX_DOWNTIMES && !pv->res->downtime_ns[n - 1])
        pv->res->downtime_ns[n - 1] = pv->p.downtime_ns_last;
    return ckpt_primary_wait_checkpoint(&pv->p);
}

/* Both guests stopped with checkpoint n's state, the SVM has it: what the primary's
 * packets of the epoch before showed may go out. */
static void pvm_checkpoint_sent(unsigned int n, void *opaque)
{
    struct pvm *pv = opaque;

    if (pv->p.have_proxy && libxl__colo_proxy_checkpoint(pv->p.proxy_fd)) {
        fprintf(stderr, "colo_local: compare proxy lost at checkpoint %u (%s): checkpoints "
                "are periodic only\n", n, strerror(errno));
        pv->p.have_proxy = 0;
    }
}

int colo_local_run(xc_interface *xch, const struct colo_local_opts *opts,
                   struct colo_local_result *res)
{
    int main_sv[2] = { -1, -1 }, back_sv[2] = { -1, -1 };
    int report_pipe[2] = { -1, -1 }, verdict_pipe[2] = { -1, -1 };
    int main_count[2] = { -1, -1 }, back_count[2] = { -1, -1 };
    pid_t svm_pid = -1, main_proxy = -1, back_proxy = -1;
    struct pvm pv = { .p = { .xch = xch, .domid = opts->pvm_domid, .colo = 1,
                             .interval_ms = opts->interval_ms,
                             .max_checkpoints = opts->checkpoints,
                             .have_proxy = opts->have_proxy, .proxy_fd = opts->proxy_fd,
                             .checkpoint_sent = pvm_checkpoint_sent },
                      .res = res };
    struct ckpt_primary *p = &pv.p;
    struct save_callbacks cb = {
        .suspend = pvm_suspend, .checkpoint = ckpt_primary_checkpoint,
        .postcopy = ckpt_primary_postcopy, .wait_checkpoint = pvm_wait_checkpoint,
        /* not staged with a proxy: the checkpoint's packets are released while the
         * primary is still stopped, before it sends those of the next epoch */
        .resume_staged = opts->send_suspended || opts->compare_fn || opts->have_proxy
                             ? NULL : ckpt_primary_resume_staged,
        .staging_mib = opts->staging_mib, .data = &pv,
    };
    struct record_proxy_spec main_spec = { .raw_prefix = sizeof(struct sr_ihdr) + sizeof(struct sr_dhdr) };
    struct record_proxy_spec back_spec = { .drop_dirty_list = opts->drop_dirty_list };
    int proxies = opts->drop_dirty_list || opts->count_records ||
                  opts->cut_channel != COLO_CUT_NONE;
    struct colo_checkpoint_report r;
    struct svm_verdict v;
    void (*old_sigpipe)(int);
    int status;

    memset(res, 0, sizeof(*res));
    pv.p.opaque = &pv;
    res->save_rc = res->restore_rc = -1;
    res->failover_phase = -1;
    res->failover_exact = -1;
    if (opts->cut_channel == COLO_CUT_MAIN || opts->cut_channel == COLO_CUT_BACK) {
        struct record_proxy_spec *cut = opts->cut_channel == COLO_CUT_MAIN ? &main_spec : &back_spec;

        cut->cut = 1;
        cut->cut_records = opts->cut_records;
        cut->cut_inside = opts->cut_inside;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, main_sv) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, back_sv) ||
        pipe2(report_pipe, O_CLOEXEC) || pipe2(verdict_pipe, O_CLOEXEC) ||
        (proxies && (pipe2(main_count, O_CLOEXEC) || pipe2(back_count, O_CLOEXEC))))
        goto out;
    if (opts->compare && !opts->compare_fn) {
        pv.snap = shared_snapshot_create(xch, opts->pvm_domid);
        if (!pv.snap)
            goto out;
    }
    old_sigpipe = signal(SIGPIPE, SIG_IGN);

    svm_pid = fork();
    if (svm_pid < 0)
        goto out;
    if (svm_pid == 0) {
        close(main_sv[0]);
        close(back_sv[0]);
        close(report_pipe[0]);
        close(verdict_pipe[0]);
        _exit(run_secondary(xhv_backend_name(xch), opts, pv.snap, main_sv[1], back_sv[1],
                            report_pipe[1], verdict_pipe[1]));
    }
    close(main_sv[1]);
    close(back_sv[1]);
    close(report_pipe[1]);
    close(verdict_pipe[1]);
    main_sv[1] = back_sv[1] = report_pipe[1] = verdict_pipe[1] = -1;

    p->main_fd = main_sv[0];
    p->recv_fd = back_sv[0];
    if (proxies) {
        int others[] = { report_pipe[0], verdict_pipe[0], main_count[0], back_count[0],
                         back_sv[0], main_sv[0] };

        main_proxy = record_proxy_start(&p->main_fd, 1, &main_spec, main_count[1], others, 6);
        others[5] = p->main_fd;
        back_proxy = record_proxy_start(&p->recv_fd, 0, &back_spec, back_count[1], others, 6);
        close(main_count[1]);
        close(back_count[1]);
        main_count[1] = back_count[1] = -1;
        main_sv[0] = p->main_fd;
        back_sv[0] = p->recv_fd;
        if (main_proxy < 0 || back_proxy < 0)
            goto out;
    }

    res->save_rc = xc_domain_save(xch, p->main_fd, opts->pvm_domid, XCFLAGS_LIVE, &cb,
                                  XC_STREAM_COLO, p->recv_fd);
    res->downtimes = p->downtimes;
    res->downtime_ns_total = p->downtime_ns_total;
    res->downtime_ns_max = p->downtime_ns_max;
    res->staged = p->staged;
    res->proxy_requests = p->proxy_requests;
    /* The primary stops: the secondary sees the stream end and fails over. */
    close(main_sv[0]);
    main_sv[0] = -1;
    while (read_exact(report_pipe[0], &r, sizeof(r)) == 0) {
        res->reports++;
        if (opts->report)
            opts->report(&r, opts->opaque);
    }
    if (read_exact(verdict_pipe[0], &v, sizeof(v)) == 0) {
        res->failover_phase = v.phase;
        res->failover_exact = v.exact;
        res->failover_differs = v.differs;
        res->failover_checkpoint = v.checkpoint;
    }
    waitpid(svm_pid, &status, 0);
    res->restore_rc = WIFEXITED(status) ? -WEXITSTATUS(status) : -128;
    close(back_sv[0]);
    back_sv[0] = -1;
    if (main_proxy > 0)
        waitpid(main_proxy, &status, 0);
    if (back_proxy > 0)
        waitpid(back_proxy, &status, 0);
    record_proxy_count(main_count[0], &res->main_records);
    record_proxy_count(back_count[0], &res->back_records);
    signal(SIGPIPE, old_sigpipe);
 out:
    for (int *fd = (int[]){ main_sv[0], back_sv[0], report_pipe[0], verdict_pipe[0],
                            main_count[0], main_count[1], back_count[0], back_count[1] },
             *end = fd + 8; fd < end; fd++)
        if (*fd >= 0)
            close(*fd);
    shared_snapshot_destroy(pv.snap);
    return res->save_rc == 0 && res->restore_rc == 0 ? 0 : -1;
}
