/*
 * The disk replication core (diskrep.h) between a primary and a secondary in one process:
 * I/O before start, patterned writes on both sides, what a checkpoint shows the
 * secondary, its view between checkpoints, failover, the layer bounds, and a restart
 * toward a new secondary.
 */
#include "diskrep_helpers.h"

enum { BS = 512, DISK = 64 * 1024 };

static const struct diskrep_config cfg = {
    .block_size = BS,
    .max_io = 4 * BS,          /* writes longer than this go out in several messages */
    .timeout_ms = 5000,
};

static void test_io_before_start(void)
{
    diskrep_dev *dev = diskrep_dev_mem(DISK);
    diskrep *p = dr_test_new(DISKREP_PRIMARY, dev, &cfg);
    diskrep *s = dr_test_new(DISKREP_SECONDARY, dev, &cfg);
    uint8_t buf[BS] = { 0 };

    errno = 0;
    CHECK(diskrep_read(p, buf, BS, 0) == -1 && errno == ENOTCONN, "primary read before start: ENOTCONN");
    errno = 0;
    CHECK(diskrep_write(p, buf, BS, 0) == -1 && errno == ENOTCONN, "primary write before start: ENOTCONN");
    errno = 0;
    CHECK(diskrep_read(s, buf, BS, 0) == -1 && errno == ENOTCONN, "secondary read before start: ENOTCONN");
    errno = 0;
    CHECK(diskrep_write(s, buf, BS, 0) == -1 && errno == ENOTCONN, "secondary write before start: ENOTCONN");
    errno = 0;
    CHECK(diskrep_checkpoint(p) == -1 && errno == ENOTCONN, "checkpoint before start: ENOTCONN");
    CHECK(diskrep_state(p) == DISKREP_NONE && diskrep_state(s) == DISKREP_NONE, "both NONE");
    diskrep_stop(p);
    errno = 0;
    CHECK(diskrep_read(p, buf, BS, 0) == -1 && errno == ESHUTDOWN && diskrep_state(p) == DISKREP_STOPPED,
          "read after stop: ESHUTDOWN");
    CHECK(diskrep_new(DISKREP_PRIMARY, dev, &(struct diskrep_config){ .block_size = 1000 }) == NULL &&
          errno == EINVAL, "a block size that is not a power of two: EINVAL");
    diskrep_free(p);
    diskrep_free(s);
    diskrep_dev_close(dev);
}

/* Patterned writes on both sides, then checkpoints; pr stays open for the next tests. */
static void test_both_sides(struct dr_pair *pr)
{
    struct diskrep_stats st;

    CHECK(dr_write_pattern(pr->p, 16 * BS, 0, 1) == 0,
          "primary writes 16 blocks (several messages)");
    CHECK(diskrep_checkpoint(pr->p) == 0, "checkpoint");
    CHECK(dr_has_pattern(dr_read_view, pr->s, 16 * BS, 0, 1), "the secondary reads the primary's writes");
    CHECK(dr_same(dr_read_dev, pr->pdev, dr_read_dev, pr->sdev, DISK), "both disks equal");

    /* The secondary's own writes, not block-aligned. */
    CHECK(dr_write_pattern(pr->s, 3000, 4 * BS + 100, 2) == 0, "secondary writes 3000 bytes at 4*BS+100");
    CHECK(dr_has_pattern(dr_read_view, pr->s, 3000, 4 * BS + 100, 2), "the secondary reads its own writes");
    CHECK(dr_has_pattern(dr_read_view, pr->s, 4 * BS + 100, 0, 1) &&
          dr_has_pattern(dr_read_view, pr->s, 16 * BS - (4 * BS + 3100), 4 * BS + 3100, 1),
          "around them it still reads the primary's data (partial blocks kept)");
    CHECK(dr_has_pattern(dr_read_view, pr->p, 16 * BS, 0, 1), "the primary does not see them");
    CHECK(dr_same(dr_read_dev, pr->pdev, dr_read_dev, pr->sdev, DISK),
          "the secondary's disk does not have them either (active layer only)");
    diskrep_get_stats(pr->s, &st);
    CHECK(st.active_blocks == 7, "active layer: 7 blocks (%u)", st.active_blocks);

    /* The checkpoint drops them and shows the primary's disk. */
    CHECK(dr_write_pattern(pr->p, 2 * BS, 5 * BS, 3) == 0, "primary writes 2 blocks inside them");
    CHECK(diskrep_checkpoint(pr->p) == 0, "checkpoint");
    CHECK(dr_same(dr_read_view, pr->s, dr_read_dev, pr->pdev, DISK),
          "after the checkpoint the secondary's view is exactly the primary's disk");
    diskrep_get_stats(pr->s, &st);
    CHECK(st.active_blocks == 0 && st.hidden_blocks == 0 && st.checkpoints == 2,
          "both layers empty (%u, %u), 2 checkpoints", st.active_blocks, st.hidden_blocks);
}

/* Forwarded writes are on the secondary's disk after a FLUSH but not in its guest's view
 * before the checkpoint. */
static void test_between_checkpoints(struct dr_pair *pr)
{
    struct diskrep_stats st;

    CHECK(dr_write_pattern(pr->p, 8 * BS + 77, 20 * BS + 3, 4) == 0, "primary writes at 20*BS+3");
    CHECK(diskrep_flush(pr->p) == 0, "flush: the secondary has applied it");
    CHECK(dr_has_pattern(dr_read_dev, pr->sdev, 8 * BS + 77, 20 * BS + 3, 4),
          "the write is on the secondary's disk");
    CHECK(dr_same(dr_read_view, pr->s, dr_read_dev, pr->sdev, DISK) == 0, "but not in its view");
    CHECK(!dr_has_pattern(dr_read_view, pr->s, 8 * BS + 77, 20 * BS + 3, 4),
          "the secondary's guest does not read the un-checkpointed write");
    {
        uint8_t zero[10 * BS] = { 0 }, got[10 * BS];

        CHECK(diskrep_read(pr->s, got, sizeof(got), 20 * BS) == 0 && !memcmp(got, zero, sizeof(got)),
              "it reads what was there at the checkpoint (zeros)");
    }
    diskrep_get_stats(pr->s, &st);
    CHECK(st.hidden_blocks == 9, "hidden layer: the 9 original blocks kept (%u)", st.hidden_blocks);
    CHECK(diskrep_checkpoint(pr->p) == 0, "checkpoint");
    CHECK(dr_has_pattern(dr_read_view, pr->s, 8 * BS + 77, 20 * BS + 3, 4), "now it reads it");
}

/* The primary dies between checkpoints: the survivor has the last checkpoint's disk plus
 * its own writes; the forwarded writes since are undone. */
static void test_failover(struct dr_pair *pr, uint8_t *expect)
{
    uint8_t *own = malloc(DISK);

    CHECK(diskrep_read(pr->p, expect, DISK, 0) == 0, "the primary's disk at the last checkpoint");
    CHECK(dr_write_pattern(pr->s, 5 * BS, 40 * BS + 10, 5) == 0, "secondary writes at 40*BS+10");
    CHECK(dr_write_pattern(pr->p, 6 * BS, 42 * BS, 6) == 0 &&
          dr_write_pattern(pr->p, 4 * BS, 50 * BS + 1, 7) == 0, "primary writes over and beside them");
    CHECK(diskrep_flush(pr->p) == 0, "flush: those writes are on the secondary's disk");
    dr_pattern(own, 5 * BS, 40 * BS + 10, 5);
    memcpy(expect + 40 * BS + 10, own, 5 * BS);
    CHECK(dr_pair_kill_primary(pr) == 0, "the primary goes; the secondary's server sees the end");
    CHECK(diskrep_failover(pr->s) == 0, "failover");
    CHECK(diskrep_state(pr->s) == DISKREP_FAILED_OVER && diskrep_role(pr->s) == DISKREP_PRIMARY,
          "the survivor is a primary without a peer");
    CHECK(diskrep_dev_pread(pr->sdev, own, DISK, 0) == 0 && !memcmp(own, expect, DISK),
          "its disk is the last checkpoint plus its own writes, byte for byte (the primary's "
          "un-checkpointed writes undone)");
    CHECK(dr_write_pattern(pr->s, BS, 60 * BS, 8) == 0 && dr_has_pattern(dr_read_dev, pr->sdev, BS, 60 * BS, 8),
          "the survivor's writes go straight to its disk");
    free(own);
}

/* The survivor restarts replication toward a new, empty secondary. */
static void test_resync(struct dr_pair *old)
{
    struct dr_pair pr = { .pdev = old->sdev, .p = old->s };
    struct diskrep_stats st;

    pr.sdev = diskrep_dev_mem(DISK);
    CHECK(dr_pair_connect(&pr, &cfg, 1) == 0, "resync toward a new secondary");
    CHECK(diskrep_state(pr.p) == DISKREP_RUNNING && diskrep_state(pr.s) == DISKREP_RUNNING,
          "both RUNNING after the copy's checkpoint");
    CHECK(dr_same(dr_read_dev, pr.pdev, dr_read_dev, pr.sdev, DISK), "the whole disk was copied");
    CHECK(dr_write_pattern(pr.p, 3 * BS, 10 * BS, 9) == 0 && dr_write_pattern(pr.s, BS, 30 * BS, 10) == 0,
          "incremental writes on both sides");
    CHECK(diskrep_checkpoint(pr.p) == 0, "checkpoint");
    CHECK(dr_same(dr_read_dev, pr.pdev, dr_read_dev, pr.sdev, DISK) &&
          dr_same(dr_read_view, pr.s, dr_read_dev, pr.pdev, DISK), "both disks and the view equal");
    diskrep_get_stats(pr.s, &st);
    CHECK(st.writes_forwarded == DISK / cfg.max_io + 1, "the copy and the write went as %llu messages",
          (unsigned long long)st.writes_forwarded);
    dr_pair_disconnect(&pr);
    diskrep_dev_close(pr.sdev);
}

/* A layer that fills: ENOSPC, named, nothing written, needs_checkpoint until one. */
static void test_layer_full(void)
{
    struct diskrep_config small = cfg;
    struct dr_pair pr;
    const char *msg;
    int code;

    small.active_max_blocks = 4;
    small.hidden_max_blocks = 4;
    CHECK(dr_pair_open(&pr, DISK, &small) == 0, "a pair with 4-block layers");
    CHECK(dr_write_pattern(pr.s, 4 * BS, 0, 1) == 0, "secondary fills its active layer");
    errno = 0;
    CHECK(dr_write_pattern(pr.s, 2 * BS, 3 * BS, 2) == -1 && errno == ENOSPC, "one more block: ENOSPC");
    code = diskrep_last_error(pr.s, &msg);
    CHECK(code == DISKREP_E_LAYER_FULL && strstr(msg, "active layer full"), "named %s: %s",
          diskrep_error_name(code), msg);
    CHECK(diskrep_needs_checkpoint(pr.s), "the secondary needs a checkpoint");
    CHECK(dr_has_pattern(dr_read_view, pr.s, 4 * BS, 0, 1), "the refused write changed nothing");
    CHECK(dr_write_pattern(pr.s, BS, 2 * BS, 3) == 0, "a block it holds can still be rewritten");

    CHECK(dr_write_pattern(pr.p, 4 * BS, 8 * BS, 4) == 0, "primary writes 4 blocks");
    errno = 0;
    CHECK(dr_write_pattern(pr.p, BS, 12 * BS, 5) == -1 && errno == ENOSPC,
          "a fifth would overflow the secondary's hidden layer: ENOSPC");
    code = diskrep_last_error(pr.p, &msg);
    CHECK(code == DISKREP_E_LAYER_FULL && strstr(msg, "hidden layer is full") &&
          diskrep_needs_checkpoint(pr.p), "named %s: %s; the primary needs a checkpoint",
          diskrep_error_name(code), msg);
    CHECK(dr_has_pattern(dr_read_view, pr.p, BS, 12 * BS, 5) == 0, "and did not write it");
    CHECK(diskrep_checkpoint(pr.p) == 0, "the forced checkpoint");
    CHECK(!diskrep_needs_checkpoint(pr.p) && !diskrep_needs_checkpoint(pr.s), "no longer needed");
    CHECK(dr_write_pattern(pr.p, BS, 12 * BS, 5) == 0 && dr_write_pattern(pr.s, 4 * BS, 20 * BS, 6) == 0,
          "the retried writes go through");
    CHECK(diskrep_checkpoint(pr.p) == 0 && dr_same(dr_read_view, pr.s, dr_read_dev, pr.pdev, DISK),
          "and replicate");
    dr_pair_disconnect(&pr);
    diskrep_free(pr.p);
    diskrep_dev_close(pr.pdev);
    diskrep_dev_close(pr.sdev);
}

/* The fd backend under the same flow. */
static void test_fd_backend(void)
{
    uint8_t *zero = calloc(1, DISK);
    int pfd = test_bytes_fd(zero, DISK), sfd = test_bytes_fd(zero, DISK);
    struct dr_pair pr;

    memset(&pr, 0, sizeof(pr));
    pr.pdev = diskrep_dev_fd(pfd, DISK);
    pr.sdev = diskrep_dev_fd(sfd, DISK);
    pr.p = dr_test_new(DISKREP_PRIMARY, pr.pdev, &cfg);
    CHECK(dr_pair_connect(&pr, &cfg, 0) == 0, "a pair on files");
    CHECK(dr_write_pattern(pr.p, 9 * BS, 3 * BS + 5, 11) == 0 && dr_write_pattern(pr.s, BS, 0, 12) == 0 &&
          diskrep_checkpoint(pr.p) == 0, "writes and a checkpoint");
    CHECK(dr_same(dr_read_dev, pr.pdev, dr_read_dev, pr.sdev, DISK) &&
          dr_has_pattern(dr_read_dev, pr.sdev, 9 * BS, 3 * BS + 5, 11), "the files are equal");
    dr_pair_disconnect(&pr);
    diskrep_free(pr.p);
    diskrep_dev_close(pr.pdev);
    diskrep_dev_close(pr.sdev);
    close(pfd);
    close(sfd);
    free(zero);
}

/* The secondary's guest and its server at once: while the primary's writes are applied
 * by the serving thread, the secondary's view must stay the last checkpoint plus its own
 * writes, and after every checkpoint it must be the primary's disk. */
static void test_concurrent(void)
{
    enum { ROUNDS = 300, EVERY = 10 };
    uint8_t *model = malloc(DISK), *got = malloc(DISK), block[BS];
    uint64_t prng = 0x1234;
    struct dr_pair pr;
    int bad_view = 0, bad_checkpoint = 0, failed = 0;

    CHECK(dr_pair_open(&pr, DISK, &cfg) == 0, "a pair for the concurrent run");
    memset(model, 0, DISK);
    for (int round = 1; round <= ROUNDS; round++) {
        uint64_t pb, sb, off, len;

        prng = prng * 6364136223846793005ULL + 1442695040888963407ULL;
        pb = (prng >> 20) % (DISK / BS);
        sb = (prng >> 40) % (DISK / BS);
        off = (prng >> 8) % DISK;
        len = 1 + (prng >> 30) % (DISK - off);
        failed |= dr_write_pattern(pr.p, 2 * BS - (pb == DISK / BS - 1) * BS, pb * BS, (unsigned)round);
        memset(block, round, BS);
        failed |= diskrep_write(pr.s, block, BS, sb * BS);
        memcpy(model + sb * BS, block, BS);
        /* Every other round the primary's write is surely applied before the read. */
        if (round % 2)
            failed |= diskrep_flush(pr.p);
        failed |= diskrep_read(pr.s, got, len, off);
        bad_view += memcmp(got, model + off, len) != 0;
        if (round % EVERY == 0) {
            failed |= diskrep_checkpoint(pr.p);
            failed |= diskrep_read(pr.s, got, DISK, 0) | diskrep_read(pr.p, model, DISK, 0);
            bad_checkpoint += memcmp(got, model, DISK) != 0;
        }
    }
    CHECK(!failed, "%d rounds of writes on both sides, a flush every 2, a checkpoint every %d",
          ROUNDS, EVERY);
    CHECK(bad_view == 0, "the secondary's view never showed an un-checkpointed write (%d bad reads)",
          bad_view);
    CHECK(bad_checkpoint == 0, "after each checkpoint it was the primary's disk (%d bad)", bad_checkpoint);
    dr_pair_disconnect(&pr);
    diskrep_free(pr.p);
    diskrep_dev_close(pr.pdev);
    diskrep_dev_close(pr.sdev);
    free(model);
    free(got);
}

int main(void)
{
    struct dr_pair pr;
    uint8_t *expect = malloc(DISK);

    test_io_before_start();
    if (dr_pair_open(&pr, DISK, &cfg)) {
        printf("Bail out! a primary and a secondary: %s\n", strerror(errno));
        return 2;
    }
    CHECK(diskrep_state(pr.p) == DISKREP_RUNNING && diskrep_state(pr.s) == DISKREP_RUNNING, "both RUNNING");
    test_both_sides(&pr);
    test_between_checkpoints(&pr);
    test_failover(&pr, expect);
    test_resync(&pr);
    close(pr.sv[1]);
    diskrep_free(pr.p);
    diskrep_free(pr.s);
    diskrep_dev_close(pr.pdev);
    diskrep_dev_close(pr.sdev);
    test_layer_full();
    test_fd_backend();
    test_concurrent();
    free(expect);
    return test_done();
}
