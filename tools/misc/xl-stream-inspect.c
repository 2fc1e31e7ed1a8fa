/*
 * xl-stream-inspect: print every record of an xl save file, a libxl stream, a bare
 * libxc stream (plain, live, Remus or COLO) or a captured COLO back channel, checkpoint
 * by checkpoint, and stop at the first fault with the message a restore would give.
 *
 * The libxc stream goes through the restorer itself (xc_stream_check: its record loop
 * and checks with nothing applied, on a handle that cannot reach a hypervisor); the xl
 * and libxl layers through xl's and libxl's own readers and checks.  What this file
 * adds is the printing, the layer detection and the offsets.  docs/man/xl-stream-inspect.1.pod.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libxl_records.h"
#include "sr_common.h"
#include "xl.h"

/* xl_savefile.o refers to xl's libxl context; only its writer uses it. */
libxl_ctx *ctx;

enum layer { L_AUTO, L_XL, L_LIBXL, L_LIBXC, L_BACK };
enum stype { T_AUTO = -1 };

static const char *const layer_names[] = { "auto", "xl", "libxl", "libxc", "back channel" };

static struct {
    int fd;
    const char *name;
    uint64_t size;            /* bytes in the (spooled) file */
    uint64_t off;             /* where the next record starts */
    enum layer layer;
    xc_stream_type_t type;
    uint64_t p2m_size;        /* 0: no bound given */
    int verbose;
    xc_interface *xch;
    /* the record being read */
    bool pending;
    struct sr_rhdr rhdr;
    uint64_t rec_off;
    unsigned int rec_index;   /* within the checkpoint */
    /* checkpoints */
    unsigned int checkpoint;  /* the one being read, from 1 */
    bool checkpoint_banner;   /* its "--" line was printed */
    bool at_boundary;         /* nothing of the next checkpoint read yet */
    /* totals */
    unsigned int libxc_records, libxl_records, page_data, checkpoint_records;
    uint64_t pages;
    char first_error[1100];
    uint64_t first_error_off;
} S;

static void note_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_error(const char *fmt, ...)
{
    va_list ap;

    if (S.first_error[0])
        return;
    va_start(ap, fmt);
    vsnprintf(S.first_error, sizeof(S.first_error), fmt, ap);
    va_end(ap);
    S.first_error_off = S.pending ? S.rec_off : S.off;
}

static const char *libxc_name(uint32_t type)
{
    static const char *const n[] = {
        "END", "PAGE_DATA", "X86_PV_INFO", "X86_PV_P2M_FRAMES", "X86_PV_VCPU_BASIC",
        "X86_PV_VCPU_EXTENDED", "X86_PV_VCPU_XSAVE", "SHARED_INFO", "X86_TSC_INFO",
        "HVM_CONTEXT", "HVM_PARAMS", "TOOLSTACK", "X86_PV_VCPU_MSRS", "VERIFY", "CHECKPOINT",
        "CHECKPOINT_DIRTY_PFN_LIST", "STATIC_DATA_END", "X86_CPUID_POLICY", "X86_MSR_POLICY",
    };

    if (type < sizeof(n) / sizeof(n[0]))
        return n[type];
    if (type == REC_TYPE_CHECKPOINT_COMPRESS || type == REC_TYPE_COMPRESSED_PAGE_DATA)
        return rec_type_to_str(type);
    return type & REC_TYPE_OPTIONAL ? "unknown optional" : "unknown";
}

static uint64_t padded(uint32_t len)
{
    return ((uint64_t)len + 7) & ~(uint64_t)7;
}

static void checkpoint_banner(void)
{
    if (S.type == XC_STREAM_PLAIN || S.checkpoint_banner)
        return;
    S.checkpoint_banner = true;
    S.at_boundary = false;
    S.rec_index = 0;
    printf("-- checkpoint %u%s --\n", S.checkpoint,
           S.checkpoint == 1 ? " (static data and the first copy)" : "");
}

static void flush_pending(void)
{
    if (!S.pending)
        return;
    printf("@%-10llu libxc #%-4u %-26s length %u (incomplete)\n",
           (unsigned long long)S.rec_off, S.rec_index, libxc_name(S.rhdr.type), S.rhdr.length);
    S.pending = false;
}

/* The restorer's messages: printed where they happen, the first error kept. */
static void logger(void *opaque, enum xhv_loglevel level, int errnoval, const char *context,
                   const char *msg)
{
    char full[1100];

    (void)opaque;
    if (level == XHV_LOG_DEBUG && !S.verbose)
        return;
    if (errnoval)
        snprintf(full, sizeof(full), "%s: %s", msg, strerror(errnoval));
    else
        snprintf(full, sizeof(full), "%s", msg);
    if (level == XHV_LOG_INFO && !S.verbose && !strncmp(msg, "Stream v", 8))
        return;   /* the domain header line says it */
    flush_pending();
    printf("   %s %s: %s\n", level == XHV_LOG_ERROR ? "!!" : "  ", context ? context : "", full);
    if (level == XHV_LOG_ERROR)
        note_error("%s", full);
}

/* ---- libxc records, as the restorer reads them ------------------------------------- */

static void obs_stream(void *opaque, uint32_t version, uint32_t guest_type, uint32_t major,
                       uint32_t minor)
{
    (void)opaque;
    printf("@%-10llu libxc image header: version %u\n", (unsigned long long)S.off, version);
    printf("@%-10llu libxc domain header: type %u (%s), page shift %u, from Xen %u.%u\n",
           (unsigned long long)S.off + 24, guest_type,
           guest_type == DHDR_TYPE_X86_HVM ? "x86 HVM" :
           guest_type == DHDR_TYPE_X86_PV ? "x86 PV" : "unknown", PAGE_SHIFT, major, minor);
    S.off += sizeof(struct sr_ihdr) + sizeof(struct sr_dhdr);
}

static void obs_header(void *opaque, const struct sr_rhdr *rhdr)
{
    (void)opaque;
    flush_pending();
    checkpoint_banner();
    S.rhdr = *rhdr;
    S.rec_off = S.off;
    S.off += sizeof(*rhdr) + padded(rhdr->length);
    S.pending = true;
    S.libxc_records++;
}

static void page_data_details(char *out, size_t len, const void *body, uint32_t length)
{
    const struct sr_page_data_header *pdh = body;
    const uint64_t *e = (const uint64_t *)(pdh + 1);
    unsigned int types[16] = { 0 };
    uint64_t lo = UINT64_MAX, hi = 0, n, i, data = 0;
    size_t used;

    if (length < sizeof(*pdh)) {
        snprintf(out, len, "(no header)");
        return;
    }
    /* Only the entries the record really holds: a body is printed before it is checked. */
    n = pdh->count;
    if (n > (length - sizeof(*pdh)) / sizeof(uint64_t))
        n = (length - sizeof(*pdh)) / sizeof(uint64_t);
    for (i = 0; i < n; i++) {
        uint64_t pfn = e[i] & PAGE_DATA_PFN_MASK;
        unsigned int t = (unsigned int)(e[i] >> 60);

        lo = pfn < lo ? pfn : lo;
        hi = pfn > hi ? pfn : hi;
        types[t]++;
        data += page_type_has_stream_data(t);
    }
    used = (size_t)snprintf(out, len, "%u pfns", pdh->count);
    if (n)
        used += (size_t)snprintf(out + used, len - used, " %#llx-%#llx", (unsigned long long)lo,
                                 (unsigned long long)hi);
    for (i = 0; i < 16 && used < len; i++) {
        static const char *const tn[16] = { "NOTAB", "L1TAB", "L2TAB", "L3TAB", "L4TAB",
            "type5", "type6", "type7", "LPINTAB", "L1PIN", "L2PIN", "L3PIN", "L4PIN", "BROKEN",
            "XALLOC", "XTAB" };

        if (types[i])
            used += (size_t)snprintf(out + used, len - used, " %s:%u", tn[i], types[i]);
    }
    if (used < len)
        snprintf(out + used, len - used, ", %llu pages of data", (unsigned long long)data);
    S.page_data++;
    S.pages += data;
}

static const char *hvm_param_name(uint64_t i)
{
    switch (i) {
    case HVM_PARAM_STORE_PFN: return "STORE_PFN";
    case HVM_PARAM_PAE_ENABLED: return "PAE_ENABLED";
    case HVM_PARAM_IOREQ_PFN: return "IOREQ_PFN";
    case HVM_PARAM_BUFIOREQ_PFN: return "BUFIOREQ_PFN";
    case HVM_PARAM_VIRIDIAN: return "VIRIDIAN";
    case HVM_PARAM_IDENT_PT: return "IDENT_PT";
    case HVM_PARAM_CONSOLE_PFN: return "CONSOLE_PFN";
    case HVM_PARAM_ACPI_IOPORTS_LOCATION: return "ACPI_IOPORTS_LOCATION";
    case HVM_PARAM_PAGING_RING_PFN: return "PAGING_RING_PFN";
    case HVM_PARAM_MONITOR_RING_PFN: return "MONITOR_RING_PFN";
    case HVM_PARAM_SHARING_RING_PFN: return "SHARING_RING_PFN";
    case HVM_PARAM_IOREQ_SERVER_PFN: return "IOREQ_SERVER_PFN";
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES: return "NR_IOREQ_SERVER_PAGES";
    case HVM_PARAM_VM_GENERATION_ID_ADDR: return "VM_GENERATION_ID_ADDR";
    case HVM_PARAM_X87_FIP_WIDTH: return "X87_FIP_WIDTH";
    case HVM_PARAM_VM86_TSS_SIZED: return "VM86_TSS_SIZED";
    case HVM_PARAM_MCA_CAP: return "MCA_CAP";
    default: return "param";
    }
}

static void obs_body(void *opaque, uint32_t type, const void *body, uint32_t length)
{
    char d[512] = "";

    (void)opaque;
    switch (type) {
    case REC_TYPE_PAGE_DATA:
        page_data_details(d, sizeof(d), body, length);
        break;
    case REC_TYPE_X86_PV_INFO:
        if (length >= sizeof(struct sr_x86_pv_info)) {
            const struct sr_x86_pv_info *p = body;

            snprintf(d, sizeof(d), "guest width %u, %u page-table levels", p->guest_width,
                     p->pt_levels);
        }
        break;
    case REC_TYPE_X86_PV_P2M_FRAMES:
        if (length >= sizeof(struct sr_x86_pv_p2m_frames)) {
            const struct sr_x86_pv_p2m_frames *p = body;

            snprintf(d, sizeof(d), "pfns %#x-%#x, %u frames", p->start_pfn, p->end_pfn,
                     (length - 8) / 8);
        }
        break;
    case REC_TYPE_X86_PV_VCPU_BASIC:
    case REC_TYPE_X86_PV_VCPU_EXTENDED:
    case REC_TYPE_X86_PV_VCPU_XSAVE:
    case REC_TYPE_X86_PV_VCPU_MSRS:
        if (length >= sizeof(struct sr_x86_pv_vcpu_hdr))
            snprintf(d, sizeof(d), "vcpu %u, %u bytes",
                     ((const struct sr_x86_pv_vcpu_hdr *)body)->vcpu_id, length - 8);
        break;
    case REC_TYPE_X86_TSC_INFO:
        if (length == sizeof(struct sr_tsc_info)) {
            const struct sr_tsc_info *t = body;

            snprintf(d, sizeof(d), "mode %u, %u kHz, %llu ns, incarnation %u", t->mode, t->khz,
                     (unsigned long long)t->nsec, t->incarnation);
        }
        break;
    case REC_TYPE_HVM_PARAMS:
        if (length >= sizeof(struct sr_hvm_params)) {
            const struct sr_hvm_params *h = body;
            const struct sr_hvm_params_entry *e = (const void *)(h + 1);
            size_t used = (size_t)snprintf(d, sizeof(d), "%u params:", h->count);
            uint32_t n = (length - 8) / 16;

            for (uint32_t i = 0; i < n && i < h->count && used < sizeof(d); i++)
                used += (size_t)snprintf(d + used, sizeof(d) - used, " %s(%llu)=%#llx",
                                         hvm_param_name(e[i].index),
                                         (unsigned long long)e[i].index,
                                         (unsigned long long)e[i].value);
        }
        break;
    case REC_TYPE_X86_CPUID_POLICY:
    case REC_TYPE_X86_MSR_POLICY:
        snprintf(d, sizeof(d), "%u entries", length / (type == REC_TYPE_X86_CPUID_POLICY
                                                       ? XHV_CPUID_LEAF_SIZE : XHV_MSR_ENTRY_SIZE));
        break;
    case REC_TYPE_CHECKPOINT:
        snprintf(d, sizeof(d), "end of checkpoint %u", S.checkpoint);
        break;
    default:
        break;
    }
    printf("@%-10llu libxc #%-4u %-26s length %u%s%s\n", (unsigned long long)S.rec_off,
           S.rec_index, libxc_name(type), length, d[0] ? ": " : "", d);
    S.pending = false;
    S.rec_index++;
}

/* ---- libxl records ------------------------------------------------------------------ */

/* One libxl record, printed; 0, or -1 with errno (ENODATA: end of stream here). */
static int read_libxl(struct libxl_rec *rec, char *err, size_t errlen)
{
    uint64_t at = S.off;

    if (libxl__read_rec(S.fd, rec, err, errlen)) {
        if (errno != ENODATA) {
            printf("@%-10llu libxl record: %s\n", (unsigned long long)at, err);
            S.first_error_off = at;
        }
        return -1;
    }
    S.off += 8 + padded(rec->length);
    S.libxl_records++;
    printf("@%-10llu libxl %-32s length %u", (unsigned long long)at,
           libxl__rec_type_str(rec->type), rec->length);
    if (rec->type == LIBXL_REC_CHECKPOINT_STATE && rec->length == 4) {
        uint32_t id;

        memcpy(&id, rec->body, 4);
        printf(": %s (%u)", libxl__checkpoint_state_str(id), id);
    } else if ((rec->type == LIBXL_REC_EMULATOR_CONTEXT ||
                rec->type == LIBXL_REC_EMULATOR_XENSTORE_DATA) && rec->length >= 8) {
        uint32_t id[2];

        memcpy(id, rec->body, 8);
        printf(": emulator %u, index %u", id[0], id[1]);
    }
    printf("\n");
    return 0;
}

/* The libxl records after a libxc CHECKPOINT, as the secondary's checkpoint callback reads
 * them (ckpt_secondary_checkpoint): EBADMSG is an error, anything else a failover. */
static int cb_checkpoint(void *data)
{
    struct libxl_rec rec;
    char err[256] = "";
    int r;

    (void)data;
    if (S.layer == L_LIBXC)
        goto done;
    for (;;) {
        if (read_libxl(&rec, err, sizeof(err))) {
            if (errno == EBADMSG) {
                note_error("%s", err);
                return XGR_CHECKPOINT_ERROR;
            }
            if (errno != ENODATA)
                note_error("%s", err);
            else
                printf("   !! end of stream while reading libxl records for CHECKPOINT_END\n");
            S.at_boundary = false;
            return XGR_CHECKPOINT_FAILOVER;
        }
        r = libxl__check_rec_until(&rec, LIBXL_REC_CHECKPOINT_END, err, sizeof(err));
        libxl__free_rec(&rec);
        if (r < 0) {
            printf("   !! libxl: %s\n", err);
            note_error("%s", err);
            return XGR_CHECKPOINT_ERROR;
        }
        if (r)
            break;
    }
 done:
    S.checkpoint++;
    S.checkpoint_banner = false;
    S.at_boundary = true;
    return XGR_CHECKPOINT_SUCCESS;
}

static int cb_ok(void *data)
{
    (void)data;
    return 1;
}

/* COLO: CHECKPOINT_STATE NEW on the main stream (ckpt_secondary_wait_checkpoint); anything
 * else ends the secondary's stream as a failover. */
static int cb_wait_checkpoint(void *data)
{
    struct libxl_rec rec;
    char err[256] = "";
    uint32_t type = 0, id = 0;
    int r;

    (void)data;
    if (S.layer == L_LIBXC)
        return 1;
    do {
        if (read_libxl(&rec, err, sizeof(err))) {
            if (errno != ENODATA) {
                note_error("%s", err);
                S.at_boundary = false;
            }
            return 2;
        }
        r = rec.type & LIBXL_REC_OPTIONAL ? 1
            : libxl__check_state_rec(&rec, &type, &id, err, sizeof(err));
        libxl__free_rec(&rec);
    } while (r == 1);
    if (r || type != LIBXL_REC_CHECKPOINT_STATE || id != COLO_CHECKPOINT_NEW) {
        printf("   !! libxl: expected CHECKPOINT_STATE NEW on the main stream: the secondary "
               "fails over\n");
        note_error("expected CHECKPOINT_STATE NEW, got libxl record %#x (%s)%s%s", type,
                   libxl__rec_type_str(type), r ? ": " : "", r ? err : "");
        S.at_boundary = false;
        return 2;
    }
    return 1;
}

/* ---- layers ------------------------------------------------------------------------- */

static int walk_xl(void)
{
    struct xl_savefile_header h;
    json_object *cfg, *o, *name = NULL, *mem = NULL;
    char *json;

    fflush(stdout);
    if (xl_read_savefile_config(S.fd, &json, S.name)) {
        note_error("the xl header is refused (xl restore's message above)");
        return -1;
    }
    if (pread(S.fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        free(json);
        return -1;
    }
    printf("@%-10d xl header: byte order %#x, mandatory flags %#x%s%s, optional flags %#x, "
           "optional data %u bytes\n", 0, h.byteorder, h.mandatory_flags,
           h.mandatory_flags & XL_MANDATORY_FLAG_STREAMv2 ? " STREAMv2" : "",
           h.mandatory_flags & XL_MANDATORY_FLAG_JSON ? " JSON" : "", h.optional_flags,
           h.optional_data_len);
    cfg = json_tokener_parse(json);
    if (cfg && json_object_object_get_ex(cfg, "c_info", &o))
        json_object_object_get_ex(o, "name", &name);
    if (cfg && json_object_object_get_ex(cfg, "b_info", &o))
        json_object_object_get_ex(o, "max_memkb", &mem);
    printf("@%-10zu xl config: %zu bytes of JSON%s; name %s, max_memkb %s\n", sizeof(h) + 4,
           strlen(json), cfg ? "" : " (does not parse: xl restore refuses it)",
           name ? json_object_get_string(name) : "(none)",
           mem ? json_object_get_string(mem) : "(none)");
    if (!cfg)
        note_error("the domain config in the xl header does not parse as JSON");
    json_object_put(cfg);
    free(json);
    S.off = sizeof(h) + h.optional_data_len;
    return S.first_error[0] ? -1 : 0;
}

/* libxl records until check says the one that ends them came (1) or a fault (-1). */
static int walk_libxl_records(int (*check)(const struct libxl_rec *, uint32_t, char *, size_t),
                              uint32_t until)
{
    char err[256] = "";
    struct libxl_rec rec;
    int r;

    for (;;) {
        if (read_libxl(&rec, err, sizeof(err))) {
            note_error("%s", err);
            return -1;
        }
        r = check(&rec, until, err, sizeof(err));
        libxl__free_rec(&rec);
        if (r < 0) {
            printf("   !! libxl: %s\n", err);
            note_error("%s", err);
            return -1;
        }
        if (r)
            return 0;
    }
}

/* libxl__read_stream_start's check, in walk_libxl_records' form (it ends at
 * LIBXC_CONTEXT). */
static int check_start(const struct libxl_rec *rec, uint32_t until, char *err, size_t len)
{
    (void)until;
    return libxl__check_start_rec(rec, err, len);
}

static int walk_libxl_start(void)
{
    char err[256] = "";

    if (libxl__read_stream_header(S.fd, err, sizeof(err))) {
        printf("@%-10llu libxl header: %s\n", (unsigned long long)S.off, err);
        note_error("%s", err);
        return -1;
    }
    printf("@%-10llu libxl header: \"LibxlFmt\" version %u\n", (unsigned long long)S.off,
           LIBXL_STREAM_VERSION);
    S.off += 16;
    return walk_libxl_records(check_start, LIBXL_REC_LIBXC_CONTEXT);
}

/* After a plain libxc stream: libxl's records up to its END (libxl__read_records_until). */
static int walk_libxl_end(void)
{
    return walk_libxl_records(libxl__check_rec_until, LIBXL_REC_END);
}

/*
 * Plain, Remus or COLO, from the stream itself: the records up to the first libxc
 * CHECKPOINT or END (framing only), then after libxl's CHECKPOINT_END a CHECKPOINT_STATE
 * means COLO.  A stream this cannot follow is taken as plain: the check says why.
 */
static xc_stream_type_t detect_type(uint64_t at)
{
    uint32_t h[2];
    bool ckpt = false;

    at += sizeof(struct sr_ihdr) + sizeof(struct sr_dhdr);
    while (pread(S.fd, h, 8, (off_t)at) == 8 && h[1] <= REC_LENGTH_MAX) {
        at += 8 + padded(h[1]);
        if (h[0] == REC_TYPE_END)
            return XC_STREAM_PLAIN;
        if (h[0] == REC_TYPE_CHECKPOINT) {
            ckpt = true;
            break;
        }
    }
    if (!ckpt)
        return XC_STREAM_PLAIN;
    if (S.layer == L_LIBXC)
        return XC_STREAM_REMUS;
    while (pread(S.fd, h, 8, (off_t)at) == 8 && h[1] <= LIBXL_REC_LENGTH_MAX) {
        at += 8 + padded(h[1]);
        if (h[0] == LIBXL_REC_CHECKPOINT_END)
            break;
    }
    if (pread(S.fd, h, 8, (off_t)at) == 8 && h[0] == LIBXL_REC_CHECKPOINT_STATE)
        return XC_STREAM_COLO;
    return XC_STREAM_REMUS;
}

static const char *type_name(xc_stream_type_t t)
{
    return t == XC_STREAM_PLAIN ? "plain" : t == XC_STREAM_REMUS ? "Remus" : "COLO";
}

static int walk_main(bool type_forced)
{
    struct restore_callbacks cb = {
        .checkpoint = cb_checkpoint, .postcopy = cb_ok, .wait_checkpoint = cb_wait_checkpoint,
        .suspend = cb_ok,
    };
    struct sr_check_observer obs = { obs_stream, obs_header, obs_body, NULL };
    struct sr_check_result res;
    int rc;

    if ((S.layer == L_XL && walk_xl()) || (S.layer != L_LIBXC && walk_libxl_start())) {
        printf("REFUSED at offset %llu: %s\n", (unsigned long long)S.first_error_off,
               S.first_error);
        return 1;
    }
    if (!type_forced)
        S.type = detect_type(S.off);
    printf("   (%s stream%s)\n", type_name(S.type), type_forced ? ", as told" : "");
    S.checkpoint = 1;
    fflush(stdout);
    rc = xc_stream_check(S.xch, S.fd, S.type, S.p2m_size, &cb, &obs, &res);
    flush_pending();
    if (rc) {
        if (!S.first_error[0])
            note_error("%s", errno == ENOSYS ? "this build has no migration support "
                       "(./configure --disable-migration)" : strerror(errno));
        printf("REFUSED at offset %llu: %s\n", (unsigned long long)S.first_error_off,
               S.first_error);
        return 1;
    }
    if (res.failed_over) {
        if (S.at_boundary && S.off == S.size && !S.first_error[0]) {
            printf("OK: %s stream of %u checkpoints, %u libxc records (%u PAGE_DATA, %llu pages), "
                   "%u libxl records; it ends after checkpoint %u, where a restore fails over "
                   "to it\n", type_name(S.type), res.checkpoints, S.libxc_records, S.page_data,
                   (unsigned long long)S.pages, S.libxl_records, res.checkpoints);
            return 0;
        }
        printf("INCOMPLETE at offset %llu: %s; a restore discards checkpoint %u and fails "
               "over to checkpoint %u\n",
               (unsigned long long)(S.first_error[0] ? S.first_error_off : S.off),
               S.first_error[0] ? S.first_error :
               S.off < S.size ? "the stream ends inside a record header" :
               "the stream ends inside a checkpoint", res.checkpoints + 1, res.checkpoints);
        return 1;
    }
    if (S.layer != L_LIBXC && walk_libxl_end()) {
        printf("REFUSED at offset %llu: %s\n", (unsigned long long)S.first_error_off,
               S.first_error);
        return 1;
    }
    printf("OK: %s stream, %u libxc records (%u PAGE_DATA, %llu pages), %u libxl records",
           type_name(S.type), S.libxc_records, S.page_data, (unsigned long long)S.pages,
           S.libxl_records);
    if (S.off < S.size) {
        char tail[sizeof(XL_MIGRATE_PERMISSION)];
        bool permission = S.size - S.off == sizeof(tail) &&
                          pread(S.fd, tail, sizeof(tail), (off_t)S.off) == (ssize_t)sizeof(tail) &&
                          !memcmp(tail, XL_MIGRATE_PERMISSION, sizeof(tail));

        printf("; %llu bytes follow the stream's end (%s)", (unsigned long long)(S.size - S.off),
               permission ? "xl migrate's permission message" : "not read by a restore");
    }
    printf("\n");
    return 0;
}

/* ---- the COLO back channel, as the primary reads it --------------------------------- */

/* One engine record of the back channel at offset at; S.off moves past it. */
static int read_back_rec(struct sr_context *sctx, struct sr_record *rec, uint64_t at)
{
    if (read_record(sctx, S.fd, rec)) {
        if (errno == ENODATA)
            note_error("the stream ends before the dirty pfn list");
        S.first_error_off = at;
        return -1;
    }
    S.off += 8 + padded(rec->length);
    return 0;
}

static int walk_back(void)
{
    static const uint32_t cycle[] = { COLO_CHECKPOINT_SVM_READY, COLO_CHECKPOINT_SVM_RESUMED,
                                      COLO_CHECKPOINT_SVM_SUSPENDED, ~0U };
    struct sr_context sctx = { .xch = S.xch };
    size_t banner = strlen(XL_MIGRATE_RECEIVER_BANNER);
    char buf[128], err[256] = "";
    unsigned int step = 0, lists = 0;
    uint64_t pfn_bound = S.p2m_size ? S.p2m_size : UINT64_MAX;

    if (S.size >= banner && pread(S.fd, buf, banner, 0) == (ssize_t)banner &&
        !memcmp(buf, XL_MIGRATE_RECEIVER_BANNER, banner)) {
        printf("@%-10d xl receiver banner (%zu bytes)\n", 0, banner);
        if (lseek(S.fd, (off_t)banner, SEEK_SET) < 0)
            return 2;
        S.off = banner;
    }
    S.type = XC_STREAM_COLO;
    S.checkpoint = 0;
    for (;;) {
        uint64_t at = S.off;

        if (cycle[step] == COLO_CHECKPOINT_SVM_READY) {
            S.checkpoint++;
            printf("-- checkpoint %u --\n", S.checkpoint);
        }
        if (cycle[step] != ~0U) {
            struct libxl_rec rec;
            uint32_t type = 0, id = 0;
            int r;

            do {
                if (read_libxl(&rec, err, sizeof(err))) {
                    if (errno == ENODATA && S.off == S.size)
                        goto end;
                    note_error("%s", errno == ENODATA ? "the stream ends inside a record header"
                                                      : err);
                    goto bad;
                }
                r = rec.type & LIBXL_REC_OPTIONAL ? 1
                    : libxl__check_state_rec(&rec, &type, &id, err, sizeof(err));
                libxl__free_rec(&rec);
            } while (r == 1);
            if (r || type != LIBXL_REC_CHECKPOINT_STATE || id != cycle[step]) {
                note_error("expected CHECKPOINT_STATE %s, got libxl record %#x (%s)%s%s%s",
                           libxl__checkpoint_state_str(cycle[step]), type,
                           libxl__rec_type_str(type), r ? ": " : "", r ? err : "",
                           type == LIBXL_REC_CHECKPOINT_STATE && !r
                               ? libxl__checkpoint_state_str(id) : "");
                S.first_error_off = at;
                goto bad;
            }
        } else {
            struct sr_record rec;
            const uint64_t *pfns;
            uint64_t n;

            fflush(stdout);
            if (read_back_rec(&sctx, &rec, at))
                goto bad;
            /* A secondary that accepts compression answers before its first list. */
            if (rec.type == REC_TYPE_CHECKPOINT_COMPRESS && !lists && rec.length == 8) {
                printf("@%-10llu libxc %-32s length %u: codecs %#x\n", (unsigned long long)at,
                       "CHECKPOINT_COMPRESS", rec.length, *(const uint32_t *)rec.data);
                free_record(&rec);
                at = S.off;
                if (read_back_rec(&sctx, &rec, at))
                    goto bad;
            }
            if (colo_check_dirty_pfn_list(&sctx, &rec, pfn_bound)) {
                S.first_error_off = at;
                free_record(&rec);
                goto bad;
            }
            pfns = rec.data;
            n = rec.length / 8;
            printf("@%-10llu libxc %-32s length %u: %llu pfns", (unsigned long long)at,
                   "CHECKPOINT_DIRTY_PFN_LIST", rec.length, (unsigned long long)n);
            if (n)
                printf(" %#llx-%#llx", (unsigned long long)pfns[0],
                       (unsigned long long)pfns[n - 1]);
            printf("\n");
            free_record(&rec);
            lists++;
        }
        step = (step + 1) % 4;
    }
 end:
    printf("OK: back channel of %u checkpoints, %u libxl records, %u dirty pfn lists; it ends "
           "%s\n", S.checkpoint - (step == 0), S.libxl_records, lists,
           step == 0 || step == 2 ? "between checkpoints" : "inside a checkpoint's handshake");
    return 0;
 bad:
    printf("REFUSED at offset %llu: %s\n", (unsigned long long)S.first_error_off, S.first_error);
    return 1;
}

/* ---- input ------------------------------------------------------------------------- */

/* A pipe is copied to an unlinked file first: detection and offsets need to look ahead. */
static int open_input(const char *path)
{
    struct stat sb;
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);

    if (fd < 0) {
        fprintf(stderr, "xl-stream-inspect: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        S.size = (uint64_t)sb.st_size;
        return fd;
    }
    {
        char tmpl[] = "/tmp/xl-stream-inspect.XXXXXX", buf[65536];
        int t = mkstemp(tmpl);
        ssize_t n;

        if (t < 0) {
            fprintf(stderr, "xl-stream-inspect: cannot spool %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        unlink(tmpl);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            if (write_exact(t, buf, (size_t)n)) {
                fprintf(stderr, "xl-stream-inspect: cannot spool %s: %s\n", path,
                        strerror(errno));
                close(fd);
                close(t);
                return -1;
            }
        close(fd);
        if (n < 0 || lseek(t, 0, SEEK_SET) < 0 || fstat(t, &sb)) {
            fprintf(stderr, "xl-stream-inspect: reading %s: %s\n", path, strerror(errno));
            close(t);
            return -1;
        }
        S.size = (uint64_t)sb.st_size;
        return t;
    }
}

static enum layer detect_layer(void)
{
    unsigned char b[32];
    uint64_t id;
    uint32_t h[2];

    memset(b, 0, sizeof(b));
    if (pread(S.fd, b, sizeof(b), 0) < 8)
        return L_AUTO;
    if (!memcmp(b, XL_SAVEFILE_MAGIC, 32))
        return L_XL;
    memcpy(&id, b, 8);
    if (be64toh(id) == LIBXL_STREAM_IDENT)
        return L_LIBXL;
    if (id == IHDR_MARKER)
        return L_LIBXC;
    if (!memcmp(b, XL_MIGRATE_RECEIVER_BANNER, 32))
        return L_BACK;
    memcpy(h, b, 8);
    if (h[0] == LIBXL_REC_CHECKPOINT_STATE && h[1] == 4)
        return L_BACK;
    return L_AUTO;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: xl-stream-inspect [-f auto|xl|libxl|libxc|back] [-t auto|plain|remus|colo]\n"
            "                         [-p PAGES] [-v] FILE|-\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
        { "p2m-size", required_argument, NULL, 'p' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    bool type_forced = false;
    int opt, rc;

    S.layer = L_AUTO;
    S.type = XC_STREAM_PLAIN;
    while ((opt = getopt_long(argc, argv, "f:t:p:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (!strcmp(optarg, "xl")) S.layer = L_XL;
            else if (!strcmp(optarg, "libxl")) S.layer = L_LIBXL;
            else if (!strcmp(optarg, "libxc")) S.layer = L_LIBXC;
            else if (!strcmp(optarg, "back")) S.layer = L_BACK;
            else if (strcmp(optarg, "auto")) {
                fprintf(stderr, "xl-stream-inspect: unknown format '%s'\n", optarg);
                return usage();
            }
            break;
        case 't':
            type_forced = true;
            if (!strcmp(optarg, "plain")) S.type = XC_STREAM_PLAIN;
            else if (!strcmp(optarg, "remus")) S.type = XC_STREAM_REMUS;
            else if (!strcmp(optarg, "colo")) S.type = XC_STREAM_COLO;
            else if (!strcmp(optarg, "auto")) type_forced = false;
            else {
                fprintf(stderr, "xl-stream-inspect: unknown stream type '%s'\n", optarg);
                return usage();
            }
            break;
        case 'p': {
            char *end;

            errno = 0;
            S.p2m_size = strtoull(optarg, &end, 0);
            if (errno || !*optarg || *end || optarg[0] == '-' || S.p2m_size == 0 ||
                S.p2m_size > PAGE_DATA_PFN_MASK + 1) {
                fprintf(stderr, "xl-stream-inspect: -p wants a number of pages (1 to 2^52)\n");
                return usage();
            }
            break;
        }
        case 'v':
            S.verbose = 1;
            break;
        default:
            return usage();
        }
    }
    if (optind != argc - 1)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    S.name = argv[optind];
    S.fd = open_input(S.name);
    if (S.fd < 0)
        return 2;
    S.xch = xhv_open("none");
    if (!S.xch) {
        fprintf(stderr, "xl-stream-inspect: %s\n", strerror(errno));
        return 2;
    }
    xhv_set_logger(S.xch, logger, NULL);
    if (S.layer == L_AUTO) {
        S.layer = detect_layer();
        if (S.layer == L_AUTO) {
            printf("%s: %llu bytes, not a stream: neither an xl save file (its magic), a libxl "
                   "stream (\"LibxlFmt\"), a libxc stream (image header marker) nor a COLO "
                   "back channel\n", S.name, (unsigned long long)S.size);
            printf("REFUSED at offset 0: unrecognised stream\n");
            return 1;
        }
        printf("%s: %llu bytes, %s layer (detected)\n", S.name, (unsigned long long)S.size,
               layer_names[S.layer]);
    } else
        printf("%s: %llu bytes, %s layer (as told)\n", S.name, (unsigned long long)S.size,
               layer_names[S.layer]);
    rc = S.layer == L_BACK ? walk_back() : walk_main(type_forced);
    xhv_close(S.xch);
    close(S.fd);
    return rc;
}
