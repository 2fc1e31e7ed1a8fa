/*
 * libxenlight-colo: the libxl-style API (tools/include/libxl.h, docs/libxl-api.md).
 * Saves and restores run the engine in libxl-save-helper through the save callout;
 * the Remus/COLO handshake is libxl_checkpoint.c's.
 */
#include "libxl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain_compare.h"
#include "libxl_checkpoint.h"
#include "libxl_colo_proxy.h"
#include "libxl_records.h"
#include "libxl_save_callout.h"
#include "libxl_save_msgs.h"
#include "xenguest_colo.h"

struct libxl__ctx {
    xc_interface *xch;
    char last_error[1024];
    libxl_progress_fn *progress;
    void *progress_opaque;
    int verbosity;
    volatile sig_atomic_t remus_stop;
};

#define PAGES_PER_KB(kb) ((kb) / 4)

static void lerr(libxl_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lerr(libxl_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
    va_end(ap);
    fprintf(stderr, "libxl: error: %s\n", ctx->last_error);
}

static void linfo(libxl_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void linfo(libxl_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->verbosity < 1)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "libxl: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
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
static void engine_logger(void *opaque, enum xhv_loglevel level, int errnoval,
                          const char *context, const char *msg)
{
    libxl_ctx *ctx = opaque;

    if ((int)level < XHV_LOG_WARN && ctx->verbosity < (level == XHV_LOG_INFO ? 1 : 2))
        return;
    fprintf(stderr, "%s: %s%s%s\n", context ? context : "xhv", msg, errnoval ? ": " : "",
            errnoval ? strerror(errnoval) : "");
}

int libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags, xentoollog_logger *lg)
{
    libxl_ctx *ctx;

    (void)flags;
    (void)lg;
    *pctx = NULL;
    if (version != LIBXL_VERSION)
        return ERROR_VERSION;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return ERROR_NOMEM;
    ctx->xch = xhv_open(NULL);
    if (!ctx->xch) {
        fprintf(stderr, "libxl: cannot open the hypervisor interface: %s\n", strerror(errno));
        free(ctx);
        return ERROR_FAIL;
    }
    xhv_set_logger(ctx->xch, engine_logger, ctx);
    *pctx = ctx;
    return 0;
}

int libxl_ctx_free(libxl_ctx *ctx)
{
    if (!ctx)
        return 0;
    xhv_close(ctx->xch);
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

/* ---- config ---- */
void libxl_domain_config_init(libxl_domain_config *c)
{
    memset(c, 0, sizeof(*c));
    c->c_info.type = LIBXL_DOMAIN_TYPE_HVM;
    c->b_info.max_vcpus = 1;
}

void libxl_domain_config_dispose(libxl_domain_config *c)
{
    free(c->c_info.name);
    free(c->sim.program);
    free(c->sim.net);
    free(c->sim.net_compare);
    free(c->xen_json);
    memset(c, 0, sizeof(*c));
}

static const char *type_str(libxl_domain_type t)
{
    return t == LIBXL_DOMAIN_TYPE_PV ? "pv" : t == LIBXL_DOMAIN_TYPE_PVH ? "pvh" : "hvm";
}

/* Upstream's JSON as it came, with the domain's current name. */
static json_object *xen_config_json(const libxl_domain_config *p)
{
    json_object *o = json_tokener_parse(p->xen_json), *c;

    if (!o)
        return NULL;
    if (p->c_info.name && json_object_object_get_ex(o, "c_info", &c) &&
        json_object_is_type(c, json_type_object))
        json_object_object_add(c, "name", json_object_new_string(p->c_info.name));
    return o;
}

static json_object *config_json(const libxl_domain_config *p)
{
    json_object *o, *c, *b, *s;

    if (p->xen_json)
        return xen_config_json(p);
    o = json_object_new_object();
    c = json_object_new_object();
    b = json_object_new_object();
    s = json_object_new_object();

    json_object_object_add(c, "type", json_object_new_string(type_str(p->c_info.type)));
    json_object_object_add(c, "name", json_object_new_string(p->c_info.name ? p->c_info.name : ""));
    json_object_object_add(b, "max_vcpus", json_object_new_int(p->b_info.max_vcpus));
    json_object_object_add(b, "max_memkb", json_object_new_int64((int64_t)p->b_info.max_memkb));
    json_object_object_add(b, "target_memkb",
                           json_object_new_int64((int64_t)(p->b_info.target_memkb
                                                               ? p->b_info.target_memkb
                                                               : p->b_info.max_memkb)));
    json_object_object_add(s, "program",
                           json_object_new_string(p->sim.program ? p->sim.program : ""));
    json_object_object_add(s, "rate", json_object_new_int64((int64_t)p->sim.rate));
    json_object_object_add(s, "seed", json_object_new_int64((int64_t)p->sim.seed));
    json_object_object_add(s, "max_steps", json_object_new_int64((int64_t)p->sim.max_steps));
    json_object_object_add(s, "flags", json_object_new_int64((int64_t)p->sim.flags));
    json_object_object_add(s, "host_input", json_object_new_int64((int64_t)p->sim.host_input));
    if (p->sim.net)
        json_object_object_add(s, "net", json_object_new_string(p->sim.net));
    if (p->sim.net_compare)
        json_object_object_add(s, "net_compare", json_object_new_string(p->sim.net_compare));
    json_object_object_add(o, "c_info", c);
    json_object_object_add(o, "b_info", b);
    json_object_object_add(o, "sim", s);
    return o;
}

char *libxl_domain_config_to_json(libxl_ctx *ctx, libxl_domain_config *p)
{
    json_object *o = config_json(p);
    char *s;

    if (!o) {
        lerr(ctx, "domain config: the stored upstream JSON does not parse");
        return NULL;
    }
    s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_SPACED));
    json_object_put(o);
    return s;
}

static int get_u64(json_object *parent, const char *key, uint64_t *out)
{
    json_object *v;

    if (!json_object_object_get_ex(parent, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    *out = (uint64_t)json_object_get_int64(v);
    return 0;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into 16 bytes. */
static int parse_uuid(const char *s, uint8_t u[16])
{
    static const int dash[] = { 8, 13, 18, 23 };
    unsigned int x;

    if (strlen(s) != 36)
        return -1;
    for (int i = 0; i < 4; i++)
        if (s[dash[i]] != '-')
            return -1;
    for (int i = 0, j = 0; i < 16; i++, j += 2) {
        if (j == 8 || j == 13 || j == 18 || j == 23)
            j++;
        if (!isxdigit((unsigned char)s[j]) || !isxdigit((unsigned char)s[j + 1]) ||
            sscanf(s + j, "%2x", &x) != 1)
            return -1;
        u[i] = (uint8_t)x;
    }
    return 0;
}

int libxl_domain_config_from_json(libxl_ctx *ctx, libxl_domain_config *p, const char *s)
{
    json_object *o = json_tokener_parse(s), *c, *b, *sim, *v;
    uint64_t u = 0;
    int rc = ERROR_INVAL;

    libxl_domain_config_init(p);
    if (!o || !json_object_is_type(o, json_type_object)) {
        lerr(ctx, "domain config: not a JSON object");
        goto out;
    }
    if (json_object_object_get_ex(o, "c_info", &c)) {
        if (json_object_object_get_ex(c, "name", &v) && json_object_is_type(v, json_type_string))
            p->c_info.name = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(c, "uuid", &v) &&
            (!json_object_is_type(v, json_type_string) ||
             parse_uuid(json_object_get_string(v), p->c_info.uuid))) {
            lerr(ctx, "domain config: c_info.uuid is not a UUID");
            goto out;
        }
        if (json_object_object_get_ex(c, "type", &v) && json_object_is_type(v, json_type_string)) {
            const char *t = json_object_get_string(v);

            p->c_info.type = !strcmp(t, "pv") ? LIBXL_DOMAIN_TYPE_PV
                             : !strcmp(t, "pvh") ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_HVM;
        }
    }
    if (json_object_object_get_ex(o, "b_info", &b)) {
        if (get_u64(b, "max_memkb", &p->b_info.max_memkb) ||
            get_u64(b, "target_memkb", &p->b_info.target_memkb) ||
            get_u64(b, "max_vcpus", &u)) {
            lerr(ctx, "domain config: b_info has a non-integer field");
            goto out;
        }
        if (u)
            p->b_info.max_vcpus = (int)u;
    }
    if (json_object_object_get_ex(o, "sim", &sim)) {
        if (json_object_object_get_ex(sim, "program", &v) && json_object_is_type(v, json_type_string))
            p->sim.program = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(sim, "net", &v) && json_object_is_type(v, json_type_string))
            p->sim.net = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(sim, "net_compare", &v) &&
            json_object_is_type(v, json_type_string))
            p->sim.net_compare = strdup(json_object_get_string(v));
        if (get_u64(sim, "rate", &p->sim.rate) || get_u64(sim, "seed", &p->sim.seed) ||
            get_u64(sim, "max_steps", &p->sim.max_steps) || get_u64(sim, "flags", &p->sim.flags) ||
            get_u64(sim, "host_input", &p->sim.host_input)) {
            lerr(ctx, "domain config: sim has a non-integer field");
            goto out;
        }
    }
    /* No "sim" object: a config written by upstream's libxl (real Xen), kept whole. */
    if (!json_object_object_get_ex(o, "sim", &sim) && !(p->xen_json = strdup(s)))
        goto out;
    rc = 0;
 out:
    if (o)
        json_object_put(o);
    return rc;
}

static int on_xen(libxl_ctx *ctx)
{
    return !strcmp(xhv_backend_name(ctx->xch), "xen");
}

#define USERDATA_MAX (1 << 20)      /* a stored config larger than this is not ours */

/*
 * Where a domain's config is kept.  Real Xen: upstream libxl's place,
 * /var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json, so that upstream's xl finds the
 * config of a domain this toolstack restored and the other way round.  Simulated
 * hypervisor: beside its state.
 */
static int userdata_path(libxl_ctx *ctx, char *buf, size_t len, uint32_t domid)
{
    const char *dir = getenv("SIMXEN_DIR");
    xhv_dominfo_t info;
    const uint8_t *u = info.uuid;

    if (!on_xen(ctx)) {
        snprintf(buf, len, "%s/userdata-d%u.libxl-json", dir && *dir ? dir : "/dev/shm/simxen",
                 domid);
        return 0;
    }
    if (xhv_domain_info(ctx->xch, domid, &info))
        return -1;
    snprintf(buf, len, "/var/lib/xen/userdata-d.%u.%02x%02x%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x-%02x%02x%02x%02x%02x%02x.libxl-json", domid, u[0], u[1], u[2], u[3],
             u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return 0;
}

static void store_config(libxl_ctx *ctx, uint32_t domid, libxl_domain_config *c)
{
    char path[512], *s;
    FILE *f;

    /* Real Xen: only upstream's own JSON is useful to upstream's xl. */
    if ((on_xen(ctx) && !c->xen_json) || userdata_path(ctx, path, sizeof(path), domid))
        return;
    s = libxl_domain_config_to_json(ctx, c);
    f = s ? fopen(path, "w") : NULL;
    if (f) {
        fputs(s, f);
        fclose(f);
    }
    free(s);
}

int libxl_retrieve_domain_configuration(libxl_ctx *ctx, uint32_t domid,
                                        libxl_domain_config *d_config,
                                        const libxl_asyncop_how *ao_how)
{
    char path[512], *buf;
    xhv_dominfo_t info;
    FILE *f = NULL;
    long n;
    int rc;

    (void)ao_how;
    if (xhv_domain_info(ctx->xch, domid, &info)) {
        lerr(ctx, "domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (!userdata_path(ctx, path, sizeof(path), domid))
        f = fopen(path, "r");
    if (!f) {
        /* No stored config: reconstruct what the hypervisor knows. */
        libxl_domain_config_init(d_config);
        d_config->c_info.name = strdup(info.name);
        d_config->b_info.max_memkb = info.max_pages * 4;
        if (on_xen(ctx)) {
            d_config->c_info.type = info.hvm ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_PV;
            memcpy(d_config->c_info.uuid, info.uuid, sizeof(info.uuid));
        }
        return 0;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    if (n < 0 || n > USERDATA_MAX) {
        lerr(ctx, "domain %u: stored config %s is %ld bytes (at most %d)", domid, path, n,
             USERDATA_MAX);
        fclose(f);
        return ERROR_FAIL;
    }
    buf = calloc(1, (size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return ERROR_FAIL;
    }
    fclose(f);
    rc = libxl_domain_config_from_json(ctx, d_config, buf);
    free(buf);
    if (!rc) {
        free(d_config->c_info.name);
        d_config->c_info.name = strdup(info.name);   /* it may have been renamed */
    }
    return rc;
}

/* ---- domains ---- */
static int check_ao(libxl_ctx *ctx, const libxl_asyncop_how *ao_how)
{
    if (ao_how) {
        lerr(ctx, "asynchronous operations are not implemented (ao_how must be NULL)");
        return ERROR_NI;
    }
    return 0;
}

static void start_direct_net(libxl_ctx *ctx, const libxl_domain_config *c, uint32_t domid);

static int create_domain(libxl_ctx *ctx, libxl_domain_config *c, uint32_t *domid, int empty)
{
    xhv_domain_config_t cfg;
    uint32_t other;
    uint64_t kb = c->b_info.max_memkb;

    memset(&cfg, 0, sizeof(cfg));
    if (!c->c_info.name || !*c->c_info.name) {
        lerr(ctx, "domain config: no name");
        return ERROR_INVAL;
    }
    if (strlen(c->c_info.name) >= sizeof(cfg.name)) {
        lerr(ctx, "domain name '%s' is too long (at most %zu characters)", c->c_info.name,
             sizeof(cfg.name) - 1);
        return ERROR_INVAL;
    }
    if (!xhv_domain_lookup(ctx->xch, c->c_info.name, &other)) {
        lerr(ctx, "domain '%s' already exists with id %u", c->c_info.name, other);
        return ERROR_INVAL;
    }
    if (on_xen(ctx)) {
        /* Restore targets only: a fresh guest is built from its kernel by upstream xl. */
        if (!empty) {
            lerr(ctx, "domain '%s': on real Xen this toolstack builds the receiving side of "
                 "restore and migration only; create guests with upstream `xl create`",
                 c->c_info.name);
            return ERROR_INVAL;
        }
        if (c->b_info.max_vcpus < 1 || c->b_info.max_vcpus > 128) {
            lerr(ctx, "domain config: max_vcpus %d out of range 1..128", c->b_info.max_vcpus);
            return ERROR_INVAL;
        }
        cfg.guest_type = c->c_info.type == LIBXL_DOMAIN_TYPE_PV ? XHV_GUEST_PV
                         : c->c_info.type == LIBXL_DOMAIN_TYPE_PVH ? XHV_GUEST_PVH
                                                                   : XHV_GUEST_HVM;
        cfg.max_vcpus = (unsigned int)c->b_info.max_vcpus;
        memcpy(cfg.uuid, c->c_info.uuid, sizeof(cfg.uuid));
    } else if (c->b_info.max_vcpus != 1) {
        lerr(ctx, "simulated guests have exactly 1 vcpu (config asks for %d)",
             c->b_info.max_vcpus);
        return ERROR_INVAL;
    }
    if (kb < 64 || kb % 4) {
        lerr(ctx, "domain config: memory %llu KiB is not a positive number of pages",
             (unsigned long long)kb);
        return ERROR_INVAL;
    }
    snprintf(cfg.name, sizeof(cfg.name), "%s", c->c_info.name);
    cfg.max_pages = PAGES_PER_KB(kb);
    if (!empty) {
        if (!c->sim.program || !*c->sim.program) {
            lerr(ctx, "domain config: no sim workload (sim_program)");
            return ERROR_INVAL;
        }
        snprintf(cfg.program, sizeof(cfg.program), "%s", c->sim.program);
    }
    cfg.prog_args[0] = c->sim.flags;
    cfg.prog_args[1] = c->sim.max_steps;
    cfg.prog_args[2] = c->sim.rate;
    cfg.prog_args[3] = c->sim.seed;
    cfg.host_input = c->sim.host_input;
    cfg.start_paused = empty;
    if (xhv_domain_create(ctx->xch, &cfg, domid)) {
        lerr(ctx, "creating domain '%s': %s", c->c_info.name, strerror(errno));
        return ERROR_FAIL;
    }
    store_config(ctx, *domid, c);
    return 0;
}

int libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid,
                            const libxl_asyncop_how *ao_how,
                            const libxl_asyncprogress_how *aop_console_how)
{
    int rc = check_ao(ctx, ao_how);

    (void)aop_console_how;
    if (rc)
        return rc;
    rc = create_domain(ctx, d_config, domid, 0);
    if (!rc)
        start_direct_net(ctx, d_config, *domid);
    return rc;
}

/* The network device's output, served straight to its clients (no COLO). */
static void start_direct_net(libxl_ctx *ctx, const libxl_domain_config *c, uint32_t domid)
{
    char err[512];

    if (!c->sim.net || !*c->sim.net)
        return;
    if (libxl__colo_proxy_spawn("direct", domid, c->sim.net, NULL, NULL, err, sizeof(err)))
        lerr(ctx, "domain %u: network output %s: %s", domid, c->sim.net, err);
}

static void fill_dominfo(libxl_ctx *ctx, const xhv_dominfo_t *d, libxl_dominfo *o)
{
    xhv_sim_status_t st;

    memset(o, 0, sizeof(*o));
    o->domid = d->domid;
    o->running = d->running;
    o->blocked = !d->running && !d->paused && !d->shutdown;
    o->paused = d->paused;
    o->shutdown = d->shutdown;
    o->dying = d->dying;
    o->shutdown_reason = d->shutdown_reason;
    o->current_memkb = d->nr_pages * 4;
    o->max_memkb = d->max_pages * 4;
    o->vcpu_online = 1;
    o->vcpu_max_id = 0;
    if (!xhv_sim_status(ctx->xch, d->domid, &st)) {
        o->cpu_time = st.steps;
        o->sim_resumes = st.resumes;
        o->sim_selfchecks_passed = st.selfchecks_passed;
        o->sim_selfchecks_failed = st.selfchecks_failed;
        o->sim_vcpu_alive = st.vcpu_alive;
    }
}

libxl_dominfo *libxl_list_domain(libxl_ctx *ctx, int *nb_domain_out)
{
    xhv_dominfo_t d[256];
    libxl_dominfo *out;
    int n = xhv_domain_list(ctx->xch, d, 256);

    *nb_domain_out = 0;
    if (n < 0) {
        lerr(ctx, "listing domains: %s", strerror(errno));
        return NULL;
    }
    out = calloc((size_t)n + 1, sizeof(*out));
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++)
        fill_dominfo(ctx, &d[i], &out[i]);
    *nb_domain_out = n;
    return out;
}

void libxl_dominfo_list_free(libxl_dominfo *list, int nb_domain)
{
    (void)nb_domain;
    free(list);
}

int libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info_r, uint32_t domid)
{
    xhv_dominfo_t d;

    if (xhv_domain_info(ctx->xch, domid, &d))
        return ERROR_DOMAIN_NOTFOUND;
    if (info_r)
        fill_dominfo(ctx, &d, info_r);
    return 0;
}

int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
    return xhv_domain_lookup(ctx->xch, name, domid) ? ERROR_INVAL : 0;
}

char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
    xhv_dominfo_t d;

    if (domid == 0)
        return strdup("Domain-0");
    if (xhv_domain_info(ctx->xch, domid, &d))
        return NULL;
    return strdup(d.name);
}

int libxl_domain_rename(libxl_ctx *ctx, uint32_t domid, const char *old_name,
                        const char *new_name)
{
    xhv_dominfo_t d;

    if (xhv_domain_info(ctx->xch, domid, &d))
        return ERROR_DOMAIN_NOTFOUND;
    if (old_name && strcmp(old_name, d.name)) {
        lerr(ctx, "domain %u is called '%s', not '%s'", domid, d.name, old_name);
        return ERROR_INVAL;
    }
    if (xhv_domain_rename(ctx->xch, domid, new_name)) {
        lerr(ctx, "renaming domain %u to '%s': %s", domid, new_name, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

int libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    char path[512];
    int rc = check_ao(ctx, ao_how);

    if (rc)
        return rc;
    /* the path names the domain's uuid: find it while the domain exists */
    if (userdata_path(ctx, path, sizeof(path), domid))
        path[0] = 0;
    if (xhv_domain_destroy(ctx->xch, domid)) {
        lerr(ctx, "destroying domain %u: %s", domid, strerror(errno));
        return errno == ESRCH || errno == ENOENT ? ERROR_DOMAIN_NOTFOUND : ERROR_FAIL;
    }
    if (path[0])
        unlink(path);
    return 0;
}

int libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_pause(ctx->xch, domid)) {
        lerr(ctx, "pausing domain %u: %s", domid, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

int libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_unpause(ctx->xch, domid)) {
        lerr(ctx, "unpausing domain %u: %s", domid, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

int libxl_domain_resume(libxl_ctx *ctx, uint32_t domid, int suspend_cancel,
                        const libxl_asyncop_how *ao_how)
{
    int rc = check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (xhv_domain_resume(ctx->xch, domid, suspend_cancel)) {
        lerr(ctx, "resuming domain %u: %s", domid, strerror(errno));
        return ERROR_FAIL;
    }
    return 0;
}

/* Resume the primary if a failed save left it suspended: nothing lost. */
static void resume_if_suspended(libxl_ctx *ctx, uint32_t domid)
{
    xhv_dominfo_t d;

    if (!xhv_domain_info(ctx->xch, domid, &d) && d.shutdown &&
        d.shutdown_reason == XHV_SHUTDOWN_suspend) {
        if (xhv_domain_resume(ctx->xch, domid, 1))
            fprintf(stderr, "libxl: error: resuming domain %u after the failure: %s\n", domid,
                    strerror(errno));
        else
            fprintf(stderr, "libxl: domain %u resumed\n", domid);
    }
}

/* ---- helper hooks shared by save and restore ---- */
struct op {
    libxl_ctx *ctx;
    uint32_t domid;
    struct ckpt_primary p;
    struct ckpt_secondary s;
    const char *digest_dir;
    int net_epochs;            /* COLO secondary with a network device */
    struct save_helper_result rings;   /* COLO secondary: ring frames from the helper */
    int rings_connected;       /* introduced to xenstored/xenconsoled */
    uint32_t compare_domid;    /* test: the PVM to compare the SVM with (0: none) */
};

static void hook_log(uint32_t level, uint32_t errnoval, const char *context, const char *msg,
                     void *data)
{
    struct op *op = data;

    engine_logger(op->ctx, (enum xhv_loglevel)level, (int)errnoval, context, msg);
}

static void hook_progress(const char *context, const char *what, unsigned long done,
                          unsigned long total, void *data)
{
    struct op *op = data;

    (void)context;
    if (op->ctx->progress)
        op->ctx->progress(op->ctx->progress_opaque, what, done, total);
}

static int hook_plain_suspend(void *data)
{
    struct op *op = data;

    if (xhv_domain_suspend(op->ctx->xch, op->domid, 60000)) {
        lerr(op->ctx, "suspending domain %u: %s", op->domid, strerror(errno));
        return 0;
    }
    return 1;
}

static int hook_logdirty(uint32_t domid, unsigned int enable, void *data)
{
    (void)domid; (void)enable; (void)data;
    return 0;   /* no device model */
}

static int hook_static_data_done(unsigned int missing, void *data)
{
    (void)missing; (void)data;
    return 0;   /* the simulated CPU has no CPUID/MSR policy to regenerate */
}

/* Test instrumentation: $LIBXL_CHECKPOINT_DIGEST_DIR gets one file per checkpoint with
 * the primary's digest taken while it is suspended with that checkpoint's state. */
static void at_checkpoint(unsigned int n, void *opaque)
{
    struct op *op = opaque;
    uint64_t m, c;
    char path[512];
    FILE *f;

    const char *stall = getenv("LIBXL_TEST_STALL_AT_CHECKPOINT");

    if (op->ctx->progress)
        op->ctx->progress(op->ctx->progress_opaque, "checkpoint", n,
                          (unsigned long)(op->p.downtime_ns_last / 1000));
    if (op->digest_dir && !domain_digest(op->ctx->xch, op->domid, &m, &c)) {
        char final[512];

        snprintf(path, sizeof(path), "%s/.primary-checkpoint.tmp", op->digest_dir);
        snprintf(final, sizeof(final), "%s/primary-checkpoint-%u", op->digest_dir, n);
        f = fopen(path, "w");
        if (f) {
            fprintf(f, "mem=%016llx ctx=%016llx\n", (unsigned long long)m,
                    (unsigned long long)c);
            fclose(f);
            rename(path, final);
        }
    }
    /* COLO with a compare proxy: the checkpoint boundary of the primary's packets. */
    if (op->p.have_proxy && libxl__colo_proxy_checkpoint(op->p.proxy_fd, op->domid, n)) {
        fprintf(stderr, "libxl: COLO proxy lost at checkpoint %u (%s): checkpoints are "
                "periodic only\n", n, errno ? strerror(errno) : "no answer");
        close(op->p.proxy_fd);
        op->p.have_proxy = 0;
    }
    /* Test fault injection: "N[:ms]" stalls the primary at checkpoint N, after the
     * engine's CHECKPOINT record and before libxl's CHECKPOINT_END (Remus) or the
     * resume (COLO): a primary that dies or a link that breaks now does so in the
     * middle of a checkpoint. */
    if (stall && (unsigned int)atoi(stall) == n) {
        const char *colon = strchr(stall, ':');
        unsigned int ms = colon ? (unsigned int)atoi(colon + 1) : 3600000;

        fprintf(stderr, "libxl: test: stalling at checkpoint %u for %u ms\n", n, ms);
        snprintf(path, sizeof(path), "%s/primary-stalled", op->digest_dir ? op->digest_dir
                                                                           : "/tmp");
        f = fopen(path, "w");
        if (f)
            fclose(f);
        ckpt_sleep_ms(ms);
    }
}

int libxl_domain_suspend(libxl_ctx *ctx, uint32_t domid, int fd, int flags,
                         const libxl_asyncop_how *ao_how)
{
    struct op op = { .ctx = ctx, .domid = domid };
    struct save_helper_hooks h = {
        .data = &op, .suspend = hook_plain_suspend, .switch_qemu_logdirty = hook_logdirty,
        .log = hook_log, .progress = hook_progress,
    };
    struct save_helper_params p = {
        .io_fd = fd, .back_fd = -1, .domid = domid, .cbflags = SHM_CBFLAGS_SAVE_PLAIN,
        .stream_type = XC_STREAM_PLAIN, .silence_timeout_ms = 30000,
    };
    struct save_helper_result res;
    const char *t = getenv("LIBXL_SAVE_HELPER_TIMEOUT_MS");
    int rc = check_ao(ctx, ao_how);

    if (rc)
        return rc;
    if (libxl_domain_info(ctx, NULL, domid)) {
        lerr(ctx, "domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (t)
        p.silence_timeout_ms = (unsigned int)strtoul(t, NULL, 10);
    p.xcflags = ((flags & LIBXL_SUSPEND_LIVE) ? XCFLAGS_LIVE : 0) |
                ((flags & LIBXL_SUSPEND_DEBUG) ? XCFLAGS_DEBUG : 0);
    if (libxl_write_stream_start(fd)) {
        lerr(ctx, "writing the libxl stream header: %s", strerror(errno));
        return ERROR_FAIL;
    }
    if (libxl__save_helper_run(&p, &h, &res)) {
        lerr(ctx, "saving domain %u: %s", domid, res.err);
        resume_if_suspended(ctx, domid);
        return ERROR_FAIL;
    }
    if (libxl_write_end(fd)) {
        lerr(ctx, "writing the libxl END record: %s", strerror(errno));
        resume_if_suspended(ctx, domid);
        return ERROR_FAIL;
    }
    return 0;
}

/* ---- restore ---- */
void libxl_domain_restore_params_init(libxl_domain_restore_params *p)
{
    memset(p, 0, sizeof(*p));
    p->stream_version = 2;
}

void libxl_domain_restore_params_dispose(libxl_domain_restore_params *p)
{
    free(p->colo_proxy_script);
    memset(p, 0, sizeof(*p));
}

static int write_failover_note(struct op *op, const char *what)
{
    char path[512];
    FILE *f;

    if (!op->digest_dir)
        return 0;
    snprintf(path, sizeof(path), "%s/.secondary-failover.tmp", op->digest_dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    {
        uint64_t m = 0, c = 0;

        domain_digest(op->ctx->xch, op->domid, &m, &c);
        fprintf(f, "%s checkpoints=%u domid=%u mem=%016llx ctx=%016llx\n", what,
                op->s.applied, op->domid, (unsigned long long)m, (unsigned long long)c);
    }
    fclose(f);
    {
        char final[512];

        snprintf(final, sizeof(final), "%s/secondary-failover", op->digest_dir);
        rename(path, final);   /* atomic: a reader never sees it half written */
    }
    return 0;
}

/* Heartbeat timeout ($LIBXL_HEARTBEAT_TIMEOUT_MS, default 10 s; 0: none). */
static unsigned int colo_timeout_ms(void)
{
    const char *e = getenv("LIBXL_HEARTBEAT_TIMEOUT_MS");

    return e && *e ? (unsigned int)strtoul(e, NULL, 10) : 10000;
}

static int sec_checkpoint(void *d)
{
    struct op *op = d;
    int r = ckpt_secondary_checkpoint(&op->s);

    if (r == XGR_CHECKPOINT_SUCCESS && op->ctx->progress)
        op->ctx->progress(op->ctx->progress_opaque, "checkpoint", op->s.applied, 0);
    return r;
}
static int connect_rings(libxl_ctx *ctx, uint32_t domid, const struct save_helper_result *res);
/*
 * Test instrumentation: $LIBXL_TEST_COLO_COMPARE=<domid of the PVM, same host> compares
 * the SVM with the PVM page by page after every applied checkpoint, while both are
 * stopped (the PVM waits for SVM_READY), and says so on stderr.  The pair goes on
 * either way: the report is for the test to judge.
 */
static void sec_compare(struct op *op, unsigned int n)
{
    uint64_t first = UINT64_MAX;
    long diff = domain_diff_pages(op->ctx->xch, op->compare_domid, op->domid, &first);

    fprintf(stderr, "libxl: test: COLO checkpoint %u: %ld pages of domain %u differ from "
            "domain %u%s%llx\n", n, diff, op->domid, op->compare_domid,
            diff > 0 ? ", first pfn " : " ", diff > 0 ? (unsigned long long)first : 0ULL);
}

/* A COLO checkpoint is applied, both sides stopped; the SVM starts or resumes next. */
static int sec_after_apply(unsigned int n, void *d)
{
    struct op *op = d;

    if (op->compare_domid)
        sec_compare(op, n);
    /* The SVM runs from the first checkpoint on: it needs xenstored (every later
     * checkpoint suspends it through its control/shutdown node) and its console now,
     * not at failover.  After the comparison: xenstored at once serves what the ring
     * holds, and that is the SVM's own business. */
    if (!op->rings_connected) {
        if (connect_rings(op->ctx, op->domid, &op->rings))
            return -1;
        op->rings_connected = 1;
    }
    return 0;
}
static void sec_restore_results(uint64_t store_gfn, uint64_t console_gfn, void *d)
{
    struct op *op = d;

    op->rings.store_gfn = store_gfn;
    op->rings.console_gfn = console_gfn;
    op->rings.results_seen = 1;
}
static int sec_postcopy(void *d)
{
    struct op *op = d;

    /* The SVM resumes into checkpoint n: its packets from now on belong to epoch n. */
    if (op->net_epochs)
        libxl__colo_net_epoch(op->domid, op->s.applied);
    return ckpt_secondary_postcopy(&op->s);
}
static int sec_wait_checkpoint(void *d)
{
    return ckpt_secondary_wait_checkpoint(&((struct op *)d)->s);
}
static int sec_suspend(void *d) { return ckpt_secondary_suspend(&((struct op *)d)->s); }

/*
 * The guest's xenstore and console rings are in the restored memory: connect them to
 * xenstored and xenconsoled before it runs.  Their frames come from the helper's
 * restore_results, or, when a failover stopped the helper before it could report
 * (a stalled primary), from the restored domain's params.
 */
#define HVM_PARAM_STORE_PFN   1
#define HVM_PARAM_CONSOLE_PFN 17
static int connect_rings(libxl_ctx *ctx, uint32_t domid, const struct save_helper_result *res)
{
    uint64_t store = res->store_gfn, console = res->console_gfn;

    if (!res->results_seen &&
        (xhv_hvm_param_get(ctx->xch, domid, HVM_PARAM_STORE_PFN, &store) ||
         xhv_hvm_param_get(ctx->xch, domid, HVM_PARAM_CONSOLE_PFN, &console))) {
        lerr(ctx, "restoring domain %u: no ring frames from the save helper or the domain's "
             "params: %s", domid, strerror(errno));
        return -1;
    }
    if (xhv_domain_introduce(ctx->xch, domid, store, console)) {
        lerr(ctx, "restoring domain %u: connecting its xenstore and console rings: %s", domid,
             strerror(errno));
        return -1;
    }
    return 0;
}

int libxl_domain_create_restore(libxl_ctx *ctx, libxl_domain_config *d_config,
                                uint32_t *domid, int restore_fd, int send_back_fd,
                                const libxl_domain_restore_params *params,
                                const libxl_asyncop_how *ao_how,
                                const libxl_asyncprogress_how *aop_console_how)
{
    struct op op = { .ctx = ctx, .digest_dir = getenv("LIBXL_CHECKPOINT_DIGEST_DIR") };
    struct save_helper_hooks h = {
        .data = &op, .static_data_done = hook_static_data_done, .log = hook_log,
        .progress = hook_progress,
    };
    struct save_helper_params p = {
        .restore = 1, .io_fd = restore_fd, .back_fd = -1,
        .cbflags = SHM_CBFLAGS_RESTORE_PLAIN,
    };
    struct save_helper_result res;
    struct libxl_rec rec;
    char err[512];
    int stream = params ? params->checkpointed_stream : LIBXL_CHECKPOINTED_STREAM_NONE;
    int rc = check_ao(ctx, ao_how);

    (void)aop_console_how;
    if (rc)
        return rc;
    if (params && params->stream_version != 0 && params->stream_version != 2) {
        lerr(ctx, "restore: stream version %d is not supported (only 2)", params->stream_version);
        return ERROR_INVAL;
    }
    if (stream == LIBXL_CHECKPOINTED_STREAM_COLO && send_back_fd < 0) {
        lerr(ctx, "restore: COLO needs a back channel (send_back_fd)");
        return ERROR_INVAL;
    }
    if (libxl_read_stream_header(restore_fd, err, sizeof(err))) {
        lerr(ctx, "restore: %s", err);
        return ERROR_FAIL;
    }
    /* The libxc stream follows the LIBXC_CONTEXT record (optional records skipped). */
    for (;;) {
        if (libxl_read_rec(restore_fd, &rec, err, sizeof(err))) {
            lerr(ctx, "restore: %s", err);
            return ERROR_FAIL;
        }
        libxl_free_rec(&rec);
        if (rec.type == LIBXL_REC_LIBXC_CONTEXT && rec.length == 0)
            break;
        if (!(rec.type & LIBXL_REC_OPTIONAL)) {
            lerr(ctx, "restore: unexpected libxl record %#x (%s) before LIBXC_CONTEXT",
                 rec.type, libxl_rec_type_str(rec.type));
            return ERROR_FAIL;
        }
    }
    rc = create_domain(ctx, d_config, domid, 1);
    if (rc)
        return rc;
    if (xhv_domain_ports(ctx->xch, *domid, &p.store_evtchn, &p.console_evtchn)) {
        lerr(ctx, "restore: event channels of domain %u: %s", *domid, strerror(errno));
        libxl_domain_destroy(ctx, *domid, NULL);
        return ERROR_FAIL;
    }
    op.domid = *domid;
    op.s.xch = ctx->xch;
    op.s.domid = *domid;
    op.s.main_fd = restore_fd;
    op.s.back_fd = send_back_fd;
    p.domid = *domid;
    if (stream != LIBXL_CHECKPOINTED_STREAM_NONE) {
        /* Heartbeat: a stalled stream (nothing read for this long) means the primary
         * is lost, whether it stopped between records or inside one. */
        op.s.timeout_ms = colo_timeout_ms();
        p.stall_timeout_ms = op.s.timeout_ms;
    }
    if (stream == LIBXL_CHECKPOINTED_STREAM_REMUS) {
        p.stream_type = XC_STREAM_REMUS;
        p.cbflags = SHM_CBFLAGS_RESTORE_REMUS;
        h.checkpoint = sec_checkpoint;
    } else if (stream == LIBXL_CHECKPOINTED_STREAM_COLO) {
        p.stream_type = XC_STREAM_COLO;
        p.cbflags = SHM_CBFLAGS_RESTORE_COLO;
        p.back_fd = send_back_fd;
        op.s.colo = 1;
        if (d_config->sim.net && *d_config->sim.net && d_config->sim.net_compare &&
            *d_config->sim.net_compare) {
            /* the SVM's packets go to the primary's compare proxy */
            if (libxl__colo_proxy_spawn("secondary", *domid, d_config->sim.net,
                                        d_config->sim.net_compare, NULL, err, sizeof(err)))
                lerr(ctx, "restore: COLO network forwarder: %s", err);
            else
                op.net_epochs = 1;
        }
        h.checkpoint = sec_checkpoint;
        h.postcopy = sec_postcopy;
        h.restore_results = sec_restore_results;
        op.s.after_apply = sec_after_apply;
        op.s.opaque = &op;
        {
            const char *cmp = getenv("LIBXL_TEST_COLO_COMPARE");

            if (cmp && *cmp)
                op.compare_domid = (uint32_t)strtoul(cmp, NULL, 10);
        }
        h.wait_checkpoint = sec_wait_checkpoint;
        h.suspend = sec_suspend;
    }
    if (libxl__save_helper_run(&p, &h, &res)) {
        lerr(ctx, "restoring domain %u: %s", *domid, res.err);
        if (op.s.err[0])
            lerr(ctx, "restoring domain %u: %s (%s)", *domid, res.err, op.s.err);
        rc = ERROR_FAIL;
    } else if (stream == LIBXL_CHECKPOINTED_STREAM_NONE) {
        if (libxl_read_records_until(restore_fd, LIBXL_REC_END, err, sizeof(err))) {
            lerr(ctx, "restore: after the libxc stream: %s", err);
            rc = ERROR_FAIL;
        } else {
            start_direct_net(ctx, d_config, *domid);
        }
    } else {
        /* The helper completed a checkpointed stream: the primary or the link is gone
         * and this is a failover into the last whole checkpoint. */
        fprintf(stderr, "libxl: %s failover: %u checkpoint%s received; %s\n",
                stream == LIBXL_CHECKPOINTED_STREAM_COLO ? "COLO" : "Remus", op.s.applied,
                op.s.applied == 1 ? "" : "s",
                res.stalled ? "primary lost: the stream stalled"
                            : op.s.err[0] ? op.s.err : "the stream ended");
        if (stream == LIBXL_CHECKPOINTED_STREAM_COLO)
            resume_if_suspended(ctx, *domid);
        /* the survivor's output goes straight to the clients */
        if (op.net_epochs)
            libxl__colo_proxy_failover(*domid);
        else
            start_direct_net(ctx, d_config, *domid);
        write_failover_note(&op, stream == LIBXL_CHECKPOINTED_STREAM_COLO ? "colo" : "remus");
    }
    if (!rc && !op.rings_connected && connect_rings(ctx, *domid, &res))
        rc = ERROR_FAIL;
    if (rc) {
        libxl_domain_destroy(ctx, *domid, NULL);
        return rc;
    }
    return 0;
}

/* ---- Remus / COLO ---- */
void libxl_domain_remus_info_init(libxl_domain_remus_info *p)
{
    memset(p, 0, sizeof(*p));
}

void libxl_domain_remus_info_dispose(libxl_domain_remus_info *p)
{
    free(p->netbufscript);
    memset(p, 0, sizeof(*p));
}

void libxl_domain_remus_stop(libxl_ctx *ctx)
{
    ctx->remus_stop = 1;
    libxl__save_helper_abort_requested = 0;
}

static int pri_suspend(void *d) { return ckpt_primary_suspend(&((struct op *)d)->p); }
static int pri_postcopy(void *d) { return ckpt_primary_postcopy(&((struct op *)d)->p); }
static int pri_checkpoint(void *d) { return ckpt_primary_checkpoint(&((struct op *)d)->p); }
static int pri_wait_checkpoint(void *d)
{
    return ckpt_primary_wait_checkpoint(&((struct op *)d)->p);
}

int libxl_domain_remus_start(libxl_ctx *ctx, libxl_domain_remus_info *info, uint32_t domid,
                             int send_fd, int recv_fd, const libxl_asyncop_how *ao_how)
{
    struct op op = { .ctx = ctx, .domid = domid,
                     .digest_dir = getenv("LIBXL_CHECKPOINT_DIGEST_DIR") };
    struct save_helper_hooks h = {
        .data = &op, .suspend = pri_suspend, .postcopy = pri_postcopy,
        .checkpoint = pri_checkpoint, .switch_qemu_logdirty = hook_logdirty,
        .log = hook_log, .progress = hook_progress,
    };
    struct save_helper_params p = {
        .io_fd = send_fd, .back_fd = -1, .domid = domid, .xcflags = XCFLAGS_LIVE,
        .silence_timeout_ms = 30000,
    };
    struct save_helper_result res;
    const char *t = getenv("LIBXL_SAVE_HELPER_TIMEOUT_MS");
    bool colo;
    int rc = check_ao(ctx, ao_how);

    if (rc)
        return rc;
    /* Upstream's rules. */
    if (libxl_defbool_is_default(info->colo)) {
        lerr(ctx, "remus: info->colo must be set (true for COLO, false for Remus)");
        return ERROR_INVAL;
    }
    colo = libxl_defbool_val(info->colo);
    libxl_defbool_setdefault(&info->allow_unsafe, false);
    libxl_defbool_setdefault(&info->blackhole, false);
    libxl_defbool_setdefault(&info->compression, !colo);
    libxl_defbool_setdefault(&info->netbuf, true);
    libxl_defbool_setdefault(&info->diskbuf, true);
    if (colo && libxl_defbool_val(info->compression)) {
        lerr(ctx, "remus: COLO does not support memory checkpoint compression");
        return ERROR_INVAL;
    }
    if (!libxl_defbool_val(info->allow_unsafe) &&
        (libxl_defbool_val(info->blackhole) || !libxl_defbool_val(info->netbuf) ||
         !libxl_defbool_val(info->diskbuf))) {
        lerr(ctx, "remus: unsafe mode must be enabled (allow_unsafe) to use a blackhole, or "
             "to disable network or disk buffering");
        return ERROR_INVAL;
    }
    if (colo && recv_fd < 0) {
        lerr(ctx, "COLO needs a back channel (recv_fd)");
        return ERROR_INVAL;
    }
    if (libxl_domain_info(ctx, NULL, domid)) {
        lerr(ctx, "domain %u does not exist", domid);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (t)
        p.silence_timeout_ms = (unsigned int)strtoul(t, NULL, 10);
    ctx->remus_stop = 0;
    op.p.xch = ctx->xch;
    op.p.domid = domid;
    op.p.main_fd = send_fd;
    op.p.recv_fd = recv_fd;
    op.p.colo = colo;
    op.p.interval_ms = info->interval > 0 ? (unsigned int)info->interval : 200;
    op.p.stop = (volatile int *)&ctx->remus_stop;
    op.p.at_checkpoint = at_checkpoint;
    op.p.timeout_ms = colo ? colo_timeout_ms() : 0;
    op.p.opaque = &op;
    if (colo) {
        libxl_domain_config dc;

        if (!libxl_retrieve_domain_configuration(ctx, domid, &dc, NULL)) {
            if (dc.sim.net && *dc.sim.net) {
                char perr[512];

                if (!dc.sim.net_compare || !*dc.sim.net_compare) {
                    lerr(ctx, "COLO: domain %u has a network device (sim_net) but no "
                         "sim_net_compare address for the secondary's packets", domid);
                    libxl_domain_config_dispose(&dc);
                    return ERROR_INVAL;
                }
                if (libxl__colo_proxy_spawn("primary", domid, dc.sim.net, dc.sim.net_compare,
                                            &op.p.proxy_fd, perr, sizeof(perr))) {
                    lerr(ctx, "COLO: starting the compare proxy: %s", perr);
                    libxl_domain_config_dispose(&dc);
                    return ERROR_FAIL;
                }
                op.p.have_proxy = 1;
                fprintf(stderr, "libxl: COLO: domain %u's packets go through the compare "
                        "proxy (output %s, secondary's packets on %s)\n", domid, dc.sim.net,
                        dc.sim.net_compare);
            }
            libxl_domain_config_dispose(&dc);
        }
        p.stream_type = XC_STREAM_COLO;
        p.cbflags = SHM_CBFLAGS_SAVE_COLO;
        p.back_fd = recv_fd;
        h.wait_checkpoint = pri_wait_checkpoint;
    } else {
        p.stream_type = XC_STREAM_REMUS;
        p.cbflags = SHM_CBFLAGS_SAVE_REMUS;
    }
    if (libxl_write_stream_start(send_fd)) {
        lerr(ctx, "writing the libxl stream header: %s", strerror(errno));
        return ERROR_FAIL;
    }
    rc = libxl__save_helper_run(&p, &h, &res);
    if (op.p.have_proxy || op.p.proxy_requests) {
        fprintf(stderr, "libxl: COLO: %u checkpoints, %u of them asked for by the compare "
                "proxy\n", op.p.checkpoints, op.p.proxy_requests);
        /* the proxy passes the output through from now on: unprotected */
        if (op.p.have_proxy) {
            if (op.digest_dir) {   /* test instrumentation: when protection ended */
                char path[512];
                FILE *f;

                snprintf(path, sizeof(path), "%s/replication-ended", op.digest_dir);
                f = fopen(path, "w");
                if (f)
                    fclose(f);
            }
            close(op.p.proxy_fd);
        }
    }
    if (op.p.downtimes)
        linfo(ctx, "%u checkpoints; downtime mean %.2f ms, max %.2f ms", op.p.checkpoints,
              (double)op.p.downtime_ns_total / op.p.downtimes / 1e6,
              (double)op.p.downtime_ns_max / 1e6);
    resume_if_suspended(ctx, domid);
    if (!rc && ctx->remus_stop) {
        fprintf(stderr, "libxl: replication of domain %u stopped on request after %u "
                "checkpoints\n", domid, op.p.checkpoints);
        return 0;
    }
    lerr(ctx, "replication of domain %u ended after %u checkpoints: %s%s%s", domid,
         op.p.checkpoints, op.p.err[0] ? op.p.err : (rc ? res.err : "the secondary went away"),
         op.p.err[0] && rc ? "; " : "", op.p.err[0] && rc ? res.err : "");
    return ERROR_FAIL;
}
