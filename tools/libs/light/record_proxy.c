/* A record-forwarding proxy with fault injection (see record_proxy.h). */
#include "record_proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libxl_records.h"
#include "sr_stream_format.h"
#include "xutil.h"

static int forward(int from_fd, int to_fd, void *buf, size_t len)
{
    return read_exact(from_fd, buf, len) || write_exact(to_fd, buf, len) ? -1 : 0;
}

/* Forwards records from from_fd to to_fd until the channel ends or is cut; the count
 * of whole records forwarded goes to count_fd. */
static int run_proxy(int from_fd, int to_fd, const struct record_proxy_spec *sp, int count_fd)
{
    unsigned char prefix[64];
    uint32_t n = 0;
    int rc = 0;

    if (sp->raw_prefix > sizeof(prefix) ||
        (sp->raw_prefix && forward(from_fd, to_fd, prefix, sp->raw_prefix)))
        goto out;
    for (;;) {
        uint32_t hdr[2];
        size_t padded;
        char *body;

        if (sp->cut && n == sp->cut_records && !sp->cut_inside)
            break;   /* cut at this record boundary */
        if (read_exact(from_fd, hdr, sizeof(hdr)))
            break;
        padded = (hdr[1] + 7u) & ~7u;
        if (padded > REC_LENGTH_MAX) {
            rc = 1;
            break;
        }
        body = malloc(padded ? padded : 1);
        if (!body || (padded && read_exact(from_fd, body, padded))) {
            free(body);
            rc = 1;
            break;
        }
        if (sp->cut && n == sp->cut_records) {
            /* inside the record: its header and half its body, then nothing (half
             * the header of one without a body, which would otherwise arrive whole) */
            if (!padded)
                write_exact(to_fd, hdr, sizeof(hdr) / 2);
            else if (!write_exact(to_fd, hdr, sizeof(hdr)))
                write_exact(to_fd, body, padded / 2);
            free(body);
            break;
        }
        if (sp->drop_dirty_list && hdr[0] == REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST) {
            hdr[1] = 0;
            padded = 0;
        }
        if (write_exact(to_fd, hdr, sizeof(hdr)) ||
            (padded && write_exact(to_fd, body, padded))) {
            free(body);
            rc = 1;
            break;
        }
        free(body);
        n++;
    }
 out:
    /* A cut is both directions at once, as when the peer or the link dies. */
    shutdown(from_fd, SHUT_RDWR);
    shutdown(to_fd, SHUT_RDWR);
    if (write_exact(count_fd, &n, sizeof(n)))
        rc = 1;
    return rc;
}

pid_t record_proxy_start(int *fd, int to_peer, const struct record_proxy_spec *sp,
                         int count_fd, const int *close_in_child, int nclose)
{
    int sv[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return -1;
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        for (int i = 0; i < nclose; i++)
            if (close_in_child[i] >= 0 && close_in_child[i] != *fd)
                close(close_in_child[i]);
        _exit(to_peer ? run_proxy(sv[1], *fd, sp, count_fd)
                      : run_proxy(*fd, sv[1], sp, count_fd));
    }
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return -1;
    }
    close(*fd);
    *fd = sv[0];
    return pid;
}

int record_proxy_count(int fd, unsigned int *n)
{
    uint32_t v;

    if (fd < 0 || read_exact(fd, &v, sizeof(v)))
        return -1;
    *n = v;
    return 0;
}
