/* libxhv: handle, backend dispatch and logging. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xhv_backend.h"

/* A handle for logging only: every hypervisor call fails with ENOSYS.  A stream check
 * (xc_stream_check) runs on one, so that nothing it does can reach a domain. */
static int none_open(xc_interface *xch)
{
    (void)xch;
    return 0;
}
static void none_close(xc_interface *xch)
{
    (void)xch;
}
static const struct xhv_backend_ops xhv_none_ops = {
    .name = "none", .open = none_open, .close = none_close,
};

static const struct xhv_backend_ops *const backends[] = { &xhv_sim_ops, &xhv_xen_ops, &xhv_none_ops };

static const char *level_name(enum xhv_loglevel l)
{
    switch (l) {
    case XHV_LOG_DEBUG: return "debug";
    case XHV_LOG_INFO: return "info";
    case XHV_LOG_WARN: return "warning";
    default: return "error";
    }
}

static void default_logger(void *opaque, enum xhv_loglevel level, int errnoval,
                           const char *context, const char *msg)
{
    (void)opaque;
    if (errnoval)
        fprintf(stderr, "xhv: %s: %s: %s: %s\n", level_name(level), context ? context : "",
                msg, strerror(errnoval));
    else
        fprintf(stderr, "xhv: %s: %s: %s\n", level_name(level), context ? context : "", msg);
}

xc_interface *xhv_open(const char *backend)
{
    xc_interface *xch;
    const char *lvl = getenv("XHV_LOGLEVEL");

    if (!backend || !*backend)
        backend = getenv("XHV_BACKEND");
    if (!backend || !*backend)
        backend = "sim";
    xch = calloc(1, sizeof(*xch));
    if (!xch)
        return NULL;
    xch->logfn = default_logger;
    xch->minlevel = XHV_LOG_INFO;
    if (lvl && !strcasecmp(lvl, "debug"))
        xch->minlevel = XHV_LOG_DEBUG;
    else if (lvl && (!strcasecmp(lvl, "warn") || !strcasecmp(lvl, "warning")))
        xch->minlevel = XHV_LOG_WARN;
    else if (lvl && !strcasecmp(lvl, "error"))
        xch->minlevel = XHV_LOG_ERROR;
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (!strcmp(backends[i]->name, backend))
            xch->ops = backends[i];
    if (!xch->ops) {
        xhv_log(xch, XHV_LOG_ERROR, 0, "xhv_open", "unknown backend '%s' (sim, xen, none)", backend);
        free(xch);
        errno = EINVAL;
        return NULL;
    }
    if (xch->ops->open(xch)) {
        int e = errno;
        free(xch);
        errno = e;
        return NULL;
    }
    xhv_log(xch, XHV_LOG_DEBUG, 0, "xhv_open", "backend %s", xch->ops->name);
    return xch;
}

void xhv_close(xc_interface *xch)
{
    if (!xch)
        return;
    xch->ops->close(xch);
    free(xch);
}

const char *xhv_backend_name(xc_interface *xch)
{
    return xch->ops->name;
}

void xhv_set_logger(xc_interface *xch, xhv_log_fn *fn, void *opaque)
{
    xch->logfn = fn ? fn : default_logger;
    xch->logopaque = fn ? opaque : NULL;
    /* a custom logger sees everything and filters itself */
    if (fn)
        xch->minlevel = XHV_LOG_DEBUG;
}

void xhv_log(xc_interface *xch, enum xhv_loglevel level, int errnoval, const char *context,
             const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int saved = errno;

    if (xch && level < xch->minlevel)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (xch)
        xch->logfn(xch->logopaque, level, errnoval, context, msg);
    else
        default_logger(NULL, level, errnoval, context, msg);
    errno = saved;
}

/* ---- dispatch -------------------------------------------------------------------------- */

#define CALL(fn, ...)                                                                    \
    do {                                                                                 \
        if (!xch) {                                                                      \
            errno = EINVAL;                                                              \
            return -1;                                                                   \
        }                                                                                \
        if (!xch->ops->fn) {                                                             \
            errno = ENOSYS;                                                              \
            return -1;                                                                   \
        }                                                                                \
        return xch->ops->fn(xch, __VA_ARGS__);                                           \
    } while (0)

int xhv_domain_create(xc_interface *xch, const xhv_domain_config_t *cfg, uint32_t *domid)
{ CALL(domain_create, cfg, domid); }
int xhv_domain_destroy(xc_interface *xch, uint32_t domid) { CALL(domain_destroy, domid); }
int xhv_domain_info(xc_interface *xch, uint32_t domid, xhv_dominfo_t *info)
{ CALL(domain_info, domid, info); }
int xhv_domain_list(xc_interface *xch, xhv_dominfo_t *info, int max)
{ CALL(domain_list, info, max); }
int xhv_domain_lookup(xc_interface *xch, const char *name, uint32_t *domid)
{ CALL(domain_lookup, name, domid); }
int xhv_domain_rename(xc_interface *xch, uint32_t domid, const char *name)
{ CALL(domain_rename, domid, name); }
int xhv_domain_ports(xc_interface *xch, uint32_t domid, unsigned int *store_port,
                     unsigned int *console_port)
{ CALL(domain_ports, domid, store_port, console_port); }
int xhv_domain_introduce(xc_interface *xch, uint32_t domid, uint64_t store_gfn,
                         uint64_t console_gfn)
{ CALL(domain_introduce, domid, store_gfn, console_gfn); }
struct xs_handle *xhv_xenstore(xc_interface *xch)
{
    if (!xch || !xch->ops->xenstore) {
        errno = xch ? ENOSYS : EINVAL;
        return NULL;
    }
    return xch->ops->xenstore(xch);
}
int xhv_domain_pause(xc_interface *xch, uint32_t domid) { CALL(domain_pause, domid); }
int xhv_domain_unpause(xc_interface *xch, uint32_t domid) { CALL(domain_unpause, domid); }
int xhv_domain_suspend(xc_interface *xch, uint32_t domid, unsigned int timeout_ms)
{ CALL(domain_suspend, domid, timeout_ms); }
int xhv_domain_resume(xc_interface *xch, uint32_t domid, int fast)
{ CALL(domain_resume, domid, fast); }
int xhv_populate(xc_interface *xch, uint32_t domid, const uint64_t *pfns, size_t n)
{ CALL(populate, domid, pfns, n); }
int xhv_get_pfn_type_batch(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *pfns,
                           uint32_t *types)
{ CALL(get_pfn_type_batch, domid, n, pfns, types); }
int xhv_map_foreign(xc_interface *xch, uint32_t domid, int prot, const uint64_t *pfns,
                    void **pages, int *errs, size_t n)
{ CALL(map_foreign, domid, prot, pfns, pages, errs, n); }
int xhv_unmap_foreign(xc_interface *xch, uint32_t domid, void **pages, size_t n)
{ CALL(unmap_foreign, domid, pages, n); }
int xhv_logdirty(xc_interface *xch, uint32_t domid, enum xhv_logdirty_op op,
                 unsigned long *bitmap, uint64_t nr_pfns, xhv_logdirty_stats_t *stats)
{ CALL(logdirty, domid, op, bitmap, nr_pfns, stats); }
int xhv_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *buf, size_t size)
{ CALL(hvm_getcontext, domid, buf, size); }
int xhv_hvm_setcontext(xc_interface *xch, uint32_t domid, const uint8_t *buf, size_t size)
{ CALL(hvm_setcontext, domid, buf, size); }
int xhv_hvm_state_digest(xc_interface *xch, uint32_t domid, uint64_t *digest)
{ CALL(hvm_state_digest, domid, digest); }
int xhv_hvm_param_get(xc_interface *xch, uint32_t domid, uint32_t index, uint64_t *value)
{ CALL(hvm_param_get, domid, index, value); }
int xhv_hvm_param_set(xc_interface *xch, uint32_t domid, uint32_t index, uint64_t value)
{ CALL(hvm_param_set, domid, index, value); }
int xhv_tsc_info_get(xc_interface *xch, uint32_t domid, uint32_t *mode, uint64_t *elapsed_nsec,
                     uint32_t *khz, uint32_t *incarnation)
{ CALL(tsc_info_get, domid, mode, elapsed_nsec, khz, incarnation); }
int xhv_tsc_info_set(xc_interface *xch, uint32_t domid, uint32_t mode, uint64_t elapsed_nsec,
                     uint32_t khz, uint32_t incarnation)
{ CALL(tsc_info_set, domid, mode, elapsed_nsec, khz, incarnation); }
int xhv_cpu_policy_get(xc_interface *xch, uint32_t domid, void *leaves, uint32_t *nr_leaves,
                       void *msrs, uint32_t *nr_msrs)
{ CALL(cpu_policy_get, domid, leaves, nr_leaves, msrs, nr_msrs); }
int xhv_cpu_policy_set(xc_interface *xch, uint32_t domid, const void *leaves,
                       uint32_t nr_leaves, const void *msrs, uint32_t nr_msrs)
{ CALL(cpu_policy_set, domid, leaves, nr_leaves, msrs, nr_msrs); }
int xhv_version(xc_interface *xch, uint32_t *major, uint32_t *minor)
{ CALL(version, major, minor); }
int xhv_sim_status(xc_interface *xch, uint32_t domid, xhv_sim_status_t *st)
{ CALL(sim_status, domid, st); }

/* PV guests */
int xhv_pv_info(xc_interface *xch, uint32_t domid, xhv_pv_info_t *info)
{ CALL(pv_info, domid, info); }
int xhv_pv_p2m_frames(xc_interface *xch, uint32_t domid, uint64_t *p2m_size, uint64_t *frames,
                      size_t max)
{ CALL(pv_p2m_frames, domid, p2m_size, frames, max); }
int xhv_pv_mfn_types(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *mfns,
                     uint32_t *types)
{ CALL(pv_mfn_types, domid, n, mfns, types); }
int xhv_pv_vcpu_get(xc_interface *xch, uint32_t domid, uint32_t vcpu,
                    enum xhv_pv_vcpu_blob which, uint8_t *buf, size_t size)
{ CALL(pv_vcpu_get, domid, vcpu, which, buf, size); }
int xhv_pv_populate(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *pfns,
                    uint64_t *mfns)
{ CALL(pv_populate, domid, n, pfns, mfns); }
int xhv_pv_pin(xc_interface *xch, uint32_t domid, size_t n, const uint64_t *mfns,
               const unsigned int *levels)
{ CALL(pv_pin, domid, n, mfns, levels); }
int xhv_pv_vcpu_set(xc_interface *xch, uint32_t domid, uint32_t vcpu,
                    enum xhv_pv_vcpu_blob which, const uint8_t *buf, size_t size)
{ CALL(pv_vcpu_set, domid, vcpu, which, buf, size); }
int xhv_pv_set_shared_info(xc_interface *xch, uint32_t domid, const uint8_t *page,
                           size_t size)
{ CALL(pv_set_shared_info, domid, page, size); }
int xhv_granted_writable(xc_interface *xch, uint32_t domid, unsigned long *bitmap,
                         uint64_t nbits, uint64_t *added)
{ CALL(granted_writable, domid, bitmap, nbits, added); }
int xhv_seed_grants(xc_interface *xch, uint32_t domid, uint64_t console_mfn,
                       uint32_t console_domid, uint64_t store_mfn, uint32_t store_domid)
{ CALL(seed_grants, domid, console_mfn, console_domid, store_mfn, store_domid); }
