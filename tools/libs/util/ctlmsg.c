/*
 * The compare proxy's control messages between libxl and the proxies (the simulated
 * NIC's and the real vifs'): a u32 big-endian length, then that many bytes of text
 * (upstream's userspace COLO proxy framing).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xutil.h"

#define CTLMSG_MAX 252

int ctlmsg_send(int fd, const char *msg)
{
    size_t len = strlen(msg);
    uint32_t be = htonl((uint32_t)len);
    char buf[4 + CTLMSG_MAX];

    if (len > CTLMSG_MAX) {
        errno = EINVAL;
        return -1;
    }
    memcpy(buf, &be, 4);
    memcpy(buf + 4, msg, len);
    return send(fd, buf, len + 4, MSG_NOSIGNAL) == (ssize_t)(len + 4) ? 0 : -1;
}

/* len bytes before deadline (clock_now_ms; 0: no deadline). */
static int read_full(int fd, void *buf, size_t len, uint64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        int wait = -1;
        ssize_t r;

        if (deadline) {
            uint64_t now = clock_now_ms();

            if (now >= deadline) {
                errno = ETIMEDOUT;
                return -1;
            }
            wait = (int)(deadline - now);
        }
        r = poll(&pfd, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ETIMEDOUT;
            return -1;
        }
        r = read(fd, (char *)buf + got, len - got);
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int ctlmsg_recv(int fd, char *buf, size_t size, unsigned int timeout_ms)
{
    uint64_t deadline = timeout_ms ? clock_now_ms() + timeout_ms : 0;
    uint32_t len;

    if (read_full(fd, &len, 4, deadline))
        return -1;
    len = ntohl(len);
    if (len >= size) {
        errno = EPROTO;
        return -1;
    }
    if (read_full(fd, buf, len, deadline ? deadline + 1000 : 0))
        return -1;
    /* a message with a NUL inside would compare as its prefix */
    if (memchr(buf, 0, len)) {
        errno = EPROTO;
        return -1;
    }
    buf[len] = 0;
    return 0;
}
