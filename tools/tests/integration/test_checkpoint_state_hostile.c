/*
 * A COLO secondary given a bad CHECKPOINT_STATE where libxl waits for NEW
 * (docs/hostile-input.md): of length 0, of length 8, with an unknown id, another state,
 * another record, cut inside it.  libxl's callback names what was wrong, the secondary
 * fails over into checkpoint 1, and nothing after it (a checkpoint 2 following in the
 * stream) is applied: the target holds exactly checkpoint 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "colo_svm_stub.h"
#include "guest.h"
#include "libxl_checkpoint.h"
#include "libxl_records.h"
#include "sr_common.h"
#include "stream_build.h"
#include "test.h"

#define PAGES 64

static xc_interface *xch;
static uint32_t target;

static void put_checkpoint(int value, const uint8_t *ctx, int ctx_len)
{
    static const uint32_t checkpoint_end[2] = { LIBXL_REC_CHECKPOINT_END, 0 };

    stream_put_one_page(0, value);
    stream_put_one_page(1, value);
    stream_put_record(REC_TYPE_HVM_CONTEXT, ctx, (uint32_t)ctx_len);
    stream_put_record(REC_TYPE_CHECKPOINT, NULL, 0);
    stream_put(checkpoint_end, sizeof(checkpoint_end));
}

/* COLO restore of the stream's first `len` bytes; s.err gets libxl's reason. */
static void colo_restore(size_t len, struct ckpt_secondary *s, struct restore_outcome *o)
{
    int sv[2], fd;
    struct restore_callbacks cb = {
        .checkpoint = ckpt_secondary_checkpoint, .postcopy = test_colo_postcopy,
        .wait_checkpoint = ckpt_secondary_wait_checkpoint, .suspend = test_colo_suspend,
        .data = s,
    };

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        exit(2);
    stream_len = len;
    fd = test_bytes_fd(stream_buf, stream_len);
    *s = (struct ckpt_secondary){ .xch = xch, .domid = target, .main_fd = fd, .back_fd = sv[1],
                                  .colo = 1, .timeout_ms = 2000 };
    stream_restore_fd(xch, target, XC_STREAM_COLO, fd, &cb, sv[1], o);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    static const struct {
        uint32_t rec[4];
        size_t len;
        const char *why;
    } bad[] = {
        { { LIBXL_REC_CHECKPOINT_STATE, 0 }, 8, "CHECKPOINT_STATE record of length 0 (4 expected)" },
        { { LIBXL_REC_CHECKPOINT_STATE, 8, 0, 0 }, 16,
          "CHECKPOINT_STATE record of length 8 (4 expected)" },
        { { LIBXL_REC_CHECKPOINT_STATE, 4, 7, 0 }, 16, "CHECKPOINT_STATE with unknown id 7" },
        { { LIBXL_REC_CHECKPOINT_STATE, 4, COLO_CHECKPOINT_SVM_READY, 0 }, 16,
          "expected CHECKPOINT_STATE NEW, got SVM_READY" },
        { { LIBXL_REC_CHECKPOINT_END, 0 }, 8,
          "expected CHECKPOINT_STATE NEW, got libxl record 0x4 (CHECKPOINT_END)" },
        { { LIBXL_REC_CHECKPOINT_STATE, 4, 0, 0 }, 4,
          "libxl stream truncated inside a record header (4 of 8 bytes)" },
        { { LIBXL_REC_CHECKPOINT_STATE, 4, 0, 0 }, 12,
          "reading the body of libxl record CHECKPOINT_STATE: Broken pipe" },
    };
    static const uint32_t new_state[4] = { LIBXL_REC_CHECKPOINT_STATE, 4, COLO_CHECKPOINT_NEW, 0 };
    struct ckpt_secondary s;
    struct restore_outcome o;
    uint8_t ctx[4096];
    size_t cp1, whole;
    int n;

    xch = test_open();
    stream_capture_log(xch);
    n = stream_target(xch, "cpstate", PAGES, ctx, sizeof(ctx), &target);
    stream_start();
    put_checkpoint(0x11, ctx, n);
    cp1 = stream_len;

    /* The control: NEW, then checkpoint 2 is applied. */
    stream_put(new_state, sizeof(new_state));
    put_checkpoint(0x22, ctx, n);
    whole = stream_len;
    colo_restore(whole, &s, &o);
    CHECK(o.rc == 0 && s.applied == 2 && strstr(o.log, "COLO failover after checkpoint 2"),
          "with NEW, checkpoint 2 is applied (rc %d, %u applied; %s)", o.rc, s.applied, o.log);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct restore_outcome back;

        colo_restore(cp1, &s, &back);   /* the target at checkpoint 1 */
        stream_len = cp1;
        stream_put(bad[i].rec, bad[i].len);
        if (bad[i].len % 8 == 0)
            put_checkpoint(0x22, ctx, n);   /* what must not be applied */
        colo_restore(stream_len, &s, &o);
        CHECK(back.rc == 0 && o.rc == 0 && s.applied == 1 && strstr(s.err, bad[i].why) &&
                  strstr(o.log, "COLO failover after checkpoint 1") && o.unchanged,
              "COLO secondary waiting for NEW gets %zu bytes of record %#x: \"%s\", fails over "
              "to checkpoint 1, target holds exactly it (rc %d; %s; libxl: %s)", bad[i].len,
              bad[i].rec[0], bad[i].why, o.rc, o.change, s.err);
    }
    xhv_domain_destroy(xch, target);
    xhv_close(xch);
    return test_done();
}
