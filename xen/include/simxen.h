/*
 * simxen: the simulated hypervisor's own API (used by the sim backend of xhv in
 * tools/libs/ctrl/xhv_sim.c and by the vcpu runner xen/simxen-vcpu).
 *
 * State lives in a directory on tmpfs ($SIMXEN_DIR, default /dev/shm/simxen) and is
 * shared between processes; see docs/simulated-hypervisor.md.  All functions return
 * 0 (or a count) on success and -1 with errno set on failure.  Where a char *err
 * buffer is taken, a human-readable reason is written to it on failure.
 */
#ifndef SIMXEN_H
#define SIMXEN_H

#include <stddef.h>
#include <stdint.h>

#define SIMXEN_DEFAULT_DIR   "/dev/shm/simxen"
#define SIMXEN_SPECIAL_PAGES 2              /* console, xenstore: the top two pfns */
#define SIMXEN_MAX_PAGES     (1ULL << 22)   /* 16 GiB of guest RAM (sparse tmpfs) */
#define SIMXEN_NR_PARAMS     64
#define SIMXEN_PARAM_STORE_PFN   1
#define SIMXEN_PARAM_CONSOLE_PFN 17
#define SIMXEN_CTX_MAX       1024           /* max HVM context blob size */
#define SIMXEN_PAUSE_TIMEOUT_MS 5000
#define SIMXEN_START_TIMEOUT_MS 10000

/* Generic program arguments (cfg->prog_args[]), the same slots for every program. */
#define SIMXEN_ARG_FLAGS     0   /* SIMXEN_PF_* */
#define SIMXEN_ARG_MAX_STEPS 1   /* stop writing after this many steps (0: never) */
#define SIMXEN_ARG_RATE      2   /* steps (= page writes) per second (0: as fast as possible) */
#define SIMXEN_ARG_PROG      3   /* program specific: seed (crcblocks, divergent),
                                    working set in pages (dirtyrate, 0: all RAM) */
#define SIMXEN_PF_NO_SELFCHECK 1ULL  /* skip the memory self-check on resume */
#define SIMXEN_PF_ALL          1ULL

typedef struct simxen simxen_t;

/* A new domain: a guest program to run, or none (an empty domain a restore fills). */
typedef struct simxen_domain_config {
    char name[64];
    uint64_t max_pages;           /* guest RAM in pages, special pages excluded */
    char program[32];             /* "incrementer", "crcblocks", "dirtyrate", "divergent",
                                     "netsend", or "" for an empty domain */
    uint64_t prog_args[4];        /* SIMXEN_ARG_* */
    uint64_t host_input;          /* host-local input (divergent, netsend) */
    int start_paused;             /* 1: created paused (restore targets) */
} simxen_domain_config_t;

#define SIMXEN_SHUTDOWN_poweroff 0
#define SIMXEN_SHUTDOWN_reboot   1
#define SIMXEN_SHUTDOWN_suspend  2
#define SIMXEN_SHUTDOWN_crash    3

typedef struct simxen_dominfo {
    uint32_t domid;
    unsigned int paused:1, shutdown:1, dying:1, hvm:1, running:1;
    unsigned int shutdown_reason;  /* SIMXEN_SHUTDOWN_* */
    uint64_t max_pages;            /* pages the domain may hold */
    uint64_t nr_pages;             /* pages populated */
    uint64_t p2m_size;             /* highest gfn + 1 */
    char name[64];
} simxen_dominfo_t;

/* Page types, in the stream's nibble position (bits 28..31). */
#define SIMXEN_PFINFO_NOTAB 0x0U
#define SIMXEN_PFINFO_XTAB  (0xfU << 28)   /* no page at this pfn */

enum simxen_logdirty_op {
    SIMXEN_LOGDIRTY_ENABLE,       /* start tracking with an empty dirty set */
    SIMXEN_LOGDIRTY_OFF,          /* stop tracking */
    SIMXEN_LOGDIRTY_PEEK,         /* read the dirty set, leave it as it is */
    SIMXEN_LOGDIRTY_CLEAN,        /* read and clear the dirty set atomically */
};

/* The guest program's account of itself. */
typedef struct simxen_status {
    uint64_t steps;               /* guest program steps executed since creation */
    uint64_t resumes;             /* times the guest ran its resume path */
    uint64_t selfchecks_passed;   /* resume-time memory self-checks that passed */
    uint64_t selfchecks_failed;   /* ... that found a violation */
    uint64_t first_bad_pfn;       /* first pfn of the last failed self-check */
    int vcpu_alive;               /* the vcpu process exists */
} simxen_status_t;

/* dir NULL: $SIMXEN_DIR, else SIMXEN_DEFAULT_DIR.  Creates the directory and the
 * shared `domains` file if missing. */
simxen_t *simxen_open(const char *dir);
void simxen_close(simxen_t *sx);
const char *simxen_dir(simxen_t *sx);

/* The log-dirty probe (uffd WP-async + PAGEMAP_SCAN on a private shmem mapping).
 * 0: the tracker works; -1/ENOTSUP with the missing feature named in why. */
int simxen_probe_logdirty(char *why, size_t len);

/* Domains. */
int simxen_domain_create(simxen_t *sx, const simxen_domain_config_t *cfg, uint32_t *domid,
                         char *err, size_t errlen);
int simxen_domain_destroy(simxen_t *sx, uint32_t domid);
int simxen_domain_info(simxen_t *sx, uint32_t domid, simxen_dominfo_t *info);
int simxen_domain_list(simxen_t *sx, simxen_dominfo_t *info, int max);
int simxen_domain_lookup(simxen_t *sx, const char *name, uint32_t *domid);
int simxen_domain_rename(simxen_t *sx, uint32_t domid, const char *name);

/* Run control (semantics in docs/simulated-hypervisor.md). */
int simxen_domain_pause(simxen_t *sx, uint32_t domid);
int simxen_domain_unpause(simxen_t *sx, uint32_t domid);
int simxen_domain_suspend(simxen_t *sx, uint32_t domid, unsigned int timeout_ms);
int simxen_domain_resume(simxen_t *sx, uint32_t domid, int fast);

/* Memory. */
int simxen_populate(simxen_t *sx, uint32_t domid, const uint64_t *pfns, size_t n);
/* Cached MAP_SHARED mapping of the whole guest memory file (p2m_size pages) and of
 * the populated bitmap; valid until simxen_close or the domain is destroyed through
 * this handle. */
int simxen_map_domain(simxen_t *sx, uint32_t domid, uint8_t **mem, const uint64_t **p2m,
                      uint64_t *p2m_size);
int simxen_pfn_types(simxen_t *sx, uint32_t domid, size_t n, const uint64_t *pfns,
                     uint32_t *types);
int simxen_map_pages(simxen_t *sx, uint32_t domid, const uint64_t *pfns, void **pages,
                     int *errs, size_t n);

/* Log-dirty (op: enum simxen_logdirty_op). */
int simxen_logdirty(simxen_t *sx, uint32_t domid, int op, unsigned long *bitmap,
                    uint64_t nr_pfns, uint64_t *dirty_count);

/* Context, params, TSC, status. */
int simxen_getcontext(simxen_t *sx, uint32_t domid, uint8_t *buf, size_t size);
int simxen_setcontext(simxen_t *sx, uint32_t domid, const uint8_t *buf, size_t size);
int simxen_param_get(simxen_t *sx, uint32_t domid, uint32_t index, uint64_t *value);
int simxen_param_set(simxen_t *sx, uint32_t domid, uint32_t index, uint64_t value);
int simxen_tsc_get(simxen_t *sx, uint32_t domid, uint32_t *mode, uint64_t *elapsed_nsec,
                   uint32_t *khz, uint32_t *incarnation);
int simxen_tsc_set(simxen_t *sx, uint32_t domid, uint32_t mode, uint64_t elapsed_nsec,
                   uint32_t khz, uint32_t incarnation);
int simxen_status(simxen_t *sx, uint32_t domid, simxen_status_t *st);
/* Reason for the last EINVAL/EBUSY of setcontext on this handle ("" if none). */
const char *simxen_last_error(simxen_t *sx);
/* The vcpu process id (for tests that kill it). */
int simxen_vcpu_pid(simxen_t *sx, uint32_t domid, int *pid);

/* Entry point of the vcpu runner process (xen/vcpu/simxen-vcpu.c). */
int simxen_vcpu_main(const char *dir, uint32_t domid);

#endif
