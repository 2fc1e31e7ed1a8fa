/*
 * The compare proxy's control messages with libxl: a u32 big-endian length, then that
 * many bytes of text (upstream's userspace COLO proxy framing).  Both proxies (the
 * simulated NIC's and the real vifs') speak it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xutil.h"

#define CTLMSG_MAX 128

int ctlmsg_send(int fd, const char *msg)
{
    size_t n = strlen(msg);
    uint32_t len = htonl((uint32_t)n);
    char buf[4 + CTLMSG_MAX];

    if (n > CTLMSG_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    memcpy(buf, &len, 4);
    memcpy(buf + 4, msg, n);
    return send(fd, buf, 4 + n, MSG_NOSIGNAL) == (ssize_t)(4 + n) ? 0 : -1;
}

int ctlmsg_recv(int fd, char *buf, size_t size)
{
    uint32_t len;

    if (read_exact(fd, &len, 4))
        return -1;
    len = ntohl(len);
    if (len >= size) {
        errno = EMSGSIZE;
        return -1;
    }
    if (read_exact(fd, buf, len))
        return -1;
    buf[len] = 0;
    if (strlen(buf) != len) {
        errno = EPROTO;               /* a NUL inside would compare as its prefix */
        return -1;
    }
    return 0;
}
