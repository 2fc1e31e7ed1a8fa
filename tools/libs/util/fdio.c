/* Whole reads and writes on file descriptors (xutil.h). */
#include "xutil.h"

#include "xfault.h"

#include <errno.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

int read_exact(int fd, void *buf, size_t len)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };

    return readv_exact(fd, &iov, 1);
}

int read_exact_got(int fd, void *buf, size_t len, size_t *got)
{
    *got = 0;
    while (*got < len) {
        ssize_t n = read(fd, (char *)buf + *got, len - *got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = 0;
            return -1;
        }
        *got += (size_t)n;
    }
    return 0;
}

int write_exact(int fd, const void *buf, size_t len)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

    return writev_exact(fd, &iov, 1);
}

/* Move all of iov through readv or writev, over partial transfers and IOV_MAX. */
static int iov_exact(ssize_t (*op)(int, const struct iovec *, int), int fd, struct iovec *iov,
                     int iovcnt)
{
    while (iovcnt > 0) {
        int chunk = iovcnt > IOV_MAX ? IOV_MAX : iovcnt;
        ssize_t n = op(fd, iov, chunk);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0 && op == readv) {
            errno = 0;      /* EOF: callers tell boundary from truncation */
            return -1;
        }
        /* Skip fully transferred vectors, then trim a partly transferred one. */
        while (chunk > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
            chunk--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

static int raw_writev_exact(int fd, struct iovec *iov, int iovcnt)
{
    return iov_exact(writev, fd, iov, iovcnt);
}

int writev_exact(int fd, struct iovec *iov, int iovcnt)
{
    /* an injected fault on this stream (xfault.h) */
    if (xfault_writes_faulty(fd))
        return xfault_writev(fd, iov, iovcnt, raw_writev_exact);
    return iov_exact(writev, fd, iov, iovcnt);
}

int readv_exact(int fd, struct iovec *iov, int iovcnt)
{
    return iov_exact(readv, fd, iov, iovcnt);
}
