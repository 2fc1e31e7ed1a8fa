/*
 * Hand-built migration streams for the engine's hostile-input tests: records put one
 * after another into one buffer, restored into a target domain, with what the restorer
 * logged and whether the target changed.
 */
#ifndef TEST_STREAM_BUILD_H
#define TEST_STREAM_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "xenguest_colo.h"

/* The stream being built (1 MiB at most). */
extern char stream_buf[1 << 20];
extern size_t stream_len;

void stream_put(const void *p, size_t n);
/* Header, body, zero padding to 8. */
void stream_put_record(uint32_t type, const void *body, uint32_t blen);
/* Image header (v3), an HVM domain header, STATIC_DATA_END. */
void stream_start(void);
/* PAGE_DATA of count entries followed by data_pages pages of 0x5a (count <= 1100,
 * data_pages <= 4): the length says what is there, whatever the entries say. */
void stream_put_page_data(const uint64_t *pfns, uint32_t count, uint32_t data_pages);
/* PAGE_DATA of one NOTAB page filled with value. */
void stream_put_one_page(uint64_t pfn, int value);
/* libxl's CHECKPOINT_END, which a Remus restore reads after every CHECKPOINT. */
void stream_put_checkpoint_end(void);

/* What restoring stream_buf[0..stream_len) did to the target. */
struct restore_outcome {
    int rc, err;                 /* xc_domain_restore's result and errno */
    char log[4096];              /* the restorer's messages (INFO and above), " | " between */
    int unchanged;               /* the target is as it was before */
    int context_unchanged;       /* ... at least its vcpu context, HVM params and TSC */
    char change[160];            /* else: the first difference */
};
/* An empty, paused target domain of `pages` pages with a real vcpu context (taken from
 * a guest made for the purpose), which is also copied to ctx: its length (exits 2 if
 * there is none). */
int stream_target(xc_interface *xch, const char *name, uint64_t pages, uint8_t *ctx,
                  size_t ctxlen, uint32_t *target);
/* Installs the logger that fills outcome.log (once per handle). */
void stream_capture_log(xc_interface *xch);
/* Restores the stream as `type` (Remus: CHECKPOINT_END read after each CHECKPOINT) into
 * domid, comparing the target with its state before. */
void stream_restore(xc_interface *xch, uint32_t domid, xc_stream_type_t type,
                    struct restore_outcome *o);
/* The messages (INFO and above) logged since stream_log_begin (also by calls outside
 * stream_restore, on a handle given to stream_capture_log). */
void stream_log_begin(void);
const char *stream_log(void);
/* The same from fd with the caller's callbacks and back channel. */
void stream_restore_fd(xc_interface *xch, uint32_t domid, xc_stream_type_t type, int fd,
                       struct restore_callbacks *cb, int back_fd, struct restore_outcome *o);
/* rc -1 with errno err and msg among the messages. */
int outcome_rejected(const struct restore_outcome *o, int err, const char *msg);

#endif
