/*
 * The test guest's network service (linked statically: the guest's initramfs has no C
 * library).  A request/response server on TCP whose answers depend on guest state:
 *
 *   net-echo [-p PORT] [-t]
 *
 * A request is a line "Q <seq>"; the answer is "A <seq> <served>", where served counts
 * the requests this guest has answered since it booted (over all connections).  The
 * count lives in the guest's memory, so a guest that was saved, migrated or failed
 * over answers on from where it was, and a client that checks served + 1 per answer on
 * its one connection sees any lost or repeated state.  With -t the answer carries a
 * fourth field, the guest's monotonic clock in ms: two copies of one guest then answer
 * differently now and then (the divergence a COLO compare must catch).
 *
 * Lines longer than LINE_MAX_LEN or not of the request's form close that connection
 * with "E <why>": the server is exposed to whatever reaches the guest's address.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define MAX_CONNS     16
#define LINE_MAX_LEN  64

struct conn {
    int fd;
    size_t len;
    char buf[LINE_MAX_LEN];
};

static uint64_t served;

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drop(struct conn *c, const char *why)
{
    if (why) {
        char msg[96];
        int n = snprintf(msg, sizeof(msg), "E %s\n", why);
        if (write(c->fd, msg, (size_t)n) < 0) {
            /* the peer is gone: nothing more to tell it */
        }
    }
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* One request line (without its newline): 0 answered, -1 the connection must close. */
static int answer(struct conn *c, const char *line, int with_time)
{
    char out[96], *end;
    unsigned long long seq;
    int n;

    if (line[0] != 'Q' || line[1] != ' ')
        return -1;
    errno = 0;
    seq = strtoull(line + 2, &end, 10);
    if (errno || end == line + 2 || *end)
        return -1;
    served++;
    if (with_time)
        n = snprintf(out, sizeof(out), "A %llu %llu %llu\n", seq, (unsigned long long)served,
                     (unsigned long long)mono_ms());
    else
        n = snprintf(out, sizeof(out), "A %llu %llu\n", seq, (unsigned long long)served);
    return write(c->fd, out, (size_t)n) == n ? 0 : -1;
}

static void readable(struct conn *c, int with_time)
{
    ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    size_t start = 0;

    if (r <= 0) {
        drop(c, NULL);
        return;
    }
    c->len += (size_t)r;
    for (size_t i = 0; i < c->len; i++) {
        if (c->buf[i] != '\n')
            continue;
        c->buf[i] = 0;
        if (answer(c, c->buf + start, with_time)) {
            drop(c, "bad request");
            return;
        }
        start = i + 1;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
    if (c->len == sizeof(c->buf))
        drop(c, "line too long");
}

int main(int argc, char **argv)
{
    struct conn conns[MAX_CONNS];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    int port = 7000, with_time = 0, one = 1, ls, opt;

    while ((opt = getopt(argc, argv, "p:t")) != -1) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 't')
            with_time = 1;
        else {
            fprintf(stderr, "usage: net-echo [-p PORT] [-t]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "net-echo: port %d out of range\n", port);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    a.sin_port = htons((uint16_t)port);
    ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 8)) {
        perror("net-echo: listen");
        return 1;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    printf("@@NET listening port=%d\n", port);
    fflush(stdout);
    for (;;) {
        struct pollfd p[MAX_CONNS + 1];
        int idx[MAX_CONNS + 1], n = 0;

        p[n].fd = ls;
        p[n].events = POLLIN;
        idx[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            if (conns[i].fd < 0)
                continue;
            p[n].fd = conns[i].fd;
            p[n].events = POLLIN;
            idx[n++] = i;
        }
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("net-echo: poll");
            return 1;
        }
        for (int k = 1; k < n; k++)
            if (p[k].revents)
                readable(&conns[idx[k]], with_time);
        if (p[0].revents & POLLIN) {
            int fd = accept(ls, NULL, NULL), slot = -1;

            if (fd < 0)
                continue;
            for (int i = 0; i < MAX_CONNS && slot < 0; i++)
                if (conns[i].fd < 0)
                    slot = i;
            if (slot < 0) {
                close(fd);
                continue;
            }
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            conns[slot].fd = fd;
            conns[slot].len = 0;
        }
    }
}
