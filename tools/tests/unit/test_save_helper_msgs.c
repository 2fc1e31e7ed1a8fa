/*
 * libxl's decoder of libxl-save-helper's messages on hostile input
 * (docs/hostile-input.md): a message that is too short, too long, of an unknown number,
 * for a callback libxl did not install, or after `complete`, is refused with the
 * message saying so, and nothing of it is taken: no hook is called, no reply is
 * written, the result (complete, retval, restore results) is as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libxl_save_callout.h"
#include "libxl_save_msgs.h"
#include "test.h"

static unsigned int hook_calls;
static int h_cb(void *d) { (void)d; hook_calls++; return 1; }
static int h_logdirty(uint32_t domid, unsigned int enable, void *d)
{
    (void)domid, (void)enable, (void)d;
    hook_calls++;
    return 0;
}
static int h_sdd(unsigned int missing, void *d) { (void)missing, (void)d; hook_calls++; return 0; }
static void h_results(uint64_t s, uint64_t c, void *d) { (void)s, (void)c, (void)d; hook_calls++; }
static void h_log(uint32_t l, uint32_t e, const char *c, const char *m, void *d)
{
    (void)l, (void)e, (void)c, (void)m, (void)d;
    hook_calls++;
}
static void h_progress(const char *c, const char *w, unsigned long done, unsigned long total,
                       void *d)
{
    (void)c, (void)w, (void)done, (void)total, (void)d;
    hook_calls++;
}

static const struct save_helper_hooks hooks = {
    .suspend = h_cb, .postcopy = h_cb, .checkpoint = h_cb, .wait_checkpoint = h_cb,
    .resume_staged = h_cb, .switch_qemu_logdirty = h_logdirty, .static_data_done = h_sdd,
    .restore_results = h_results, .log = h_log, .progress = h_progress,
};
static int reply[2];

/* A valid message msgnum with its arguments, into b (returns the body's length). */
static size_t build(struct shm_buf *b, uint16_t msgnum)
{
    shm_begin(b, msgnum);
    switch (msgnum) {
    case SHM_LOG:
        shm_u32(b, SHM_XTL_ERROR);
        shm_u32(b, 5);
        shm_string(b, "ctx");
        shm_string(b, "message");
        break;
    case SHM_PROGRESS:
        shm_string(b, "ctx");
        shm_string(b, "pages");
        shm_ulong(b, 3);
        shm_ulong(b, 10);
        break;
    case SHM_SWITCH_QEMU_LOGDIRTY:
        shm_u32(b, 1);
        shm_u32(b, 1);
        break;
    case SHM_STATIC_DATA_DONE:
        shm_u32(b, 0);
        break;
    case SHM_RESTORE_RESULTS:
        shm_u64(b, 0xfeffe);
        shm_u64(b, 0xfefff);
        break;
    case SHM_COMPLETE:
        shm_int(b, 0);
        shm_int(b, 0);
        break;
    }
    return shm_end(b) - 2;
}

/* Bytes waiting on the reply pipe (drained). */
static size_t replies(void)
{
    struct pollfd p = { reply[0], POLLIN, 0 };
    char junk[64];
    size_t n = 0;
    ssize_t r;

    while (poll(&p, 1, 0) == 1 && (r = read(reply[0], junk, sizeof(junk))) > 0)
        n += (size_t)r;
    return n;
}

/* body[0..len) is refused with msg, and nothing of it is taken. */
static void refused(int restore, const uint8_t *body, size_t len, int after_complete,
                    const char *msg, const char *what)
{
    struct save_helper_params p = {
        .restore = restore,
        .cbflags = restore ? SHM_RESTORE_CBFLAGS : SHM_SAVE_CBFLAGS,
    };
    struct save_helper_result res, before;
    int rc;

    memset(&res, 0, sizeof(res));
    res.complete_seen = after_complete;
    res.retval = 7, res.errnoval = 9, res.store_gfn = 1, res.console_gfn = 2;
    before = res;
    hook_calls = 0;
    rc = libxl__save_helper_dispatch(&p, &hooks, body, len, reply[1], &res);
    CHECK(rc == -1 && strstr(res.err, msg) && hook_calls == 0 && replies() == 0 &&
              res.complete_seen == before.complete_seen && res.retval == before.retval &&
              res.errnoval == before.errnoval && res.results_seen == 0 &&
              res.store_gfn == before.store_gfn && res.console_gfn == before.console_gfn,
          "%s: \"%s\", nothing taken (rc %d, %u hook calls, retval %d, store_gfn %#llx; %s)",
          what, msg, rc, hook_calls, res.retval, (unsigned long long)res.store_gfn, res.err);
}

int main(void)
{
    static const uint16_t unknown[] = { 0, SHM_MAX + 1, 99, 0xffff };
    static struct shm_buf b;
    static uint8_t body[SHM_MSG_MAX + 1];
    char msg[200], what[200];

    if (pipe2(reply, O_CLOEXEC))
        return 2;
    refused(0, body, 0, 0, "malformed message (0 bytes, no message number)", "an empty message");
    refused(0, (const uint8_t *)"\1", 1, 0, "malformed message (1 bytes, no message number)",
            "a message of 1 byte");
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        memcpy(body, &unknown[i], 2);
        snprintf(msg, sizeof(msg), "malformed message: unknown message number %u", unknown[i]);
        snprintf(what, sizeof(what), "message number %u", unknown[i]);
        refused(0, body, 2, 0, msg, what);
    }

    /* Every message one byte short and one byte long, on the side that takes it. */
    for (uint16_t m = 1; m <= SHM_MAX; m++) {
        int restore = m == SHM_STATIC_DATA_DONE || m == SHM_RESTORE_RESULTS;
        size_t n = build(&b, m);
        struct save_helper_params p = {
            .restore = restore, .cbflags = restore ? SHM_RESTORE_CBFLAGS : SHM_SAVE_CBFLAGS,
        };
        struct save_helper_result res;
        int rc;

        memset(&res, 0, sizeof(res));
        hook_calls = 0;
        rc = libxl__save_helper_dispatch(&p, &hooks, b.data + 2, n, reply[1], &res);
        replies();
        CHECK(rc == 0 && hook_calls == (m == SHM_COMPLETE ? 0u : 1u),
              "%s (%u) as sent: accepted (rc %d: %s)", shm_name(m), m, rc, res.err);
        if (n > 2) {
            snprintf(msg, sizeof(msg), "malformed message: %s (%u) with %zu bytes of arguments "
                     "that do not parse", shm_name(m), m, n - 3);
            snprintf(what, sizeof(what), "%s one byte short", shm_name(m));
            refused(restore, b.data + 2, n - 1, 0, msg, what);
        }
        memcpy(body, b.data + 2, n);
        body[n] = 0;
        snprintf(msg, sizeof(msg), "malformed message: %s (%u) with %zu bytes of arguments "
                 "that do not parse", shm_name(m), m, n - 1);
        snprintf(what, sizeof(what), "%s one byte long", shm_name(m));
        refused(restore, body, n + 1, 0, msg, what);
    }

    /* A callback message for the other direction, or after complete. */
    build(&b, SHM_STATIC_DATA_DONE);
    refused(0, b.data + 2, 6, 0, "static_data_done (8), a callback libxl did not install for "
            "this save", "static_data_done on a save");
    build(&b, SHM_RESUME_STAGED);
    refused(1, b.data + 2, 2, 0, "resume_staged (11), a callback libxl did not install for this "
            "restore", "resume_staged on a restore");
    build(&b, SHM_LOG);
    refused(0, b.data + 2, b.len - 2, 1, "malformed message: log after complete",
            "a log message after complete");
    {   /* a STRING whose length runs past the message */
        size_t n = build(&b, SHM_LOG);

        b.data[2 + 10] = 200;
        snprintf(msg, sizeof(msg), "log (1) with %zu bytes of arguments that do not parse", n - 2);
        refused(0, b.data + 2, n, 0, msg, "a log STRING longer than the message");
    }
    return test_done();
}
