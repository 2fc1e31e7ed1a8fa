#include "libxl_records.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xutil.h"

static void seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!err || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

const char *libxl__rec_type_str(uint32_t type)
{
    switch (type) {
    case LIBXL_REC_END: return "END";
    case LIBXL_REC_LIBXC_CONTEXT: return "LIBXC_CONTEXT";
    case LIBXL_REC_EMULATOR_XENSTORE_DATA: return "EMULATOR_XENSTORE_DATA";
    case LIBXL_REC_EMULATOR_CONTEXT: return "EMULATOR_CONTEXT";
    case LIBXL_REC_CHECKPOINT_END: return "CHECKPOINT_END";
    case LIBXL_REC_CHECKPOINT_STATE: return "CHECKPOINT_STATE";
    default: return "unknown";
    }
}

int libxl__write_stream_header(int fd)
{
    struct { uint64_t ident; uint32_t version, options; } h = {
        htobe64(LIBXL_STREAM_IDENT), htobe32(LIBXL_STREAM_VERSION), 0,
    };

    return write_exact(fd, &h, sizeof(h));
}

int libxl__read_stream_header(int fd, char *err, size_t errlen)
{
    struct { uint64_t ident; uint32_t version, options; } h;
    uint32_t opts;

    if (read_exact(fd, &h, sizeof(h))) {
        if (errno == 0)
            errno = EPIPE;
        seterr(err, errlen, "reading the libxl stream header: %s",
               errno == EPIPE ? "end of stream" : strerror(errno));
        return -1;
    }
    opts = be32toh(h.options);
    if (be64toh(h.ident) != LIBXL_STREAM_IDENT) {
        seterr(err, errlen, "not a libxl stream (ident 0x%016llx, expected 0x%016llx)",
               (unsigned long long)be64toh(h.ident), (unsigned long long)LIBXL_STREAM_IDENT);
    } else if (be32toh(h.version) != LIBXL_STREAM_VERSION) {
        seterr(err, errlen, "libxl stream version %u (only %u is supported)",
               be32toh(h.version), LIBXL_STREAM_VERSION);
    } else if (opts & LIBXL_STREAM_OPT_BIG_ENDIAN) {
        seterr(err, errlen, "big-endian libxl stream not supported");
    } else if (opts & LIBXL_STREAM_OPT_LEGACY) {
        seterr(err, errlen, "legacy (converted) libxl stream not supported");
    } else if (opts & ~3u) {
        seterr(err, errlen, "unknown libxl stream options 0x%x", opts);
    } else {
        return 0;
    }
    errno = EBADMSG;
    return -1;
}

int libxl__write_rec(int fd, uint32_t type, const void *body, uint32_t length)
{
    static const uint8_t zero[8];
    uint32_t hdr[2] = { type, length };
    struct iovec iov[3] = {
        { hdr, sizeof(hdr) }, { (void *)body, length }, { (void *)zero, (8 - (length & 7)) & 7 },
    };

    if (length > LIBXL_REC_LENGTH_MAX) {
        errno = E2BIG;
        return -1;
    }
    return writev_exact(fd, iov, 3);
}

int libxl__read_rec(int fd, struct libxl_rec *rec, char *err, size_t errlen)
{
    uint32_t hdr[2];
    size_t padded;
    uint8_t *body = NULL;
    size_t got;

    memset(rec, 0, sizeof(*rec));
    if (read_exact_got(fd, hdr, sizeof(hdr), &got)) {
        if (errno == 0 && got == 0) {
            errno = ENODATA;   /* end of stream, between records */
            seterr(err, errlen, "reading a libxl record header: end of stream");
        } else if (errno == 0) {
            errno = EPIPE;
            seterr(err, errlen, "libxl stream truncated inside a record header (%zu of %zu "
                   "bytes)", got, sizeof(hdr));
        } else
            seterr(err, errlen, "reading a libxl record header: %s", strerror(errno));
        return -1;
    }
    if (hdr[1] > LIBXL_REC_LENGTH_MAX) {
        seterr(err, errlen, "libxl record type %#x (%s): length %u exceeds the cap of %u",
               hdr[0], libxl__rec_type_str(hdr[0]), hdr[1], LIBXL_REC_LENGTH_MAX);
        errno = EBADMSG;
        return -1;
    }
    padded = ((size_t)hdr[1] + 7) & ~(size_t)7;
    if (padded) {
        body = malloc(padded);
        if (!body)
            return -1;
        if (read_exact(fd, body, padded)) {
            if (errno == ENODATA || errno == 0)
                errno = EPIPE;   /* the stream ended inside the record */
            seterr(err, errlen, "reading the body of libxl record %s: %s",
                   libxl__rec_type_str(hdr[0]), strerror(errno));
            free(body);
            return -1;
        }
        for (size_t i = hdr[1]; i < padded; i++)
            if (body[i]) {
                seterr(err, errlen, "libxl record %s: non-zero padding",
                       libxl__rec_type_str(hdr[0]));
                free(body);
                errno = EBADMSG;
                return -1;
            }
    }
    rec->type = hdr[0];
    rec->length = hdr[1];
    rec->body = body;
    return 0;
}

void libxl__free_rec(struct libxl_rec *rec)
{
    free(rec->body);
    rec->body = NULL;
}

int libxl__read_stream_start(int fd, char *err, size_t errlen)
{
    struct libxl_rec rec;

    if (libxl__read_stream_header(fd, err, errlen))
        return -1;
    /* Optional records may come first; the libxc stream follows LIBXC_CONTEXT. */
    for (;;) {
        int r;

        if (libxl__read_rec(fd, &rec, err, errlen))
            return -1;
        libxl__free_rec(&rec);
        if ((r = libxl__check_start_rec(&rec, err, errlen)))
            return r < 0 ? -1 : 0;
    }
}

int libxl__check_start_rec(const struct libxl_rec *rec, char *err, size_t errlen)
{
    if (rec->type == LIBXL_REC_LIBXC_CONTEXT && rec->length == 0)
        return 1;
    if (!(rec->type & LIBXL_REC_OPTIONAL)) {
        seterr(err, errlen, "unexpected libxl record %#x (%s) before LIBXC_CONTEXT",
               rec->type, libxl__rec_type_str(rec->type));
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int libxl__write_stream_start(int fd)
{
    if (libxl__write_stream_header(fd))
        return -1;
    return libxl__write_rec(fd, LIBXL_REC_LIBXC_CONTEXT, NULL, 0);
}

int libxl__write_end(int fd)
{
    return libxl__write_rec(fd, LIBXL_REC_END, NULL, 0);
}

int libxl__write_checkpoint_end(int fd)
{
    return libxl__write_rec(fd, LIBXL_REC_CHECKPOINT_END, NULL, 0);
}

int libxl__write_checkpoint_state(int fd, uint32_t id)
{
    /* Length 4 as upstream writes it, padded to 8 on the wire. */
    return libxl__write_rec(fd, LIBXL_REC_CHECKPOINT_STATE, &id, 4);
}

static int check_emulator(const struct libxl_rec *rec, char *err, size_t errlen)
{
    uint32_t id;

    if (rec->length < 8) {
        seterr(err, errlen, "%s record shorter than its 8-byte emulator header",
               libxl__rec_type_str(rec->type));
        return -1;
    }
    memcpy(&id, rec->body, 4);
    if (id > LIBXL_EMULATOR_QEMU_UPSTREAM) {
        seterr(err, errlen, "%s record: unknown emulator id %u", libxl__rec_type_str(rec->type), id);
        return -1;
    }
    if (rec->type == LIBXL_REC_EMULATOR_XENSTORE_DATA) {
        const char *p = (const char *)rec->body + 8, *end = (const char *)rec->body + rec->length;
        unsigned int strings = 0;

        if (p < end && end[-1]) {
            seterr(err, errlen, "EMULATOR_XENSTORE_DATA: data not NUL-terminated");
            return -1;
        }
        while (p < end) {
            size_t n = strlen(p);

            if (strings % 2 == 0 && (n == 0 || p[0] == '/')) {
                seterr(err, errlen, "EMULATOR_XENSTORE_DATA: empty or absolute key");
                return -1;
            }
            p += n + 1;
            strings++;
        }
        if (strings % 2) {
            seterr(err, errlen, "EMULATOR_XENSTORE_DATA: odd number of strings (%u)", strings);
            return -1;
        }
    }
    return 0;
}

int libxl__check_rec_until(const struct libxl_rec *rec, uint32_t until, char *err,
                           size_t errlen)
{
    int bad = 0;

    if (rec->type == until) {
        if (rec->length != 0) {
            seterr(err, errlen, "%s record with non-zero length %u",
                   libxl__rec_type_str(rec->type), rec->length);
            errno = EBADMSG;
            return -1;
        }
        return 1;
    }
    switch (rec->type) {
    case LIBXL_REC_EMULATOR_XENSTORE_DATA:
    case LIBXL_REC_EMULATOR_CONTEXT:
        bad = check_emulator(rec, err, errlen);
        break;
    default:
        if (!(rec->type & LIBXL_REC_OPTIONAL)) {
            seterr(err, errlen, "unexpected libxl record type %#x (%s) while expecting %s",
                   rec->type, libxl__rec_type_str(rec->type), libxl__rec_type_str(until));
            bad = 1;
        }
        break;
    }
    if (bad) {
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int libxl__read_records_until(int fd, uint32_t until, char *err, size_t errlen)
{
    for (;;) {
        struct libxl_rec rec;
        int r;

        if (libxl__read_rec(fd, &rec, err, errlen))
            return -1;
        r = libxl__check_rec_until(&rec, until, err, errlen);
        libxl__free_rec(&rec);
        if (r)
            return r < 0 ? -1 : 0;
    }
}

const char *libxl__checkpoint_state_str(uint32_t id)
{
    switch (id) {
    case COLO_CHECKPOINT_NEW: return "NEW";
    case COLO_CHECKPOINT_SVM_SUSPENDED: return "SVM_SUSPENDED";
    case COLO_CHECKPOINT_SVM_READY: return "SVM_READY";
    case COLO_CHECKPOINT_SVM_RESUMED: return "SVM_RESUMED";
    default: return "unknown id";
    }
}

static int read_state_rec(int fd, uint32_t *type, uint32_t *id, char *err, size_t errlen)
{
    struct libxl_rec rec;
    int r;

    for (;;) {
        if (libxl__read_rec(fd, &rec, err, errlen))
            return -1;
        if (rec.type & LIBXL_REC_OPTIONAL) {
            libxl__free_rec(&rec);
            continue;   /* unknown optional record: skipped */
        }
        break;
    }
    r = libxl__check_state_rec(&rec, type, id, err, errlen);
    libxl__free_rec(&rec);
    return r;
}

int libxl__read_record(int fd, uint32_t *type, uint32_t *id)
{
    return read_state_rec(fd, type, id, NULL, 0);
}

int libxl__check_state_rec(const struct libxl_rec *rec, uint32_t *type, uint32_t *id,
                           char *err, size_t errlen)
{
    *type = rec->type;
    if (rec->type != LIBXL_REC_CHECKPOINT_STATE)
        return 0;
    if (rec->length != 4) {
        seterr(err, errlen, "CHECKPOINT_STATE record of length %u (4 expected)", rec->length);
        errno = EBADMSG;
        return -1;
    }
    memcpy(id, rec->body, 4);
    /* An id no state machine step knows would otherwise read as "not the one expected"
     * and hide that the peer speaks something else. */
    if (*id > COLO_CHECKPOINT_SVM_RESUMED) {
        seterr(err, errlen, "CHECKPOINT_STATE with unknown id %u", *id);
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int libxl__expect_state(int fd, uint32_t id, char *err, size_t errlen)
{
    uint32_t type = 0, got = 0;

    if (read_state_rec(fd, &type, &got, err, errlen))
        return -1;
    if (type != LIBXL_REC_CHECKPOINT_STATE) {
        seterr(err, errlen, "expected CHECKPOINT_STATE %s, got libxl record %#x (%s)",
               libxl__checkpoint_state_str(id), type, libxl__rec_type_str(type));
        errno = EBADMSG;
        return -1;
    }
    if (got != id) {
        seterr(err, errlen, "expected CHECKPOINT_STATE %s, got %s",
               libxl__checkpoint_state_str(id), libxl__checkpoint_state_str(got));
        errno = EBADMSG;
        return -1;
    }
    return 0;
}
