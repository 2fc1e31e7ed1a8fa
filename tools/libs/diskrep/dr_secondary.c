/*
 * The secondary: its guest's view (active layer, else the original kept in the hidden
 * layer, else the disk), the forwarded messages applied, and the failover that makes its
 * view the disk (dr_internal.h).
 */
#include "dr_internal.h"

#include <errno.h>
#include <string.h>

/* A block as the secondary's guest saw it at the last checkpoint. */
static int lower_block(struct diskrep *h, uint64_t block, uint8_t *out)
{
    const uint8_t *kept = dr_layer_find(&h->hidden, block);
    uint32_t bs = h->cfg.block_size;

    if (kept) {
        memcpy(out, kept, bs);
        return 0;
    }
    return diskrep_dev_pread(h->dev, out, bs, block * bs);
}

int dr_secondary_read(struct diskrep *h, void *buf, size_t len, uint64_t off)
{
    uint32_t bs = h->cfg.block_size;
    uint8_t *p = buf;

    while (len) {
        uint64_t block = off / bs;
        size_t in = (size_t)(off % bs), n = bs - in < len ? bs - in : len;
        const uint8_t *d = dr_layer_find(&h->active, block);

        if (!d)
            d = dr_layer_find(&h->hidden, block);
        if (d)
            memcpy(p, d + in, n);
        else if (diskrep_dev_pread(h->dev, p, n, off))
            return -1;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

static uint64_t blocks_missing(const struct diskrep *h, const struct dr_layer *l, uint64_t off,
                               size_t len)
{
    uint64_t b, missing = 0;

    for (b = dr_first_block(h, off); b <= dr_last_block(h, off, len); b++)
        missing += !dr_layer_find(l, b);
    return missing;
}

int dr_secondary_write(struct diskrep *h, const void *buf, size_t len, uint64_t off)
{
    uint32_t bs = h->cfg.block_size;
    uint64_t missing = blocks_missing(h, &h->active, off, len);
    const uint8_t *p = buf;

    if (missing > h->active.max_blocks - h->active.count) {
        h->needs_checkpoint = true;
        return dr_fail(h, DISKREP_E_LAYER_FULL, ENOSPC,
                       "active layer full: %u of %u blocks written since the checkpoint, this "
                       "write needs %llu more; a checkpoint is needed", h->active.count,
                       h->active.max_blocks, (unsigned long long)missing);
    }
    while (len) {
        uint64_t block = off / bs;
        size_t in = (size_t)(off % bs), n = bs - in < len ? bs - in : len;
        uint8_t *d = dr_layer_find(&h->active, block);

        if (!d) {
            /* A partly written block keeps the rest of what the guest saw. */
            if (n < bs && lower_block(h, block, h->blockbuf))
                return -1;
            d = dr_layer_add(&h->active, block);
            if (n < bs)
                memcpy(d, h->blockbuf, bs);
        }
        memcpy(d + in, p, n);
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* A forwarded write: the originals it overwrites go to the hidden layer first, unless
 * the guest has no view to keep yet (a whole-disk copy). */
static int apply_write(struct diskrep *h, const struct dr_msg *msg)
{
    const struct dr_wire_io *io = &msg->u.io;
    uint32_t bs = h->cfg.block_size;
    uint64_t b, missing;

    if (h->state == DISKREP_RUNNING) {
        missing = blocks_missing(h, &h->hidden, io->offset, io->length);
        if (missing > h->hidden.max_blocks - h->hidden.count)
            return dr_fail(h, DISKREP_E_HIDDEN_FULL, EPROTO,
                           "WRITE of %u bytes at 0x%llx needs %llu more hidden blocks with %u "
                           "of %u in use: the primary exceeded the bound of this side's HELLO",
                           io->length, (unsigned long long)io->offset,
                           (unsigned long long)missing, h->hidden.count, h->hidden.max_blocks);
        for (b = dr_first_block(h, io->offset); b <= dr_last_block(h, io->offset, io->length);
             b++) {
            if (dr_layer_find(&h->hidden, b))
                continue;
            if (diskrep_dev_pread(h->dev, h->blockbuf, bs, b * bs))
                return dr_fail(h, DISKREP_E_IO, errno, "reading block %llu to keep it failed",
                               (unsigned long long)b);
            memcpy(dr_layer_add(&h->hidden, b), h->blockbuf, bs);
        }
    }
    if (diskrep_dev_pwrite(h->dev, msg->data, io->length, io->offset))
        return dr_fail(h, DISKREP_E_IO, errno, "%s of %u bytes at 0x%llx failed on this disk",
                       dr_type_name(msg->hdr.type), io->length, (unsigned long long)io->offset);
    h->writes_forwarded++;
    return 0;
}

static int apply_hello(struct diskrep *h, const struct dr_msg *msg)
{
    const struct dr_wire_hello *hi = &msg->u.hello;
    struct dr_wire_hello mine = {
        .disk_size = h->disk_size,
        .block_size = h->cfg.block_size,
        .max_io = h->cfg.max_io,
        .hidden_max_blocks = h->cfg.hidden_max_blocks,
    };
    uint8_t buf[sizeof(mine)];

    if (hi->disk_size != h->disk_size || hi->block_size != h->cfg.block_size)
        return dr_fail(h, DISKREP_E_BAD_GEOMETRY, EPROTO,
                       "HELLO: the primary's disk is %llu bytes in %u-byte blocks, this one "
                       "%llu in %u", (unsigned long long)hi->disk_size, hi->block_size,
                       (unsigned long long)h->disk_size, h->cfg.block_size);
    dr_put_hello(buf, &mine);
    if (dr_send(h, DR_HELLO, buf, sizeof(buf), NULL, 0))
        return dr_fail(h, DISKREP_E_PEER_CLOSED, errno, "HELLO: the answer could not be sent");
    dr_layer_clear(&h->hidden);
    dr_layer_clear(&h->active);
    h->needs_checkpoint = false;
    h->state = hi->flags & DR_HELLO_RESYNC ? DISKREP_SYNCING : DISKREP_RUNNING;
    dr_log(h, DISKREP_LOG_INFO, 0, "secondary %s", h->state == DISKREP_SYNCING ?
           "receiving a whole-disk copy" : "running");
    return 0;
}

/* FLUSH and CHECKPOINT: everything before is on the disk; a checkpoint also makes the
 * disk the guest's view. */
static int apply_barrier(struct diskrep *h, const struct dr_msg *msg)
{
    uint8_t ack[sizeof(struct dr_wire_ack)];

    if (diskrep_dev_flush(h->dev))
        return dr_fail(h, DISKREP_E_IO, errno, "%s: flushing this disk failed",
                       dr_type_name(msg->hdr.type));
    if (msg->hdr.type == DR_CHECKPOINT) {
        dr_layer_clear(&h->hidden);
        dr_layer_clear(&h->active);
        h->needs_checkpoint = false;
        h->state = DISKREP_RUNNING;
        h->checkpoints++;
    }
    dr_put_ack(ack, msg->hdr.seq);
    if (dr_send(h, DR_ACK, ack, sizeof(ack), NULL, 0))
        return dr_fail(h, DISKREP_E_PEER_CLOSED, errno, "%s: the ACK could not be sent",
                       dr_type_name(msg->hdr.type));
    return 0;
}

int dr_secondary_apply(struct diskrep *h, const struct dr_msg *msg)
{
    uint16_t type = msg->hdr.type;
    bool started = h->state == DISKREP_RUNNING || h->state == DISKREP_SYNCING;

    if (type == DR_ERROR)
        return dr_peer_error(h, msg);
    if (type == DR_HELLO && h->state == DISKREP_NONE)
        return apply_hello(h, msg);
    if ((type == DR_WRITE || type == DR_FLUSH || type == DR_CHECKPOINT) && started)
        return type == DR_WRITE ? apply_write(h, msg) : apply_barrier(h, msg);
    if (type == DR_RESYNC && h->state == DISKREP_SYNCING)
        return apply_write(h, msg);
    return dr_fail(h, DISKREP_E_BAD_STATE, EPROTO, "%s is not a message for a secondary %s",
                   dr_type_name(type), h->state == DISKREP_NONE ? "before HELLO" :
                   h->state == DISKREP_RUNNING ? "that is running" : "in this state");
}

static int write_back(struct diskrep *h, const struct dr_layer *l, const char *what)
{
    uint32_t i, bs = h->cfg.block_size;
    uint64_t block;

    for (i = 0; i < l->count; i++) {
        const uint8_t *d = dr_layer_at(l, i, &block);

        if (diskrep_dev_pwrite(h->dev, d, bs, block * bs))
            return dr_fail(h, DISKREP_E_IO, errno, "failover: writing back the %s layer's "
                           "block %llu failed", what, (unsigned long long)block);
    }
    return 0;
}

/* The primary's writes since the checkpoint are undone, then the guest's own are
 * committed over them (a block in both layers ends as the guest wrote it). */
int dr_secondary_failover(struct diskrep *h)
{
    if (write_back(h, &h->hidden, "hidden") || write_back(h, &h->active, "active"))
        return -1;
    if (diskrep_dev_flush(h->dev))
        return dr_fail(h, DISKREP_E_IO, errno, "failover: flushing the disk failed");
    dr_layer_clear(&h->hidden);
    dr_layer_clear(&h->active);
    h->needs_checkpoint = false;
    dr_detach(h);
    h->role = DISKREP_PRIMARY;
    h->state = DISKREP_FAILED_OVER;
    return 0;
}
