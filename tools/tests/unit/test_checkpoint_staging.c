/*
 * Checkpoint staging (sr_save_staging.c) without a guest: what the engine writes while
 * a checkpoint is staged reaches the stream only when it is sent, byte for byte in the
 * order written; a checkpoint whose pages cannot fit the limit is not staged; one that
 * outgrows the limit while being staged goes out at once, its staged part first, and
 * the rest straight to the stream.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sr_common.h"
#include "test.h"

#define MIB (1024 * 1024)

static struct save_callbacks cb = { .staging_mib = 1 };

static void setup(struct sr_context *ctx, xc_interface *xch)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->xch = xch;
    ctx->fd = memfd_create("stream", 0);
    ctx->save.callbacks = &cb;
}

/* The stream's bytes so far (malloc'd), their count in *len. */
static unsigned char *stream_bytes(struct sr_context *ctx, size_t *len)
{
    off_t end = lseek(ctx->fd, 0, SEEK_CUR);
    unsigned char *b = malloc(end > 0 ? (size_t)end : 1);

    *len = end > 0 ? (size_t)end : 0;
    if (*len && pread(ctx->fd, b, *len, 0) != (ssize_t)*len)
        *len = 0;
    return b;
}

static void teardown(struct sr_context *ctx)
{
    staging_cleanup(ctx);
    close(ctx->fd);
}

/* Writes n bytes of value v through the engine's stream writer. */
static int put(struct sr_context *ctx, unsigned char *buf, size_t n, int v)
{
    struct iovec iov[2] = { { buf, n / 2 }, { buf + n / 2, n - n / 2 } };

    memset(buf, v, n);
    return write_stream_iov(ctx, ctx->fd, iov, 2);
}

static int all(const unsigned char *p, size_t n, int v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)v)
            return 0;
    return 1;
}

int main(void)
{
    xc_interface *xch = xhv_open("none");
    static unsigned char buf[MIB];
    struct sr_context ctx;
    unsigned char *out;
    size_t len;

    /* Fits: nothing reaches the stream until it is sent, then all of it, in order. */
    setup(&ctx, xch);
    staging_begin(&ctx, 10);
    CHECK(ctx.staging != NULL, "a checkpoint of 10 pages is staged under a 1 MiB limit");
    CHECK(put(&ctx, buf, 1000, 1) == 0 && put(&ctx, buf, 3000, 2) == 0,
          "writes while staged succeed");
    out = stream_bytes(&ctx, &len);
    CHECK(len == 0, "nothing is on the stream before it is sent (%zu bytes)", len);
    free(out);
    CHECK(staging_send(&ctx) == 0 && ctx.staging == NULL, "the staged checkpoint is sent");
    out = stream_bytes(&ctx, &len);
    CHECK(len == 4000 && all(out, 1000, 1) && all(out + 1000, 3000, 2),
          "the stream holds the writes byte for byte, in order (%zu bytes)", len);
    free(out);
    CHECK(ctx.save.staging.staged == 1 && ctx.save.staging.sent_suspended == 0,
          "counted as staged");
    teardown(&ctx);

    /* The pages alone exceed the limit: not staged, written as they come. */
    setup(&ctx, xch);
    staging_begin(&ctx, MIB / PAGE_SIZE);
    CHECK(ctx.staging == NULL && ctx.save.staging.sent_suspended == 1,
          "a checkpoint of 256 pages is not staged under a 1 MiB limit");
    CHECK(put(&ctx, buf, 100, 3) == 0, "its writes go to the stream");
    out = stream_bytes(&ctx, &len);
    CHECK(len == 100 && all(out, 100, 3), "at once (%zu bytes)", len);
    free(out);
    teardown(&ctx);

    /* Outgrows the limit while staged: the staged part first, then the rest directly. */
    setup(&ctx, xch);
    staging_begin(&ctx, 200);
    CHECK(ctx.staging != NULL, "a checkpoint of 200 pages is staged");
    CHECK(put(&ctx, buf, MIB - 100, 4) == 0, "1 MiB - 100 bytes staged");
    out = stream_bytes(&ctx, &len);
    CHECK(len == 0, "still nothing on the stream (%zu bytes)", len);
    free(out);
    CHECK(put(&ctx, buf, 200, 5) == 0 && ctx.staging == NULL,
          "200 more bytes outgrow the limit: no longer staged");
    CHECK(put(&ctx, buf, 50, 6) == 0, "a later write goes straight to the stream");
    out = stream_bytes(&ctx, &len);
    CHECK(len == MIB + 150 && all(out, MIB - 100, 4) && all(out + MIB - 100, 200, 5) &&
              all(out + MIB + 100, 50, 6),
          "the stream holds all of it, in order (%zu bytes)", len);
    free(out);
    CHECK(staging_send(&ctx) == 0, "sending afterwards sends nothing more");
    out = stream_bytes(&ctx, &len);
    CHECK(len == MIB + 150, "(%zu bytes)", len);
    free(out);
    CHECK(ctx.save.staging.staged == 0 && ctx.save.staging.sent_suspended == 1,
          "counted as sent while suspended");
    teardown(&ctx);

    xhv_close(xch);
    return test_done();
}
