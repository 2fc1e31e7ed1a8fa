/* Shared state directory, the `domains` file, its robust mutex and small helpers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "simxen-shared.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static int init_shared_file(const char *dir, const char *final)
{
    char tmp[512];
    struct simxen_shared *sh;
    pthread_mutexattr_t ma;
    int fd, rc = -1;

    snprintf(tmp, sizeof(tmp), "%s/.domains.tmp.%d", dir, (int)getpid());
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, sizeof(*sh)))
        goto out;
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED)
        goto out;
    memset(sh, 0, sizeof(*sh));
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&sh->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    sh->nslots = SIMXEN_NSLOTS;
    sh->size = sizeof(*sh);
    sh->next_domid = 1;
    sh->next_gen = 1;
    sh->version = SIMXEN_VERSION;
    __atomic_store_n(&sh->magic, SIMXEN_MAGIC, __ATOMIC_RELEASE);
    munmap(sh, sizeof(*sh));
    /* link() is atomic and fails if someone else won the race: then use theirs. */
    if (link(tmp, final) == 0 || errno == EEXIST)
        rc = 0;
out:
    close(fd);
    unlink(tmp);
    return rc;
}

simxen_t *simxen_open(const char *dir)
{
    simxen_t *sx;
    char path[600];
    struct statfs sfs;
    struct stat st;
    int fd = -1, saved;

    if (!dir || !*dir)
        dir = getenv("SIMXEN_DIR");
    if (!dir || !*dir)
        dir = SIMXEN_DEFAULT_DIR;
    if (strlen(dir) >= sizeof(sx->dir) - 32) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    if (mkdir(dir, 0700) && errno != EEXIST)
        return NULL;
    if (statfs(dir, &sfs))
        return NULL;
    if (sfs.f_type != TMPFS_MAGIC) {
        fprintf(stderr, "simxen: %s is not on tmpfs/shmem (needed for userfaultfd-wp "
                "on shared memory)\n", dir);
        errno = ENOTSUP;
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/domains", dir);
    for (int tries = 0; tries < 3; tries++) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT)
            break;
        if (init_shared_file(dir, path))
            return NULL;
    }
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) || (size_t)st.st_size != sizeof(struct simxen_shared)) {
        fprintf(stderr, "simxen: %s has an unexpected size (stale state from another "
                "build?  remove the directory)\n", path);
        close(fd);
        errno = EPROTO;
        return NULL;
    }
    sx = calloc(1, sizeof(*sx));
    if (!sx) {
        close(fd);
        return NULL;
    }
    snprintf(sx->dir, sizeof(sx->dir), "%s", dir);
    sx->fd = fd;
    sx->sh = mmap(NULL, sizeof(struct simxen_shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sx->sh == MAP_FAILED)
        goto fail;
    if (__atomic_load_n(&sx->sh->magic, __ATOMIC_ACQUIRE) != SIMXEN_MAGIC ||
        sx->sh->version != SIMXEN_VERSION || sx->sh->nslots != SIMXEN_NSLOTS ||
        sx->sh->size != sizeof(struct simxen_shared)) {
        fprintf(stderr, "simxen: %s: bad magic/version/layout\n", path);
        munmap(sx->sh, sizeof(struct simxen_shared));
        errno = EPROTO;
        goto fail;
    }
    pthread_mutex_init(&sx->cache_lock, NULL);
    return sx;
fail:
    saved = errno;
    close(fd);
    free(sx);
    errno = saved;
    return NULL;
}

void simxen_close(simxen_t *sx)
{
    if (!sx)
        return;
    for (size_t i = 0; i < sx->nmaps; i++) {
        struct simxen_map *m = &sx->maps[i];
        if (m->mem)
            munmap(m->mem, m->mem_len);
        if (m->p2m)
            munmap(m->p2m, m->p2m_len);
        if (m->pagemap_fd >= 0)
            close(m->pagemap_fd);
    }
    free(sx->maps);
    munmap(sx->sh, sizeof(struct simxen_shared));
    close(sx->fd);
    pthread_mutex_destroy(&sx->cache_lock);
    free(sx);
}

const char *simxen_dir(simxen_t *sx)
{
    return sx->dir;
}

const char *simxen_last_error(simxen_t *sx)
{
    return sx->last_error;
}

void simxen_lock(simxen_t *sx)
{
    int rc = pthread_mutex_lock(&sx->sh->lock);

    if (rc == EOWNERDEAD) {
        /* A process died holding the lock (e.g. a SIGKILLed vcpu).  Slot updates are
         * small and every reader validates, so mark it consistent and carry on. */
        pthread_mutex_consistent(&sx->sh->lock);
    } else if (rc) {
        fprintf(stderr, "simxen: shared mutex unusable: %s\n", strerror(rc));
        abort();
    }
}

void simxen_unlock(simxen_t *sx)
{
    pthread_mutex_unlock(&sx->sh->lock);
}

struct simxen_slot *simxen_find(simxen_t *sx, uint32_t domid)
{
    if (domid == 0 || domid > SIMXEN_DOMID_MAX)
        return NULL;
    for (int i = 0; i < SIMXEN_NSLOTS; i++) {
        struct simxen_slot *s = &sx->sh->slots[i];
        if (s->in_use && s->domid == domid) {
            /* sanity-check what an untrusted writer could have corrupted */
            if (s->max_pages == 0 || s->max_pages > SIMXEN_MAX_PAGES ||
                s->p2m_size != s->max_pages + SIMXEN_SPECIAL_PAGES ||
                s->nr_pages > s->p2m_size || s->ctx_len > SIMXEN_CTX_MAX)
                return NULL;
            s->name[sizeof(s->name) - 1] = 0;
            s->program[sizeof(s->program) - 1] = 0;
            s->vcpu_error[sizeof(s->vcpu_error) - 1] = 0;
            return s;
        }
    }
    return NULL;
}

int simxen_path(simxen_t *sx, uint32_t domid, const char *suffix, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/dom%u.%s", sx->dir, domid, suffix);

    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int simxen_futex_wait(_Atomic uint32_t *word, uint32_t val, long timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

    return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, timeout_ms >= 0 ? &ts : NULL,
                   NULL, 0);
}

void simxen_futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

uint64_t simxen_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t simxen_pid_starttime(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long long start = 0;
    ssize_t n;
    int fd, field;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    p += 2;                     /* field 3: state */
    if (*p == 'Z' || *p == 'X' || *p == 'x')
        return 0;               /* zombie/dead: the vcpu is gone */
    for (field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (!p || sscanf(p, "%llu", &start) != 1)
        return 0;
    return start ? start : 1;
}

int simxen_pid_alive(int pid, uint64_t starttime)
{
    uint64_t st;

    if (pid <= 0)
        return 0;
    st = simxen_pid_starttime(pid);
    if (!st)
        return 0;
    return starttime == 0 || st == starttime;
}

size_t simxen_p2m_bytes(uint64_t p2m_size)
{
    return ((p2m_size + 63) / 64) * 8;
}
