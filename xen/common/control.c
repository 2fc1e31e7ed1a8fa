/* Run control (pause/unpause/suspend/resume), HVM context and log-dirty. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "simxen-shared.h"

/* Caller holds the lock.  Recompute want_stop after a change and kick the vcpu. */
static void update_want(struct simxen_slot *s)
{
    uint32_t want = s->pause_count > 0 || s->shutdown || s->suspend_req;

    if (want && !atomic_load(&s->want_stop))
        atomic_fetch_add(&s->stop_gen, 1);
    atomic_store(&s->want_stop, want);
    atomic_fetch_add(&s->ctl_seq, 1);
    simxen_futex_wake(&s->ctl_seq);
}

/* Caller holds the lock: the vcpu is stopped at a step boundary, registers saved. */
static int is_stopped(struct simxen_slot *s)
{
    return atomic_load(&s->want_stop) && atomic_load(&s->vcpu_state) == VCPU_STOPPED &&
           atomic_load(&s->ack_gen) == atomic_load(&s->stop_gen);
}

struct waitref {
    struct simxen_slot *s;
    uint64_t gen;
    int pid;
    uint64_t start;
    uint32_t target;
};

static struct simxen_slot *find_ref(simxen_t *sx, uint32_t domid, struct waitref *w)
{
    struct simxen_slot *s = simxen_find(sx, domid);

    if (!s)
        return NULL;
    w->s = s;
    w->gen = s->gen;
    w->pid = s->vcpu_pid;
    w->start = s->vcpu_starttime;
    return s;
}

/* Wait (without the lock) until the vcpu acknowledged stop generation w->target and,
 * if want_suspend, the domain is shut down for suspend.  Never waits on a dead vcpu. */
static int wait_stopped(simxen_t *sx, struct waitref *w, int want_suspend, long timeout_ms)
{
    uint64_t deadline = simxen_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
    struct simxen_slot *s = w->s;

    for (;;) {
        uint32_t a = atomic_load(&s->ack_gen);
        uint64_t now;

        if ((int32_t)(a - w->target) >= 0) {
            int ok = 1;
            if (want_suspend) {
                simxen_lock(sx);
                ok = s->shutdown && s->shutdown_reason == SIMXEN_SHUTDOWN_suspend &&
                     is_stopped(s);
                simxen_unlock(sx);
            }
            if (ok)
                return 0;
        }
        if (!__atomic_load_n(&s->in_use, __ATOMIC_RELAXED) ||
            __atomic_load_n(&s->gen, __ATOMIC_RELAXED) != w->gen ||
            !simxen_pid_alive(w->pid, w->start)) {
            errno = ESRCH;
            return -1;
        }
        now = simxen_now_ns();
        if (now >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        {
            long ms = (long)((deadline - now) / 1000000ULL) + 1;
            simxen_futex_wait(&s->ack_gen, a, ms < 20 ? ms : 20);
        }
    }
}

/*
 * Ask the vcpu to stop at its next step boundary, as a pause (counted) or a suspend
 * (ends in shutdown "suspend"), and wait until it has; on failure the request is
 * withdrawn so a vcpu that never saw it is not stopped later.
 */
static int stop_vcpu(simxen_t *sx, uint32_t domid, int suspend, unsigned int timeout_ms)
{
    struct waitref w;
    struct simxen_slot *s;
    int e;

    simxen_lock(sx);
    s = find_ref(sx, domid, &w);
    if (!s || !simxen_pid_alive(w.pid, w.start)) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    if (suspend) {
        if (s->shutdown) {
            int already = s->shutdown_reason == SIMXEN_SHUTDOWN_suspend;

            simxen_unlock(sx);
            if (already)
                return 0;
            errno = EINVAL;
            return -1;
        }
        s->suspend_req = 1;
    } else {
        if (s->pause_count >= 0xffff) {
            simxen_unlock(sx);
            errno = EBUSY;
            return -1;
        }
        s->pause_count++;
    }
    update_want(s);
    w.target = atomic_load(&s->stop_gen);
    simxen_unlock(sx);
    if (wait_stopped(sx, &w, suspend, timeout_ms) == 0)
        return 0;
    e = errno;
    simxen_lock(sx);
    if (s->in_use && s->gen == w.gen) {
        if (suspend)
            s->suspend_req = 0;     /* the guest never saw it: withdraw the request */
        else if (s->pause_count > 0)
            s->pause_count--;
        update_want(s);
    }
    simxen_unlock(sx);
    errno = e;
    return -1;
}

int simxen_domain_pause(simxen_t *sx, uint32_t domid)
{
    return stop_vcpu(sx, domid, 0, SIMXEN_PAUSE_TIMEOUT_MS);
}

int simxen_domain_unpause(simxen_t *sx, uint32_t domid)
{
    struct simxen_slot *s;

    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (!s) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    if (s->pause_count == 0) {
        simxen_unlock(sx);
        errno = EINVAL;
        return -1;
    }
    s->pause_count--;
    update_want(s);
    simxen_unlock(sx);
    return 0;
}

int simxen_domain_suspend(simxen_t *sx, uint32_t domid, unsigned int timeout_ms)
{
    return stop_vcpu(sx, domid, 1, timeout_ms);
}

int simxen_domain_resume(simxen_t *sx, uint32_t domid, int fast)
{
    struct simxen_slot *s;

    (void)fast;     /* both run the resume path; the vcpu always reloads its context */
    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (!s) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    if (!s->shutdown || s->shutdown_reason != SIMXEN_SHUTDOWN_suspend) {
        simxen_unlock(sx);
        errno = EINVAL;
        return -1;
    }
    s->shutdown = 0;
    s->shutdown_reason = 0;
    s->resume_pending |= RESUME_PATH;
    update_want(s);
    simxen_unlock(sx);
    return 0;
}

/* ---- context --------------------------------------------------------------------------- */

int simxen_getcontext(simxen_t *sx, uint32_t domid, uint8_t *buf, size_t size)
{
    struct simxen_slot *s;
    int paused_here = 0, len;

    for (;;) {
        simxen_lock(sx);
        s = simxen_find(sx, domid);
        if (!s) {
            simxen_unlock(sx);
            errno = ESRCH;
            return -1;
        }
        len = (int)s->ctx_len;
        if (len == 0) {
            simxen_unlock(sx);
            errno = EAGAIN;     /* vcpu never started */
            return -1;
        }
        if (!buf) {
            simxen_unlock(sx);
            return len;
        }
        if (is_stopped(s) || paused_here)
            break;
        simxen_unlock(sx);
        /* running: take a consistent snapshot as Xen does, by pausing around it */
        if (simxen_domain_pause(sx, domid))
            return -1;
        paused_here = 1;
    }
    if (size < (size_t)len) {
        simxen_unlock(sx);
        if (paused_here)
            simxen_domain_unpause(sx, domid);
        errno = ENOBUFS;
        return -1;
    }
    memcpy(buf, s->ctx, len);
    simxen_unlock(sx);
    if (paused_here)
        simxen_domain_unpause(sx, domid);
    return len;
}

int simxen_setcontext(simxen_t *sx, uint32_t domid, const uint8_t *buf, size_t size)
{
    struct sim_cpu_state cpu;
    struct simxen_slot *s;
    char why[200];

    if (!buf || size == 0 || size > SIMXEN_CTX_MAX) {
        snprintf(sx->last_error, sizeof(sx->last_error), "context size %zu out of range", size);
        errno = EINVAL;
        return -1;
    }
    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (!s) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    if (sim_ctx_decode(buf, size, s->max_pages, &cpu, why, sizeof(why))) {
        simxen_unlock(sx);
        snprintf(sx->last_error, sizeof(sx->last_error), "invalid context: %s", why);
        errno = EINVAL;
        return -1;
    }
    if (!is_stopped(s)) {
        simxen_unlock(sx);
        snprintf(sx->last_error, sizeof(sx->last_error),
                 "setcontext needs a paused (or suspended) domain");
        errno = EBUSY;
        return -1;
    }
    memcpy(s->ctx, buf, size);
    s->ctx_len = (uint32_t)size;
    /* Stored verbatim (getcontext before the vcpu ran returns exactly this blob).
     * Its host_input field is ignored: the vcpu always uses the domain's own, and
     * reports that one in the registers it saves at its next stop. */
    s->ctx_set = 1;
    s->resume_pending |= RESUME_PATH;
    simxen_unlock(sx);
    return 0;
}

/* ---- log-dirty ------------------------------------------------------------------------- */

int simxen_logdirty(simxen_t *sx, uint32_t domid, int op, unsigned long *bitmap,
                    uint64_t nr_pfns, uint64_t *dirty_count)
{
    struct simxen_slot *s;
    uint64_t base, p2m_size, start;
    char path[64];
    int pid, on, fd, e;
    int64_t n;

    if (dirty_count)
        *dirty_count = 0;
    if (op < SIMXEN_LOGDIRTY_ENABLE || op > SIMXEN_LOGDIRTY_CLEAN ||
        ((op == SIMXEN_LOGDIRTY_PEEK || op == SIMXEN_LOGDIRTY_CLEAN) && nr_pfns && !bitmap)) {
        errno = EINVAL;
        return -1;
    }
    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (!s) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    if (op == SIMXEN_LOGDIRTY_OFF)
        s->logdirty_on = 0;
    base = s->map_base;
    p2m_size = s->p2m_size;
    pid = s->vcpu_pid;
    start = s->vcpu_starttime;
    on = s->logdirty_on;
    simxen_unlock(sx);
    if (op == SIMXEN_LOGDIRTY_OFF)
        return 0;
    if (op != SIMXEN_LOGDIRTY_ENABLE && !on) {
        errno = EINVAL;             /* as Xen: peek/clean need log-dirty mode */
        return -1;
    }
    if (!base || (base & 4095) || !simxen_pid_alive(pid, start)) {
        errno = ESRCH;
        return -1;
    }
    snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno = ESRCH;
        return -1;
    }
    n = simxen_scan(fd, base, base + (p2m_size << 12), op != SIMXEN_LOGDIRTY_PEEK,
                    op == SIMXEN_LOGDIRTY_ENABLE ? NULL : bitmap,
                    nr_pfns < p2m_size ? nr_pfns : p2m_size);
    e = errno;
    close(fd);
    if (n < 0 || !simxen_pid_alive(pid, start)) {
        errno = n < 0 && simxen_pid_alive(pid, start) ? e : ESRCH;
        return -1;
    }
    if (op == SIMXEN_LOGDIRTY_ENABLE) {
        simxen_lock(sx);
        if (s->in_use && s->domid == domid)
            s->logdirty_on = 1;
        simxen_unlock(sx);
        return 0;
    }
    if (dirty_count)
        *dirty_count = (uint64_t)n;
    return 0;
}
