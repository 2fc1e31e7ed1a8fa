/*
 * Conformance of checkpointed libxc streams with Debian's verify-stream-v2.  The
 * verifier expects an END record, which Remus and COLO streams never carry, so it
 * must accept every record we wrote and stop with "Stream truncated" exactly at the
 * end of the captured stream (docs/stream-format.md).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "sr_stream_format.h"
#include "xutil.h"
#include "test.h"

#define PAGES 1024
#define CHECKPOINTS 3

struct primary {
    xc_interface *xch;
    uint32_t domid;
    unsigned int n;
};

static int p_suspend(void *data)
{
    struct primary *p = data;

    return xhv_domain_suspend(p->xch, p->domid, 5000) == 0;
}

static int p_postcopy(void *data)
{
    struct primary *p = data;

    return xhv_domain_resume(p->xch, p->domid, 1) == 0 ? 1 : -1;
}

/* Remus: checkpoint after postcopy; COLO: before it.  Either way, count and stop. */
static int p_checkpoint_remus(void *data)
{
    struct primary *p = data;

    return ++p->n < CHECKPOINTS;
}

static int p_checkpoint_colo(void *data)
{
    (void)data;
    return 1;
}

static int p_wait_checkpoint(void *data)
{
    struct primary *p = data;

    return ++p->n < CHECKPOINTS;
}

static unsigned int count_records(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat sb;
    unsigned char *buf;
    off_t off = 40;
    unsigned int n = 0;

    fstat(fd, &sb);
    buf = malloc((size_t)sb.st_size);
    if (read(fd, buf, (size_t)sb.st_size) != sb.st_size)
        exit(2);
    close(fd);
    while (off + 8 <= sb.st_size) {
        uint32_t len;

        memcpy(&len, buf + off + 4, 4);
        off += 8 + ((len + 7) & ~7u);
        n++;
    }
    free(buf);
    return off == sb.st_size ? n : 0;
}

/* Records the verifier reports: one line per record, except that runs of PAGE_DATA
 * are reported as "Squashed N Page Data records together". */
static unsigned int count_verified(const char *out)
{
    unsigned int n = 0, squashed;
    const char *p;

    for (p = out; (p = strstr(p, "Libxc Record:")); p++)
        n++;
    for (p = out; (p = strstr(p, "Squashed ")); p++)
        if (sscanf(p, "Squashed %u Page Data records", &squashed) == 1)
            n += squashed;
    return n;
}

static void check_stream(xc_interface *xch, xc_stream_type_t type, const char *label)
{
    struct primary p = { .xch = xch };
    struct save_callbacks cb = { .suspend = p_suspend, .postcopy = p_postcopy, .data = &p };
    char path[512];
    static char out[1 << 20];
    int fd, back[2] = { -1, -1 }, rc, i;
    unsigned int records, listed;

    p.domid = test_create_guest(xch, label, "incrementer", PAGES, 3, 20000);
    snprintf(path, sizeof(path), "%s/%s.stream", test_sim_dir(), label);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (type == XC_STREAM_COLO) {
        /* A secondary that dirtied nothing: one empty dirty pfn list per later checkpoint. */
        struct sr_rhdr empty = { REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, 0 };

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, back))
            exit(2);
        for (i = 1; i < CHECKPOINTS; i++)
            if (write_exact(back[1], &empty, sizeof(empty)))
                exit(2);
        cb.checkpoint = p_checkpoint_colo;
        cb.wait_checkpoint = p_wait_checkpoint;
    } else
        cb.checkpoint = p_checkpoint_remus;
    rc = xc_domain_save(xch, fd, p.domid, XCFLAGS_LIVE, &cb, type, back[0]);
    close(fd);
    CHECK(rc == 0 && p.n == CHECKPOINTS, "%s save wrote %u checkpoints", label, p.n);
    records = count_records(path);
    CHECK(records > 3 * CHECKPOINTS, "%s stream holds %u well-framed records", label, records);

    rc = run_verifier("libxc", path, out, sizeof(out));
    listed = count_verified(out);
    CHECK(listed == records, "verify-stream-v2 accepted all %u records of the %s stream (%u)",
          records, label, listed);
    CHECK(rc != 0 && strstr(out, "Stream truncated") &&
              !strstr(out, "RecordError") && !strstr(out, "StreamError:"),
          "verify-stream-v2 stops only with 'Stream truncated' at the end (rc %d)", rc);
    if (listed != records)
        printf("# verifier output tail:\n%s\n", out + (strlen(out) > 2000 ? strlen(out) - 2000 : 0));
    if (back[0] >= 0) {
        close(back[0]);
        close(back[1]);
    }
    xhv_domain_destroy(xch, p.domid);
}

int main(void)
{
    xc_interface *xch = test_open();

    check_stream(xch, XC_STREAM_REMUS, "remus");
    check_stream(xch, XC_STREAM_COLO, "colo");
    xhv_close(xch);
    return test_done();
}
