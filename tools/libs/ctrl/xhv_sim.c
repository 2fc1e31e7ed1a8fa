/* The simulated-hypervisor backend of xhv: thin wrappers over xen/ (simxen.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "simxen.h"
#include "xhv_backend.h"
#include "xutil.h"

#define SX(xch) ((simxen_t *)(xch)->priv)

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_rc;
static char probe_why[512];

static void run_probe(void)
{
    probe_rc = simxen_probe_logdirty(probe_why, sizeof(probe_why));
}

static int sim_open(xc_interface *xch)
{
    simxen_t *sx;

    pthread_once(&probe_once, run_probe);
    if (probe_rc) {
        fprintf(stderr, "xhv: the simulated hypervisor needs the kernel's dirty-page "
                "tracker (userfaultfd write-protect ASYNC on shmem + PAGEMAP_SCAN, "
                "Linux >= 6.7); the probe failed: %s\n", probe_why);
        errno = ENOTSUP;
        return -1;
    }
    sx = simxen_open(NULL);
    if (!sx) {
        xhv_log(xch, XHV_LOG_ERROR, errno, "xhv_open", "cannot open the simulated "
                "hypervisor state directory");
        return -1;
    }
    xch->priv = sx;
    return 0;
}

static void sim_close(xc_interface *xch)
{
    simxen_close(SX(xch));
}

static int ret(xc_interface *xch, int rc, const char *what, uint32_t domid)
{
    if (rc < 0) {
        int e = errno;
        enum xhv_loglevel l = (e == ESRCH || e == ENOENT) ? XHV_LOG_DEBUG : XHV_LOG_ERROR;
        xhv_log(xch, l, e, what, "domain %u", domid);
        errno = e;
    }
    return rc;
}

/* The interface's values are the simulated hypervisor's own. */
_Static_assert(XHV_SHUTDOWN_suspend == SIMXEN_SHUTDOWN_suspend &&
               XHV_SHUTDOWN_crash == SIMXEN_SHUTDOWN_crash, "shutdown reasons");
_Static_assert(XHV_PFINFO_NOTAB == SIMXEN_PFINFO_NOTAB && XHV_PFINFO_XTAB == SIMXEN_PFINFO_XTAB,
               "page types");
_Static_assert((int)XHV_LOGDIRTY_ENABLE == SIMXEN_LOGDIRTY_ENABLE &&
               (int)XHV_LOGDIRTY_OFF == SIMXEN_LOGDIRTY_OFF &&
               (int)XHV_LOGDIRTY_PEEK == SIMXEN_LOGDIRTY_PEEK &&
               (int)XHV_LOGDIRTY_CLEAN == SIMXEN_LOGDIRTY_CLEAN, "log-dirty operations");

static void to_xhv_info(const simxen_dominfo_t *s, xhv_dominfo_t *x)
{
    memset(x, 0, sizeof(*x));
    x->domid = s->domid;
    x->paused = s->paused;
    x->shutdown = s->shutdown;
    x->dying = s->dying;
    x->hvm = s->hvm;
    x->running = s->running;
    x->shutdown_reason = s->shutdown_reason;
    x->max_pages = s->max_pages;
    x->nr_pages = s->nr_pages;
    x->p2m_size = s->p2m_size;
    memcpy(x->name, s->name, sizeof(x->name));
}

static int sim_domain_create(xc_interface *xch, const xhv_domain_config_t *cfg, uint32_t *domid)
{
    simxen_domain_config_t sc;
    char err[512];
    int rc;

    if (!cfg) {
        errno = EINVAL;
        return -1;
    }
    memset(&sc, 0, sizeof(sc));
    memcpy(sc.name, cfg->name, sizeof(sc.name));
    sc.max_pages = cfg->max_pages;
    sc.start_paused = cfg->start_paused;
    if (cfg->sim) {
        memcpy(sc.program, cfg->sim->program, sizeof(sc.program));
        memcpy(sc.prog_args, cfg->sim->prog_args, sizeof(sc.prog_args));
        sc.host_input = cfg->sim->host_input;
    }
    rc = simxen_domain_create(SX(xch), &sc, domid, err, sizeof(err));

    if (rc) {
        int e = errno;
        xhv_log(xch, XHV_LOG_ERROR, e, "xhv_domain_create", "'%s': %s",
                cfg ? cfg->name : "?", err);
        errno = e;
    } else {
        xhv_log(xch, XHV_LOG_DEBUG, 0, "xhv_domain_create", "domain %u '%s' program '%s'",
                *domid, cfg->name, sc.program);
    }
    return rc;
}

static int sim_domain_destroy(xc_interface *xch, uint32_t domid)
{
    return ret(xch, simxen_domain_destroy(SX(xch), domid), "xhv_domain_destroy", domid);
}

static int sim_domain_info(xc_interface *xch, uint32_t domid, xhv_dominfo_t *info)
{
    if (!info) {
        errno = EINVAL;
        return -1;
    }
    simxen_dominfo_t si;
    int rc = simxen_domain_info(SX(xch), domid, &si);

    if (!rc)
        to_xhv_info(&si, info);
    return ret(xch, rc, "xhv_domain_info", domid);
}

static int sim_domain_list(xc_interface *xch, xhv_dominfo_t *info, int max)
{
    simxen_dominfo_t *si = max > 0 ? calloc((size_t)max, sizeof(*si)) : NULL;
    int n;

    if (max > 0 && !si)
        return -1;
    n = simxen_domain_list(SX(xch), si, max);
    for (int i = 0; i < n && i < max; i++)
        to_xhv_info(&si[i], &info[i]);
    free(si);
    return ret(xch, n, "xhv_domain_list", 0);
}

static int sim_domain_lookup(xc_interface *xch, const char *name, uint32_t *domid)
{
    if (!domid) {
        errno = EINVAL;
        return -1;
    }
    return ret(xch, simxen_domain_lookup(SX(xch), name, domid), "xhv_domain_lookup", 0);
}

static int sim_domain_rename(xc_interface *xch, uint32_t domid, const char *name)
{
    return ret(xch, simxen_domain_rename(SX(xch), domid, name), "xhv_domain_rename", domid);
}

/* The simulated guest finds its rings without event channels: fixed placeholder ports,
 * which the restore records in the guest's params as on Xen. */
static int sim_domain_ports(xc_interface *xch, uint32_t domid, unsigned int *store_port,
                            unsigned int *console_port)
{
    xhv_dominfo_t info;

    if (sim_domain_info(xch, domid, &info))
        return -1;
    *store_port = 1;
    *console_port = 2;
    return 0;
}

static int sim_domain_introduce(xc_interface *xch, uint32_t domid, uint64_t store_gfn,
                                uint64_t console_gfn)
{
    xhv_dominfo_t info;

    (void)store_gfn;
    (void)console_gfn;
    return sim_domain_info(xch, domid, &info);
}

static int sim_domain_pause(xc_interface *xch, uint32_t domid)
{
    return ret(xch, simxen_domain_pause(SX(xch), domid), "xhv_domain_pause", domid);
}

static int sim_domain_unpause(xc_interface *xch, uint32_t domid)
{
    return ret(xch, simxen_domain_unpause(SX(xch), domid), "xhv_domain_unpause", domid);
}

static int sim_domain_suspend(xc_interface *xch, uint32_t domid, unsigned int timeout_ms)
{
    return ret(xch, simxen_domain_suspend(SX(xch), domid, timeout_ms), "xhv_domain_suspend",
               domid);
}

static int sim_domain_resume(xc_interface *xch, uint32_t domid, int fast)
{
    return ret(xch, simxen_domain_resume(SX(xch), domid, fast), "xhv_domain_resume", domid);
}

static int sim_populate(xc_interface *xch, uint32_t domid, const uint64_t *pfns, size_t n)
{
    return ret(xch, simxen_populate(SX(xch), domid, pfns, n), "xhv_populate", domid);
}

static int sim_get_pfn_type_batch(xc_interface *xch, uint32_t domid, size_t n,
                                  const uint64_t *pfns, uint32_t *types)
{
    return ret(xch, simxen_pfn_types(SX(xch), domid, n, pfns, types), "xhv_get_pfn_type_batch",
               domid);
}

static int sim_map_foreign(xc_interface *xch, uint32_t domid, int prot, const uint64_t *pfns,
                           void **pages, int *errs, size_t n)
{
    if (prot & ~(PROT_READ | PROT_WRITE)) {
        errno = EINVAL;
        return -1;
    }
    /* The cached mapping is read-write; prot is not enforced (see the doc). */
    return ret(xch, simxen_map_pages(SX(xch), domid, pfns, pages, errs, n), "xhv_map_foreign",
               domid);
}

static int sim_unmap_foreign(xc_interface *xch, uint32_t domid, void **pages, size_t n)
{
    (void)xch;
    (void)domid;
    (void)pages;
    (void)n;
    return 0;   /* pages point into the per-handle cached mapping */
}

static int sim_logdirty(xc_interface *xch, uint32_t domid, enum xhv_logdirty_op op,
                        unsigned long *bitmap, uint64_t nr_pfns, xhv_logdirty_stats_t *stats)
{
    uint64_t count = 0;
    /* The simulated hypervisor writes no guest page behind the tracking: FINAL is CLEAN. */
    int rc = simxen_logdirty(SX(xch), domid,
                             op == XHV_LOGDIRTY_CLEAN_FINAL ? XHV_LOGDIRTY_CLEAN : (int)op,
                             bitmap, nr_pfns, &count);

    if (rc == 0 && stats)
        stats->dirty_count = count;
    return ret(xch, rc, "xhv_logdirty", domid);
}

static int sim_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *buf, size_t size)
{
    return ret(xch, simxen_getcontext(SX(xch), domid, buf, size), "xhv_hvm_getcontext", domid);
}

/* The simulated context has no clock in it: all of it. */
static int sim_hvm_state_digest(xc_interface *xch, uint32_t domid, uint64_t *digest)
{
    int len = sim_hvm_getcontext(xch, domid, NULL, 0), rc = -1;
    uint8_t *buf = len > 0 ? malloc((size_t)len) : NULL;

    if (buf && (len = sim_hvm_getcontext(xch, domid, buf, (size_t)len)) > 0) {
        *digest = fnv1a_words(FNV1A_INIT, buf, (size_t)len);
        rc = 0;
    }
    free(buf);
    return rc;
}

static int sim_hvm_setcontext(xc_interface *xch, uint32_t domid, const uint8_t *buf, size_t size)
{
    int rc = simxen_setcontext(SX(xch), domid, buf, size);

    if (rc) {
        int e = errno;
        xhv_log(xch, XHV_LOG_ERROR, e, "xhv_hvm_setcontext", "domain %u: %s", domid,
                simxen_last_error(SX(xch)));
        errno = e;
    }
    return rc;
}

static int sim_hvm_param_get(xc_interface *xch, uint32_t domid, uint32_t index, uint64_t *value)
{
    return ret(xch, simxen_param_get(SX(xch), domid, index, value), "xhv_hvm_param_get", domid);
}

static int sim_hvm_param_set(xc_interface *xch, uint32_t domid, uint32_t index, uint64_t value)
{
    return ret(xch, simxen_param_set(SX(xch), domid, index, value), "xhv_hvm_param_set", domid);
}

static int sim_tsc_info_get(xc_interface *xch, uint32_t domid, uint32_t *mode,
                            uint64_t *elapsed_nsec, uint32_t *khz, uint32_t *incarnation)
{
    return ret(xch, simxen_tsc_get(SX(xch), domid, mode, elapsed_nsec, khz, incarnation),
               "xhv_tsc_info_get", domid);
}

static int sim_tsc_info_set(xc_interface *xch, uint32_t domid, uint32_t mode,
                            uint64_t elapsed_nsec, uint32_t khz, uint32_t incarnation)
{
    return ret(xch, simxen_tsc_set(SX(xch), domid, mode, elapsed_nsec, khz, incarnation),
               "xhv_tsc_info_set", domid);
}

static int sim_version(xc_interface *xch, uint32_t *major, uint32_t *minor)
{
    (void)xch;
    if (major)
        *major = 4;
    if (minor)
        *minor = 17;
    return 0;
}

static int sim_sim_status(xc_interface *xch, uint32_t domid, xhv_sim_status_t *st)
{
    simxen_status_t ss;
    int rc = simxen_status(SX(xch), domid, &ss);

    _Static_assert(sizeof(ss) == sizeof(*st), "simxen_status_t and xhv_sim_status_t");
    if (!rc) {
        st->steps = ss.steps;
        st->resumes = ss.resumes;
        st->selfchecks_passed = ss.selfchecks_passed;
        st->selfchecks_failed = ss.selfchecks_failed;
        st->first_bad_pfn = ss.first_bad_pfn;
        st->vcpu_alive = ss.vcpu_alive;
    }
    return ret(xch, rc, "xhv_sim_status", domid);
}

const struct xhv_backend_ops xhv_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .domain_create = sim_domain_create,
    .domain_destroy = sim_domain_destroy,
    .domain_info = sim_domain_info,
    .domain_list = sim_domain_list,
    .domain_lookup = sim_domain_lookup,
    .domain_rename = sim_domain_rename,
    .domain_ports = sim_domain_ports,
    .domain_introduce = sim_domain_introduce,
    .domain_pause = sim_domain_pause,
    .domain_unpause = sim_domain_unpause,
    .domain_suspend = sim_domain_suspend,
    .domain_resume = sim_domain_resume,
    .populate = sim_populate,
    .get_pfn_type_batch = sim_get_pfn_type_batch,
    .map_foreign = sim_map_foreign,
    .unmap_foreign = sim_unmap_foreign,
    .logdirty = sim_logdirty,
    .hvm_getcontext = sim_hvm_getcontext,
    .hvm_state_digest = sim_hvm_state_digest,
    .hvm_setcontext = sim_hvm_setcontext,
    .hvm_param_get = sim_hvm_param_get,
    .hvm_param_set = sim_hvm_param_set,
    .tsc_info_get = sim_tsc_info_get,
    .tsc_info_set = sim_tsc_info_set,
    .version = sim_version,
    .sim_status = sim_sim_status,
};
