/*
 * The primary: HELLO and the whole-disk copy toward a secondary, guest writes applied
 * and forwarded within the secondary's hidden bound, and the barriers that wait for its
 * ACK (dr_internal.h).
 */
#include "dr_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "xutil.h"

void dr_primary_forget_pending(struct diskrep *h)
{
    uint32_t i;

    for (i = 0; i < h->pending_count; i++)
        bitmap_clear_bit(h->pending_map, h->pending_list[i]);
    h->pending_count = 0;
    h->needs_checkpoint = false;
}

/* The secondary's next message, which must be of type want. */
static int expect(struct diskrep *h, uint16_t want, const char *what, struct dr_msg *msg)
{
    int rc = dr_recv(h, msg, (int)h->cfg.timeout_ms);

    if (rc == 0)
        return dr_fail(h, DISKREP_E_PEER_CLOSED, EPIPE, "%s: the secondary closed the "
                       "connection", what);
    if (rc < 0)
        return -1;
    if (msg->hdr.type == DR_ERROR)
        return dr_peer_error(h, msg);
    if (msg->hdr.type != want)
        return dr_fail(h, DISKREP_E_BAD_STATE, EPROTO, "%s: %s from the secondary, expected %s",
                       what, dr_type_name(msg->hdr.type), dr_type_name(want));
    return 0;
}

static int send_barrier(struct diskrep *h, uint16_t type)
{
    const char *name = dr_type_name(type);
    struct dr_msg msg;
    uint64_t seq;

    if (h->peer_errno)
        return dr_fail(h, DISKREP_E_PEER_CLOSED, h->peer_errno, "%s: an earlier write could "
                       "not be forwarded to the secondary", name);
    if (dr_send(h, type, NULL, 0, NULL, 0))
        return dr_fail(h, DISKREP_E_PEER_CLOSED, errno, "%s: sending to the secondary failed",
                       name);
    seq = h->tx_seq;
    if (expect(h, DR_ACK, name, &msg))
        return -1;
    if (msg.u.ack.seq != seq)
        return dr_fail(h, DISKREP_E_BAD_ACK, EPROTO, "%s: the secondary acknowledged %llu, "
                       "expected %llu", name, (unsigned long long)msg.u.ack.seq,
                       (unsigned long long)seq);
    return 0;
}

int dr_primary_barrier(struct diskrep *h, uint16_t type)
{
    if (send_barrier(h, type))
        return -1;
    if (type == DR_CHECKPOINT) {
        dr_primary_forget_pending(h);
        h->checkpoints++;
    }
    return 0;
}

/* Sends len bytes of the disk at off in messages of type (WRITE, RESYNC) of at most the
 * size both sides allow. */
static int forward(struct diskrep *h, uint16_t type, const uint8_t *data, size_t len,
                   uint64_t off)
{
    uint8_t head[sizeof(struct dr_wire_io)];

    while (len) {
        uint32_t n = len < h->peer_max_io ? (uint32_t)len : h->peer_max_io;

        dr_put_io(head, off, n);
        if (dr_send(h, type, head, sizeof(head), data, n))
            return -1;
        data += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int copy_disk(struct diskrep *h)
{
    uint8_t *buf = malloc(h->peer_max_io);
    uint64_t off;
    int rc = -1;

    if (!buf)
        return dr_fail(h, DISKREP_E_IO, ENOMEM, "whole-disk copy: no buffer");
    for (off = 0; off < h->disk_size; off += h->peer_max_io) {
        size_t n = h->disk_size - off < h->peer_max_io ? (size_t)(h->disk_size - off)
                                                       : h->peer_max_io;

        if (diskrep_dev_pread(h->dev, buf, n, off)) {
            dr_fail(h, DISKREP_E_IO, errno, "whole-disk copy: reading at 0x%llx failed",
                    (unsigned long long)off);
            goto out;
        }
        if (forward(h, DR_RESYNC, buf, n, off)) {
            dr_fail(h, DISKREP_E_PEER_CLOSED, errno, "whole-disk copy: sending at 0x%llx "
                    "failed", (unsigned long long)off);
            goto out;
        }
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

static int hello(struct diskrep *h, bool resync)
{
    struct dr_wire_hello mine = {
        .disk_size = h->disk_size,
        .block_size = h->cfg.block_size,
        .flags = resync ? DR_HELLO_RESYNC : 0,
        .max_io = h->cfg.max_io,
        .hidden_max_blocks = h->cfg.hidden_max_blocks,
    }, *theirs;
    uint8_t buf[sizeof(mine)];
    struct dr_msg msg;

    dr_put_hello(buf, &mine);
    if (dr_send(h, DR_HELLO, buf, sizeof(buf), NULL, 0))
        return dr_fail(h, DISKREP_E_PEER_CLOSED, errno, "HELLO: sending to the secondary "
                       "failed");
    if (expect(h, DR_HELLO, "HELLO", &msg))
        return -1;
    theirs = &msg.u.hello;
    if (theirs->disk_size != h->disk_size || theirs->block_size != h->cfg.block_size ||
        !theirs->hidden_max_blocks)
        return dr_fail(h, DISKREP_E_BAD_GEOMETRY, EPROTO, "HELLO: the secondary's disk is "
                       "%llu bytes in %u-byte blocks with a hidden bound of %u blocks, this "
                       "one %llu in %u", (unsigned long long)theirs->disk_size,
                       theirs->block_size, theirs->hidden_max_blocks,
                       (unsigned long long)h->disk_size, h->cfg.block_size);
    h->pending_max = theirs->hidden_max_blocks < h->cfg.hidden_max_blocks
                         ? theirs->hidden_max_blocks : h->cfg.hidden_max_blocks;
    h->peer_max_io = theirs->max_io < h->cfg.max_io ? theirs->max_io : h->cfg.max_io;
    return 0;
}

int dr_primary_start(struct diskrep *h, int rfd, int wfd, bool resync)
{
    h->rfd = rfd;
    h->wfd = wfd;
    h->tx_seq = h->rx_seq = 0;
    h->peer_errno = 0;
    dr_primary_forget_pending(h);
    if (hello(h, resync) || (resync && (copy_disk(h) || send_barrier(h, DR_CHECKPOINT)))) {
        dr_detach(h);
        return -1;
    }
    h->state = DISKREP_RUNNING;
    dr_log(h, DISKREP_LOG_INFO, 0, "primary running%s", resync ? " after a whole-disk copy" : "");
    return 0;
}

int dr_primary_write(struct diskrep *h, const void *buf, size_t len, uint64_t off)
{
    uint64_t b, missing = 0;

    if (h->state == DISKREP_FAILED_OVER)
        return diskrep_dev_pwrite(h->dev, buf, len, off);
    for (b = dr_first_block(h, off); b <= dr_last_block(h, off, len); b++)
        missing += !bitmap_test_bit(h->pending_map, b);
    if (missing > h->pending_max - h->pending_count) {
        h->needs_checkpoint = true;
        return dr_fail(h, DISKREP_E_LAYER_FULL, ENOSPC,
                       "the secondary's hidden layer is full: %u of %u blocks written since "
                       "the checkpoint, this write needs %llu more; a checkpoint is needed",
                       h->pending_count, h->pending_max, (unsigned long long)missing);
    }
    if (diskrep_dev_pwrite(h->dev, buf, len, off))
        return dr_fail(h, DISKREP_E_IO, errno, "writing %zu bytes at 0x%llx to this disk failed",
                       len, (unsigned long long)off);
    for (b = dr_first_block(h, off); b <= dr_last_block(h, off, len); b++)
        if (!bitmap_test_bit(h->pending_map, b)) {
            bitmap_set_bit(h->pending_map, b);
            h->pending_list[h->pending_count++] = b;
        }
    /* The guest's write is done once on this disk; a secondary that went away fails
     * the next barrier, and the caller fails over. */
    if (!h->peer_errno && forward(h, DR_WRITE, buf, len, off)) {
        h->peer_errno = errno ? errno : EPIPE;
        dr_log(h, DISKREP_LOG_WARN, h->peer_errno, "forwarding a write to the secondary failed");
    }
    h->writes_forwarded++;
    return 0;
}
