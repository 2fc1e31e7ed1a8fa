/* A Remus pair on one host (see remus_local.h). */
#include "remus_local.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain_compare.h"
#include "libxl_checkpoint.h"
#include "record_proxy.h"
#include "sr_stream_format.h"
#include "xutil.h"

/* The primary at one checkpoint, while suspended: its RAM and the digests over it. */
struct pvm_digest {
    uint64_t *pfns;
    size_t n;
    uint64_t mem, ctx;
    int ok;
};

struct pvm {
    const struct remus_local_opts *opts;
    xc_interface *xch;
    struct pvm_digest d[REMUS_LOCAL_MAX_CHECKPOINTS];
};

static void pvm_at_checkpoint(unsigned int n, void *opaque)
{
    struct pvm *pv = opaque;

    if (pv->opts->check_failover && n >= 1 && n <= REMUS_LOCAL_MAX_CHECKPOINTS) {
        struct pvm_digest *d = &pv->d[n - 1];

        d->ok = !domain_ram_pfns(pv->xch, pv->opts->pvm_domid, &d->pfns, &d->n) &&
                !domain_digest_pfns(pv->xch, pv->opts->pvm_domid, d->pfns, d->n, &d->mem) &&
                !xhv_hvm_state_digest(pv->xch, pv->opts->pvm_domid, &d->ctx);
    }
    if (pv->opts->at_checkpoint)
        pv->opts->at_checkpoint(n, pv->opts->opaque);
}

/* What the secondary tells the primary's process when its restore ended. */
struct svm_end {
    int32_t rc;
    uint32_t applied;
};

static int run_secondary(const char *backend, const struct remus_local_opts *opts,
                         int main_fd, int end_fd)
{
    struct ckpt_secondary s = { .domid = opts->svm_domid, .main_fd = main_fd, .back_fd = -1 };
    struct restore_callbacks cb = { .checkpoint = ckpt_secondary_checkpoint, .data = &s };
    struct svm_end e = { .rc = -1 };
    xen_pfn_t store = 0, console = 0;

    s.xch = xhv_open(backend);
    if (s.xch) {
        e.rc = xc_domain_restore(s.xch, main_fd, opts->svm_domid, opts->store_evtchn, &store,
                                 0, opts->console_evtchn, &console, 0, XC_STREAM_REMUS, &cb, -1);
        e.applied = s.applied;
        xhv_close(s.xch);
    }
    return write_exact(end_fd, &e, sizeof(e)) || e.rc ? 1 : 0;
}

/* The stopped secondary against the primary at the checkpoint it applied last. */
static void failover_verdict(xc_interface *xch, const struct pvm *pv,
                             struct remus_local_result *res)
{
    const struct pvm_digest *d;
    uint64_t m, c;

    if (res->restore_rc || !res->applied || res->applied > REMUS_LOCAL_MAX_CHECKPOINTS)
        return;
    d = &pv->d[res->applied - 1];
    domain_scribble_fault(xch, pv->opts->svm_domid);
    if (!d->ok || domain_digest_pfns(xch, pv->opts->svm_domid, d->pfns, d->n, &m) ||
        xhv_hvm_state_digest(xch, pv->opts->svm_domid, &c))
        return;
    res->failover_differs = (m != d->mem ? DOMAIN_DIFFERS_MEMORY : 0) |
                            (c != d->ctx ? DOMAIN_DIFFERS_CONTEXT : 0);
    res->failover_exact = !res->failover_differs;
}

int remus_local_run(xc_interface *xch, const struct remus_local_opts *opts,
                    struct remus_local_result *res)
{
    int sv[2] = { -1, -1 }, end_pipe[2] = { -1, -1 }, count[2] = { -1, -1 };
    struct pvm *pv = calloc(1, sizeof(*pv));
    struct ckpt_primary p = { .xch = xch, .domid = opts->pvm_domid,
                              .interval_ms = opts->interval_ms,
                              .max_checkpoints = opts->checkpoints,
                              .at_checkpoint = pvm_at_checkpoint, .opaque = pv };
    struct save_callbacks cb = { .suspend = ckpt_primary_suspend,
                                 .postcopy = ckpt_primary_postcopy,
                                 .checkpoint = ckpt_primary_checkpoint, .data = &p };
    struct record_proxy_spec spec = { .raw_prefix = sizeof(struct sr_ihdr) +
                                                    sizeof(struct sr_dhdr),
                                      .cut = opts->cut, .cut_records = opts->cut_records,
                                      .cut_inside = opts->cut_inside };
    int proxy = opts->cut || opts->count_records;
    pid_t svm_pid = -1, proxy_pid = -1;
    void (*old_sigpipe)(int) = SIG_DFL;
    struct svm_end e = { .rc = -1 };
    int status;

    memset(res, 0, sizeof(*res));
    res->save_rc = res->restore_rc = -1;
    res->failover_exact = -1;
    if (!pv || (opts->check_failover && (!opts->checkpoints ||
                                         opts->checkpoints > REMUS_LOCAL_MAX_CHECKPOINTS))) {
        errno = pv ? EINVAL : ENOMEM;
        goto out;
    }
    pv->opts = opts;
    pv->xch = xch;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(end_pipe, O_CLOEXEC) ||
        (proxy && pipe2(count, O_CLOEXEC)))
        goto out;
    old_sigpipe = signal(SIGPIPE, SIG_IGN);
    fflush(NULL);
    svm_pid = fork();
    if (svm_pid < 0)
        goto out;
    if (svm_pid == 0) {
        close(sv[0]);
        close(end_pipe[0]);
        _exit(run_secondary(xhv_backend_name(xch), opts, sv[1], end_pipe[1]));
    }
    close(sv[1]);
    close(end_pipe[1]);
    sv[1] = end_pipe[1] = -1;
    p.main_fd = sv[0];
    if (proxy) {
        int others[] = { end_pipe[0], count[0] };

        proxy_pid = record_proxy_start(&p.main_fd, 1, &spec, count[1], others, 2);
        close(count[1]);
        count[1] = -1;
        sv[0] = p.main_fd;
        if (proxy_pid < 0)
            goto out;
    }
    res->save_rc = xc_domain_save(xch, p.main_fd, opts->pvm_domid, XCFLAGS_LIVE, &cb,
                                  XC_STREAM_REMUS, -1);
    res->checkpoints = p.checkpoints;
    memcpy(res->err, p.err, sizeof(res->err));
    /* The primary stops: the secondary sees the stream end and keeps the last whole
     * checkpoint. */
    close(sv[0]);
    sv[0] = -1;
    if (!read_exact(end_pipe[0], &e, sizeof(e))) {
        res->restore_rc = e.rc ? -1 : 0;
        res->applied = e.applied;
    }
    waitpid(svm_pid, &status, 0);
    if (proxy_pid > 0)
        waitpid(proxy_pid, &status, 0);
    record_proxy_count(count[0], &res->main_records);
    if (opts->check_failover)
        failover_verdict(xch, pv, res);
 out:
    if (svm_pid != -1)
        signal(SIGPIPE, old_sigpipe);
    for (int *fd = (int[]){ sv[0], sv[1], end_pipe[0], end_pipe[1], count[0], count[1] },
             *end = fd + 6; fd < end; fd++)
        if (*fd >= 0)
            close(*fd);
    if (pv)
        for (unsigned int i = 0; i < REMUS_LOCAL_MAX_CHECKPOINTS; i++)
            free(pv->d[i].pfns);
    free(pv);
    return res->save_rc == 0 && res->restore_rc == 0 ? 0 : -1;
}
