/*
 * Hostile input, record by record (docs/hostile-input.md): every malformed stream or
 * back-channel record is refused with its own errno and a message naming what was
 * wrong, and leaves the target domain exactly as it was (memory, populated pfns, vcpu
 * context, HVM params, TSC); valid edge cases (optional unknown records, the last
 * valid pfn) are accepted.  Truncations are test_stream_truncated.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"
#include "sr_common.h"
#include "stream_build.h"
#include "test.h"

#define PAGES 64

static xc_interface *xch;
static uint32_t target;
static uint64_t p2m_size;

/* The restore of the stream built so far as `type` is refused with err and msg, and the
 * target is untouched. */
static void reject_as(xc_stream_type_t type, int err, const char *msg, const char *what)
{
    struct restore_outcome o;

    stream_restore(xch, target, type, &o);
    CHECK(outcome_rejected(&o, err, msg) && o.unchanged,
          "%s: %s, \"%s\", target %s (rc %d, errno %d; logged: %.300s)", what, strerror(err), msg,
          o.change, o.rc, o.err, o.log);
}

static void reject(int err, const char *msg, const char *what)
{
    reject_as(XC_STREAM_PLAIN, err, msg, what);
}

/* A plain stream of one record (then END) is refused with err and msg. */
static void one_record(uint32_t type, const void *body, uint32_t len, int err, const char *msg,
                       const char *what)
{
    stream_start();
    stream_put_record(type, body, len);
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(err, msg, what);
}

static void hostile_headers(void)
{
    struct sr_dhdr *dh = (struct sr_dhdr *)(stream_buf + sizeof(struct sr_ihdr));

    stream_start();
    stream_buf[0] = 0;
    reject(EINVAL, "Invalid image header marker: expected 0xffffffffffffffff, got "
           "0xffffffffffffff00", "image header marker");
    stream_start();
    stream_buf[8] ^= 1;
    reject(EINVAL, "Invalid image header id: expected 0x58454e46, got 0x59454e46",
           "image header id");
    stream_start();
    stream_buf[15] = 9;
    reject(EINVAL, "Invalid image header version 9, expected 2 or 3", "image header version 9");
    stream_start();
    stream_buf[15] = 1;
    reject(EINVAL, "Invalid image header version 1, expected 2 or 3", "image header version 1");
    stream_start();
    stream_buf[17] = 1;
    reject(EINVAL, "Unable to restore a big-endian stream", "big-endian option");
    stream_start();
    dh->page_shift = 13;
    reject(EINVAL, "Invalid page shift 13 in domain header, expected 12", "page shift 13");
    stream_start();
    dh->page_shift = 0;
    reject(EINVAL, "Invalid page shift 0 in domain header, expected 12", "page shift 0");
    stream_start();
    dh->type = 7;
    reject(EOPNOTSUPP, "Domain header type 7 is not supported in a plain stream",
           "domain header type 7");
    stream_start();
    dh->type = DHDR_TYPE_X86_PV;
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    reject_as(XC_STREAM_REMUS, EOPNOTSUPP,
              "Domain header type 1 is not supported in a checkpointed stream",
              "a PV domain header in a Remus stream");
}

static void hostile_framing(void)
{
    struct sr_rhdr h = { REC_TYPE_HVM_CONTEXT, REC_LENGTH_MAX + 1 };
    char msg[200];

    stream_start();
    reject(EPIPE, "Stream ended before its END record", "stream without END");

    stream_start();
    stream_put(&h, sizeof(h));
    reject(EBADMSG, "Record (0x00000009, HVM context) length 134217729 exceeds max (134217728)",
           "record length one beyond 128 MiB");
    stream_start();
    h = (struct sr_rhdr){ REC_TYPE_PAGE_DATA, UINT32_MAX };
    stream_put(&h, sizeof(h));
    reject(EBADMSG, "Record (0x00000001, Page data) length 4294967295 exceeds max",
           "PAGE_DATA length 4 GiB - 1");

    one_record(0x7000, "abcdefgh", 8, EBADMSG,
               "Unknown mandatory record 0x00007000 (Reserved), 8 bytes",
               "unknown mandatory record 0x7000");
    one_record(REC_TYPE_VERIFY, NULL, 0, EOPNOTSUPP, "VERIFY (debug) streams are not supported",
               "VERIFY record");

    one_record(REC_TYPE_CHECKPOINT, NULL, 0, EBADMSG,
               "CHECKPOINT record found in a plain stream", "CHECKPOINT in a plain stream");

    stream_start();
    {
        uint64_t pfn = 3;

        stream_put_record(REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, &pfn, 8);
    }
    stream_put_record(REC_TYPE_END, NULL, 0);
    snprintf(msg, sizeof(msg), "Checkpoint dirty pfn list record on the main stream");
    reject(EBADMSG, msg, "dirty pfn list on the main stream");
}

/* A plain stream of one PAGE_DATA (count entries, data_pages pages) is refused. */
static void page_data_case(const uint64_t *pfns, uint32_t count, uint32_t data_pages,
                           const char *msg, const char *what)
{
    stream_start();
    stream_put_page_data(pfns, count, data_pages);
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(EBADMSG, msg, what);
}

/* PAGE_DATA whose length disagrees with its count and types, or whose entries are bad. */
static void hostile_page_data(void)
{
    static uint64_t pfns[1100];
    char msg[200];
    uint32_t i;

    page_data_case(pfns, 0, 0, "PAGE_DATA record with no pages", "PAGE_DATA with count 0");
    for (i = 0; i < 1025; i++)
        pfns[i] = ((uint64_t)PT_XTAB << 60) | i;
    page_data_case(pfns, 1025, 0, "PAGE_DATA record with 1025 pages, more than a batch (1024)",
                   "PAGE_DATA with 1025 pfns");

    one_record(REC_TYPE_PAGE_DATA, "\1\0\0\0", 4, EBADMSG,
               "PAGE_DATA record truncated: length 4, header needs 8",
               "PAGE_DATA shorter than its header");
    stream_start();
    {
        uint32_t body[4] = { 2, 0, 1, 0 };   /* count 2, room for one pfn */

        stream_put_record(REC_TYPE_PAGE_DATA, body, sizeof(body));
    }
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(EBADMSG, "PAGE_DATA record truncated: length 16, 2 pfns need 24",
           "PAGE_DATA count 2 with one pfn");

    pfns[0] = 1;
    page_data_case(pfns, 1, 0, "PAGE_DATA record length 16, expected 4112 for 1 pfns with 1 "
                   "pages of data", "PAGE_DATA: a NOTAB page without its data");
    page_data_case(pfns, 1, 2, "PAGE_DATA record length 8208, expected 4112 for 1 pfns with 1 "
                   "pages of data", "PAGE_DATA: a NOTAB page with two pages of data");
    pfns[0] = ((uint64_t)PT_XTAB << 60) | 1;   /* XTAB carries no data */
    page_data_case(pfns, 1, 1, "PAGE_DATA record length 4112, expected 16 for 1 pfns with 0 "
                   "pages of data", "PAGE_DATA: an XTAB entry with a page of data");
    pfns[0] = 2;
    pfns[1] = ((uint64_t)PT_XALLOC << 60) | 3;   /* XALLOC: populated, no data */
    pfns[2] = ((uint64_t)PT_BROKEN << 60) | 4;
    page_data_case(pfns, 3, 3, "PAGE_DATA record length 12320, expected 4128 for 3 pfns with 1 "
                   "pages of data", "PAGE_DATA: NOTAB, XALLOC, BROKEN with three pages of data");

    pfns[0] = (5ULL << 60) | 1;
    page_data_case(pfns, 1, 1, "PAGE_DATA entry 0: pfn 0x1 has unknown type 0x5",
                   "PAGE_DATA type 5");
    pfns[0] = ((uint64_t)PT_L1TAB << 60) | 1;
    page_data_case(pfns, 1, 1, "PAGE_DATA entry 0: page-table type 0x1 in an HVM stream",
                   "PAGE_DATA: an L1 page table in an HVM stream");
    pfns[0] = (1ULL << 55) | 1;
    page_data_case(pfns, 1, 1, "PAGE_DATA entry 0 (0x80000000000001): reserved bits set",
                   "PAGE_DATA reserved pfn bits");

    /* pfn >= p2m size: exactly the size, and the largest pfn the format can carry, the
     * bad entry after a good one (the good one must not be written either). */
    pfns[0] = p2m_size;
    snprintf(msg, sizeof(msg), "PAGE_DATA entry 0: pfn %#llx is beyond the p2m size %#llx",
             (unsigned long long)p2m_size, (unsigned long long)p2m_size);
    page_data_case(pfns, 1, 1, msg, "PAGE_DATA pfn == p2m size");
    pfns[0] = 0;
    pfns[1] = PAGE_DATA_PFN_MASK;
    snprintf(msg, sizeof(msg), "PAGE_DATA entry 1: pfn 0xfffffffffffff is beyond the p2m size "
             "%#llx", (unsigned long long)p2m_size);
    page_data_case(pfns, 2, 2, msg, "PAGE_DATA pfn 2^52-1 after a valid pfn");
}

/* Records of the guest type, and those that may come once. */
static void hostile_records(void)
{
    static uint8_t leaves[2 * XHV_CPUID_LEAF_SIZE], msrs[XHV_MSR_ENTRY_SIZE];

    stream_start();
    {
        uint32_t body[2] = { 1, 0 };   /* one param, no room for it */

        stream_put_record(REC_TYPE_HVM_PARAMS, body, 8);
    }
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(EBADMSG, "HVM_PARAMS record length 8 does not match count 1",
           "HVM_PARAMS count larger than the record");
    stream_start();
    {
        /* A good param, then an index out of range: nothing of it is set. */
        uint64_t body[5] = { 2, HVM_PARAM_STORE_PFN, 0x1234, 99, 1 };

        stream_put_record(REC_TYPE_HVM_PARAMS, body, sizeof(body));
    }
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(EBADMSG, "HVM_PARAMS entry 1: param index 99 out of range",
           "HVM_PARAMS: a valid param, then index 99");

    one_record(REC_TYPE_X86_TSC_INFO, "12345678", 8, EBADMSG,
               "X86_TSC_INFO record length 8, expected 24", "TSC_INFO of 8 bytes");
    one_record(REC_TYPE_HVM_CONTEXT, NULL, 0, EBADMSG,
               "HVM_CONTEXT record length 0 out of range (1..1048576)",
               "HVM_CONTEXT of length 0");

    /* One-time records, twice. */
    one_record(REC_TYPE_STATIC_DATA_END, NULL, 0, EBADMSG, "Multiple STATIC_DATA_END records",
               "second STATIC_DATA_END");

    stream_start();
    stream_len -= 8;   /* the policies belong before STATIC_DATA_END */
    stream_put_record(REC_TYPE_X86_CPUID_POLICY, leaves, sizeof(leaves));
    stream_put_record(REC_TYPE_X86_CPUID_POLICY, leaves, sizeof(leaves));
    stream_put_record(REC_TYPE_STATIC_DATA_END, NULL, 0);
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(EBADMSG, "Duplicate x86 CPUID policy record", "second X86_CPUID_POLICY");
    stream_start();
    stream_len -= 8;
    stream_put_record(REC_TYPE_X86_MSR_POLICY, msrs, sizeof(msrs));
    stream_put_record(REC_TYPE_X86_MSR_POLICY, msrs, sizeof(msrs));
    stream_put_record(REC_TYPE_STATIC_DATA_END, NULL, 0);
    stream_put_record(REC_TYPE_END, NULL, 0);
    reject(EBADMSG, "Duplicate x86 MSR policy record", "second X86_MSR_POLICY");
    one_record(REC_TYPE_X86_CPUID_POLICY, leaves, sizeof(leaves), EBADMSG,
               "x86 CPUID policy record after STATIC_DATA_END",
               "X86_CPUID_POLICY after the static data");
}

/* PV one-time records: the simulator has no PV domain to restore into, so the
 * restorer's own record loop checks them (xc_stream_check: nothing is applied). */
static void hostile_pv_records(void)
{
    xc_interface *none = xhv_open("none");
    struct sr_x86_pv_info pvi = { 8, 4, 0, 0, 0 };
    uint64_t frames[2] = { 511ULL << 32, 7 };   /* pfns 0..511, one frame: pfn 7 */
    struct sr_dhdr *dh = (struct sr_dhdr *)(stream_buf + sizeof(struct sr_ihdr));
    struct sr_check_result res;
    int fd, rc;

    if (!none)
        exit(2);
    stream_capture_log(none);
    for (int t = 0; t < 2; t++) {
        const char *msg = t ? "Multiple X86_PV_P2M_FRAMES records" : "Multiple X86_PV_INFO records";
        struct restore_outcome o = { 0 };

        stream_start();
        dh->type = DHDR_TYPE_X86_PV;
        stream_len -= 8;
        stream_put_record(REC_TYPE_X86_PV_INFO, &pvi, sizeof(pvi));
        if (t)
            stream_put_record(REC_TYPE_X86_PV_P2M_FRAMES, frames, sizeof(frames));
        stream_put_record(t ? REC_TYPE_X86_PV_P2M_FRAMES : REC_TYPE_X86_PV_INFO,
                          t ? (const void *)frames : &pvi, t ? sizeof(frames) : sizeof(pvi));
        stream_put_record(REC_TYPE_STATIC_DATA_END, NULL, 0);
        stream_put_record(REC_TYPE_END, NULL, 0);
        fd = test_bytes_fd(stream_buf, stream_len);
        stream_log_begin();
        rc = xc_stream_check(none, fd, XC_STREAM_PLAIN, 0, NULL, NULL, &res);
        o.rc = rc;
        o.err = errno;
        snprintf(o.log, sizeof(o.log), "%s", stream_log());
        close(fd);
        CHECK(outcome_rejected(&o, EBADMSG, msg), "PV stream: %s (rc %d errno %d; logged: %.200s)",
              msg, o.rc, o.err, o.log);
    }
    xhv_close(none);
}

/* Accepted: an unknown optional record is skipped; the last valid pfn restores. */
static void accepted_edges(void)
{
    uint8_t ctx[4096];
    int n = xhv_hvm_getcontext(xch, target, ctx, sizeof(ctx));
    struct restore_outcome o;
    uint64_t pfn = p2m_size - 1;

    stream_start();
    stream_put_record(REC_TYPE_OPTIONAL | 0x1234, "optional", 8);
    stream_put_page_data(&pfn, 1, 1);
    if (n > 0)
        stream_put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)n);
    stream_put_record(REC_TYPE_END, NULL, 0);
    stream_restore(xch, target, XC_STREAM_PLAIN, &o);
    CHECK(n > 0 && o.rc == 0 && !o.unchanged,
          "accepted: unknown optional record skipped, last valid pfn restored (%s)", o.change);
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

/* Checkpoints 1 and 2 of a Remus stream (pages 0 and 1 = 0x11, then 0x22; checkpoint 2
 * opens with an unknown optional record, which is skipped). */
static void two_checkpoints(const uint8_t *ctx, int ctx_len)
{
    stream_start();
    stream_put_one_page(0, 0x11);
    stream_put_one_page(1, 0x11);
    stream_put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)ctx_len);
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    stream_put_checkpoint_end();
    stream_put_record(REC_TYPE_OPTIONAL | 0x4242, "optional", 8);
    stream_put_one_page(0, 0x22);
    stream_put_one_page(1, 0x22);
    stream_put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)ctx_len);
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    stream_put_checkpoint_end();
}

/* The stream of two_checkpoints cut to its first after_cp2 bytes, restored: the target
 * holds checkpoint 2 (a Remus stream ending there fails over to it). */
static void back_to_checkpoint_2(size_t after_cp2)
{
    struct restore_outcome o;

    stream_len = after_cp2;
    stream_restore(xch, target, XC_STREAM_REMUS, &o);
    if (o.rc || first_byte(0) != 0x22)
        CHECK(0, "the target is back at checkpoint 2 (rc %d, pfn 0 %#x)", o.rc, first_byte(0));
    stream_len = after_cp2;
}

/*
 * A checkpoint is applied whole or not at all: checkpoint 3 holds a valid page (pfn 0 =
 * 0x33) followed by a malformed record and must leave no trace.  The target holds
 * checkpoint 2 before each stream (a stream ending there fails over to it), and as each
 * stream re-applies checkpoints 1 and 2, it must hold exactly that afterwards.
 */
static void hostile_checkpoints(const uint8_t *ctx, int ctx_len)
{
    static const struct {
        uint32_t type, length;
        uint64_t body[4];
        int err;
        const char *msg;
    } bad[] = {
        { REC_TYPE_PAGE_DATA, 24, { 1, 64, 0 }, EBADMSG, "is beyond the p2m size" },
        { REC_TYPE_PAGE_DATA, 16, { 1, 1 }, EBADMSG, "PAGE_DATA record length 16, expected 4112" },
        { REC_TYPE_PAGE_DATA, 8, { 0 }, EBADMSG, "PAGE_DATA record with no pages" },
        { 0x7000, 8, { 0 }, EBADMSG, "Unknown mandatory record 0x00007000" },
        { REC_TYPE_X86_TSC_INFO, 8, { 0 }, EBADMSG, "X86_TSC_INFO record length 8, expected 24" },
        { REC_TYPE_HVM_CONTEXT, 0, { 0 }, EBADMSG, "HVM_CONTEXT record length 0 out of range" },
        { REC_TYPE_HVM_PARAMS, 24, { 1, 99, 1 }, EBADMSG, "HVM_PARAMS entry 0: param index 99" },
        { REC_TYPE_HVM_PARAMS, 8, { 2 }, EBADMSG, "HVM_PARAMS record length 8 does not match" },
        { REC_TYPE_STATIC_DATA_END, 0, { 0 }, EBADMSG, "Multiple STATIC_DATA_END records" },
        { REC_TYPE_X86_CPUID_POLICY, 24, { 0 }, EBADMSG, "CPUID policy record after STATIC_DATA_END" },
        { REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, 8, { 3 }, EBADMSG, "on the main stream" },
        { REC_TYPE_VERIFY, 0, { 0 }, EOPNOTSUPP, "VERIFY (debug) streams are not supported" },
    };
    struct restore_outcome o;
    char what[120];
    size_t after_cp2;

    two_checkpoints(ctx, ctx_len);
    after_cp2 = stream_len;
    stream_restore(xch, target, XC_STREAM_REMUS, &o);
    CHECK(o.rc == 0 && first_byte(0) == 0x22 && first_byte(1) == 0x22,
          "a Remus stream ending after checkpoint 2 fails over to it (rc %d, pfn0 %#x)", o.rc,
          first_byte(0));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t body[4];

        back_to_checkpoint_2(after_cp2);
        memcpy(body, bad[i].body, sizeof(body));
        if (bad[i].type == REC_TYPE_PAGE_DATA && body[1] == 64)
            body[1] = p2m_size;
        stream_len = after_cp2;
        stream_put_one_page(0, 0x33);
        stream_put_record(bad[i].type, body, bad[i].length);
        stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
        stream_put_checkpoint_end();
        snprintf(what, sizeof(what), "checkpoint 3: a valid page, then %s of length %u",
                 rec_type_to_str(bad[i].type), bad[i].length);
        reject_as(XC_STREAM_REMUS, bad[i].err, bad[i].msg, what);
        CHECK(first_byte(0) == 0x22,
              "  ... pfn 0 still holds checkpoint 2 (%#x)", first_byte(0));
    }
    back_to_checkpoint_2(after_cp2);
    stream_put_one_page(0, 0x33);
    stream_put_record(REC_TYPE_PAGE_DATA, (uint64_t[]){ 1, 0 }, 16);
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    stream_put_checkpoint_end();
    reject_as(XC_STREAM_REMUS, EBADMSG, "Checkpoint 3 rejected at record 1 (0x00000001, Page "
              "data): nothing applied", "checkpoint 3: the rejection names the record");
}

/* The primary's side of the back channel: a refused list leaves the bitmap as it was. */
static void hostile_back_channel(void)
{
    struct sr_context c = { .xch = xch };
    unsigned long bm[4] = { 0 };
    const uint64_t nr = 200;
    uint64_t merged = 0, pfns[3];
    int sv[2];

    stream_capture_log(xch);
    for (int t = 0; t < 7; t++) {
        struct sr_rhdr h = { REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, 0 };
        const char *what = "", *msg = "";
        int rc, err = EBADMSG, body = 1;
        char log[1024];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
            exit(2);
        memset(bm, 0, sizeof(bm));
        bitmap_set_bit(bm, 7);   /* the primary's own dirty page */
        switch (t) {
        case 0:   /* valid: last pfn, accepted */
            pfns[0] = 5, pfns[1] = nr - 1, pfns[2] = 5;
            h.length = 24;
            what = "valid list with pfn p2m_size-1";
            break;
        case 1:
            pfns[0] = 3, pfns[1] = nr;
            h.length = 16;
            what = "pfn == p2m size after a valid pfn (the upstream off-by-one)";
            msg = "Back channel: dirty pfn 0xc8 (entry 1) is beyond the p2m size 0xc8";
            break;
        case 2:
            h.length = 12;
            what = "length not a multiple of 8";
            msg = "Back channel: dirty pfn list length 12 is not a multiple of 8";
            break;
        case 3:
            h.type = REC_TYPE_CHECKPOINT;
            what = "wrong record type";
            msg = "Back channel: expected a Checkpoint dirty pfn list record, got type "
                  "0x0000000e (Checkpoint)";
            break;
        case 4:
            h.length = 16;   /* then the secondary dies mid-record */
            body = 0;
            err = EPIPE;
            what = "truncated list";
            msg = "Stream truncated inside record (0x0000000f, Checkpoint dirty pfn list), "
                  "16 body bytes expected";
            break;
        case 5:
            /* The length of a count of 2^29 - 1 pfns: a list that large cannot be sent. */
            h.length = 0xfffffff8u;
            body = 0;
            what = "length 0xfffffff8 (a count of 2^29 - 1 pfns)";
            msg = "Record (0x0000000f, Checkpoint dirty pfn list) length 4294967288 exceeds max";
            break;
        case 6:
            h.length = 4;   /* then the secondary dies inside the header */
            body = 0;
            err = EPIPE;
            what = "list cut inside its header";
            msg = "Stream truncated inside a record header (4 of 8 bytes)";
            break;
        }
        if (t == 6)
            write_exact(sv[1], &h, 4);
        else
            write_exact(sv[1], &h, sizeof(h));
        if (body && h.length)
            write_exact(sv[1], pfns, (h.length + 7) & ~7u);
        close(sv[1]);
        stream_log_begin();
        errno = 0;
        rc = colo_merge_dirty_pfn_list(&c, sv[0], bm, nr, &merged);
        err = t == 0 ? 0 : err;
        snprintf(log, sizeof(log), "%s", stream_log());
        close(sv[0]);
        if (t == 0)
            CHECK(rc == 0 && merged == 2 && bitmap_test_bit(bm, 5) && bitmap_test_bit(bm, nr - 1) &&
                      bitmap_count(bm, nr) == 3,
                  "back channel accepts a %s (merged %llu)", what, (unsigned long long)merged);
        else
            CHECK(rc == -1 && errno == err && strstr(log, msg) &&
                      bitmap_count(bm, nr) == 1 && bitmap_test_bit(bm, 7),
                  "back channel rejects a %s: %s, \"%s\", bitmap untouched (errno %d; logged: "
                  "%.200s)", what, strerror(err), msg, errno, log);
    }
}

/*
 * The secondary's side: a dirty set whose count x 8 does not fit the record's 32-bit
 * length (2^29 + 1 pfns: the length would wrap to 8) is refused before anything is
 * written, so that the primary never reads a list that wrapped.
 */
static void dirty_list_too_long(void)
{
    struct sr_context c = { .xch = xch };
    const uint64_t nr = (1ULL << 29) + 1;
    unsigned long *bm = malloc(bitmap_longs(nr) * sizeof(unsigned long));
    struct pollfd p;
    char log[1024];
    int sv[2], rc, err;

    if (!bm || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        exit(2);
    memset(bm, 0xff, bitmap_longs(nr) * sizeof(unsigned long));
    bm[bitmap_longs(nr) - 1] = 1;   /* pfn 2^29, the last one */
    stream_log_begin();
    rc = colo_send_dirty_pfn_list(&c, sv[1], bm, nr);
    err = errno;
    snprintf(log, sizeof(log), "%s", stream_log());
    p = (struct pollfd){ sv[0], POLLIN, 0 };
    CHECK(rc == -1 && err == E2BIG && strstr(log, "Secondary dirtied 536870913 pages, more than "
                                             "one dirty pfn list can carry (16777216)") &&
              poll(&p, 1, 0) == 0,
          "a dirty set of 2^29 + 1 pfns (count x 8 wraps 32 bits) is refused, E2BIG, nothing "
          "sent (rc %d, errno %d; logged: %.200s)", rc, err, log);
    close(sv[0]);
    close(sv[1]);
    free(bm);
}

int main(void)
{
    xhv_dominfo_t info;
    uint8_t ctx[4096];
    int n;

    xch = test_open();
    stream_capture_log(xch);
    n = stream_target(xch, "hostile", PAGES, ctx, sizeof(ctx), &target);
    xhv_domain_info(xch, target, &info);
    p2m_size = info.p2m_size;
    hostile_headers();
    hostile_framing();
    hostile_page_data();
    hostile_records();
    hostile_pv_records();
    accepted_edges();
    hostile_checkpoints(ctx, n);
    hostile_back_channel();
    dirty_list_too_long();
    xhv_domain_destroy(xch, target);
    xhv_close(xch);
    return test_done();
}
