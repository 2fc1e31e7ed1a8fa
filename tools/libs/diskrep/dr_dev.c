/* Block devices of the replication core: a file descriptor, or memory (diskrep.h). */
#include "diskrep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct diskrep_dev {
    uint64_t size;
    int fd;              /* -1: the disk is mem */
    uint8_t *mem;
};

diskrep_dev *diskrep_dev_fd(int fd, uint64_t size)
{
    diskrep_dev *dev;

    if (fd < 0) {
        errno = EBADF;
        return NULL;
    }
    dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    dev->size = size;
    dev->fd = fd;
    return dev;
}

diskrep_dev *diskrep_dev_mem(uint64_t size)
{
    diskrep_dev *dev;

    if (size > SIZE_MAX) {
        errno = EFBIG;
        return NULL;
    }
    dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    dev->mem = calloc(1, size ? (size_t)size : 1);
    if (!dev->mem) {
        free(dev);
        return NULL;
    }
    dev->size = size;
    dev->fd = -1;
    return dev;
}

void diskrep_dev_close(diskrep_dev *dev)
{
    if (!dev)
        return;
    free(dev->mem);
    free(dev);
}

uint64_t diskrep_dev_size(const diskrep_dev *dev)
{
    return dev->size;
}

static int in_disk(const diskrep_dev *dev, size_t len, uint64_t off)
{
    if (off > dev->size || len > dev->size - off) {
        errno = EINVAL;
        return 0;
    }
    return 1;
}

/* pread/pwrite until done: a disk file may return short counts (signals, NFS). */
static int fd_transfer(diskrep_dev *dev, void *buf, size_t len, uint64_t off, int writing)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = writing ? pwrite(dev->fd, p, len, (off_t)off)
                            : pread(dev->fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;     /* the file is shorter than the disk it stands for */
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int diskrep_dev_pread(diskrep_dev *dev, void *buf, size_t len, uint64_t off)
{
    if (!in_disk(dev, len, off))
        return -1;
    if (dev->fd < 0) {
        memcpy(buf, dev->mem + off, len);
        return 0;
    }
    return fd_transfer(dev, buf, len, off, 0);
}

int diskrep_dev_pwrite(diskrep_dev *dev, const void *buf, size_t len, uint64_t off)
{
    if (!in_disk(dev, len, off))
        return -1;
    if (dev->fd < 0) {
        memcpy(dev->mem + off, buf, len);
        return 0;
    }
    return fd_transfer(dev, (void *)buf, len, off, 1);
}

int diskrep_dev_flush(diskrep_dev *dev)
{
    if (dev->fd < 0)
        return 0;
    return fdatasync(dev->fd);
}
