/*
 * A stream cut at every field boundary (docs/hostile-input.md): of the image and domain
 * headers, of each record header, of PAGE_DATA's count, pfns and pages, of a record
 * body and its padding.  A plain stream is refused with EPIPE and a message saying
 * where it ended; a Remus stream cut inside checkpoint 2 fails over to checkpoint 1,
 * and the target holds exactly checkpoint 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "sr_common.h"
#include "stream_build.h"
#include "test.h"

#define PAGES 64

static xc_interface *xch;
static uint32_t target;

struct cut {
    size_t at;
    const char *where;
    const char *msg;       /* what the restorer says */
};

/* Records of one checkpoint or plain stream body: two pages, an optional record of 5
 * bytes (a body with padding), the context. */
static void put_state(int value, const uint8_t *ctx, int ctx_len)
{
    uint64_t pfns[2] = { 0, 1 };
    size_t at = stream_len;

    stream_put_page_data(pfns, 2, 2);
    memset(stream_buf + at + 8 + 8 + 16, value, 2 * 4096);
    stream_put_record(REC_TYPE_OPTIONAL | 0x77, "abcde", 5);
    stream_put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)ctx_len);
}

/* Restore the stream's first `at` bytes (stream_len is left at `at`). */
static void restore_first(xc_stream_type_t type, size_t at, struct restore_outcome *o)
{
    stream_len = at;
    stream_restore(xch, target, type, o);
}

static size_t add(struct cut *c, size_t n, size_t at, const char *where, const char *msg)
{
    c[n] = (struct cut){ at, where, msg };
    return n + 1;
}

/* The cuts of the records in [from, to): header fields, then each record's body;
 * direct: PAGE_DATA is read straight into the guest (outside checkpoints), with its
 * own messages. */
static size_t record_cuts(struct cut *c, size_t n, size_t from, size_t to, int direct,
                          const char *boundary)
{
    static char msgs[64][160];
    static unsigned int nmsg;
    size_t at = from;

    while (at < to) {
        const struct sr_rhdr *h = (const struct sr_rhdr *)(stream_buf + at);
        size_t body = at + 8, padded = (h->length + 7) & ~7u;
        char *m = msgs[nmsg++ % 64];

        n = add(c, n, at, "at a record boundary", boundary);
        n = add(c, n, at + 4, "inside a record header, after its type",
                "Stream truncated inside a record header (4 of 8 bytes)");
        if (h->type == REC_TYPE_PAGE_DATA && direct) {
            uint32_t count = *(const uint32_t *)(stream_buf + body);
            size_t data = body + 8 + 8 * count;

            n = add(c, n, body, "after PAGE_DATA's header", "Stream truncated inside a PAGE_DATA record");
            n = add(c, n, body + 4, "after PAGE_DATA's count", "Stream truncated inside a PAGE_DATA record");
            n = add(c, n, body + 8, "after PAGE_DATA's reserved field",
                    "Stream truncated inside a PAGE_DATA record");
            n = add(c, n, body + 16, "after the first pfn", "Stream truncated inside a PAGE_DATA record");
            snprintf(m, 160, "Stream truncated inside PAGE_DATA (%u pages of data expected)", count);
            n = add(c, n, data, "after the pfns, before the pages", m);
            n = add(c, n, data + 100, "inside the first page", m);
            n = add(c, n, data + 4096, "after the first page", m);
            n = add(c, n, at + 8 + padded - 1, "one byte before PAGE_DATA's end", m);
        } else if (h->length) {
            snprintf(m, 160, "Stream truncated inside record (0x%08x, %s), %zu body bytes expected",
                     h->type, rec_type_to_str(h->type), padded);
            n = add(c, n, body, "after a record header", m);
            n = add(c, n, body + h->length / 2, "inside a record body", m);
            if (padded != h->length)
                n = add(c, n, body + h->length, "after a record body, before its padding", m);
        }
        at += 8 + padded;
    }
    return n;
}

static void plain_cuts(const uint8_t *ctx, int ctx_len)
{
    static struct cut c[64];
    size_t n = 0, full, first_data;
    struct restore_outcome o;

    stream_start();
    put_state(0x44, ctx, ctx_len);
    stream_put_record(REC_TYPE_END, NULL, 0);
    full = stream_len;
    first_data = 40 + 8 + 8 + 8 + 16;   /* headers, STATIC_DATA_END, PAGE_DATA to its pages */
    n = add(c, n, 0, "an empty stream", "Failed to read image header: Broken pipe");
    n = add(c, n, 8, "after the marker", "Failed to read image header");
    n = add(c, n, 12, "after the id", "Failed to read image header");
    n = add(c, n, 16, "after the version", "Failed to read image header");
    n = add(c, n, 18, "after the options", "Failed to read image header");
    n = add(c, n, 20, "after the first reserved field", "Failed to read image header");
    n = add(c, n, 24, "after the image header", "Failed to read domain header: Broken pipe");
    n = add(c, n, 28, "after the domain type", "Failed to read domain header");
    n = add(c, n, 30, "after the page shift", "Failed to read domain header");
    n = add(c, n, 32, "after the reserved field", "Failed to read domain header");
    n = add(c, n, 36, "after the major version", "Failed to read domain header");
    n = record_cuts(c, n, 40, full, 1, "Stream ended before its END record");

    for (size_t i = 0; i < n; i++) {
        int applied_before = c[i].at >= first_data;

        restore_first(XC_STREAM_PLAIN, c[i].at, &o);
        /* Pages are read straight into the guest as they arrive (docs/performance.md): a
         * plain stream cut inside or after its page data has populated and written them;
         * the vcpu context and params are loaded at END only. */
        CHECK(outcome_rejected(&o, EPIPE, c[i].msg) &&
                  (applied_before ? o.context_unchanged : o.unchanged),
              "plain stream cut at %zu, %s: EPIPE, \"%s\", %s (rc %d, errno %d; %s; logged: "
              "%.300s)", c[i].at, c[i].where, c[i].msg,
              applied_before ? "context unchanged" : "target unchanged", o.rc, o.err, o.change,
              o.log);
    }
    restore_first(XC_STREAM_PLAIN, full, &o);
    CHECK(o.rc == 0, "the whole plain stream restores (rc %d, errno %d)", o.rc, o.err);
}

static void remus_cuts(const uint8_t *ctx, int ctx_len)
{
    static struct cut c[64];
    size_t n = 0, full, cp1;
    struct restore_outcome o;

    stream_start();
    put_state(0x11, ctx, ctx_len);
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    stream_put_checkpoint_end();
    cp1 = stream_len;
    put_state(0x22, ctx, ctx_len);
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    full = stream_len;
    stream_put_checkpoint_end();
    n = record_cuts(c, 0, cp1, full, 0, NULL);
    n = add(c, n, full, "after checkpoint 2's CHECKPOINT, before libxl's CHECKPOINT_END", NULL);
    n = add(c, n, full + 4, "inside libxl's CHECKPOINT_END", NULL);

    for (size_t i = 0; i < n; i++) {
        struct restore_outcome back;

        /* The target at checkpoint 1: the stream cut right after it fails over to it. */
        restore_first(XC_STREAM_REMUS, cp1, &back);
        restore_first(XC_STREAM_REMUS, c[i].at, &o);
        CHECK(back.rc == 0 && o.rc == 0 && strstr(o.log, "Remus failover to checkpoint 1") &&
                  (!c[i].msg || strstr(o.log, c[i].msg)) && o.unchanged,
              "Remus stream cut in checkpoint 2 at %zu, %s: fails over to checkpoint 1%s%s, "
              "the target holds exactly checkpoint 1 (rc %d; %s; logged: %.300s)", c[i].at,
              c[i].where, c[i].msg ? ", saying " : "", c[i].msg ? c[i].msg : "", o.rc, o.change,
              o.log);
    }
}

int main(void)
{
    uint8_t ctx[4096];
    int n;

    xch = test_open();
    stream_capture_log(xch);
    n = stream_target(xch, "truncated", PAGES, ctx, sizeof(ctx), &target);
    plain_cuts(ctx, n);
    remus_cuts(ctx, n);
    xhv_domain_destroy(xch, target);
    xhv_close(xch);
    return test_done();
}
