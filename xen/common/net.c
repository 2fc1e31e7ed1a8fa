/* The simulated network device's transmit ring (xen/include/simxen-net.h). */
#include "simxen-net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simxen.h"

int simxen_net_path(const char *dir, uint32_t domid, char *buf, size_t len)
{
    int n;

    if (!dir || !*dir)
        dir = getenv("SIMXEN_DIR");
    if (!dir || !*dir)
        dir = SIMXEN_DEFAULT_DIR;
    n = snprintf(buf, len, "%s/dom%u.net", dir, domid);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int simxen_net_create(const char *dir, uint32_t domid)
{
    struct simxen_net_ring *r;
    char path[512];
    int fd;

    if (simxen_net_path(dir, domid, path, sizeof(path)))
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, sizeof(*r))) {
        close(fd);
        return -1;
    }
    r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (r == MAP_FAILED)
        return -1;
    r->version = 1;
    r->nslots = SIMXEN_NET_SLOTS;
    __atomic_store_n(&r->magic, SIMXEN_NET_MAGIC, __ATOMIC_RELEASE);
    munmap(r, sizeof(*r));
    return 0;
}

struct simxen_net_ring *simxen_net_map(const char *dir, uint32_t domid)
{
    struct simxen_net_ring *r;
    char path[512];
    struct stat st;
    int fd;

    if (simxen_net_path(dir, domid, path, sizeof(path)))
        return NULL;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) || (size_t)st.st_size != sizeof(*r)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (r == MAP_FAILED)
        return NULL;
    if (__atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) != SIMXEN_NET_MAGIC ||
        r->nslots != SIMXEN_NET_SLOTS) {
        munmap(r, sizeof(*r));
        errno = EINVAL;
        return NULL;
    }
    return r;
}

void simxen_net_unmap(struct simxen_net_ring *r)
{
    if (r)
        munmap(r, sizeof(*r));
}

int simxen_net_set_epoch(const char *dir, uint32_t domid, uint32_t epoch)
{
    struct simxen_net_ring *r = simxen_net_map(dir, domid);

    if (!r)
        return -1;
    atomic_store(&r->epoch, epoch);
    simxen_net_unmap(r);
    return 0;
}

static int consumer_alive(struct simxen_net_ring *r)
{
    int32_t pid = atomic_load(&r->consumer_pid);

    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int simxen_net_must_wait(struct simxen_net_ring *r)
{
    uint64_t prod = atomic_load(&r->prod), cons = atomic_load(&r->cons);

    return prod - cons >= SIMXEN_NET_SLOTS && consumer_alive(r);
}

int simxen_net_send(struct simxen_net_ring *r, uint64_t seq, const void *data, uint32_t len)
{
    uint64_t prod = atomic_load(&r->prod), cons = atomic_load(&r->cons);
    struct simxen_net_pkt *p;

    if (prod - cons >= SIMXEN_NET_SLOTS || len > SIMXEN_NET_PAYLOAD) {
        atomic_fetch_add(&r->dropped, 1);
        return -1;
    }
    p = &r->slots[prod % SIMXEN_NET_SLOTS];
    p->seq = seq;
    p->epoch = atomic_load(&r->epoch);
    p->len = len;
    memset(p->data, 0, sizeof(p->data));
    memcpy(p->data, data, len);
    atomic_store_explicit(&r->prod, prod + 1, memory_order_release);
    return 0;
}
