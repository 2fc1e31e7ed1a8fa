/*
 * libxl's stream reader on one input: a libxl migration stream (what follows xl's
 * save-file header) read as libxl reads it around the engine: libxl__read_stream_start,
 * then the libxc stream (skipped here record by record with the engine's framing), and
 * libxl's records after it: up to END after the libxc END (plain), up to CHECKPOINT_END
 * after each libxc CHECKPOINT (Remus, COLO) followed, in COLO, by CHECKPOINT_STATE NEW.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest.h"
#include "libxl_records.h"
#include "sr_common.h"

static xc_interface *xch;
static int fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xch = test_open();
    fuzz_quiet(xch);
    fd = fuzz_memfd("fuzz-libxl");
    return 0;
}

/* The libxc stream: its headers, then records up to END (1) or CHECKPOINT (2). */
static int skip_libxc(struct sr_context *ctx, int headers)
{
    struct sr_record rec;

    if (headers && read_headers(ctx))
        return 0;
    for (;;) {
        uint32_t type;

        if (read_record(ctx, fd, &rec))
            return 0;
        type = rec.type;
        free_record(&rec);
        if (type == REC_TYPE_END)
            return 1;
        if (type == REC_TYPE_CHECKPOINT)
            return 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sr_context c = { .xch = xch };
    char err[512];
    int r;

    fuzz_memfd_load(fd, data, size);
    c.fd = fd;
    err[0] = 0;
    if (libxl__read_stream_start(fd, err, sizeof(err))) {
        if (!err[0])
            fuzz_fail("libxl__read_stream_start failed without a reason");
        return 0;
    }
    for (r = skip_libxc(&c, 1); r == 2; r = skip_libxc(&c, 0)) {
        uint32_t type;

        err[0] = 0;
        if (libxl__read_records_until(fd, LIBXL_REC_CHECKPOINT_END, err, sizeof(err))) {
            if (!err[0])
                fuzz_fail("libxl__read_records_until failed without a reason");
            return 0;
        }
        /* COLO: the primary's NEW comes before the next checkpoint's records. */
        if (pread(fd, &type, 4, lseek(fd, 0, SEEK_CUR)) == 4 &&
            type == LIBXL_REC_CHECKPOINT_STATE && libxl__expect_state(fd, COLO_CHECKPOINT_NEW, NULL, 0))
            return 0;
    }
    if (r == 1) {
        err[0] = 0;
        if (libxl__read_records_until(fd, LIBXL_REC_END, err, sizeof(err)) && !err[0])
            fuzz_fail("libxl__read_records_until failed without a reason");
    }
    return 0;
}
