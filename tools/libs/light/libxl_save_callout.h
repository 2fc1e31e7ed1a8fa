/*
 * The save callout: runs libxl-save-helper (params.helper_path, else the installed one)
 * with the stream fd and the back-channel fd on its command line, answers its numbered
 * messages with the parent's callbacks, and reports how it ended.
 */
#ifndef LIBXL_SAVE_CALLOUT_H
#define LIBXL_SAVE_CALLOUT_H

#include <stddef.h>
#include <stdint.h>

struct save_helper_hooks {
    void *data;
    int (*suspend)(void *data);
    int (*postcopy)(void *data);
    int (*checkpoint)(void *data);
    int (*wait_checkpoint)(void *data);
    int (*resume_staged)(void *data);
    int (*switch_qemu_logdirty)(uint32_t domid, unsigned int enable, void *data);
    int (*static_data_done)(unsigned int missing, void *data);
    void (*restore_results)(uint64_t store_gfn, uint64_t console_gfn, void *data);
    void (*log)(uint32_t level, uint32_t errnoval, const char *context, const char *msg,
                void *data);
    void (*progress)(const char *context, const char *what, unsigned long done,
                     unsigned long total, void *data);
};

struct save_helper_params {
    const char *helper_path;      /* NULL: the installed libxl-save-helper */
    int restore;                  /* 0: --save-domain, 1: --restore-domain */
    int io_fd;                    /* the stream */
    int back_fd;                  /* save: recv_fd; restore: send_back_fd; -1 if none */
    uint32_t domid;
    uint32_t xcflags;             /* save */
    unsigned int store_evtchn, console_evtchn;   /* restore */
    uint32_t store_domid, console_domid;         /* restore */
    unsigned int cbflags;
    int stream_type;
    /* The helper is declared hung after this much silence (0: never). */
    unsigned int silence_timeout_ms;
    /* Restore of a checkpointed stream: when the helper has read nothing from the stream
     * for this long (0: never), the primary is lost: the helper gets SIGTERM and fails
     * over into the last whole checkpoint. */
    unsigned int stall_timeout_ms;
};

struct save_helper_result {
    int started;
    int complete_seen;            /* the helper sent `complete` */
    int retval, errnoval;         /* ... with these */
    int results_seen;             /* restore_results seen */
    uint64_t store_gfn, console_gfn;
    int wait_status;              /* waitpid status */
    int aborted;                  /* we sent SIGTERM (and maybe SIGKILL) */
    int stalled;                  /* the stream stalled: we told the helper to fail over */
    char err[512];                /* what went wrong, when it did */
};


/*
 * Runs the helper to completion.  Returns 0 when it sent `complete` with retval 0 and
 * exited with status 0 (and, for restore, sent restore_results); -1 otherwise, with a
 * human-readable reason in res->err (the exit status or signal, a malformed message,
 * a hang).
 */
int libxl__save_helper_run(const struct save_helper_params *p, const struct save_helper_hooks *h,
                           struct save_helper_result *res);

/*
 * One message from the helper (body: msgnum and arguments, len bytes, without the
 * msglen prefix), answered on reply_fd when it expects an answer.  Returns -1 when it
 * is malformed (res->err says why) or the reply failed.
 */
int libxl__save_helper_dispatch(const struct save_helper_params *p,
                                const struct save_helper_hooks *h, const uint8_t *body,
                                size_t len, int reply_fd, struct save_helper_result *res);

/* Set from a signal handler to abort a running helper (SIGTERM, then SIGKILL). */
extern volatile int libxl__save_helper_abort_requested;

#endif
