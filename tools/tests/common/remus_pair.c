#include "remus_pair.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "libxl_records.h"
#include "sr_stream_format.h"
#include "test.h"
#include "xhv_sim.h"
#include "xutil.h"

struct primary {
    xc_interface *xch;
    uint32_t domid;
    int fd;
    unsigned int n, want, interval_ms;
    int resumed;
    struct snapshot last;
    int have_last;
    struct remus_pair_result *keep;   /* every snapshot goes here too */
};

static int p_suspend(void *data)
{
    struct primary *p = data;

    return xhv_domain_suspend(p->xch, p->domid, 5000) == 0;
}

/* Still suspended: the state this checkpoint carries, then run again. */
static int snapshot_and_resume(struct primary *p)
{
    if (p->have_last)
        snapshot_free(&p->last);
    p->have_last = snapshot_take(p->xch, p->domid, &p->last) == 0;
    if (p->keep && p->keep->nr_snaps < REMUS_PAIR_MAX_CHECKPOINTS &&
        snapshot_take(p->xch, p->domid, &p->keep->snaps[p->keep->nr_snaps]) == 0)
        p->keep->nr_snaps++;
    p->n++;
    return xhv_domain_resume(p->xch, p->domid, 1) == 0 ? 1 : -1;
}

/* Staged, the guest was resumed (and its state kept) before the checkpoint was sent;
 * postcopy then has nothing left to do. */
static int p_resume_staged(void *data)
{
    ((struct primary *)data)->resumed = 1;
    return snapshot_and_resume(data);
}

static int p_postcopy(void *data)
{
    struct primary *p = data;
    int was = p->resumed;

    p->resumed = 0;
    return was ? 1 : snapshot_and_resume(p);
}

static int p_checkpoint(void *data)
{
    struct primary *p = data;
    struct timespec ts = { 0, (long)p->interval_ms * 1000000L };

    if (libxl__write_checkpoint_end(p->fd))
        return -1;
    if (p->n >= p->want)
        return 0;
    nanosleep(&ts, NULL);
    return 1;
}

static int s_checkpoint(void *data)
{
    int fd = *(int *)data;
    uint32_t type = 0, id = 0;

    if (libxl__read_record(fd, &type, &id) || type != LIBXL_REC_CHECKPOINT_END)
        return XGR_CHECKPOINT_FAILOVER;
    return XGR_CHECKPOINT_SUCCESS;
}

/* The thread between the primary and the secondary: forwards and keeps a copy. */
struct tee {
    int from, to;
    uint8_t *buf;
    size_t len, cap;
};

static void *tee_run(void *arg)
{
    struct tee *t = arg;
    uint8_t chunk[65536];
    ssize_t r;
    int forward = 1;

    while ((r = read(t->from, chunk, sizeof(chunk))) > 0) {
        if (t->len + (size_t)r > t->cap) {
            t->cap = (t->len + (size_t)r) * 2;
            t->buf = realloc(t->buf, t->cap);
            if (!t->buf)
                exit(2);
        }
        memcpy(t->buf + t->len, chunk, (size_t)r);
        t->len += (size_t)r;
        /* The secondary is gone (it refused the stream): keep capturing, so that the
         * primary is not blocked. */
        if (forward && write_exact(t->to, chunk, (size_t)r))
            forward = 0;
    }
    close(t->to);
    return NULL;
}

/* Count the captured records: per checkpoint after the first, bytes and pages. */
static void count(const struct tee *t, struct remus_pair_result *res)
{
    size_t off = 40;   /* image and domain headers */
    unsigned int whole = 0, after_ckpt = 0;
    uint64_t start = 0;

    while (off + 8 <= t->len) {
        uint32_t type, len, n;

        memcpy(&type, t->buf + off, 4);
        memcpy(&len, t->buf + off + 4, 4);
        if (after_ckpt) {
            /* libxl's CHECKPOINT_END: the checkpoint is whole; the next one starts. */
            after_ckpt = 0;
            whole++;
            off += 8 + ((len + 7) & ~7u);
            start = off;
            continue;
        }
        if ((type == REC_TYPE_PAGE_DATA || type == REC_TYPE_COMPRESSED_PAGE_DATA) &&
            off + 12 <= t->len && whole < REMUS_PAIR_MAX_CHECKPOINTS) {
            memcpy(&n, t->buf + off + 8, 4);
            res->pages[whole] += n;
        }
        res->page_data += type == REC_TYPE_PAGE_DATA;
        res->compressed += type == REC_TYPE_COMPRESSED_PAGE_DATA;
        res->offers += type == REC_TYPE_CHECKPOINT_COMPRESS;
        off += 8 + ((len + 7) & ~7u);
        if (type == REC_TYPE_CHECKPOINT) {
            if (whole < REMUS_PAIR_MAX_CHECKPOINTS)
                res->bytes[whole] = off - start;
            after_ckpt = 1;
        }
    }
    res->checkpoints = whole;
}

int remus_pair_restore(xc_interface *xch, int fd, uint32_t target, int back_fd)
{
    struct restore_callbacks rcb = { .checkpoint = s_checkpoint, .data = &fd };
    xen_pfn_t store, console;

    return xc_domain_restore(xch, fd, target, 1, &store, 0, 2, &console, 0, XC_STREAM_REMUS,
                             &rcb, back_fd);
}

static int run_secondary(uint32_t target, int fd, int back_fd)
{
    return remus_pair_restore(test_open(), fd, target, back_fd) == 0 ? 0 : 1;
}

int remus_pair_run(xc_interface *xch, const struct remus_pair_opts *o,
                   struct remus_pair_result *res)
{
    struct primary p = { .xch = xch, .want = o->checkpoints, .interval_ms = o->interval_ms };
    struct save_callbacks cb = { .suspend = p_suspend, .postcopy = p_postcopy,
                                 .checkpoint = p_checkpoint,
                                 .resume_staged = o->staged ? p_resume_staged : NULL,
                                 .checkpoint_compress = o->compress, .data = &p };
    int main_a[2], main_b[2], back[2] = { -1, -1 }, status = 0;
    struct tee t = { 0 };
    pthread_t th;
    uint32_t target;
    pid_t pid;

    memset(res, 0, sizeof(*res));
    res->diff = -1;
    /* A secondary that refused the stream closes it: the writers see EPIPE, no signal. */
    signal(SIGPIPE, SIG_IGN);
    p.keep = o->keep ? res : NULL;
    p.domid = test_create_guest(xch, "pair-pvm", o->program, o->pages, o->prog_arg, o->rate);
    target = test_create_target(xch, "pair-svm", o->pages, o->prog_arg);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, main_a) || socketpair(AF_UNIX, SOCK_STREAM, 0, main_b) ||
        (o->back_channel && socketpair(AF_UNIX, SOCK_STREAM, 0, back)))
        exit(2);
    pid = fork();
    if (pid == 0) {
        close(main_a[0]);
        close(main_a[1]);
        close(main_b[0]);
        if (back[0] >= 0)
            close(back[0]);
        _exit(run_secondary(target, main_b[1], o->silent_secondary ? -1 : back[1]));
    }
    close(main_b[1]);
    if (back[1] >= 0)
        close(back[1]);
    t.from = main_a[1];
    t.to = main_b[0];
    pthread_create(&th, NULL, tee_run, &t);
    p.fd = main_a[0];
    res->save_rc = xc_domain_save(xch, p.fd, p.domid, XCFLAGS_LIVE, &cb, XC_STREAM_REMUS,
                                  back[0]);
    close(p.fd);   /* the secondary fails over to the last whole checkpoint */
    pthread_join(th, NULL);
    close(main_a[1]);
    waitpid(pid, &status, 0);
    res->restore_rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (back[0] >= 0)
        close(back[0]);
    count(&t, res);
    if (p.have_last) {
        struct snapshot got;
        uint64_t first;

        if (snapshot_take(xch, target, &got) == 0) {
            res->diff = snapshot_diff(&p.last, &got, &first);
            snapshot_free(&got);
        }
        snapshot_free(&p.last);
    }
    {
        xhv_sim_status_t st = { 0 };
        struct timespec ts = { 0, 10 * 1000000L };

        xhv_domain_unpause(xch, target);
        /* The self-check runs after the resume is counted: wait for its verdict. */
        for (int tries = 0; tries < 1000 && !st.selfchecks_passed && !st.selfchecks_failed;
             tries++) {
            nanosleep(&ts, NULL);
            xhv_sim_status(xch, target, &st);
        }
        res->selfcheck_ok = st.resumes && st.selfchecks_passed && !st.selfchecks_failed;
    }
    if (o->keep) {
        res->stream = t.buf;
        res->stream_len = t.len;
    } else
        free(t.buf);
    xhv_domain_destroy(xch, target);
    xhv_domain_destroy(xch, p.domid);
    return res->save_rc == 0 && res->restore_rc == 0 ? 0 : -1;
}

void remus_pair_free(struct remus_pair_result *res)
{
    for (unsigned int i = 0; i < res->nr_snaps; i++)
        snapshot_free(&res->snaps[i]);
    res->nr_snaps = 0;
    free(res->stream);
    res->stream = NULL;
}
