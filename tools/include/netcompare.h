/*
 * COLO's packet comparison core for Ethernet frames (tools/libs/netcompare/,
 * docs/colo-proxy.md "Real packets: the comparison core").
 *
 * The caller feeds the frames the primary (PVM) and the secondary (SVM) transmit; a
 * primary frame is handed to the release callback only once the secondary sent the
 * same frame on the same flow.  Frames are queued per flow: TCP by connection, UDP by
 * its 5-tuple, ICMP by address pair; everything else (ARP, other protocols, IP
 * fragments, malformed frames) in one queue compared byte for byte.  The secondary's
 * TCP sequence numbers of connections opened since the last checkpoint are compared
 * through a per-connection offset learnt from the two SYNs.  A mismatch, a frame held
 * past the timeout, or a full buffer makes netcompare_wanted() non-zero: the caller
 * asks for a checkpoint and, with both guests stopped and their output drained, calls
 * netcompare_checkpoint().
 *
 * Every call that can fail returns 0 or -1 with errno set.  A handle is not thread-safe.
 * Frames are never trusted: any byte string up to NETCOMPARE_MAX_FRAME bytes is
 * accepted and classified.
 */
#ifndef NETCOMPARE_H
#define NETCOMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 64 KiB of IP packet, an Ethernet header and one 802.1Q tag. */
#define NETCOMPARE_MAX_FRAME (65535u + 14u + 4u)
#define NETCOMPARE_NO_VLAN 0xffffu

/* ---- parsing -------------------------------------------------------------------------- */

enum netcompare_class {
    NETCOMPARE_TCP,       /* compared per connection, headers and payload */
    NETCOMPARE_UDP,       /* compared per 5-tuple */
    NETCOMPARE_ICMP,      /* ICMP or ICMPv6, compared per address pair */
    NETCOMPARE_OTHER,     /* well formed but not compared field by field: byte for byte */
    NETCOMPARE_MALFORMED, /* a length, header length or option does not fit: byte for byte */
};

/* A flow as the sender sees it: src is the sending guest for outbound frames.  No
 * padding, so that keys compare and hash as bytes. */
struct netcompare_flow {
    uint8_t family;          /* 4 or 6 */
    uint8_t proto;           /* IP protocol number */
    uint16_t vlan;           /* 802.1Q VID, or NETCOMPARE_NO_VLAN */
    uint8_t src[16], dst[16]; /* IPv4 addresses in the first 4 bytes, the rest zero */
    uint16_t sport, dport;   /* host order; 0 for ICMP */
};
_Static_assert(sizeof(struct netcompare_flow) == 40, "netcompare_flow has no padding");

struct netcompare_pkt {
    enum netcompare_class cls;
    const char *why;         /* OTHER and MALFORMED: what made it so (static text) */
    struct netcompare_flow flow; /* TCP, UDP, ICMP; for the others as far as parsed */
    uint32_t l3_off;         /* IP header */
    uint32_t l4_off;         /* TCP/UDP/ICMP header */
    uint32_t data_off;       /* payload */
    uint32_t ip_end;         /* end of the IP packet; bytes past it are Ethernet padding */
    /* TCP only */
    uint32_t seq, ack;
    uint8_t tcp_flags;
    uint32_t ts_off;         /* the timestamp option's 8 value bytes, 0 if none */
    uint32_t sack_off;       /* the first SACK block, 0 if none */
    uint8_t sack_blocks;
};

#define NETCOMPARE_TCP_FIN 0x01
#define NETCOMPARE_TCP_SYN 0x02
#define NETCOMPARE_TCP_RST 0x04
#define NETCOMPARE_TCP_ACK 0x10

/* Classifies frame[0..len); never fails (a frame it cannot read is MALFORMED). */
void netcompare_parse(const uint8_t *frame, size_t len, struct netcompare_pkt *pkt);
const char *netcompare_class_name(enum netcompare_class cls);

/* ---- TCP sequence rewriting ----------------------------------------------------------- */

/* A connection whose sequence numbers differ between the guests: seq_offset is added to
 * the secondary's sequence numbers to give the primary's (flow: the guest's side). */
struct netcompare_offset {
    struct netcompare_flow flow;
    uint32_t seq_offset;
};

enum netcompare_dir {
    NETCOMPARE_OUT, /* from the secondary (or the survivor) to the network: seq += offset */
    NETCOMPARE_IN,  /* from the network to it: ack and SACK blocks -= offset */
};

/*
 * Rewrites frame in place by the entry of tab[0..n) for its connection, updating the TCP
 * checksum incrementally (a correct checksum stays correct; an incorrect one stays
 * incorrect by the same amount).  1: rewritten, 0: no entry (or not TCP), untouched.
 */
int netcompare_rewrite(const struct netcompare_offset *tab, size_t n, enum netcompare_dir dir,
                       uint8_t *frame, size_t len);

/* ---- comparison ------------------------------------------------------------------------ */

enum netcompare_side { NETCOMPARE_PRIMARY, NETCOMPARE_SECONDARY };

/* Zero fields take the defaults in brackets. */
struct netcompare_limits {
    uint32_t max_flows;        /* flows with frames held [256]; the byte-compare queue
                                * is one more */
    uint32_t flow_max_frames;  /* frames held per flow and side [1024] */
    uint32_t flow_max_bytes;   /* frame bytes held per flow and side [1 MiB] */
    uint32_t max_frames;       /* frames held in all, both sides [8192] */
    uint64_t max_bytes;        /* frame bytes held in all, both sides [16 MiB] */
    uint32_t max_conns;        /* connections with a sequence offset [1024] */
    uint64_t timeout_ns;       /* longest a frame waits for its counterpart [3 s] */
};

/* Why a checkpoint is wanted (bits). */
#define NETCOMPARE_WANT_MISMATCH 1u /* a flow's frames differ */
#define NETCOMPARE_WANT_TIMEOUT 2u  /* a frame waited longer than timeout_ns */
#define NETCOMPARE_WANT_LIMIT 4u    /* a frame could not be held (and was dropped) */

struct netcompare_ops {
    /* A primary frame that may go out (or, after a failover to the secondary, the
     * survivor's frame, rewritten).  The bytes are valid during the call only. */
    void (*release)(void *opaque, const uint8_t *frame, size_t len);
    /* Monotonic nanoseconds; NULL: CLOCK_MONOTONIC. */
    uint64_t (*now)(void *opaque);
    void *opaque;
};

struct netcompare_stats {
    uint64_t in[2];            /* frames fed, per side */
    uint64_t matched;          /* pairs found equal (the primary's released) */
    uint64_t released_at_checkpoint;
    uint64_t dropped_at_checkpoint; /* secondary frames without a counterpart */
    uint64_t mismatches, timeouts, checkpoints;
    uint64_t limit_drops[2];   /* frames dropped because a limit was reached, per side */
    uint64_t offsets_learnt;   /* connections whose ISNs differed */
    uint32_t held_frames;
    uint64_t held_bytes;
    uint32_t flows, conns;
};

typedef struct netcompare netcompare;

/* lim may be NULL (all defaults); EINVAL for a NULL release callback. */
netcompare *netcompare_new(const struct netcompare_limits *lim, const struct netcompare_ops *ops);
void netcompare_free(netcompare *nc);

/*
 * One frame the given side transmitted.  It is copied, queued on its flow and compared;
 * matching primary frames are released before this returns.  EMSGSIZE for a frame longer
 * than NETCOMPARE_MAX_FRAME, ESHUTDOWN after a failover.  A frame that no limit lets be
 * held is dropped and sets NETCOMPARE_WANT_LIMIT (returns 0: it is a policy, not an error).
 */
int netcompare_input(netcompare *nc, enum netcompare_side side, const uint8_t *frame, size_t len);

/* Checks the held frames against the timeout (call it at least every timeout_ns / 2). */
void netcompare_poll(netcompare *nc);
/* When the oldest held frame times out (UINT64_MAX if nothing is held, or a timeout
 * was already reported since the last checkpoint). */
uint64_t netcompare_deadline(const netcompare *nc);

/* NETCOMPARE_WANT_* bits since the last checkpoint, 0 if none. */
unsigned int netcompare_wanted(const netcompare *nc);
/* What set the first bit, e.g. "mismatch on tcp 10.0.0.1:80 > 10.0.0.2:5000: payload". */
const char *netcompare_reason(const netcompare *nc);

/*
 * The secondary is becoming a copy of the primary (both stopped, their output drained):
 * every held primary frame is released in arrival order, the secondary's unmatched frames
 * are dropped, and sequence offsets are forgotten (the secondary's TCP state is the
 * primary's from now on).  Clears netcompare_wanted().
 */
int netcompare_checkpoint(netcompare *nc);

/*
 * Inbound mirroring: frame (from the network) goes unchanged to the primary; a copy for
 * the secondary is written to sec[0..len), its ACK number and SACK blocks rewritten by
 * the inverse offset when its connection has one.  ENOSPC if cap < len.
 */
int netcompare_inbound(const netcompare *nc, const uint8_t *frame, size_t len, uint8_t *sec,
                       size_t cap);

/*
 * One guest is gone.  Survivor PRIMARY: its held frames are released, the secondary's
 * dropped, *tab is empty.  Survivor SECONDARY: the primary's held frames are dropped (the
 * survivor's state did not produce them), the secondary's unmatched frames are released
 * rewritten to the primary's sequence numbers, and *tab (malloc'd, the caller frees it)
 * holds the offsets the survivor's path must keep applying with netcompare_rewrite (OUT
 * on its frames, IN on the frames to it).  The handle then only gives statistics.
 */
int netcompare_failover(netcompare *nc, enum netcompare_side survivor,
                        struct netcompare_offset **tab, size_t *n);

void netcompare_get_stats(const netcompare *nc, struct netcompare_stats *st);

/* ---- frames from a packet socket with the kernel's offload state ---------------------- */

/* The virtio_net_hdr a packet socket with PACKET_VNET_HDR puts before each frame, in
 * host byte order. */
struct netcompare_vnet_hdr {
    uint8_t flags;           /* NETCOMPARE_VNET_NEEDS_CSUM */
    uint8_t gso_type;        /* NETCOMPARE_GSO_*, maybe | NETCOMPARE_GSO_ECN */
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
_Static_assert(sizeof(struct netcompare_vnet_hdr) == 10, "the virtio_net_hdr layout");
#define NETCOMPARE_VNET_NEEDS_CSUM 1u
#define NETCOMPARE_GSO_NONE  0u
#define NETCOMPARE_GSO_TCPV4 1u
#define NETCOMPARE_GSO_UDP   3u
#define NETCOMPARE_GSO_TCPV6 4u
#define NETCOMPARE_GSO_ECN   0x80u

typedef void netcompare_emit_fn(void *opaque, uint8_t *frame, size_t len);
/*
 * The frame as the wire would carry it, to emit: a partial checksum filled in (the
 * field holds the pseudo-header's sum, as the kernel leaves it); a TCP segment for
 * segmentation offload (IPv4 or IPv6) cut into segments of gso_size payload bytes, each
 * with its IP length, IPv4 id and checksum, sequence number, flags (FIN and PSH on the
 * last only, CWR on the first only) and TCP checksum.  EPROTO for what cannot be
 * finished (UDP fragmentation offload, a checksum position outside the frame, a GSO
 * frame that is not TCP), EMSGSIZE over NETCOMPARE_MAX_FRAME; emit is not called then.
 */
int netcompare_finish(const struct netcompare_vnet_hdr *vh, uint8_t *frame, size_t len,
                      netcompare_emit_fn *emit, void *opaque);

#endif
