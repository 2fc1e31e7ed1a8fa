/*
 * Split-driver devices of the domains this libxl builds (real Xen): the frontend and
 * backend directories in xenstore, the backend's hotplug script, and their removal.
 * What is particular to one kind of device (the nodes of a vif) is in its own file
 * (libxl_nic.c); this file knows the layout every kind shares:
 *
 *   /local/domain/<domid>/device/<kind>/<devid>         the guest's (frontend) side,
 *                                                       owned by the guest, readable
 *                                                       by the backend domain
 *   /local/domain/<be>/backend/<kind>/<domid>/<devid>   the backend's side, owned by
 *                                                       the backend domain, readable
 *                                                       by the guest
 *   /libxl/<domid>/device/<kind>/<devid>                the toolstack's record (dom0's)
 *
 * Both start in state 1 (Initialising); the backend driver answers 2 (InitWait), then
 * the hotplug script runs with the environment and argument Xen's scripts expect
 * (XENBUS_TYPE, XENBUS_PATH relative to the store's root, XENBUS_BASE_PATH, script)
 * and reports "hotplug-status" = "connected".  The simulated hypervisor has no
 * xenstore and no split drivers: its guests have no such devices.
 */
#include "libxl_internal.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "libxl_device.h"
#include "xutil.h"

#if CONFIG_XEN
#include <xenstore.h>
#endif

#define DEVICE_STATE_TIMEOUT_MS 10000
#define HOTPLUG_TIMEOUT_MS      30000
#define HOTPLUG_OUTPUT_MAX      2048

void libxl__device_paths(const struct libxl__device *d, char *fe, size_t fe_len, char *be,
                         size_t be_len)
{
    if (fe)
        snprintf(fe, fe_len, "/local/domain/%u/device/%s/%u", d->domid, d->kind, d->devid);
    if (be)
        snprintf(be, be_len, "/local/domain/%u/backend/%s/%u/%u", d->backend_domid, d->kind,
                 d->domid, d->devid);
}

#if CONFIG_XEN

static struct xs_handle *store(libxl_ctx *ctx)
{
    struct xs_handle *h = xhv_xenstore(ctx->xch);

    if (!h)
        LOG_ERR(ctx, "devices: no connection to xenstored");
    return h;
}

/* path = value, owned by `owner`, readable by `reader`. */
static int put(struct xs_handle *h, xs_transaction_t t, const char *path, const char *value,
               uint32_t owner, uint32_t reader)
{
    struct xs_permissions perms[2] = {
        { .id = owner, .perms = XS_PERM_NONE }, { .id = reader, .perms = XS_PERM_READ },
    };

    if (!xs_write(h, t, path, value, strlen(value)) || !xs_set_permissions(h, t, path, perms, 2))
        return -1;
    return 0;
}

/* Writes one side's directory and its key/value pairs (kv: key, value, ..., NULL);
 * the keys of dom0_owned (may be NULL) are the toolstack's, in the frontend too. */
static int put_dir(struct xs_handle *h, xs_transaction_t t, const char *dir, uint32_t owner,
                   uint32_t reader, const char *const *kv, const char *const *dom0_owned)
{
    char p[256];

    if (put(h, t, dir, "", owner, reader))
        return -1;
    for (size_t i = 0; kv[i]; i += 2) {
        uint32_t o = owner, r = reader;

        for (size_t k = 0; dom0_owned && dom0_owned[k]; k++)
            if (!strcmp(dom0_owned[k], kv[i])) {
                o = 0;
                r = owner;
            }
        snprintf(p, sizeof(p), "%s/%s", dir, kv[i]);
        if (put(h, t, p, kv[i + 1], o, r))
            return -1;
    }
    return 0;
}

int libxl__device_add(libxl_ctx *ctx, const struct libxl__device *d, const char *const *back,
                      const char *const *front, const char *const *front_dom0_owned)
{
    struct xs_handle *h = store(ctx);
    char fe[160], be[160], lp[160], lfe[176], lbe[176];
    xs_transaction_t t;

    if (!h)
        return -1;
    libxl__device_paths(d, fe, sizeof(fe), be, sizeof(be));
    /* Upstream's libxl keeps its own record of a domain's devices there, and leaves out
     * of the config it sends on (xl save, migrate) every device it does not find in it:
     * a domain this libxl built, saved by upstream's xl, would lose its vifs. */
    snprintf(lp, sizeof(lp), "/libxl/%u/device/%s/%u", d->domid, d->kind, d->devid);
    snprintf(lfe, sizeof(lfe), "%s/frontend", lp);
    snprintf(lbe, sizeof(lbe), "%s/backend", lp);
    for (;;) {
        t = xs_transaction_start(h);
        if (!t)
            break;
        if (put_dir(h, t, be, d->backend_domid, d->domid, back, NULL) ||
            put_dir(h, t, fe, d->domid, d->backend_domid, front, front_dom0_owned) ||
            put_dir(h, t, lp, 0, 0, back, NULL) ||
            put(h, t, lfe, fe, 0, 0) || put(h, t, lbe, be, 0, 0)) {
            xs_transaction_end(h, t, true);
            break;
        }
        if (xs_transaction_end(h, t, false))
            return 0;
        if (errno != EAGAIN)
            break;
    }
    libxl__log(ctx, XTL_ERROR, errno, "libxl", "domain %u: writing %s device %u to xenstore",
               d->domid, d->kind, d->devid);
    return -1;
}

/* The node's value (malloc'd) or NULL. */
static char *read_node(struct xs_handle *h, const char *dir, const char *node)
{
    char p[256];
    unsigned int len;

    snprintf(p, sizeof(p), "%s/%s", dir, node);
    return xs_read(h, XBT_NULL, p, &len);
}

/* Until the backend's state is `state` or `or_state` (bounded wait). */
static int wait_backend_in(libxl_ctx *ctx, const struct libxl__device *d, int state,
                           int or_state)
{
    struct xs_handle *h = store(ctx);
    uint64_t deadline = clock_now_ns() + (uint64_t)DEVICE_STATE_TIMEOUT_MS * 1000000;
    char be[160], *v = NULL;

    if (!h)
        return -1;
    libxl__device_paths(d, NULL, 0, be, sizeof(be));
    while (clock_now_ns() < deadline) {
        free(v);
        v = read_node(h, be, "state");
        if (v && (atoi(v) == state || atoi(v) == or_state)) {
            free(v);
            return 0;
        }
        usleep(20000);
    }
    LOG_ERR(ctx, "domain %u: %s device %u: its backend did not reach state %d within %d ms "
            "(state %s; is the backend driver loaded?)", d->domid, d->kind, d->devid, state,
            DEVICE_STATE_TIMEOUT_MS, v ? v : "missing");
    free(v);
    errno = ETIMEDOUT;
    return -1;
}

int libxl__device_wait_backend(libxl_ctx *ctx, const struct libxl__device *d, int state)
{
    return wait_backend_in(ctx, d, state, state);
}

/* The script's output, logged through the caller's logger (at `level`). */
static void log_output(libxl_ctx *ctx, xentoollog_level level, const struct libxl__device *d,
                       const char *action, int fd)
{
    char buf[HOTPLUG_OUTPUT_MAX + 1];
    size_t n = 0;
    ssize_t r;

    while (n < HOTPLUG_OUTPUT_MAX && (r = read(fd, buf + n, HOTPLUG_OUTPUT_MAX - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        libxl__log(ctx, level, -1, "hotplug", "%s %u/%u %s: %s", d->kind, d->domid, d->devid,
                   action, line);
}

int libxl__device_hotplug(libxl_ctx *ctx, const struct libxl__device *d, const char *script,
                          const char *action, const char *const *env)
{
    char xbpath[96], *argv[] = { (char *)script, (char *)action, NULL };
    uint64_t deadline = clock_now_ns() + (uint64_t)HOTPLUG_TIMEOUT_MS * 1000000;
    int out[2] = { -1, -1 }, status = 0, rc = -1;
    pid_t pid, w = 0;

    snprintf(xbpath, sizeof(xbpath), "backend/%s/%u/%u", d->kind, d->domid, d->devid);
    if (pipe(out)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "hotplug %s: pipe", script);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(out[0]);
        close(out[1]);
        setenv("script", script, 1);
        setenv("XENBUS_TYPE", d->kind, 1);
        setenv("XENBUS_PATH", xbpath, 1);
        setenv("XENBUS_BASE_PATH", "backend", 1);
        for (size_t i = 0; env && env[i]; i += 2)
            setenv(env[i], env[i + 1], 1);
        execv(script, argv);
        fprintf(stderr, "cannot run %s: %s\n", script, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    if (pid < 0) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "hotplug %s: fork", script);
        goto out;
    }
    /* A script that hangs must not hang the toolstack with it. */
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && clock_now_ns() < deadline)
        usleep(20000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        LOG_ERR(ctx, "domain %u: %s device %u: %s %s did not finish within %d ms: killed",
                d->domid, d->kind, d->devid, script, action, HOTPLUG_TIMEOUT_MS);
        log_output(ctx, XTL_ERROR, d, action, out[0]);
        goto out;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        LOG_ERR(ctx, "domain %u: %s device %u: %s %s failed (%s %d)", d->domid, d->kind,
                d->devid, script, action, WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        log_output(ctx, XTL_ERROR, d, action, out[0]);
        goto out;
    }
    log_output(ctx, XTL_DEBUG, d, action, out[0]);
    rc = 0;
 out:
    close(out[0]);
    if (rc)
        errno = EIO;
    return rc;
}

int libxl__device_hotplug_connected(libxl_ctx *ctx, const struct libxl__device *d)
{
    struct xs_handle *h = store(ctx);
    char be[160], *st, *err;
    int rc = -1;

    if (!h)
        return -1;
    libxl__device_paths(d, NULL, 0, be, sizeof(be));
    st = read_node(h, be, "hotplug-status");
    err = read_node(h, be, "hotplug-error");
    if (st && !strcmp(st, "connected"))
        rc = 0;
    else
        LOG_ERR(ctx, "domain %u: %s device %u: hotplug-status is '%s'%s%s", d->domid, d->kind,
                d->devid, st ? st : "missing", err ? ": " : "", err ? err : "");
    free(st);
    free(err);
    if (rc)
        errno = EIO;
    return rc;
}

/* Upstream's layout has one backend domain per device; this libxl builds dom0-backed
 * devices only, so dom0's backend directory holds all of a domain's devices. */
int libxl__devices_list(libxl_ctx *ctx, uint32_t domid, struct libxl__device *out, int max)
{
    struct xs_handle *h = store(ctx);
    char p[128], **kinds, **ids;
    unsigned int nk = 0, ni;
    int n = 0;

    if (!h)
        return -1;
    kinds = xs_directory(h, XBT_NULL, "/local/domain/0/backend", &nk);
    for (unsigned int k = 0; kinds && k < nk; k++) {
        snprintf(p, sizeof(p), "/local/domain/0/backend/%s/%u", kinds[k], domid);
        ids = xs_directory(h, XBT_NULL, p, &ni);
        for (unsigned int i = 0; ids && i < ni && n < max; i++) {
            char *end;
            unsigned long id = strtoul(ids[i], &end, 10);

            if (*end || end == ids[i] || id > LIBXL__DEVID_MAX ||
                strlen(kinds[k]) >= sizeof(out[n].kindbuf))
                continue;   /* not a device this toolstack could have written */
            snprintf(out[n].kindbuf, sizeof(out[n].kindbuf), "%s", kinds[k]);
            out[n].kind = out[n].kindbuf;
            out[n].domid = domid;
            out[n].backend_domid = 0;
            out[n].devid = (unsigned int)id;
            n++;
        }
        free(ids);
    }
    free(kinds);
    return n;
}

/* The frontend's state node: the guest's; a running guest's frontend answers the
 * backend's Closing with Closed itself, which is what the walk writes next. */
static int put_frontend_state(libxl_ctx *ctx, struct xs_handle *h,
                              const struct libxl__device *d, int state)
{
    char fe[160], p[192], v[4];

    libxl__device_paths(d, fe, sizeof(fe), NULL, 0);
    snprintf(p, sizeof(p), "%s/state", fe);
    snprintf(v, sizeof(v), "%d", state);
    if (!xs_write(h, XBT_NULL, p, v, strlen(v))) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "writing %s", p);
        return -1;
    }
    return 0;
}

int libxl__devices_reset(libxl_ctx *ctx, uint32_t domid)
{
    /* frontend writes, backend answers; a running guest answers the backend's Closing
     * with its own Closed at once, and the backend may be Closed before we look */
    static const int walk[][3] = {
        { LIBXL__XENBUS_CLOSING, LIBXL__XENBUS_CLOSING, LIBXL__XENBUS_CLOSED },
        { LIBXL__XENBUS_CLOSED, LIBXL__XENBUS_CLOSED, LIBXL__XENBUS_CLOSED },
        { LIBXL__XENBUS_INITIALISING, LIBXL__XENBUS_INITWAIT, LIBXL__XENBUS_INITWAIT },
    };
    struct libxl__device devs[16];
    struct xs_handle *h = xhv_xenstore(ctx->xch);
    uint64_t t0;
    int n, rc = 0;

    if (!h)
        return errno == ENOSYS ? 0 : -1;
    n = libxl__devices_list(ctx, domid, devs, (int)(sizeof(devs) / sizeof(devs[0])));
    for (int i = 0; i < n && !rc; i++) {
        char be[160], *v;
        int connected;

        /* The primary console is not a xenbus device (its frontend is the domain's
         * console directory) and reconnects nothing. */
        if (strcmp(devs[i].kind, "vif"))
            continue;
        libxl__device_paths(&devs[i], NULL, 0, be, sizeof(be));
        v = read_node(h, be, "state");
        connected = v && atoi(v) == LIBXL__XENBUS_CONNECTED;
        free(v);
        if (!connected)
            continue;   /* never connected, or waiting already */
        t0 = clock_now_ns();
        for (size_t k = 0; k < sizeof(walk) / sizeof(walk[0]) && !rc; k++)
            rc = put_frontend_state(ctx, h, &devs[i], walk[k][0]) ||
                 wait_backend_in(ctx, &devs[i], walk[k][1], walk[k][2]) ? -1 : 0;
        if (!rc)
            LOG_INFO(ctx, "domain %u: %s %u: its backend let go (InitWait) in %.1f ms", domid,
                     devs[i].kind, devs[i].devid, (double)(clock_now_ns() - t0) / 1e6);
    }
    return n < 0 ? -1 : rc;
}

void libxl__device_offline(libxl_ctx *ctx, const struct libxl__device *d)
{
    struct xs_handle *h = store(ctx);
    char be[160], p[192];

    if (!h)
        return;
    libxl__device_paths(d, NULL, 0, be, sizeof(be));
    snprintf(p, sizeof(p), "%s/online", be);
    xs_write(h, XBT_NULL, p, "0", 1);
}

void libxl__device_remove(libxl_ctx *ctx, const struct libxl__device *d)
{
    struct xs_handle *h = store(ctx);
    char be[160], dir[128], *script;

    if (!h)
        return;
    libxl__device_paths(d, NULL, 0, be, sizeof(be));
    script = read_node(h, be, "script");
    if (script && *script) {
        if (!strcmp(d->kind, "vif"))
            libxl__nic_hotplug(ctx, d, script, "offline");
        else
            libxl__device_hotplug(ctx, d, script, "offline", NULL);
    }
    free(script);
    if (!xs_rm(h, XBT_NULL, be) && errno != ENOENT)
        libxl__log(ctx, XTL_WARN, errno, "libxl", "removing %s", be);
    /* the domain's directory under the kind, once its last device is gone */
    snprintf(dir, sizeof(dir), "/local/domain/%u/backend/%s/%u", d->backend_domid, d->kind,
             d->domid);
    {
        unsigned int n = 0;
        char **left = xs_directory(h, XBT_NULL, dir, &n);

        if (left && n == 0)
            xs_rm(h, XBT_NULL, dir);
        free(left);
    }
}

#else /* the simulated hypervisor only: no split-driver devices */

int libxl__device_add(libxl_ctx *ctx, const struct libxl__device *d, const char *const *back,
                      const char *const *front, const char *const *front_dom0_owned)
{
    (void)back; (void)front; (void)front_dom0_owned;
    LOG_ERR(ctx, "domain %u: %s devices need real Xen (built without it)", d->domid, d->kind);
    errno = ENOSYS;
    return -1;
}
int libxl__device_wait_backend(libxl_ctx *ctx, const struct libxl__device *d, int state)
{ (void)ctx; (void)d; (void)state; errno = ENOSYS; return -1; }
int libxl__device_hotplug(libxl_ctx *ctx, const struct libxl__device *d, const char *script,
                          const char *action, const char *const *env)
{ (void)ctx; (void)d; (void)script; (void)action; (void)env; errno = ENOSYS; return -1; }
int libxl__device_hotplug_connected(libxl_ctx *ctx, const struct libxl__device *d)
{ (void)ctx; (void)d; errno = ENOSYS; return -1; }
int libxl__devices_list(libxl_ctx *ctx, uint32_t domid, struct libxl__device *out, int max)
{ (void)ctx; (void)domid; (void)out; (void)max; return 0; }
int libxl__devices_reset(libxl_ctx *ctx, uint32_t domid) { (void)ctx; (void)domid; return 0; }
void libxl__device_offline(libxl_ctx *ctx, const struct libxl__device *d) { (void)ctx; (void)d; }
void libxl__device_remove(libxl_ctx *ctx, const struct libxl__device *d) { (void)ctx; (void)d; }

#endif
