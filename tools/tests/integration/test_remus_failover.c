/*
 * Remus failover at every protocol step.  A checkpointed stream of a running guest is
 * recorded together with a snapshot of the primary at each checkpoint.  The stream is
 * then cut at every record boundary, inside every record header and inside every
 * record body, and each prefix is restored as if the primary had died there.  The
 * restored domain must equal the snapshot of the last whole checkpoint in the prefix
 * (memory and context), or, before the first whole checkpoint, the restore must fail
 * with an error and not pretend success.  The primary runs once sending each
 * checkpoint while suspended and once staging it (copied while suspended, sent after
 * the guest resumed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "libxl_records.h"
#include "sr_stream_format.h"
#include "xhv_sim.h"
#include "xutil.h"
#include "test.h"

#define PAGES       1024
#define CHECKPOINTS 4

struct primary {
    xc_interface *xch;
    uint32_t domid;
    int fd;
    unsigned int n;
    int resumed;                  /* by resume_staged, before the checkpoint was sent */
    unsigned int staged;
    struct snapshot snaps[CHECKPOINTS];
};

static int p_suspend(void *data)
{
    struct primary *p = data;

    return xhv_domain_suspend(p->xch, p->domid, 5000) == 0;
}

/* Still suspended: a snapshot of exactly the state the checkpoint carries, then run. */
static int snapshot_and_resume(struct primary *p)
{
    if (p->n < CHECKPOINTS && snapshot_take(p->xch, p->domid, &p->snaps[p->n]))
        return -1;
    p->n++;
    return xhv_domain_resume(p->xch, p->domid, 1) == 0 ? 1 : -1;
}

static int p_resume_staged(void *data)
{
    struct primary *p = data;

    p->resumed = 1;
    p->staged++;
    return snapshot_and_resume(p);
}

static int p_postcopy(void *data)
{
    struct primary *p = data;

    if (p->resumed) {
        p->resumed = 0;
        return 1;
    }
    return snapshot_and_resume(p);
}

static int p_checkpoint(void *data)
{
    struct primary *p = data;
    struct timespec ts = { 0, 20 * 1000000L };

    if (libxl__write_checkpoint_end(p->fd))
        return -1;
    if (p->n >= CHECKPOINTS)
        return 0;   /* stop gracefully */
    nanosleep(&ts, NULL);
    return 1;
}

struct secondary {
    int fd;
};

static int s_checkpoint(void *data)
{
    struct secondary *s = data;
    uint32_t type = 0, id = 0;

    if (libxl__read_record(s->fd, &type, &id) || type != LIBXL_REC_CHECKPOINT_END)
        return XGR_CHECKPOINT_FAILOVER;
    return XGR_CHECKPOINT_SUCCESS;
}

/* A cut point and how many whole checkpoints precede it. */
struct cut {
    off_t offset;
    unsigned int whole;
    const char *where;
};

static void run(xc_interface *xch, int staged)
{
    const char *mode = staged ? "staged" : "sent while suspended";
    struct primary p = { .xch = xch };
    struct save_callbacks cb = { .suspend = p_suspend, .postcopy = p_postcopy,
                                 .checkpoint = p_checkpoint,
                                 .resume_staged = staged ? p_resume_staged : NULL, .data = &p };
    char path[512], cutpath[512];
    struct cut *cuts = NULL;
    size_t ncuts = 0, i;
    unsigned char *stream;
    struct stat sb;
    off_t off;
    unsigned int whole = 0, failures = 0, checked = 0, expect_libxl = 0;
    int rc;

    p.domid = test_create_guest(xch, "remus-pvm", "incrementer", PAGES, 5, 20000);
    snprintf(path, sizeof(path), "%s/remus.stream", test_sim_dir());
    p.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    rc = xc_domain_save(xch, p.fd, p.domid, XCFLAGS_LIVE, &cb, XC_STREAM_REMUS, -1);
    CHECK(rc == 0 && p.n == CHECKPOINTS, "%s: Remus primary wrote %u checkpoints (rc %d)", mode,
          p.n, rc);
    CHECK(p.staged == (staged ? CHECKPOINTS - 1 : 0),
          "%s: %u checkpoints sent after the guest resumed", mode, p.staged);
    /* Enumerate records: libxc records, and after each CHECKPOINT one libxl record. */
    fstat(p.fd, &sb);
    stream = malloc((size_t)sb.st_size);
    if (pread(p.fd, stream, (size_t)sb.st_size, 0) != sb.st_size)
        exit(2);
    cuts = calloc(4096, sizeof(*cuts));
    off = 40;   /* image + domain header */
    cuts[ncuts++] = (struct cut){ 0, 0, "start" };
    cuts[ncuts++] = (struct cut){ 20, 0, "inside the headers" };
    while (off + 8 <= sb.st_size && ncuts + 3 < 4096) {
        uint32_t type, len;

        memcpy(&type, stream + off, 4);
        memcpy(&len, stream + off + 4, 4);
        cuts[ncuts++] = (struct cut){ off, whole, "record boundary" };
        cuts[ncuts++] = (struct cut){ off + 4, whole, "inside a record header" };
        if (len)
            cuts[ncuts++] = (struct cut){ off + 8 + len / 2, whole, "inside a record body" };
        if (expect_libxl) {
            whole++;            /* CHECKPOINT_END complete: a whole checkpoint */
            expect_libxl = 0;
        } else if (type == REC_TYPE_CHECKPOINT)
            expect_libxl = 1;   /* libxl's CHECKPOINT_END follows */
        off += 8 + ((len + 7) & ~7u);
    }
    cuts[ncuts++] = (struct cut){ sb.st_size, whole, "end of stream" };
    CHECK(whole == CHECKPOINTS, "%s: parsed %u whole checkpoints in the recorded stream", mode, whole);

    snprintf(cutpath, sizeof(cutpath), "%s/remus-cut.stream", test_sim_dir());
    for (i = 0; i < ncuts; i++) {
        struct secondary s;
        struct restore_callbacks rcb = { .checkpoint = s_checkpoint, .data = &s };
        xen_pfn_t store, console;
        uint32_t target;
        int fd = open(cutpath, O_RDWR | O_CREAT | O_TRUNC, 0600);

        if (write_exact(fd, stream, (size_t)cuts[i].offset))
            exit(2);
        lseek(fd, 0, SEEK_SET);
        s.fd = fd;
        target = test_create_target(xch, "remus-svm", PAGES, 6);
        rc = xc_domain_restore(xch, fd, target, 1, &store, 0, 2, &console, 0, XC_STREAM_REMUS,
                               &rcb, -1);
        close(fd);
        checked++;
        if (cuts[i].whole == 0) {
            if (rc != -1) {
                failures++;
                printf("# cut at %lld (%s): restore claimed success with no whole checkpoint\n",
                       (long long)cuts[i].offset, cuts[i].where);
            }
        } else {
            struct snapshot got;
            uint64_t first;
            long diff = -1;

            if (rc == 0 && snapshot_take(xch, target, &got) == 0) {
                diff = snapshot_diff(&p.snaps[cuts[i].whole - 1], &got, &first);
                snapshot_free(&got);
            }
            if (diff != 0) {
                failures++;
                printf("# cut at %lld (%s): rc %d, differs from checkpoint %u in %ld pages\n",
                       (long long)cuts[i].offset, cuts[i].where, rc, cuts[i].whole, diff);
            }
        }
        xhv_domain_destroy(xch, target);
    }
    CHECK(checked > 3 * CHECKPOINTS, "%s: restored %u truncated streams", mode, checked);
    CHECK(failures == 0, "%s: every failover lands on the last whole checkpoint (%u wrong)", mode, failures);

    /* The guest restored at the last checkpoint runs and passes its own self-check. */
    {
        struct secondary s;
        struct restore_callbacks rcb = { .checkpoint = s_checkpoint, .data = &s };
        xen_pfn_t store, console;
        xhv_sim_status_t st = { 0 };
        uint32_t target = test_create_target(xch, "remus-final", PAGES, 6);
        struct timespec ts = { 0, 10 * 1000000L };
        int tries;

        lseek(p.fd, 0, SEEK_SET);
        s.fd = p.fd;
        rc = xc_domain_restore(xch, p.fd, target, 1, &store, 0, 2, &console, 0,
                               XC_STREAM_REMUS, &rcb, -1);
        CHECK(rc == 0, "%s: failover restore of the whole stream succeeds", mode);
        xhv_domain_unpause(xch, target);
        for (tries = 0; tries < 300 && !st.resumes; tries++) {
            nanosleep(&ts, NULL);
            xhv_sim_status(xch, target, &st);
        }
        CHECK(st.resumes && st.selfchecks_passed && !st.selfchecks_failed,
              "%s: the failed-over guest passes its self-check (passed %llu failed %llu)",
              mode, (unsigned long long)st.selfchecks_passed, (unsigned long long)st.selfchecks_failed);
        xhv_domain_destroy(xch, target);
    }
    for (i = 0; i < CHECKPOINTS; i++)
        snapshot_free(&p.snaps[i]);
    free(stream);
    free(cuts);
    close(p.fd);
    xhv_domain_destroy(xch, p.domid);
}

int main(void)
{
    xc_interface *xch = test_open();

    run(xch, 0);
    run(xch, 1);
    xhv_close(xch);
    return test_done();
}
