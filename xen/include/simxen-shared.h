/*
 * Internal to the simulated hypervisor: the layout of the shared `domains` file, the
 * guest program interface and helpers shared by the files in xen/common.  Everything read from
 * the shared file is treated as untrusted (another process may have scribbled on it).
 */
#ifndef SIMXEN_SHARED_H
#define SIMXEN_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "simxen.h"
#include "simxen-net.h"

#define SIMXEN_MAGIC   0x314e4558444d4953ULL   /* "SIMDXEN1" */
#define SIMXEN_VERSION 1
#define SIMXEN_NSLOTS  64
#define SIMXEN_DOMID_MAX 0x7fefU               /* DOMID_FIRST_RESERVED - 1 */

enum simxen_vcpu_state {
    VCPU_NONE = 0,
    VCPU_STARTING,      /* spawned, not ready yet */
    VCPU_RUNNING,       /* executing guest steps (or idle in the guest) */
    VCPU_STOPPED,       /* at a step boundary, registers saved in ctx */
    VCPU_FAILED,        /* could not start: see vcpu_error */
};

/* resume_pending bits */
#define RESUME_PATH 1U     /* run the guest's resume path (self-check) on continuing */

struct simxen_slot {
    uint32_t in_use;
    uint32_t domid;
    uint64_t gen;                   /* unique per creation */
    char name[64];
    uint64_t max_pages;
    uint64_t p2m_size;
    uint64_t nr_pages;
    uint32_t pause_count;
    uint32_t shutdown;
    uint32_t shutdown_reason;
    uint32_t dying;
    uint32_t suspend_req;
    uint32_t resume_pending;        /* RESUME_* */
    uint32_t ctx_set;               /* a setcontext happened since creation */
    uint32_t logdirty_on;
    char program[32];               /* as created ("" = empty restore target) */
    uint64_t prog_args[4];
    uint64_t host_input;            /* host-local, never part of the context */
    int32_t vcpu_pid;
    uint32_t vcpu_errno;
    uint64_t vcpu_starttime;        /* /proc/<pid>/stat field 22, guards pid reuse */
    uint64_t map_base;              /* address of guest memory in the vcpu process */
    char vcpu_error[160];

    /* run-state synchronisation (futex words) */
    _Atomic uint32_t vcpu_state;    /* enum simxen_vcpu_state; futex */
    _Atomic uint32_t want_stop;     /* polled by the vcpu between steps */
    _Atomic uint32_t ctl_seq;       /* bumped on each control change; vcpu waits on it */
    _Atomic uint32_t stop_gen;      /* bumped when want_stop goes 0 -> 1 */
    _Atomic uint32_t ack_gen;       /* vcpu: stopped for stop_gen; toolstack waits on it */

    uint32_t ctx_len;
    uint8_t ctx[SIMXEN_CTX_MAX];
    uint64_t params[SIMXEN_NR_PARAMS];
    uint32_t tsc_mode, tsc_khz, tsc_incarnation, pad1;
    uint64_t tsc_elapsed_nsec;

    _Atomic uint64_t steps;
    uint64_t resumes;
    uint64_t selfchecks_passed;
    uint64_t selfchecks_failed;
    uint64_t first_bad_pfn;
} __attribute__((aligned(64)));

struct simxen_shared {
    uint64_t magic;
    uint32_t version;
    uint32_t nslots;
    uint64_t size;                  /* sizeof(struct simxen_shared) */
    uint64_t next_gen;
    uint32_t next_domid;
    uint32_t pad;
    pthread_mutex_t lock;           /* process-shared, robust */
    char mutex_pad[64];
    struct simxen_slot slots[SIMXEN_NSLOTS];
};

struct simxen_map {
    uint32_t domid;
    uint64_t gen;
    uint8_t *mem;
    uint64_t *p2m;
    uint64_t p2m_size;
    size_t mem_len, p2m_len;
    int pagemap_fd;                 /* /proc/<vcpu>/pagemap, -1 if not open */
    int pagemap_pid;
};

struct simxen {
    char dir[256];
    int fd;
    struct simxen_shared *sh;
    pthread_mutex_t cache_lock;     /* in-process: protects maps[] */
    struct simxen_map *maps;
    size_t nmaps;
    char last_error[256];           /* reason of the last EINVAL from setcontext etc. */
};

/* ---- state.c ---- */
void simxen_lock(simxen_t *sx);
void simxen_unlock(simxen_t *sx);
/* Slot of a live (in_use, not necessarily ready) domain; caller holds the lock. */
struct simxen_slot *simxen_find(simxen_t *sx, uint32_t domid);
int simxen_path(simxen_t *sx, uint32_t domid, const char *suffix, char *buf, size_t len);
int simxen_futex_wait(_Atomic uint32_t *word, uint32_t val, long timeout_ms);
void simxen_futex_wake(_Atomic uint32_t *word);
uint64_t simxen_now_ns(void);
uint64_t simxen_pid_starttime(int pid);          /* 0: no such (live) process */
int simxen_pid_alive(int pid, uint64_t starttime);
size_t simxen_p2m_bytes(uint64_t p2m_size);

/* ---- domain.c ---- */
/* Cached mapping of domid's memory and p2m bitmap (copied out; pointers stay valid
 * until the entry is dropped). */
int simxen_map_get(simxen_t *sx, uint32_t domid, struct simxen_map *out);
void simxen_map_drop(simxen_t *sx, uint32_t domid);
static inline int simxen_p2m_test(const uint64_t *p2m, uint64_t pfn)
{
    return (__atomic_load_n(&p2m[pfn / 64], __ATOMIC_RELAXED) >> (pfn % 64)) & 1;
}

/* ---- tracker.c ---- */
int simxen_uffd_wp_register(void *base, size_t len, char *why, size_t whylen);
/* One PAGEMAP_SCAN walk over [start,end) of the process behind pagemap_fd.
 * clean: write-protect again what was reported.  Sets bit (addr-start)/4096 in bitmap
 * (nbits bits); returns number of dirty pages found or -1. */
int64_t simxen_scan(int pagemap_fd, uint64_t start, uint64_t end, int clean,
                    unsigned long *bitmap, uint64_t nbits);

/* ---- guest programs ---- */
struct sim_regs {
    uint64_t pc;
    uint64_t pass;
    uint64_t prng;
    uint64_t count;                 /* steps executed by the program */
    uint64_t r[4];
};

struct sim_guest {
    uint8_t *mem;                   /* guest RAM: pfn p at mem + p*4096 */
    uint64_t npages;                /* max_pages (RAM only) */
    uint64_t host_input;            /* host-local input (slot) */
    const uint64_t *args;           /* prog_args[4] */
    struct simxen_net_ring *net;    /* the network device's transmit ring (or NULL) */
};

struct sim_program {
    const char *name;
    uint32_t id;
    /* args valid for a domain of npages?  0 or -1 (EINVAL). */
    int (*check_args)(const uint64_t *args, uint64_t npages);
    /* regs valid (range checks) for these args/npages? */
    int (*check_regs)(const struct sim_regs *r, const uint64_t *args, uint64_t npages);
    void (*init)(struct sim_regs *r, const struct sim_guest *g);
    void (*step)(struct sim_regs *r, const struct sim_guest *g);
    /* 0: memory consistent with regs; -1: *bad_pfn set */
    int (*selfcheck)(const struct sim_regs *r, const struct sim_guest *g, uint64_t *bad_pfn);
    int uses_net;                   /* sends one packet per step (waits while the ring is full) */
};

#define SIM_PROG_NONE 0U
const struct sim_program *sim_program_by_name(const char *name);
const struct sim_program *sim_program_by_id(uint32_t id);
int sim_check_common_args(const uint64_t *args);
uint64_t sim_prng_next(uint64_t *state);
uint64_t sim_mix64(uint64_t x);
/* Shared program pieces: args that need nothing, a pc that must point into RAM, and the
 * check of pages stamped {value, tag|pfn, mix(value^pfn)} from pfn `from` on. */
int sim_args_any(const uint64_t *args, uint64_t npages);
int sim_regs_pc_in_ram(const struct sim_regs *r, const uint64_t *args, uint64_t npages);
int sim_check_tagged_pages(const struct sim_guest *g, uint64_t from, uint64_t tag, uint64_t *bad);

extern const struct sim_program sim_prog_incrementer, sim_prog_crcblocks, sim_prog_dirtyrate,
    sim_prog_divergent, sim_prog_netsend;

/* ---- context.c ---- */
#define SIM_CTX_TYPE_END    0
#define SIM_CTX_TYPE_HEADER 1
#define SIM_CTX_TYPE_CPU    0x5349          /* 'SI' */
#define SIM_CTX_MAGIC       0x54381286U
#define SIM_CTX_VERSION     1
/* byte offset of the CPU record's host_input field in a valid blob (fixed layout) */
#define SIM_CTX_HOST_INPUT_OFF (8 + 24 + 8 + 120)

struct sim_cpu_state {
    uint32_t prog_id;
    char prog_name[16];
    uint64_t args[4];
    struct sim_regs regs;
    uint64_t host_input;            /* informational; setcontext ignores it */
};

size_t sim_ctx_encode(uint8_t *buf, size_t size, const struct sim_cpu_state *cpu, uint32_t khz);
/* Full validation against a domain of npages RAM pages; 0 or -1 with why. */
int sim_ctx_decode(const uint8_t *buf, size_t len, uint64_t npages, struct sim_cpu_state *cpu,
                   char *why, size_t whylen);

#endif
