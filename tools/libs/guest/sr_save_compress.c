/*
 * The primary's side of checkpoint compression (docs/stream-format.md, "Checkpoint
 * compression"): the offer, the secondary's answer, the bounded cache of the pages last
 * sent, and COMPRESSED_PAGE_DATA.  A page whose last-sent copy is in the cache goes as
 * its XOR with that copy, run-length encoded; any other page, or one whose encoding
 * would be no shorter, goes as it is (in the same record).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sr_common.h"
#include "sr_xor_rle.h"

#define NO_PFN (~(uint64_t)0)

int compress_setup(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;
    struct sr_compress *c = &s->compress;
    unsigned int mib = s->callbacks->compress_cache_mib ? s->callbacks->compress_cache_mib
                                                        : XC_CHECKPOINT_COMPRESS_DEFAULT_MIB;
    uint64_t slots = (uint64_t)mib << (20 - PAGE_SHIFT);

    /* Page tables travel normalised, so the receiver's copy is not what was sent (PV);
     * Remus hears the answer only on a back channel. */
    if (!s->callbacks->checkpoint_compress || ctx->stream_type == XC_STREAM_PLAIN ||
        s->ops->normalise_page || s->recv_fd < 0)
        return 0;
    if (slots > s->p2m_size)
        slots = s->p2m_size;
    if (!slots || slots > UINT32_MAX - 1)
        return 0;
    c->nr_slots = (uint32_t)slots;
    /* Reserved, not touched: pages become resident as the cache fills. */
    c->slots = mmap(NULL, slots * PAGE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c->slots == MAP_FAILED)
        c->slots = NULL;
    c->slot_pfn = malloc(slots * sizeof(*c->slot_pfn));
    c->slot_ref = calloc(slots, 1);
    c->slot_of_pfn = calloc(s->p2m_size, sizeof(*c->slot_of_pfn));
    c->out = malloc((size_t)MAX_BATCH_SIZE * PAGE_SIZE);
    c->descs = malloc(MAX_BATCH_SIZE * sizeof(*c->descs));
    if (!c->slots || !c->slot_pfn || !c->slot_ref || !c->slot_of_pfn || !c->out || !c->descs) {
        ERROR("Unable to allocate a compression cache of %u pages", c->nr_slots);
        errno = ENOMEM;
        return -1;
    }
    for (uint64_t i = 0; i < slots; i++)
        c->slot_pfn[i] = NO_PFN;
    return 0;
}

void compress_cleanup(struct sr_context *ctx)
{
    struct sr_compress *c = &ctx->save.compress;

    if (c->pages_xor || c->pages_raw)
        IPRINTF("Checkpoint compression: %llu pages as XOR, %llu as they are; cache %llu "
                "hits, %llu misses", (unsigned long long)c->pages_xor,
                (unsigned long long)c->pages_raw, (unsigned long long)c->hits,
                (unsigned long long)c->misses);
    if (c->slots)
        munmap(c->slots, (size_t)c->nr_slots * PAGE_SIZE);
    free(c->slot_pfn);
    free(c->slot_ref);
    free(c->slot_of_pfn);
    free(c->out);
    free(c->descs);
    memset(c, 0, sizeof(*c));
}

int compress_offer(struct sr_context *ctx)
{
    struct sr_compress *c = &ctx->save.compress;
    struct sr_checkpoint_compress body = { .codecs = CKPT_CODEC_XOR_RLE };
    struct sr_record rec = { .type = REC_TYPE_CHECKPOINT_COMPRESS, .length = sizeof(body),
                             .data = &body };

    if (!c->nr_slots)
        return 0;
    if (write_record(ctx, ctx->fd, &rec))
        return -1;
    c->offered = true;
    return 0;
}

int compress_take_answer(struct sr_context *ctx, const struct sr_record *rec)
{
    struct sr_compress *c = &ctx->save.compress;
    const struct sr_checkpoint_compress *a = rec->data;

    if (!c->offered || c->accepted || rec->length != sizeof(*a) || a->_res1 ||
        a->codecs != CKPT_CODEC_XOR_RLE) {
        ERROR("Back channel: unexpected CHECKPOINT_COMPRESS (%u bytes%s)", rec->length,
              c->offered ? "" : ", nothing was offered");
        errno = EBADMSG;
        return -1;
    }
    c->accepted = true;
    DPRINTF("The secondary accepted checkpoint compression");
    return 0;
}

int compress_poll_answer(struct sr_context *ctx)
{
    struct sr_compress *c = &ctx->save.compress;
    struct pollfd pfd = { ctx->save.recv_fd, POLLIN, 0 };
    struct sr_record rec;
    int rc;

    if (!c->offered || c->accepted || c->answer_closed || poll(&pfd, 1, 0) != 1)
        return 0;
    /* The Remus back channel carries nothing else: anything but the answer ends it. */
    if (read_record(ctx, ctx->save.recv_fd, &rec)) {
        c->answer_closed = true;
        DPRINTF("Back channel closed before an answer: checkpoints go as PAGE_DATA");
        return 0;
    }
    rc = rec.type == REC_TYPE_CHECKPOINT_COMPRESS ? compress_take_answer(ctx, &rec) : -1;
    if (rc) {
        c->answer_closed = true;
        ERROR("Back channel: record 0x%08x instead of an answer: checkpoints go as PAGE_DATA",
              rec.type);
    }
    free_record(&rec);
    return 0;
}

void compress_forget(struct sr_context *ctx, uint64_t pfn)
{
    struct sr_compress *c = &ctx->save.compress;
    uint32_t slot;

    if (!c->slot_of_pfn || pfn >= ctx->save.p2m_size || !(slot = c->slot_of_pfn[pfn]))
        return;
    c->slot_of_pfn[pfn] = 0;
    c->slot_pfn[slot - 1] = NO_PFN;
    c->slot_ref[slot - 1] = 0;
    c->nr_used--;
}

/* The slot for pfn's copy: its own, or a free or evicted one (the clock). */
static uint8_t *cache_slot(struct sr_compress *c, uint64_t pfn, bool *hit)
{
    uint32_t slot = c->slot_of_pfn[pfn];

    *hit = slot != 0;
    if (!slot) {
        /* Each pass clears the referenced bits, so two passes find a victim. */
        while (c->slot_pfn[c->hand] != NO_PFN && c->slot_ref[c->hand]) {
            c->slot_ref[c->hand] = 0;
            c->hand = (c->hand + 1) % c->nr_slots;
        }
        slot = c->hand + 1;
        c->hand = (c->hand + 1) % c->nr_slots;
        if (c->slot_pfn[slot - 1] != NO_PFN)
            c->slot_of_pfn[c->slot_pfn[slot - 1]] = 0;
        else
            c->nr_used++;
        c->slot_pfn[slot - 1] = pfn;
        c->slot_of_pfn[pfn] = slot;
    }
    c->slot_ref[slot - 1] = 1;
    return c->slots + (size_t)(slot - 1) * PAGE_SIZE;
}

int compress_batch(struct sr_context *ctx, unsigned int n, const uint64_t *entries,
                   unsigned int nr_data, void *const *pages, bool *written)
{
    static const uint8_t zeroes[REC_ALIGN];
    struct sr_compress *c = &ctx->save.compress;
    bool encode = c->accepted && ctx->save.checkpointed_started, hit;
    struct sr_compressed_page_data_header h = { .count = n };
    struct sr_rhdr rhdr = { .type = REC_TYPE_COMPRESSED_PAGE_DATA };
    struct iovec iov[6];
    size_t used = 0, body;
    unsigned int i, j = 0;

    *written = false;
    if (!c->caching)
        return 0;
    for (i = 0; i < n; i++) {
        uint64_t pfn = entries[i] & PAGE_DATA_PFN_MASK;
        uint8_t *copy;
        size_t len = 0;

        if (!page_type_has_stream_data((unsigned int)(entries[i] >> 60)))
            continue;
        copy = cache_slot(c, pfn, &hit);
        c->hits += hit;
        c->misses += !hit;
        if (encode) {
            if (hit)
                len = xor_rle_encode(pages[j], copy, c->out + used);
            if (len) {
                c->descs[j] = (CPD_ENC_XOR_RLE << CPD_DESC_ENC_SHIFT) | (uint32_t)len;
                c->pages_xor++;
            } else {
                memcpy(c->out + used, pages[j], PAGE_SIZE);
                len = PAGE_SIZE;
                c->descs[j] = (CPD_ENC_RAW << CPD_DESC_ENC_SHIFT) | PAGE_SIZE;
                c->pages_raw++;
            }
            used += len;
        }
        memcpy(copy, pages[j], PAGE_SIZE);
        j++;
    }
    if (!encode)
        return 0;
    body = sizeof(h) + n * sizeof(uint64_t) + nr_data * sizeof(uint32_t) + used;
    rhdr.length = (uint32_t)body;
    iov[0] = (struct iovec){ &rhdr, sizeof(rhdr) };
    iov[1] = (struct iovec){ &h, sizeof(h) };
    iov[2] = (struct iovec){ (void *)entries, n * sizeof(uint64_t) };
    iov[3] = (struct iovec){ c->descs, nr_data * sizeof(uint32_t) };
    iov[4] = (struct iovec){ c->out, used };
    iov[5] = (struct iovec){ (void *)zeroes, (REC_ALIGN - body % REC_ALIGN) % REC_ALIGN };
    if (write_stream_iov(ctx, ctx->fd, iov, iov[5].iov_len ? 6 : 5)) {
        PERROR("Failed to write compressed page data batch of %u pages", n);
        return -1;
    }
    *written = true;
    return 0;
}
