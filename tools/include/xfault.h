/*
 * Fault injection for tests, in one table.  Each fault has a name; the environment
 * variable COLO_FAULT selects faults as "name=ARG[:ARG],name,..." and is read once per
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
    /* main-delay=BYTES:MS: the save helper's write that reaches byte BYTES of the main
     * stream stalls MS milliseconds there, once (a slow link). */
    XFAULT_MAIN_DELAY,
    /* back-cut-at=BYTES: a COLO secondary's back channel breaks after BYTES bytes of its
     * restore helper's writes (the dirty pfn lists; libxl's CHECKPOINT_STATE records
     * between them are not counted): both sides live on. */
    XFAULT_BACK_CUT_AT,
    /* back-corrupt-at=BYTES: the byte at that offset of the same writes goes out
     * inverted. */
    XFAULT_BACK_CORRUPT_AT,
    /* back-delay=BYTES:MS: the restore helper's back-channel write that reaches byte
     * BYTES stalls MS milliseconds there, once. */
    XFAULT_BACK_DELAY,
    /* helper-pipe-cut-at=BYTES: the save helper's messages to libxl break after BYTES
     * bytes (libxl sees a truncated message, the helper loses its connection). */
    XFAULT_HELPER_PIPE_CUT_AT,
    /* helper-kill-at=POINT:N: a save or restore helper kills itself with SIGKILL at
     * checkpoint N's POINT (enum xfault_point, in arg[0]). */
    XFAULT_HELPER_KILL_AT,
    /* proxy-bypass (no value): the COLO primary's compare proxy releases every packet at
     * once, comparing none (--bypass): the negative control of the network tests. */
    XFAULT_PROXY_BYPASS,
    XFAULT__COUNT
};

/* The points of helper-kill-at. */
enum xfault_point {
    XFAULT_AT_SUSPEND,              /* save helper: checkpoint N's suspend callback (the
                                     * guest suspended, nothing of N sent) */
    XFAULT_AT_CHECKPOINT,           /* save helper: after the engine's CHECKPOINT record
                                     * of checkpoint N, before libxl's CHECKPOINT_END */
    XFAULT_AT_RESTORE_CHECKPOINT,   /* restore helper: checkpoint N's CHECKPOINT record
                                     * read, before libxl reads CHECKPOINT_END */
};

/* The longest delay a delay fault may ask for (ms). */
#define XFAULT_DELAY_MS_MAX 3600000UL

struct xfault {
    unsigned long arg[2];
    unsigned int nargs;
};

/* The fault as COLO_FAULT selects it, NULL when it does not.  A malformed COLO_FAULT is
 * reported on stderr, naming what is wrong, and selects nothing. */
const struct xfault *xfault(enum xfault_id id);
/* The fault's name in COLO_FAULT. */
const char *xfault_name(enum xfault_id id);
/* Selects the faults of a COLO_FAULT value v (replacing what was selected): 0, or -1
 * with what is wrong in why, and nothing selected.  xfault() does it once, with the
 * environment's value; the unit test calls it directly. */
int xfault_parse(const char *v, char *why, size_t whylen);

/*
 * Faults at a byte offset of the writes to an fd through write_exact/writev_exact
 * (xutil.h).  Offsets count the bytes this process writes to the fd from the call on.
 * Synchronous, in the writer's own call, so the order of the writes of everyone else
 * who shares the stream is kept.  at_fire (may be NULL) runs once, when the fault
 * happens.  At most four per process; several on one fd happen in offset order.
 */
enum xfault_kind {
    XFAULT_KIND_CUT,      /* bytes up to the offset go out; that write and every later
                           * one fails with EPIPE */
    XFAULT_KIND_CORRUPT,  /* the byte at the offset goes out inverted (once) */
    XFAULT_KIND_DELAY,    /* the write that reaches the offset sends what lies before it,
                           * sleeps ms, then sends the rest (once) */
};
/* 0, or -1 with errno (EBADF, or ENOSPC when four are set already). */
int xfault_on_writes(int fd, enum xfault_kind kind, unsigned long bytes, unsigned long ms,
                     void (*at_fire)(void *), void *opaque);
/* Removes fd's faults (once it is closed: its number may come back for another file). */
void xfault_off_writes(int fd);
/* For fdio.c: whether fd has a fault still to come (cheap: asked on every write). */
int xfault_writes_faulty(int fd);
/* For fdio.c: a write to such an fd, with raw writing whole vectors: 0, or -1 with errno
 * (EPIPE from a cut). */
struct iovec;
int xfault_writev(int fd, const struct iovec *iov, int iovcnt,
                  int (*raw)(int fd, struct iovec *iov, int iovcnt));

#endif
