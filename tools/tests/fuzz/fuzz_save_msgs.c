/*
 * The save helper's message protocol on one input, both directions.
 *
 * Byte 0 selects the direction and the side:
 *   bit 0: restore (else save); bits 1-2: plain, Remus, COLO (the cbflags libxl passes);
 *   bit 3: helper -> libxl as bytes: the rest is the helper's output (u16 msglen + body,
 *          repeated), each frame handed to libxl's decoder until one is refused or the
 *          output ends (inside a frame: truncated, as libxl reports it);
 *   else:  the helper's encoders: the rest is a script of messages (number and
 *          arguments) the helper builds with libxl_save_msgs.h and libxl decodes; every
 *          message must arrive with exactly the values that were sent.
 * libxl's replies go to a memfd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "libxl_save_callout.h"
#include "libxl_save_msgs.h"

static int reply_fd;

/* What the hooks saw last. */
static struct {
    unsigned int calls;
    uint32_t level, errnoval, domid, enable, missing;
    unsigned long done, total;
    uint64_t store, console;
    char s1[SHM_MSG_MAX], s2[SHM_MSG_MAX];
} seen;

static void copy_str(char *dst, const char *src)
{
    size_t n = strlen(src);

    if (n >= SHM_MSG_MAX)
        fuzz_fail("a decoded string of %zu bytes, longer than a message", n);
    memcpy(dst, src, n + 1);
}

static int h_cb(void *d) { (void)d; seen.calls++; return 1; }
static int h_logdirty(uint32_t domid, unsigned int enable, void *d)
{
    (void)d;
    seen.calls++;
    seen.domid = domid;
    seen.enable = enable;
    return 0;
}
static int h_sdd(unsigned int missing, void *d) { (void)d; seen.calls++; seen.missing = missing; return 0; }
static void h_results(uint64_t store, uint64_t console, void *d)
{
    (void)d;
    seen.calls++;
    seen.store = store;
    seen.console = console;
}
static void h_log(uint32_t level, uint32_t errnoval, const char *context, const char *msg, void *d)
{
    (void)d;
    seen.calls++;
    seen.level = level;
    seen.errnoval = errnoval;
    copy_str(seen.s1, context);
    copy_str(seen.s2, msg);
}
static void h_progress(const char *context, const char *what, unsigned long done,
                       unsigned long total, void *d)
{
    (void)d;
    seen.calls++;
    copy_str(seen.s1, context);
    copy_str(seen.s2, what);
    seen.done = done;
    seen.total = total;
}

static const struct save_helper_hooks hooks = {
    .suspend = h_cb, .postcopy = h_cb, .checkpoint = h_cb, .wait_checkpoint = h_cb,
    .resume_staged = h_cb,
    .switch_qemu_logdirty = h_logdirty, .static_data_done = h_sdd,
    .restore_results = h_results, .log = h_log, .progress = h_progress,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    reply_fd = fuzz_memfd("fuzz-replies");
    return 0;
}


static void from_helper(const struct save_helper_params *p, struct in *in)
{
    struct save_helper_result res;

    memset(&res, 0, sizeof(res));
    while (in->p < in->end) {
        uint16_t len;

        if (in->end - in->p < 2)
            return;   /* libxl: a truncated message */
        memcpy(&len, in->p, 2);
        in->p += 2;
        if ((size_t)(in->end - in->p) < len)
            return;
        /* The body in a buffer of its own size: reading past it is a finding. */
        uint8_t *body = malloc(len ? len : 1);

        if (!body)
            exit(2);
        memcpy(body, in->p, len);
        in->p += len;
        int rc = libxl__save_helper_dispatch(p, &hooks, body, len, reply_fd, &res);

        free(body);
        if (rc) {
            if (!res.err[0])
                fuzz_fail("a refused message without a reason");
            return;
        }
    }
}

/* A string from the script: a length byte (up to 255, or a long one with 0xff) and
 * that many bytes, NULs excluded (the helper sends C strings). */
static void script_string(struct in *in, char *buf, size_t cap)
{
    uint8_t l8 = 0;
    size_t n, i;

    take(in, &l8, 1);
    n = l8 == 0xff ? cap - 1 : l8;
    if (n > cap - 1)
        n = cap - 1;
    n = take(in, buf, n);
    for (i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = 'x';
    buf[n] = 0;
}

static void via_encoders(const struct save_helper_params *p, struct in *in)
{
    static struct shm_buf b;
    static char s1[8192], s2[8192];
    struct save_helper_result res;

    memset(&res, 0, sizeof(res));
    while (in->p < in->end) {
        uint8_t m = 0;
        uint32_t u1 = 0, u2 = 0;
        uint64_t q1 = 0, q2 = 0;
        size_t n;
        int rc;

        take(in, &m, 1);
        m = (uint8_t)(1 + m % SHM_MAX);
        memset(&seen, 0, sizeof(seen));
        shm_begin(&b, m);
        switch (m) {
        case SHM_LOG:
            take(in, &u1, 4);
            take(in, &u2, 4);
            script_string(in, s1, sizeof(s1));
            script_string(in, s2, sizeof(s2));
            /* As the helper's logger: levels and errnos in xentoollog's terms. */
            u1 = shm_level_to_xtl(u1 % 4);
            shm_u32(&b, u1);
            shm_u32(&b, u2);
            shm_string(&b, s1);
            shm_string(&b, s2);
            break;
        case SHM_PROGRESS:
            script_string(in, s1, sizeof(s1));
            script_string(in, s2, sizeof(s2));
            take(in, &q1, 8);
            take(in, &q2, 8);
            shm_string(&b, s1);
            shm_string(&b, s2);
            shm_ulong(&b, (unsigned long)q1);
            shm_ulong(&b, (unsigned long)q2);
            break;
        case SHM_SWITCH_QEMU_LOGDIRTY:
            take(in, &u1, 4);
            take(in, &u2, 4);
            shm_u32(&b, u1);
            shm_u32(&b, u2);
            break;
        case SHM_STATIC_DATA_DONE:
            take(in, &u1, 4);
            shm_u32(&b, u1);
            break;
        case SHM_RESTORE_RESULTS:
            take(in, &q1, 8);
            take(in, &q2, 8);
            shm_u64(&b, q1);
            shm_u64(&b, q2);
            break;
        case SHM_COMPLETE:
            take(in, &u1, 4);
            take(in, &u2, 4);
            shm_int(&b, (int)u1);
            shm_int(&b, (int)u2);
            break;
        default:
            break;
        }
        n = shm_end(&b);
        if (!n)
            fuzz_fail("message %u does not fit a frame", m);
        rc = libxl__save_helper_dispatch(p, &hooks, b.data + 2, n - 2, reply_fd, &res);
        if (rc) {
            /* Refused only because libxl did not install that callback, or after
             * complete: anything else the helper can build, libxl must take. */
            if (!strstr(res.err, "did not install") && !strstr(res.err, "after complete"))
                fuzz_fail("libxl refused what the helper built (%s): %s", shm_name(m), res.err);
            return;
        }
        switch (m) {
        case SHM_LOG:
            if (seen.calls != 1 || seen.level != shm_level_from_xtl(u1) ||
                seen.errnoval != (uint32_t)shm_errno_from_xtl(u2) || strcmp(seen.s1, s1) ||
                strcmp(seen.s2, s2))
                fuzz_fail("log arrived changed");
            break;
        case SHM_PROGRESS:
            if (seen.calls != 1 || strcmp(seen.s1, s1) || strcmp(seen.s2, s2) ||
                seen.done != (unsigned long)q1 || seen.total != (unsigned long)q2)
                fuzz_fail("progress arrived changed");
            break;
        case SHM_SWITCH_QEMU_LOGDIRTY:
            if (seen.calls != 1 || seen.domid != u1 || seen.enable != u2)
                fuzz_fail("switch_qemu_logdirty arrived changed");
            break;
        case SHM_STATIC_DATA_DONE:
            if (seen.calls != 1 || seen.missing != u1)
                fuzz_fail("static_data_done arrived changed");
            break;
        case SHM_RESTORE_RESULTS:
            if (seen.calls != 1 || seen.store != q1 || seen.console != q2 ||
                res.store_gfn != q1 || res.console_gfn != q2)
                fuzz_fail("restore_results arrived changed");
            break;
        case SHM_COMPLETE:
            if (!res.complete_seen || res.retval != (int)u1 || res.errnoval != (int)u2)
                fuzz_fail("complete arrived changed");
            break;
        default:
            if (seen.calls != 1)
                fuzz_fail("%s: %u callbacks", shm_name(m), seen.calls);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned int save_flags[] = { SHM_CBFLAGS_SAVE_PLAIN, SHM_CBFLAGS_SAVE_REMUS,
                                               SHM_CBFLAGS_SAVE_COLO };
    static const unsigned int restore_flags[] = { SHM_CBFLAGS_RESTORE_PLAIN,
                                                  SHM_CBFLAGS_RESTORE_REMUS,
                                                  SHM_CBFLAGS_RESTORE_COLO };
    struct save_helper_params p = { .io_fd = -1, .back_fd = -1 };
    struct in in = { data, data + size };
    uint8_t sel = 0;

    take(&in, &sel, 1);
    p.restore = sel & 1;
    p.stream_type = ((sel >> 1) & 3) % 3;
    p.cbflags = p.restore ? restore_flags[p.stream_type] : save_flags[p.stream_type];
    /* a checkpointed save whose checkpoints are staged */
    if (!p.restore && p.stream_type && (sel & 16))
        p.cbflags |= SHM_CBFLAG(SHM_RESUME_STAGED);
    fuzz_memfd_reset(reply_fd);
    if (sel & 8)
        from_helper(&p, &in);
    else
        via_encoders(&p, &in);
    return 0;
}
