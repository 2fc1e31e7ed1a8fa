/*
 * The libxl stream layer on hostile and unusual input: header checks, the optional bit,
 * the length cap, padding, CHECKPOINT_STATE's length, EMULATOR records, and the save
 * helper's message decoding (libxl_save_msgs.h), the compare proxy's control messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxl_colo_proxy.h"
#include "libxl_records.h"
#include "libxl_save_msgs.h"
#include "test.h"
#include "xutil.h"

static int until(const void *p, size_t n, uint32_t type, char *err, size_t errlen)
{
    int fd = test_bytes_fd(p, n), rc;

    err[0] = 0;
    rc = libxl__read_records_until(fd, type, err, errlen);
    close(fd);
    return rc;
}

/* libxl__expect_state(id) on the first n bytes of p: fails with err and msg (err 0: succeeds). */
static int expect(const void *p, size_t n, uint32_t id, int err, const char *msg, char *why,
                  size_t whylen)
{
    int fd = test_bytes_fd(p, n), rc;

    why[0] = 0;
    errno = 0;
    rc = libxl__expect_state(fd, id, why, whylen);
    close(fd);
    if (!err)
        return rc == 0;
    return rc == -1 && errno == err && strstr(why, msg);
}

int main(void)
{
    char err[512];
    int fd, rc;

    /* Header round trip and rejections. */
    {
        char path[] = "/tmp/libxl-hdr-XXXXXX";
        uint8_t h[16];

        fd = mkstemp(path);
        unlink(path);
        CHECK(libxl__write_stream_start(fd) == 0, "write header + LIBXC_CONTEXT");
        lseek(fd, 0, SEEK_SET);
        CHECK(read(fd, h, 16) == 16 && !memcmp(h, "LibxlFmt\0\0\0\2\0\0\0\0", 16),
              "header is LibxlFmt, version 2 big-endian, options 0");
        lseek(fd, 0, SEEK_SET);
        CHECK(libxl__read_stream_header(fd, err, sizeof(err)) == 0, "our header reads back");
        close(fd);
        memcpy(h, "LibxlFmt\0\0\0\3\0\0\0\0", 16);
        fd = test_bytes_fd(h, 16);
        CHECK(libxl__read_stream_header(fd, err, sizeof(err)) && strstr(err, "version 3"),
              "version 3 rejected: %s", err);
        close(fd);
        memcpy(h, "LibxlFmt\0\0\0\2\0\0\0\2", 16);
        fd = test_bytes_fd(h, 16);
        CHECK(libxl__read_stream_header(fd, err, sizeof(err)) && strstr(err, "legacy"),
              "legacy option rejected: %s", err);
        close(fd);
        memcpy(h, "LibxcFmt\0\0\0\2\0\0\0\0", 16);
        fd = test_bytes_fd(h, 16);
        CHECK(libxl__read_stream_header(fd, err, sizeof(err)) && strstr(err, "not a libxl"),
              "bad ident rejected: %s", err);
        close(fd);
    }
    /* The stream header cut at each field: ident, version, options. */
    {
        static const uint8_t h[16] = "LibxlFmt\0\0\0\2\0\0\0";

        for (size_t n = 0; n < 16; n += n < 8 ? 8 : 4) {
            fd = test_bytes_fd(h, n);
            errno = 0;
            rc = libxl__read_stream_header(fd, err, sizeof(err));
            CHECK(rc == -1 && errno == EPIPE &&
                      !strcmp(err, "reading the libxl stream header: end of stream"),
                  "libxl stream header cut after %zu bytes: EPIPE, %s", n, err);
            close(fd);
        }
    }
    /* CHECKPOINT_STATE: length 4 on the wire, padded to 8. */
    {
        char path[] = "/tmp/libxl-cs-XXXXXX";
        uint32_t w[4], type, id;

        fd = mkstemp(path);
        unlink(path);
        libxl__write_checkpoint_state(fd, COLO_CHECKPOINT_SVM_READY);
        lseek(fd, 0, SEEK_SET);
        CHECK(read(fd, w, 16) == 16 && w[0] == 5 && w[1] == 4 && w[2] == 2 && w[3] == 0,
              "CHECKPOINT_STATE is {5, 4, id, 0}");
        lseek(fd, 0, SEEK_SET);
        CHECK(libxl__read_record(fd, &type, &id) == 0 && type == 5 && id == 2, "reads back");
        close(fd);
        uint32_t bad[4] = { 5, 8, 2, 0 };
        CHECK(expect(bad, sizeof(bad), 2, EBADMSG, "CHECKPOINT_STATE record of length 8 (4 "
                     "expected)", err, sizeof(err)), "CHECKPOINT_STATE of length 8: %s", err);
        uint32_t empty[2] = { 5, 0 };
        CHECK(expect(empty, sizeof(empty), 2, EBADMSG, "CHECKPOINT_STATE record of length 0 (4 "
                     "expected)", err, sizeof(err)),
              "CHECKPOINT_STATE of length 0 (upstream dereferences it): %s", err);
        uint32_t unknown[4] = { 5, 4, 7, 0 };
        CHECK(expect(unknown, sizeof(unknown), 2, EBADMSG, "CHECKPOINT_STATE with unknown id 7",
                     err, sizeof(err)), "CHECKPOINT_STATE with unknown id 7: %s", err);
        fd = test_bytes_fd(unknown, sizeof(unknown));
        CHECK(libxl__read_record(fd, &type, &id) == -1 && errno == EBADMSG,
              "  ... refused by libxl__read_record too");
        close(fd);
        uint32_t other[4] = { 5, 4, 1, 0 };
        CHECK(expect(other, sizeof(other), 2, EBADMSG, "expected CHECKPOINT_STATE SVM_READY, got "
                     "SVM_SUSPENDED", err, sizeof(err)), "another state than expected: %s", err);
        uint32_t end[2] = { LIBXL_REC_END, 0 };
        CHECK(expect(end, sizeof(end), 2, EBADMSG, "expected CHECKPOINT_STATE SVM_READY, got "
                     "libxl record 0 (END)", err, sizeof(err)), "another record: %s", err);
        /* Cut at every field boundary: header, type, length, id, padding. */
        uint32_t ok[4] = { 5, 4, 2, 0 };
        CHECK(expect(ok, 0, 2, ENODATA, "reading a libxl record header: end of stream", err,
                     sizeof(err)), "no record at all: ENODATA, %s", err);
        CHECK(expect(ok, 4, 2, EPIPE, "libxl stream truncated inside a record header (4 of 8 "
                     "bytes)", err, sizeof(err)), "cut after the type: EPIPE, %s", err);
        CHECK(expect(ok, 8, 2, EPIPE, "reading the body of libxl record CHECKPOINT_STATE: Broken "
                     "pipe", err, sizeof(err)), "cut after the header: EPIPE, %s", err);
        CHECK(expect(ok, 12, 2, EPIPE, "reading the body of libxl record CHECKPOINT_STATE: "
                     "Broken pipe", err, sizeof(err)), "cut after the id, before the padding: "
              "EPIPE, %s", err);
        CHECK(expect(ok, 16, 2, 0, "", err, sizeof(err)), "the whole record is SVM_READY");
        uint32_t opt[6] = { 0x80000123, 4, 7, 0, 5, 4 };
        uint32_t seq[8];
        memcpy(seq, opt, sizeof(opt));
        seq[6] = 3;
        seq[7] = 0;
        fd = test_bytes_fd(seq, sizeof(seq));
        CHECK(libxl__read_record(fd, &type, &id) == 0 && type == 5 && id == 3,
              "an unknown optional record before it is skipped");
        close(fd);
    }
    /* Records up to END / CHECKPOINT_END. */
    {
        uint32_t end[2] = { LIBXL_REC_END, 0 };
        CHECK(until(end, sizeof(end), LIBXL_REC_END, err, sizeof(err)) == 0, "END alone");

        uint8_t emu[64] = { 0 };
        uint32_t *e = (uint32_t *)emu;
        e[0] = LIBXL_REC_EMULATOR_CONTEXT; e[1] = 8 + 5; e[2] = 2; e[3] = 0;
        memcpy(emu + 16, "state", 5);
        e[8] = LIBXL_REC_END; e[9] = 0;
        CHECK(until(emu, 40, LIBXL_REC_END, err, sizeof(err)) == 0,
              "EMULATOR_CONTEXT (qemu upstream) accepted and skipped");
        e[2] = 9;
        CHECK(until(emu, 40, LIBXL_REC_END, err, sizeof(err)) && strstr(err, "emulator id 9"),
              "unknown emulator id rejected: %s", err);

        uint8_t xs[64] = { 0 };
        uint32_t *x = (uint32_t *)xs;
        const char kv[] = "physmap/1/name\0vga";   /* 19 bytes with the final NUL */
        x[0] = LIBXL_REC_EMULATOR_XENSTORE_DATA; x[1] = 8 + sizeof(kv); x[2] = 2; x[3] = 0;
        memcpy(xs + 16, kv, sizeof(kv));
        x[10] = LIBXL_REC_CHECKPOINT_END; x[11] = 0;   /* 8 + 27 padded to 32 */
        CHECK(until(xs, 48, LIBXL_REC_CHECKPOINT_END, err, sizeof(err)) == 0,
              "EMULATOR_XENSTORE_DATA key/value pair accepted inside a checkpoint");
        xs[16] = '/';
        CHECK(until(xs, 48, LIBXL_REC_CHECKPOINT_END, err, sizeof(err)) &&
              strstr(err, "absolute key"), "absolute key rejected: %s", err);

        uint32_t big[2] = { LIBXL_REC_EMULATOR_CONTEXT, 0xfffffff0u };
        CHECK(until(big, sizeof(big), LIBXL_REC_END, err, sizeof(err)) && strstr(err, "cap"),
              "a 4 GiB length is refused before allocation: %s", err);

        uint32_t pad[6] = { 0x80000042, 1, 0x0000ff01, 0, LIBXL_REC_END, 0 };
        CHECK(until(pad, sizeof(pad), LIBXL_REC_END, err, sizeof(err)) && strstr(err, "padding"),
              "non-zero padding rejected: %s", err);
        pad[2] = 1;
        CHECK(until(pad, sizeof(pad), LIBXL_REC_END, err, sizeof(err)) == 0,
              "unknown optional record skipped");
        uint32_t mand[4] = { 0x42, 0, LIBXL_REC_END, 0 };
        CHECK(until(mand, sizeof(mand), LIBXL_REC_END, err, sizeof(err)) &&
              strstr(err, "unexpected libxl record type 0x42"), "unknown mandatory rejected: %s", err);
        uint32_t ckend[2] = { LIBXL_REC_CHECKPOINT_END, 0 };
        CHECK(until(ckend, sizeof(ckend), LIBXL_REC_END, err, sizeof(err)) &&
              strstr(err, "CHECKPOINT_END"), "CHECKPOINT_END in a plain stream rejected: %s", err);
        /* EMULATOR_CONTEXT {id 2, index 0, "state"}: cut after its type, its length, the
         * emulator id, the index, inside its body and inside its padding (13 bytes, padded to
         * 16: the record ends at 24). */
        static const size_t cuts[] = { 4, 8, 12, 16, 18, 21 };
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            const char *want = cuts[i] < 8 ? "libxl stream truncated inside a record header (4 "
                               "of 8 bytes)" : "reading the body of libxl record "
                               "EMULATOR_CONTEXT: Broken pipe";

            e[2] = 2;
            errno = 0;
            rc = until(emu, cuts[i], LIBXL_REC_END, err, sizeof(err));
            CHECK(rc == -1 && errno == EPIPE && !strcmp(err, want),
                  "a libxl record cut after %zu bytes: EPIPE, %s", cuts[i], err);
        }
        errno = 0;
        rc = until(emu, 24, LIBXL_REC_END, err, sizeof(err));
        CHECK(rc == -1 && errno == ENODATA && strstr(err, "end of stream"),
              "a libxl stream ending at a record boundary before END: ENODATA, %s", err);
    }
    /* Save-helper message decoding. */
    {
        struct shm_buf b;
        struct shm_reader r;
        size_t n;

        shm_begin(&b, SHM_LOG);
        shm_u32(&b, 3);
        shm_u32(&b, 0);
        shm_string(&b, "ctx");
        shm_string(&b, "hello");
        n = shm_end(&b);
        CHECK(n == 2 + 2 + 4 + 4 + 4 + 4 + 4 + 6, "log message length %zu", n);
        r = (struct shm_reader){ b.data + 4, b.data + n, 0 };
        CHECK(shm_get_u32(&r) == 3 && shm_get_u32(&r) == 0 && !strcmp(shm_get_string(&r), "ctx") &&
              !strcmp(shm_get_string(&r), "hello") && !r.bad && r.p == r.end, "decodes exactly");
        b.data[12] = 9;   /* the first STRING's length overruns */
        r = (struct shm_reader){ b.data + 4, b.data + n, 0 };
        shm_get_u32(&r); shm_get_u32(&r); shm_get_string(&r);
        CHECK(r.bad, "a STRING longer than the message is malformed");
        b.data[12] = 4;
        b.data[16 + 3] = 'x';   /* "ctx" loses its NUL */
        r = (struct shm_reader){ b.data + 4, b.data + n, 0 };
        shm_get_u32(&r); shm_get_u32(&r); shm_get_string(&r);
        CHECK(r.bad, "a STRING without its NUL is malformed");
        /* Upstream's xl aborts on a log level outside xentoollog's 1..9. */
        for (unsigned int l = 0; l < 4; l++)
            CHECK(shm_level_to_xtl(l) >= 1 && shm_level_to_xtl(l) <= 9 &&
                  shm_level_from_xtl(shm_level_to_xtl(l)) == l,
                  "log level %u travels as xentoollog level %u and back", l, shm_level_to_xtl(l));
        CHECK(shm_errno_to_xtl(0) == UINT32_MAX && shm_errno_from_xtl(UINT32_MAX) == 0 &&
              shm_errno_from_xtl(shm_errno_to_xtl(5)) == 5,
              "no errno travels as xentoollog's -1, an errno as itself");
    }

    /* The compare proxy's control messages (u32 big-endian length + text). */
    {
        static const uint8_t ok[] = { 0, 0, 0, 4, 'D', 'O', 'N', 'E' };
        static const uint8_t nul[] = { 0, 0, 0, 4, 'D', 'O', 0, 'X' };
        static const uint8_t big[] = { 0, 0, 1, 0, 'D' };
        static const uint8_t cut[] = { 0, 0, 0, 9, 'D', 'O' };
        char msg[64];

        fd = test_bytes_fd(ok, sizeof(ok));
        CHECK(ctlmsg_recv(fd, msg, sizeof(msg), 1000) == 0 && !strcmp(msg, "DONE"),
              "a control message is read whole and terminated");
        CHECK(ctlmsg_recv(fd, msg, sizeof(msg), 1000) == -1 && errno == EPIPE,
              "end of stream is EPIPE");
        close(fd);
        fd = test_bytes_fd(nul, sizeof(nul));
        CHECK(ctlmsg_recv(fd, msg, sizeof(msg), 1000) == -1 && errno == EPROTO,
              "a message with a NUL inside is refused (it would read as \"DO\")");
        close(fd);
        fd = test_bytes_fd(big, sizeof(big));
        CHECK(ctlmsg_recv(fd, msg, sizeof(msg), 1000) == -1 && errno == EPROTO,
              "a message longer than the buffer is refused before it is read");
        close(fd);
        fd = test_bytes_fd(cut, sizeof(cut));
        CHECK(ctlmsg_recv(fd, msg, sizeof(msg), 1000) == -1,
              "a message cut short is an error");
        close(fd);
    }
    return test_done();
}
