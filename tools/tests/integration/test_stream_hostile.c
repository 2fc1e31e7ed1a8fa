/*
 * Hostile input, record by record: every malformed stream or back-channel record gets
 * a clear error (rc -1, errno set), never a crash or a silent wrong result; valid
 * edge cases (optional unknown records, the last valid pfn) are accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"
#include "sr_common.h"
#include "test.h"

#define PAGES 64

static xc_interface *xch;
static uint32_t target;
static uint64_t p2m_size;

/* A stream under construction. */
static char buf[1 << 20];
static size_t len;

static void put(const void *p, size_t n)
{
    if (!n)
        return;
    memcpy(buf + len, p, n);
    len += n;
}

static void put_record(uint32_t type, const void *body, uint32_t blen)
{
    struct sr_rhdr h = { type, blen };
    static const char zero[8];

    put(&h, sizeof(h));
    put(body, blen);
    put(zero, ((blen + 7) & ~7u) - blen);
}

static void start_stream(void)
{
    struct sr_ihdr ih = { IHDR_MARKER, __builtin_bswap32(IHDR_ID), __builtin_bswap32(3), 0, 0, 0 };
    struct sr_dhdr dh = { DHDR_TYPE_X86_HVM, 12, 0, 4, 17 };

    len = 0;
    put(&ih, sizeof(ih));
    put(&dh, sizeof(dh));
    put_record(REC_TYPE_STATIC_DATA_END, NULL, 0);
}

static void put_page_data(const uint64_t *pfns, uint32_t count, uint32_t data_pages)
{
    static char body[8 + 8 * 1100 + 4096 * 4];
    struct sr_page_data_header *h = (void *)body;
    uint32_t blen = 8 + 8 * count + 4096 * data_pages;

    h->count = count;
    h->_res1 = 0;
    memcpy(body + 8, pfns, 8 * count);
    memset(body + 8 + 8 * count, 0x5a, 4096 * data_pages);
    put_record(REC_TYPE_PAGE_DATA, body, blen);
}

/* libxl's CHECKPOINT_END, read by the checkpoint callback of a Remus restore. */
static int remus_checkpoint_cb(void *data)
{
    int fd = *(int *)data;
    uint32_t hdr[2];

    if (read_exact(fd, hdr, sizeof(hdr)) || hdr[0] != 4 || hdr[1] != 0)
        return XGR_CHECKPOINT_FAILOVER;
    return XGR_CHECKPOINT_SUCCESS;
}

/* Restore buf[0..len) as a stream of the given type; returns rc and leaves errno. */
static int restore_buf_as(xc_stream_type_t type)
{
    char path[512];
    int fd, rc, e;
    struct restore_callbacks cb = { .checkpoint = remus_checkpoint_cb, .data = &fd };
    xen_pfn_t s, c;

    snprintf(path, sizeof(path), "%s/hostile.stream", test_sim_dir());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (write_exact(fd, buf, len))
        exit(2);
    lseek(fd, 0, SEEK_SET);
    rc = xc_domain_restore(xch, fd, target, 1, &s, 0, 2, &c, 0, type, &cb, -1);
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int restore_buf(void)
{
    return restore_buf_as(XC_STREAM_PLAIN);
}

static void expect_reject(const char *what)
{
    int rc = restore_buf();

    CHECK(rc == -1 && errno != 0, "rejected: %s (errno %d %s)", what, errno, strerror(errno));
}

static void hostile_stream(void)
{
    uint64_t pfns[1100];
    uint32_t i;

    start_stream();
    buf[0] = 0;   /* bad marker */
    expect_reject("image header marker");
    start_stream();
    buf[8] ^= 1;
    expect_reject("image header id");
    start_stream();
    buf[15] = 9;
    expect_reject("image header version 9");
    start_stream();
    buf[17] = 1;
    expect_reject("big-endian option");
    start_stream();
    buf[28] = 13;
    expect_reject("page shift 13");

    start_stream();
    expect_reject("stream without END");

    start_stream();
    {
        struct sr_rhdr h = { REC_TYPE_HVM_CONTEXT, REC_LENGTH_MAX + 8 };

        put(&h, sizeof(h));
    }
    expect_reject("record length beyond 128 MiB");

    start_stream();
    put_record(0x7000, "abcdefgh", 8);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("unknown mandatory record 0x7000");

    start_stream();
    pfns[0] = 0;
    put_page_data(pfns, 0, 0);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("PAGE_DATA with count 0");

    start_stream();
    for (i = 0; i < 1025; i++)
        pfns[i] = ((uint64_t)PT_XTAB << 60) | i;
    put_page_data(pfns, 1025, 0);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("PAGE_DATA with 1025 pfns");

    start_stream();
    pfns[0] = p2m_size;
    put_page_data(pfns, 1, 1);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("PAGE_DATA pfn == p2m size");

    start_stream();
    pfns[0] = (5ULL << 60) | 1;
    put_page_data(pfns, 1, 1);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("PAGE_DATA reserved page type 5");

    start_stream();
    pfns[0] = (1ULL << 55) | 1;
    put_page_data(pfns, 1, 1);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("PAGE_DATA reserved pfn bits");

    start_stream();
    pfns[0] = 1;
    put_page_data(pfns, 1, 0);   /* a NOTAB page without its data */
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("PAGE_DATA length without the page's data");

    start_stream();
    {
        uint32_t body[2] = { 1, 0 };   /* one param, no room for it */

        put_record(REC_TYPE_HVM_PARAMS, body, 8);
    }
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("HVM_PARAMS count larger than the record");

    start_stream();
    put_record(REC_TYPE_X86_TSC_INFO, "12345678", 8);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("TSC_INFO of 8 bytes");

    start_stream();
    {
        uint64_t pfn = 3;

        put_record(REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, &pfn, 8);
    }
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("dirty pfn list on the main stream");

    start_stream();
    put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("CHECKPOINT in a plain stream");

    start_stream();
    put_record(REC_TYPE_STATIC_DATA_END, NULL, 0);
    put_record(REC_TYPE_END, NULL, 0);
    expect_reject("second STATIC_DATA_END");

    /* Accepted: an unknown optional record is skipped; the last valid pfn restores. */
    {
        uint8_t ctx[4096];
        int n = xhv_hvm_getcontext(xch, target, ctx, sizeof(ctx));

        start_stream();
        put_record(REC_TYPE_OPTIONAL | 0x1234, "optional", 8);
        pfns[0] = p2m_size - 1;
        put_page_data(pfns, 1, 1);
        if (n > 0)
            put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)n);
        put_record(REC_TYPE_END, NULL, 0);
        CHECK(n > 0 && restore_buf() == 0,
              "accepted: unknown optional record skipped, last valid pfn restored");
    }
}

static int first_byte(uint64_t pfn)
{
    void *page;
    int err, v = -1;

    if (!xhv_map_foreign(xch, target, PROT_READ, &pfn, &page, &err, 1) && !err)
        v = *(unsigned char *)page;
    xhv_unmap_foreign(xch, target, &page, 1);
    return v;
}

static void put_one_page(uint64_t pfn, int value)
{
    static char body[8 + 8 + 4096];
    struct sr_page_data_header *h = (void *)body;

    h->count = 1;
    h->_res1 = 0;
    memcpy(body + 8, &pfn, 8);
    memset(body + 16, value, 4096);
    put_record(REC_TYPE_PAGE_DATA, body, sizeof(body));
}

/*
 * A checkpoint is applied whole or not at all: checkpoint 2 carries an unknown
 * optional record (skipped, upstream fails on it) and is applied; checkpoint 3 holds a
 * valid page followed by a malformed one and must leave no trace.
 */
static void hostile_checkpoints(const uint8_t *ctx, int ctx_len)
{
    const uint32_t checkpoint_end[2] = { 4, 0 };
    size_t after_cp2;
    int rc;

    start_stream();
    put_one_page(0, 0x11);
    put_one_page(1, 0x11);
    put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)ctx_len);
    put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    put(checkpoint_end, sizeof(checkpoint_end));
    put_record(REC_TYPE_OPTIONAL | 0x4242, "optional", 8);
    put_one_page(0, 0x22);
    put_one_page(1, 0x22);
    put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)ctx_len);
    put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    put(checkpoint_end, sizeof(checkpoint_end));
    after_cp2 = len;
    put_one_page(0, 0x33);
    put_one_page(p2m_size, 0x33);   /* out of range */
    put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    put(checkpoint_end, sizeof(checkpoint_end));

    rc = restore_buf_as(XC_STREAM_REMUS);
    CHECK(rc == -1 && errno == EBADMSG, "malformed checkpoint 3 is rejected (rc %d errno %d)",
          rc, errno);
    CHECK(first_byte(0) == 0x22 && first_byte(1) == 0x22,
          "nothing of checkpoint 3 was applied; checkpoint 2 (with an optional record) was "
          "(pfn0 %#x pfn1 %#x)", first_byte(0), first_byte(1));

    len = after_cp2;   /* the primary dies right after checkpoint 2 */
    rc = restore_buf_as(XC_STREAM_REMUS);
    CHECK(rc == 0 && first_byte(0) == 0x22, "stream ending after checkpoint 2 fails over to it");
}

/* The primary's side of the back channel. */
static void hostile_back_channel(void)
{
    struct sr_context c = { .xch = xch };
    struct sr_context *ctx = &c;
    unsigned long bm[4] = { 0 };
    const uint64_t nr = 200;
    uint64_t merged = 0, pfns[3];
    int sv[2];

    (void)ctx;
    for (int t = 0; t < 5; t++) {
        struct sr_rhdr h = { REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, 0 };
        const char *what = "";
        int rc;

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
            exit(2);
        memset(bm, 0, sizeof(bm));
        switch (t) {
        case 0:   /* valid: last pfn, accepted */
            pfns[0] = 5, pfns[1] = nr - 1, pfns[2] = 5;
            h.length = 24;
            what = "valid list with pfn p2m_size-1";
            break;
        case 1:
            pfns[0] = nr;
            h.length = 8;
            what = "pfn == p2m size (the upstream off-by-one)";
            break;
        case 2:
            h.length = 12;
            what = "length not a multiple of 8";
            break;
        case 3:
            h.type = REC_TYPE_CHECKPOINT;
            what = "wrong record type";
            break;
        case 4:
            h.length = 16;   /* then the secondary dies mid-record */
            what = "truncated list";
            break;
        }
        write_exact(sv[1], &h, sizeof(h));
        if (t != 4 && h.length)
            write_exact(sv[1], pfns, (h.length + 7) & ~7u);
        close(sv[1]);
        rc = colo_merge_dirty_pfn_list(&c, sv[0], bm, nr, &merged);
        close(sv[0]);
        if (t == 0)
            CHECK(rc == 0 && merged == 2 && bitmap_test_bit(bm, 5) && bitmap_test_bit(bm, nr - 1) &&
                      bitmap_count(bm, nr) == 2,
                  "back channel accepts a %s (merged %llu)", what, (unsigned long long)merged);
        else
            CHECK(rc == -1 && bitmap_count(bm, nr) == 0,
                  "back channel rejects a %s, bitmap untouched (errno %d)", what, errno);
    }
}

int main(void)
{
    xhv_dominfo_t info;

    xch = test_open();
    target = test_create_target(xch, "hostile", PAGES, 1);
    xhv_domain_info(xch, target, &info);
    p2m_size = info.p2m_size;
    {   /* a real context to reuse in the accepted case */
        uint32_t src = test_create_guest(xch, "ctxsrc", "incrementer", PAGES, 1, 1000);
        uint8_t ctx[4096];
        int n;

        xhv_domain_pause(xch, src);
        n = xhv_hvm_getcontext(xch, src, ctx, sizeof(ctx));
        if (n > 0)
            xhv_hvm_setcontext(xch, target, ctx, (size_t)n);
        xhv_domain_destroy(xch, src);
    }
    hostile_stream();
    {
        uint8_t ctx[4096];
        int n = xhv_hvm_getcontext(xch, target, ctx, sizeof(ctx));

        CHECK(n > 0, "target has a context to put in streams");
        if (n > 0)
            hostile_checkpoints(ctx, n);
    }
    hostile_back_channel();
    xhv_domain_destroy(xch, target);
    xhv_close(xch);
    return test_done();
}
