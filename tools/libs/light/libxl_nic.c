/*
 * Network devices (vifs) of the domains this libxl builds on real Xen: read from the
 * "nics" of upstream's JSON config (what upstream's xl save images and migration
 * streams carry), written to xenstore with the nodes upstream's libxl writes for a
 * vif, and put on their bridge by Xen's hotplug script (vif-bridge by default), which
 * dom0's netback driver and the guest's netfront then connect through.  A restored or
 * migrated guest keeps its MAC address, so its peers keep talking to it.
 */
#include "libxl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "libxl_device.h"

#define MAX_NICS          32
#define IFNAME_MAX        15            /* IFNAMSIZ - 1 */
#define FIELD_MAX         255
#define SCRIPT_DIR        "/etc/xen/scripts"
#define DEFAULT_BRIDGE    "xenbr0"
#define DEFAULT_SCRIPT    "vif-bridge"
#define DEFAULT_MTU       1500

void libxl_device_nic_init(libxl_device_nic *nic)
{
    memset(nic, 0, sizeof(*nic));
    nic->devid = -1;
    nic->nictype = LIBXL_NIC_TYPE_VIF;
}

void libxl_device_nic_dispose(libxl_device_nic *nic)
{
    free(nic->ip);
    free(nic->bridge);
    free(nic->ifname);
    free(nic->script);
    memset(nic, 0, sizeof(*nic));
}

/* Characters a name may hold: it reaches a shell script and the kernel's netdev names. */
static int name_ok(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);

    if (!n || n > max || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.' || strchr(extra, ch)))
            return 0;
    }
    return 1;
}

static int parse_mac(const char *s, libxl_mac mac)
{
    unsigned int b[6];
    char tail;

    if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
                                  &b[4], &b[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

/* One string field: absent (NULL, 0), or checked and copied; -1 with why set. */
static int get_str(json_object *o, const char *key, size_t max, const char *extra, char **out,
                   const char **why)
{
    json_object *v;
    const char *s;

    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        *why = "is not a string";
        return -1;
    }
    s = json_object_get_string(v);
    if (!*s)
        return 0;
    if (!name_ok(s, max, extra)) {
        *why = "is empty, too long, or holds a character it may not (or \"..\")";
        return -1;
    }
    *out = strdup(s);
    if (!*out) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}

static int get_int(json_object *o, const char *key, long lo, long hi, int *out, const char **why)
{
    json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        *why = "is not an integer";
        return -1;
    }
    x = json_object_get_int64(v);
    if (x < lo || x > hi) {
        *why = "is out of range";
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* One entry of "nics"; *field names the field a failure is about. */
static int nic_from_json(json_object *o, libxl_device_nic *nic, const char **field,
                         const char **why)
{
    json_object *v;
    int backend = 0;

    if (!json_object_is_type(o, json_type_object)) {
        *field = "";
        *why = "is not an object";
        return -1;
    }
    if ((*field = "devid", get_int(o, "devid", 0, LIBXL__DEVID_MAX, &nic->devid, why)) ||
        (*field = "mtu", get_int(o, "mtu", 0, 65535, &nic->mtu, why)) ||
        (*field = "backend_domid", get_int(o, "backend_domid", 0, 0x7fef, &backend, why)) ||
        (*field = "bridge", get_str(o, "bridge", IFNAME_MAX, "", &nic->bridge, why)) ||
        (*field = "ifname", get_str(o, "ifname", IFNAME_MAX, "", &nic->ifname, why)) ||
        (*field = "script", get_str(o, "script", FIELD_MAX, "/", &nic->script, why)) ||
        (*field = "ip", get_str(o, "ip", FIELD_MAX, ": /", &nic->ip, why)))
        return -1;
    *field = "mtu";
    if (nic->mtu && nic->mtu < 68) {
        *why = "is below 68, the smallest IPv4 MTU";
        return -1;
    }
    *field = "backend_domid";
    if (backend) {
        *why = "is not 0: this toolstack builds dom0-backed vifs only";
        return -1;
    }
    *field = "mac";
    if (!json_object_object_get_ex(o, "mac", &v)) {
        *why = "is missing (a restored or migrated guest keeps its address)";
        return -1;
    }
    if (!json_object_is_type(v, json_type_string) || parse_mac(json_object_get_string(v), nic->mac)) {
        *why = "is not a MAC address XX:XX:XX:XX:XX:XX";
        return -1;
    }
    *field = "nictype";
    if (json_object_object_get_ex(o, "nictype", &v) && !json_object_is_type(v, json_type_null)) {
        const char *t = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

        if (strcmp(t, "vif")) {
            *why = "is not \"vif\" (an emulated NIC needs a device model, not built here)";
            return -1;
        }
    }
    return 0;
}

int libxl__nics_from_json(libxl_ctx *ctx, json_object *config, libxl_domain_config *c)
{
    json_object *a;
    size_t n;
    int rc = ERROR_INVAL;

    if (!json_object_object_get_ex(config, "nics", &a) || json_object_is_type(a, json_type_null))
        return 0;
    if (!json_object_is_type(a, json_type_array)) {
        LOG_ERR(ctx, "domain config: nics is not an array");
        return ERROR_INVAL;
    }
    n = json_object_array_length(a);
    if (n > MAX_NICS) {
        LOG_ERR(ctx, "domain config: %zu nics, at most %d", n, MAX_NICS);
        return ERROR_INVAL;
    }
    if (!n)
        return 0;
    c->nics = calloc(n, sizeof(*c->nics));
    if (!c->nics)
        return ERROR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *field = "", *why = "";

        libxl_device_nic_init(&c->nics[i]);
        c->num_nics = (int)i + 1;
        if (nic_from_json(json_object_array_get_idx(a, i), &c->nics[i], &field, &why)) {
            LOG_ERR(ctx, "domain config: nics[%zu]%s%s %s", i, *field ? "." : "", field, why);
            goto out;
        }
        if (c->nics[i].devid < 0)
            c->nics[i].devid = (int)i;
        for (size_t k = 0; k < i; k++)
            if (c->nics[k].devid == c->nics[i].devid) {
                LOG_ERR(ctx, "domain config: nics[%zu] and nics[%zu] have the same devid %d", k,
                        i, c->nics[i].devid);
                goto out;
            }
    }
    rc = 0;
 out:
    return rc;
}

int libxl__nic_hotplug(libxl_ctx *ctx, const struct libxl__device *d, const char *script,
                       const char *action)
{
    char vif[32];
    const char *env[] = { "vif", vif, "netdev", "", NULL };

    /* Xen's vif scripts name the backend's interface by $vif: netback's vifD.N */
    snprintf(vif, sizeof(vif), "vif%u.%u", d->domid, d->devid);
    return libxl__device_hotplug(ctx, d, script, action, env);
}

static int nic_add(libxl_ctx *ctx, uint32_t domid, const libxl_device_nic *nic)
{
    struct libxl__device d = { .kind = "vif", .domid = domid, .devid = (unsigned int)nic->devid };
    char fe[160], be[160], did[16], handle[16], mac[18], mtu[8], vif[32], script[300];
    const char *bridge = nic->bridge ? nic->bridge : DEFAULT_BRIDGE;
    const char *s = nic->script ? nic->script : DEFAULT_SCRIPT;

    libxl__device_paths(&d, fe, sizeof(fe), be, sizeof(be));
    snprintf(did, sizeof(did), "%u", domid);
    snprintf(handle, sizeof(handle), "%d", nic->devid);
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0], nic->mac[1],
             nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
    snprintf(mtu, sizeof(mtu), "%d", nic->mtu ? nic->mtu : DEFAULT_MTU);
    snprintf(vif, sizeof(vif), "vif%u.%d", domid, nic->devid);
    snprintf(script, sizeof(script), "%s%s%s", s[0] == '/' ? "" : SCRIPT_DIR, s[0] == '/' ? "" : "/",
             s);
    const char *back[24] = { "frontend", fe, "frontend-id", did, "online", "1", "state", "1",
                             "script", script, "mac", mac, "bridge", bridge, "handle", handle,
                             "type", "vif" };
    const char *front[] = { "backend", be, "backend-id", "0", "state", "1", "handle", handle,
                            "mac", mac, "trusted", "1", "mtu", mtu, NULL };
    const char *dom0_owned[] = { "mtu", NULL };
    size_t k = 18;

    /* the optional nodes Xen's vif scripts read */
    if (nic->ifname) {
        back[k++] = "vifname";
        back[k++] = nic->ifname;
    }
    if (nic->ip) {
        back[k++] = "ip";
        back[k++] = nic->ip;
    }
    back[k] = NULL;
    if (libxl__device_add(ctx, &d, back, front, dom0_owned) ||
        libxl__device_wait_backend(ctx, &d, LIBXL__XENBUS_INITWAIT) ||
        libxl__nic_hotplug(ctx, &d, script, "online") ||
        libxl__device_hotplug_connected(ctx, &d)) {
        LOG_ERR(ctx, "domain %u: vif %d (mac %s, bridge %s) not connected", domid, nic->devid,
                mac, bridge);
        return -1;
    }
    LOG_INFO(ctx, "domain %u: %s (mac %s) on bridge %s", domid, nic->ifname ? nic->ifname : vif,
             mac, bridge);
    return 0;
}

int libxl__nics_add(libxl_ctx *ctx, uint32_t domid, const libxl_domain_config *c)
{
    for (int i = 0; i < c->num_nics; i++)
        if (nic_add(ctx, domid, &c->nics[i]))
            return ERROR_FAIL;
    return 0;
}
