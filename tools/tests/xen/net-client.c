/*
 * The client of the test guest's service (net-echo.c), run in dom0 while the guest is
 * migrated, checkpointed or failed over.  One TCP connection, one request at a time:
 *
 *   net-client [-i INTERVAL_MS] [-w WAIT_S] [-T MAX_S] [-s STOPFILE] [-c COUNTFILE]
 *              HOST PORT
 *
 * Every answer must be "A <seq> <served> [<t>]" for the request just sent, with served
 * one more than in the previous answer: a lost, repeated or reordered answer, or guest
 * state that went back or jumped, is a failure, and so are a connection reset, an EOF
 * and an answer (or the connection itself) that takes more than WAIT_S seconds (default
 * 30: a migration's downtime under the emulator is seconds).  It stops when STOPFILE exists or after
 * MAX_S seconds (default 600) and prints
 *
 *   @@NETC answers=N median_ms=M p99_ms=P max_ms=X => ok
 *   @@NETC answers=N ... => FAIL <what went wrong>
 *
 * COUNTFILE, if given, always holds the number of answers so far (the harness reads it
 * to see the service answer across an event).  Exit status 0 only for "ok".
 */
#include <errno.h>
#include <fcntl.h>
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

#define MAX_SAMPLES (1u << 20)

struct client {
    int fd, count_fd;
    unsigned long long seq, served;
    uint32_t *lat_us;
    size_t n;
    char buf[128];
    size_t len;
};

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Reads one line into line (without newline) within wait_s: 0, or -1 with why set. */
static int read_line(struct client *c, char *line, size_t cap, int wait_s, char *why, size_t wl)
{
    uint64_t deadline = now_us() + (uint64_t)wait_s * 1000000;

    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        uint64_t t = now_us();
        ssize_t r;

        if (nl) {
            size_t l = (size_t)(nl - c->buf);
            if (l >= cap) {
                snprintf(why, wl, "answer of %zu bytes is too long", l);
                return -1;
            }
            memcpy(line, c->buf, l);
            line[l] = 0;
            memmove(c->buf, nl + 1, c->len - l - 1);
            c->len -= l + 1;
            return 0;
        }
        if (c->len == sizeof(c->buf)) {
            snprintf(why, wl, "answer without a newline in %zu bytes", c->len);
            return -1;
        }
        if (t >= deadline || poll(&p, 1, (int)((deadline - t) / 1000) + 1) == 0) {
            snprintf(why, wl, "no answer to request %llu within %d s", c->seq, wait_s);
            return -1;
        }
        r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(why, wl, "connection %s at request %llu", r ? strerror(errno) : "closed by the guest",
                     c->seq);
            return -1;
        }
        c->len += (size_t)r;
    }
}

/* One request and its answer: 0, or -1 with why set. */
static int exchange(struct client *c, int wait_s, char *why, size_t wl)
{
    char req[48], line[128];
    unsigned long long seq, served, t;
    uint64_t t0 = now_us();
    int n = snprintf(req, sizeof(req), "Q %llu\n", c->seq + 1), f;

    if (write(c->fd, req, (size_t)n) != n) {
        snprintf(why, wl, "sending request %llu: %s", c->seq + 1, strerror(errno));
        return -1;
    }
    c->seq++;
    if (read_line(c, line, sizeof(line), wait_s, why, wl))
        return -1;
    f = sscanf(line, "A %llu %llu %llu", &seq, &served, &t);
    if (f < 2 || seq != c->seq) {
        snprintf(why, wl, "request %llu answered '%.60s'", c->seq, line);
        return -1;
    }
    if (c->served && served != c->served + 1) {
        snprintf(why, wl, "request %llu: guest served %llu after %llu (state lost or repeated)",
                 c->seq, served, c->served);
        return -1;
    }
    c->served = served;
    if (c->n < MAX_SAMPLES)
        c->lat_us[c->n++] = (uint32_t)(now_us() - t0 > UINT32_MAX ? UINT32_MAX : now_us() - t0);
    if (c->count_fd >= 0) {
        char cnt[24];
        int k = snprintf(cnt, sizeof(cnt), "%20llu\n", c->seq);
        if (pwrite(c->count_fd, cnt, (size_t)k, 0) != k) {
            snprintf(why, wl, "writing the count file: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* connect() within wait_s seconds (a SYN that is never answered would block for
 * minutes): 0, or -1 with errno set (ETIMEDOUT). */
static int connect_within(int fd, const struct sockaddr_in *a, int wait_s)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int fl = fcntl(fd, F_GETFL), err = 0;
    socklen_t el = sizeof(err);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
        return -1;
    if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) && errno != EINPROGRESS)
        return -1;
    if (poll(&p, 1, wait_s * 1000) != 1) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
        errno = err ? err : errno;
        return -1;
    }
    return fcntl(fd, F_SETFL, fl);
}

static void usage(void)
{
    fprintf(stderr, "usage: net-client [-i INTERVAL_MS] [-w WAIT_S] [-T MAX_S] [-s STOPFILE] "
                    "[-c COUNTFILE] HOST PORT\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct client c = { .fd = -1, .count_fd = -1 };
    struct sockaddr_in a = { .sin_family = AF_INET };
    const char *stopfile = NULL, *countfile = NULL;
    int interval_ms = 200, wait_s = 30, max_s = 600, one = 1, opt, ok;
    char why[200] = "";
    uint64_t start;

    while ((opt = getopt(argc, argv, "i:w:T:s:c:")) != -1) {
        switch (opt) {
        case 'i': interval_ms = atoi(optarg); break;
        case 'w': wait_s = atoi(optarg); break;
        case 'T': max_s = atoi(optarg); break;
        case 's': stopfile = optarg; break;
        case 'c': countfile = optarg; break;
        default: usage();
        }
    }
    if (argc - optind != 2 || interval_ms < 0 || wait_s <= 0 || max_s <= 0)
        usage();
    a.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    if (inet_pton(AF_INET, argv[optind], &a.sin_addr) != 1) {
        fprintf(stderr, "net-client: '%s' is not an IPv4 address\n", argv[optind]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    c.lat_us = calloc(MAX_SAMPLES, sizeof(*c.lat_us));
    if (!c.lat_us)
        return 1;
    if (countfile && (c.count_fd = open(countfile, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
        fprintf(stderr, "net-client: %s: %s\n", countfile, strerror(errno));
        return 1;
    }
    start = now_us();
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c.fd < 0 || connect_within(c.fd, &a, wait_s)) {
        snprintf(why, sizeof(why), "connecting to %s:%s: %s", argv[optind], argv[optind + 1],
                 strerror(errno));
    } else {
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        while (!(stopfile && access(stopfile, F_OK) == 0) &&
               now_us() - start < (uint64_t)max_s * 1000000) {
            if (exchange(&c, wait_s, why, sizeof(why)))
                break;
            if (interval_ms)
                usleep((useconds_t)interval_ms * 1000);
        }
    }
    ok = !why[0];
    qsort(c.lat_us, c.n, sizeof(*c.lat_us), cmp_u32);
    printf("@@NETC answers=%zu median_ms=%.1f p99_ms=%.1f max_ms=%.1f => %s%s%s\n", c.n,
           c.n ? c.lat_us[c.n / 2] / 1000.0 : 0.0,
           c.n ? c.lat_us[(c.n * 99) / 100 < c.n ? (c.n * 99) / 100 : c.n - 1] / 1000.0 : 0.0,
           c.n ? c.lat_us[c.n - 1] / 1000.0 : 0.0, ok ? "ok" : "FAIL", ok ? "" : " ", why);
    if (c.fd >= 0)
        close(c.fd);
    if (c.count_fd >= 0)
        close(c.count_fd);
    free(c.lat_us);
    return ok ? 0 : 1;
}
