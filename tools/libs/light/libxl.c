/*
 * libxenlight-colo: the context and its logging (tools/include/libxl.h).  The
 * operations live in the files upstream's libxl keeps them in: libxl_domain.c
 * (lifecycle), libxl_create.c (create and restore), libxl_dom_save.c (save),
 * libxl_remus.c (the Remus/COLO primary), libxl_colo_restore.c (the secondary),
 * libxl_json.c (the config as JSON), libxl_userdata.c (the stored config).
 */
#include "libxl_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the library's own logger: stderr, filtered by the context's verbosity ---- */
struct stderr_logger {
    xentoollog_logger lg;
    const libxl_ctx *ctx;
};

static xentoollog_level own_min_level(const libxl_ctx *ctx)
{
    return ctx->verbosity >= 2 ? XTL_DEBUG : ctx->verbosity == 1 ? XTL_INFO : XTL_NOTICE;
}

static void stderr_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
                            const char *context, const char *format, va_list al)
{
    const struct stderr_logger *sl = (const struct stderr_logger *)lg;
    char msg[2048];

    if (level < own_min_level(sl->ctx))
        return;
    vsnprintf(msg, sizeof(msg), format, al);
    /* one write per message: lines of concurrent processes do not interleave */
    fprintf(stderr, "%s: %s%s%s%s\n", context ? context : "libxl",
            level >= XTL_ERROR && context && !strcmp(context, "libxl") ? "error: " : "", msg,
            errnoval > 0 ? ": " : "", errnoval > 0 ? strerror(errnoval) : "");
}

static void stderr_destroy(xentoollog_logger *lg)
{
    free(lg);
}

static xentoollog_logger *stderr_logger_new(const libxl_ctx *ctx)
{
    struct stderr_logger *sl = calloc(1, sizeof(*sl));

    if (!sl)
        return NULL;
    sl->lg.vmessage = stderr_vmessage;
    sl->lg.destroy = stderr_destroy;
    sl->ctx = ctx;
    return &sl->lg;
}

void libxl__log(libxl_ctx *ctx, xentoollog_level level, int errnoval, const char *context,
                const char *fmt, ...)
{
    va_list ap;

    if (level >= XTL_ERROR) {
        va_start(ap, fmt);
        vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
        va_end(ap);
    }
    va_start(ap, fmt);
    ctx->lg->vmessage(ctx->lg, level, errnoval, context, fmt, ap);
    va_end(ap);
}

void libxl__log_engine(libxl_ctx *ctx, int xhv_level, int errnoval, const char *context,
                       const char *msg)
{
    static const xentoollog_level map[] = {
        [XHV_LOG_DEBUG] = XTL_DEBUG, [XHV_LOG_INFO] = XTL_INFO,
        [XHV_LOG_WARN] = XTL_WARN, [XHV_LOG_ERROR] = XTL_ERROR,
    };
    xentoollog_level level = xhv_level >= 0 && xhv_level <= XHV_LOG_ERROR ? map[xhv_level]
                                                                          : XTL_ERROR;

    libxl__log(ctx, level, errnoval ? errnoval : -1, context ? context : "xhv", "%s", msg);
}

static void engine_logger(void *opaque, enum xhv_loglevel level, int errnoval,
                          const char *context, const char *msg)
{
    libxl__log_engine(opaque, (int)level, errnoval, context, msg);
}

void libxl__progress(libxl_ctx *ctx, const char *what, unsigned long done,
                     unsigned long total)
{
    if (ctx->progress)
        ctx->progress(ctx->progress_opaque, what, done, total);
}

/* ---- defbool ---- */
void libxl_defbool_set(libxl_defbool *db, bool b) { db->val = b ? 1 : -1; }
void libxl_defbool_unset(libxl_defbool *db) { db->val = 0; }
bool libxl_defbool_is_default(libxl_defbool db) { return db.val == 0; }
bool libxl_defbool_val(libxl_defbool db) { return db.val > 0; }
void libxl_defbool_setdefault(libxl_defbool *db, bool b)
{
    if (!db->val)
        libxl_defbool_set(db, b);
}

/* ---- context ---- */
int libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags, xentoollog_logger *lg)
{
    libxl_ctx *ctx = NULL;
    int rc = ERROR_NOMEM;

    (void)flags;
    *pctx = NULL;
    if (version != LIBXL_VERSION)
        return ERROR_VERSION;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        goto out;
    ctx->lg = lg;
    if (!lg && !(ctx->lg = ctx->own_lg = stderr_logger_new(ctx)))
        goto out;
    ctx->xch = xhv_open(NULL);
    if (!ctx->xch) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "cannot open the hypervisor interface");
        rc = ERROR_FAIL;
        goto out;
    }
    xhv_set_logger(ctx->xch, engine_logger, ctx);
    *pctx = ctx;
    ctx = NULL;
    rc = 0;
 out:
    if (ctx) {
        if (ctx->own_lg)
            ctx->own_lg->destroy(ctx->own_lg);
        free(ctx);
    }
    return rc;
}

int libxl_ctx_free(libxl_ctx *ctx)
{
    if (!ctx)
        return 0;
    xhv_close(ctx->xch);
    if (ctx->own_lg)
        ctx->own_lg->destroy(ctx->own_lg);
    free(ctx);
    return 0;
}

const char *libxl_ctx_last_error(libxl_ctx *ctx) { return ctx->last_error; }

void libxl_ctx_set_progress(libxl_ctx *ctx, libxl_progress_fn *fn, void *opaque)
{
    ctx->progress = fn;
    ctx->progress_opaque = opaque;
}

void libxl_ctx_set_verbosity(libxl_ctx *ctx, int level) { ctx->verbosity = level; }

int libxl__check_ao(libxl_ctx *ctx, const libxl_asyncop_how *ao_how)
{
    if (ao_how) {
        LOG_ERR(ctx, "asynchronous operations are not implemented (ao_how must be NULL)");
        return ERROR_NI;
    }
    return 0;
}

int libxl__on_xen(libxl_ctx *ctx)
{
    return !strcmp(xhv_backend_name(ctx->xch), "xen");
}
