/*
 * The COLO compare proxy's input parsing on one input: its control messages from libxl,
 * the secondary's packet stream (arbitrarily split, as TCP delivers it), the packets
 * the guest puts in its transmit ring, and the compare that decides what is released;
 * and libxl's reader of the proxy's control messages.
 *
 * Byte 0: bit 0 selects libxl's reader (ctlmsg_recv over the rest, message
 * by message); else the proxy runs a script of operations (one byte each, then its
 * arguments): a guest packet into the ring, secondary bytes, a control message, raw
 * control bytes (ending the connection when they stop inside a message, where the proxy
 * would wait for the rest), a new ring epoch; bit 1 is --bypass.  The proxy's answers
 * are read back with libxl's reader.  colo-proxy.c is compiled in without its main.
 */
#include <sys/ioctl.h>

#define COLO_PROXY_NO_MAIN
/* The proxy's own static functions that this harness does not call. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-function"
#include "../../misc/colo-proxy.c"
#pragma clang diagnostic pop

#include "fuzz.h"
#include "libxl_colo_proxy.h"

static struct cmp c;
static int client_peer = -1, ctl_peer = -1, msg_fd;
static char sbuf[sizeof(pkt_t) * 64];
static size_t sbuf_n;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ring = calloc(1, sizeof(*ring));
    if (!ring)
        exit(2);
    q_init(&c.P);
    q_init(&c.S);
    msg_fd = fuzz_memfd("fuzz-proxy-msgs");
    signal(SIGPIPE, SIG_IGN);
    return 0;
}


static void reset(int bypass)
{
    int sv[2];

    for (int i = 0; i < nclients; i++)
        close(clients[i]);
    nclients = 0;
    if (client_peer >= 0)
        close(client_peer);
    if (ctl_peer >= 0)
        close(ctl_peer);
    if (c.ctl >= 0)
        close(c.ctl);
    c.P.head = c.P.n = c.S.head = c.S.n = 0;
    c.epoch = 0;
    c.colo = c.diverged = c.requested = 0;
    c.bypass = bypass;
    /* No held packet times out during a run: the outcome depends on the input only. */
    c.timeout_ms = ~0U >> 1;
    memset(&st, 0, sizeof(st));
    atomic_store(&ring->prod, 0);
    atomic_store(&ring->cons, 0);
    atomic_store(&ring->epoch, 0);
    sbuf_n = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        exit(2);
    clients[nclients++] = sv[0];
    client_peer = sv[1];
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        exit(2);
    c.ctl = sv[0];
    ctl_peer = sv[1];
}

/* What the proxy released, one line per packet: "<epoch> <seq> <hex>". */
static void drain_clients(void)
{
    char buf[4096];

    while (recv(client_peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}

/* The proxy's answers, as libxl reads them. */
static void drain_ctl(void)
{
    char msg[64];
    int avail = 0;

    while (ioctl(ctl_peer, FIONREAD, &avail) == 0 && avail > 0) {
        if (ctlmsg_recv(ctl_peer, msg, sizeof(msg), 1000))
            fuzz_fail("libxl cannot read the proxy's answer: %s", strerror(errno));
        if (strcmp(msg, "COLO_USERSPACE_PROXY_INIT") && strcmp(msg, "COLO_CHECKPOINT_DONE") &&
            strcmp(msg, "DO_CHECKPOINT"))
            fuzz_fail("the proxy answered \"%s\"", msg);
    }
}

/* A control message is waiting whole (the proxy reads it blocking). */
static int ctl_whole(void)
{
    int avail = 0;
    uint32_t len;

    if (ioctl(c.ctl, FIONREAD, &avail) || avail < 4)
        return 0;
    if (recv(c.ctl, &len, 4, MSG_PEEK) != 4)
        return 0;
    len = ntohl(len);
    return len >= 128 || (uint64_t)avail >= 4 + (uint64_t)len;
}

static void ctl_end(void)
{
    shutdown(ctl_peer, SHUT_WR);
    ctl_input(&c);
    if (c.ctl >= 0)
        fuzz_fail("control connection kept open after its end");
}

static void guest_packet(struct in *in)
{
    pkt_t p;

    take(in, &p, sizeof(p));
    if (atomic_load(&ring->prod) - atomic_load(&ring->cons) < SIMXEN_NET_SLOTS) {
        ring->slots[atomic_load(&ring->prod) % SIMXEN_NET_SLOTS] = p;
        atomic_fetch_add(&ring->prod, 1);
    }
    /* As the proxy's main loop drains the ring. */
    while (c.P.n < QMAX - SIMXEN_NET_SLOTS && ring_get(&p)) {
        if (p.len > SIMXEN_NET_PAYLOAD)
            fuzz_fail("ring_get passed a packet of %u bytes", p.len);
        if (q_push(&c.P, &p))
            fuzz_fail("primary queue overflow");
    }
}

static void proxy_script(struct in *in)
{
    while (in->p < in->end) {
        uint8_t op = 0, n = 0;
        uint8_t buf[256 + 4];
        uint32_t be, epoch;

        take(in, &op, 1);
        switch (op % 5) {
        case 0:
            guest_packet(in);
            break;
        case 1:   /* secondary bytes */
            take(in, &n, 1);
            if (n > sizeof(sbuf) - sbuf_n)
                n = (uint8_t)(sizeof(sbuf) - sbuf_n);
            n = (uint8_t)take(in, sbuf + sbuf_n, n);
            sbuf_n = sec_input(&c, sbuf, sbuf_n + n);
            if (sbuf_n >= sizeof(pkt_t))
                fuzz_fail("%zu secondary bytes left undeframed", sbuf_n);
            for (size_t i = 0; i < c.S.n; i++)
                if (q_at(&c.S, i)->len > SIMXEN_NET_PAYLOAD)
                    fuzz_fail("a secondary packet of %u bytes queued", q_at(&c.S, i)->len);
            break;
        case 2:   /* a whole control message */
            if (c.ctl < 0)
                break;
            take(in, &n, 1);
            n = (uint8_t)take(in, buf + 4, n);
            be = htonl(n);
            memcpy(buf, &be, 4);
            if (send(ctl_peer, buf, 4 + (size_t)n, MSG_NOSIGNAL) != 4 + (ssize_t)n)
                exit(2);
            ctl_input(&c);
            break;
        case 3:   /* raw control bytes */
            if (c.ctl < 0)
                break;
            take(in, &n, 1);
            n = (uint8_t)take(in, buf, n);
            if (n && send(ctl_peer, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
                exit(2);
            while (c.ctl >= 0 && ctl_whole())
                ctl_input(&c);
            if (c.ctl >= 0) {
                int avail = 0;

                if (!ioctl(c.ctl, FIONREAD, &avail) && avail > 0)
                    ctl_end();
            }
            break;
        case 4:   /* libxl's libxl__colo_net_epoch at a checkpoint */
            take(in, &epoch, 4);
            atomic_store(&ring->epoch, epoch);
            break;
        }
        compare(&c);
        if (c.P.n > QMAX || c.S.n > QMAX)
            fuzz_fail("queue of %zu / %zu packets", c.P.n, c.S.n);
        drain_clients();
        if (ctl_peer >= 0)
            drain_ctl();
    }
}

static void libxl_reader(struct in *in)
{
    char msg[64];

    fuzz_memfd_load(msg_fd, in->p, (size_t)(in->end - in->p));
    while (!ctlmsg_recv(msg_fd, msg, sizeof(msg), 0))
        if (strlen(msg) >= sizeof(msg))
            fuzz_fail("ctlmsg_recv: unterminated message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, data + size };
    uint8_t sel = 0;

    take(&in, &sel, 1);
    if (sel & 1) {
        libxl_reader(&in);
        return 0;
    }
    reset(sel & 2);
    proxy_script(&in);
    return 0;
}
