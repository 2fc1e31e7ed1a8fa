/*
 * The real-Xen backend: building restore targets and tearing domains down.
 *
 * A restore target is an empty, paused domain that a migration stream fills: the
 * receiving side of xl restore, migrate-receive and the Remus/COLO secondary.  It gets
 * what a restored guest needs from the toolstack and cannot bring in its stream: the
 * domain itself (type, vcpus, memory limit, paging pool), the xenstore tree a guest
 * and the backends expect, and the event channels of its xenstore and console rings.
 * After the stream (whose restore seeded the rings' grant entries),
 * xen_domain_introduce connects the rings to xenstored and xenconsoled, so the guest's
 * console continues in xenconsoled's log.
 *
 * Guest kernels are not loaded here: building a fresh guest from a kernel is
 * upstream `xl create`'s job.
 */
#include "config.h"

#define xc_interface xhv_xc_interface_t
#include "xhv_backend.h"
#undef xc_interface

#include <errno.h>

#if CONFIG_XEN

#include "xhv_xen_priv.h"

/* Room above the guest's RAM for the special pages the stream also populates (xenstore,
 * console, start info ...), as libxl's LIBXL_MAXMEM_CONSTANT. */
#define MAXMEM_SLACK_KB      1024
/* libxl's defaults for a domain whose config says nothing. */
#define MAX_GRANT_FRAMES     64
#define MAX_MAPTRACK_FRAMES  1024
#define MAX_EVTCHN_PORT      1023
#define CONSOLE_LOG_LIMIT    "1048576"

static void uuid_str(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* Paging (HAP) pool, libxl's default: 1 MiB per vcpu plus 8 KiB per MiB of RAM. */
static uint64_t paging_pool_bytes(uint64_t maxmem_kb, unsigned int vcpus)
{
    return 4ULL * (256ULL * vcpus + 2ULL * (maxmem_kb / 1024)) * 1024ULL;
}

enum xs_access { GUEST_READ, GUEST_WRITE, DOM0_ONLY };

/* Write path (value may be NULL: an empty directory node) with the guest's access. */
static int xs_put(struct xs_handle *h, xs_transaction_t t, uint32_t domid, enum xs_access acc,
                  const char *path, const char *value)
{
    struct xs_permissions perms[2] = {
        { .id = 0, .perms = XS_PERM_NONE }, { .id = domid, .perms = XS_PERM_READ },
    };
    unsigned int n = 2;

    if (acc == GUEST_WRITE) {              /* the guest owns the node */
        perms[0].id = domid;
        n = 1;
    } else if (acc == DOM0_ONLY) {
        n = 1;
    }
    if (!xs_write(h, t, path, value ? value : "", value ? strlen(value) : 0) ||
        !xs_set_permissions(h, t, path, perms, n))
        return -1;
    return 0;
}

/* The xenstore tree of a new guest: what Linux's xenbus, xenconsoled and upstream's
 * xl list/destroy read. */
static int write_xenstore(xhv_t *xch, uint32_t domid, const xhv_domain_config_t *cfg,
                          unsigned int store_port, unsigned int console_port)
{
    static const char *const guest_dirs[] = { "data", "drivers", "feature", "attr", "error",
                                              "control/shutdown", "control/sysrq",
                                              "control/feature-poweroff",
                                              "control/feature-reboot",
                                              "control/feature-suspend" };
    struct xs_handle *h = xen_xs(xch);
    uint64_t kb = cfg->max_pages * 4;
    unsigned int vcpus = cfg->max_vcpus ? cfg->max_vcpus : 1;
    char dom[64], vm[64], uuid[37], p[160], v[64];
    xs_transaction_t t;
    int rc;

    if (!h)
        return -1;
    uuid_str(cfg->uuid, uuid);
    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
 again:
    t = xs_transaction_start(h);
    if (!t)
        return -1;
#define PUT(acc, val, ...) do {                                                         \
        snprintf(p, sizeof(p), __VA_ARGS__);                                            \
        if (xs_put(h, t, domid, acc, p, val)) goto abort;                               \
    } while (0)
    PUT(GUEST_READ, NULL, "%s", dom);
    PUT(GUEST_READ, cfg->name, "%s/name", dom);
    snprintf(v, sizeof(v), "%u", domid);
    PUT(GUEST_READ, v, "%s/domid", dom);
    PUT(GUEST_READ, vm, "%s/vm", dom);
    PUT(GUEST_READ, NULL, "%s", vm);
    PUT(GUEST_READ, cfg->name, "%s/name", vm);
    PUT(GUEST_READ, uuid, "%s/uuid", vm);
    PUT(GUEST_READ, NULL, "%s/device", dom);
    PUT(GUEST_READ, NULL, "%s/control", dom);
    PUT(GUEST_READ, "1", "%s/control/platform-feature-multiprocessor-suspend", dom);
    PUT(GUEST_READ, "1", "%s/control/platform-feature-xs_reset_watches", dom);
    for (size_t i = 0; i < sizeof(guest_dirs) / sizeof(guest_dirs[0]); i++)
        PUT(GUEST_WRITE, NULL, "%s/%s", dom, guest_dirs[i]);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)kb);
    PUT(GUEST_READ, v, "%s/memory/static-max", dom);
    PUT(GUEST_READ, v, "%s/memory/target", dom);
    for (unsigned int i = 0; i < vcpus; i++)
        PUT(GUEST_READ, "online", "%s/cpu/%u/availability", dom, i);
    snprintf(v, sizeof(v), "%u", store_port);
    PUT(GUEST_READ, v, "%s/store/port", dom);
    snprintf(v, sizeof(v), "%u", console_port);
    PUT(GUEST_READ, v, "%s/console/port", dom);
    PUT(GUEST_READ, CONSOLE_LOG_LIMIT, "%s/console/limit", dom);
    PUT(GUEST_READ, "xenconsoled", "%s/console/type", dom);
    PUT(GUEST_READ, "pty", "%s/console/output", dom);
    /* upstream libxl tells a PVH domain from an HVM one by this node */
    PUT(DOM0_ONLY, cfg->guest_type == XHV_GUEST_PV ? "pv"
                   : cfg->guest_type == XHV_GUEST_PVH ? "pvh" : "hvm",
        "/libxl/%u/type", domid);
#undef PUT
    if (!xs_transaction_end(h, t, false)) {
        if (errno == EAGAIN)
            goto again;
        return -1;
    }
    return 0;
 abort:
    rc = errno;
    xs_transaction_end(h, t, true);
    errno = rc;
    return -1;
}

/* Remove what write_xenstore wrote.  /vm/<uuid> stays while another domain has the same
 * handle (the other half of a migration to localhost). */
static void remove_xenstore(xhv_t *xch, uint32_t domid, const uint8_t uuid[16])
{
    struct xs_handle *h = xen_xs(xch);
    xc_domaininfo_t di[256];
    char path[64], u[37];
    int n, shared = 0;

    if (!h)
        return;
    n = xc_domain_getinfolist(P(xch)->xc, 0, 256, di);
    for (int i = 0; i < n; i++)
        if (di[i].domain != domid && !memcmp(di[i].handle, uuid, 16))
            shared = 1;
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    xs_rm(h, XBT_NULL, path);
    snprintf(path, sizeof(path), "/libxl/%u", domid);
    xs_rm(h, XBT_NULL, path);
    if (!shared) {
        uuid_str(uuid, u);
        snprintf(path, sizeof(path), "/vm/%s", u);
        xs_rm(h, XBT_NULL, path);
    }
}

int xen_domain_create(xhv_t *xch, const xhv_domain_config_t *cfg, uint32_t *domid)
{
    struct xen_domctl_createdomain c;
    xc_physinfo_t phys;
    unsigned int vcpus;
    uint32_t d = 0;
    uint64_t kb;
    int store = -1, console = -1, e;

    if (!cfg || !domid || !cfg->name[0] || !cfg->max_pages) {
        errno = EINVAL;
        return xen_fail(xch, "domain_create: a name and a memory size are needed", 0);
    }
    if ((cfg->sim && cfg->sim->program[0]) || !cfg->start_paused) {
        xhv_log(xch, XHV_LOG_ERROR, EINVAL, "domain_create", "'%s': on real Xen only empty, "
                "paused restore targets are built here; create a guest from its kernel "
                "with upstream `xl create`", cfg->name);
        errno = EINVAL;
        return -1;
    }
    if (cfg->guest_type != XHV_GUEST_PVH && cfg->guest_type != XHV_GUEST_PV) {
        xhv_log(xch, XHV_LOG_ERROR, EOPNOTSUPP, "domain_create", "'%s': HVM guests need a "
                "device model (QEMU) whose state is not migrated; PVH and PV only", cfg->name);
        errno = EOPNOTSUPP;
        return -1;
    }
    vcpus = cfg->max_vcpus ? cfg->max_vcpus : 1;
    kb = cfg->max_pages * 4;
    if (xc_physinfo(P(xch)->xc, &phys))
        return xen_fail(xch, "domain_create: physinfo", 0);
    memset(&c, 0, sizeof(c));
    memcpy(c.handle, cfg->uuid, sizeof(c.handle));
    c.max_vcpus = vcpus;
    c.max_evtchn_port = MAX_EVTCHN_PORT;
    c.max_grant_frames = MAX_GRANT_FRAMES;
    c.max_maptrack_frames = MAX_MAPTRACK_FRAMES;
    c.grant_opts = XEN_DOMCTL_GRANT_version(phys.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2
                                            ? 2 : 1);
    if (cfg->guest_type == XHV_GUEST_PVH) {
        c.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
        c.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    }
    if (xc_domain_create(P(xch)->xc, &d, &c))
        return xen_fail(xch, "domain_create: xc_domain_create", 0);
    /* Xen 4.17 still allocates the vcpus by this domctl (same count as at creation). */
    if (xc_domain_max_vcpus(P(xch)->xc, d, vcpus)) {
        xen_fail(xch, "domain_create: max_vcpus", d);
        goto err;
    }
    if (xc_domain_setmaxmem(P(xch)->xc, d, kb + MAXMEM_SLACK_KB)) {
        xen_fail(xch, "domain_create: setmaxmem", d);
        goto err;
    }
    if (cfg->guest_type == XHV_GUEST_PVH &&
        xc_set_paging_mempool_size(P(xch)->xc, d, paging_pool_bytes(kb, vcpus))) {
        xen_fail(xch, "domain_create: paging pool", d);
        goto err;
    }
    store = xc_evtchn_alloc_unbound(P(xch)->xc, d, 0);
    console = xc_evtchn_alloc_unbound(P(xch)->xc, d, 0);
    if (store < 0 || console < 0) {
        xen_fail(xch, "domain_create: event channels", d);
        goto err;
    }
    if (write_xenstore(xch, d, cfg, (unsigned int)store, (unsigned int)console)) {
        xen_fail(xch, "domain_create: xenstore", d);
        goto err;
    }
    xhv_log(xch, XHV_LOG_DEBUG, 0, "domain_create", "domain %u '%s': %s, %u vcpu(s), %llu KiB, "
            "store port %d, console port %d", d, cfg->name,
            cfg->guest_type == XHV_GUEST_PV ? "PV" : "PVH", vcpus, (unsigned long long)kb,
            store, console);
    *domid = d;
    return 0;
 err:
    e = errno;
    xc_domain_destroy(P(xch)->xc, d);
    remove_xenstore(xch, d, cfg->uuid);
    errno = e;
    return -1;
}

int xen_domain_destroy(xhv_t *xch, uint32_t domid)
{
    xc_domaininfo_t di;

    if (xc_domain_getinfolist(P(xch)->xc, domid, 1, &di) != 1 || di.domain != domid) {
        errno = ESRCH;
        return xen_fail(xch, "domain_destroy", domid);
    }
    if (xc_domain_destroy(P(xch)->xc, domid))
        return xen_fail(xch, "domain_destroy", domid);
    remove_xenstore(xch, domid, di.handle);
    return 0;
}

static int read_port(xhv_t *xch, uint32_t domid, const char *node, unsigned int *port)
{
    char path[64], *v, *end;
    unsigned int len;
    unsigned long n;

    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, node);
    v = xs_read(P(xch)->xs, XBT_NULL, path, &len);
    if (!v)
        return -1;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > MAX_EVTCHN_PORT) {
        xhv_log(xch, XHV_LOG_ERROR, EINVAL, "domain_ports", "domain %u: %s is '%.20s', not "
                "an event channel port", domid, path, v);
        free(v);
        errno = EINVAL;
        return -1;
    }
    free(v);
    *port = (unsigned int)n;
    return 0;
}

int xen_domain_ports(xhv_t *xch, uint32_t domid, unsigned int *store_port,
                     unsigned int *console_port)
{
    uint64_t s, c;

    if (!xen_xs(xch))
        return -1;
    if (!read_port(xch, domid, "store/port", store_port) &&
        !read_port(xch, domid, "console/port", console_port))
        return 0;
    if (errno == EINVAL)
        return -1;
    /* A target that upstream `xl create -p` built: its ports are in its HVM params. */
    if (xc_hvm_param_get(P(xch)->xc, domid, HVM_PARAM_STORE_EVTCHN, &s) ||
        xc_hvm_param_get(P(xch)->xc, domid, HVM_PARAM_CONSOLE_EVTCHN, &c))
        return xen_fail(xch, "domain_ports: no store/port in xenstore, no HVM params", domid);
    *store_port = (unsigned int)s;
    *console_port = (unsigned int)c;
    return 0;
}

int xen_domain_introduce(xhv_t *xch, uint32_t domid, uint64_t store_gfn, uint64_t console_gfn)
{
    unsigned int store_port, console_port;
    char path[64], v[32];

    /* The restore seeded grant entries 0 and 1 for these rings (xhv_seed_grants). */
    if (xen_domain_ports(xch, domid, &store_port, &console_port))
        return -1;
    snprintf(path, sizeof(path), "/local/domain/%u/console/ring-ref", domid);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)console_gfn);
    if (!xs_write(P(xch)->xs, XBT_NULL, path, v, strlen(v)))
        return xen_fail(xch, "domain_introduce: console/ring-ref", domid);
    snprintf(path, sizeof(path), "/local/domain/%u/store/ring-ref", domid);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)store_gfn);
    if (!xs_write(P(xch)->xs, XBT_NULL, path, v, strlen(v)))
        return xen_fail(xch, "domain_introduce: store/ring-ref", domid);
    /* xenstored connects to the ring; xenconsoled sees @introduceDomain and attaches. */
    if (!xs_introduce_domain(P(xch)->xs, domid, store_gfn, store_port))
        return xen_fail(xch, "domain_introduce: xs_introduce_domain", domid);
    return 0;
}

#endif /* CONFIG_XEN */
