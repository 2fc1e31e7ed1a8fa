/* Byte-offset faults on the writes to a file descriptor (xfault.h). */
#include "xfault.h"

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

#include "xutil.h"

#define MAX_FAULTY 4

static struct faulty {
    int fd;                       /* -1: free */
    enum xfault_kind kind;
    unsigned long at, ms;
    int fired;                    /* a cut stays in force; the others happen once */
    void (*at_fire)(void *);
    void *opaque;
} faulty[MAX_FAULTY] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };

/* Bytes written to each faulty fd so far (one count per fd: its entries share it). */
static uint64_t written[MAX_FAULTY];

int xfault_on_writes(int fd, enum xfault_kind kind, unsigned long bytes, unsigned long ms,
                     void (*at_fire)(void *), void *opaque)
{
    int i, slot = -1, rc = -1;

    for (i = MAX_FAULTY - 1; i >= 0; i--)
        if (faulty[i].fd < 0)
            slot = i;
    if (fd < 0 || slot < 0) {
        errno = fd < 0 ? EBADF : ENOSPC;
        goto out;
    }
    faulty[slot] = (struct faulty){ fd, kind, bytes, ms, 0, at_fire, opaque };
    written[slot] = 0;
    for (i = 0; i < MAX_FAULTY; i++)
        if (i != slot && faulty[i].fd == fd)
            written[slot] = written[i];
    rc = 0;
 out:
    return rc;
}

void xfault_off_writes(int fd)
{
    for (int i = 0; i < MAX_FAULTY; i++)
        if (faulty[i].fd == fd)
            faulty[i].fd = -1;
}

int xfault_writes_faulty(int fd)
{
    for (int i = 0; i < MAX_FAULTY; i++)
        if (faulty[i].fd >= 0 && faulty[i].fd == fd &&
            (!faulty[i].fired || faulty[i].kind == XFAULT_KIND_CUT))
            return 1;
    return 0;
}

/* The entry of fd whose fault comes first in bytes [pos, end) of its stream, or -1;
 * *at is where.  A cut that happened comes at once; one set below what was already
 * written comes at once too, the others are missed. */
static int next_fault(int fd, uint64_t pos, uint64_t end, uint64_t *at)
{
    int i, first = -1;

    for (i = 0; i < MAX_FAULTY; i++) {
        const struct faulty *f = &faulty[i];
        int cut = f->kind == XFAULT_KIND_CUT;
        uint64_t ev = f->fired ? pos : f->at;

        if (f->fd != fd || (f->fired && !cut) || (ev < pos && !cut))
            continue;
        if (ev < pos)
            ev = pos;
        if (ev < end && (first < 0 || ev < *at)) {
            first = i;
            *at = ev;
        }
    }
    return first;
}

static void advance(int fd, uint64_t n)
{
    for (int i = 0; i < MAX_FAULTY; i++)
        if (faulty[i].fd == fd)
            written[i] += n;
}

/* Bytes [from, to) of the write (iov, iovcnt) through raw, one piece per vector. */
static int write_range(int fd, const struct iovec *iov, int iovcnt, uint64_t from, uint64_t to,
                       int (*raw)(int, struct iovec *, int))
{
    uint64_t base = 0;

    for (int i = 0; i < iovcnt && base < to; base += iov[i].iov_len, i++) {
        uint64_t a = from > base ? from : base;
        uint64_t b = to < base + iov[i].iov_len ? to : base + iov[i].iov_len;
        struct iovec part;

        if (a >= b)
            continue;
        part.iov_base = (char *)iov[i].iov_base + (a - base);
        part.iov_len = (size_t)(b - a);
        if (raw(fd, &part, 1))
            return -1;
        advance(fd, b - a);
    }
    return 0;
}

/* The byte at offset off of the write (iov, iovcnt). */
static unsigned char byte_at(const struct iovec *iov, int iovcnt, uint64_t off)
{
    for (int i = 0; i < iovcnt; off -= iov[i].iov_len, i++)
        if (off < iov[i].iov_len)
            return ((const unsigned char *)iov[i].iov_base)[off];
    return 0;
}

int xfault_writev(int fd, const struct iovec *iov, int iovcnt,
                  int (*raw)(int, struct iovec *, int))
{
    uint64_t len = 0, done = 0, pos, at = 0;
    int i, f, rc = -1;

    for (i = 0; i < MAX_FAULTY && faulty[i].fd != fd; i++)
        ;
    if (i == MAX_FAULTY) {
        errno = EBADF;
        goto out;
    }
    pos = written[i];
    for (int k = 0; k < iovcnt; k++)
        len += iov[k].iov_len;
    /* Synchronous, in the caller's order: the stream's other writers stay in order. */
    while ((f = next_fault(fd, pos + done, pos + len, &at)) >= 0) {
        struct faulty *x = &faulty[f];

        if (write_range(fd, iov, iovcnt, done, at - pos, raw))
            goto out;
        done = at - pos;
        if (x->kind == XFAULT_KIND_CUT) {
            if (!x->fired) {
                x->fired = 1;
                if (x->at_fire)
                    x->at_fire(x->opaque);
            }
            errno = EPIPE;
            goto out;
        }
        x->fired = 1;
        if (x->at_fire)
            x->at_fire(x->opaque);
        if (x->kind == XFAULT_KIND_DELAY) {
            clock_sleep_ms((unsigned int)x->ms);
            continue;
        }
        {
            unsigned char c = (unsigned char)~byte_at(iov, iovcnt, done);
            struct iovec one = { &c, 1 };

            if (raw(fd, &one, 1))
                goto out;
            advance(fd, 1);
            done++;
        }
    }
    if (write_range(fd, iov, iovcnt, done, len, raw))
        goto out;
    rc = 0;
 out:
    return rc;
}
