/*
 * The restorer's side of checkpoint compression (docs/stream-format.md, "Checkpoint
 * compression"): the primary's offer, this restorer's answer on the back channel, and
 * COMPRESSED_PAGE_DATA, checked whole before any of it is applied.  The encodings are
 * XORed into the pages the domain holds: for Remus those are the pages last sent, for
 * COLO too, because the primary sends the pages the secondary dirtied uncompressed.
 */
#include <string.h>

#include "sr_common.h"
#include "sr_xor_rle.h"

int restore_compress_offer(struct sr_context *ctx, const struct sr_record *rec)
{
    struct sr_restore_state *r = &ctx->restore;
    const struct sr_checkpoint_compress *c = rec->data;

    if (rec->length != sizeof(*c) || c->_res1) {
        ERROR("CHECKPOINT_COMPRESS record of %u bytes or with reserved bits set", rec->length);
        errno = EBADMSG;
        return -1;
    }
    if (r->compress_offered) {
        ERROR("A second CHECKPOINT_COMPRESS record");
        errno = EBADMSG;
        return -1;
    }
    /* Page tables would be XORed after localisation: HVM streams only. */
    r->compress_offered = ctx->stream_type != XC_STREAM_PLAIN && !r->ops->page_tables &&
                          (c->codecs & CKPT_CODEC_XOR_RLE);
    /* A stream check has no back channel: it judges the stream as an accepting
     * restorer would. */
    if (r->check_only)
        r->compress_accepted = r->compress_offered;
    DPRINTF("Checkpoint compression offered (codecs %#x): %s", c->codecs,
            r->compress_offered ? "taken" : "not for this stream");
    return 0;
}

int restore_compress_answer(struct sr_context *ctx)
{
    struct sr_restore_state *r = &ctx->restore;
    struct sr_checkpoint_compress c = { .codecs = CKPT_CODEC_XOR_RLE };
    struct sr_record rec = { .type = REC_TYPE_CHECKPOINT_COMPRESS, .length = sizeof(c),
                             .data = &c };

    if (!r->compress_offered || r->compress_accepted || r->check_only || r->send_back_fd < 0)
        return 0;
    if (write_record(ctx, r->send_back_fd, &rec))
        return -1;
    r->compress_accepted = true;
    DPRINTF("Checkpoint compression accepted on the back channel");
    return 0;
}

/* The descriptor of data page i, checked; *len its encoding's length. */
static int check_desc(struct sr_context *ctx, uint32_t i, uint32_t desc, const uint8_t *enc,
                      uint64_t room, uint32_t *len)
{
    uint32_t kind = (desc & CPD_DESC_ENC_MASK) >> CPD_DESC_ENC_SHIFT;

    *len = desc & CPD_DESC_LEN_MASK;
    if (desc & CPD_DESC_RES_MASK) {
        ERROR("COMPRESSED_PAGE_DATA page %u: reserved descriptor bits set (%#x)", i, desc);
        goto bad;
    }
    if (*len > room) {
        ERROR("COMPRESSED_PAGE_DATA page %u: encoding of %u bytes, %llu left in the record",
              i, *len, (unsigned long long)room);
        goto bad;
    }
    switch (kind) {
    case CPD_ENC_RAW:
        if (*len != PAGE_SIZE) {
            ERROR("COMPRESSED_PAGE_DATA page %u: raw page of %u bytes", i, *len);
            goto bad;
        }
        return 0;
    case CPD_ENC_XOR_RLE:
        if (xor_rle_check(enc, *len)) {
            ERROR("COMPRESSED_PAGE_DATA page %u: malformed XOR encoding of %u bytes", i, *len);
            goto bad;
        }
        return 0;
    default:
        ERROR("COMPRESSED_PAGE_DATA page %u: unknown encoding %u", i, kind);
        goto bad;
    }
 bad:
    errno = EBADMSG;
    return -1;
}

int validate_compressed_page_data(struct sr_context *ctx, const struct sr_record *rec,
                                  uint32_t *nr_data)
{
    const struct sr_compressed_page_data_header *h = rec->data;
    const uint64_t *entries;
    const uint32_t *descs;
    const uint8_t *enc;
    uint64_t fixed, used = 0;
    uint32_t i, len;

    if (!ctx->restore.compress_accepted || !ctx->restore.buffer_all_records) {
        ERROR("COMPRESSED_PAGE_DATA %s", !ctx->restore.compress_accepted
              ? "that this restorer did not accept" : "outside a checkpoint after the first");
        goto bad;
    }
    if (rec->length < sizeof(*h) || h->_res1 || h->count < 1 || h->count > MAX_BATCH_SIZE) {
        ERROR("COMPRESSED_PAGE_DATA: length %u, header with %u entries or reserved bits",
              rec->length, rec->length < sizeof(*h) ? 0 : h->count);
        goto bad;
    }
    entries = (const uint64_t *)(h + 1);
    if (rec->length < sizeof(*h) + (uint64_t)h->count * sizeof(*entries)) {
        ERROR("COMPRESSED_PAGE_DATA truncated: length %u for %u entries", rec->length, h->count);
        goto bad;
    }
    if (check_page_entries(ctx, entries, h->count, nr_data))
        return -1;
    fixed = sizeof(*h) + (uint64_t)h->count * sizeof(*entries) + (uint64_t)*nr_data * 4;
    if (rec->length < fixed) {
        ERROR("COMPRESSED_PAGE_DATA truncated: length %u, descriptors need %llu", rec->length,
              (unsigned long long)fixed);
        goto bad;
    }
    descs = (const uint32_t *)(entries + h->count);
    enc = (const uint8_t *)rec->data + fixed;
    for (i = 0; i < *nr_data; i++) {
        uint32_t desc;

        memcpy(&desc, &descs[i], sizeof(desc));
        if (check_desc(ctx, i, desc, enc + used, rec->length - fixed - used, &len))
            return -1;
        used += len;
    }
    if (fixed + used != rec->length) {
        ERROR("COMPRESSED_PAGE_DATA length %u, its pages account for %llu", rec->length,
              (unsigned long long)(fixed + used));
        goto bad;
    }
    return 0;
 bad:
    errno = EBADMSG;
    return -1;
}

int apply_compressed_page_data(struct sr_context *ctx, const struct sr_record *rec)
{
    const struct sr_compressed_page_data_header *h = rec->data;
    const uint64_t *entries = (const uint64_t *)(h + 1);
    const uint8_t *enc;
    void *pages[MAX_BATCH_SIZE];
    uint32_t nr_data, i, desc;
    int rc = 0;

    if (validate_compressed_page_data(ctx, rec, &nr_data))
        return -1;
    if (ctx->restore.check_only || !nr_data)
        return 0;
    if (map_page_data(ctx, entries, h->count, nr_data, pages))
        return -1;
    enc = (const uint8_t *)(entries + h->count) + (size_t)nr_data * 4;
    for (i = 0; i < nr_data && !rc; i++) {
        memcpy(&desc, (const uint32_t *)(entries + h->count) + i, sizeof(desc));
        if ((desc & CPD_DESC_ENC_MASK) >> CPD_DESC_ENC_SHIFT == CPD_ENC_RAW)
            memcpy(pages[i], enc, PAGE_SIZE);
        else
            rc = xor_rle_apply(pages[i], enc, desc & CPD_DESC_LEN_MASK);   /* checked */
        enc += desc & CPD_DESC_LEN_MASK;
    }
    xhv_unmap_foreign(ctx->xch, ctx->domid, pages, nr_data);
    return rc;
}
