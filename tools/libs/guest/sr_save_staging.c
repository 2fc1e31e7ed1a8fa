/*
 * Checkpoint staging: copy, resume, send.  While the guest is suspended the engine
 * writes a checkpoint's records (pages included) into a bounded buffer instead of the
 * stream; the caller then resumes the guest and the buffer is sent.  The bytes on the
 * wire are the same as when the checkpoint is written straight to the stream, so the
 * secondary, which applies a checkpoint only once it is whole, sees no difference.
 */
#include <string.h>
#include <sys/mman.h>

#include "sr_common.h"

#define MIB (1024UL * 1024UL)

/* Reserved once, on the first checkpoint staged: the pages become resident as they are
 * first written, so a guest dirtying little costs little. */
static int reserve(struct sr_context *ctx, struct sr_staging *st)
{
    const struct save_callbacks *cb = ctx->save.callbacks;
    void *p;

    if (st->buf)
        return 0;
    st->limit = (size_t)(cb->staging_mib ? cb->staging_mib : XC_CHECKPOINT_STAGING_DEFAULT_MIB) *
                MIB;
    p = mmap(NULL, st->limit, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
             -1, 0);
    if (p == MAP_FAILED) {
        PERROR("Unable to reserve %zu MiB for checkpoint staging", st->limit / MIB);
        return -1;
    }
    st->buf = p;
    return 0;
}

static void sent_suspended(struct sr_context *ctx, const char *why, uint64_t nr_pages)
{
    struct sr_staging *st = &ctx->save.staging;

    st->sent_suspended++;
    xhv_log(ctx->xch, XHV_LOG_WARN, 0, "xc_sr",
            "Checkpoint of %llu pages %s the staging limit (%zu MiB): sent while the guest "
            "is suspended", (unsigned long long)nr_pages, why, st->limit / MIB);
}

void staging_begin(struct sr_context *ctx, uint64_t nr_pages)
{
    struct sr_staging *st = &ctx->save.staging;

    if (reserve(ctx, st)) {
        sent_suspended(ctx, "found no memory for", nr_pages);
        return;
    }
    /* The pages alone would not fit: do not copy what would be sent anyway. */
    if (nr_pages > st->limit / (PAGE_SIZE + sizeof(uint64_t))) {
        sent_suspended(ctx, "exceeds", nr_pages);
        return;
    }
    st->used = 0;
    st->nr_pages = nr_pages;
    ctx->staging = st;
}

int staging_append(struct sr_context *ctx, const struct iovec *iov, int n)
{
    struct sr_staging *st = ctx->staging;
    size_t len = 0;
    int i;

    for (i = 0; i < n; i++)
        len += iov[i].iov_len;
    if (len > st->limit - st->used) {
        /* Still suspended: what is staged goes out first, the rest as it comes. */
        sent_suspended(ctx, "outgrew", st->nr_pages);
        ctx->staging = NULL;
        if (write_exact(ctx->fd, st->buf, st->used)) {
            PERROR("Failed to write the staged part of a checkpoint (%zu bytes)", st->used);
            return -1;
        }
        return writev_exact(ctx->fd, (struct iovec *)iov, n);
    }
    for (i = 0; i < n; i++) {
        memcpy(st->buf + st->used, iov[i].iov_base, iov[i].iov_len);
        st->used += iov[i].iov_len;
    }
    return 0;
}

int staging_send(struct sr_context *ctx)
{
    struct sr_staging *st = ctx->staging;

    ctx->staging = NULL;
    if (!st)
        return 0;
    st->staged++;
    if (write_exact(ctx->fd, st->buf, st->used)) {
        PERROR("Failed to send a staged checkpoint of %zu bytes", st->used);
        return -1;
    }
    return 0;
}

void staging_cleanup(struct sr_context *ctx)
{
    struct sr_staging *st = &ctx->save.staging;

    ctx->staging = NULL;
    if (st->buf)
        munmap(st->buf, st->limit);
    st->buf = NULL;
}
