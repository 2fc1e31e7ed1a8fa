/* The replication protocol's encoders and parsers (dr_wire.h). */
#include "dr_wire.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint8_t *put16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, sizeof(v));
    return p + sizeof(v);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, sizeof(v));
    return p + sizeof(v);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, sizeof(v));
    return p + sizeof(v);
}

static uint16_t get16(const uint8_t **p)
{
    uint16_t v;

    memcpy(&v, *p, sizeof(v));
    *p += sizeof(v);
    return le16toh(v);
}

static uint32_t get32(const uint8_t **p)
{
    uint32_t v;

    memcpy(&v, *p, sizeof(v));
    *p += sizeof(v);
    return le32toh(v);
}

static uint64_t get64(const uint8_t **p)
{
    uint64_t v;

    memcpy(&v, *p, sizeof(v));
    *p += sizeof(v);
    return le64toh(v);
}

const char *dr_type_name(uint16_t type)
{
    switch (type) {
    case DR_HELLO: return "HELLO";
    case DR_WRITE: return "WRITE";
    case DR_RESYNC: return "RESYNC";
    case DR_FLUSH: return "FLUSH";
    case DR_CHECKPOINT: return "CHECKPOINT";
    case DR_ACK: return "ACK";
    case DR_ERROR: return "ERROR";
    default: return "unknown";
    }
}

static int refuse(int code, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(int code, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return code;
}

/* The payload lengths a type allows: [min, max]. */
static void length_bounds(uint16_t type, const struct dr_limits *lim, uint32_t *min,
                          uint32_t *max)
{
    switch (type) {
    case DR_HELLO:
        *min = *max = sizeof(struct dr_wire_hello);
        break;
    case DR_WRITE:
    case DR_RESYNC:
        *min = sizeof(struct dr_wire_io) + 1;
        *max = dr_max_payload(lim->max_io);
        break;
    case DR_ACK:
        *min = *max = sizeof(struct dr_wire_ack);
        break;
    case DR_ERROR:
        *min = sizeof(struct dr_wire_error);
        *max = sizeof(struct dr_wire_error) + DR_ERROR_TEXT_MAX;
        break;
    default:        /* the barriers */
        *min = *max = 0;
        break;
    }
}

int dr_parse_header(const uint8_t *buf, size_t n, const struct dr_limits *lim,
                    struct dr_wire_hdr *hdr, char *why, size_t whylen)
{
    const uint8_t *p = buf;
    uint32_t min, max;

    if (n < sizeof(struct dr_wire_hdr))
        return refuse(DISKREP_E_TRUNCATED_HEADER, why, whylen,
                      "truncated header: %zu of %zu bytes", n, sizeof(struct dr_wire_hdr));
    hdr->magic = get32(&p);
    hdr->version = get16(&p);
    hdr->type = get16(&p);
    hdr->length = get32(&p);
    hdr->reserved = get32(&p);
    hdr->seq = get64(&p);
    if (hdr->magic != DR_MAGIC)
        return refuse(DISKREP_E_BAD_MAGIC, why, whylen, "bad magic 0x%08x (expected 0x%08x)",
                      hdr->magic, DR_MAGIC);
    if (hdr->version != DR_VERSION)
        return refuse(DISKREP_E_BAD_VERSION, why, whylen,
                      "protocol version %u (this side speaks %u)", hdr->version, DR_VERSION);
    if (hdr->type < DR_HELLO || hdr->type > DR_ERROR)
        return refuse(DISKREP_E_UNKNOWN_TYPE, why, whylen, "unknown message type %u",
                      hdr->type);
    if (hdr->reserved)
        return refuse(DISKREP_E_RESERVED_NONZERO, why, whylen,
                      "%s: reserved header field is 0x%x", dr_type_name(hdr->type),
                      hdr->reserved);
    length_bounds(hdr->type, lim, &min, &max);
    if (min != max && hdr->length > max)     /* a variable-length payload */
        return refuse(DISKREP_E_OVERSIZED_LENGTH, why, whylen,
                      "%s: payload of %u bytes exceeds the limit of %u", dr_type_name(hdr->type),
                      hdr->length, max);
    if (hdr->length < min || hdr->length > max)
        return refuse(DISKREP_E_BAD_LENGTH, why, whylen,
                      "%s: payload of %u bytes (allowed %u..%u)", dr_type_name(hdr->type),
                      hdr->length, min, max);
    return DISKREP_E_NONE;
}

static int parse_io(const struct dr_wire_hdr *hdr, const uint8_t *p, const struct dr_limits *lim,
                    struct dr_msg *msg, char *why, size_t whylen)
{
    const char *t = dr_type_name(hdr->type);
    struct dr_wire_io *io = &msg->u.io;

    io->offset = get64(&p);
    io->length = get32(&p);
    io->reserved = get32(&p);
    msg->data = p;
    if (io->reserved)
        return refuse(DISKREP_E_RESERVED_NONZERO, why, whylen, "%s: reserved field is 0x%x",
                      t, io->reserved);
    if (io->length != hdr->length - sizeof(struct dr_wire_io))
        return refuse(DISKREP_E_BAD_LENGTH, why, whylen,
                      "%s: data length %u does not match the payload's %zu", t, io->length,
                      hdr->length - sizeof(struct dr_wire_io));
    if (io->offset > UINT64_MAX - io->length)
        return refuse(DISKREP_E_RANGE_OVERFLOW, why, whylen,
                      "%s: offset 0x%llx + length %u overflows", t,
                      (unsigned long long)io->offset, io->length);
    if (io->offset >= lim->disk_size)
        return refuse(DISKREP_E_OFFSET_PAST_END, why, whylen,
                      "%s: offset 0x%llx past the end of the %llu-byte disk", t,
                      (unsigned long long)io->offset, (unsigned long long)lim->disk_size);
    if (io->offset + io->length > lim->disk_size)
        return refuse(DISKREP_E_RANGE_PAST_END, why, whylen,
                      "%s: 0x%llx + %u runs past the end of the %llu-byte disk", t,
                      (unsigned long long)io->offset, io->length,
                      (unsigned long long)lim->disk_size);
    return DISKREP_E_NONE;
}

static int parse_hello(const uint8_t *p, struct dr_msg *msg, char *why, size_t whylen)
{
    struct dr_wire_hello *h = &msg->u.hello;

    h->disk_size = get64(&p);
    h->block_size = get32(&p);
    h->flags = get32(&p);
    h->max_io = get32(&p);
    h->hidden_max_blocks = get32(&p);
    if (h->block_size < 512 || h->block_size > 65536 || (h->block_size & (h->block_size - 1)))
        return refuse(DISKREP_E_BAD_GEOMETRY, why, whylen,
                      "HELLO: block size %u is not a power of two in 512..65536", h->block_size);
    if (h->disk_size % h->block_size)
        return refuse(DISKREP_E_BAD_GEOMETRY, why, whylen,
                      "HELLO: disk size %llu is not a multiple of the block size %u",
                      (unsigned long long)h->disk_size, h->block_size);
    if (h->max_io < h->block_size || h->max_io > DR_MAX_IO_LIMIT)
        return refuse(DISKREP_E_BAD_GEOMETRY, why, whylen,
                      "HELLO: max_io %u outside %u..%u", h->max_io, h->block_size,
                      DR_MAX_IO_LIMIT);
    if (h->flags & ~DR_HELLO_RESYNC)
        return refuse(DISKREP_E_RESERVED_NONZERO, why, whylen, "HELLO: unknown flags 0x%x",
                      h->flags);
    return DISKREP_E_NONE;
}

int dr_parse_payload(const struct dr_wire_hdr *hdr, const uint8_t *payload,
                     const struct dr_limits *lim, struct dr_msg *msg, char *why, size_t whylen)
{
    const uint8_t *p = payload;

    memset(msg, 0, sizeof(*msg));
    msg->hdr = *hdr;
    switch (hdr->type) {
    case DR_HELLO:
        return parse_hello(p, msg, why, whylen);
    case DR_WRITE:
    case DR_RESYNC:
        return parse_io(hdr, p, lim, msg, why, whylen);
    case DR_ACK:
        msg->u.ack.seq = get64(&p);
        return DISKREP_E_NONE;
    case DR_ERROR:
        msg->u.error.code = get32(&p);
        msg->u.error.length = get32(&p);
        msg->data = p;
        if (msg->u.error.length != hdr->length - sizeof(struct dr_wire_error))
            return refuse(DISKREP_E_BAD_LENGTH, why, whylen,
                          "ERROR: text length %u does not match the payload's %zu",
                          msg->u.error.length, hdr->length - sizeof(struct dr_wire_error));
        return DISKREP_E_NONE;
    default:
        return DISKREP_E_NONE;
    }
}

size_t dr_put_header(uint8_t *buf, uint16_t type, uint32_t payload_len, uint64_t seq)
{
    uint8_t *p = buf;

    p = put32(p, DR_MAGIC);
    p = put16(p, DR_VERSION);
    p = put16(p, type);
    p = put32(p, payload_len);
    p = put32(p, 0);
    p = put64(p, seq);
    return (size_t)(p - buf);
}

size_t dr_put_hello(uint8_t *buf, const struct dr_wire_hello *hello)
{
    uint8_t *p = buf;

    p = put64(p, hello->disk_size);
    p = put32(p, hello->block_size);
    p = put32(p, hello->flags);
    p = put32(p, hello->max_io);
    p = put32(p, hello->hidden_max_blocks);
    return (size_t)(p - buf);
}

size_t dr_put_io(uint8_t *buf, uint64_t offset, uint32_t length)
{
    uint8_t *p = buf;

    p = put64(p, offset);
    p = put32(p, length);
    p = put32(p, 0);
    return (size_t)(p - buf);
}

size_t dr_put_ack(uint8_t *buf, uint64_t seq)
{
    return (size_t)(put64(buf, seq) - buf);
}

size_t dr_put_error(uint8_t *buf, uint32_t code, uint32_t text_len)
{
    uint8_t *p = buf;

    p = put32(p, code);
    p = put32(p, text_len);
    return (size_t)(p - buf);
}
