/*
 * The vcpu process: maps the guest memory, arms the kernel dirty tracker on it, and
 * runs the guest program one page write per step, stopping at step boundaries when
 * the toolstack asks (pause, suspend).  Registers live here; they are saved into the
 * slot's context blob at every stop and reloaded from it at every continue.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simxen-shared.h"

struct vcpu {
    simxen_t *sx;
    struct simxen_slot *s;
    uint32_t domid;
    uint64_t gen;
    uint8_t *mem;
    size_t mem_len;
    uint64_t max_pages, p2m_size;
    ino_t domains_ino;
    uint64_t last_hk;
    const struct sim_program *prog;
    struct sim_cpu_state cpu;
    struct sim_guest g;
};

static int still_ours(struct vcpu *v)
{
    struct simxen_slot *s = v->s;
    struct stat st;
    char path[512];

    if (!__atomic_load_n(&s->in_use, __ATOMIC_RELAXED) ||
        __atomic_load_n(&s->domid, __ATOMIC_RELAXED) != v->domid ||
        __atomic_load_n(&s->gen, __ATOMIC_RELAXED) != v->gen ||
        __atomic_load_n(&s->dying, __ATOMIC_RELAXED))
        return 0;
    snprintf(path, sizeof(path), "%s/domains", v->sx->dir);
    if (stat(path, &st) || st.st_ino != v->domains_ino)
        return 0;
    return 1;
}

/* Called now and then: exit when the domain (or the whole state dir) went away, so
 * that no orphan vcpu keeps burning CPU. */
static void housekeeping(struct vcpu *v, int force)
{
    uint64_t now = simxen_now_ns();

    if (!force && now - v->last_hk < 500000000ULL)
        return;
    v->last_hk = now;
    if (!still_ours(v)) {
        fprintf(stderr, "simxen-vcpu dom%u: domain gone, exiting\n", v->domid);
        exit(0);
    }
}

static void console(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void console(struct vcpu *v, const char *fmt, ...)
{
    char path[512], line[512];
    va_list ap;
    int fd, n;

    if (simxen_path(v->sx, v->domid, "console", path, sizeof(path)))
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, n) < 0) {
        /* nothing useful to do */
    }
    close(fd);
}

static void save_ctx(struct vcpu *v)
{
    size_t n = sim_ctx_encode(v->s->ctx, sizeof(v->s->ctx), &v->cpu, v->s->tsc_khz);

    v->s->ctx_len = (uint32_t)n;
}

static void crash(struct vcpu *v, const char *why)
{
    struct simxen_slot *s = v->s;

    s->shutdown = 1;
    s->shutdown_reason = SIMXEN_SHUTDOWN_crash;
    s->selfchecks_failed++;
    s->first_bad_pfn = UINT64_MAX;
    atomic_store(&s->want_stop, 1);
    fprintf(stderr, "simxen-vcpu dom%u: guest crashed: %s\n", v->domid, why);
    console(v, "CRASH: %s\n", why);
}

/* Stop at a step boundary: save registers, acknowledge, wait to be continued, then
 * reload registers from the (possibly replaced) context and run the resume path if
 * asked to. */
static void stop_point(struct vcpu *v)
{
    struct simxen_slot *s = v->s;
    uint32_t rp = 0;
    char why[256];

    simxen_lock(v->sx);
    save_ctx(v);
    for (;;) {
        uint32_t want, seq;

        if (!still_ours(v)) {
            simxen_unlock(v->sx);
            housekeeping(v, 1);
            simxen_lock(v->sx);
            continue;
        }
        if (s->suspend_req && s->pause_count == 0 && !s->shutdown) {
            s->shutdown = 1;
            s->shutdown_reason = SIMXEN_SHUTDOWN_suspend;
            s->suspend_req = 0;
        }
        want = s->pause_count > 0 || s->shutdown || s->suspend_req;
        atomic_store(&s->want_stop, want);
        if (want) {
            atomic_store(&s->vcpu_state, VCPU_STOPPED);
            atomic_store(&s->ack_gen, atomic_load(&s->stop_gen));
            simxen_futex_wake(&s->ack_gen);
            simxen_futex_wake(&s->vcpu_state);
            seq = atomic_load(&s->ctl_seq);
            simxen_unlock(v->sx);
            simxen_futex_wait(&s->ctl_seq, seq, 200);
            housekeeping(v, 0);
            simxen_lock(v->sx);
            continue;
        }
        /* continue: VM entry reloads the vcpu state from the context */
        if (sim_ctx_decode(s->ctx, s->ctx_len, v->max_pages, &v->cpu, why, sizeof(why))) {
            crash(v, why);
            continue;
        }
        v->cpu.host_input = s->host_input;      /* host-local, never from the context */
        if (v->cpu.prog_id == SIM_PROG_NONE && !s->ctx_set) {
            crash(v, "unpaused without a vcpu context (empty domain, no setcontext)");
            continue;
        }
        v->prog = sim_program_by_id(v->cpu.prog_id);
        rp = s->resume_pending;
        s->resume_pending = 0;
        if (rp)
            s->resumes++;
        atomic_store(&s->vcpu_state, VCPU_RUNNING);
        simxen_futex_wake(&s->vcpu_state);
        break;
    }
    simxen_unlock(v->sx);
    v->g.args = v->cpu.args;

    if (rp & RESUME_PATH) {
        uint64_t bad = 0;
        int ok;

        if (!v->prog || (v->cpu.args[SIMXEN_ARG_FLAGS] & SIMXEN_PF_NO_SELFCHECK)) {
            console(v, "resume: self-check skipped\n");
            return;
        }
        ok = v->prog->selfcheck(&v->cpu.regs, &v->g, &bad) == 0;
        simxen_lock(v->sx);
        if (ok) {
            s->selfchecks_passed++;
        } else {
            s->selfchecks_failed++;
            s->first_bad_pfn = bad;
        }
        simxen_unlock(v->sx);
        console(v, "resume: %s self-check %s (pc %llu pass %llu%s%llu)\n", v->prog->name,
                ok ? "passed" : "FAILED", (unsigned long long)v->cpu.regs.pc,
                (unsigned long long)v->cpu.regs.pass, ok ? "" : ", first bad pfn ",
                ok ? 0ULL : (unsigned long long)bad);
    }
}

static int fail(struct vcpu *v, int err, const char *why)
{
    fprintf(stderr, "simxen-vcpu dom%u: %s\n", v->domid, why);
    if (v->s) {
        simxen_lock(v->sx);
        if (still_ours(v)) {
            snprintf(v->s->vcpu_error, sizeof(v->s->vcpu_error), "%s", why);
            v->s->vcpu_errno = err;
            atomic_store(&v->s->vcpu_state, VCPU_FAILED);
            simxen_futex_wake(&v->s->vcpu_state);
        }
        simxen_unlock(v->sx);
    }
    return 1;
}

/* After arming: nothing may look written; a write-back of one byte must be seen, and
 * cleaned.  Catches a registration that silently does not track. */
static int verify_tracker(struct vcpu *v, char *why, size_t len)
{
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t start = (uintptr_t)v->mem, end = start + v->mem_len;
    uint64_t last = v->p2m_size - 1;
    volatile uint8_t *b = v->mem + (last << 12);
    int64_t n0, n1, n2, n3;

    if (pm < 0) {
        snprintf(why, len, "open /proc/self/pagemap: %s", strerror(errno));
        return -1;
    }
    n0 = simxen_scan(pm, start, end, 0, NULL, 0);
    *b = *b;
    n1 = simxen_scan(pm, end - 4096, end, 0, NULL, 0);
    n2 = simxen_scan(pm, start, end, 1, NULL, 0);
    n3 = simxen_scan(pm, start, end, 0, NULL, 0);
    close(pm);
    if (n0 != 0 || n1 != 1 || n2 != 1 || n3 != 0) {
        snprintf(why, len, "dirty tracker self-test failed (PAGEMAP_SCAN after arming: %lld "
                 "written, after a write %lld, clean %lld, then %lld; want 0,1,1,0): kernel "
                 "uffd-wp async on shmem is not working", (long long)n0, (long long)n1,
                 (long long)n2, (long long)n3);
        return -1;
    }
    return 0;
}

int simxen_vcpu_main(const char *dir, uint32_t domid)
{
    struct vcpu vv, *v = &vv;
    char path[512], why[512];
    struct stat st;
    int fd, ufd;
    uint32_t tick = 0;
    uint64_t t0 = 0, n0 = 0;

    memset(v, 0, sizeof(*v));
    v->domid = domid;
    v->sx = simxen_open(dir);
    if (!v->sx) {
        fprintf(stderr, "simxen-vcpu dom%u: cannot open state dir %s: %s\n", domid, dir,
                strerror(errno));
        return 1;
    }
    if (fstat(v->sx->fd, &st))
        return 1;
    v->domains_ino = st.st_ino;
    simxen_lock(v->sx);
    v->s = simxen_find(v->sx, domid);
    if (v->s) {
        v->gen = v->s->gen;
        v->max_pages = v->s->max_pages;
        v->p2m_size = v->s->p2m_size;
        v->s->vcpu_pid = getpid();
        v->s->vcpu_starttime = simxen_pid_starttime(getpid());
        v->prog = sim_program_by_name(v->s->program);
        v->cpu.prog_id = v->prog ? v->prog->id : SIM_PROG_NONE;
        if (v->prog)
            snprintf(v->cpu.prog_name, sizeof(v->cpu.prog_name), "%s", v->prog->name);
        memcpy(v->cpu.args, v->s->prog_args, sizeof(v->cpu.args));
        v->cpu.host_input = v->s->host_input;
    }
    simxen_unlock(v->sx);
    if (!v->s) {
        fprintf(stderr, "simxen-vcpu dom%u: no such domain\n", domid);
        return 1;
    }
    if (v->s->program[0] && !v->prog)
        return fail(v, EINVAL, "unknown guest program");

    v->mem_len = v->p2m_size << 12;
    if (simxen_path(v->sx, domid, "mem", path, sizeof(path)))
        return fail(v, errno, "path too long");
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_size != v->mem_len) {
        snprintf(why, sizeof(why), "cannot open guest memory %.400s (or wrong size)", path);
        return fail(v, EIO, why);
    }
    v->mem = mmap(NULL, v->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (v->mem == MAP_FAILED)
        return fail(v, errno, "mmap of guest memory failed");
    madvise(v->mem, v->mem_len, MADV_NOHUGEPAGE);
    ufd = simxen_uffd_wp_register(v->mem, v->mem_len, why, sizeof(why));
    if (ufd < 0)
        return fail(v, ENOTSUP, why);
    if (verify_tracker(v, why, sizeof(why)))
        return fail(v, ENOTSUP, why);

    v->g.mem = v->mem;
    v->g.npages = v->max_pages;
    v->g.host_input = v->cpu.host_input;
    v->g.args = v->cpu.args;
    v->g.net = simxen_net_map(v->sx->dir, domid);   /* NULL: no network device */
    if (v->prog)
        v->prog->init(&v->cpu.regs, &v->g);

    simxen_lock(v->sx);
    if (!still_ours(v)) {
        simxen_unlock(v->sx);
        return 0;
    }
    v->s->map_base = (uintptr_t)v->mem;
    save_ctx(v);
    atomic_store(&v->s->vcpu_state, VCPU_RUNNING);
    simxen_futex_wake(&v->s->vcpu_state);
    simxen_unlock(v->sx);
    fprintf(stderr, "simxen-vcpu dom%u: running '%s' on %llu pages, memory at %p\n", domid,
            v->prog ? v->prog->name : "(none)", (unsigned long long)v->max_pages, v->mem);

    /* Whether started paused or not, the first thing is a pass through the stop
     * point, which also reloads the registers from the slot. */
    stop_point(v);
    v->g.host_input = v->cpu.host_input;
    t0 = simxen_now_ns();
    for (;;) {
        uint64_t max, rate;

        if (atomic_load_explicit(&v->s->want_stop, memory_order_relaxed)) {
            stop_point(v);
            v->g.host_input = v->cpu.host_input;
            t0 = simxen_now_ns();
            n0 = 0;
            continue;
        }
        max = v->cpu.args[SIMXEN_ARG_MAX_STEPS];
        if (!v->prog || (max && v->cpu.regs.count >= max)) {
            uint32_t seq = atomic_load(&v->s->ctl_seq);
            if (!atomic_load(&v->s->want_stop))
                simxen_futex_wait(&v->s->ctl_seq, seq, 200);
            housekeeping(v, 0);
            continue;
        }
        if (v->prog->uses_net && v->g.net && simxen_net_must_wait(v->g.net)) {
            /* transmit ring full, consumer attached: the guest waits (back pressure) */
            uint32_t seq = atomic_load(&v->s->ctl_seq);
            if (!atomic_load(&v->s->want_stop))
                simxen_futex_wait(&v->s->ctl_seq, seq, 1);
            housekeeping(v, 0);
            t0 = simxen_now_ns();
            n0 = 0;
            continue;
        }
        v->prog->step(&v->cpu.regs, &v->g);
        v->cpu.regs.count++;
        atomic_fetch_add_explicit(&v->s->steps, 1, memory_order_relaxed);
        if ((++tick & 1023) == 0)
            housekeeping(v, 0);
        rate = v->cpu.args[SIMXEN_ARG_RATE];
        if (rate) {
            uint64_t target = t0 + (++n0) * 1000000000ULL / rate, now = simxen_now_ns();
            if (target > now + 1000000ULL) {
                uint32_t seq = atomic_load(&v->s->ctl_seq);
                if (!atomic_load(&v->s->want_stop))
                    simxen_futex_wait(&v->s->ctl_seq, seq, (long)((target - now) / 1000000ULL));
                housekeeping(v, 0);
            }
        }
    }
}
