/*
 * Fault injection for tests, in one table.  Each fault has a name; the environment
 * variable COLO_FAULT selects faults as "name=ARG[:ARG],..." and is read once per
 * process.  The places that can fail ask xfault(FAULT_...) whether, and with which
 * arguments, they should.  docs/fault-injection.md lists the faults and their effects.
 */
#ifndef XFAULT_H
#define XFAULT_H

#include <stddef.h>

enum xfault_id {
    /* primary-stall=N[:MS]: libxl's primary stalls inside checkpoint N, after the
     * engine's CHECKPOINT record and before libxl's CHECKPOINT_END (Remus) or, COLO,
     * after SVM_READY and before SVM_RESUMED is read (the guest not resumed yet unless
     * the checkpoint was staged), for MS milliseconds (default an hour). */
    XFAULT_PRIMARY_STALL,
    /* primary-dies-at=BYTES: the primary host dies once its save helper has sent BYTES
     * bytes of the main stream: the domain is destroyed and the stream cut there. */
    XFAULT_PRIMARY_DIES_AT,
    /* main-cut-at=BYTES: the main stream is cut after BYTES bytes (the link breaks,
     * the primary lives on). */
    XFAULT_MAIN_CUT_AT,
    /* svm-scribble=PFN: a COLO secondary that fails over into a stopped state has one
     * byte of page PFN changed before that state is checked (the failover check must
     * report it inexact: the check's own negative control). */
    XFAULT_SVM_SCRIBBLE,
    XFAULT__COUNT
};

struct xfault {
    unsigned long arg[2];
    unsigned int nargs;
};

/* The fault as COLO_FAULT selects it, NULL when it does not.  A malformed COLO_FAULT is
 * reported on stderr, naming what is wrong, and selects nothing. */
const struct xfault *xfault(enum xfault_id id);

/*
 * A stream that breaks: writes to fd through write_exact/writev_exact (xutil.h) pass
 * until `bytes` bytes have gone out; the write that would go past that writes up to
 * it, then at_cut runs (may be NULL) and this and every later write fails with EPIPE.
 * One such fd per process.  Synchronous, so the order of the writes of everyone else
 * who shares the stream is kept.
 */
void xfault_limit_writes(int fd, unsigned long bytes, void (*at_cut)(void *), void *opaque);
/* For fdio.c: whether writes to fd are limited (cheap: asked on every write). */
int xfault_writes_limited(int fd);
/* For fdio.c: how many of a write's len bytes to fd may go out (len when fd is not
 * limited).  When fewer, the writer writes those, calls xfault_cut() (at_cut, once)
 * and fails with EPIPE. */
size_t xfault_write_allowance(int fd, size_t len);
void xfault_cut(void);

#endif
