/*
 * The generic save engine: owns the memory loop, batching, the checkpoint protocol
 * and the COLO merge of the secondary's dirty set.  Guest-type specifics live in the
 * ops tables (sr_save_hvm.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sr_common.h"

static int write_simple_record(struct sr_context *ctx, uint32_t type)
{
    struct sr_record rec = { .type = type };

    return write_record(ctx, ctx->fd, &rec);
}

/* Write the current batch as one PAGE_DATA record with a single writev. */
static int flush_batch(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;
    unsigned int n = s->nr_batch_pfns, i, nr_data = 0, nr_iov = 0;
    struct sr_page_data_header pdh = { .count = n };
    struct sr_rhdr rhdr;
    uint64_t data_pfns[MAX_BATCH_SIZE];
    unsigned int data_types[MAX_BATCH_SIZE], nr_normalised = 0;
    int rc = -1;

    if (!n)
        return 0;
    if (s->ops->prepare_batch && s->ops->prepare_batch(ctx))
        goto out;
    if (s->ops->pfn_to_gfn) {
        /* The guest's own pfn -> frame table (PV): a pfn without a frame is a hole. */
        for (i = 0; i < n; i++)
            s->gfns[i] = s->ops->pfn_to_gfn(ctx, s->batch_pfns[i]);
        if (s->ops->get_types(ctx, n, s->gfns, s->types))
            goto out;
    } else {
        if (xhv_get_pfn_type_batch(ctx->xch, ctx->domid, n, s->batch_pfns, s->types)) {
            PERROR("Failed to get types for %u pfns", n);
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        unsigned int type = s->types[i] >> 28;

        s->rec_pfns[i] = s->batch_pfns[i] | ((uint64_t)type << 60);
        if (page_type_has_stream_data(type)) {
            data_types[nr_data] = type;
            data_pfns[nr_data++] = s->ops->pfn_to_gfn ? s->gfns[i] : s->batch_pfns[i];
        }
    }
    if (nr_data &&
        xhv_map_foreign(ctx->xch, ctx->domid, PROT_READ, data_pfns, s->pages, s->errs, nr_data)) {
        PERROR("Failed to map %u guest pages", nr_data);
        goto out;
    }
    for (i = 0; i < nr_data; i++) {
        if (s->errs[i]) {
            errno = s->errs[i];
            PERROR("Failed to map guest frame %#llx", (unsigned long long)data_pfns[i]);
            goto unmap;
        }
    }
    /* Page tables hold machine frames: send a rewritten copy, never the guest's page
     * (s->pages keeps the mappings for the unmap). */
    for (i = 0; i < nr_data; i++) {
        unsigned int level = data_types[i] & 0x7U;

        s->send_pages[i] = s->pages[i];
        if (s->ops->normalise_page && level >= 1 && level <= 4) {
            void *dst = (char *)s->normalised + (size_t)nr_normalised++ * PAGE_SIZE;

            if (s->ops->normalise_page(ctx, data_types[i], s->pages[i], dst))
                goto unmap;
            s->send_pages[i] = dst;
        }
    }

    {
        bool written;

        if (compress_batch(ctx, n, s->rec_pfns, nr_data, s->send_pages, &written))
            goto unmap;
        if (written) {
            rc = 0;
            s->pages_sent += nr_data;
            s->batches_sent++;
            goto unmap;
        }
    }
    rhdr.type = REC_TYPE_PAGE_DATA;
    rhdr.length = (uint32_t)(sizeof(pdh) + n * sizeof(uint64_t) + (size_t)nr_data * PAGE_SIZE);
    s->iov[nr_iov++] = (struct iovec){ &rhdr, sizeof(rhdr) };
    s->iov[nr_iov++] = (struct iovec){ &pdh, sizeof(pdh) };
    s->iov[nr_iov++] = (struct iovec){ s->rec_pfns, n * sizeof(uint64_t) };
    for (i = 0; i < nr_data; i++) {
        struct iovec *last = &s->iov[nr_iov - 1];

        /* Coalesce pages that are adjacent in our address space. */
        if (i && (char *)last->iov_base + last->iov_len == (char *)s->send_pages[i])
            last->iov_len += PAGE_SIZE;
        else
            s->iov[nr_iov++] = (struct iovec){ s->send_pages[i], PAGE_SIZE };
    }
    /* Body length is 8 + 8n + 4096k: always a multiple of 8, no padding. */
    if (write_stream_iov(ctx, ctx->fd, s->iov, (int)nr_iov)) {
        PERROR("Failed to write page data batch of %u pages", n);
        goto unmap;
    }
    s->pages_sent += nr_data;
    s->batches_sent++;
    rc = 0;
 unmap:
    if (nr_data)
        xhv_unmap_foreign(ctx->xch, ctx->domid, s->pages, nr_data);
 out:
    s->nr_batch_pfns = 0;
    s->nr_batch_runs = 0;
    return rc;
}

static int add_to_batch(struct sr_context *ctx, uint64_t pfn)
{
    struct sr_save_state *s = &ctx->save;
    bool new_run = !s->nr_batch_pfns || s->batch_pfns[s->nr_batch_pfns - 1] + 1 != pfn;

    /* Flush at the batch limit, or when another run would not fit in one writev. */
    if (s->nr_batch_pfns == MAX_BATCH_SIZE || (new_run && s->nr_batch_runs + 3 >= IOV_MAX)) {
        if (flush_batch(ctx))
            return -1;
        new_run = true;
    }
    s->batch_pfns[s->nr_batch_pfns++] = pfn;
    s->nr_batch_runs += new_run;
    return 0;
}

/* Send every page whose bit is set in the dirty bitmap. */
static int send_dirty_pages(struct sr_context *ctx, const char *what, uint64_t expected)
{
    struct sr_save_state *s = &ctx->save;
    size_t i, n = bitmap_longs(s->p2m_size);
    uint64_t done = 0;

    for (i = 0; i < n; i++) {
        unsigned long word = s->dirty_bitmap[i];

        while (word) {
            uint64_t pfn = (uint64_t)i * BITS_PER_LONG + (unsigned int)__builtin_ctzl(word);

            word &= word - 1;
            if (pfn >= s->p2m_size)
                break;
            if (add_to_batch(ctx, pfn))
                return -1;
            if (s->callbacks && s->callbacks->progress && !(++done % MAX_BATCH_SIZE))
                s->callbacks->progress(what, done, expected, s->callbacks->data);
        }
    }
    if (flush_batch(ctx))
        return -1;
    if (s->callbacks && s->callbacks->progress)
        s->callbacks->progress(what, expected, expected, s->callbacks->data);
    return s->ops->check_vm_state(ctx);
}

static void bitmap_fill(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;
    size_t n = bitmap_longs(s->p2m_size);

    memset(s->dirty_bitmap, 0xff, n * sizeof(unsigned long));
    if (s->p2m_size % BITS_PER_LONG)
        s->dirty_bitmap[n - 1] = (1UL << (s->p2m_size % BITS_PER_LONG)) - 1;
}

static void bitmap_clear_all(struct sr_context *ctx)
{
    memset(ctx->save.dirty_bitmap, 0, bitmap_longs(ctx->save.p2m_size) * sizeof(unsigned long));
}

/* final: the guest is suspended (see XHV_LOGDIRTY_CLEAN_FINAL). */
static int logdirty_clean(struct sr_context *ctx, bool final, uint64_t *count)
{
    xhv_logdirty_stats_t stats = { 0 };

    if (xhv_logdirty(ctx->xch, ctx->domid, final ? XHV_LOGDIRTY_CLEAN_FINAL : XHV_LOGDIRTY_CLEAN,
                     ctx->save.dirty_bitmap,
                     ctx->save.p2m_size, &stats)) {
        PERROR("Failed to retrieve the log-dirty bitmap");
        return -1;
    }
    *count = stats.dirty_count;
    return 0;
}

static int enable_logdirty(struct sr_context *ctx)
{
    if (xhv_logdirty(ctx->xch, ctx->domid, XHV_LOGDIRTY_ENABLE, NULL, ctx->save.p2m_size, NULL)) {
        PERROR("Failed to enable log-dirty mode");
        return -1;
    }
    ctx->save.logdirty_on = true;
    return 0;
}

static int suspend_domain(struct sr_context *ctx)
{
    struct save_callbacks *cb = ctx->save.callbacks;

    if (!cb || !cb->suspend || cb->suspend(cb->data) != 1) {
        ERROR("Suspend request failed");
        errno = errno ? errno : EIO;
        return -1;
    }
    if (xhv_domain_info(ctx->xch, ctx->domid, &ctx->dominfo)) {
        PERROR("Unable to refresh domain information");
        return -1;
    }
    if (!ctx->dominfo.shutdown || ctx->dominfo.shutdown_reason != XHV_SHUTDOWN_suspend) {
        ERROR("Domain has not been suspended: shutdown %d, reason %u", ctx->dominfo.shutdown,
              ctx->dominfo.shutdown_reason);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int simple_precopy_policy(struct precopy_stats stats, void *data)
{
    (void)data;
    return (stats.dirty_count >= 0 && stats.dirty_count < XG_PRECOPY_TARGET_DIRTY) ||
                   stats.iteration >= XG_PRECOPY_MAX_ITERATIONS
               ? XGS_POLICY_STOP_AND_COPY
               : XGS_POLICY_CONTINUE_PRECOPY;
}

/* Live rounds: all pages, then what was dirtied meanwhile, as the policy decides. */
static int send_memory_live(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;
    precopy_policy_t policy = (s->callbacks && s->callbacks->precopy_policy)
                                  ? s->callbacks->precopy_policy
                                  : simple_precopy_policy;
    void *data = s->callbacks ? s->callbacks->data : NULL;
    int decision;
    uint64_t count;

    bitmap_fill(ctx);
    s->stats = (struct precopy_stats){ .iteration = 0, .dirty_count = (long)s->p2m_size };
    for (;;) {
        decision = policy(s->stats, data);
        if (s->stats.dirty_count > 0 && decision != XGS_POLICY_ABORT &&
            send_dirty_pages(ctx, "Memory (live)", (uint64_t)s->stats.dirty_count))
            return -1;
        if (decision != XGS_POLICY_CONTINUE_PRECOPY)
            break;
        s->stats.iteration++;
        s->stats.total_written += (unsigned long)s->stats.dirty_count;
        s->stats.dirty_count = -1;
        decision = policy(s->stats, data);
        if (decision != XGS_POLICY_CONTINUE_PRECOPY)
            break;
        bitmap_clear_all(ctx);
        if (logdirty_clean(ctx, false, &count))
            return -1;
        s->stats.dirty_count = (long)count;
        DPRINTF("Live iteration %u: %llu pages dirty", s->stats.iteration,
                (unsigned long long)count);
    }
    if (decision == XGS_POLICY_ABORT) {
        ERROR("Precopy policy asked to abort the migration");
        errno = ECANCELED;
        return -1;
    }
    return 0;
}

/* Final round: suspend, collect A (and for COLO merge B), send A or A∪B. */
static int suspend_and_send_dirty(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;
    uint64_t count = 0, merged = 0;

    if (suspend_domain(ctx))
        return -1;
    /* From this final round on, what is sent is what the next checkpoints XOR with. */
    s->compress.caching = s->compress.nr_slots != 0;
    if (ctx->stream_type == XC_STREAM_REMUS && s->checkpointed_started &&
        compress_poll_answer(ctx))
        return -1;
    bitmap_clear_all(ctx);
    if (logdirty_clean(ctx, true, &count))
        return -1;
    if (s->ops->mark_backend_pages)
        s->ops->mark_backend_pages(ctx, s->dirty_bitmap, &count);
    if (ctx->stream_type == XC_STREAM_COLO && s->checkpointed_started) {
        if (colo_merge_dirty_pfn_list(ctx, s->recv_fd, s->dirty_bitmap, s->p2m_size, &merged))
            return -1;
        count += merged;
    }
    /* A checkpoint after the first: copied now, sent once the guest runs (save()). */
    if (s->checkpointed_started && s->callbacks->resume_staged)
        staging_begin(ctx, count);
    return send_dirty_pages(ctx, "Memory (final)", count);
}

static int send_domain_memory(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;

    if (s->checkpointed_started)
        return suspend_and_send_dirty(ctx);
    if (s->live) {
        if (enable_logdirty(ctx) || send_memory_live(ctx))
            return -1;
        return suspend_and_send_dirty(ctx);
    }
    /* Non-live: checkpointed streams still need log-dirty for the next rounds. */
    if (ctx->stream_type != XC_STREAM_PLAIN && enable_logdirty(ctx))
        return -1;
    if (suspend_domain(ctx))
        return -1;
    bitmap_fill(ctx);
    return send_dirty_pages(ctx, "Memory", s->p2m_size);
}

static int setup(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;

    if (s->ops->setup(ctx) || compress_setup(ctx))
        return -1;
    s->dirty_bitmap = calloc(bitmap_longs(s->p2m_size), sizeof(unsigned long));
    s->batch_pfns = malloc(MAX_BATCH_SIZE * sizeof(*s->batch_pfns));
    s->types = malloc(MAX_BATCH_SIZE * sizeof(*s->types));
    s->rec_pfns = malloc(MAX_BATCH_SIZE * sizeof(*s->rec_pfns));
    s->pages = malloc(MAX_BATCH_SIZE * sizeof(*s->pages));
    s->send_pages = malloc(MAX_BATCH_SIZE * sizeof(*s->send_pages));
    s->gfns = malloc(MAX_BATCH_SIZE * sizeof(*s->gfns));
    if (s->ops->normalise_page)
        s->normalised = malloc((size_t)MAX_BATCH_SIZE * PAGE_SIZE);
    s->errs = malloc(MAX_BATCH_SIZE * sizeof(*s->errs));
    s->iov = malloc((MAX_BATCH_SIZE + 3) * sizeof(*s->iov));
    if (!s->dirty_bitmap || !s->batch_pfns || !s->types || !s->rec_pfns || !s->pages ||
        !s->errs || !s->iov || !s->send_pages || !s->gfns ||
        (s->ops->normalise_page && !s->normalised)) {
        ERROR("Unable to allocate save buffers for %llu pfns", (unsigned long long)s->p2m_size);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

static void cleanup(struct sr_context *ctx)
{
    struct sr_save_state *s = &ctx->save;
    int saved_errno = errno;

    /* Only what this save turned on (a refused PV live save never did). */
    if (s->logdirty_on)
        xhv_logdirty(ctx->xch, ctx->domid, XHV_LOGDIRTY_OFF, NULL, 0, NULL);
    if (s->ops)
        s->ops->cleanup(ctx);
    free(s->dirty_bitmap);
    free(s->batch_pfns);
    free(s->types);
    free(s->rec_pfns);
    free(s->pages);
    free(s->send_pages);
    free(s->gfns);
    free(s->normalised);
    free(s->errs);
    free(s->iov);
    staging_cleanup(ctx);
    compress_cleanup(ctx);
    free(ctx->hvm.context);
    errno = saved_errno;
}

/* A checkpoint callback result: >0 continue, 0 graceful stop, <0 error. */
static int checkpoint_cb(struct sr_context *ctx, int (*fn)(void *), const char *name, int *stop)
{
    int r = fn(ctx->save.callbacks->data);

    if (r > 0)
        return 0;
    if (r == 0) {
        DPRINTF("%s callback asked to stop", name);
        *stop = 1;
        return 0;
    }
    ERROR("%s callback failed (%d)", name, r);
    errno = errno ? errno : EIO;
    return -1;
}

static int save(struct sr_context *ctx)
{
    struct save_callbacks *cb = ctx->save.callbacks;
    int stop = 0;

    if (write_headers(ctx, ctx->save.ops->dhdr_type) || ctx->save.ops->static_data(ctx) ||
        write_simple_record(ctx, REC_TYPE_STATIC_DATA_END) || compress_offer(ctx) ||
        ctx->save.ops->start_of_stream(ctx))
        return -1;

    do {
        if (ctx->save.ops->start_of_checkpoint(ctx) || ctx->save.ops->check_vm_state(ctx) ||
            send_domain_memory(ctx) || ctx->save.ops->end_of_checkpoint(ctx))
            return -1;
        IPRINTF("Checkpoint %s: %llu pages in %llu batches so far",
                ctx->stream_type == XC_STREAM_PLAIN ? "(plain)" : "sent",
                (unsigned long long)ctx->save.pages_sent,
                (unsigned long long)ctx->save.batches_sent);
        if (ctx->stream_type == XC_STREAM_PLAIN)
            break;

        ctx->save.live = false;
        ctx->save.checkpointed_started = true;
        if (write_simple_record(ctx, REC_TYPE_CHECKPOINT))
            return -1;
        /* Staged: the guest runs while its checkpoint travels; the callbacks below
         * follow as without staging. */
        if (ctx->staging) {
            if (checkpoint_cb(ctx, cb->resume_staged, "Resume staged", &stop) ||
                staging_send(ctx))
                return -1;
            if (stop)
                return 0;
        }
        if (ctx->stream_type == XC_STREAM_COLO) {
            if (checkpoint_cb(ctx, cb->checkpoint, "Checkpoint", &stop) || stop ||
                checkpoint_cb(ctx, cb->postcopy, "Postcopy", &stop) || stop ||
                checkpoint_cb(ctx, cb->wait_checkpoint, "Wait checkpoint", &stop))
                return stop ? 0 : -1;
        } else {
            if (checkpoint_cb(ctx, cb->postcopy, "Postcopy", &stop) || stop ||
                checkpoint_cb(ctx, cb->checkpoint, "Checkpoint", &stop))
                return stop ? 0 : -1;
        }
    } while (!stop);

    if (stop)
        return 0;
    return write_simple_record(ctx, REC_TYPE_END);
}

int xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom, uint32_t flags,
                   struct save_callbacks *callbacks, xc_stream_type_t stream_type, int recv_fd)
{
    struct sr_context ctx_s, *ctx = &ctx_s;
    int rc = -1, saved_errno;

    memset(ctx, 0, sizeof(*ctx));
    ctx->xch = xch;
    ctx->domid = dom;
    ctx->fd = io_fd;
    ctx->stream_type = stream_type;
    ctx->save.callbacks = callbacks;
    ctx->save.recv_fd = recv_fd;
    ctx->save.live = !!(flags & XCFLAGS_LIVE);
    ctx->save.debug = !!(flags & XCFLAGS_DEBUG);

    switch (stream_type) {
    case XC_STREAM_PLAIN:
        break;
    case XC_STREAM_COLO:
        if (!callbacks || !callbacks->wait_checkpoint || recv_fd < 0) {
            ERROR("COLO save needs a wait_checkpoint callback and a back channel (recv_fd)");
            errno = EINVAL;
            return -1;
        }
        /* fall through */
    case XC_STREAM_REMUS:
        if (!callbacks || !callbacks->checkpoint || !callbacks->postcopy) {
            ERROR("Checkpointed save needs checkpoint and postcopy callbacks");
            errno = EINVAL;
            return -1;
        }
        break;
    default:
        ERROR("Unknown stream type %d", (int)stream_type);
        errno = EINVAL;
        return -1;
    }
    if (!callbacks || !callbacks->suspend) {
        ERROR("Save needs a suspend callback");
        errno = EINVAL;
        return -1;
    }
    if (xhv_domain_info(xch, dom, &ctx->dominfo)) {
        PERROR("Unable to get information on domain %u", dom);
        return -1;
    }
    /* PVH and HVM guests travel as HVM-type streams; PV guests have their own ops. */
    ctx->save.ops = ctx->dominfo.hvm ? &save_ops_x86_hvm : &save_ops_x86_pv;
    errno = 0;
    if (setup(ctx) == 0)
        rc = save(ctx);
    saved_errno = errno;
    cleanup(ctx);
    if (rc) {
        errno = saved_errno ? saved_errno : EIO;
        return -1;
    }
    IPRINTF("Save of domain %u done: %llu pages", dom, (unsigned long long)ctx->save.pages_sent);
    if (ctx->save.staging.staged || ctx->save.staging.sent_suspended)
        IPRINTF("Checkpoints staged (sent while the guest ran): %llu; sent while suspended: "
                "%llu", (unsigned long long)ctx->save.staging.staged,
                (unsigned long long)ctx->save.staging.sent_suspended);
    return 0;
}
