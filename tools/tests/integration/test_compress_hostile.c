/*
 * COMPRESSED_PAGE_DATA as hostile input to the restorer.  A Remus stream with
 * compression on is recorded with a snapshot of the primary at every checkpoint; one
 * field of its first COMPRESSED_PAGE_DATA record is then spoiled at a time, and the
 * stream restored (the restorer answers the offer into /dev/null, so it accepts the
 * record).  Each spoiled stream must be refused with EBADMSG, and the domain must hold
 * exactly the checkpoint before the spoiled one: a checkpoint is applied whole or not at
 * all.  The unspoiled stream restores to the last checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "remus_pair.h"
#include "sr_stream_format.h"
#include "sr_xor_rle.h"
#include "test.h"
#include "xutil.h"

#define PAGES 1024

/* The first COMPRESSED_PAGE_DATA with an XOR page: its offset, whole checkpoints before
 * it, its count, the offset of its first XOR descriptor and encoding. */
struct target_rec {
    size_t off, desc_off, enc_off, first_desc_off, end;
    unsigned int before;
    uint32_t count;
};

static int find(const uint8_t *s, size_t len, struct target_rec *t)
{
    size_t off = 40;
    unsigned int whole = 0, after_ckpt = 0;

    while (off + 8 <= len) {
        uint32_t type, rlen;

        memcpy(&type, s + off, 4);
        memcpy(&rlen, s + off + 4, 4);
        if (after_ckpt) {
            after_ckpt = 0;
            whole++;
        } else if (type == REC_TYPE_CHECKPOINT) {
            after_ckpt = 1;
        } else if (type == REC_TYPE_COMPRESSED_PAGE_DATA) {
            size_t enc;
            uint32_t count, d;

            memcpy(&count, s + off + 8, 4);
            t->first_desc_off = off + 16 + (size_t)count * 8;
            enc = t->first_desc_off + (size_t)count * 4;
            for (uint32_t i = 0; i < count; i++) {
                memcpy(&d, s + t->first_desc_off + i * 4, 4);
                if ((d & CPD_DESC_ENC_MASK) >> CPD_DESC_ENC_SHIFT == CPD_ENC_XOR_RLE) {
                    t->off = off;
                    t->before = whole;
                    t->count = count;
                    t->desc_off = t->first_desc_off + i * 4;
                    t->enc_off = enc;
                    t->end = off + 8 + rlen;
                    return 0;
                }
                enc += d & CPD_DESC_LEN_MASK;
            }
        }
        off += 8 + ((rlen + 7) & ~7u);
    }
    return -1;
}

/* Restore s into a fresh target: rc, errno, and how many pages of its memory differ from
 * snap.  Memory only: a refused Remus stream is an error, not a failover, so the vcpu
 * context (applied at failover) is not set; memory is what a half-applied checkpoint
 * would leave behind. */
static int restore(xc_interface *xch, const uint8_t *s, size_t len,
                   const struct snapshot *snap, int *err, long *diff)
{
    int fd = test_bytes_fd(s, len), back = open("/dev/null", O_WRONLY);
    uint32_t target = test_create_target(xch, "hostile-svm", PAGES, 3);
    struct snapshot got;
    uint64_t first;
    int rc;

    errno = 0;
    rc = remus_pair_restore(xch, fd, target, back);
    *err = errno;
    *diff = -1;
    if (snapshot_take(xch, target, &got) == 0) {
        memcpy(got.ctx, snap->ctx, sizeof(got.ctx));
        got.ctx_len = snap->ctx_len;
        *diff = snapshot_diff(snap, &got, &first);
        snapshot_free(&got);
    }
    xhv_domain_destroy(xch, target);
    close(fd);
    close(back);
    return rc;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

int main(void)
{
    xc_interface *xch = test_open();
    struct remus_pair_opts o = { .program = "dirtyrate", .pages = PAGES, .rate = 20000,
                                 .checkpoints = 6, .interval_ms = 20, .compress = 1,
                                 .back_channel = 1, .keep = 1 };
    struct remus_pair_result r;
    struct target_rec t;
    uint8_t *bad;
    int err, rc;
    long diff;

    rc = remus_pair_run(xch, &o, &r);
    CHECK(rc == 0 && r.diff == 0 && r.nr_snaps == 6, "recorded a compressed Remus stream of "
          "6 checkpoints (rc %d, %u snapshots)", rc, r.nr_snaps);
    if (rc || find(r.stream, r.stream_len, &t) || t.before < 1) {
        CHECK(0, "the stream has a COMPRESSED_PAGE_DATA record with an XOR page");
        return test_done();
    }
    rc = restore(xch, r.stream, r.stream_len, &r.snaps[r.nr_snaps - 1], &err, &diff);
    CHECK(rc == 0 && diff == 0, "unspoiled: restores to the last checkpoint (rc %d, %ld pages "
          "differ)", rc, diff);

    bad = malloc(r.stream_len);
    {
        uint32_t d = get32(r.stream + t.desc_off), len = d & CPD_DESC_LEN_MASK;
        const struct {
            const char *what;
            size_t off;
            uint32_t value;
            int byte;
        } m[] = {
            { "count 0", t.off + 8, 0, 0 },
            { "count above a batch", t.off + 8, MAX_BATCH_SIZE + 1, 0 },
            { "header reserved bits", t.off + 12, 1, 0 },
            { "descriptor reserved bits", t.desc_off, d | 0x01000000U, 0 },
            { "unknown encoding", t.desc_off, (d & ~CPD_DESC_ENC_MASK) | (7U << 16), 0 },
            { "raw page shorter than a page", t.desc_off, (d & ~CPD_DESC_ENC_MASK) | len, 0 },
            { "encoding one byte longer (lengths do not add up)", t.desc_off, d + 1, 0 },
            { "encoding longer than the record", t.desc_off,
              (d & ~CPD_DESC_LEN_MASK) | XOR_RLE_MAX, 0 },
            { "a skip past the page's end", t.enc_off, 0xff, 1 },
            { "a literal running past the encoding", t.enc_off + len - 2, 0x7f, 1 },
            { "pfn beyond the guest", t.off + 16, (uint32_t)(PAGES + 4096), 0 },
        };

        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
            memcpy(bad, r.stream, r.stream_len);
            if (m[i].byte)
                bad[m[i].off] = (uint8_t)m[i].value;
            else
                put32(bad + m[i].off, m[i].value);
            rc = restore(xch, bad, r.stream_len, &r.snaps[t.before - 1], &err, &diff);
            CHECK(rc == -1 && err == EBADMSG && diff == 0,
                  "%s: refused (rc %d, %s), memory holds checkpoint %u (%ld pages differ)",
                  m[i].what, rc, strerror(err), t.before, diff);
        }
    }
    free(bad);
    remus_pair_free(&r);
    xhv_close(xch);
    return test_done();
}
