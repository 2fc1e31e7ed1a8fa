/*
 * The generic restore engine: record loop, PAGE_DATA, checkpoint buffering (a
 * checkpoint is validated whole and then applied, or not at all), failover, and the
 * COLO secondary's side of the back channel.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sr_common.h"

/* ---- PAGE_DATA ----------------------------------------------------------------------- */

/*
 * Check PAGE_DATA entries (pfn and type; COMPRESSED_PAGE_DATA has the same ones);
 * *nr_data is the number of them whose contents follow.  Nothing is read or written.
 */
int check_page_entries(struct sr_context *ctx, const uint64_t *entries, uint32_t count,
                       uint32_t *nr_data)
{
    uint64_t i, pages = 0;

    for (i = 0; i < count; i++) {
        uint64_t pfn = entries[i] & PAGE_DATA_PFN_MASK;
        unsigned int type = (unsigned int)((entries[i] & PAGE_DATA_TYPE_MASK) >> 60);

        if (entries[i] & ~(PAGE_DATA_PFN_MASK | PAGE_DATA_TYPE_MASK)) {
            ERROR("PAGE_DATA entry %llu (%#llx): reserved bits set", (unsigned long long)i,
                  (unsigned long long)entries[i]);
            goto bad;
        }
        if (!ctx->restore.ops->pfn_is_valid(ctx, pfn)) {
            ERROR("PAGE_DATA entry %llu: pfn %#llx is beyond the p2m size %#llx",
                  (unsigned long long)i, (unsigned long long)pfn,
                  (unsigned long long)ctx->restore.p2m_size);
            goto bad;
        }
        if (!page_type_is_known(type)) {
            ERROR("PAGE_DATA entry %llu: pfn %#llx has unknown type %#x",
                  (unsigned long long)i, (unsigned long long)pfn, type);
            goto bad;
        }
        if (!ctx->restore.ops->page_tables &&
            type != PT_NOTAB && type != PT_XTAB && type != PT_XALLOC && type != PT_BROKEN) {
            ERROR("PAGE_DATA entry %llu: page-table type %#x in an HVM stream",
                  (unsigned long long)i, type);
            goto bad;
        }
        pages += page_type_has_stream_data(type);
    }
    *nr_data = (uint32_t)pages;
    return 0;
 bad:
    errno = EBADMSG;
    return -1;
}

/*
 * Check a PAGE_DATA record's header and pfn entries against its length; *nr_data is
 * the number of pages whose contents follow.  Nothing is read or written.
 */
static int check_page_data(struct sr_context *ctx, const struct sr_page_data_header *pdh,
                           const uint64_t *entries, uint32_t length, uint32_t *nr_data)
{
    uint64_t expected;
    uint32_t pages;

    if (check_page_entries(ctx, entries, pdh->count, &pages))
        return -1;
    expected = sizeof(*pdh) + pdh->count * sizeof(uint64_t) + (uint64_t)pages * PAGE_SIZE;
    if (length != expected) {
        ERROR("PAGE_DATA record length %u, expected %llu for %u pfns with %u pages of data",
              length, (unsigned long long)expected, pdh->count, pages);
        errno = EBADMSG;
        return -1;
    }
    *nr_data = pages;
    return 0;
}

/* Check the fixed part of a PAGE_DATA header against the record length. */
static int check_page_data_header(struct sr_context *ctx, const struct sr_page_data_header *pdh,
                                  uint32_t length)
{
    if (pdh->count < 1) {
        ERROR("PAGE_DATA record with no pages");
        goto bad;
    }
    if (pdh->count > MAX_BATCH_SIZE) {
        ERROR("PAGE_DATA record with %u pages, more than a batch (%u)", pdh->count,
              MAX_BATCH_SIZE);
        goto bad;
    }
    if (length < sizeof(*pdh) + (uint64_t)pdh->count * sizeof(uint64_t)) {
        ERROR("PAGE_DATA record truncated: length %u, %u pfns need %zu", length, pdh->count,
              sizeof(*pdh) + pdh->count * sizeof(uint64_t));
        goto bad;
    }
    return 0;
 bad:
    errno = EBADMSG;
    return -1;
}

/* Check a whole buffered PAGE_DATA record. */
static int validate_page_data(struct sr_context *ctx, const struct sr_record *rec,
                              uint32_t *nr_data)
{
    const struct sr_page_data_header *pdh = rec->data;

    if (rec->length < sizeof(*pdh)) {
        ERROR("PAGE_DATA record truncated: length %u, header needs %zu", rec->length,
              sizeof(*pdh));
        errno = EBADMSG;
        return -1;
    }
    if (check_page_data_header(ctx, pdh, rec->length))
        return -1;
    return check_page_data(ctx, pdh, (const uint64_t *)(pdh + 1), rec->length, nr_data);
}

/*
 * Populate what the entries need and map the pages that carry data: pages[] gets
 * nr_data addresses in entry order.  The caller unmaps.
 */
int map_page_data(struct sr_context *ctx, const uint64_t *entries, uint32_t count,
                  uint32_t nr_data, void **pages)
{
    uint64_t pfns[MAX_BATCH_SIZE], populate[MAX_BATCH_SIZE];
    uint32_t types[MAX_BATCH_SIZE];
    int errs[MAX_BATCH_SIZE];
    size_t nr_populate = 0;
    uint32_t i, j;

    /* The header checks bound count; the arrays here depend on it, so say it again. */
    if (!count || count > MAX_BATCH_SIZE || nr_data > count) {
        ERROR("PAGE_DATA batch of %u entries (%u with data) out of range", count, nr_data);
        errno = EINVAL;
        return -1;
    }
    if (ctx->restore.ops->prepare_page_data) {
        /* PV: the guest type populates, and data pages are mapped by its frames. */
        if (ctx->restore.ops->prepare_page_data(ctx, entries, count, pfns))
            return -1;
        if (!nr_data)
            return 0;
        goto map;
    }
    for (i = 0; i < count; i++)
        pfns[i] = entries[i] & PAGE_DATA_PFN_MASK;
    if (xhv_get_pfn_type_batch(ctx->xch, ctx->domid, count, pfns, types)) {
        PERROR("Failed to query %u pfns", count);
        return -1;
    }
    for (i = 0; i < count; i++) {
        unsigned int type = (unsigned int)(entries[i] >> 60);

        if (page_type_to_populate(type) && (types[i] >> 28) == PT_XTAB)
            populate[nr_populate++] = entries[i] & PAGE_DATA_PFN_MASK;
    }
    if (nr_populate && xhv_populate(ctx->xch, ctx->domid, populate, nr_populate)) {
        PERROR("Failed to populate %zu pfns", nr_populate);
        return -1;
    }
    if (!nr_data)
        return 0;
    for (i = j = 0; i < count; i++)
        if (page_type_has_stream_data((unsigned int)(entries[i] >> 60)))
            pfns[j++] = entries[i] & PAGE_DATA_PFN_MASK;
 map:
    if (xhv_map_foreign(ctx->xch, ctx->domid, PROT_READ | PROT_WRITE, pfns, pages, errs,
                        nr_data)) {
        PERROR("Failed to map %u guest pages", nr_data);
        return -1;
    }
    for (i = 0; i < nr_data; i++) {
        if (errs[i]) {
            errno = errs[i];
            PERROR("Failed to map guest pfn %#llx", (unsigned long long)pfns[i]);
            xhv_unmap_foreign(ctx->xch, ctx->domid, pages, nr_data);
            return -1;
        }
    }
    return 0;
}

/* After the data is in: page tables get their pfns turned into frames (PV). */
static int localise_pages(struct sr_context *ctx, const uint64_t *entries, uint32_t count,
                          void **pages)
{
    uint32_t i, j = 0;

    if (!ctx->restore.ops->localise_page)
        return 0;
    for (i = 0; i < count; i++) {
        unsigned int type = (unsigned int)(entries[i] >> 60), level = type & 0x7U;

        if (!page_type_has_stream_data(type))
            continue;
        if (level >= 1 && level <= 4 && ctx->restore.ops->localise_page(ctx, type, pages[j]))
            return -1;
        j++;
    }
    return 0;
}

/* Apply a PAGE_DATA record held in memory (a buffered checkpoint). */
static int apply_page_data(struct sr_context *ctx, const struct sr_record *rec)
{
    const struct sr_page_data_header *pdh = rec->data;
    const uint64_t *entries = (const uint64_t *)(pdh + 1);
    const char *data;
    void *pages[MAX_BATCH_SIZE];
    uint32_t nr_data, i;

    if (validate_page_data(ctx, rec, &nr_data))
        return -1;
    if (ctx->restore.check_only)
        return 0;
    if (map_page_data(ctx, entries, pdh->count, nr_data, pages))
        return -1;
    data = (const char *)(entries + pdh->count);
    int rc;

    for (i = 0; i < nr_data; i++)
        memcpy(pages[i], data + (size_t)i * PAGE_SIZE, PAGE_SIZE);
    rc = localise_pages(ctx, entries, pdh->count, pages);
    if (nr_data)
        xhv_unmap_foreign(ctx->xch, ctx->domid, pages, nr_data);
    return rc;
}

/*
 * Apply a PAGE_DATA record straight from the stream (outside checkpoints): the header
 * and pfns are read and checked first, then the page contents are read directly into
 * the guest's pages with one readv, without an intermediate copy.
 */
static int read_page_data_direct(struct sr_context *ctx, uint32_t length)
{
    struct {
        struct sr_page_data_header pdh;
        uint64_t entries[MAX_BATCH_SIZE];
    } hdr;
    void *pages[MAX_BATCH_SIZE];
    struct iovec iov[MAX_BATCH_SIZE];
    uint32_t nr_data, i, nr_iov = 0;
    int rc = -1;

    if (length < sizeof(hdr.pdh)) {
        ERROR("PAGE_DATA record truncated: length %u, header needs %zu", length,
              sizeof(hdr.pdh));
        errno = EBADMSG;
        return -1;
    }
    if (read_exact(ctx->fd, &hdr.pdh, sizeof(hdr.pdh)) ||
        check_page_data_header(ctx, &hdr.pdh, length) ||
        read_exact(ctx->fd, hdr.entries, hdr.pdh.count * sizeof(uint64_t)) ||
        check_page_data(ctx, &hdr.pdh, hdr.entries, length, &nr_data))
        goto truncated;
    if (ctx->restore.observer)
        ctx->restore.observer->body(ctx->restore.observer->opaque, REC_TYPE_PAGE_DATA, &hdr,
                                    (uint32_t)(sizeof(hdr.pdh) + hdr.pdh.count * sizeof(uint64_t)));
    if (ctx->restore.check_only) {
        /* The contents are read as a restore reads them, into one page that is
         * overwritten: the same truncation is found at the same place. */
        for (i = 0; i < nr_data; i++)
            pages[i] = ctx->restore.discard_page;
    } else if (map_page_data(ctx, hdr.entries, hdr.pdh.count, nr_data, pages))
        return -1;
    for (i = 0; i < nr_data; i++) {
        if (nr_iov && (char *)iov[nr_iov - 1].iov_base + iov[nr_iov - 1].iov_len == pages[i])
            iov[nr_iov - 1].iov_len += PAGE_SIZE;
        else
            iov[nr_iov++] = (struct iovec){ pages[i], PAGE_SIZE };
    }
    if (nr_iov && readv_exact(ctx->fd, iov, (int)nr_iov)) {
        if (errno == 0)
            errno = EPIPE;
        PERROR("Stream truncated inside PAGE_DATA (%u pages of data expected)", nr_data);
    } else
        rc = ctx->restore.check_only ? 0 : localise_pages(ctx, hdr.entries, hdr.pdh.count, pages);
    if (nr_data && !ctx->restore.check_only)
        xhv_unmap_foreign(ctx->xch, ctx->domid, pages, nr_data);
    return rc;

 truncated:
    if (errno == 0) {
        errno = EPIPE;
        ERROR("Stream truncated inside a PAGE_DATA record");
    }
    return -1;
}

/* ---- records ------------------------------------------------------------------------- */

static int handle_static_data_end(struct sr_context *ctx)
{
    unsigned int missing = 0;
    struct restore_callbacks *cb = ctx->restore.callbacks;

    /* A second one was refused by check_record. */
    ctx->restore.seen_static_data_end = true;
    if (ctx->restore.ops->static_data_complete(ctx, &missing))
        return -1;
    if (cb && cb->static_data_done && cb->static_data_done(missing, cb->data)) {
        ERROR("static_data_done callback failed");
        errno = EIO;
        return -1;
    }
    return 0;
}

static int handle_checkpoint(struct sr_context *ctx);

/* PAGE_DATA needs the static data first (v3), or marks its end (v2). 0: go ahead. */
static int page_data_allowed(struct sr_context *ctx)
{
    if (ctx->restore.seen_static_data_end)
        return 0;
    if (ctx->restore.format_version >= 3) {
        ERROR("PAGE_DATA record before STATIC_DATA_END in a v3 stream");
        errno = EBADMSG;
        return -1;
    }
    return handle_static_data_end(ctx);   /* v2: inferred here */
}

/* A record no part of the restorer knows: skipped when optional, else refused. */
static int unknown_record(struct sr_context *ctx, const struct sr_record *rec)
{
    if (rec->type & REC_TYPE_OPTIONAL)
        return 0;
    ERROR("Unknown mandatory record 0x%08x (%s), %u bytes", rec->type,
          rec_type_to_str(rec->type), rec->length);
    errno = EBADMSG;
    return -1;
}

/*
 * The checks of a record that need only the record and the state before it, without
 * side effects: 0 it would be accepted, -1 refused (logged, errno).  Every record of a
 * buffered checkpoint goes through them before any of it is applied, so that a bad
 * record anywhere in a checkpoint leaves all of it unapplied.
 */
static int check_record(struct sr_context *ctx, const struct sr_record *rec)
{
    uint32_t nr_data;
    int rc;

    switch (rec->type) {
    case REC_TYPE_END:
    case REC_TYPE_CHECKPOINT:
        return 0;
    case REC_TYPE_PAGE_DATA:
        return validate_page_data(ctx, rec, &nr_data);
    case REC_TYPE_COMPRESSED_PAGE_DATA:
        return validate_compressed_page_data(ctx, rec, &nr_data);
    case REC_TYPE_STATIC_DATA_END:
        if (ctx->restore.seen_static_data_end) {
            ERROR("Multiple STATIC_DATA_END records");
            errno = EBADMSG;
            return -1;
        }
        return 0;
    case REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST:
        ERROR("%s record on the main stream: it belongs to the back channel only",
              rec_type_to_str(rec->type));
        errno = EBADMSG;
        return -1;
    case REC_TYPE_VERIFY:
        ERROR("VERIFY (debug) streams are not supported");
        errno = EOPNOTSUPP;
        return -1;
    default:
        if (!ctx->restore.ops->check_record)
            return 0;   /* checked as it is processed */
        rc = ctx->restore.ops->check_record(ctx, rec);
        return rc == RECORD_NOT_PROCESSED ? unknown_record(ctx, rec) : rc;
    }
}

static int process_record(struct sr_context *ctx, struct sr_record *rec)
{
    int rc;

    if (check_record(ctx, rec))
        return -1;
    switch (rec->type) {
    case REC_TYPE_END:
        return 0;
    case REC_TYPE_PAGE_DATA:
        return page_data_allowed(ctx) ? -1 : apply_page_data(ctx, rec);
    case REC_TYPE_STATIC_DATA_END:
        return handle_static_data_end(ctx);
    case REC_TYPE_CHECKPOINT_COMPRESS:
        return restore_compress_offer(ctx, rec);
    case REC_TYPE_COMPRESSED_PAGE_DATA:
        return page_data_allowed(ctx) ? -1 : apply_compressed_page_data(ctx, rec);
    case REC_TYPE_CHECKPOINT:
        return handle_checkpoint(ctx);
    default:
        rc = ctx->restore.ops->process_record(ctx, rec);
        if (rc != RECORD_NOT_PROCESSED)
            return rc;
        if (unknown_record(ctx, rec))
            return -1;
        DPRINTF("Ignoring optional record 0x%08x (%u bytes)", rec->type, rec->length);
        return 0;
    }
}

static int buffer_record(struct sr_context *ctx, struct sr_record *rec)
{
    struct sr_restore_state *r = &ctx->restore;
    /* A checkpoint cannot legitimately exceed the guest's memory plus headers. */
    uint64_t pages = r->p2m_size > ctx->dominfo.max_pages ? r->p2m_size : ctx->dominfo.max_pages;
    size_t limit = (size_t)pages * (PAGE_SIZE + 16) + (64U << 20);

    if (r->buffered_bytes + rec->length > limit) {
        ERROR("Checkpoint exceeds %zu bytes, more than the guest's memory could need", limit);
        errno = EFBIG;
        return -1;
    }
    if (r->nr_buffered == r->max_buffered) {
        unsigned int new_max = r->max_buffered ? r->max_buffered * 2 : 1024;
        struct sr_record *p = realloc(r->buffered, new_max * sizeof(*p));

        if (!p) {
            ERROR("Unable to grow the checkpoint buffer to %u records", new_max);
            errno = ENOMEM;
            return -1;
        }
        r->buffered = p;
        r->max_buffered = new_max;
    }
    r->buffered[r->nr_buffered++] = *rec;
    r->buffered_bytes += rec->length;
    rec->data = NULL;
    return 0;
}

static void discard_buffered(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    unsigned int i;

    for (i = 0; i < r->nr_buffered; i++)
        free_record(&r->buffered[i]);
    r->nr_buffered = 0;
    r->buffered_bytes = 0;
}

/*
 * COLO: the checkpoint must carry every page of the B we sent, in full.  One that is
 * missing keeps the SVM's own copy, and the pair differs with nothing to show for it:
 * the primary merged another list than ours (the back channel garbled a pfn that still
 * passed its checks) or none.  One that comes as a difference (XOR) was encoded against
 * the copy the primary sent last, which the SVM has changed since: the primary did not
 * forget it, so it did not have our list either.  Only called once every record passed
 * check_record.
 */
static int check_dirty_pages_sent(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    size_t longs = bitmap_longs(r->p2m_size);
    unsigned long *full, *delta;
    uint64_t pfn, missing = 0, deltas = 0, first = 0;
    int rc = -1;

    if (ctx->stream_type != XC_STREAM_COLO || !r->dirty_list_sent)
        return 0;
    full = calloc(2 * longs, sizeof(*full));
    if (!full) {
        ERROR("Unable to allocate a bitmap of %llu pfns", (unsigned long long)r->p2m_size);
        errno = ENOMEM;
        goto out;
    }
    delta = full + longs;
    for (unsigned int i = 0; i < r->nr_buffered; i++) {
        const struct sr_record *rec = &r->buffered[i];
        /* COMPRESSED_PAGE_DATA starts as PAGE_DATA does: count, reserved, entries; then
         * a descriptor for each entry with data */
        const struct sr_page_data_header *h = rec->data;
        const uint64_t *entries = (const uint64_t *)(h + 1);
        const uint32_t *descs = (const uint32_t *)(entries + h->count);
        int compressed = rec->type == REC_TYPE_COMPRESSED_PAGE_DATA;
        uint32_t d = 0, desc;

        if (rec->type != REC_TYPE_PAGE_DATA && !compressed)
            continue;
        for (uint32_t j = 0; j < h->count; j++) {
            unsigned int type = (unsigned int)((entries[j] & PAGE_DATA_TYPE_MASK) >> 60);
            int xor = 0;

            pfn = entries[j] & PAGE_DATA_PFN_MASK;
            if (compressed && page_type_has_stream_data(type)) {
                memcpy(&desc, &descs[d++], sizeof(desc));
                xor = (desc & CPD_DESC_ENC_MASK) >> CPD_DESC_ENC_SHIFT != CPD_ENC_RAW;
            }
            if (pfn < r->p2m_size)
                bitmap_set_bit(xor ? delta : full, pfn);
        }
    }
    for (pfn = 0; pfn < r->p2m_size; pfn++) {
        if (!bitmap_test_bit(r->dirty_bitmap, pfn) || bitmap_test_bit(full, pfn))
            continue;
        if (!missing++)
            first = pfn;
        deltas += bitmap_test_bit(delta, pfn);
    }
    if (missing) {
        ERROR("Checkpoint %u lacks %llu of the pages this secondary reported dirty (first "
              "pfn %#llx; %llu of them sent as a difference against a copy the secondary "
              "no longer holds): the primary did not merge the dirty pfn list we sent (a "
              "garbled back channel?); nothing applied", r->checkpoints + 1,
              (unsigned long long)missing, (unsigned long long)first,
              (unsigned long long)deltas);
        errno = EBADMSG;
        goto out;
    }
    rc = 0;
 out:
    free(full);
    return rc;
}

/* Apply a buffered checkpoint: validate all of it first, then process in order. */
static int apply_buffered_checkpoint(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    unsigned int i;
    int rc = -1;

    for (i = 0; i < r->nr_buffered; i++) {
        if (check_record(ctx, &r->buffered[i])) {
            ERROR("Checkpoint %u rejected at record %u (0x%08x, %s): nothing applied",
                  r->checkpoints + 1, i, r->buffered[i].type,
                  rec_type_to_str(r->buffered[i].type));
            goto out;
        }
    }
    if (check_dirty_pages_sent(ctx))
        goto out;
    for (i = 0; i < r->nr_buffered; i++) {
        if (process_record(ctx, &r->buffered[i])) {
            ERROR("Failed to apply record %u (0x%08x, %s) of checkpoint %u", i,
                  r->buffered[i].type, rec_type_to_str(r->buffered[i].type),
                  r->checkpoints + 1);
            goto out;
        }
    }
    rc = 0;
 out:
    discard_buffered(ctx);
    return rc;
}

/* Map a COLO callback's return: 1 OK, 2 failover, anything else an error. */
static int colo_callback(struct sr_context *ctx, int (*fn)(void *), const char *name)
{
    int r = fn(ctx->restore.callbacks->data);

    if (r == 1)
        return 0;
    if (r == 2) {
        IPRINTF("%s callback reports a broken channel: failover", name);
        return BROKEN_CHANNEL;
    }
    ERROR("%s callback failed (%d)", name, r);
    errno = EIO;
    return -1;
}

/* The COLO secondary's part of a checkpoint, after it has been applied. */
static int colo_secondary_checkpoint(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    struct restore_callbacks *cb = r->callbacks;
    xhv_logdirty_stats_t stats = { 0 };
    int rc;

    if (r->ops->stream_complete(ctx))
        return -1;
    if (cb->restore_results)
        cb->restore_results(r->xenstore_gfn, r->console_gfn, cb->data);
    /* B must cover everything the SVM writes from its first resume on. */
    if (!r->logdirty_enabled && !r->check_only) {
        if (xhv_logdirty(ctx->xch, ctx->domid, XHV_LOGDIRTY_ENABLE, NULL, r->p2m_size, NULL)) {
            PERROR("Failed to enable log-dirty on the secondary");
            return -1;
        }
        r->logdirty_enabled = true;
    }
    if ((rc = colo_callback(ctx, cb->postcopy, "Postcopy")) ||
        (rc = colo_callback(ctx, cb->wait_checkpoint, "Wait checkpoint")) ||
        (rc = colo_callback(ctx, cb->suspend, "Suspend")))
        return rc;
    if (r->check_only)
        return 0;   /* no SVM, no dirty set: the back channel is checked on its own */

    /* B, with the SVM suspended: FINAL adds the pages Xen wrote behind the tracking
     * (vcpu_info and the like), so that the primary's copies replace them too. */
    r->dirty_list_sent = false;
    memset(r->dirty_bitmap, 0, bitmap_longs(r->p2m_size) * sizeof(unsigned long));
    if (xhv_logdirty(ctx->xch, ctx->domid, XHV_LOGDIRTY_CLEAN_FINAL, r->dirty_bitmap,
                     r->p2m_size, &stats)) {
        PERROR("Failed to read the secondary's log-dirty bitmap");
        return -1;
    }
    /* The answer goes just before the first dirty list: where the primary reads. */
    if (restore_compress_answer(ctx) ||
        colo_send_dirty_pfn_list(ctx, r->send_back_fd, r->dirty_bitmap, r->p2m_size)) {
        IPRINTF("Back channel broken while sending the dirty pfn list: failover");
        return BROKEN_CHANNEL;
    }
    r->dirty_list_sent = true;
    return 0;
}

/* The size of a grown p2m, read back from the domain; the COLO dirty bitmap follows. */
static int fix_p2m_size(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    unsigned long *bitmap;

    if (xhv_domain_info(ctx->xch, ctx->domid, &ctx->dominfo)) {
        PERROR("Unable to get information on domain %u", ctx->domid);
        return -1;
    }
    r->p2m_growable = false;
    if (ctx->dominfo.p2m_size <= r->p2m_size)
        return 0;
    if (ctx->stream_type == XC_STREAM_COLO) {
        bitmap = calloc(bitmap_longs(ctx->dominfo.p2m_size), sizeof(unsigned long));
        if (!bitmap) {
            errno = ENOMEM;
            return -1;
        }
        free(r->dirty_bitmap);
        r->dirty_bitmap = bitmap;
    }
    DPRINTF("p2m size %#llx after the first checkpoint",
            (unsigned long long)ctx->dominfo.p2m_size);
    r->p2m_size = ctx->dominfo.p2m_size;
    return 0;
}

static int handle_checkpoint(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    int ret;

    if (ctx->stream_type == XC_STREAM_PLAIN) {
        ERROR("CHECKPOINT record found in a plain stream");
        errno = EBADMSG;
        return -1;
    }
    ret = r->callbacks->checkpoint(r->callbacks->data);
    if (ret == XGR_CHECKPOINT_FAILOVER) {
        if (r->buffer_all_records)
            return BROKEN_CHANNEL;
        ERROR("Failover requested before the first whole checkpoint: no consistent state");
        errno = EIO;
        return -1;
    }
    if (ret != XGR_CHECKPOINT_SUCCESS) {
        ERROR("Checkpoint callback failed (%d)", ret);
        errno = EIO;
        return -1;
    }
    if (r->buffer_all_records) {
        if (apply_buffered_checkpoint(ctx))
            return -1;
    } else {
        r->buffer_all_records = true;
        /* From now on every checkpoint is validated whole before it is applied: the
         * p2m the first one populated is the bound. */
        if (r->p2m_growable && !r->check_only && fix_p2m_size(ctx))
            return -1;
    }
    r->checkpoints++;
    r->have_whole_checkpoint = true;
    DPRINTF("Checkpoint %u applied", r->checkpoints);

    if (ctx->stream_type == XC_STREAM_COLO)
        return colo_secondary_checkpoint(ctx);
    /* Remus: the primary polls for the answer.  A back channel that cannot take it
     * costs only the compression: the answer is not counted as given. */
    restore_compress_answer(ctx);
    return 0;
}

/* ---- main loop ----------------------------------------------------------------------- */

static int setup(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;

    if (r->ops->setup(ctx))
        return -1;
    if (r->check_only)
        return 0;   /* no domain: the caller gave the p2m bound */
    if (xhv_domain_info(ctx->xch, ctx->domid, &ctx->dominfo)) {
        PERROR("Unable to get information on domain %u", ctx->domid);
        return -1;
    }
    r->p2m_size = ctx->dominfo.p2m_size;
    /* Nothing populated and a p2m smaller than the memory the domain may hold: a target
     * built empty (real Xen), whose p2m the stream creates. */
    r->p2m_growable = ctx->dominfo.hvm && ctx->dominfo.nr_pages == 0 &&
                      ctx->dominfo.p2m_size < ctx->dominfo.max_pages;
    if (ctx->stream_type == XC_STREAM_COLO) {
        r->dirty_bitmap = calloc(bitmap_longs(r->p2m_size), sizeof(unsigned long));
        if (!r->dirty_bitmap) {
            errno = ENOMEM;
            return -1;
        }
    }
    return 0;
}

static void cleanup(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    int saved_errno = errno;

    if (r->logdirty_enabled)
        xhv_logdirty(ctx->xch, ctx->domid, XHV_LOGDIRTY_OFF, NULL, 0, NULL);
    discard_buffered(ctx);
    free(r->buffered);
    free(r->dirty_bitmap);
    if (r->ops)
        r->ops->cleanup(ctx);
    free(ctx->hvm.context);
    errno = saved_errno;
}

static int restore(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    struct sr_record rec = { 0 };
    int rc;

    if (read_headers(ctx))
        return -1;
    if (r->observer && r->observer->stream)
        r->observer->stream(r->observer->opaque, r->format_version, r->guest_type,
                            r->xen_major, r->xen_minor);
    if (r->guest_type == DHDR_TYPE_X86_HVM)
        r->ops = &restore_ops_x86_hvm;
    else if (r->guest_type == DHDR_TYPE_X86_PV && ctx->stream_type == XC_STREAM_PLAIN)
        r->ops = &restore_ops_x86_pv;
    else {
        ERROR("Domain header type %u is not supported in a %s stream (x86 HVM, type %u; "
              "x86 PV, type %u, plain streams only)", r->guest_type,
              ctx->stream_type == XC_STREAM_PLAIN ? "plain" : "checkpointed",
              DHDR_TYPE_X86_HVM, DHDR_TYPE_X86_PV);
        errno = EOPNOTSUPP;
        return -1;
    }
    if (setup(ctx))
        return -1;

    for (;;) {
        struct sr_rhdr rhdr;

        if (read_record_header(ctx, ctx->fd, &rhdr))
            goto read_error;
        if (r->observer)
            r->observer->header(r->observer->opaque, &rhdr);
        if (rhdr.type == REC_TYPE_PAGE_DATA && !r->buffer_all_records) {
            if (page_data_allowed(ctx) || read_page_data_direct(ctx, rhdr.length))
                return -1;
            continue;
        }
        if (read_record_body(ctx, ctx->fd, &rhdr, &rec))
            goto read_error;
        if (r->observer)
            r->observer->body(r->observer->opaque, rec.type, rec.data, rec.length);
        if (rec.type == REC_TYPE_END)
            break;
        if (r->buffer_all_records && rec.type != REC_TYPE_CHECKPOINT) {
            rc = buffer_record(ctx, &rec);
            free_record(&rec);
            if (rc)
                return -1;
            continue;
        }
        rc = process_record(ctx, &rec);
        free_record(&rec);
        if (rc == BROKEN_CHANNEL)
            goto failover;
        if (rc)
            return -1;
    }
    free_record(&rec);
    if (ctx->stream_type != XC_STREAM_PLAIN && r->nr_buffered) {
        ERROR("END record inside an unfinished checkpoint");
        errno = EBADMSG;
        return -1;
    }
    /* Plain stream: apply the final state. */
    return r->ops->stream_complete(ctx);

 read_error:
    if (r->buffer_all_records)
        goto failover;
    if (errno == ENODATA) {
        ERROR("Stream ended before its END record");
        errno = EPIPE;
    }
    return -1;

 failover:
    free_record(&rec);
    discard_buffered(ctx);
    r->failed_over = true;
    if (ctx->stream_type == XC_STREAM_COLO) {
        /* The SVM's state was applied at the last checkpoint; it continues from there. */
        IPRINTF("COLO failover after checkpoint %u", r->checkpoints);
        return 0;
    }
    IPRINTF("Remus failover to checkpoint %u", r->checkpoints);
    return r->ops->stream_complete(ctx);
}

int xc_domain_restore(xc_interface *xch, int io_fd, uint32_t dom,
                      unsigned int store_evtchn, xen_pfn_t *store_mfn, uint32_t store_domid,
                      unsigned int console_evtchn, xen_pfn_t *console_mfn, uint32_t console_domid,
                      xc_stream_type_t stream_type, struct restore_callbacks *callbacks,
                      int send_back_fd)
{
    struct sr_context ctx_s, *ctx = &ctx_s;
    int rc, saved_errno;

    memset(ctx, 0, sizeof(*ctx));
    ctx->xch = xch;
    ctx->domid = dom;
    ctx->fd = io_fd;
    ctx->stream_type = stream_type;
    ctx->restore.callbacks = callbacks;
    ctx->restore.send_back_fd = send_back_fd;
    ctx->restore.store_evtchn = store_evtchn;
    ctx->restore.console_evtchn = console_evtchn;
    ctx->restore.store_domid = store_domid;
    ctx->restore.console_domid = console_domid;

    switch (stream_type) {
    case XC_STREAM_PLAIN:
        break;
    case XC_STREAM_COLO:
        if (!callbacks || !callbacks->suspend || !callbacks->postcopy ||
            !callbacks->wait_checkpoint || send_back_fd < 0) {
            ERROR("COLO restore needs suspend, postcopy and wait_checkpoint callbacks and "
                  "a back channel (send_back_fd)");
            errno = EINVAL;
            return -1;
        }
        /* fall through */
    case XC_STREAM_REMUS:
        if (!callbacks || !callbacks->checkpoint) {
            ERROR("Checkpointed restore needs a checkpoint callback");
            errno = EINVAL;
            return -1;
        }
        break;
    default:
        ERROR("Unknown stream type %d", (int)stream_type);
        errno = EINVAL;
        return -1;
    }

    errno = 0;
    rc = restore(ctx);
    saved_errno = errno;
    if (!rc) {
        if (store_mfn)
            *store_mfn = ctx->restore.xenstore_gfn;
        if (console_mfn)
            *console_mfn = ctx->restore.console_gfn;
    }
    cleanup(ctx);
    if (rc) {
        errno = saved_errno ? saved_errno : EIO;
        return -1;
    }
    return 0;
}

int xc_stream_check(xc_interface *xch, int fd, xc_stream_type_t stream_type,
                    uint64_t p2m_size, struct restore_callbacks *cb,
                    const struct sr_check_observer *observer, struct sr_check_result *res)
{
    struct sr_context ctx_s, *ctx = &ctx_s;
    int rc, saved_errno;

    memset(ctx, 0, sizeof(*ctx));
    memset(res, 0, sizeof(*res));
    ctx->xch = xch;
    ctx->fd = fd;
    ctx->stream_type = stream_type;
    ctx->restore.callbacks = cb;
    ctx->restore.send_back_fd = -1;
    ctx->restore.check_only = true;
    ctx->restore.observer = observer;
    if (stream_type != XC_STREAM_PLAIN && (!cb || !cb->checkpoint ||
        (stream_type == XC_STREAM_COLO && (!cb->postcopy || !cb->wait_checkpoint ||
                                           !cb->suspend)))) {
        ERROR("Checking a checkpointed stream needs its callbacks");
        errno = EINVAL;
        return -1;
    }
    /* What setup() would have read from the target domain. */
    ctx->dominfo.hvm = 1;
    ctx->dominfo.max_pages = ctx->dominfo.p2m_size = ctx->restore.p2m_size = p2m_size;
    ctx->restore.p2m_growable = p2m_size == 0;
    ctx->restore.discard_page = malloc(PAGE_SIZE);
    if (!ctx->restore.discard_page) {
        errno = ENOMEM;
        return -1;
    }
    errno = 0;
    rc = restore(ctx);
    saved_errno = errno;
    res->checkpoints = ctx->restore.checkpoints;
    res->failed_over = ctx->restore.failed_over;
    free(ctx->restore.discard_page);
    cleanup(ctx);
    if (rc) {
        errno = saved_errno ? saved_errno : EIO;
        return -1;
    }
    return 0;
}
