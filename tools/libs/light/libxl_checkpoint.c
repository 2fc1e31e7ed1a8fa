#include "libxl_checkpoint.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libxl_colo_proxy.h"
#include "libxl_device.h"
#include "libxl_records.h"
#include "xutil.h"

/* 0 when fd has data (or EOF) within ms (0: no limit); -1 with ETIMEDOUT otherwise. */
static int wait_readable(int fd, unsigned int ms)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)ms * 1000000ULL;

    if (!ms)
        return 0;
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        uint64_t now = clock_now_ns();
        int r;

        if (now >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        r = poll(&pfd, 1, (int)((deadline - now) / 1000000ULL) + 1);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

#define FAIL(who, ...) snprintf((who)->err, sizeof((who)->err), __VA_ARGS__)

/* ---- primary ------------------------------------------------------------------------- */

/* A back-channel record from the secondary, within the timeout (its heartbeat). */
static int expect_svm(struct ckpt_primary *p, uint32_t id, const char *name)
{
    char why[160];

    if (wait_readable(p->recv_fd, p->timeout_ms)) {
        FAIL(p, "secondary lost: no %s within %u ms", name, p->timeout_ms);
        return -1;
    }
    if (libxl__expect_state(p->recv_fd, id, why, sizeof(why))) {
        FAIL(p, "secondary lost: back channel: waiting for %s: %s", name, why);
        return -1;
    }
    return 0;
}

int ckpt_primary_suspend(void *data)
{
    struct ckpt_primary *p = data;

    p->suspended_at = clock_now_ns();
    if (xhv_domain_suspend(p->xch, p->domid, 60000)) {
        FAIL(p, "suspending domain %u: %s", p->domid, strerror(errno));
        return 0;
    }
    if (p->colo && p->svm_running && expect_svm(p, COLO_CHECKPOINT_SVM_SUSPENDED,
                                                "SVM_SUSPENDED"))
        return 0;
    return 1;
}

static int resume_guest(struct ckpt_primary *p)
{
    if (xhv_domain_resume(p->xch, p->domid, 1)) {
        FAIL(p, "resuming domain %u: %s", p->domid, strerror(errno));
        return -1;
    }
    if (p->checkpoints) {
        uint64_t d = clock_now_ns() - p->suspended_at;

        p->downtimes++;
        p->downtime_ns_total += d;
        p->downtime_ns_last = d;
        if (d > p->downtime_ns_max)
            p->downtime_ns_max = d;
    }
    return 0;
}

int ckpt_primary_resume_staged(void *data)
{
    struct ckpt_primary *p = data;

    /* Checkpoint n+1's state is final: the caller's look at it, then the guest runs. */
    if (p->at_checkpoint)
        p->at_checkpoint(p->checkpoints + 1, p->opaque);
    if (resume_guest(p))
        return -1;
    p->resumed_staged = 1;
    p->staged++;
    return 1;
}

int ckpt_primary_postcopy(void *data)
{
    struct ckpt_primary *p = data;

    if (p->colo && expect_svm(p, COLO_CHECKPOINT_SVM_READY, "SVM_READY"))
        return 0;
    if (!p->resumed_staged && p->at_checkpoint)
        p->at_checkpoint(p->checkpoints + 1, p->opaque);
    if (p->checkpoint_sent)
        p->checkpoint_sent(p->checkpoints + 1, p->opaque);
    if (!p->resumed_staged && resume_guest(p))
        return -1;
    p->resumed_staged = 0;
    p->checkpoints++;
    if (p->colo) {
        if (expect_svm(p, COLO_CHECKPOINT_SVM_RESUMED, "SVM_RESUMED"))
            return 0;
        p->svm_running = 1;
    }
    return 1;
}

static int stop_now(struct ckpt_primary *p)
{
    return (p->stop && *p->stop) ||
           (p->max_checkpoints && p->checkpoints >= p->max_checkpoints);
}

int ckpt_primary_checkpoint(void *data)
{
    struct ckpt_primary *p = data;

    /* COLO: after CHECKPOINT, before postcopy; Remus: after postcopy.  Either way the
     * libxl records (no emulator here) end with CHECKPOINT_END. */
    if (libxl__write_checkpoint_end(p->main_fd)) {
        FAIL(p, "writing CHECKPOINT_END: %s", strerror(errno));
        return 0;
    }
    if (p->colo)
        return 1;
    /* Remus: wait for the next checkpoint. */
    if (stop_now(p))
        return 0;
    clock_sleep_ms(p->interval_ms);
    return stop_now(p) ? 0 : 1;
}

/* COLO: the next checkpoint is due when the interval elapsed or the compare proxy asks
 * for one (a packet mismatch, or a packet held too long). */
static void wait_due(struct ckpt_primary *p)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)p->interval_ms * 1000000ULL;

    while (p->have_proxy) {
        uint64_t now = clock_now_ns();
        struct pollfd pfd = { p->proxy_fd, POLLIN, 0 };
        char msg[64];
        int r;

        if (now >= deadline || stop_now(p))
            return;
        r = poll(&pfd, 1, (int)((deadline - now) / 1000000ULL) > 100
                              ? 100 : (int)((deadline - now) / 1000000ULL) + 1);
        if (r <= 0)
            continue;
        if (ctlmsg_recv(p->proxy_fd, msg, sizeof(msg), 1000)) {
            fprintf(stderr, "libxl: COLO proxy lost (%s): checkpoints are periodic only\n",
                    strerror(errno));
            p->have_proxy = 0;
            break;
        }
        if (!strcmp(msg, "DO_CHECKPOINT")) {
            p->proxy_requests++;
            return;
        }
    }
    {
        uint64_t now = clock_now_ns();

        if (now < deadline)
            clock_sleep_ms((unsigned int)((deadline - now) / 1000000ULL));
    }
}

int ckpt_primary_wait_checkpoint(void *data)
{
    struct ckpt_primary *p = data;

    if (stop_now(p))
        return 0;
    wait_due(p);
    if (stop_now(p))
        return 0;
    if (libxl__write_checkpoint_state(p->main_fd, COLO_CHECKPOINT_NEW)) {
        FAIL(p, "writing CHECKPOINT_STATE NEW: %s", strerror(errno));
        return 0;
    }
    return 1;
}

/* ---- secondary ----------------------------------------------------------------------- */

int ckpt_secondary_checkpoint(void *data)
{
    struct ckpt_secondary *s = data;

    /* libxl reads its own records up to CHECKPOINT_END; a broken or stalled stream is a
     * failover. */
    if (wait_readable(s->main_fd, s->timeout_ms)) {
        FAIL(s, "primary lost: no CHECKPOINT_END within %u ms", s->timeout_ms);
        return XGR_CHECKPOINT_FAILOVER;
    }
    if (libxl__read_records_until(s->main_fd, LIBXL_REC_CHECKPOINT_END, s->err, sizeof(s->err)))
        return errno == EBADMSG ? XGR_CHECKPOINT_ERROR : XGR_CHECKPOINT_FAILOVER;
    s->applied++;
    return XGR_CHECKPOINT_SUCCESS;
}

int ckpt_secondary_postcopy(void *data)
{
    struct ckpt_secondary *s = data;

    if (s->after_apply && s->after_apply(s->applied, s->opaque))
        return 0;
    if (libxl__write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_READY)) {
        FAIL(s, "back channel: writing SVM_READY: %s", strerror(errno));
        return 2;
    }
    /* First time: start the SVM; later: resume it into the checkpoint's context. */
    if (s->applied == 1 ? xhv_domain_unpause(s->xch, s->domid)
                        : xhv_domain_resume(s->xch, s->domid, 0)) {
        FAIL(s, "starting the SVM (domain %u): %s", s->domid, strerror(errno));
        return 0;
    }
    s->svm_suspended = 0;
    if (libxl__write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_RESUMED)) {
        FAIL(s, "back channel: writing SVM_RESUMED: %s", strerror(errno));
        return 2;
    }
    return 1;
}

int ckpt_secondary_wait_checkpoint(void *data)
{
    struct ckpt_secondary *s = data;
    char why[160];

    if (wait_readable(s->main_fd, s->timeout_ms)) {
        FAIL(s, "primary lost: no new checkpoint within %u ms", s->timeout_ms);
        return 2;
    }
    if (libxl__expect_state(s->main_fd, COLO_CHECKPOINT_NEW, why, sizeof(why))) {
        FAIL(s, "primary lost: main stream: waiting for CHECKPOINT_STATE NEW: %s", why);
        return 2;
    }
    return 1;
}

int ckpt_secondary_suspend(void *data)
{
    struct ckpt_secondary *s = data;

    /* The checkpoint replaces the SVM's memory, its rings included, and its resume runs
     * the guest's full resume path: its backends must let go and wait for it.  Before
     * the suspend, while the SVM runs: the watch events of the backends' state changes
     * are then read by the guest, not left in its xenstore ring (which the checkpoint
     * replaces) or queued in xenstored behind it. */
    if (s->devices && libxl__devices_reset(s->devices, s->domid)) {
        FAIL(s, "disconnecting the SVM's devices (domain %u): %s", s->domid, strerror(errno));
        return 0;
    }
    if (xhv_domain_suspend(s->xch, s->domid, 60000)) {
        FAIL(s, "suspending the SVM (domain %u): %s", s->domid, strerror(errno));
        return 0;
    }
    s->svm_suspended = 1;
    if (libxl__write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_SUSPENDED)) {
        FAIL(s, "back channel: writing SVM_SUSPENDED: %s", strerror(errno));
        return 2;
    }
    return 1;
}
