/*
 * The save callout (see libxl_save_callout.h and docs/libxl-and-xl.md).
 */
#include "libxl_save_callout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libxl_save_msgs.h"
#include "xutil.h"

#ifndef LIBXL_SAVE_HELPER_DEFAULT
#define LIBXL_SAVE_HELPER_DEFAULT "/usr/lib/xen-colo/bin/libxl-save-helper"
#endif

volatile int libxl__save_helper_abort_requested;

static void seterr(struct save_helper_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void seterr(struct save_helper_result *res, const char *fmt, ...)
{
    va_list ap;

    if (res->err[0])
        return;   /* keep the first reason */
    va_start(ap, fmt);
    vsnprintf(res->err, sizeof(res->err), fmt, ap);
    va_end(ap);
}

/*
 * In the child, before exec: an fd the helper must inherit.  fds 0 and 1 are about to
 * become the message pipes, so an fd <= 2 is first dup'd above 2; then close-on-exec is
 * cleared.  Used for the stream fd and the back-channel fd alike.  Returns the fd the
 * helper gets (to put on its command line), -1 on failure.
 */
static int helper_inherit_fd(int fd)
{
    int flags;

    if (fd <= 2) {
        fd = fcntl(fd, F_DUPFD, 3);
        if (fd < 0)
            return -1;
    }
    flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return -1;
    return fd;
}

static void child_exec(const struct save_helper_params *p, int req_rd, int msg_wr)
    __attribute__((noreturn));
static void child_exec(const struct save_helper_params *p, int req_rd, int msg_wr)
{
    const char *path = p->helper_path ? p->helper_path : LIBXL_SAVE_HELPER_DEFAULT;
    char a[9][24];
    char *argv[12];
    int io, back = -1, n = 0;

    /* The pipe ends must not be clobbered by the dup2s below either. */
    req_rd = fcntl(req_rd, F_DUPFD_CLOEXEC, 3);
    msg_wr = fcntl(msg_wr, F_DUPFD_CLOEXEC, 3);
    io = helper_inherit_fd(p->io_fd);
    if (p->back_fd >= 0)
        back = helper_inherit_fd(p->back_fd);
    if (req_rd < 0 || msg_wr < 0 || io < 0 || (p->back_fd >= 0 && back < 0) ||
        dup2(req_rd, 0) < 0 || dup2(msg_wr, 1) < 0) {
        fprintf(stderr, "libxl: preparing the save helper's fds: %s\n", strerror(errno));
        _exit(126);
    }
    argv[n++] = (char *)path;
    if (!p->restore) {
        argv[n++] = "--save-domain";
        snprintf(a[0], sizeof(a[0]), "%d", io);
        snprintf(a[1], sizeof(a[1]), "%d", back);
        snprintf(a[2], sizeof(a[2]), "%u", p->domid);
        snprintf(a[3], sizeof(a[3]), "%u", p->xcflags);
        snprintf(a[4], sizeof(a[4]), "%u", p->cbflags);
        snprintf(a[5], sizeof(a[5]), "%d", p->stream_type);
        for (int i = 0; i < 6; i++)
            argv[n++] = a[i];
    } else {
        argv[n++] = "--restore-domain";
        snprintf(a[0], sizeof(a[0]), "%d", io);
        snprintf(a[1], sizeof(a[1]), "%d", back);
        snprintf(a[2], sizeof(a[2]), "%u", p->domid);
        snprintf(a[3], sizeof(a[3]), "%u", p->store_evtchn);
        snprintf(a[4], sizeof(a[4]), "%u", p->store_domid);
        snprintf(a[5], sizeof(a[5]), "%u", p->console_evtchn);
        snprintf(a[6], sizeof(a[6]), "%u", p->console_domid);
        snprintf(a[7], sizeof(a[7]), "%u", p->cbflags);
        snprintf(a[8], sizeof(a[8]), "%d", p->stream_type);
        for (int i = 0; i < 9; i++)
            argv[n++] = a[i];
    }
    argv[n] = NULL;
    signal(SIGPIPE, SIG_DFL);
    /* A Ctrl-C meant for xl must not kill the helper: libxl decides how to stop. */
    signal(SIGINT, SIG_IGN);
    execv(path, argv);
    fprintf(stderr, "libxl: cannot run the save helper %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* Abort: SIGTERM, then SIGKILL if it is still there after a grace period. */
static void abort_helper(pid_t pid, struct save_helper_result *res)
{
    uint64_t deadline = clock_now_ms() + 100;

    /* A helper that is already dying (its pipe closed) is not aborted by us: give it a
     * moment to become a zombie so that its own exit status is what gets reported. */
    while (clock_now_ms() < deadline) {
        struct timespec ts = { 0, 5 * 1000000L };

        if (waitpid(pid, &res->wait_status, WNOHANG) == pid)
            return;
        nanosleep(&ts, NULL);
    }
    res->aborted = 1;
    kill(pid, SIGTERM);
    deadline = clock_now_ms() + 2000;
    while (clock_now_ms() < deadline) {
        struct timespec ts = { 0, 20 * 1000000L };

        if (waitpid(pid, &res->wait_status, WNOHANG) == pid)
            return;
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &res->wait_status, 0) < 0 && errno == EINTR)
        ;
}

enum { RD_OK, RD_EOF, RD_ERR, RD_TIMEOUT, RD_ABORT };

/* Bytes the process has read so far (/proc/PID/io rchar); -1 if unknown. */
static long long proc_rchar(pid_t pid)
{
    char path[64], line[128];
    long long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "rchar: %lld", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* Watches a restore helper's reading: a stream that stalls means the primary is lost. */
struct stall_watch {
    pid_t pid;
    unsigned int timeout_ms;
    long long last_rchar;
    uint64_t last_change;
    struct save_helper_result *res;
};

static void stall_check(struct stall_watch *w)
{
    long long r;
    uint64_t now;

    if (!w || !w->timeout_ms || w->res->stalled)
        return;
    r = proc_rchar(w->pid);
    now = clock_now_ms();
    if (r != w->last_rchar || !w->last_change) {
        w->last_rchar = r;
        w->last_change = now;
        return;
    }
    if (now - w->last_change >= w->timeout_ms) {
        w->res->stalled = 1;
        kill(w->pid, SIGTERM);   /* the helper fails over (see libxl-save-helper.c) */
    }
}

/* Read exactly len bytes from the helper, honouring the silence timeout and aborts. */
static int helper_read(int fd, void *buf, size_t len, unsigned int silence_ms, int at_boundary,
                       struct stall_watch *watch)
{
    size_t off = 0;
    uint64_t deadline = silence_ms ? clock_now_ms() + silence_ms : 0;

    while (off < len) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        int r = poll(&pfd, 1, 200);
        ssize_t n;

        if (libxl__save_helper_abort_requested)
            return RD_ABORT;
        if (r < 0 && errno != EINTR)
            return RD_ERR;
        if (r <= 0) {
            if (deadline && clock_now_ms() > deadline)
                return RD_TIMEOUT;
            stall_check(watch);
            continue;
        }
        n = read(fd, (char *)buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return RD_ERR;
        if (n == 0)
            return off == 0 && at_boundary ? RD_EOF : RD_ERR;
        off += (size_t)n;
        if (silence_ms)
            deadline = clock_now_ms() + silence_ms;
    }
    return RD_OK;
}

static int reply(int fd, int v, struct save_helper_result *res)
{
    size_t off = 0;

    while (off < sizeof(v)) {
        ssize_t n = write(fd, (char *)&v + off, sizeof(v) - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            seterr(res, "libxl-save-helper went away (writing a reply: %s)", strerror(errno));
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

int libxl__save_helper_dispatch(const struct save_helper_params *p,
                                const struct save_helper_hooks *h, const uint8_t *body,
                                size_t len, int reply_fd, struct save_helper_result *res)
{
    struct shm_reader r = { body, body + len, 0 };
    uint16_t msgnum = 0;
    unsigned int allowed_cb = p->restore ? SHM_RESTORE_CBFLAGS : SHM_SAVE_CBFLAGS;
    int v = 0, want_reply = 0;

    if (len < 2) {
        seterr(res, "libxl-save-helper sent a malformed message (%zu bytes, no message number)",
               len);
        return -1;
    }
    memcpy(&msgnum, body, 2);
    r.p += 2;
    if (msgnum < 1 || msgnum > SHM_MAX) {
        seterr(res, "libxl-save-helper sent a malformed message: unknown message number %u",
               msgnum);
        return -1;
    }
    if (((msgnum >= SHM_SUSPEND && msgnum <= SHM_RESTORE_RESULTS) ||
         msgnum == SHM_RESUME_STAGED) &&
        (!(allowed_cb & SHM_CBFLAG(msgnum)) || !(p->cbflags & SHM_CBFLAG(msgnum)))) {
        seterr(res, "libxl-save-helper sent a malformed message: %s (%u), a callback libxl "
               "did not install for this %s", shm_name(msgnum), msgnum,
               p->restore ? "restore" : "save");
        return -1;
    }
    if (res->complete_seen) {
        seterr(res, "libxl-save-helper sent a malformed message: %s after complete",
               shm_name(msgnum));
        return -1;
    }
    switch (msgnum) {
    case SHM_LOG: {
        uint32_t level = shm_get_u32(&r), errnoval = shm_get_u32(&r);
        const char *context = shm_get_string(&r), *msg = shm_get_string(&r);

        if (!r.bad && r.p == r.end && h->log)
            h->log(shm_level_from_xtl(level), (uint32_t)shm_errno_from_xtl(errnoval), context,
                   msg, h->data);
        break;
    }
    case SHM_PROGRESS: {
        const char *context = shm_get_string(&r), *what = shm_get_string(&r);
        unsigned long done = shm_get_ulong(&r), total = shm_get_ulong(&r);

        if (!r.bad && r.p == r.end && h->progress)
            h->progress(context, what, done, total, h->data);
        break;
    }
    case SHM_SUSPEND:
    case SHM_POSTCOPY:
    case SHM_CHECKPOINT:
    case SHM_WAIT_CHECKPOINT:
    case SHM_RESUME_STAGED: {
        int (*fn)(void *) = msgnum == SHM_SUSPEND ? h->suspend
                            : msgnum == SHM_POSTCOPY ? h->postcopy
                            : msgnum == SHM_CHECKPOINT ? h->checkpoint
                            : msgnum == SHM_WAIT_CHECKPOINT ? h->wait_checkpoint
                                                            : h->resume_staged;

        if (r.p != r.end)
            break;
        v = fn ? fn(h->data) : 0;
        want_reply = 1;
        break;
    }
    case SHM_SWITCH_QEMU_LOGDIRTY: {
        uint32_t domid = shm_get_u32(&r), enable = shm_get_u32(&r);

        if (r.bad || r.p != r.end)
            break;
        v = h->switch_qemu_logdirty ? h->switch_qemu_logdirty(domid, enable, h->data) : 0;
        want_reply = 1;
        break;
    }
    case SHM_STATIC_DATA_DONE: {
        uint32_t missing = shm_get_u32(&r);

        if (r.bad || r.p != r.end)
            break;
        v = h->static_data_done ? h->static_data_done(missing, h->data) : 0;
        want_reply = 1;
        break;
    }
    case SHM_RESTORE_RESULTS: {
        /* Taken into the result only once the whole message parsed. */
        uint64_t store_gfn = shm_get_u64(&r), console_gfn = shm_get_u64(&r);

        if (r.bad || r.p != r.end)
            break;
        res->store_gfn = store_gfn;
        res->console_gfn = console_gfn;
        res->results_seen = 1;
        if (h->restore_results)
            h->restore_results(res->store_gfn, res->console_gfn, h->data);
        break;
    }
    case SHM_COMPLETE: {
        int retval = shm_get_int(&r), errnoval = shm_get_int(&r);

        if (r.bad || r.p != r.end)
            break;
        res->retval = retval;
        res->errnoval = errnoval;
        res->complete_seen = 1;
        want_reply = 1;
        v = 0;
        break;
    }
    }
    if (r.bad || r.p != r.end) {
        seterr(res, "libxl-save-helper sent a malformed message: %s (%u) with %zu bytes of "
               "arguments that do not parse", shm_name(msgnum), msgnum, len - 2);
        return -1;
    }
    if (want_reply)
        return reply(reply_fd, v, res);
    return 0;
}

int libxl__save_helper_run(const struct save_helper_params *p, const struct save_helper_hooks *h,
                           struct save_helper_result *res)
{
    int req[2] = { -1, -1 }, msg[2] = { -1, -1 };
    void (*old_pipe)(int);
    uint8_t *body = NULL;
    pid_t pid;
    int failed = 0;

    memset(res, 0, sizeof(*res));
    if (pipe2(req, O_CLOEXEC) || pipe2(msg, O_CLOEXEC)) {
        seterr(res, "creating the save helper's pipes: %s", strerror(errno));
        goto out;
    }
    body = malloc(SHM_MSG_MAX);
    if (!body)
        goto out;
    old_pipe = signal(SIGPIPE, SIG_IGN);
    pid = fork();
    if (pid < 0) {
        seterr(res, "fork: %s", strerror(errno));
        signal(SIGPIPE, old_pipe);
        goto out;
    }
    if (pid == 0)
        child_exec(p, req[0], msg[1]);
    res->started = 1;
    close(req[0]);
    close(msg[1]);
    req[0] = msg[1] = -1;

    struct stall_watch watch = { .pid = pid, .timeout_ms = p->stall_timeout_ms, .res = res };

    for (;;) {
        uint16_t len;
        int rd = helper_read(msg[0], &len, 2, p->silence_timeout_ms, 1, &watch);

        if (rd == RD_OK)
            rd = helper_read(msg[0], body, len, p->silence_timeout_ms, 0, &watch);
        if (rd == RD_EOF)
            break;
        if (rd == RD_TIMEOUT) {
            seterr(res, "libxl-save-helper (pid %d) hung: no message for %u ms; aborted",
                   (int)pid, p->silence_timeout_ms);
            failed = 1;
            break;
        }
        if (rd == RD_ABORT) {
            seterr(res, "aborted on request");
            failed = 1;
            break;
        }
        if (rd != RD_OK) {
            seterr(res, "libxl-save-helper sent a truncated message (its output ended inside "
                   "a message)");
            failed = 1;
            break;
        }
        if (libxl__save_helper_dispatch(p, h, body, len, req[1], res)) {
            failed = 1;
            break;
        }
        watch.last_change = 0;   /* time spent in our callbacks is not the stream's */
    }
    if (failed)
        abort_helper(pid, res);
    else
        while (waitpid(pid, &res->wait_status, 0) < 0 && errno == EINTR)
            ;
    signal(SIGPIPE, old_pipe);

    if (!res->aborted && (WIFSIGNALED(res->wait_status) || WEXITSTATUS(res->wait_status))) {
        /* It died by itself: that is the news; what we noticed first is the detail. */
        char detail[sizeof(res->err)];

        snprintf(detail, sizeof(detail), "%s", res->err);
        res->err[0] = 0;
        if (WIFSIGNALED(res->wait_status))
            seterr(res, "libxl-save-helper (pid %d) was killed by signal %d (%s)%s%s", (int)pid,
                   WTERMSIG(res->wait_status), strsignal(WTERMSIG(res->wait_status)),
                   detail[0] ? "; " : "", detail);
        else
            seterr(res, "libxl-save-helper (pid %d) exited with status %d%s%s", (int)pid,
                   WEXITSTATUS(res->wait_status), detail[0] ? "; " : "", detail);
    } else if (res->aborted && res->err[0]) {
        size_t n = strlen(res->err);

        if (WIFSIGNALED(res->wait_status))
            snprintf(res->err + n, sizeof(res->err) - n, " (ended by signal %d, %s%s)",
                     WTERMSIG(res->wait_status), strsignal(WTERMSIG(res->wait_status)),
                     WTERMSIG(res->wait_status) == SIGKILL ? ", after ignoring SIGTERM" : "");
        else
            snprintf(res->err + n, sizeof(res->err) - n, " (it exited with status %d)",
                     WEXITSTATUS(res->wait_status));
    } else if (WIFSIGNALED(res->wait_status))
        seterr(res, "libxl-save-helper (pid %d) was killed by signal %d (%s)", (int)pid,
               WTERMSIG(res->wait_status), strsignal(WTERMSIG(res->wait_status)));
    else if (WEXITSTATUS(res->wait_status))
        seterr(res, "libxl-save-helper (pid %d) exited with status %d", (int)pid,
               WEXITSTATUS(res->wait_status));
    else if (!res->complete_seen)
        seterr(res, "libxl-save-helper (pid %d) exited without reporting completion", (int)pid);
    else if (p->restore && !res->results_seen)
        seterr(res, "libxl-save-helper (pid %d) exited without sending restore_results",
               (int)pid);
    else if (res->retval)
        seterr(res, "the %s failed: %s", p->restore ? "restore" : "save",
               strerror(res->errnoval ? res->errnoval : EIO));
    if (res->stalled && res->err[0]) {
        /* the cause, where the helper only saw its stream go */
        size_t n = strlen(res->err);

        snprintf(res->err + n, sizeof(res->err) - n, " (the stream had stalled: nothing read "
                 "for %u ms, primary lost)", p->stall_timeout_ms);
    }
 out:
    free(body);
    for (int *fd = (int[]){ req[0], req[1], msg[0], msg[1] }, *end = fd + 4; fd < end; fd++)
        if (*fd >= 0)
            close(*fd);
    return res->err[0] ? -1 : 0;
}
