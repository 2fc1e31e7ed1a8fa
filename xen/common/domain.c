/* Domain lifecycle, memory (populate, p2m, foreign mapping cache), params, TSC. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simxen-shared.h"
#include "simxen-net.h"

#ifndef SIMXEN_VCPU_DEFAULT
#define SIMXEN_VCPU_DEFAULT "simxen-vcpu"
#endif

static int lookup_locked(simxen_t *sx, const char *name, uint32_t *domid);

static const char *const file_suffixes[] = { "mem", "p2m", "log", "console", "net" };

static void remove_files(simxen_t *sx, uint32_t domid)
{
    char path[512];

    for (size_t i = 0; i < sizeof(file_suffixes) / sizeof(file_suffixes[0]); i++)
        if (!simxen_path(sx, domid, file_suffixes[i], path, sizeof(path)))
            unlink(path);
}

/* ---- mapping cache --------------------------------------------------------------------- */

static void map_release(struct simxen_map *m)
{
    if (m->mem)
        munmap(m->mem, m->mem_len);
    if (m->p2m)
        munmap(m->p2m, m->p2m_len);
    if (m->pagemap_fd >= 0)
        close(m->pagemap_fd);
    memset(m, 0, sizeof(*m));
    m->pagemap_fd = -1;
}

void simxen_map_drop(simxen_t *sx, uint32_t domid)
{
    pthread_mutex_lock(&sx->cache_lock);
    for (size_t i = 0; i < sx->nmaps; i++) {
        if (sx->maps[i].domid == domid) {
            map_release(&sx->maps[i]);
            sx->maps[i] = sx->maps[--sx->nmaps];
            break;
        }
    }
    pthread_mutex_unlock(&sx->cache_lock);
}

static void *map_file(simxen_t *sx, uint32_t domid, const char *suffix, size_t len)
{
    char path[512];
    struct stat st;
    void *p;
    int fd;

    if (simxen_path(sx, domid, suffix, path, sizeof(path)))
        return NULL;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) || (uint64_t)st.st_size != len) {
        close(fd);
        errno = EIO;
        return NULL;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

int simxen_map_get(simxen_t *sx, uint32_t domid, struct simxen_map *out)
{
    struct simxen_slot *s;
    struct simxen_map m, *nm;
    uint64_t gen, p2m_size;

    simxen_lock(sx);
    s = simxen_find(sx, domid);
    gen = s ? s->gen : 0;
    p2m_size = s ? s->p2m_size : 0;
    simxen_unlock(sx);
    if (!s) {
        errno = ESRCH;
        return -1;
    }
    pthread_mutex_lock(&sx->cache_lock);
    for (size_t i = 0; i < sx->nmaps; i++) {
        if (sx->maps[i].domid != domid)
            continue;
        if (sx->maps[i].gen == gen) {
            *out = sx->maps[i];
            pthread_mutex_unlock(&sx->cache_lock);
            return 0;
        }
        map_release(&sx->maps[i]);
        sx->maps[i] = sx->maps[--sx->nmaps];
        break;
    }
    memset(&m, 0, sizeof(m));
    m.pagemap_fd = -1;
    m.domid = domid;
    m.gen = gen;
    m.p2m_size = p2m_size;
    m.mem_len = p2m_size << 12;
    m.p2m_len = simxen_p2m_bytes(p2m_size);
    m.mem = map_file(sx, domid, "mem", m.mem_len);
    m.p2m = m.mem ? map_file(sx, domid, "p2m", m.p2m_len) : NULL;
    nm = m.p2m ? realloc(sx->maps, (sx->nmaps + 1) * sizeof(*nm)) : NULL;
    if (!nm) {
        int e = errno ? errno : ENOMEM;
        map_release(&m);
        pthread_mutex_unlock(&sx->cache_lock);
        errno = e;
        return -1;
    }
    sx->maps = nm;
    sx->maps[sx->nmaps++] = m;
    *out = m;
    pthread_mutex_unlock(&sx->cache_lock);
    return 0;
}

/* ---- create / destroy ------------------------------------------------------------------ */

static void read_log_tail(simxen_t *sx, uint32_t domid, char *buf, size_t len)
{
    char path[512], tmp[512];
    ssize_t n;
    off_t sz;
    int fd;

    buf[0] = 0;
    if (simxen_path(sx, domid, "log", path, sizeof(path)))
        return;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    sz = lseek(fd, 0, SEEK_END);
    if (sz > (off_t)sizeof(tmp) - 1)
        lseek(fd, sz - (off_t)(sizeof(tmp) - 1), SEEK_SET);
    else
        lseek(fd, 0, SEEK_SET);
    n = read(fd, tmp, sizeof(tmp) - 1);
    close(fd);
    if (n <= 0)
        return;
    tmp[n] = 0;
    while (n > 0 && tmp[n - 1] == '\n')
        tmp[--n] = 0;
    {
        const char *last = strrchr(tmp, '\n');
        size_t l;

        last = last ? last + 1 : tmp;
        l = strlen(last);
        if (l >= len)
            l = len - 1;
        memcpy(buf, last, l);
        buf[l] = 0;
    }
}

static int spawn_vcpu(simxen_t *sx, uint32_t domid, int *vpid)
{
    const char *path = getenv("SIMXEN_VCPU");
    char logpath[512], domstr[16];
    int pfd[2], status;
    pid_t c, g = -1;
    ssize_t n;

    if (!path || !*path)
        path = SIMXEN_VCPU_DEFAULT;
    if (simxen_path(sx, domid, "log", logpath, sizeof(logpath)))
        return -1;
    snprintf(domstr, sizeof(domstr), "%u", domid);
    if (pipe2(pfd, O_CLOEXEC))
        return -1;
    c = fork();
    if (c < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (c == 0) {
        /* intermediate child: new session, fork the daemon, report its pid, exit */
        setsid();
        g = fork();
        if (g == 0) {
            int nfd = open("/dev/null", O_RDWR);
            int lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);

            if (nfd < 0 || lfd < 0)
                _exit(126);
            dup2(nfd, 0);
            dup2(lfd, 1);
            dup2(lfd, 2);
            close_range(3, ~0U, 0);
            signal(SIGPIPE, SIG_DFL);
            execl(path, "simxen-vcpu", sx->dir, domstr, (char *)NULL);
            {
                static const char msg[] = "simxen: cannot exec the vcpu runner "
                                          "(set SIMXEN_VCPU)\n";
                if (write(2, msg, sizeof(msg) - 1) < 0)
                    _exit(127);
            }
            _exit(127);
        }
        if (write(pfd[1], &g, sizeof(g)) != sizeof(g))
            _exit(1);
        _exit(g > 0 ? 0 : 1);
    }
    close(pfd[1]);
    n = read(pfd[0], &g, sizeof(g));
    close(pfd[0]);
    while (waitpid(c, &status, 0) < 0 && errno == EINTR)
        ;
    if (n != sizeof(g) || g <= 0) {
        errno = EAGAIN;
        return -1;
    }
    *vpid = g;
    return 0;
}

static void kill_vcpu(int pid, uint64_t starttime)
{
    uint64_t deadline;

    if (pid <= 0 || !simxen_pid_alive(pid, starttime))
        return;
    kill(pid, SIGKILL);
    deadline = simxen_now_ns() + 5000000000ULL;
    while (simxen_pid_alive(pid, starttime) && simxen_now_ns() < deadline) {
        waitpid(pid, NULL, WNOHANG);     /* in case it is our child after all */
        usleep(1000);
    }
}

int simxen_domain_destroy(simxen_t *sx, uint32_t domid)
{
    struct simxen_slot *s;
    uint64_t gen, start;
    int pid;

    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (!s) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    s->dying = 1;
    gen = s->gen;
    pid = s->vcpu_pid;
    start = s->vcpu_starttime;
    atomic_fetch_add(&s->ctl_seq, 1);
    simxen_futex_wake(&s->ctl_seq);
    simxen_unlock(sx);

    kill_vcpu(pid, start);
    simxen_map_drop(sx, domid);
    remove_files(sx, domid);

    simxen_lock(sx);
    if (s->in_use && s->domid == domid && s->gen == gen)
        memset(s, 0, sizeof(*s));
    simxen_unlock(sx);
    return 0;
}

static int check_config(const simxen_domain_config_t *cfg, char *err, size_t errlen)
{
    const struct sim_program *prog = NULL;

    if (memchr(cfg->name, 0, sizeof(cfg->name)) == NULL ||
        memchr(cfg->program, 0, sizeof(cfg->program)) == NULL) {
        snprintf(err, errlen, "name/program not NUL-terminated");
        return -1;
    }
    if (cfg->max_pages == 0 || cfg->max_pages > SIMXEN_MAX_PAGES) {
        snprintf(err, errlen, "max_pages %llu out of range (1..%llu)",
                 (unsigned long long)cfg->max_pages, (unsigned long long)SIMXEN_MAX_PAGES);
        return -1;
    }
    if (cfg->program[0]) {
        prog = sim_program_by_name(cfg->program);
        if (!prog) {
            snprintf(err, errlen, "unknown guest program '%s'", cfg->program);
            return -1;
        }
        if (sim_check_common_args(cfg->prog_args) ||
            prog->check_args(cfg->prog_args, cfg->max_pages)) {
            snprintf(err, errlen, "bad arguments for program '%s'", cfg->program);
            return -1;
        }
    }
    return 0;
}

static int wait_started(simxen_t *sx, struct simxen_slot *s, uint64_t gen, int pid,
                        char *err, size_t errlen)
{
    uint64_t deadline = simxen_now_ns() + SIMXEN_START_TIMEOUT_MS * 1000000ULL;

    for (;;) {
        uint32_t st = atomic_load(&s->vcpu_state);
        uint64_t start;

        if (st == VCPU_RUNNING || st == VCPU_STOPPED)
            return 0;
        if (st == VCPU_FAILED) {
            simxen_lock(sx);
            if (s->gen == gen)
                snprintf(err, errlen, "vcpu failed to start: %s", s->vcpu_error);
            errno = s->vcpu_errno ? (int)s->vcpu_errno : EIO;
            simxen_unlock(sx);
            return -1;
        }
        simxen_lock(sx);
        start = s->vcpu_starttime;
        simxen_unlock(sx);
        if (!simxen_pid_alive(pid, start)) {
            /* it may have just reported; look once more */
            st = atomic_load(&s->vcpu_state);
            if (st == VCPU_RUNNING || st == VCPU_STOPPED || st == VCPU_FAILED)
                continue;
            errno = ESRCH;
            return -1;
        }
        if (simxen_now_ns() > deadline) {
            snprintf(err, errlen, "vcpu did not become ready in %d ms", SIMXEN_START_TIMEOUT_MS);
            errno = ETIMEDOUT;
            return -1;
        }
        simxen_futex_wait(&s->vcpu_state, st, 20);
    }
}

int simxen_domain_create(simxen_t *sx, const simxen_domain_config_t *cfg, uint32_t *domid,
                         char *err, size_t errlen)
{
    char dummy[8], path[512], tail[300];
    struct simxen_slot *s = NULL;
    uint64_t p2m_size, gen, *p2m;
    uint32_t id = 0;
    int fd, pid, e;

    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = 0;
    if (!cfg || !domid || check_config(cfg, err, errlen)) {
        errno = EINVAL;
        return -1;
    }
    p2m_size = cfg->max_pages + SIMXEN_SPECIAL_PAGES;

    simxen_lock(sx);
    if (cfg->name[0] && lookup_locked(sx, cfg->name, &id) == 0) {
        simxen_unlock(sx);
        snprintf(err, errlen, "a domain named '%s' exists (domid %u)", cfg->name, id);
        errno = EEXIST;
        return -1;
    }
    for (int i = 0; i < SIMXEN_NSLOTS && !s; i++)
        if (!sx->sh->slots[i].in_use)
            s = &sx->sh->slots[i];
    if (!s) {
        simxen_unlock(sx);
        snprintf(err, errlen, "all %d domain slots in use", SIMXEN_NSLOTS);
        errno = ENOSPC;
        return -1;
    }
    for (unsigned tries = 0; tries <= SIMXEN_DOMID_MAX; tries++) {
        id = sx->sh->next_domid;
        if (id == 0 || id > SIMXEN_DOMID_MAX)
            id = 1;
        sx->sh->next_domid = id + 1;
        if (!simxen_find(sx, id))
            break;
    }
    memset(s, 0, sizeof(*s));
    s->domid = id;
    s->gen = gen = sx->sh->next_gen++;
    memcpy(s->name, cfg->name, sizeof(s->name));
    s->max_pages = cfg->max_pages;
    s->p2m_size = p2m_size;
    memcpy(s->program, cfg->program, sizeof(s->program));
    memcpy(s->prog_args, cfg->prog_args, sizeof(s->prog_args));
    /* Host-local input: the config's value, mixed with this host's own
     * ($SIMXEN_HOST_INPUT of the creating process), so that the same guest on two
     * hosts can see different input. */
    s->host_input = cfg->host_input;
    {
        const char *hi = getenv("SIMXEN_HOST_INPUT");

        if (hi && *hi)
            s->host_input ^= strtoull(hi, NULL, 0);
    }
    s->pause_count = cfg->start_paused ? 1 : 0;
    s->params[SIMXEN_PARAM_STORE_PFN] = p2m_size - 1;
    s->params[SIMXEN_PARAM_CONSOLE_PFN] = p2m_size - 2;
    s->tsc_khz = 2000000;
    atomic_store(&s->want_stop, s->pause_count ? 1 : 0);
    atomic_store(&s->stop_gen, 1);
    atomic_store(&s->vcpu_state, VCPU_STARTING);
    s->in_use = 1;
    simxen_unlock(sx);

    /* memory and p2m files */
    remove_files(sx, id);       /* stale files of an earlier incarnation of this domid */
    if (simxen_path(sx, id, "mem", path, sizeof(path)))
        goto fail_errno;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)(p2m_size << 12))) {
        e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    if (simxen_path(sx, id, "p2m", path, sizeof(path)))
        goto fail_errno;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)simxen_p2m_bytes(p2m_size))) {
        e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    p2m = mmap(NULL, simxen_p2m_bytes(p2m_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p2m == MAP_FAILED)
        goto fail_errno;
    if (cfg->program[0]) {
        /* a program domain: all RAM and the special pages are populated */
        for (uint64_t w = 0; w < p2m_size / 64; w++)
            p2m[w] = ~0ULL;
        if (p2m_size % 64)
            p2m[p2m_size / 64] = (1ULL << (p2m_size % 64)) - 1;
    }
    munmap(p2m, simxen_p2m_bytes(p2m_size));
    /* the network device's transmit ring (simxen-net.h) */
    if (simxen_net_create(sx->dir, id)) {
        snprintf(err, errlen, "cannot create the network ring: %s", strerror(errno));
        goto fail;
    }
    simxen_lock(sx);
    s->nr_pages = cfg->program[0] ? p2m_size : 0;
    simxen_unlock(sx);

    if (spawn_vcpu(sx, id, &pid)) {
        snprintf(err, errlen, "cannot spawn the vcpu process: %s", strerror(errno));
        goto fail;
    }
    simxen_lock(sx);
    if (s->vcpu_pid == 0)
        s->vcpu_pid = pid;
    if (s->vcpu_starttime == 0)
        s->vcpu_starttime = simxen_pid_starttime(pid);
    simxen_unlock(sx);
    if (wait_started(sx, s, gen, pid, err, errlen)) {
        e = errno;
        if (!err[0] || e == ESRCH) {
            read_log_tail(sx, id, tail, sizeof(tail));
            snprintf(err, errlen, "vcpu process died during start-up: %s",
                     tail[0] ? tail : "(no output)");
        }
        errno = e;
        goto fail;
    }
    if (cfg->start_paused) {
        /* synchronous like pause: the vcpu has stopped before we return */
        uint64_t deadline = simxen_now_ns() + SIMXEN_PAUSE_TIMEOUT_MS * 1000000ULL;
        for (;;) {
            uint32_t a = atomic_load(&s->ack_gen);
            if ((int32_t)(a - atomic_load(&s->stop_gen)) >= 0)
                break;
            if (simxen_now_ns() > deadline || !simxen_pid_alive(pid, 0)) {
                snprintf(err, errlen, "vcpu did not stop after start-up");
                errno = ETIMEDOUT;
                goto fail;
            }
            simxen_futex_wait(&s->ack_gen, a, 20);
        }
    }
    *domid = id;
    return 0;

fail_errno:
    snprintf(err, errlen, "%s", strerror(errno));
fail:
    e = errno;
    simxen_domain_destroy(sx, id);
    errno = e;
    return -1;
}

/* ---- queries --------------------------------------------------------------------------- */

static void fill_info(const struct simxen_slot *s, simxen_dominfo_t *info)
{
    int alive = simxen_pid_alive(s->vcpu_pid, s->vcpu_starttime);

    memset(info, 0, sizeof(*info));
    info->domid = s->domid;
    info->paused = s->pause_count > 0;
    info->shutdown = s->shutdown || !alive;
    info->shutdown_reason = alive ? s->shutdown_reason : SIMXEN_SHUTDOWN_crash;
    info->dying = s->dying;
    info->hvm = 1;
    /* runnable: not paused, not shut down, vcpu alive (it may still be waking up) */
    info->running = alive && !info->paused && !s->shutdown;
    info->max_pages = s->max_pages;
    info->nr_pages = s->nr_pages;
    info->p2m_size = s->p2m_size;
    memcpy(info->name, s->name, sizeof(info->name));
    info->name[sizeof(info->name) - 1] = 0;
}

int simxen_domain_info(simxen_t *sx, uint32_t domid, simxen_dominfo_t *info)
{
    struct simxen_slot *s;

    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (s)
        fill_info(s, info);
    simxen_unlock(sx);
    if (!s) {
        errno = ESRCH;
        return -1;
    }
    return 0;
}

static int cmp_domid(const void *a, const void *b)
{
    const simxen_dominfo_t *x = a, *y = b;
    return x->domid < y->domid ? -1 : x->domid > y->domid;
}

int simxen_domain_list(simxen_t *sx, simxen_dominfo_t *info, int max)
{
    simxen_dominfo_t all[SIMXEN_NSLOTS];
    int n = 0;

    if (max < 0 || (max > 0 && !info)) {
        errno = EINVAL;
        return -1;
    }
    simxen_lock(sx);
    for (int i = 0; i < SIMXEN_NSLOTS; i++) {
        struct simxen_slot *s = &sx->sh->slots[i];
        if (s->in_use && simxen_find(sx, s->domid) == s)
            fill_info(s, &all[n++]);
    }
    simxen_unlock(sx);
    qsort(all, n, sizeof(all[0]), cmp_domid);
    memcpy(info, all, sizeof(all[0]) * (n < max ? n : max));
    return n;
}

/* Caller holds the lock. */
static int lookup_locked(simxen_t *sx, const char *name, uint32_t *domid)
{
    if (!name || !*name) {
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < SIMXEN_NSLOTS; i++) {
        struct simxen_slot *s = &sx->sh->slots[i];
        if (s->in_use && !s->dying && !strncmp(s->name, name, sizeof(s->name))) {
            *domid = s->domid;
            return 0;
        }
    }
    errno = ESRCH;
    return -1;
}

int simxen_domain_lookup(simxen_t *sx, const char *name, uint32_t *domid)
{
    int rc;

    simxen_lock(sx);
    rc = lookup_locked(sx, name, domid);
    simxen_unlock(sx);
    return rc;
}

int simxen_domain_rename(simxen_t *sx, uint32_t domid, const char *name)
{
    struct simxen_slot *s;
    uint32_t other;

    if (!name || strlen(name) >= sizeof(s->name)) {
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
    if (name[0] && lookup_locked(sx, name, &other) == 0 && other != domid) {
        simxen_unlock(sx);
        errno = EEXIST;
        return -1;
    }
    memset(s->name, 0, sizeof(s->name));
    memcpy(s->name, name, strlen(name));
    simxen_unlock(sx);
    return 0;
}

/* ---- memory ---------------------------------------------------------------------------- */

int simxen_populate(simxen_t *sx, uint32_t domid, const uint64_t *pfns, size_t n)
{
    struct simxen_map m;
    struct simxen_slot *s;
    uint64_t added = 0;

    if (n && !pfns) {
        errno = EINVAL;
        return -1;
    }
    if (simxen_map_get(sx, domid, &m))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pfns[i] >= m.p2m_size) {
            errno = EINVAL;
            return -1;
        }
    simxen_lock(sx);
    s = simxen_find(sx, domid);
    if (!s || s->gen != m.gen) {
        simxen_unlock(sx);
        errno = ESRCH;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t bit = 1ULL << (pfns[i] % 64);
        uint64_t old = __atomic_fetch_or(&m.p2m[pfns[i] / 64], bit, __ATOMIC_RELAXED);
        if (!(old & bit))
            added++;
    }
    s->nr_pages += added;
    if (s->nr_pages > s->p2m_size)
        s->nr_pages = s->p2m_size;
    simxen_unlock(sx);
    return 0;
}

int simxen_map_domain(simxen_t *sx, uint32_t domid, uint8_t **mem, const uint64_t **p2m,
                      uint64_t *p2m_size)
{
    struct simxen_map m;

    if (simxen_map_get(sx, domid, &m))
        return -1;
    if (mem)
        *mem = m.mem;
    if (p2m)
        *p2m = m.p2m;
    if (p2m_size)
        *p2m_size = m.p2m_size;
    return 0;
}

int simxen_pfn_types(simxen_t *sx, uint32_t domid, size_t n, const uint64_t *pfns,
                     uint32_t *types)
{
    struct simxen_map m;

    if (n && (!pfns || !types)) {
        errno = EINVAL;
        return -1;
    }
    if (simxen_map_get(sx, domid, &m))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int pop = pfns[i] < m.p2m_size && simxen_p2m_test(m.p2m, pfns[i]);

        types[i] = pop ? SIMXEN_PFINFO_NOTAB : SIMXEN_PFINFO_XTAB;
    }
    return 0;
}

int simxen_map_pages(simxen_t *sx, uint32_t domid, const uint64_t *pfns, void **pages,
                     int *errs, size_t n)
{
    struct simxen_map m;

    if (n && (!pfns || !pages)) {
        errno = EINVAL;
        return -1;
    }
    if (simxen_map_get(sx, domid, &m))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int e = 0;

        if (pfns[i] >= m.p2m_size)
            e = EINVAL;
        else if (!simxen_p2m_test(m.p2m, pfns[i]))
            e = ENOENT;
        pages[i] = e ? NULL : m.mem + (pfns[i] << 12);
        if (errs)
            errs[i] = e;
    }
    return 0;
}

/* ---- params, TSC, status --------------------------------------------------------------- */

#define WITH_SLOT(body)                                                                  \
    do {                                                                                 \
        struct simxen_slot *s;                                                           \
        simxen_lock(sx);                                                                 \
        s = simxen_find(sx, domid);                                                      \
        if (!s) {                                                                        \
            simxen_unlock(sx);                                                           \
            errno = ESRCH;                                                               \
            return -1;                                                                   \
        }                                                                                \
        body;                                                                            \
        simxen_unlock(sx);                                                               \
        return 0;                                                                        \
    } while (0)

int simxen_param_get(simxen_t *sx, uint32_t domid, uint32_t index, uint64_t *value)
{
    if (index >= SIMXEN_NR_PARAMS || !value) {
        errno = EINVAL;
        return -1;
    }
    WITH_SLOT(*value = s->params[index]);
}

int simxen_param_set(simxen_t *sx, uint32_t domid, uint32_t index, uint64_t value)
{
    if (index >= SIMXEN_NR_PARAMS) {
        errno = EINVAL;
        return -1;
    }
    WITH_SLOT(s->params[index] = value);
}

int simxen_tsc_get(simxen_t *sx, uint32_t domid, uint32_t *mode, uint64_t *elapsed_nsec,
                   uint32_t *khz, uint32_t *incarnation)
{
    WITH_SLOT({
        if (mode) *mode = s->tsc_mode;
        if (elapsed_nsec) *elapsed_nsec = s->tsc_elapsed_nsec;
        if (khz) *khz = s->tsc_khz;
        if (incarnation) *incarnation = s->tsc_incarnation;
    });
}

int simxen_tsc_set(simxen_t *sx, uint32_t domid, uint32_t mode, uint64_t elapsed_nsec,
                   uint32_t khz, uint32_t incarnation)
{
    WITH_SLOT({
        s->tsc_mode = mode;
        s->tsc_elapsed_nsec = elapsed_nsec;
        s->tsc_khz = khz;
        s->tsc_incarnation = incarnation;
    });
}

int simxen_status(simxen_t *sx, uint32_t domid, simxen_status_t *st)
{
    if (!st) {
        errno = EINVAL;
        return -1;
    }
    WITH_SLOT({
        memset(st, 0, sizeof(*st));
        st->steps = atomic_load(&s->steps);
        st->resumes = s->resumes;
        st->selfchecks_passed = s->selfchecks_passed;
        st->selfchecks_failed = s->selfchecks_failed;
        st->first_bad_pfn = s->first_bad_pfn;
        st->vcpu_alive = simxen_pid_alive(s->vcpu_pid, s->vcpu_starttime);
    });
}

int simxen_vcpu_pid(simxen_t *sx, uint32_t domid, int *pid)
{
    WITH_SLOT(*pid = s->vcpu_pid);
}
