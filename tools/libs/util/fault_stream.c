/* A stream that breaks after a given number of bytes (xfault.h). */
#include "xfault.h"

static struct {
    int fd;                       /* -1: none */
    unsigned long left;
    int cut;
    void (*at_cut)(void *);
    void *opaque;
} limited = { .fd = -1 };

void xfault_limit_writes(int fd, unsigned long bytes, void (*at_cut)(void *), void *opaque)
{
    limited.fd = fd;
    limited.left = bytes;
    limited.cut = 0;
    limited.at_cut = at_cut;
    limited.opaque = opaque;
}

int xfault_writes_limited(int fd)
{
    return limited.fd >= 0 && fd == limited.fd;
}

size_t xfault_write_allowance(int fd, size_t len)
{
    if (limited.fd < 0 || fd != limited.fd)
        return len;
    if (!limited.cut && len <= limited.left) {
        limited.left -= len;
        return len;
    }
    len = limited.cut ? 0 : limited.left;
    limited.left = 0;
    return len;
}

void xfault_cut(void)
{
    if (limited.cut)
        return;
    limited.cut = 1;
    if (limited.at_cut)
        limited.at_cut(limited.opaque);
}
