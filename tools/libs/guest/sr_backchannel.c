/*
 * The COLO back channel's CHECKPOINT_DIRTY_PFN_LIST record: the secondary's dirty set B,
 * written by the restorer on send_back_fd and merged by the saver from recv_fd.
 * The record uses the spec's 8-byte header (as Xen 4.17 writes it); see
 * docs/colo-back-channel.md for why the 16-byte variant of Xen 4.18+ is not accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "sr_common.h"

/* Most pfns one record can carry: the body must stay within REC_LENGTH_MAX. */
#define DIRTY_PFN_LIST_MAX (REC_LENGTH_MAX / sizeof(uint64_t))

int colo_send_dirty_pfn_list(struct sr_context *ctx, int fd, const unsigned long *bitmap,
                             uint64_t nr_pfns)
{
    struct sr_record rec = { .type = REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST };
    uint64_t count = bitmap_count(bitmap, nr_pfns), written = 0;
    uint64_t *pfns = NULL;
    size_t i, n = bitmap_longs(nr_pfns);
    int rc = -1;

    if (count > DIRTY_PFN_LIST_MAX) {
        ERROR("Secondary dirtied %llu pages, more than one dirty pfn list can carry (%zu)",
              (unsigned long long)count, (size_t)DIRTY_PFN_LIST_MAX);
        errno = E2BIG;
        goto out;
    }
    if (count) {
        pfns = malloc(count * sizeof(*pfns));
        if (!pfns) {
            ERROR("Unable to allocate %llu dirty pfns", (unsigned long long)count);
            errno = ENOMEM;
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        unsigned long word = bitmap[i];

        while (word) {
            unsigned int bit = (unsigned int)__builtin_ctzl(word);
            uint64_t pfn = (uint64_t)i * BITS_PER_LONG + bit;

            word &= word - 1;
            if (pfn >= nr_pfns || written >= count) {
                ERROR("Dirty bitmap changed while being listed");
                errno = EINVAL;
                goto out;
            }
            pfns[written++] = pfn;
        }
    }
    rec.length = (uint32_t)(count * sizeof(*pfns));
    rec.data = pfns;
    rc = write_record(ctx, fd, &rec);
    if (!rc)
        DPRINTF("Sent %llu dirty pfns on the back channel", (unsigned long long)count);
 out:
    free(pfns);
    return rc;
}

int colo_check_dirty_pfn_list(struct sr_context *ctx, const struct sr_record *rec,
                              uint64_t nr_pfns)
{
    const uint64_t *pfns = rec->data;
    uint64_t i, count;

    if (rec->type != REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST) {
        ERROR("Back channel: expected a %s record, got type 0x%08x (%s)",
              rec_type_to_str(REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST), rec->type,
              rec_type_to_str(rec->type));
        errno = EBADMSG;
        return -1;
    }
    if (rec->length % sizeof(uint64_t)) {
        ERROR("Back channel: dirty pfn list length %u is not a multiple of 8", rec->length);
        errno = EBADMSG;
        return -1;
    }
    count = rec->length / sizeof(uint64_t);
    for (i = 0; i < count; i++) {
        if (pfns[i] >= nr_pfns) {
            ERROR("Back channel: dirty pfn %#llx (entry %llu) is beyond the p2m size %#llx",
                  (unsigned long long)pfns[i], (unsigned long long)i,
                  (unsigned long long)nr_pfns);
            errno = EBADMSG;
            return -1;
        }
    }
    return 0;
}

static int read_list_record(struct sr_context *ctx, int fd, struct sr_record *rec)
{
    if (!read_record(ctx, fd, rec))
        return 0;
    if (errno == ENODATA)
        errno = EPIPE;
    PERROR("Failed to read the secondary's dirty pfn list from the back channel");
    return -1;
}

int colo_merge_dirty_pfn_list(struct sr_context *ctx, int fd, unsigned long *bitmap,
                              uint64_t nr_pfns, uint64_t *merged)
{
    struct sr_record rec;
    const uint64_t *pfns;
    uint64_t i, count, added = 0;
    int rc = -1;

    if (read_list_record(ctx, fd, &rec))
        return -1;
    /* Our secondary answers an offer of compression just before its first list. */
    if (rec.type == REC_TYPE_CHECKPOINT_COMPRESS) {
        rc = compress_take_answer(ctx, &rec);
        free_record(&rec);
        if (rc || read_list_record(ctx, fd, &rec))
            return -1;
        rc = -1;
    }
    /* Validate the whole list before touching the bitmap: all or nothing. */
    if (colo_check_dirty_pfn_list(ctx, &rec, nr_pfns))
        goto out;
    count = rec.length / sizeof(uint64_t);
    pfns = rec.data;
    for (i = 0; i < count; i++) {
        /* The secondary changed it: its copy is not the one last sent. */
        compress_forget(ctx, pfns[i]);
        if (!bitmap_test_bit(bitmap, pfns[i])) {
            bitmap_set_bit(bitmap, pfns[i]);
            added++;
        }
    }
    if (merged)
        *merged = added;
    DPRINTF("Merged %llu secondary dirty pfns, %llu not dirty here",
            (unsigned long long)count, (unsigned long long)added);
    rc = 0;
 out:
    free_record(&rec);
    return rc;
}
