/*
 * colo-proxy: the toolstack side of a simulated guest's network device
 * (xen/include/simxen-net.h) and COLO's compare proxy (docs/colo-proxy.md).
 *
 *   colo-proxy primary   --domain ID --out PATH --listen IP:PORT [--control-fd FD]
 *                        [--timeout MS] [--bypass] [--log FILE]
 *   colo-proxy secondary --domain ID --to IP:PORT --out PATH [--log FILE]
 *   colo-proxy direct    --domain ID --out PATH [--log FILE]
 *
 * Every mode drains the domain's transmit ring and serves released packets to the
 * clients of the unix stream socket PATH, one line per packet:
 * "<epoch> <seq> <hex data>\n".
 *
 * primary: compares the primary's packets with the secondary's (which its forwarder
 * sends over TCP to --listen) and releases a primary packet only when the secondary
 * sent the same packet at the same position in the same checkpoint epoch.  On a
 * mismatch, or when the oldest held packet waited longer than --timeout ms (default
 * 300), it asks libxl for a checkpoint ("DO_CHECKPOINT" on the control fd, upstream's
 * userspace-proxy framing: u32 big-endian length + bytes).  libxl sends
 * "COLO_CHECKPOINT" while the primary is suspended at a checkpoint; the proxy then
 * releases every held primary packet (the secondary is being made equal to the
 * primary that sent them), drops the secondary's, and answers "COLO_CHECKPOINT_DONE".
 * Packets from before the first checkpoint (epoch 0), and everything once the control
 * connection is gone (replication over: the primary runs unprotected), pass straight
 * through.  --bypass disables the comparison (tests use it to show that they notice).
 *
 * secondary: forwards the secondary's packets to the primary's proxy and releases
 * nothing, until SIGUSR1 (libxl on a failover): then it serves the survivor's output
 * straight to its own clients, like direct.
 *
 * The proxy takes over the ring from an earlier consumer (SIGTERM) and exits when the
 * domain is destroyed (its ring file goes away).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "simxen-net.h"
#include "xutil.h"

#define MAX_CLIENTS 16
#define QMAX (1u << 16)

typedef struct simxen_net_pkt pkt_t;

struct q {                          /* FIFO of packets with their arrival time */
    pkt_t *p;
    uint64_t *t;
    size_t head, n;
};

static const char *prog = "colo-proxy";
static FILE *logf_;
static volatile sig_atomic_t got_term, got_failover;
static int clients[MAX_CLIENTS], nclients;
static int out_fd = -1;
static ino_t out_ino;              /* our socket file (another proxy may rebind the path) */
static struct {
    uint64_t cmp, flush, pass, nobody, mismatches, timeouts, requests, checkpoints, sec_rx;
} st;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void hex(const pkt_t *p, char *buf)
{
    for (uint32_t i = 0; i < p->len && i < SIMXEN_NET_PAYLOAD; i++)
        sprintf(buf + 2 * i, "%02x", p->data[i]);
    buf[2 * (p->len < SIMXEN_NET_PAYLOAD ? p->len : SIMXEN_NET_PAYLOAD)] = 0;
}

static void logpkt(char kind, const pkt_t *p, const char *how)
{
    char h[2 * SIMXEN_NET_PAYLOAD + 1];

    if (!logf_)
        return;
    hex(p, h);
    fprintf(logf_, "%c %u %llu %s%s%s\n", kind, p->epoch, (unsigned long long)p->seq, h,
            how ? " " : "", how ? how : "");
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
    va_list ap;

    if (!logf_)
        return;
    va_start(ap, fmt);
    vfprintf(logf_, fmt, ap);
    va_end(ap);
}

/* ---- queues ---- */
static void q_init(struct q *q)
{
    q->p = calloc(QMAX, sizeof(*q->p));
    q->t = calloc(QMAX, sizeof(*q->t));
    if (!q->p || !q->t)
        die("out of memory");
}
static pkt_t *q_at(struct q *q, size_t i) { return &q->p[(q->head + i) % QMAX]; }
static int q_push(struct q *q, const pkt_t *p)
{
    if (q->n == QMAX)
        return -1;
    q->p[(q->head + q->n) % QMAX] = *p;
    q->t[(q->head + q->n) % QMAX] = clock_now_ms();
    q->n++;
    return 0;
}
static void q_pop(struct q *q)
{
    q->head = (q->head + 1) % QMAX;
    q->n--;
}

/* ---- output to clients ---- */
static void drop_client(int i)
{
    close(clients[i]);
    clients[i] = clients[--nclients];
}

static void release(const pkt_t *p, const char *how, uint64_t *counter)
{
    char line[160], h[2 * SIMXEN_NET_PAYLOAD + 1];
    int n;

    hex(p, h);
    n = snprintf(line, sizeof(line), "%u %llu %s\n", p->epoch, (unsigned long long)p->seq, h);
    (*counter)++;
    if (!nclients)
        st.nobody++;
    for (int i = 0; i < nclients; i++) {
        ssize_t w = send(clients[i], line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (w != n)   /* a client that cannot keep up (or left) is dropped */
            drop_client(i--);
    }
    logpkt('R', p, how);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0 || strlen(path) >= sizeof(a.sun_path))
        die("output socket %s: %s", path, fd < 0 ? strerror(errno) : "path too long");
    strcpy(a.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
        die("output socket %s: %s", path, strerror(errno));
    {
        struct stat sb;

        out_ino = stat(path, &sb) ? 0 : sb.st_ino;
    }
    return fd;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *colon = strrchr(s, ':');

    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    a->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 && a->sin_port ? 0 : -1;
}

/* ---- ring ---- */
static struct simxen_net_ring *ring;
static char ring_path[512];
static ino_t ring_ino;

static void take_ring(uint32_t domid)
{
    struct stat sb;
    int32_t old;

    ring = simxen_net_map(NULL, domid);
    if (!ring)
        die("domain %u has no network device: %s", domid, strerror(errno));
    simxen_net_path(NULL, domid, ring_path, sizeof(ring_path));
    if (stat(ring_path, &sb))
        die("%s: %s", ring_path, strerror(errno));
    ring_ino = sb.st_ino;
    old = atomic_load(&ring->consumer_pid);
    if (old > 0 && old != getpid() && kill(old, SIGTERM) == 0) {
        for (int i = 0; i < 200 && kill(old, 0) == 0; i++)
            usleep(10000);
    }
    atomic_store(&ring->consumer_pid, getpid());
}

static int ring_gone(void)
{
    struct stat sb;

    return stat(ring_path, &sb) || sb.st_ino != ring_ino;
}

/* One packet from the ring, or 0 when it is empty. */
static int ring_get(pkt_t *p)
{
    uint64_t cons = atomic_load(&ring->cons);

    if (cons == atomic_load_explicit(&ring->prod, memory_order_acquire))
        return 0;
    *p = ring->slots[cons % SIMXEN_NET_SLOTS];
    if (p->len > SIMXEN_NET_PAYLOAD)
        p->len = SIMXEN_NET_PAYLOAD;
    atomic_store(&ring->cons, cons + 1);
    return 1;
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_failover = 1;
    else
        got_term = 1;
}

/* ---- primary: the compare ---- */
struct cmp {
    struct q P, S;                  /* held primary packets, secondary packets */
    uint32_t epoch;                 /* latest checkpoint the proxy was told about */
    int colo;                       /* control connection open: compare */
    int diverged, requested;        /* in this epoch */
    int bypass;
    unsigned int timeout_ms;
    int ctl;
};

static void request_checkpoint(struct cmp *c, const char *why)
{
    if (c->requested || c->ctl < 0)
        return;
    c->requested = 1;
    st.requests++;
    logmsg("Q %u %s\n", c->epoch, why);
    if (ctlmsg_send(c->ctl, "DO_CHECKPOINT"))
        fprintf(stderr, "%s: control connection: %s\n", prog, strerror(errno));
}

static void compare(struct cmp *c)
{
    while (c->P.n) {
        pkt_t *p = q_at(&c->P, 0), *s;

        if (!c->colo || c->bypass || p->epoch == 0) {
            release(p, "pass", &st.pass);
            q_pop(&c->P);
            continue;
        }
        if (p->epoch > c->epoch)    /* its checkpoint message is not processed yet */
            break;
        if (p->epoch < c->epoch) {  /* (flushed at the checkpoint; not reached) */
            release(p, "flush", &st.flush);
            q_pop(&c->P);
            continue;
        }
        while (c->S.n && q_at(&c->S, 0)->epoch < c->epoch)
            q_pop(&c->S);
        if (c->diverged || !c->S.n || q_at(&c->S, 0)->epoch > c->epoch)
            break;
        s = q_at(&c->S, 0);
        if (s->seq == p->seq && s->len == p->len && !memcmp(s->data, p->data, p->len)) {
            release(p, "cmp", &st.cmp);
            q_pop(&c->P);
            q_pop(&c->S);
            continue;
        }
        st.mismatches++;
        logmsg("M %u %llu %llu\n", c->epoch, (unsigned long long)p->seq,
               (unsigned long long)s->seq);
        c->diverged = 1;
        request_checkpoint(c, "mismatch");
        break;
    }
    if (c->P.n && c->colo && !c->requested &&
        clock_now_ms() - c->P.t[c->P.head] > c->timeout_ms) {
        st.timeouts++;
        request_checkpoint(c, "timeout");
    }
}

static void checkpoint(struct cmp *c)
{
    pkt_t p;

    /* The primary is suspended: everything it sent before is in the ring now. */
    while (ring_get(&p)) {
        logpkt('P', &p, NULL);
        if (q_push(&c->P, &p))
            die("primary queue overflow");
    }
    c->epoch = atomic_load(&ring->epoch);
    c->colo = 1;
    st.checkpoints++;
    logmsg("C %u\n", c->epoch);
    while (c->P.n && q_at(&c->P, 0)->epoch < c->epoch) {
        release(q_at(&c->P, 0), "flush", &st.flush);
        q_pop(&c->P);
    }
    while (c->S.n && q_at(&c->S, 0)->epoch < c->epoch)
        q_pop(&c->S);
    c->diverged = c->requested = 0;
    fflush(logf_);
}

/* The secondary's forwarder sends whole pkt_t structs over TCP, which may split them
 * anywhere: take the whole ones among the n bytes in sbuf, keep the rest at its start.
 * Returns the bytes kept. */
static size_t sec_input(struct cmp *c, char *sbuf, size_t n)
{
    size_t off = 0;
    pkt_t p;

    for (; n - off >= sizeof(pkt_t); off += sizeof(pkt_t)) {
        memcpy(&p, sbuf + off, sizeof(p));
        if (p.len > SIMXEN_NET_PAYLOAD)
            p.len = SIMXEN_NET_PAYLOAD;
        st.sec_rx++;
        if (q_push(&c->S, &p))
            q_pop(&c->S), q_push(&c->S, &p);
    }
    memmove(sbuf, sbuf + off, n - off);
    return n - off;
}

/* One control message from libxl (c->ctl is readable). */
static void ctl_input(struct cmp *c)
{
    char msg[128];

    if (ctlmsg_recv(c->ctl, msg, sizeof(msg), 0)) {
        /* libxl is done (replication over): the primary runs unprotected */
        fprintf(stderr, "%s: control connection closed: output passes through\n", prog);
        logmsg("E\n");
        close(c->ctl);
        c->ctl = -1;
        c->colo = 0;
    } else if (!strcmp(msg, "COLO_USERSPACE_PROXY_INIT")) {
        ctlmsg_send(c->ctl, "COLO_USERSPACE_PROXY_INIT");
    } else if (!strcmp(msg, "COLO_CHECKPOINT")) {
        checkpoint(c);
        ctlmsg_send(c->ctl, "COLO_CHECKPOINT_DONE");
    } else {
        fprintf(stderr, "%s: unknown control message \"%s\"\n", prog, msg);
    }
}

static int accept_client(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0)
        return -1;
    if (nclients == MAX_CLIENTS) {
        close(fd);
        return -1;
    }
    clients[nclients++] = fd;
    return 0;
}

static void print_stats(const char *mode)
{
    fprintf(stderr, "%s %s: released %llu (compared %llu, at checkpoints %llu, passed %llu; "
            "%llu with no client), secondary packets %llu, mismatches %llu, timeouts %llu, "
            "checkpoint requests %llu, checkpoints %llu\n", prog, mode,
            (unsigned long long)(st.cmp + st.flush + st.pass), (unsigned long long)st.cmp,
            (unsigned long long)st.flush, (unsigned long long)st.pass,
            (unsigned long long)st.nobody, (unsigned long long)st.sec_rx,
            (unsigned long long)st.mismatches, (unsigned long long)st.timeouts,
            (unsigned long long)st.requests, (unsigned long long)st.checkpoints);
}

/* The fuzz harness (tools/tests/fuzz/) includes this file for the functions above. */
#ifndef COLO_PROXY_NO_MAIN
int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "domain", 1, 0, 'D' }, { "out", 1, 0, 'o' }, { "listen", 1, 0, 'l' },
        { "to", 1, 0, 't' }, { "control-fd", 1, 0, 'c' }, { "timeout", 1, 0, 'T' },
        { "bypass", 0, 0, 'b' }, { "log", 1, 0, 'L' }, { 0, 0, 0, 0 } };
    const char *mode, *out = NULL, *listen_s = NULL, *to_s = NULL, *log_s = NULL;
    struct cmp c = { .timeout_ms = 300, .ctl = -1 };
    struct sockaddr_in peer;
    struct sigaction sa;
    uint32_t domid = 0;
    int opt, lsec = -1, sec = -1, have_dom = 0, ctl_was_open = 0;
    char sbuf[sizeof(pkt_t) * 64];
    size_t sbuf_n = 0;
    char *wbuf = NULL;
    size_t wbuf_n = 0, wbuf_cap = 1 << 20;
    uint64_t next_connect = 0, next_check = 0;

    if (argc < 2 || (strcmp(argv[1], "primary") && strcmp(argv[1], "secondary") &&
                     strcmp(argv[1], "direct"))) {
        fprintf(stderr, "usage: colo-proxy primary|secondary|direct --domain ID --out PATH "
                "[--listen IP:PORT] [--to IP:PORT] [--control-fd FD] [--timeout MS] "
                "[--bypass] [--log FILE]\n");
        return 2;
    }
    mode = argv[1];
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case 'D': domid = (uint32_t)strtoul(optarg, NULL, 10); have_dom = 1; break;
        case 'o': out = optarg; break;
        case 'l': listen_s = optarg; break;
        case 't': to_s = optarg; break;
        case 'c': c.ctl = atoi(optarg); break;
        case 'T': c.timeout_ms = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 'b': c.bypass = 1; break;
        case 'L': log_s = optarg; break;
        default: return 2;
        }
    }
    if (!have_dom || !out)
        die("--domain and --out are required");
    if (!strcmp(mode, "primary") && !listen_s)
        die("primary needs --listen IP:PORT (where the secondary's packets arrive)");
    if (!strcmp(mode, "secondary") && (!to_s || parse_addr(to_s, &peer)))
        die("secondary needs --to IP:PORT (the primary's proxy)");
    if (log_s && !(logf_ = fopen(log_s, "a")))
        die("%s: %s", log_s, strerror(errno));
    if (logf_)
        setvbuf(logf_, NULL, _IOLBF, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    q_init(&c.P);
    q_init(&c.S);

    take_ring(domid);
    if (!strcmp(mode, "primary")) {
        struct sockaddr_in a;
        int one = 1;

        if (parse_addr(listen_s, &a))
            die("bad --listen address %s", listen_s);
        lsec = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        setsockopt(lsec, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (lsec < 0 || bind(lsec, (struct sockaddr *)&a, sizeof(a)) || listen(lsec, 4))
            die("listening on %s: %s", listen_s, strerror(errno));
        if (c.ctl >= 0)
            ctl_was_open = 1;
        out_fd = listen_unix(out);
    } else if (!strcmp(mode, "secondary")) {
        wbuf = malloc(wbuf_cap);
        if (!wbuf)
            die("out of memory");
    } else {
        out_fd = listen_unix(out);
    }
    fprintf(stderr, "%s %s: domain %u, output %s%s%s%s%s\n", prog, mode, domid, out,
            listen_s ? ", secondary in " : "", listen_s ? listen_s : "",
            to_s ? ", forwarding to " : "", to_s ? to_s : "");

    while (!got_term) {
        struct pollfd pf[4 + MAX_CLIENTS];
        int n = 0, i_out = -1, i_lsec = -1, i_sec = -1, i_ctl = -1, i_cl = -1;
        pkt_t p;
        uint64_t now = clock_now_ms();

        if (now >= next_check) {
            next_check = now + 200;
            if (ring_gone())
                break;
        }
        if (got_failover && !strcmp(mode, "secondary")) {
            /* the survivor: its output goes straight to the clients */
            fprintf(stderr, "%s: failover: serving the output of domain %u directly\n", prog,
                    domid);
            logmsg("F\n");
            mode = "direct";
            if (sec >= 0)
                close(sec);
            sec = -1;
            out_fd = listen_unix(out);
        }
        /* the ring (a primary holding too much leaves packets in the ring: the guest
         * then waits, as for a full NIC queue; room stays for one ring at a checkpoint) */
        while ((strcmp(mode, "primary") || c.P.n < QMAX - SIMXEN_NET_SLOTS) && ring_get(&p)) {
            if (!strcmp(mode, "primary")) {
                logpkt('P', &p, NULL);
                if (q_push(&c.P, &p))
                    die("primary queue overflow");
            } else if (!strcmp(mode, "secondary")) {
                logpkt('S', &p, NULL);
                if (sec >= 0 && wbuf_n + sizeof(p) <= wbuf_cap) {
                    memcpy(wbuf + wbuf_n, &p, sizeof(p));
                    wbuf_n += sizeof(p);
                }
            } else {
                logpkt('P', &p, NULL);
                release(&p, "pass", &st.pass);
            }
        }
        if (!strcmp(mode, "secondary")) {
            if (sec < 0 && now >= next_connect) {
                next_connect = now + 200;
                sec = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (sec >= 0 && connect(sec, (struct sockaddr *)&peer, sizeof(peer))) {
                    close(sec);
                    sec = -1;
                } else if (sec >= 0) {
                    int one = 1;

                    setsockopt(sec, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    fcntl(sec, F_SETFL, O_NONBLOCK);
                    fprintf(stderr, "%s: connected to the primary's proxy %s\n", prog, to_s);
                    wbuf_n = 0;
                }
            }
            if (sec >= 0 && wbuf_n) {
                ssize_t w = send(sec, wbuf, wbuf_n, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (w > 0) {
                    memmove(wbuf, wbuf + w, wbuf_n - (size_t)w);
                    wbuf_n -= (size_t)w;
                } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    close(sec);
                    sec = -1;
                    wbuf_n = 0;
                }
            }
        }
        if (!strcmp(mode, "primary"))
            compare(&c);

        if (out_fd >= 0) {
            i_out = n;
            pf[n++] = (struct pollfd){ out_fd, POLLIN, 0 };
        }
        if (lsec >= 0) {
            i_lsec = n;
            pf[n++] = (struct pollfd){ lsec, POLLIN, 0 };
        }
        if (sec >= 0) {
            i_sec = n;
            pf[n++] = (struct pollfd){ sec, POLLIN, 0 };
        }
        if (c.ctl >= 0) {
            i_ctl = n;
            pf[n++] = (struct pollfd){ c.ctl, POLLIN, 0 };
        }
        i_cl = n;
        for (int i = 0; i < nclients; i++)
            pf[n++] = (struct pollfd){ clients[i], POLLIN, 0 };
        if (poll(pf, (nfds_t)n, 2) <= 0)
            continue;
        if (i_out >= 0 && (pf[i_out].revents & POLLIN))
            accept_client(out_fd);
        if (i_lsec >= 0 && (pf[i_lsec].revents & POLLIN)) {
            int fd = accept4(lsec, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

            if (fd >= 0) {
                if (sec >= 0)
                    close(sec);
                sec = fd;
                sbuf_n = 0;
                fprintf(stderr, "%s: the secondary's forwarder connected\n", prog);
            }
        }
        if (i_sec >= 0 && (pf[i_sec].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(sec, sbuf + sbuf_n, sizeof(sbuf) - sbuf_n);

            if (r <= 0) {
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(sec);
                    sec = -1;
                    if (!strcmp(mode, "primary"))
                        fprintf(stderr, "%s: the secondary's forwarder went away\n", prog);
                }
            } else if (!strcmp(mode, "primary")) {
                sbuf_n = sec_input(&c, sbuf, sbuf_n + (size_t)r);
            }
        }
        if (i_ctl >= 0 && (pf[i_ctl].revents & (POLLIN | POLLHUP | POLLERR)))
            ctl_input(&c);
        for (int i = 0; i < nclients; i++) {
            char junk[256];

            if (pf[i_cl + i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = recv(clients[i], junk, sizeof(junk), MSG_DONTWAIT);

                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    /* compact both arrays: stop scanning this round */
                    drop_client(i);
                    break;
                }
            }
        }
    }
    (void)ctl_was_open;
    print_stats(mode);
    if (atomic_load(&ring->consumer_pid) == getpid())
        atomic_store(&ring->consumer_pid, 0);
    if (out_fd >= 0) {
        struct stat sb;

        /* not when another proxy bound the path since (a takeover, or the domain's
         * next copy on this host) */
        if (!stat(out, &sb) && sb.st_ino == out_ino)
            unlink(out);
    }
    return 0;
}
#endif /* COLO_PROXY_NO_MAIN */
