#include "stream_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "sr_stream_format.h"
#include "target_state.h"
#include "test.h"
#include "xutil.h"

char stream_buf[1 << 20];
size_t stream_len;
static char logbuf[4096];

void stream_put(const void *p, size_t n)
{
    if (!n)
        return;
    if (stream_len + n > sizeof(stream_buf)) {
        fprintf(stderr, "stream_put: a test stream beyond %zu bytes\n", sizeof(stream_buf));
        exit(2);
    }
    memcpy(stream_buf + stream_len, p, n);
    stream_len += n;
}

void stream_put_record(uint32_t type, const void *body, uint32_t blen)
{
    struct sr_rhdr h = { type, blen };
    static const char zero[8];

    stream_put(&h, sizeof(h));
    stream_put(body, blen);
    stream_put(zero, ((blen + 7) & ~7u) - blen);
}

void stream_start(void)
{
    struct sr_ihdr ih = { IHDR_MARKER, __builtin_bswap32(IHDR_ID), __builtin_bswap32(3), 0, 0, 0 };
    struct sr_dhdr dh = { DHDR_TYPE_X86_HVM, 12, 0, 4, 17 };

    stream_len = 0;
    stream_put(&ih, sizeof(ih));
    stream_put(&dh, sizeof(dh));
    stream_put_record(REC_TYPE_STATIC_DATA_END, NULL, 0);
}

void stream_put_page_data(const uint64_t *pfns, uint32_t count, uint32_t data_pages)
{
    static char body[8 + 8 * 1100 + 4096 * 4];
    struct sr_page_data_header *h = (void *)body;
    uint32_t blen = 8 + 8 * count + 4096 * data_pages;

    if (count > 1100 || data_pages > 4)
        exit(2);
    h->count = count;
    h->_res1 = 0;
    memcpy(body + 8, pfns, 8 * count);
    memset(body + 8 + 8 * count, 0x5a, 4096 * data_pages);
    stream_put_record(REC_TYPE_PAGE_DATA, body, blen);
}

void stream_put_one_page(uint64_t pfn, int value)
{
    static char body[8 + 8 + 4096];
    struct sr_page_data_header *h = (void *)body;

    h->count = 1;
    h->_res1 = 0;
    memcpy(body + 8, &pfn, 8);
    memset(body + 16, value, 4096);
    stream_put_record(REC_TYPE_PAGE_DATA, body, sizeof(body));
}

void stream_put_checkpoint_end(void)
{
    static const uint32_t checkpoint_end[2] = { 4, 0 };

    stream_put(checkpoint_end, sizeof(checkpoint_end));
}

static void capture(void *opaque, enum xhv_loglevel level, int errnoval, const char *context,
                    const char *msg)
{
    size_t n = strlen(logbuf);

    (void)opaque;
    (void)context;
    if (level < XHV_LOG_INFO)
        return;
    snprintf(logbuf + n, sizeof(logbuf) - n, "%s%s%s%s", n ? " | " : "", msg,
             errnoval ? ": " : "", errnoval ? strerror(errnoval) : "");
}

void stream_capture_log(xc_interface *xch)
{
    xhv_set_logger(xch, capture, NULL);
}

void stream_log_begin(void)
{
    logbuf[0] = 0;
}

const char *stream_log(void)
{
    return logbuf;
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

void stream_restore_fd(xc_interface *xch, uint32_t domid, xc_stream_type_t type, int fd,
                       struct restore_callbacks *cb, int back_fd, struct restore_outcome *o)
{
    struct target_state before, after;
    xen_pfn_t s, c;

    memset(o, 0, sizeof(*o));
    if (target_state_take(xch, domid, &before)) {
        fprintf(stderr, "stream_restore: the target's state cannot be read\n");
        exit(2);
    }
    stream_log_begin();
    errno = 0;
    o->rc = xc_domain_restore(xch, fd, domid, 1, &s, 0, 2, &c, 0, type, cb, back_fd);
    o->err = errno;
    snprintf(o->log, sizeof(o->log), "%s", logbuf);
    if (target_state_take(xch, domid, &after)) {
        snprintf(o->change, sizeof(o->change), "the target's state cannot be read");
    } else {
        o->unchanged = target_state_same(&before, &after, o->change, sizeof(o->change));
        o->context_unchanged = target_context_same(&before, &after);
    }
    target_state_free(&before);
    target_state_free(&after);
}

void stream_restore(xc_interface *xch, uint32_t domid, xc_stream_type_t type,
                    struct restore_outcome *o)
{
    int fd = test_bytes_fd(stream_buf, stream_len);
    struct restore_callbacks cb = { .checkpoint = remus_checkpoint_cb, .data = &fd };

    stream_restore_fd(xch, domid, type, fd, &cb, -1, o);
    close(fd);
}

int outcome_rejected(const struct restore_outcome *o, int err, const char *msg)
{
    return o->rc == -1 && o->err == err && strstr(o->log, msg) != NULL;
}

int stream_target(xc_interface *xch, const char *name, uint64_t pages, uint8_t *ctx,
                  size_t ctxlen, uint32_t *target)
{
    uint32_t src = test_create_guest(xch, "ctxsrc", "incrementer", pages, 1, 1000);
    int n;

    *target = test_create_target(xch, name, pages, 1);
    xhv_domain_pause(xch, src);
    n = xhv_hvm_getcontext(xch, src, ctx, ctxlen);
    xhv_domain_destroy(xch, src);
    if (n <= 0 || xhv_hvm_setcontext(xch, *target, ctx, (size_t)n)) {
        fprintf(stderr, "stream_target: no vcpu context for %s\n", name);
        exit(2);
    }
    return n;
}
