/* The replication handle: configuration, states, errors, and the calls' dispatch by
 * role (diskrep.h). */
#include "dr_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xutil.h"

static const char *const error_names[DISKREP_E_COUNT] = {
    [DISKREP_E_NONE] = "none",
    [DISKREP_E_TRUNCATED_HEADER] = "truncated-header",
    [DISKREP_E_TRUNCATED_PAYLOAD] = "truncated-payload",
    [DISKREP_E_BAD_MAGIC] = "bad-magic",
    [DISKREP_E_BAD_VERSION] = "bad-version",
    [DISKREP_E_UNKNOWN_TYPE] = "unknown-type",
    [DISKREP_E_RESERVED_NONZERO] = "reserved-nonzero",
    [DISKREP_E_OVERSIZED_LENGTH] = "oversized-length",
    [DISKREP_E_BAD_LENGTH] = "bad-length",
    [DISKREP_E_OFFSET_PAST_END] = "offset-past-end",
    [DISKREP_E_RANGE_OVERFLOW] = "range-overflow",
    [DISKREP_E_RANGE_PAST_END] = "range-past-end",
    [DISKREP_E_SEQ_BACKWARDS] = "sequence-backwards",
    [DISKREP_E_SEQ_GAP] = "sequence-gap",
    [DISKREP_E_BAD_STATE] = "bad-state",
    [DISKREP_E_BAD_GEOMETRY] = "bad-geometry",
    [DISKREP_E_HIDDEN_FULL] = "hidden-full",
    [DISKREP_E_BAD_ACK] = "bad-ack",
    [DISKREP_E_PEER_ERROR] = "peer-error",
    [DISKREP_E_LAYER_FULL] = "layer-full",
    [DISKREP_E_TIMEOUT] = "timeout",
    [DISKREP_E_PEER_CLOSED] = "peer-closed",
    [DISKREP_E_IO] = "io-error",
};

const char *diskrep_error_name(int code)
{
    if (code < 0 || code >= DISKREP_E_COUNT || !error_names[code])
        return "unknown";
    return error_names[code];
}

static void stderr_logger(void *opaque, enum diskrep_loglevel level, int errnoval,
                          const char *msg)
{
    (void)opaque;
    if (level < DISKREP_LOG_WARN)
        return;
    if (errnoval)
        fprintf(stderr, "diskrep: %s: %s\n", msg, strerror(errnoval));
    else
        fprintf(stderr, "diskrep: %s\n", msg);
}

void diskrep_set_logger(diskrep *h, diskrep_log_fn *fn, void *opaque)
{
    h->logfn = fn ? fn : stderr_logger;
    h->logopaque = fn ? opaque : NULL;
}

static void vlog(struct diskrep *h, enum diskrep_loglevel level, int errnoval, const char *fmt,
                 va_list ap, char *out, size_t outlen)
{
    char msg[sizeof(h->last_msg)];
    int saved = errno;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (out)
        snprintf(out, outlen, "%s", msg);
    h->logfn(h->logopaque, level, errnoval, msg);
    errno = saved;
}

void dr_log(struct diskrep *h, enum diskrep_loglevel level, int errnoval, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(h, level, errnoval, fmt, ap, NULL, 0);
    va_end(ap);
}

int dr_fail(struct diskrep *h, int code, int err, const char *fmt, ...)
{
    va_list ap;

    h->last_error = code;
    va_start(ap, fmt);
    vlog(h, DISKREP_LOG_ERROR, 0, fmt, ap, h->last_msg, sizeof(h->last_msg));
    va_end(ap);
    errno = err;
    return -1;
}

static int resolve_config(struct diskrep_config *c, uint64_t disk_size)
{
    if (!c->block_size)
        c->block_size = 4096;
    if (!c->active_max_blocks)
        c->active_max_blocks = 4096;
    if (!c->hidden_max_blocks)
        c->hidden_max_blocks = 4096;
    if (!c->max_io)
        c->max_io = 1u << 20;
    if (!c->timeout_ms)
        c->timeout_ms = 5000;
    if (c->block_size < 512 || c->block_size > 65536 || (c->block_size & (c->block_size - 1)) ||
        c->max_io < c->block_size || c->max_io > DR_MAX_IO_LIMIT || c->timeout_ms > INT32_MAX ||
        disk_size == 0 || disk_size % c->block_size) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

diskrep *diskrep_new(enum diskrep_role role, diskrep_dev *dev, const struct diskrep_config *cfg)
{
    struct diskrep *h;
    int err = ENOMEM;

    if (!dev || (role != DISKREP_PRIMARY && role != DISKREP_SECONDARY)) {
        errno = EINVAL;
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->cfg = cfg ? *cfg : (struct diskrep_config){ 0 };
    h->disk_size = diskrep_dev_size(dev);
    if (resolve_config(&h->cfg, h->disk_size)) {
        free(h);
        errno = EINVAL;
        return NULL;
    }
    h->role = role;
    h->state = DISKREP_NONE;
    h->dev = dev;
    h->nblocks = h->disk_size / h->cfg.block_size;
    h->logfn = stderr_logger;
    dr_detach(h);
    pthread_mutex_init(&h->lock, NULL);
    /* Both roles get both sides' state: a secondary that fails over is a primary. */
    h->rxbuf = malloc(dr_max_payload(h->cfg.max_io));
    h->blockbuf = malloc(h->cfg.block_size);
    h->pending_map = calloc(bitmap_longs(h->nblocks), sizeof(unsigned long));
    h->pending_list = calloc(h->cfg.hidden_max_blocks, sizeof(*h->pending_list));
    if (!h->rxbuf || !h->blockbuf || !h->pending_map || !h->pending_list)
        goto fail;
    if (dr_layer_init(&h->hidden, h->cfg.hidden_max_blocks, h->cfg.block_size) ||
        dr_layer_init(&h->active, h->cfg.active_max_blocks, h->cfg.block_size)) {
        err = errno;
        goto fail;
    }
    return h;
fail:
    diskrep_free(h);
    errno = err;
    return NULL;
}

void diskrep_free(diskrep *h)
{
    if (!h)
        return;
    dr_layer_fini(&h->hidden);
    dr_layer_fini(&h->active);
    free(h->rxbuf);
    free(h->blockbuf);
    free(h->pending_map);
    free(h->pending_list);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* 0 if guest I/O of len bytes at off may go ahead in the current state. */
static int io_allowed(struct diskrep *h, size_t len, uint64_t off)
{
    switch (h->state) {
    case DISKREP_RUNNING:
    case DISKREP_FAILED_OVER:
        break;
    case DISKREP_STOPPED:
        errno = ESHUTDOWN;
        return -1;
    default:
        errno = ENOTCONN;   /* replication not started, or the disk not yet copied */
        return -1;
    }
    if (off > h->disk_size || len > h->disk_size - off) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int diskrep_read(diskrep *h, void *buf, size_t len, uint64_t off)
{
    int rc;

    pthread_mutex_lock(&h->lock);
    rc = io_allowed(h, len, off);
    if (!rc && len)
        rc = h->role == DISKREP_SECONDARY ? dr_secondary_read(h, buf, len, off)
                                          : diskrep_dev_pread(h->dev, buf, len, off);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int diskrep_write(diskrep *h, const void *buf, size_t len, uint64_t off)
{
    int rc;

    pthread_mutex_lock(&h->lock);
    rc = io_allowed(h, len, off);
    if (!rc && len)
        rc = h->role == DISKREP_SECONDARY ? dr_secondary_write(h, buf, len, off)
                                          : dr_primary_write(h, buf, len, off);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

static int start(diskrep *h, int rfd, int wfd, bool resync)
{
    int rc = -1;

    pthread_mutex_lock(&h->lock);
    if (rfd < 0 || wfd < 0)
        errno = EBADF;
    else if (h->role == DISKREP_SECONDARY && resync)
        errno = EINVAL;     /* the primary copies; the secondary learns it from HELLO */
    else if (h->role == DISKREP_SECONDARY && h->state == DISKREP_NONE) {
        h->rfd = rfd;
        h->wfd = wfd;
        h->tx_seq = h->rx_seq = 0;
        rc = 0;
    } else if (h->role == DISKREP_PRIMARY &&
               (h->state == DISKREP_NONE || h->state == DISKREP_FAILED_OVER))
        rc = dr_primary_start(h, rfd, wfd, resync);
    else
        errno = EALREADY;
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int diskrep_start(diskrep *h, int rfd, int wfd)
{
    return start(h, rfd, wfd, false);
}

int diskrep_resync(diskrep *h, int rfd, int wfd)
{
    return start(h, rfd, wfd, true);
}

static int barrier(diskrep *h, uint16_t type)
{
    int rc = -1;

    pthread_mutex_lock(&h->lock);
    if (h->role != DISKREP_PRIMARY)
        errno = EINVAL;
    else if (h->state != DISKREP_RUNNING)
        errno = ENOTCONN;
    else
        rc = dr_primary_barrier(h, type);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int diskrep_flush(diskrep *h)
{
    return barrier(h, DR_FLUSH);
}

int diskrep_checkpoint(diskrep *h)
{
    return barrier(h, DR_CHECKPOINT);
}

/* Until fd has something to read or has closed. */
static int wait_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r;

    while ((r = poll(&pfd, 1, -1)) < 0 && errno == EINTR)
        ;
    return r < 0 ? -1 : 0;
}

/* Best effort: the primary learns why before the connection goes. */
static void send_error(struct diskrep *h)
{
    uint8_t head[sizeof(struct dr_wire_error)];
    size_t n = strnlen(h->last_msg, DR_ERROR_TEXT_MAX);
    int saved = errno;

    dr_put_error(head, (uint32_t)h->last_error, (uint32_t)n);
    dr_send(h, DR_ERROR, head, sizeof(head), h->last_msg, n);
    errno = saved;
}

int diskrep_serve_one(diskrep *h)
{
    struct dr_msg msg;
    int rc = -1, fd;

    pthread_mutex_lock(&h->lock);
    fd = h->role == DISKREP_SECONDARY ? h->rfd : -2;
    pthread_mutex_unlock(&h->lock);
    if (fd < 0) {
        errno = fd == -2 ? EINVAL : ENOTCONN;
        return -1;
    }
    /* The wait for a message holds no lock: the guest's I/O goes on meanwhile.  The
     * message itself is read and applied under the lock, its rest bounded by the
     * timeout. */
    if (wait_readable(fd))
        return -1;
    pthread_mutex_lock(&h->lock);
    h->last_error = DISKREP_E_NONE;
    rc = dr_recv(h, &msg, (int)h->cfg.timeout_ms);
    if (rc > 0 && dr_secondary_apply(h, &msg))
        rc = -1;
    if (rc < 0 && h->last_error && h->last_error != DISKREP_E_PEER_CLOSED && h->wfd >= 0)
        send_error(h);
    if (rc < 0)
        dr_detach(h);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int diskrep_serve(diskrep *h)
{
    int rc;

    while ((rc = diskrep_serve_one(h)) > 0)
        ;
    return rc;
}

int diskrep_failover(diskrep *h)
{
    int rc = -1;

    pthread_mutex_lock(&h->lock);
    if (h->state != DISKREP_RUNNING)
        errno = h->state == DISKREP_FAILED_OVER ? EALREADY : EINVAL;
    else if (h->role == DISKREP_SECONDARY)
        rc = dr_secondary_failover(h);
    else {
        dr_primary_forget_pending(h);
        dr_detach(h);
        h->state = DISKREP_FAILED_OVER;
        rc = 0;
    }
    if (rc == 0)
        dr_log(h, DISKREP_LOG_INFO, 0, "failed over: this side carries on without a peer");
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int diskrep_stop(diskrep *h)
{
    pthread_mutex_lock(&h->lock);
    dr_detach(h);
    dr_layer_clear(&h->hidden);
    dr_layer_clear(&h->active);
    dr_primary_forget_pending(h);
    h->state = DISKREP_STOPPED;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

enum diskrep_role diskrep_role(diskrep *h)
{
    struct diskrep_stats st;

    diskrep_get_stats(h, &st);
    return st.role;
}

enum diskrep_state diskrep_state(diskrep *h)
{
    struct diskrep_stats st;

    diskrep_get_stats(h, &st);
    return st.state;
}

bool diskrep_needs_checkpoint(diskrep *h)
{
    struct diskrep_stats st;

    diskrep_get_stats(h, &st);
    return st.needs_checkpoint;
}

int diskrep_last_error(diskrep *h, const char **msg)
{
    int code;

    pthread_mutex_lock(&h->lock);
    code = h->last_error;
    if (msg)
        *msg = h->last_msg;
    pthread_mutex_unlock(&h->lock);
    return code;
}

void diskrep_get_stats(diskrep *h, struct diskrep_stats *st)
{
    pthread_mutex_lock(&h->lock);
    st->role = h->role;
    st->state = h->state;
    st->needs_checkpoint = h->needs_checkpoint;
    st->checkpoints = h->checkpoints;
    st->writes_forwarded = h->writes_forwarded;
    st->active_blocks = h->active.count;
    st->hidden_blocks = h->hidden.count;
    st->pending_blocks = h->pending_count;
    st->pending_max = h->pending_max;
    pthread_mutex_unlock(&h->lock);
}
