/* Sending and receiving whole, checked protocol messages (dr_internal.h). */
#include "dr_internal.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xutil.h"

void dr_detach(struct diskrep *h)
{
    h->rfd = h->wfd = -1;
}

/* A message's parts in one go, each wait for room bounded by timeout_ms.  Sockets get
 * MSG_NOSIGNAL: a secondary that went away must give the primary EPIPE, not kill it.
 * Other fds (pipes) are written as they are, without the bound. */
static int send_iov(int fd, struct iovec *iov, int iovcnt, int timeout_ms)
{
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };

    while (mh.msg_iovlen > 0) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int r = poll(&pfd, 1, timeout_ms);

            if (r == 0)
                errno = ETIMEDOUT;
            if (r <= 0 && errno != EINTR)
                return -1;
            continue;
        }
        if (n < 0 && errno == ENOTSOCK)
            return writev_exact(fd, mh.msg_iov, (int)mh.msg_iovlen);
        if (n < 0)
            return -1;
        while (mh.msg_iovlen > 0 && (size_t)n >= mh.msg_iov->iov_len) {
            n -= (ssize_t)mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (n > 0) {
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
            mh.msg_iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

int dr_send(struct diskrep *h, uint16_t type, const void *head, size_t head_len,
            const void *data, size_t data_len)
{
    uint8_t hdr[sizeof(struct dr_wire_hdr)];
    struct iovec iov[3];
    int n = 0;

    if (h->wfd < 0) {
        errno = ENOTCONN;
        return -1;
    }
    dr_put_header(hdr, type, (uint32_t)(head_len + data_len), ++h->tx_seq);
    iov[n++] = (struct iovec){ hdr, sizeof(hdr) };
    if (head_len)
        iov[n++] = (struct iovec){ (void *)head, head_len };
    if (data_len)
        iov[n++] = (struct iovec){ (void *)data, data_len };
    return send_iov(h->wfd, iov, n, (int)h->cfg.timeout_ms);
}

/* len bytes, each read waiting at most first_ms (the first) or ms (the others; -1: no
 * bound).  *got counts what arrived; errno 0 at end of stream, ETIMEDOUT. */
static int read_bounded(int fd, uint8_t *buf, size_t len, int first_ms, int ms, size_t *got)
{
    *got = 0;
    while (*got < len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, *got ? ms : first_ms);
        ssize_t n;

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        n = read(fd, buf + *got, len - *got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
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

/* A failed read_bounded as a named error. */
static int read_fault(struct diskrep *h, const char *what, size_t got, size_t want,
                      int truncated_code)
{
    if (errno == ETIMEDOUT)
        return dr_fail(h, DISKREP_E_TIMEOUT, ETIMEDOUT, "%s: %zu of %zu bytes within %u ms",
                       what, got, want, h->cfg.timeout_ms);
    if (errno == 0)
        return dr_fail(h, truncated_code, EPROTO, "%s truncated: the peer closed after %zu of "
                       "%zu bytes", what, got, want);
    return dr_fail(h, DISKREP_E_PEER_CLOSED, errno, "%s: read from the peer failed", what);
}

int dr_recv(struct diskrep *h, struct dr_msg *msg, int first_ms)
{
    uint8_t raw[sizeof(struct dr_wire_hdr)];
    struct dr_limits lim = { .max_io = h->cfg.max_io, .disk_size = h->disk_size };
    struct dr_wire_hdr hdr;
    char why[256];
    size_t got;
    int code, ms = (int)h->cfg.timeout_ms;

    if (h->rfd < 0) {
        errno = ENOTCONN;
        return -1;
    }
    if (read_bounded(h->rfd, raw, sizeof(raw), first_ms, ms, &got)) {
        if (errno == 0 && got == 0)
            return 0;
        return read_fault(h, "header", got, sizeof(raw), DISKREP_E_TRUNCATED_HEADER);
    }
    code = dr_parse_header(raw, sizeof(raw), &lim, &hdr, why, sizeof(why));
    if (code)
        return dr_fail(h, code, EPROTO, "%s", why);
    if (hdr.seq <= h->rx_seq)
        return dr_fail(h, DISKREP_E_SEQ_BACKWARDS, EPROTO,
                       "%s: sequence %llu after %llu went backwards", dr_type_name(hdr.type),
                       (unsigned long long)hdr.seq, (unsigned long long)h->rx_seq);
    if (hdr.seq != h->rx_seq + 1)
        return dr_fail(h, DISKREP_E_SEQ_GAP, EPROTO, "%s: sequence %llu after %llu skips "
                       "messages", dr_type_name(hdr.type), (unsigned long long)hdr.seq,
                       (unsigned long long)h->rx_seq);
    if (read_bounded(h->rfd, h->rxbuf, hdr.length, ms, ms, &got))
        return read_fault(h, dr_type_name(hdr.type), got, hdr.length,
                          DISKREP_E_TRUNCATED_PAYLOAD);
    h->rx_seq = hdr.seq;
    code = dr_parse_payload(&hdr, h->rxbuf, &lim, msg, why, sizeof(why));
    if (code)
        return dr_fail(h, code, EPROTO, "%s", why);
    return 1;
}

int dr_peer_error(struct diskrep *h, const struct dr_msg *msg)
{
    char text[DR_ERROR_TEXT_MAX + 1];
    uint32_t i, n = msg->u.error.length;    /* at most DR_ERROR_TEXT_MAX (the header's bound) */

    for (i = 0; i < n; i++)
        text[i] = msg->data[i] >= 0x20 && msg->data[i] < 0x7f ? (char)msg->data[i] : '?';
    text[n] = 0;
    return dr_fail(h, DISKREP_E_PEER_ERROR, EPROTO, "the peer refused (%s): %s",
                   diskrep_error_name((int)msg->u.error.code), text);
}
