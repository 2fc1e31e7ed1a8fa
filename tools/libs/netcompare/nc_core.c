/*
 * The comparison core: frames in, queued per flow, compared head to head, the primary's
 * released on a match.  Memory is bounded by the limits; a frame no limit lets be held
 * is dropped and a checkpoint is asked for (the checkpoint empties every queue, and a
 * dropped primary frame is one the guest's TCP retransmits or its UDP lost).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_handle.h"
#include "xutil.h"

static const struct netcompare_limits defaults = {
    .max_flows = 256,
    .flow_max_frames = 1024,
    .flow_max_bytes = 1u << 20,
    .max_frames = 8192,
    .max_bytes = 16u << 20,
    .max_conns = 1024,
    .timeout_ns = 3000000000ull,
};

static const char *side_name[2] = { "primary", "secondary" };

static uint64_t now(const netcompare *nc)
{
    return nc->ops.now ? nc->ops.now(nc->ops.opaque) : clock_now_ns();
}

void nc_flow_name(const struct netcompare_pkt *pkt, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int af = pkt->flow.family == 6 ? AF_INET6 : AF_INET;

    if (pkt->cls == NETCOMPARE_OTHER || pkt->cls == NETCOMPARE_MALFORMED) {
        snprintf(buf, size, "%s frame (%s)", netcompare_class_name(pkt->cls), pkt->why);
        return;
    }
    inet_ntop(af, pkt->flow.src, a, sizeof(a));
    inet_ntop(af, pkt->flow.dst, b, sizeof(b));
    if (pkt->cls == NETCOMPARE_ICMP)
        snprintf(buf, size, "icmp %s > %s", a, b);
    else
        snprintf(buf, size, "%s %s:%u > %s:%u", netcompare_class_name(pkt->cls), a,
                 pkt->flow.sport, b, pkt->flow.dport);
}

/* Sets a reason bit; the text of the first one is kept. */
static void want(netcompare *nc, unsigned int bit, const struct netcompare_pkt *pkt,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void want(netcompare *nc, unsigned int bit, const struct netcompare_pkt *pkt,
                 const char *fmt, ...)
{
    char flow[128], what[64];
    va_list ap;

    if (!nc->wanted) {
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        nc_flow_name(pkt, flow, sizeof(flow));
        snprintf(nc->reason, sizeof(nc->reason), "%s on %s: %s",
                 bit == NETCOMPARE_WANT_MISMATCH ? "mismatch"
                 : bit == NETCOMPARE_WANT_TIMEOUT ? "timeout" : "limit", flow, what);
    }
    nc->wanted |= bit;
}

netcompare *netcompare_new(const struct netcompare_limits *lim, const struct netcompare_ops *ops)
{
    netcompare *nc = NULL;
    int err = EINVAL;

    if (!ops || !ops->release)
        goto fail;
    err = ENOMEM;
    nc = calloc(1, sizeof(*nc));
    if (!nc)
        goto fail;
    nc->lim = lim ? *lim : defaults;
    nc->ops = *ops;
#define DEFAULT(f) if (!nc->lim.f) nc->lim.f = defaults.f
    DEFAULT(max_flows);
    DEFAULT(flow_max_frames);
    DEFAULT(flow_max_bytes);
    DEFAULT(max_frames);
    DEFAULT(max_bytes);
    DEFAULT(max_conns);
    DEFAULT(timeout_ns);
#undef DEFAULT
    nc->flow = calloc((size_t)nc->lim.max_flows + 1, sizeof(*nc->flow));
    nc->conn_off = calloc(nc->lim.max_conns, sizeof(*nc->conn_off));
    if (!nc->flow || !nc->conn_off)
        goto fail;
    if (nc_table_init(&nc->flows, nc->lim.max_flows) ||
        nc_table_init(&nc->conns, nc->lim.max_conns)) {
        err = errno;
        goto fail;
    }
    return nc;
fail:
    netcompare_free(nc);
    errno = err;
    return NULL;
}

void netcompare_free(netcompare *nc)
{
    if (!nc)
        return;
    if (nc->flow)
        nc_reset(nc);
    nc_table_destroy(&nc->flows);
    nc_table_destroy(&nc->conns);
    free(nc->flow);
    free(nc->conn_off);
    free(nc);
}

void nc_frame_drop(netcompare *nc, struct nc_frame *f, enum netcompare_side side)
{
    struct nc_queue *q = &nc->flow[f->flow].q[side];

    /* Frames leave a flow from its head only: matched, or all of them at a reset. */
    q->head = f->fnext;
    if (!q->head)
        q->tail = NULL;
    q->frames--;
    q->bytes -= f->len;
    if (f->gprev)
        f->gprev->gnext = f->gnext;
    else
        nc->ghead[side] = f->gnext;
    if (f->gnext)
        f->gnext->gprev = f->gprev;
    else
        nc->gtail[side] = f->gprev;
    nc->st.held_frames--;
    nc->st.held_bytes -= f->len;
    free(f);
}

void nc_reset(netcompare *nc)
{
    for (int side = 0; side < 2; side++)
        while (nc->ghead[side]) {
            struct nc_frame *f = nc->ghead[side];

            /* the arrival list and the flow queues agree on each flow's order, so a
             * list head is its flow's head */
            nc_frame_drop(nc, f, (enum netcompare_side)side);
        }
    memset(nc->flow, 0, ((size_t)nc->lim.max_flows + 1) * sizeof(*nc->flow));
    nc_table_clear(&nc->flows);
    nc_table_clear(&nc->conns);
}

/* The offset for comparing this pair, learnt when both open a connection. */
static uint32_t seq_offset(netcompare *nc, const struct nc_frame *p, const struct nc_frame *s)
{
    uint32_t i = nc_table_find(&nc->conns, &p->pkt.flow), off;

    if (!(p->pkt.tcp_flags & s->pkt.tcp_flags & NETCOMPARE_TCP_SYN))
        return i == NC_NONE ? 0 : nc->conn_off[i];
    /* Both guests open (or answer) the connection: their initial sequence numbers
     * differ by what the secondary's will differ by until the next checkpoint. */
    off = p->pkt.seq - s->pkt.seq;
    if (i == NC_NONE && off) {
        i = nc_table_add(&nc->conns, &p->pkt.flow);
        if (i == NC_NONE) {
            /* Compared without the offset it mismatches; the checkpoint then makes the
             * secondary's connection the primary's and empties the table. */
            want(nc, NETCOMPARE_WANT_LIMIT, &p->pkt, "%u connections with an offset",
                 nc->lim.max_conns);
            return 0;
        }
        nc->st.offsets_learnt++;
    }
    if (i != NC_NONE)
        nc->conn_off[i] = off;
    return off;
}

static void match(netcompare *nc, uint32_t idx)
{
    struct nc_flow *fl = &nc->flow[idx];

    while (!fl->diverged && fl->q[0].head && fl->q[1].head) {
        struct nc_frame *p = fl->q[0].head, *s = fl->q[1].head;
        uint32_t off = p->pkt.cls == NETCOMPARE_TCP ? seq_offset(nc, p, s) : 0;
        const char *why = nc_differs(p, s, off);

        if (why) {
            fl->diverged = true;
            nc->st.mismatches++;
            want(nc, NETCOMPARE_WANT_MISMATCH, &p->pkt, "%s", why);
            break;
        }
        nc->st.matched++;
        nc->ops.release(nc->ops.opaque, p->data, p->len);
        nc_frame_drop(nc, p, NETCOMPARE_PRIMARY);
        nc_frame_drop(nc, s, NETCOMPARE_SECONDARY);
    }
    /* An idle flow gives its slot back (the byte queue has none). */
    if (idx < nc->lim.max_flows && !fl->q[0].head && !fl->q[1].head && !fl->diverged)
        nc_table_del(&nc->flows, idx);
}

/* The flow slot for pkt, or NC_NONE (the limit is reported). */
static uint32_t flow_slot(netcompare *nc, const struct netcompare_pkt *pkt,
                          enum netcompare_side side)
{
    uint32_t idx;

    if (pkt->cls == NETCOMPARE_OTHER || pkt->cls == NETCOMPARE_MALFORMED)
        return nc->lim.max_flows;
    idx = nc_table_find(&nc->flows, &pkt->flow);
    if (idx == NC_NONE) {
        idx = nc_table_add(&nc->flows, &pkt->flow);
        if (idx == NC_NONE)
            want(nc, NETCOMPARE_WANT_LIMIT, pkt, "%u flows; %s frame dropped", nc->lim.max_flows,
                 side_name[side]);
    }
    return idx;
}

/* Whether one more frame of len bytes may be held on queue q (the limit is reported). */
static bool room(netcompare *nc, const struct nc_queue *q, const struct netcompare_pkt *pkt,
                 uint32_t len, enum netcompare_side side)
{
    const char *what = NULL;

    if (nc->st.held_frames >= nc->lim.max_frames)
        what = "frames held in all";
    else if (nc->st.held_bytes + len > nc->lim.max_bytes)
        what = "bytes held in all";
    else if (q->frames >= nc->lim.flow_max_frames)
        what = "frames held on the flow";
    else if (q->bytes + len > nc->lim.flow_max_bytes)
        what = "bytes held on the flow";
    if (what)
        want(nc, NETCOMPARE_WANT_LIMIT, pkt, "%s; %s frame dropped", what, side_name[side]);
    return !what;
}

int netcompare_input(netcompare *nc, enum netcompare_side side, const uint8_t *frame, size_t len)
{
    struct netcompare_pkt pkt;
    struct nc_frame *f;
    struct nc_queue *q;
    uint32_t idx;
    int rc = -1;

    if (nc->failed_over) {
        errno = ESHUTDOWN;
        goto out;
    }
    if (len > NETCOMPARE_MAX_FRAME ||
        (side != NETCOMPARE_PRIMARY && side != NETCOMPARE_SECONDARY)) {
        errno = len > NETCOMPARE_MAX_FRAME ? EMSGSIZE : EINVAL;
        goto out;
    }
    nc->st.in[side]++;
    netcompare_parse(frame, len, &pkt);
    idx = flow_slot(nc, &pkt, side);
    if (idx == NC_NONE)
        goto dropped;
    q = &nc->flow[idx].q[side];
    if (!room(nc, q, &pkt, (uint32_t)len, side))
        goto dropped;
    f = malloc(sizeof(*f) + len);
    if (!f) {
        errno = ENOMEM;
        goto out;
    }
    memcpy(f->data, frame, len);
    f->len = (uint32_t)len;
    f->pkt = pkt;
    f->flow = idx;
    f->t = now(nc);
    f->fnext = NULL;
    if (q->tail)
        q->tail->fnext = f;
    else
        q->head = f;
    q->tail = f;
    q->frames++;
    q->bytes += len;
    f->gnext = NULL;
    f->gprev = nc->gtail[side];
    if (f->gprev)
        f->gprev->gnext = f;
    else
        nc->ghead[side] = f;
    nc->gtail[side] = f;
    nc->st.held_frames++;
    nc->st.held_bytes += len;
    match(nc, idx);
    netcompare_poll(nc);
    rc = 0;
    goto out;
dropped:
    nc->st.limit_drops[side]++;
    /* the slot may have been taken for this frame alone */
    if (idx != NC_NONE && idx < nc->lim.max_flows && !nc->flow[idx].q[0].head &&
        !nc->flow[idx].q[1].head && !nc->flow[idx].diverged)
        nc_table_del(&nc->flows, idx);
    rc = 0;
out:
    return rc;
}

uint64_t netcompare_deadline(const netcompare *nc)
{
    uint64_t t = UINT64_MAX;

    /* reported once per checkpoint interval: no deadline until the checkpoint */
    if (nc->wanted & NETCOMPARE_WANT_TIMEOUT)
        return t;
    for (int side = 0; side < 2; side++)
        if (nc->ghead[side] && nc->ghead[side]->t < t)
            t = nc->ghead[side]->t;
    return t == UINT64_MAX ? t : t + nc->lim.timeout_ns;
}

void netcompare_poll(netcompare *nc)
{
    uint64_t t = now(nc);

    if (nc->wanted & NETCOMPARE_WANT_TIMEOUT)
        return;
    for (int side = 0; side < 2; side++) {
        const struct nc_frame *f = nc->ghead[side];

        /* A frame the other guest never sends is divergence too, so both sides time
         * out; each list's head is its oldest frame. */
        if (f && t > f->t && t - f->t > nc->lim.timeout_ns) {
            nc->st.timeouts++;
            want(nc, NETCOMPARE_WANT_TIMEOUT, &f->pkt, "%s frame held %llu ms", side_name[side],
                 (unsigned long long)((t - f->t) / 1000000));
            return;
        }
    }
}

unsigned int netcompare_wanted(const netcompare *nc)
{
    return nc->wanted;
}

const char *netcompare_reason(const netcompare *nc)
{
    return nc->reason;
}

void netcompare_get_stats(const netcompare *nc, struct netcompare_stats *st)
{
    *st = nc->st;
    st->flows = nc->flows.used;
    st->conns = nc->conns.used;
}
