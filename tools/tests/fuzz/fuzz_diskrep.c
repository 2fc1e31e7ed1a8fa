/*
 * The disk replication protocol (tools/libs/diskrep/) on one input.
 *
 * Byte 0, bit 0 clear: the rest is what a primary sends to a secondary (16 KiB disk,
 * 512-byte blocks, layers of 8 blocks).  The secondary serves it message by message, and
 * after each one its guest writes a block and the harness checks its view: while
 * running, the view must stay the disk of the last checkpoint plus the guest's own
 * writes whatever the primary forwards, and right after a checkpoint it must be the disk
 * itself.  At the end a running secondary fails over, and its disk must be that view.
 * Bit 0 set: the rest is what a secondary answers a primary that starts, writes,
 * flushes, writes and checkpoints.
 * Either way a refusal must carry a named error, and every message the library wrote
 * must pass its own parser in sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diskrep.h"
#include "dr_wire.h"
#include "fuzz.h"

enum { BS = 512, DISK = 16 * 1024, MAX_IO = 4 * BS };

static const struct diskrep_config cfg = {
    .block_size = BS,
    .active_max_blocks = 8,
    .hidden_max_blocks = 8,
    .max_io = MAX_IO,
    .timeout_ms = 1000,
};
static int in_fd, out_fd;
static uint8_t model[DISK], view[DISK], disk[DISK];

static void quiet(void *opaque, enum diskrep_loglevel level, int errnoval, const char *msg)
{
    (void)opaque;
    (void)level;
    if (fuzz_verbose())
        fprintf(stderr, "diskrep: %s (%s)\n", msg, errnoval ? strerror(errnoval) : "-");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    in_fd = fuzz_memfd("fuzz-diskrep-in");
    out_fd = fuzz_memfd("fuzz-diskrep-out");
    return 0;
}

/* A failed call must say why. */
static void check_refusal(diskrep *h, const char *call)
{
    const char *msg;
    int code = diskrep_last_error(h, &msg);

    if (code == DISKREP_E_NONE || !*msg || !strcmp(diskrep_error_name(code), "unknown"))
        fuzz_fail("%s failed (errno %d) without a named error", call, errno);
}

/* What the library wrote to out_fd: whole messages, numbered 1, 2, ..., each accepted. */
static void check_output(void)
{
    static uint8_t buf[1 << 20];
    struct dr_limits lim = { .max_io = MAX_IO, .disk_size = DISK };
    ssize_t n = pread(out_fd, buf, sizeof(buf), 0);
    size_t off = 0;
    uint64_t seq = 0;
    char why[256];

    while (n > 0 && off < (size_t)n) {
        struct dr_wire_hdr hdr;
        struct dr_msg msg;

        if (dr_parse_header(buf + off, (size_t)n - off, &lim, &hdr, why, sizeof(why)))
            fuzz_fail("the library wrote a message its parser refuses: %s", why);
        if (hdr.seq != ++seq)
            fuzz_fail("message %llu is numbered %llu", (unsigned long long)seq,
                      (unsigned long long)hdr.seq);
        off += sizeof(hdr);
        if (hdr.length > (size_t)n - off)
            fuzz_fail("the library wrote a truncated %s", dr_type_name(hdr.type));
        if (dr_parse_payload(&hdr, buf + off, &lim, &msg, why, sizeof(why)))
            fuzz_fail("the library wrote a payload its parser refuses: %s", why);
        off += hdr.length;
    }
}

static void read_all(diskrep *h, uint8_t *out)
{
    if (diskrep_read(h, out, DISK, 0))
        fuzz_fail("a running secondary's view cannot be read: %s", strerror(errno));
}

static void secondary(void)
{
    diskrep_dev *dev = diskrep_dev_mem(DISK);
    diskrep *s = diskrep_new(DISKREP_SECONDARY, dev, &cfg);
    struct diskrep_stats st;
    uint64_t checkpoints = 0;
    unsigned int step = 0;
    int rc, running = 0;
    uint8_t block[BS];

    if (!s)
        exit(2);
    diskrep_set_logger(s, quiet, NULL);
    diskrep_start(s, in_fd, out_fd);
    while ((rc = diskrep_serve_one(s)) > 0) {
        diskrep_get_stats(s, &st);
        if (diskrep_state(s) != DISKREP_RUNNING) {
            running = 0;
            continue;
        }
        if (!running || st.checkpoints != checkpoints) {
            read_all(s, model);
            if (diskrep_dev_pread(dev, disk, DISK, 0))
                exit(2);
            if (st.checkpoints != checkpoints && memcmp(model, disk, DISK))
                fuzz_fail("after checkpoint %llu the view is not the disk",
                          (unsigned long long)st.checkpoints);
            checkpoints = st.checkpoints;
            running = 1;
        }
        /* The guest writes a block (the active layer may refuse it: full). */
        memset(block, (int)(step & 0xff), sizeof(block));
        if (diskrep_write(s, block, BS, (uint64_t)(step * 5 % (DISK / BS)) * BS) == 0)
            memcpy(model + step * 5 % (DISK / BS) * BS, block, BS);
        else if (errno != ENOSPC)
            fuzz_fail("a guest write failed: %s", strerror(errno));
        step++;
        read_all(s, view);
        if (memcmp(view, model, DISK))
            fuzz_fail("the view changed by something other than the guest's writes");
    }
    if (rc < 0)
        check_refusal(s, "diskrep_serve_one");
    if (diskrep_state(s) == DISKREP_RUNNING) {
        read_all(s, model);
        if (diskrep_failover(s))
            fuzz_fail("failover failed: %s", strerror(errno));
        if (diskrep_dev_pread(dev, disk, DISK, 0) || memcmp(disk, model, DISK))
            fuzz_fail("after failover the disk is not the view before it");
    }
    check_output();
    diskrep_free(s);
    diskrep_dev_close(dev);
}

static void primary(void)
{
    diskrep_dev *dev = diskrep_dev_mem(DISK);
    diskrep *p = diskrep_new(DISKREP_PRIMARY, dev, &cfg);
    uint8_t block[3 * BS];

    if (!p)
        exit(2);
    diskrep_set_logger(p, quiet, NULL);
    memset(block, 0x5a, sizeof(block));
    if (diskrep_start(p, in_fd, out_fd)) {
        check_refusal(p, "diskrep_start");
    } else if (diskrep_write(p, block, sizeof(block), 100) && errno != ENOSPC) {
        fuzz_fail("a primary's write failed: %s", strerror(errno));
    } else if (diskrep_flush(p)) {
        check_refusal(p, "diskrep_flush");
    } else if (diskrep_write(p, block, BS, DISK - BS) && errno != ENOSPC) {
        fuzz_fail("a primary's write failed: %s", strerror(errno));
    } else if (diskrep_checkpoint(p)) {
        check_refusal(p, "diskrep_checkpoint");
    }
    check_output();
    diskrep_free(p);
    diskrep_dev_close(dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_memfd_load(in_fd, data + 1, size - 1);
    fuzz_memfd_reset(out_fd);
    if (data[0] & 1)
        primary();
    else
        secondary();
    return 0;
}
