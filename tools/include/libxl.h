/*
 * libxenlight-colo: a libxl-style API for other toolstacks (libvirt-style callers).
 * Names, types and argument order follow upstream libxl 4.17 where upstream has the
 * call; the domain config is reduced to what this toolstack models
 * (docs/libxl-and-xl.md).  Link with `pkg-config --cflags --libs xenlight-colo`.
 *
 * All calls are synchronous: ao_how must be NULL (upstream's synchronous mode).
 * Return values: 0 or a negative ERROR_* code, as upstream.
 */
#ifndef LIBXL_COLO_H
#define LIBXL_COLO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The logger type callers pass to libxl_ctx_alloc is Debian's libxentoollog one. */
#include <xentoollog.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBXL_VERSION 0
#define LIBXL_HAVE_COLO_SIM 1

/* What this library supports, with upstream's names and meanings. */
#define LIBXL_HAVE_REMUS 1
#define LIBXL_HAVE_CHECKPOINTED_STREAM 1
#define LIBXL_HAVE_DOMAIN_CREATE_RESTORE_PARAMS 1
#define LIBXL_HAVE_DOMAIN_CREATE_RESTORE_SEND_BACK_FD 1
#define LIBXL_HAVE_COLO_USERSPACE_PROXY 1    /* the only kind here: always userspace */
#define LIBXL_HAVE_SRM_V2 1
#define LIBXL_HAVE_ERROR_DOMAIN_NOTFOUND 1
#define LIBXL_HAVE_RETRIEVE_DOMAIN_CONFIGURATION 1
#define LIBXL_HAVE_MEMKB_64BITS 1
#define LIBXL_HAVE_BYTEARRAY_UUID 1
#define LIBXL_HAVE_UUID_COPY_CTX_PARAM 1

#define ERROR_NONSPECIFIC     (-1)
#define ERROR_VERSION         (-2)
#define ERROR_FAIL            (-3)
#define ERROR_NI              (-4)
#define ERROR_NOMEM           (-5)
#define ERROR_INVAL           (-6)
#define ERROR_BADFAIL         (-7)
#define ERROR_GUEST_TIMEDOUT  (-8)
#define ERROR_TIMEDOUT        (-9)
#define ERROR_DOMAIN_NOTFOUND (-21)
#define ERROR_ABORTED         (-22)
#define ERROR_NOTFOUND        (-23)

typedef struct libxl__ctx libxl_ctx;
typedef struct libxl_asyncop_how libxl_asyncop_how;   /* must be NULL: synchronous */
typedef struct libxl_asyncprogress_how libxl_asyncprogress_how;
typedef uint32_t libxl_domid;

#include "libxl_uuid.h"

/* libxl_defbool: default / true / false. */
typedef struct { int val; } libxl_defbool;
void libxl_defbool_set(libxl_defbool *db, bool b);
void libxl_defbool_unset(libxl_defbool *db);
bool libxl_defbool_is_default(libxl_defbool db);
bool libxl_defbool_val(libxl_defbool db);          /* the default reads as false */
void libxl_defbool_setdefault(libxl_defbool *db, bool b);

/* ---- context ---- */
/* Every message goes to lg (xentoollog's convention: the logger filters by level);
 * lg NULL: a logger of the library's own on stderr (see libxl_ctx_set_verbosity). */
int libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags, xentoollog_logger *lg);
int libxl_ctx_free(libxl_ctx *ctx);
/* Extensions (not upstream): the last error message, and progress/log callbacks.
 * Progress: what = the engine's pass ("Memory (live)", ...) with pages done/total, or
 * "checkpoint" with done = the checkpoint number and, on the primary, total = the
 * previous checkpoint's downtime in microseconds. */
const char *libxl_ctx_last_error(libxl_ctx *ctx);
typedef void libxl_progress_fn(void *opaque, const char *what, unsigned long done,
                               unsigned long total);
void libxl_ctx_set_progress(libxl_ctx *ctx, libxl_progress_fn *fn, void *opaque);
/* The library's own stderr logger (lg NULL): 0 notices and errors (default), 1: + info,
 * 2: + debug.  A caller's logger does its own filtering. */
void libxl_ctx_set_verbosity(libxl_ctx *ctx, int level);

/* ---- domain configuration ---- */
typedef enum {
    LIBXL_DOMAIN_TYPE_INVALID = -2,
    LIBXL_DOMAIN_TYPE_HVM = 1,
    LIBXL_DOMAIN_TYPE_PV = 2,
    LIBXL_DOMAIN_TYPE_PVH = 3,
} libxl_domain_type;

typedef struct {
    libxl_domain_type type;
    char *name;
    libxl_uuid uuid;        /* real Xen: the domain handle (from the config's "uuid") */
} libxl_domain_create_info;

typedef struct {
    int max_vcpus;
    uint64_t max_memkb;
    uint64_t target_memkb;
} libxl_domain_build_info;

/* The simulated guest's workload (docs/simulated-hypervisor.md). */
typedef struct {
    char *program;          /* incrementer, crcblocks, dirtyrate, divergent */
    uint64_t rate;          /* page writes per second (0: as fast as possible) */
    uint64_t seed;          /* program specific (seed or working set) */
    uint64_t max_steps;     /* stop writing after this many steps (0: never) */
    uint64_t flags;
    uint64_t host_input;    /* host-local input (divergent, netsend) */
    /* The network device (docs/colo-proxy.md): where its output is served (a unix
     * socket path on the host that runs the guest; NULL: no consumer) and, for COLO,
     * the address IP:PORT on the primary's host where the compare proxy receives the
     * secondary's packets. */
    char *net;
    char *net_compare;
} libxl_sim_info;

/* A network device (real Xen: a vif whose backend is dom0's netback), with upstream's
 * names for the fields this toolstack uses; read from the "nics" of upstream's JSON. */
typedef uint8_t libxl_mac[6];
typedef enum {
    LIBXL_NIC_TYPE_UNKNOWN = 0,
    LIBXL_NIC_TYPE_VIF_IOEMU = 1,        /* emulated by a device model: not built here */
    LIBXL_NIC_TYPE_VIF = 2,
} libxl_nic_type;
typedef struct {
    uint32_t backend_domid;              /* 0 only */
    int devid;
    int mtu;                             /* 0: 1500 */
    libxl_mac mac;
    char *ip;                            /* for the hotplug script (may be NULL) */
    char *bridge;                        /* NULL: xenbr0 */
    char *ifname;                        /* the backend's interface name (NULL: vifD.N) */
    char *script;                        /* NULL: vif-bridge; relative to /etc/xen/scripts */
    libxl_nic_type nictype;
} libxl_device_nic;
void libxl_device_nic_init(libxl_device_nic *nic);
void libxl_device_nic_dispose(libxl_device_nic *nic);

typedef struct {
    libxl_domain_create_info c_info;
    libxl_domain_build_info b_info;
    libxl_sim_info sim;
    int num_nics;
    libxl_device_nic *nics;
    /* Real Xen: the config in upstream libxl's JSON form, kept whole (kernel, devices,
     * everything this toolstack does not model), as found in upstream's save images,
     * migration streams and /var/lib/xen userdata.  It is what goes back out, with the
     * current name, so that upstream's xl on the other side gets a config it can use.
     * NULL for simulated guests. */
    char *xen_json;
} libxl_domain_config;

void libxl_domain_config_init(libxl_domain_config *d_config);
void libxl_domain_config_dispose(libxl_domain_config *d_config);
/* JSON as carried in xl's save-file header; the string is malloc'd. */
char *libxl_domain_config_to_json(libxl_ctx *ctx, libxl_domain_config *p);
/* On failure p holds nothing to free. */
int libxl_domain_config_from_json(libxl_ctx *ctx, libxl_domain_config *p, const char *s);
/* Extension: the config a running domain was created with (for save and migrate). */
int libxl_retrieve_domain_configuration(libxl_ctx *ctx, uint32_t domid,
                                        libxl_domain_config *d_config,
                                        const libxl_asyncop_how *ao_how);

/* ---- domains ---- */
typedef enum {
    LIBXL_SHUTDOWN_REASON_UNKNOWN = -1,
    LIBXL_SHUTDOWN_REASON_POWEROFF = 0,
    LIBXL_SHUTDOWN_REASON_REBOOT = 1,
    LIBXL_SHUTDOWN_REASON_SUSPEND = 2,
    LIBXL_SHUTDOWN_REASON_CRASH = 3,
    LIBXL_SHUTDOWN_REASON_WATCHDOG = 4,
    LIBXL_SHUTDOWN_REASON_SOFT_RESET = 5,
} libxl_shutdown_reason;

typedef struct {
    libxl_uuid uuid;
    libxl_domid domid;
    bool running, blocked, paused, shutdown, dying;
    libxl_shutdown_reason shutdown_reason;
    uint64_t current_memkb, max_memkb;
    uint64_t cpu_time;                   /* sim: guest steps executed */
    uint32_t vcpu_max_id, vcpu_online;
    libxl_domain_type domain_type;
    /* Extension: the simulated guest's status. */
    uint64_t sim_resumes, sim_selfchecks_passed, sim_selfchecks_failed;
    bool sim_vcpu_alive;
} libxl_dominfo;
void libxl_dominfo_init(libxl_dominfo *p);
void libxl_dominfo_dispose(libxl_dominfo *p);

int libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid,
                            const libxl_asyncop_how *ao_how,
                            const libxl_asyncprogress_how *aop_console_how);

typedef enum {
    LIBXL_CHECKPOINTED_STREAM_NONE = 0,
    LIBXL_CHECKPOINTED_STREAM_REMUS = 1,
    LIBXL_CHECKPOINTED_STREAM_COLO = 2,
} libxl_checkpointed_stream;

typedef struct {
    int checkpointed_stream;             /* libxl_checkpointed_stream */
    uint32_t stream_version;             /* 2 */
    char *colo_proxy_script;             /* accepted, unused */
    libxl_defbool userspace_colo_proxy;  /* accepted, unused */
    /* Extension: at failover, hold the domain instead of taking over (see below). */
    bool hold_at_failover;
} libxl_domain_restore_params;
void libxl_domain_restore_params_init(libxl_domain_restore_params *p);
void libxl_domain_restore_params_dispose(libxl_domain_restore_params *p);

/*
 * Create a domain from the libxl stream on restore_fd.  send_back_fd: the COLO back
 * channel (-1 when none).  Plain: returns when the stream ended, the domain paused.
 * Remus/COLO: returns at failover (the primary or the link is gone): Remus leaves the
 * domain paused in the last whole checkpoint; COLO leaves it running, its output
 * going to the clients.  With params->hold_at_failover (an extension) the domain is
 * held instead: paused (a COLO secondary where it stopped), its output still held back,
 * so that the caller can first make sure the primary is gone (fencing) and then call
 * libxl_domain_takeover, or libxl_domain_destroy to give the copy up.
 */
int libxl_domain_create_restore(libxl_ctx *ctx, libxl_domain_config *d_config,
                                uint32_t *domid, int restore_fd, int send_back_fd,
                                const libxl_domain_restore_params *params,
                                const libxl_asyncop_how *ao_how,
                                const libxl_asyncprogress_how *aop_console_how);

libxl_dominfo *libxl_list_domain(libxl_ctx *ctx, int *nb_domain_out);
void libxl_dominfo_list_free(libxl_dominfo *list, int nb_domain);
int libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info_r, uint32_t domid);
int libxl_domain_rename(libxl_ctx *ctx, uint32_t domid, const char *old_name,
                        const char *new_name);
int libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how);
/* Extension: a secondary held at failover becomes the primary: a suspended one is
 * resumed, its output goes to the clients, and it runs (stays paused with
 * LIBXL_TAKEOVER_PAUSED). */
#define LIBXL_TAKEOVER_PAUSED 1
int libxl_domain_takeover(libxl_ctx *ctx, uint32_t domid, unsigned int flags,
                          const libxl_asyncop_how *ao_how);
int libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how);
int libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how);

#define LIBXL_SUSPEND_DEBUG 1
#define LIBXL_SUSPEND_LIVE  2
/* Save the domain to fd (libxl stream); on success it is left suspended. */
int libxl_domain_suspend(libxl_ctx *ctx, uint32_t domid, int fd, int flags,
                         const libxl_asyncop_how *ao_how);
/* Resume a suspended domain; suspend_cancel=1 continues where it stopped. */
int libxl_domain_resume(libxl_ctx *ctx, uint32_t domid, int suspend_cancel,
                        const libxl_asyncop_how *ao_how);

typedef struct {
    int interval;                        /* ms between checkpoints (default 200) */
    libxl_defbool allow_unsafe;
    libxl_defbool blackhole;
    libxl_defbool compression;
    libxl_defbool netbuf;
    char *netbufscript;
    libxl_defbool diskbuf;
    libxl_defbool colo;
    libxl_defbool userspace_colo_proxy;
} libxl_domain_remus_info;
void libxl_domain_remus_info_init(libxl_domain_remus_info *p);
void libxl_domain_remus_info_dispose(libxl_domain_remus_info *p);

/*
 * Protect domid with Remus or (info->colo) COLO over send_fd (main stream) and recv_fd
 * (the back channel; COLO only).  Runs until replication ends: stopped on request
 * (libxl_domain_remus_stop: returns 0) or failed (the secondary or the link is gone:
 * returns an error).  The primary is left running in every case.
 */
int libxl_domain_remus_start(libxl_ctx *ctx, libxl_domain_remus_info *info, uint32_t domid,
                             int send_fd, int recv_fd, const libxl_asyncop_how *ao_how);
/* Extension: ask a running remus_start to stop after the current checkpoint
 * (async-signal-safe). */
void libxl_domain_remus_stop(libxl_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
