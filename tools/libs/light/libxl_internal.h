/*
 * libxl's internals shared by its files: the context, logging through the caller's
 * xentoollog logger, and the calls one file makes into another.  Not installed.
 */
#ifndef LIBXL_INTERNAL_H
#define LIBXL_INTERNAL_H

#include <signal.h>
#include <stdint.h>

#include "libxl.h"
#include "libxl_utils.h"
#include "libxl_save_callout.h"
#include "xhv.h"

struct libxl__ctx {
    xc_interface *xch;
    xentoollog_logger *lg;         /* the caller's, or own_lg */
    xentoollog_logger *own_lg;     /* ours when the caller gave none (freed with ctx) */
    int verbosity;                 /* own_lg's level (libxl_ctx_set_verbosity) */
    char last_error[1024];
    libxl_progress_fn *progress;
    void *progress_opaque;
    volatile sig_atomic_t remus_stop;
};

/* ---- logging (libxl.c): every message of the library goes to ctx->lg ---- */
void libxl__log(libxl_ctx *ctx, xentoollog_level level, int errnoval, const char *context,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* An error: logged and kept as libxl_ctx_last_error(). */
#define LOG_ERR(ctx, ...)    libxl__log((ctx), XTL_ERROR, -1, "libxl", __VA_ARGS__)
#define LOG_NOTICE(ctx, ...) libxl__log((ctx), XTL_NOTICE, -1, "libxl", __VA_ARGS__)
#define LOG_INFO(ctx, ...)   libxl__log((ctx), XTL_INFO, -1, "libxl", __VA_ARGS__)
/* The engine's and the save helper's messages, with their xhv level. */
void libxl__log_engine(libxl_ctx *ctx, int xhv_level, int errnoval, const char *context,
                       const char *msg);
void libxl__progress(libxl_ctx *ctx, const char *what, unsigned long done,
                     unsigned long total);

/* ao_how must be NULL: ERROR_NI (logged) otherwise. */
int libxl__check_ao(libxl_ctx *ctx, const libxl_asyncop_how *ao_how);
int libxl__on_xen(libxl_ctx *ctx);

/* ---- the stored domain config (libxl_userdata.c) ---- */
void libxl__userdata_store(libxl_ctx *ctx, uint32_t domid, libxl_domain_config *c);
/* The path of the stored config, found while the domain exists: 0 or -1. */
int libxl__userdata_path(libxl_ctx *ctx, char *buf, size_t len, uint32_t domid);

/* ---- domains (libxl_domain.c) ---- */
/* A failed save or replication left the domain suspended: resume it (nothing lost). */
void libxl__resume_if_suspended(libxl_ctx *ctx, uint32_t domid);

/* ---- create (libxl_create.c) ---- */
/* The network device's output served straight to its clients (no COLO). */
void libxl__start_direct_net(libxl_ctx *ctx, const libxl_domain_config *c, uint32_t domid);

/* ---- the save helper's hooks every operation shares (libxl_dom_save.c) ---- */
/* Each operation's state starts with this, so the shared hooks find the context. */
struct libxl__helper_op {
    libxl_ctx *ctx;
    uint32_t domid;
};
void libxl__hook_log(uint32_t level, uint32_t errnoval, const char *context, const char *msg,
                     void *data);
void libxl__hook_progress(const char *context, const char *what, unsigned long done,
                          unsigned long total, void *data);
int libxl__hook_logdirty(uint32_t domid, unsigned int enable, void *data);
/* The helper's silence limit: the tunable, else the default. */
unsigned int libxl__helper_silence_ms(libxl_ctx *ctx);

/* ---- the COLO primary's compare proxy (libxl_colo_save.c) ---- */
struct ckpt_primary;
/* A domain with a network device gets its compare proxy: 0, or an error (logged). */
int libxl__colo_save_setup(libxl_ctx *ctx, uint32_t domid, struct ckpt_primary *p);
/* Checkpoint n, the primary suspended: its packets from now on belong to epoch n. */
void libxl__colo_save_epoch(libxl_ctx *ctx, uint32_t domid, struct ckpt_primary *p,
                            unsigned int n);
/* The secondary has checkpoint n: the packets of the epochs before it may go out. */
void libxl__colo_save_checkpoint(libxl_ctx *ctx, struct ckpt_primary *p, unsigned int n);
void libxl__colo_save_teardown(libxl_ctx *ctx, struct ckpt_primary *p);

/* ---- the secondary of a checkpointed stream (libxl_colo_restore.c) ---- */
struct libxl__checkpoint_secondary;
/* Sets up the secondary's state and hooks for a Remus or COLO stream. */
struct libxl__checkpoint_secondary *
libxl__checkpoint_secondary_new(libxl_ctx *ctx, uint32_t domid, int stream, int main_fd,
                                int back_fd, const libxl_domain_config *c,
                                struct save_helper_params *p, struct save_helper_hooks *h);
/* The helper finished the stream: fail over into the last whole checkpoint (take over,
 * or with hold leave the domain paused and its output held for libxl_domain_takeover). */
void libxl__checkpoint_secondary_failover(struct libxl__checkpoint_secondary *sec,
                                          const libxl_domain_config *c,
                                          const struct save_helper_result *res, int hold);
/* Whether the rings were connected to xenstored/xenconsoled during the stream. */
int libxl__checkpoint_secondary_rings_connected(const struct libxl__checkpoint_secondary *sec);
/* The engine's reason for a failure, "" when none. */
const char *libxl__checkpoint_secondary_err(const struct libxl__checkpoint_secondary *sec);
void libxl__checkpoint_secondary_free(struct libxl__checkpoint_secondary *sec);

/* Connect a restored guest's xenstore and console rings before it runs (frames from the
 * helper's restore_results, else from the domain's params): 0 or -1 (logged). */
int libxl__connect_rings(libxl_ctx *ctx, uint32_t domid, const struct save_helper_result *res);

#endif
