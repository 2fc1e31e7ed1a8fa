/*
 * colo-vif-proxy: COLO's compare proxy on real network interfaces (docs/colo-proxy.md,
 * "Real vifs").  In dom0 of the primary's host, between three interfaces that carry
 * Ethernet frames and are on no bridge themselves:
 *
 *   colo-vif-proxy --uplink IF --primary IF --secondary IF
 *                  [--control-fd FD | --control-socket PATH] [--timeout MS] [--bypass]
 *                  [--log FILE] [--trace]
 *
 * --uplink is the proxy's port towards the clients (one end of a veth pair whose other
 * end is on the guests' bridge); --primary and --secondary are the two guests' vifs
 * (netback's vifD.N) or, in tests, veths.  Frames from the uplink go to both guests,
 * the secondary's copy with the ACKs of connections opened since the last checkpoint
 * rewritten into its own sequence space.  Frames the guests send are compared per flow
 * by the comparison core (tools/libs/netcompare); a primary frame goes to the uplink
 * once the secondary sent the same.  A mismatch, a frame held past --timeout ms, or a
 * full buffer asks libxl for a checkpoint ("DO_CHECKPOINT" on the control fd);
 * "COLO_CHECKPOINT" (both guests stopped) releases the held primary frames, answered
 * by "COLO_CHECKPOINT_DONE".  Once the control connection is gone the primary's frames
 * pass straight through (replication over).  Failover: SIGUSR1, the secondary takes
 * over (its frames go out rewritten into the primary's sequence numbers, and the frames
 * to it rewritten back); SIGUSR2, the primary stays alone.  --bypass releases the
 * primary's frames without comparing (tests use it to show that they notice).
 * --control-socket PATH: the control connection is the first one accepted on that unix
 * socket (before anything is compared).  --trace
 * logs the first 64 bytes of every frame.
 *
 * Frames arrive with the kernel's offload state (checksums left to the hardware,
 * segments up to 64 KiB): they are finished into what the wire would carry before
 * anything else sees them.  At exit (SIGTERM, SIGINT) and at every checkpoint the log
 * gets a line "@@VIFPROXY ..." with the comparison's counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "netcompare.h"
#include "xutil.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

enum port_id { UPLINK, PRIMARY, SECONDARY, NPORTS };
static const char *const port_name[NPORTS] = { "uplink", "primary", "secondary" };

enum mode {
    COMPARE,          /* replication on: the secondary's frames decide */
    PRIMARY_ALONE,    /* replication over, or the secondary failed */
    SECONDARY_ALONE,  /* failed over to the secondary */
};

struct proxy {
    int fd[NPORTS];
    const char *ifname[NPORTS];
    int ctl;
    int bypass;
    int trace;                       /* log every finished frame (diagnosis) */
    int asked;                       /* DO_CHECKPOINT sent, no COLO_CHECKPOINT yet */
    enum mode mode;
    netcompare *nc;
    struct netcompare_offset *tab;   /* SECONDARY_ALONE: the rewriting to keep applying */
    size_t ntab;
    uint64_t send_errors, unfinished;
    FILE *log;
};

static volatile sig_atomic_t sig_failover, sig_stop;
static void on_signal(int sig)
{
    if (sig == SIGUSR1 || sig == SIGUSR2)
        sig_failover = sig;
    else
        sig_stop = 1;
}

static void say(struct proxy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct proxy *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(p->log, fmt, ap);
    va_end(ap);
    fputc('\n', p->log);
    fflush(p->log);
}

static void stats_line(struct proxy *p, const char *when)
{
    struct netcompare_stats st;

    netcompare_get_stats(p->nc, &st);
    say(p, "@@VIFPROXY %s in_primary=%llu in_secondary=%llu matched=%llu mismatches=%llu "
        "timeouts=%llu checkpoints=%llu released_at_checkpoint=%llu dropped_at_checkpoint=%llu "
        "limit_drops=%llu/%llu offsets=%llu held=%u send_errors=%llu unfinished=%llu "
        "at=%.2f", when,
        (unsigned long long)st.in[0], (unsigned long long)st.in[1],
        (unsigned long long)st.matched, (unsigned long long)st.mismatches,
        (unsigned long long)st.timeouts, (unsigned long long)st.checkpoints,
        (unsigned long long)st.released_at_checkpoint,
        (unsigned long long)st.dropped_at_checkpoint, (unsigned long long)st.limit_drops[0],
        (unsigned long long)st.limit_drops[1], (unsigned long long)st.offsets_learnt,
        st.held_frames, (unsigned long long)p->send_errors, (unsigned long long)p->unfinished,
        (double)clock_now_ns() / 1e9);   /* monotonic: the host's uptime, for the logs */
}

/* A packet socket on one interface: every frame it receives (not the ones we send),
 * whatever its destination address, with the offload header before it. */
static int open_port(const char *ifname)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
    struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
    int one = 1, fd;

    sll.sll_ifindex = (int)if_nametoindex(ifname);
    if (!sll.sll_ifindex)
        return -1;
    mr.mr_ifindex = sll.sll_ifindex;
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
        bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
        setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Out of port: a finished frame, with an offload header that asks for nothing. */
static void port_send(struct proxy *p, enum port_id port, const uint8_t *frame, size_t len)
{
    struct netcompare_vnet_hdr vh = { 0 };
    struct iovec iov[2] = { { &vh, sizeof(vh) }, { (void *)frame, len } };

    if (writev(p->fd[port], iov, 2) < 0 && p->send_errors++ < 10)
        say(p, "sending %zu bytes to %s (%s): %s", len, port_name[port], p->ifname[port],
            strerror(errno));
}

static void release(void *opaque, const uint8_t *frame, size_t len)
{
    port_send(opaque, UPLINK, frame, len);
}

static void ask_checkpoint(struct proxy *p)
{
    if (p->asked || !netcompare_wanted(p->nc))
        return;
    p->asked = 1;
    say(p, "checkpoint wanted: %s", netcompare_reason(p->nc));
    if (p->ctl >= 0 && ctlmsg_send(p->ctl, "DO_CHECKPOINT"))
        say(p, "control connection: %s", strerror(errno));
}

/* ---- one finished frame from each port ---- */
struct from {
    struct proxy *p;
    enum port_id port;
};

static void from_uplink(struct proxy *p, uint8_t *frame, size_t len)
{
    static uint8_t sec[NETCOMPARE_MAX_FRAME];

    switch (p->mode) {
    case COMPARE:
        port_send(p, PRIMARY, frame, len);
        if (!netcompare_inbound(p->nc, frame, len, sec, sizeof(sec)))
            port_send(p, SECONDARY, sec, len);
        break;
    case PRIMARY_ALONE:
        port_send(p, PRIMARY, frame, len);
        break;
    case SECONDARY_ALONE:
        netcompare_rewrite(p->tab, p->ntab, NETCOMPARE_IN, frame, len);
        port_send(p, SECONDARY, frame, len);
        break;
    }
}

static void from_guest(struct proxy *p, enum port_id port, uint8_t *frame, size_t len)
{
    if (p->mode == PRIMARY_ALONE) {
        if (port == PRIMARY)
            port_send(p, UPLINK, frame, len);
        return;
    }
    if (p->mode == SECONDARY_ALONE) {
        if (port == SECONDARY) {
            netcompare_rewrite(p->tab, p->ntab, NETCOMPARE_OUT, frame, len);
            port_send(p, UPLINK, frame, len);
        }
        return;
    }
    if (p->bypass) {
        if (port == PRIMARY)
            port_send(p, UPLINK, frame, len);
        return;
    }
    if (netcompare_input(p->nc, port == PRIMARY ? NETCOMPARE_PRIMARY : NETCOMPARE_SECONDARY,
                         frame, len))
        say(p, "%s frame of %zu bytes: %s", port_name[port], len, strerror(errno));
    ask_checkpoint(p);
}

static void finished(void *opaque, uint8_t *frame, size_t len)
{
    struct from *f = opaque;

    if (f->p->trace) {
        char hex[2 * 64 + 1];
        size_t n = len < 64 ? len : 64;

        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", frame[i]);
        say(f->p, "frame %s %zu %s", port_name[f->port], len, hex);
    }

    if (f->port == UPLINK)
        from_uplink(f->p, frame, len);
    else
        from_guest(f->p, f->port, frame, len);
}

/* Everything port has for us now. */
static void drain(struct proxy *p, enum port_id port)
{
    static uint8_t buf[sizeof(struct netcompare_vnet_hdr) + NETCOMPARE_MAX_FRAME];
    struct from f = { p, port };

    for (int i = 0; i < 256; i++) {
        struct netcompare_vnet_hdr vh;
        ssize_t n = recv(p->fd[port], buf, sizeof(buf), MSG_TRUNC);

        if (n < 0)
            return;
        if ((size_t)n > sizeof(buf) || (size_t)n < sizeof(vh)) {
            p->unfinished++;
            continue;
        }
        memcpy(&vh, buf, sizeof(vh));
        if (netcompare_finish(&vh, buf + sizeof(vh), (size_t)n - sizeof(vh), finished, &f) &&
            p->unfinished++ < 10)
            say(p, "%s: a frame of %zd bytes not finished (gso %u): %s", port_name[port],
                n - (ssize_t)sizeof(vh), vh.gso_type, strerror(errno));
    }
}

static void control_input(struct proxy *p)
{
    char msg[128];

    if (ctlmsg_recv(p->ctl, msg, sizeof(msg), 0)) {
        say(p, "control connection closed: the primary's frames pass through");
        close(p->ctl);
        p->ctl = -1;
        if (p->mode == COMPARE) {
            netcompare_checkpoint(p->nc);
            p->mode = PRIMARY_ALONE;
        }
    } else if (!strcmp(msg, "COLO_USERSPACE_PROXY_INIT")) {
        ctlmsg_send(p->ctl, "COLO_USERSPACE_PROXY_INIT");
    } else if (!strcmp(msg, "COLO_CHECKPOINT")) {
        /* both guests are stopped: what they sent before is all in the sockets */
        for (int i = PRIMARY; i < NPORTS; i++)
            drain(p, (enum port_id)i);
        netcompare_checkpoint(p->nc);
        p->asked = 0;
        stats_line(p, "checkpoint");
        ctlmsg_send(p->ctl, "COLO_CHECKPOINT_DONE");
    } else {
        say(p, "unknown control message \"%.60s\"", msg);
    }
}

static void failover(struct proxy *p, int to_secondary)
{
    if (p->mode != COMPARE)
        return;
    if (netcompare_failover(p->nc, to_secondary ? NETCOMPARE_SECONDARY : NETCOMPARE_PRIMARY,
                            &p->tab, &p->ntab)) {
        say(p, "failover: %s", strerror(errno));
        return;
    }
    p->mode = to_secondary ? SECONDARY_ALONE : PRIMARY_ALONE;
    say(p, "failover: the %s runs alone (%zu connections rewritten)",
        to_secondary ? "secondary" : "primary", p->ntab);
}

/* --control-socket: libxl's side (or xhv-sr colo -P) connects once; the proxy starts
 * comparing when it has. */
static int control_accept(struct proxy *p, const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int l;

    if (strlen(path) >= sizeof(a.sun_path)) {
        say(p, "colo-vif-proxy: control socket path %s is too long", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    unlink(path);
    l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
        (p->ctl = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
        say(p, "colo-vif-proxy: control socket %s: %s", path, strerror(errno));
        if (l >= 0)
            close(l);
        return -1;
    }
    close(l);
    unlink(path);
    say(p, "colo-vif-proxy: control connection on %s", path);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: colo-vif-proxy --uplink IF --primary IF --secondary IF "
                    "[--control-fd FD | --control-socket PATH] [--timeout MS] [--bypass] "
                    "[--log FILE] [--trace]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "uplink", 1, 0, 'u' }, { "primary", 1, 0, 'p' }, { "secondary", 1, 0, 's' },
        { "control-fd", 1, 0, 'c' }, { "timeout", 1, 0, 'T' }, { "bypass", 0, 0, 'b' },
        { "log", 1, 0, 'l' }, { "trace", 0, 0, 't' }, { "control-socket", 1, 0, 'S' },
        { 0, 0, 0, 0 },
    };
    struct proxy p = { .fd = { -1, -1, -1 }, .ctl = -1, .log = stderr };
    struct netcompare_limits lim = { 0 };
    struct netcompare_ops ops = { .release = release, .opaque = &p };
    struct sigaction sa = { .sa_handler = on_signal };
    const char *ctl_path = NULL;
    int opt, rc = 1;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': p.ifname[UPLINK] = optarg; break;
        case 'p': p.ifname[PRIMARY] = optarg; break;
        case 's': p.ifname[SECONDARY] = optarg; break;
        case 'c': p.ctl = atoi(optarg); break;
        case 'S': ctl_path = optarg; break;
        case 'T': lim.timeout_ns = strtoull(optarg, NULL, 10) * 1000000ULL; break;
        case 'b': p.bypass = 1; break;
        case 't': p.trace = 1; break;
        case 'l':
            if (!(p.log = fopen(optarg, "a"))) {
                fprintf(stderr, "colo-vif-proxy: %s: %s\n", optarg, strerror(errno));
                return 1;
            }
            break;
        default: usage();
        }
    }
    if (!p.ifname[UPLINK] || !p.ifname[PRIMARY] || !p.ifname[SECONDARY] || optind != argc)
        usage();
    for (int i = 0; i < NPORTS; i++)
        if ((p.fd[i] = open_port(p.ifname[i])) < 0) {
            say(&p, "colo-vif-proxy: %s interface %s: %s", port_name[i], p.ifname[i],
                strerror(errno));
            goto out;
        }
    if (ctl_path && control_accept(&p, ctl_path))
        goto out;
    p.nc = netcompare_new(&lim, &ops);
    if (!p.nc) {
        say(&p, "colo-vif-proxy: %s", strerror(errno));
        goto out;
    }
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    say(&p, "colo-vif-proxy: uplink %s, primary %s, secondary %s%s", p.ifname[UPLINK],
        p.ifname[PRIMARY], p.ifname[SECONDARY], p.bypass ? " (bypass: no comparison)" : "");
    while (!sig_stop) {
        struct pollfd pf[NPORTS + 1];
        uint64_t dl = netcompare_deadline(p.nc), now = clock_now_ns();
        int n = NPORTS, tmo = 1000;

        for (int i = 0; i < NPORTS; i++)
            pf[i] = (struct pollfd){ .fd = p.fd[i], .events = POLLIN };
        if (p.ctl >= 0)
            pf[n++] = (struct pollfd){ .fd = p.ctl, .events = POLLIN };
        if (dl != UINT64_MAX)
            tmo = dl <= now ? 0 : (int)((dl - now) / 1000000 + 1);
        if (poll(pf, (nfds_t)n, tmo > 1000 ? 1000 : tmo) < 0 && errno != EINTR)
            break;
        if (sig_failover) {
            failover(&p, sig_failover == SIGUSR1);
            sig_failover = 0;
        }
        for (int i = 0; i < NPORTS; i++)
            if (pf[i].revents)
                drain(&p, (enum port_id)i);
        if (p.ctl >= 0 && pf[NPORTS].revents)
            control_input(&p);
        if (p.mode == COMPARE) {
            netcompare_poll(p.nc);
            ask_checkpoint(&p);
        }
    }
    stats_line(&p, "exit");
    rc = 0;
 out:
    for (int i = 0; i < NPORTS; i++)
        if (p.fd[i] >= 0)
            close(p.fd[i]);
    if (p.nc)
        netcompare_free(p.nc);
    free(p.tab);
    if (p.log != stderr)
        fclose(p.log);
    return rc;
}
