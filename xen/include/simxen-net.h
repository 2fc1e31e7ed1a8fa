/*
 * The simulated network device: a per-domain transmit ring in the state directory
 * (`dom<N>.net`), produced by the guest (its vcpu process) and consumed by the
 * toolstack side (tools/misc/colo-proxy.c).  See docs/colo-proxy.md.
 *
 * The guest writes one fixed-size packet per slot and then advances `prod`; the one
 * consumer reads slots below `prod` and advances `cons`.  Each packet is stamped with
 * the ring's `epoch` at the time the guest sent it; the toolstack sets `epoch` (the
 * COLO checkpoint number) while the domain is stopped, so every packet can be placed
 * on its side of a checkpoint.  With a live consumer registered (`consumer_pid`) a
 * full ring makes the guest wait (back pressure, nothing lost); without one the guest
 * drops what does not fit (`dropped`), like a NIC without a link.
 */
#ifndef SIMXEN_NET_H
#define SIMXEN_NET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SIMXEN_NET_MAGIC   0x3154454e4e58534dULL   /* "MSXNNET1" */
#define SIMXEN_NET_SLOTS   1024
#define SIMXEN_NET_PAYLOAD 32

struct simxen_net_pkt {
    uint64_t seq;                  /* the guest's own packet number */
    uint32_t epoch;                /* ring epoch when sent */
    uint32_t len;                  /* bytes of data used (<= SIMXEN_NET_PAYLOAD) */
    uint8_t data[SIMXEN_NET_PAYLOAD];
};

struct simxen_net_ring {
    uint64_t magic;
    uint32_t version, nslots;
    _Atomic uint64_t prod;         /* guest: packets written */
    _Atomic uint64_t cons;         /* consumer: packets taken */
    _Atomic uint32_t epoch;        /* toolstack: checkpoint number */
    _Atomic int32_t consumer_pid;  /* 0: nobody attached (the guest drops when full) */
    _Atomic uint64_t dropped;
    uint8_t pad[64 - 48];
    struct simxen_net_pkt slots[SIMXEN_NET_SLOTS];
};

/* Map domid's ring in dir (NULL: $SIMXEN_DIR or the default).  NULL with errno on
 * failure (ENOENT: no such domain / no ring). */
struct simxen_net_ring *simxen_net_map(const char *dir, uint32_t domid);
void simxen_net_unmap(struct simxen_net_ring *r);
/* Path of the ring file (to notice that the domain went away). */
int simxen_net_path(const char *dir, uint32_t domid, char *buf, size_t len);
/* Create (or reset) the ring file of a new domain. */
int simxen_net_create(const char *dir, uint32_t domid);
/* Set the epoch stamped on packets sent from now on (call with the domain stopped). */
int simxen_net_set_epoch(const char *dir, uint32_t domid, uint32_t epoch);
/* Guest side: queue one packet; -1 when the ring is full (counted as dropped). */
int simxen_net_send(struct simxen_net_ring *r, uint64_t seq, const void *data, uint32_t len);
/* Guest side: 1 when a live consumer is attached and the ring is full (wait). */
int simxen_net_must_wait(struct simxen_net_ring *r);

#endif
