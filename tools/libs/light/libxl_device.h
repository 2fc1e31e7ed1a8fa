/*
 * Split-driver devices in xenstore (libxl_device.c): the layout every kind shares, the
 * backend's hotplug script, removal.  Internal to libxl.
 */
#ifndef LIBXL_DEVICE_H
#define LIBXL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "libxl.h"

/* Device numbers this toolstack writes and accepts (upstream's vif handles are small). */
#define LIBXL__DEVID_MAX 1023
/* xenbus states (Xen's io/xenbus.h) */
#define LIBXL__XENBUS_INITIALISING 1
#define LIBXL__XENBUS_INITWAIT     2
#define LIBXL__XENBUS_CONNECTED    4
#define LIBXL__XENBUS_CLOSING      5
#define LIBXL__XENBUS_CLOSED       6

struct libxl__device {
    const char *kind;              /* "vif" */
    uint32_t domid, backend_domid;
    unsigned int devid;
    char kindbuf[16];              /* kind's storage when listed from xenstore */
};

/* /local/domain/<domid>/device/<kind>/<devid> and the backend's directory (either may
 * be NULL). */
void libxl__device_paths(const struct libxl__device *d, char *fe, size_t fe_len, char *be,
                         size_t be_len);
/* Both directories in one transaction, state included in back/front (kv lists: key,
 * value, ..., NULL).  front_dom0_owned: frontend keys the toolstack keeps (the guest
 * reads them only).  0 or -1. */
int libxl__device_add(libxl_ctx *ctx, const struct libxl__device *d, const char *const *back,
                      const char *const *front, const char *const *front_dom0_owned);
/* Until the backend's state is `state` (bounded wait): 0, or -1 with ETIMEDOUT. */
int libxl__device_wait_backend(libxl_ctx *ctx, const struct libxl__device *d, int state);
/* Runs `script action` with the environment Xen's hotplug scripts read, plus env (name,
 * value, ..., NULL; may be NULL), within a time limit; its output goes to the logger. */
int libxl__device_hotplug(libxl_ctx *ctx, const struct libxl__device *d, const char *script,
                          const char *action, const char *const *env);
/* The script reported success (hotplug-status "connected"); else its hotplug-error. */
int libxl__device_hotplug_connected(libxl_ctx *ctx, const struct libxl__device *d);
/* The domain's dom0-backed devices (at most max): their number, or -1. */
int libxl__devices_list(libxl_ctx *ctx, uint32_t domid, struct libxl__device *out, int max);
/* A domain whose memory is about to be replaced (a COLO secondary before a
 * checkpoint): each connected vif's backend is walked back to InitWait through the
 * frontend states a guest writes when it closes a device and opens it again (Closing,
 * Closed, Initialising), so that it unmaps the guest's rings and buffers now and waits
 * for the guest's resume to connect afresh.  A domain without vifs (or the simulated
 * hypervisor): nothing to do.  0 or -1. */
int libxl__devices_reset(libxl_ctx *ctx, uint32_t domid);
/* Tells the backend the device goes (online = 0), before the domain is destroyed. */
void libxl__device_offline(libxl_ctx *ctx, const struct libxl__device *d);
/* After the domain is gone: the hotplug script's "offline", the backend directory. */
void libxl__device_remove(libxl_ctx *ctx, const struct libxl__device *d);

/* Network devices (libxl_nic.c). */
/* The "nics" of upstream's JSON config into c->nics: every field checked. */
struct json_object;
int libxl__nics_from_json(libxl_ctx *ctx, struct json_object *config, libxl_domain_config *c);
/* The hotplug script of a vif, with the environment Xen's vif scripts read ($vif). */
int libxl__nic_hotplug(libxl_ctx *ctx, const struct libxl__device *d, const char *script,
                       const char *action);
/* The config's vifs for a domain this libxl built, connected to their bridges. */
int libxl__nics_add(libxl_ctx *ctx, uint32_t domid, const libxl_domain_config *c);

#endif
