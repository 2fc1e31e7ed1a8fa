/*
 * The replication protocol's wire format (docs/disk-replication.md).  Every message is a
 * 24-byte header and a payload whose length the header gives; all integers are
 * little-endian.  Both directions number their messages 1, 2, 3, ... (the header's seq).
 *
 *   primary -> secondary: HELLO, WRITE, RESYNC, FLUSH, CHECKPOINT
 *   secondary -> primary: HELLO (its answer), ACK, ERROR
 *
 * The parsers take the bytes as hostile: each bound is checked before the value is used
 * and a refusal names what was wrong (enum diskrep_error and a message).
 */
#ifndef DR_WIRE_H
#define DR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "diskrep.h"

#define DR_MAGIC          0x50524b44u     /* "DKRP" in the byte order of the wire */
#define DR_VERSION        1
#define DR_MAX_IO_LIMIT   (16u << 20)
#define DR_ERROR_TEXT_MAX 256u

enum dr_type {
    DR_HELLO = 1,
    DR_WRITE = 2,
    DR_RESYNC = 3,       /* a chunk of the whole-disk copy */
    DR_FLUSH = 4,        /* barrier: ACK once everything before is on the disk */
    DR_CHECKPOINT = 5,   /* barrier: drop both layers, then ACK */
    DR_ACK = 6,
    DR_ERROR = 7,
};

struct dr_wire_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t length;     /* payload bytes after the header */
    uint32_t reserved;   /* 0 */
    uint64_t seq;
};
_Static_assert(sizeof(struct dr_wire_hdr) == 24, "wire header is 24 bytes");

#define DR_HELLO_RESYNC 1u   /* flags: a whole-disk copy follows */
struct dr_wire_hello {
    uint64_t disk_size;
    uint32_t block_size;
    uint32_t flags;
    uint32_t max_io;
    uint32_t hidden_max_blocks;  /* the secondary's answer: how many blocks the primary
                                  * may write between checkpoints */
};
_Static_assert(sizeof(struct dr_wire_hello) == 24, "HELLO payload is 24 bytes");

/* WRITE and RESYNC: this, then length bytes of data. */
struct dr_wire_io {
    uint64_t offset;
    uint32_t length;
    uint32_t reserved;
};
_Static_assert(sizeof(struct dr_wire_io) == 16, "WRITE/RESYNC payload head is 16 bytes");

struct dr_wire_ack {
    uint64_t seq;        /* the barrier (or HELLO) acknowledged */
};
_Static_assert(sizeof(struct dr_wire_ack) == 8, "ACK payload is 8 bytes");

/* ERROR: this, then length bytes of text (no NUL). */
struct dr_wire_error {
    uint32_t code;       /* enum diskrep_error */
    uint32_t length;
};
_Static_assert(sizeof(struct dr_wire_error) == 8, "ERROR payload head is 8 bytes");

/* One decoded message; data points into the payload it was decoded from. */
struct dr_msg {
    struct dr_wire_hdr hdr;
    union {
        struct dr_wire_hello hello;
        struct dr_wire_io io;
        struct dr_wire_ack ack;
        struct dr_wire_error error;
    } u;
    const uint8_t *data;     /* WRITE/RESYNC data, ERROR text */
};

/* What the receiver allows: max_io for data payloads, disk_size for offsets. */
struct dr_limits {
    uint32_t max_io;
    uint64_t disk_size;
};

/* The largest payload of any message under max_io. */
static inline uint32_t dr_max_payload(uint32_t max_io)
{
    return (uint32_t)sizeof(struct dr_wire_io) + max_io;
}

const char *dr_type_name(uint16_t type);

/* Header of n bytes: DISKREP_E_NONE with *hdr filled, or the named error with why. */
int dr_parse_header(const uint8_t *buf, size_t n, const struct dr_limits *lim,
                    struct dr_wire_hdr *hdr, char *why, size_t whylen);
/* The payload of a header dr_parse_header accepted (exactly hdr->length bytes). */
int dr_parse_payload(const struct dr_wire_hdr *hdr, const uint8_t *payload,
                     const struct dr_limits *lim, struct dr_msg *msg, char *why, size_t whylen);

/* Encoders: the header of a message of type with payload_len bytes, and the fixed parts
 * of the payloads, in wire order.  They return the bytes written. */
size_t dr_put_header(uint8_t *buf, uint16_t type, uint32_t payload_len, uint64_t seq);
size_t dr_put_hello(uint8_t *buf, const struct dr_wire_hello *hello);
size_t dr_put_io(uint8_t *buf, uint64_t offset, uint32_t length);
size_t dr_put_ack(uint8_t *buf, uint64_t seq);
size_t dr_put_error(uint8_t *buf, uint32_t code, uint32_t text_len);

#endif
