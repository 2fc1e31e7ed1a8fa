/*
 * libxl migration stream (upstream's libxl-migration-stream spec, revision 2):
 * a 16-byte big-endian header {u64 ident "LibxlFmt", u32 version 2, u32 options},
 * then records with the libxc framing: 8-byte header {u32 type, u32 length}, body
 * zero-padded to 8.  The libxc stream follows the LIBXC_CONTEXT record.  The COLO back
 * channel carries bare records (no headers).  See docs/stream-format.md.
 */
#ifndef LIBXL_RECORDS_H
#define LIBXL_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#define LIBXL_STREAM_IDENT   0x4c6962786c466d74ULL   /* "LibxlFmt" */
#define LIBXL_STREAM_VERSION 2
#define LIBXL_STREAM_OPT_BIG_ENDIAN 0x1
#define LIBXL_STREAM_OPT_LEGACY     0x2

#define LIBXL_REC_END                    0
#define LIBXL_REC_LIBXC_CONTEXT          1
#define LIBXL_REC_EMULATOR_XENSTORE_DATA 2
#define LIBXL_REC_EMULATOR_CONTEXT       3
#define LIBXL_REC_CHECKPOINT_END         4
#define LIBXL_REC_CHECKPOINT_STATE       5
#define LIBXL_REC_OPTIONAL               0x80000000U
/* Our cap on a libxl record body (upstream's libxl reader has none). */
#define LIBXL_REC_LENGTH_MAX             (128U << 20)

#define LIBXL_EMULATOR_UNKNOWN       0
#define LIBXL_EMULATOR_QEMU_TRAD     1
#define LIBXL_EMULATOR_QEMU_UPSTREAM 2

#define COLO_CHECKPOINT_NEW           0
#define COLO_CHECKPOINT_SVM_SUSPENDED 1
#define COLO_CHECKPOINT_SVM_READY     2
#define COLO_CHECKPOINT_SVM_RESUMED   3

struct libxl_rec {
    uint32_t type;
    uint32_t length;
    void *body;          /* malloc'd, length bytes (NULL when 0) */
};

const char *libxl__rec_type_str(uint32_t type);

/* Header: write; read and check (ident, version 2, no big-endian, no legacy).
 * On failure errno is EBADMSG (or the read error) and err says why. */
int libxl__write_stream_header(int fd);
int libxl__read_stream_header(int fd, char *err, size_t errlen);

int libxl__write_rec(int fd, uint32_t type, const void *body, uint32_t length);
/* Read one record (body malloc'd); length capped at LIBXL_REC_LENGTH_MAX, padding must be
 * zero.  errno: EBADMSG, EPIPE (EOF inside), ENODATA (EOF at a record boundary). */
int libxl__read_rec(int fd, struct libxl_rec *rec, char *err, size_t errlen);
void libxl__free_rec(struct libxl_rec *rec);

/* Main-stream start: header + LIBXC_CONTEXT (the libxc stream follows). */
int libxl__write_stream_start(int fd);
/* Reader's side: the header, then records up to LIBXC_CONTEXT (optional ones skipped);
 * 0 with the libxc stream next on fd, or -1 with the reason in err. */
int libxl__read_stream_start(int fd, char *err, size_t errlen);
int libxl__write_end(int fd);
int libxl__write_checkpoint_end(int fd);
int libxl__write_checkpoint_state(int fd, uint32_t id);

/*
 * Read libxl records up to (and including) the record `until` (LIBXL_REC_END after a
 * plain libxc stream, LIBXL_REC_CHECKPOINT_END after a libxc CHECKPOINT), as upstream
 * processes them: EMULATOR_* records are checked (emulator sub-header, NUL-terminated
 * key/value pairs) and skipped, as there is no device model here; unknown records with
 * the optional bit are skipped; anything else is an error (EBADMSG, named in err).
 */
int libxl__read_records_until(int fd, uint32_t until, char *err, size_t errlen);

/* The checks of those readers on one record already read: libxl__check_start_rec 1 for
 * the LIBXC_CONTEXT that starts the libxc stream, 0 for a record skipped, -1 (EBADMSG,
 * err says why); libxl__check_rec_until 1 for `until`, 0 for a record skipped, -1;
 * libxl__check_state_rec 0 with type and (for CHECKPOINT_STATE, of length 4 and a known
 * id) id, -1 (EBADMSG, err says why). */
int libxl__check_start_rec(const struct libxl_rec *rec, char *err, size_t errlen);
int libxl__check_rec_until(const struct libxl_rec *rec, uint32_t until, char *err,
                           size_t errlen);
int libxl__check_state_rec(const struct libxl_rec *rec, uint32_t *type, uint32_t *id,
                           char *err, size_t errlen);
const char *libxl__checkpoint_state_str(uint32_t id);

/* Read one record; 0 on success with type and (for CHECKPOINT_STATE) id. */
int libxl__read_record(int fd, uint32_t *type, uint32_t *id);
/* Read a CHECKPOINT_STATE record and require the given id; -1 with errno (EBADMSG, or
 * as libxl__read_rec) and, when err is given, what was wrong. */
int libxl__expect_state(int fd, uint32_t id, char *err, size_t errlen);

#endif
