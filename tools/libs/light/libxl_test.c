/* libxl's settings table and test instrumentation (libxl_test.h). */
#include "libxl_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_compare.h"
#include "xfault.h"
#include "xutil.h"

static const char *const setting_env[LIBXL__NR_SETTINGS] = {
    [LIBXL__HEARTBEAT_TIMEOUT_MS] = "LIBXL_HEARTBEAT_TIMEOUT_MS",
    [LIBXL__SAVE_HELPER_TIMEOUT_MS] = "LIBXL_SAVE_HELPER_TIMEOUT_MS",
    [LIBXL__SAVE_HELPER] = "LIBXL_SAVE_HELPER",
    [LIBXL__COLO_PROXY] = "COLO_PROXY",
    [LIBXL__COLO_PROXY_TIMEOUT_MS] = "COLO_PROXY_TIMEOUT_MS",
    [LIBXL__COLO_PROXY_LOG] = "COLO_PROXY_LOG",
    [LIBXL__CHECKPOINT_STAGING] = "LIBXL_CHECKPOINT_STAGING",
    [LIBXL__TEST_DIGEST_DIR] = "LIBXL_CHECKPOINT_DIGEST_DIR",
    [LIBXL__TEST_COLO_COMPARE] = "LIBXL_TEST_COLO_COMPARE",
};

static const char *setting_val[LIBXL__NR_SETTINGS];
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

static void read_settings(void)
{
    for (int i = 0; i < LIBXL__NR_SETTINGS; i++) {
        const char *v = getenv(setting_env[i]);

        setting_val[i] = v && *v ? v : NULL;
    }
}

const char *libxl__setting_str(libxl_ctx *ctx, enum libxl__setting s)
{
    (void)ctx;
    pthread_once(&settings_once, read_settings);
    return setting_val[s];
}

/* A decimal number, all of it. */
static int parse_num(const char *v, unsigned long *out)
{
    char *e;

    errno = 0;
    *out = strtoul(v, &e, 10);
    return e == v || errno || *v == '-' || *e ? -1 : 0;
}

unsigned long libxl__setting_num(libxl_ctx *ctx, enum libxl__setting s, unsigned long def)
{
    const char *v = libxl__setting_str(ctx, s);
    unsigned long n;

    if (!v)
        return def;
    if (parse_num(v, &n)) {
        LOG_ERR(ctx, "%s='%s' is not a number: using %lu", setting_env[s], v, def);
        return def;
    }
    return n;
}

/* Writes path.tmp then renames it: a reader never sees a file half written. */
static void write_note(libxl_ctx *ctx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void write_note(libxl_ctx *ctx, const char *name, const char *fmt, ...)
{
    const char *dir = libxl__setting_str(ctx, LIBXL__TEST_DIGEST_DIR);
    char tmp[512], final[512];
    va_list ap;
    FILE *f;

    if (!dir)
        return;
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    snprintf(final, sizeof(final), "%s/%s", dir, name);
    f = fopen(tmp, "w");
    if (!f) {
        LOG_ERR(ctx, "test: writing %s: %s", tmp, strerror(errno));
        return;
    }
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    if (fclose(f) || rename(tmp, final))
        LOG_ERR(ctx, "test: writing %s: %s", final, strerror(errno));
}

void libxl__test_primary_checkpoint(libxl_ctx *ctx, uint32_t domid, unsigned int n)
{
    uint64_t m, c;
    char name[64];

    if (libxl__setting_str(ctx, LIBXL__TEST_DIGEST_DIR) &&
        !domain_digest(ctx->xch, domid, &m, &c)) {
        snprintf(name, sizeof(name), "primary-checkpoint-%u", n);
        write_note(ctx, name, "mem=%016llx ctx=%016llx\n", (unsigned long long)m,
                   (unsigned long long)c);
    }
}

void libxl__test_primary_stall(libxl_ctx *ctx, unsigned int n)
{
    const struct xfault *stall = xfault(XFAULT_PRIMARY_STALL);
    unsigned long ms;

    if (!stall || stall->arg[0] != n)
        return;
    ms = stall->nargs > 1 ? stall->arg[1] : 3600000;
    LOG_NOTICE(ctx, "test: stalling at checkpoint %u for %lu ms", n, ms);
    write_note(ctx, "primary-stalled", "%u\n", n);
    clock_sleep_ms((unsigned int)ms);
}

void libxl__test_replication_ended(libxl_ctx *ctx)
{
    write_note(ctx, "replication-ended", "\n");
}

void libxl__test_secondary_compare(libxl_ctx *ctx, uint32_t domid, unsigned int n)
{
    unsigned long pvm = libxl__setting_num(ctx, LIBXL__TEST_COLO_COMPARE, 0);
    uint64_t first = UINT64_MAX;
    long diff;

    if (!pvm)
        return;
    diff = domain_diff_pages(ctx->xch, (uint32_t)pvm, domid, &first);
    /* The pair goes on either way: the report is for the test to judge. */
    LOG_NOTICE(ctx, "test: COLO checkpoint %u: %ld pages of domain %u differ from domain %lu%s%llx",
               n, diff, domid, pvm, diff > 0 ? ", first pfn " : " ",
               diff > 0 ? (unsigned long long)first : 0ULL);
}

void libxl__test_secondary_failover(libxl_ctx *ctx, uint32_t domid, const char *what,
                                    unsigned int checkpoints)
{
    uint64_t m = 0, c = 0;

    if (!libxl__setting_str(ctx, LIBXL__TEST_DIGEST_DIR))
        return;
    domain_digest(ctx->xch, domid, &m, &c);
    write_note(ctx, "secondary-failover", "%s checkpoints=%u domid=%u mem=%016llx ctx=%016llx\n",
               what, checkpoints, domid, (unsigned long long)m, (unsigned long long)c);
}
