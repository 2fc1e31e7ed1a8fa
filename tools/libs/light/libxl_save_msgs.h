/*
 * libxl-save-helper's message protocol (upstream's numbering, docs/libxl-and-xl.md):
 * helper -> libxl: u16 msglen, then msglen bytes: u16 msgnum + arguments in native
 * binary (int, u32, unsigned: 4 bytes; unsigned long, xen_pfn_t: 8 bytes; STRING: u32
 * length including the NUL, then the bytes with the NUL).  libxl -> helper: one native
 * int reply, only for messages that expect one.
 */
#ifndef LIBXL_SAVE_MSGS_H
#define LIBXL_SAVE_MSGS_H

#include <stdint.h>
#include <string.h>

enum {
    SHM_LOG = 1,              /* s,r: u32 level, u32 errnoval, STRING context, STRING msg */
    SHM_PROGRESS = 2,         /* s,r: STRING context, STRING what, ulong done, ulong total */
    SHM_SUSPEND = 3,          /* s,r: -> int */
    SHM_POSTCOPY = 4,         /* s,r: -> int */
    SHM_CHECKPOINT = 5,       /* s,r: -> int */
    SHM_WAIT_CHECKPOINT = 6,  /* s,r: -> int */
    SHM_SWITCH_QEMU_LOGDIRTY = 7, /* s: u32 domid, unsigned enable -> int */
    SHM_STATIC_DATA_DONE = 8, /* r: unsigned missing -> int */
    SHM_RESTORE_RESULTS = 9,  /* r: xen_pfn_t store_gfn, xen_pfn_t console_gfn */
    SHM_COMPLETE = 10,        /* s,r: int retval, int errnoval -> int */
    /* Ours, after upstream's numbers: an upstream libxl never sets its cbflags bit, so
     * an upstream-driven helper never sends it. */
    SHM_RESUME_STAGED = 11,   /* s: -> int */
    SHM_MAX = 11,
};

#define SHM_CBFLAG(n) (1u << (n))
/* Ours, not a callback: offer checkpoint compression (save_callbacks.checkpoint_compress).
 * Only our libxl sets it; an upstream helper ignores it and never compresses. */
#define SHM_CBFLAG_COMPRESS SHM_CBFLAG(12)
/* The callbacks whose presence travels in cbflags, per direction. */
#define SHM_SAVE_CBFLAGS    (SHM_CBFLAG(3) | SHM_CBFLAG(4) | SHM_CBFLAG(5) | SHM_CBFLAG(6) | \
                             SHM_CBFLAG(7) | SHM_CBFLAG(11) | SHM_CBFLAG_COMPRESS)
#define SHM_RESTORE_CBFLAGS (SHM_CBFLAG(3) | SHM_CBFLAG(4) | SHM_CBFLAG(5) | SHM_CBFLAG(6) | \
                             SHM_CBFLAG(8) | SHM_CBFLAG(9))
/* As upstream libxl passes them (ours adds SHM_RESUME_STAGED's bit to Remus and COLO
 * when checkpoints are staged). */
#define SHM_CBFLAGS_SAVE_PLAIN     0x88u
#define SHM_CBFLAGS_SAVE_REMUS     0xB8u
#define SHM_CBFLAGS_SAVE_COLO      0xF8u
#define SHM_CBFLAGS_RESTORE_PLAIN  0x300u
#define SHM_CBFLAGS_RESTORE_REMUS  0x320u
#define SHM_CBFLAGS_RESTORE_COLO   0x378u

#define SHM_MSG_MAX 65535u

static inline const char *shm_name(unsigned int n)
{
    static const char *const names[] = {
        "?", "log", "progress", "suspend", "postcopy", "checkpoint", "wait_checkpoint",
        "switch_qemu_logdirty", "static_data_done", "restore_results", "complete",
        "resume_staged",
    };
    return n <= SHM_MAX ? names[n] : "unknown";
}

/* ---- building (helper side) ---- */
struct shm_buf {
    uint8_t data[SHM_MSG_MAX + 2];
    size_t len;       /* including the 2-byte msglen prefix */
    int overflow;
};

static inline void shm_put(struct shm_buf *b, const void *p, size_t n)
{
    if (b->overflow || b->len + n > sizeof(b->data)) {
        b->overflow = 1;
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void shm_begin(struct shm_buf *b, uint16_t msgnum)
{
    b->len = 2;
    b->overflow = 0;
    shm_put(b, &msgnum, 2);
}
static inline void shm_u32(struct shm_buf *b, uint32_t v) { shm_put(b, &v, 4); }
static inline void shm_int(struct shm_buf *b, int v) { shm_put(b, &v, sizeof(int)); }
static inline void shm_ulong(struct shm_buf *b, unsigned long v) { shm_put(b, &v, sizeof(v)); }
static inline void shm_u64(struct shm_buf *b, uint64_t v) { shm_put(b, &v, 8); }
static inline void shm_string(struct shm_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s) + 1;

    shm_u32(b, n);
    shm_put(b, s, n);
}
/* Finish: fills in msglen; returns the frame length, 0 on overflow. */
static inline size_t shm_end(struct shm_buf *b)
{
    uint16_t n;

    if (b->overflow)
        return 0;
    n = (uint16_t)(b->len - 2);
    memcpy(b->data, &n, 2);
    return b->len;
}

/* ---- parsing (libxl side) ---- */
struct shm_reader {
    const uint8_t *p, *end;
    int bad;
};

static inline void shm_get(struct shm_reader *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p, n);
    r->p += n;
}
static inline uint32_t shm_get_u32(struct shm_reader *r) { uint32_t v; shm_get(r, &v, 4); return v; }
static inline int shm_get_int(struct shm_reader *r) { int v; shm_get(r, &v, sizeof(v)); return v; }
static inline unsigned long shm_get_ulong(struct shm_reader *r)
{
    unsigned long v;

    shm_get(r, &v, sizeof(v));
    return v;
}
static inline uint64_t shm_get_u64(struct shm_reader *r) { uint64_t v; shm_get(r, &v, 8); return v; }
/* A STRING: length > 0, in bounds, last byte NUL, no NUL before it. */
static inline const char *shm_get_string(struct shm_reader *r)
{
    uint32_t n = shm_get_u32(r);
    const char *s;

    if (r->bad || n == 0 || n > (size_t)(r->end - r->p) || r->p[n - 1] != 0 ||
        strlen((const char *)r->p) != n - 1) {
        r->bad = 1;
        return "";
    }
    s = (const char *)r->p;
    r->p += n;
    return s;
}

/*
 * SHM_LOG's level is a xentoollog level (upstream's libxl hands it to its logger, and
 * upstream's xl aborts on a level outside XTL_DEBUG..XTL_CRITICAL): the helper maps the
 * engine's xhv levels to them, our libxl maps them back.
 */
enum { SHM_XTL_DEBUG = 1, SHM_XTL_DETAIL = 3, SHM_XTL_INFO = 5, SHM_XTL_WARN = 7,
       SHM_XTL_ERROR = 8, SHM_XTL_CRITICAL = 9 };
static inline uint32_t shm_level_to_xtl(unsigned int xhv_level)
{
    static const uint32_t map[] = { SHM_XTL_DEBUG, SHM_XTL_INFO, SHM_XTL_WARN, SHM_XTL_ERROR };

    return xhv_level < sizeof(map) / sizeof(map[0]) ? map[xhv_level] : SHM_XTL_ERROR;
}
/* "No errno" is -1 for xentoollog (it prints ": Success" for 0); ours says 0. */
static inline uint32_t shm_errno_to_xtl(int errnoval)
{
    return errnoval ? (uint32_t)errnoval : UINT32_MAX;
}
static inline int shm_errno_from_xtl(uint32_t errnoval)
{
    return errnoval == UINT32_MAX ? 0 : (int)errnoval;
}
/* Back to an xhv level (0 debug, 1 info, 2 warning, 3 error). */
static inline unsigned int shm_level_from_xtl(uint32_t xtl)
{
    return xtl >= SHM_XTL_ERROR ? 3 : xtl >= SHM_XTL_WARN ? 2 : xtl >= SHM_XTL_INFO ? 1 : 0;
}

#endif
