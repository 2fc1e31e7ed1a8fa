/*
 * libxl-save-helper: runs the save/restore engine in its own process, as upstream's
 * does.  argv (upstream's):
 *   --save-domain    <io_fd> <recv_fd> <domid> <xcflags> <cbflags> <stream_type>
 *   --restore-domain <io_fd> <send_back_fd> <domid> <store_evtchn> <store_domid>
 *                    <console_evtchn> <console_domid> <cbflags> <stream_type>
 * stdin: int replies from libxl; stdout: messages to libxl (libxl_save_msgs.h);
 * stderr: inherited.  Engine callbacks that libxl provides (cbflags) become numbered
 * messages; log and progress go to libxl too.  A reply that is short or missing is a
 * lost connection: the helper says so and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxl_save_msgs.h"
#include "xenguest_colo.h"
#include "xfault.h"
#include "xutil.h"

static const char *prog = "libxl-save-helper";
static unsigned int cbflags;
static int restoring;
static int io_fd = -1;
static int devnull_fd = -1;

static void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

static void send_frame(struct shm_buf *b)
{
    size_t n = shm_end(b);

    if (!n)
        die(3, "internal error: message too long");
    /* write_exact: the pipe is where helper-pipe-cut-at breaks it (xfault.h) */
    if (write_exact(1, b->data, n))
        die(3, "lost the connection to libxl (writing a message: %s)", strerror(errno));
}

static int get_reply(unsigned int msgnum)
{
    int v;
    size_t off = 0;

    while (off < sizeof(v)) {
        ssize_t r = read(0, (char *)&v + off, sizeof(v) - off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die(3, "lost the connection to libxl (waiting for the reply to %s: %s)",
                shm_name(msgnum), r < 0 ? strerror(errno) : "end of file");
        off += (size_t)r;
    }
    return v;
}

static int call(unsigned int msgnum)
{
    struct shm_buf b;

    shm_begin(&b, (uint16_t)msgnum);
    send_frame(&b);
    return get_reply(msgnum);
}

/* helper-kill-at (xfault.h): at the fault's point of its checkpoint, the helper dies at
 * once, as a process the kernel's OOM killer or an operator's kill -9 ends. */
static void kill_point(enum xfault_point point, unsigned int n)
{
    static const char *const names[] = { "suspend", "checkpoint", "restore-checkpoint" };
    const struct xfault *f = xfault(XFAULT_HELPER_KILL_AT);

    if (!f || f->arg[0] != point || f->arg[1] != n)
        return;
    fprintf(stderr, "%s: fault %s: killed (SIGKILL) at %s of checkpoint %u\n", prog,
            xfault_name(XFAULT_HELPER_KILL_AT), names[point], n);
    kill(getpid(), SIGKILL);
}

/* ---- callbacks ---- */
static int cb_suspend(void *d)
{
    static unsigned int n;

    (void)d;
    kill_point(XFAULT_AT_SUSPEND, ++n);
    return call(SHM_SUSPEND);
}

static int cb_postcopy(void *d) { (void)d; return call(SHM_POSTCOPY); }

static int cb_checkpoint(void *d)
{
    static unsigned int n;

    (void)d;
    kill_point(restoring ? XFAULT_AT_RESTORE_CHECKPOINT : XFAULT_AT_CHECKPOINT, ++n);
    return call(SHM_CHECKPOINT);
}

static int cb_wait_checkpoint(void *d) { (void)d; return call(SHM_WAIT_CHECKPOINT); }
static int cb_resume_staged(void *d) { (void)d; return call(SHM_RESUME_STAGED); }

static int cb_switch_qemu_logdirty(uint32_t domid, unsigned int enable, void *d)
{
    struct shm_buf b;

    (void)d;
    shm_begin(&b, SHM_SWITCH_QEMU_LOGDIRTY);
    shm_u32(&b, domid);
    shm_u32(&b, enable);
    send_frame(&b);
    return get_reply(SHM_SWITCH_QEMU_LOGDIRTY);
}

static int cb_static_data_done(unsigned int missing, void *d)
{
    struct shm_buf b;

    (void)d;
    shm_begin(&b, SHM_STATIC_DATA_DONE);
    shm_u32(&b, missing);
    send_frame(&b);
    return get_reply(SHM_STATIC_DATA_DONE);
}

static void send_restore_results(xen_pfn_t store, xen_pfn_t console)
{
    struct shm_buf b;

    shm_begin(&b, SHM_RESTORE_RESULTS);
    shm_u64(&b, store);
    shm_u64(&b, console);
    send_frame(&b);
}

static void cb_restore_results(xen_pfn_t store, xen_pfn_t console, void *d)
{
    (void)d;
    send_restore_results(store, console);
}

static void cb_progress(const char *what, unsigned long done, unsigned long total, void *d)
{
    struct shm_buf b;

    (void)d;
    shm_begin(&b, SHM_PROGRESS);
    shm_string(&b, "xc_sr");
    shm_string(&b, what);
    shm_ulong(&b, done);
    shm_ulong(&b, total);
    send_frame(&b);
}

static void logger(void *opaque, enum xhv_loglevel level, int errnoval, const char *context,
                   const char *msg)
{
    struct shm_buf b;
    char text[4096];

    (void)opaque;
    snprintf(text, sizeof(text), "%s", msg);
    shm_begin(&b, SHM_LOG);
    shm_u32(&b, shm_level_to_xtl(level));
    shm_u32(&b, shm_errno_to_xtl(errnoval));
    shm_string(&b, context ? context : "");
    shm_string(&b, text);
    send_frame(&b);
}

static void complete(int retval, int errnoval)
{
    struct shm_buf b;

    shm_begin(&b, SHM_COMPLETE);
    shm_int(&b, retval);
    shm_int(&b, errnoval);
    send_frame(&b);
    get_reply(SHM_COMPLETE);
}

/* SIGTERM: /dev/null goes over the stream fd.  Save: the engine's next write fails and
 * its cleanup runs.  Restore: a blocked read is interrupted (no SA_RESTART) and the
 * engine reads end-of-stream, so a checkpointed restore fails over into the last whole
 * checkpoint as if the primary had gone (libxl does this when the stream stalls). */
static void on_sigterm(int sig)
{
    (void)sig;
    if (devnull_fd >= 0 && io_fd >= 0)
        dup2(devnull_fd, io_fd);
}

static void install_sigterm(void)
{
    struct sigaction sa;

    devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* writes fail, reads: EOF */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigterm;   /* no SA_RESTART: interrupt the blocked read/write */
    sigaction(SIGTERM, &sa, NULL);
}

static long num(const char *s, const char *what, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        die(2, "bad %s '%s'", what, s);
    return v;
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    die(2, "usage:\n"
        "  libxl-save-helper --save-domain <io_fd> <recv_fd> <domid> <xcflags> <cbflags> "
        "<stream_type>\n"
        "  libxl-save-helper --restore-domain <io_fd> <send_back_fd> <domid> <store_evtchn> "
        "<store_domid> <console_evtchn> <console_domid> <cbflags> <stream_type>\n"
        "(it is started by libxl, with message pipes on stdin and stdout)");
}

/* The primary host dies (fault primary-dies-at): its domain goes with the stream. */
static void primary_dies(void *opaque)
{
    uint32_t domid = *(uint32_t *)opaque;
    xc_interface *xch = xhv_open(NULL);

    fprintf(stderr, "%s: fault: the primary dies here (domain %u destroyed, stream cut)\n",
            prog, domid);
    if (xch) {
        xhv_domain_destroy(xch, domid);
        xhv_close(xch);
    }
}

/* What a byte-offset fault does, said once when it happens. */
struct fault_note {
    enum xfault_id id;
    const char *effect;
    unsigned long at, ms;
};

static void fault_fired(void *opaque)
{
    const struct fault_note *f = opaque;

    fprintf(stderr, "%s: fault %s: %s at byte %lu", prog, xfault_name(f->id), f->effect,
            f->at);
    if (f->ms)
        fprintf(stderr, " for %lu ms", f->ms);
    fputc('\n', stderr);
}

/* The fault id's byte-offset fault of kind on fd, when COLO_FAULT selects it. */
static void fault_on(int fd, enum xfault_id id, enum xfault_kind kind, const char *effect)
{
    static struct fault_note notes[XFAULT__COUNT];
    const struct xfault *f = xfault(id);

    if (!f)
        return;
    notes[id] = (struct fault_note){ id, effect, f->arg[0], f->nargs > 1 ? f->arg[1] : 0 };
    if (xfault_on_writes(fd, kind, notes[id].at, notes[id].ms, fault_fired, &notes[id]))
        die(2, "fault %s: %s", xfault_name(id), strerror(errno));
}

/* Faults on the save side's writes: the main stream and the message pipe to libxl. */
static void save_faults(int fd, uint32_t *domid)
{
    const struct xfault *dies = xfault(XFAULT_PRIMARY_DIES_AT);

    if (dies) {
        if (xfault_on_writes(fd, XFAULT_KIND_CUT, dies->arg[0], 0, primary_dies, domid))
            die(2, "fault %s: %s", xfault_name(XFAULT_PRIMARY_DIES_AT), strerror(errno));
        fprintf(stderr, "%s: fault: the main stream breaks after %lu bytes, with the "
                "primary\n", prog, dies->arg[0]);
    }
    fault_on(fd, XFAULT_MAIN_CUT_AT, XFAULT_KIND_CUT, "the main stream breaks");
    fault_on(fd, XFAULT_MAIN_DELAY, XFAULT_KIND_DELAY, "the main stream stalls");
    fault_on(1, XFAULT_HELPER_PIPE_CUT_AT, XFAULT_KIND_CUT,
             "the message pipe to libxl breaks");
}

/* Faults on a COLO secondary's back channel: its restore helper writes the dirty pfn
 * lists there (libxl writes its CHECKPOINT_STATE records itself, in between). */
static void back_faults(int fd)
{
    fault_on(fd, XFAULT_BACK_CUT_AT, XFAULT_KIND_CUT, "the back channel breaks");
    fault_on(fd, XFAULT_BACK_CORRUPT_AT, XFAULT_KIND_CORRUPT,
             "the back channel's byte goes out inverted");
    fault_on(fd, XFAULT_BACK_DELAY, XFAULT_KIND_DELAY, "the back channel stalls");
}

int main(int argc, char **argv)
{
    xc_interface *xch;
    int rc, saved_errno;

    if (argc < 2)
        usage();
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[1], "--save-domain")) {
        struct save_callbacks cb = { 0 };
        int recv_fd;
        uint32_t domid, xcflags;
        long stream_type;

        if (argc != 8)
            usage();
        io_fd = (int)num(argv[2], "io_fd", 0, INT_MAX);
        recv_fd = (int)num(argv[3], "recv_fd", -1, INT_MAX);
        domid = (uint32_t)num(argv[4], "domid", 0, UINT32_MAX);
        xcflags = (uint32_t)num(argv[5], "xcflags", 0, UINT32_MAX);
        cbflags = (unsigned int)num(argv[6], "cbflags", 0, UINT32_MAX);
        stream_type = num(argv[7], "stream_type", 0, 2);
        if (cbflags & ~SHM_SAVE_CBFLAGS)
            die(2, "cbflags %#x name callbacks the save side does not have", cbflags);
        save_faults(io_fd, &domid);
        install_sigterm();
        if (cbflags & SHM_CBFLAG(SHM_SUSPEND)) cb.suspend = cb_suspend;
        if (cbflags & SHM_CBFLAG(SHM_POSTCOPY)) cb.postcopy = cb_postcopy;
        if (cbflags & SHM_CBFLAG(SHM_CHECKPOINT)) cb.checkpoint = cb_checkpoint;
        if (cbflags & SHM_CBFLAG(SHM_WAIT_CHECKPOINT)) cb.wait_checkpoint = cb_wait_checkpoint;
        if (cbflags & SHM_CBFLAG(SHM_SWITCH_QEMU_LOGDIRTY))
            cb.switch_qemu_logdirty = cb_switch_qemu_logdirty;
        if (cbflags & SHM_CBFLAG(SHM_RESUME_STAGED)) cb.resume_staged = cb_resume_staged;
        cb.checkpoint_compress = !!(cbflags & SHM_CBFLAG_COMPRESS);
        cb.progress = cb_progress;
        xch = xhv_open(NULL);
        if (!xch)
            die(1, "cannot open the hypervisor interface: %s", strerror(errno));
        xhv_set_logger(xch, logger, NULL);
        rc = xc_domain_save(xch, io_fd, domid, xcflags, &cb, (xc_stream_type_t)stream_type,
                            recv_fd);
        saved_errno = errno;
        xhv_close(xch);
        complete(rc, rc ? saved_errno : 0);
        return 0;
    }
    if (!strcmp(argv[1], "--restore-domain")) {
        struct restore_callbacks cb = { 0 };
        int send_back_fd;
        uint32_t domid, store_domid, console_domid;
        unsigned int store_evtchn, console_evtchn;
        long stream_type;
        xen_pfn_t store = 0, console = 0;

        if (argc != 11)
            usage();
        io_fd = (int)num(argv[2], "io_fd", 0, INT_MAX);
        send_back_fd = (int)num(argv[3], "send_back_fd", -1, INT_MAX);
        domid = (uint32_t)num(argv[4], "domid", 0, UINT32_MAX);
        store_evtchn = (unsigned int)num(argv[5], "store_evtchn", 0, UINT32_MAX);
        store_domid = (uint32_t)num(argv[6], "store_domid", 0, UINT32_MAX);
        console_evtchn = (unsigned int)num(argv[7], "console_evtchn", 0, UINT32_MAX);
        console_domid = (uint32_t)num(argv[8], "console_domid", 0, UINT32_MAX);
        cbflags = (unsigned int)num(argv[9], "cbflags", 0, UINT32_MAX);
        stream_type = num(argv[10], "stream_type", 0, 2);
        if (cbflags & ~SHM_RESTORE_CBFLAGS)
            die(2, "cbflags %#x name callbacks the restore side does not have", cbflags);
        if (stream_type != XC_STREAM_PLAIN)
            install_sigterm();
        restoring = 1;
        if (stream_type == XC_STREAM_COLO && send_back_fd >= 0)
            back_faults(send_back_fd);
        if (cbflags & SHM_CBFLAG(SHM_SUSPEND)) cb.suspend = cb_suspend;
        if (cbflags & SHM_CBFLAG(SHM_POSTCOPY)) cb.postcopy = cb_postcopy;
        if (cbflags & SHM_CBFLAG(SHM_CHECKPOINT)) cb.checkpoint = cb_checkpoint;
        if (cbflags & SHM_CBFLAG(SHM_WAIT_CHECKPOINT)) cb.wait_checkpoint = cb_wait_checkpoint;
        if (cbflags & SHM_CBFLAG(SHM_STATIC_DATA_DONE)) cb.static_data_done = cb_static_data_done;
        if (cbflags & SHM_CBFLAG(SHM_RESTORE_RESULTS)) cb.restore_results = cb_restore_results;
        xch = xhv_open(NULL);
        if (!xch)
            die(1, "cannot open the hypervisor interface: %s", strerror(errno));
        xhv_set_logger(xch, logger, NULL);
        rc = xc_domain_restore(xch, io_fd, domid, store_evtchn, &store, store_domid,
                               console_evtchn, &console, console_domid,
                               (xc_stream_type_t)stream_type, &cb, send_back_fd);
        saved_errno = errno;
        xhv_close(xch);
        send_restore_results(store, console);
        complete(rc, rc ? saved_errno : 0);
        return 0;
    }
    usage();
}
