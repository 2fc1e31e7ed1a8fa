/*
 * Record framing for migration stream v2: headers, records, padding, bounds.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sr_common.h"

static const char *const rec_names[] = {
    [REC_TYPE_END] = "End",
    [REC_TYPE_PAGE_DATA] = "Page data",
    [REC_TYPE_X86_PV_INFO] = "x86 PV info",
    [REC_TYPE_X86_PV_P2M_FRAMES] = "x86 PV P2M frames",
    [REC_TYPE_X86_PV_VCPU_BASIC] = "x86 PV vcpu basic",
    [REC_TYPE_X86_PV_VCPU_EXTENDED] = "x86 PV vcpu extended",
    [REC_TYPE_X86_PV_VCPU_XSAVE] = "x86 PV vcpu xsave",
    [REC_TYPE_SHARED_INFO] = "Shared info",
    [REC_TYPE_X86_TSC_INFO] = "x86 TSC info",
    [REC_TYPE_HVM_CONTEXT] = "HVM context",
    [REC_TYPE_HVM_PARAMS] = "HVM params",
    [REC_TYPE_TOOLSTACK] = "Toolstack",
    [REC_TYPE_X86_PV_VCPU_MSRS] = "x86 PV vcpu msrs",
    [REC_TYPE_VERIFY] = "Verify",
    [REC_TYPE_CHECKPOINT] = "Checkpoint",
    [REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST] = "Checkpoint dirty pfn list",
    [REC_TYPE_STATIC_DATA_END] = "Static data end",
    [REC_TYPE_X86_CPUID_POLICY] = "x86 CPUID policy",
    [REC_TYPE_X86_MSR_POLICY] = "x86 MSR policy",
};

const char *rec_type_to_str(uint32_t type)
{
    if (!(type & REC_TYPE_OPTIONAL) && type < sizeof(rec_names) / sizeof(rec_names[0]) &&
        rec_names[type])
        return rec_names[type];
    if (type == REC_TYPE_CHECKPOINT_COMPRESS)
        return "CHECKPOINT_COMPRESS";
    if (type == REC_TYPE_COMPRESSED_PAGE_DATA)
        return "COMPRESSED_PAGE_DATA";
    return "Reserved";
}

int write_stream_iov(struct sr_context *ctx, int fd, struct iovec *iov, int n)
{
    if (ctx->staging && fd == ctx->fd)
        return staging_append(ctx, iov, n);
    return writev_exact(fd, iov, n);
}

int write_split_record(struct sr_context *ctx, int fd, struct sr_record *rec,
                       const void *body2, size_t body2_len)
{
    static const char zeroes[REC_ALIGN - 1];
    struct sr_rhdr rhdr;
    size_t total = (size_t)rec->length + body2_len;
    size_t padded = (total + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
    struct iovec iov[4];
    int n = 0;

    if (padded > REC_LENGTH_MAX) {
        ERROR("Record (0x%08x, %s) length %zu exceeds max (%u)", rec->type,
              rec_type_to_str(rec->type), total, REC_LENGTH_MAX);
        errno = E2BIG;
        return -1;
    }
    rhdr.type = rec->type;
    rhdr.length = (uint32_t)total;
    iov[n++] = (struct iovec){ &rhdr, sizeof(rhdr) };
    if (rec->length)
        iov[n++] = (struct iovec){ rec->data, rec->length };
    if (body2_len)
        iov[n++] = (struct iovec){ (void *)body2, body2_len };
    if (padded != total)
        iov[n++] = (struct iovec){ (void *)zeroes, padded - total };
    if (write_stream_iov(ctx, fd, iov, n)) {
        PERROR("Unable to write record (0x%08x, %s)", rec->type, rec_type_to_str(rec->type));
        return -1;
    }
    return 0;
}

int read_record_header(struct sr_context *ctx, int fd, struct sr_rhdr *rhdr)
{
    size_t got;

    if (read_exact_got(fd, rhdr, sizeof(*rhdr), &got)) {
        if (errno == 0 && got == 0) {
            errno = ENODATA;
            DPRINTF("End of stream at a record boundary");
        } else if (errno == 0) {
            ERROR("Stream truncated inside a record header (%zu of %zu bytes)", got,
                  sizeof(*rhdr));
            errno = EPIPE;
        } else
            PERROR("Failed to read record header");
        return -1;
    }
    if (rhdr->length > REC_LENGTH_MAX) {
        ERROR("Record (0x%08x, %s) length %u exceeds max (%u)", rhdr->type,
              rec_type_to_str(rhdr->type), rhdr->length, REC_LENGTH_MAX);
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int read_record_body(struct sr_context *ctx, int fd, const struct sr_rhdr *rhdr,
                     struct sr_record *rec)
{
    size_t padded = ((size_t)rhdr->length + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
    void *data = NULL;

    rec->type = rec->length = 0;
    rec->data = NULL;
    if (padded) {
        data = malloc(padded);
        if (!data) {
            ERROR("Unable to allocate %zu bytes for record (0x%08x, %s)", padded, rhdr->type,
                  rec_type_to_str(rhdr->type));
            errno = ENOMEM;
            return -1;
        }
        if (read_exact(fd, data, padded)) {
            if (errno == 0) {
                errno = EPIPE;
                ERROR("Stream truncated inside record (0x%08x, %s), %zu body bytes expected",
                      rhdr->type, rec_type_to_str(rhdr->type), padded);
            } else
                PERROR("Failed to read record (0x%08x, %s) body", rhdr->type,
                       rec_type_to_str(rhdr->type));
            free(data);
            return -1;
        }
    }
    rec->type = rhdr->type;
    rec->length = rhdr->length;
    rec->data = data;
    return 0;
}

int read_record(struct sr_context *ctx, int fd, struct sr_record *rec)
{
    struct sr_rhdr rhdr;

    rec->type = rec->length = 0;
    rec->data = NULL;
    if (read_record_header(ctx, fd, &rhdr))
        return -1;
    return read_record_body(ctx, fd, &rhdr, rec);
}

void free_record(struct sr_record *rec)
{
    free(rec->data);
    rec->data = NULL;
    rec->length = 0;
}

int write_headers(struct sr_context *ctx, uint32_t dhdr_type)
{
    uint32_t major = 0, minor = 0;
    struct {
        struct sr_ihdr ihdr;
        struct sr_dhdr dhdr;
    } hdrs;

    if (xhv_version(ctx->xch, &major, &minor)) {
        PERROR("Unable to obtain Xen version");
        return -1;
    }
    memset(&hdrs, 0, sizeof(hdrs));
    hdrs.ihdr.marker = IHDR_MARKER;
    hdrs.ihdr.id = htonl(IHDR_ID);
    hdrs.ihdr.version = htonl(IHDR_VERSION);
    hdrs.ihdr.options = htons(0);
    hdrs.dhdr.type = dhdr_type;
    hdrs.dhdr.page_shift = PAGE_SHIFT;
    hdrs.dhdr.xen_major = major;
    hdrs.dhdr.xen_minor = minor;
    if (write_exact(ctx->fd, &hdrs, sizeof(hdrs))) {
        PERROR("Unable to write stream headers");
        return -1;
    }
    return 0;
}

int read_headers(struct sr_context *ctx)
{
    struct sr_ihdr ihdr;
    struct sr_dhdr dhdr;
    uint32_t id, version;
    uint16_t options;

    if (read_exact(ctx->fd, &ihdr, sizeof(ihdr))) {
        if (errno == 0)
            errno = EPIPE;
        PERROR("Failed to read image header");
        return -1;
    }
    id = ntohl(ihdr.id);
    version = ntohl(ihdr.version);
    options = ntohs(ihdr.options);
    if (ihdr.marker != IHDR_MARKER) {
        ERROR("Invalid image header marker: expected 0x%016llx, got 0x%016llx",
              (unsigned long long)IHDR_MARKER, (unsigned long long)ihdr.marker);
        errno = EINVAL;
        return -1;
    }
    if (id != IHDR_ID) {
        ERROR("Invalid image header id: expected 0x%08x, got 0x%08x", IHDR_ID, id);
        errno = EINVAL;
        return -1;
    }
    if (version < 2 || version > 3) {
        ERROR("Invalid image header version %u, expected 2 or 3", version);
        errno = EINVAL;
        return -1;
    }
    if (options & IHDR_OPT_BIG_ENDIAN) {
        ERROR("Unable to restore a big-endian stream");
        errno = EINVAL;
        return -1;
    }
    if (read_exact(ctx->fd, &dhdr, sizeof(dhdr))) {
        if (errno == 0)
            errno = EPIPE;
        PERROR("Failed to read domain header");
        return -1;
    }
    if (dhdr.page_shift != PAGE_SHIFT) {
        ERROR("Invalid page shift %u in domain header, expected %u", dhdr.page_shift,
              PAGE_SHIFT);
        errno = EINVAL;
        return -1;
    }
    ctx->restore.format_version = version;
    ctx->restore.guest_type = dhdr.type;
    ctx->restore.xen_major = dhdr.xen_major;
    ctx->restore.xen_minor = dhdr.xen_minor;
    IPRINTF("Stream v%u from Xen %u.%u, domain type %u", version, dhdr.xen_major,
            dhdr.xen_minor, dhdr.type);
    return 0;
}

bool page_type_is_known(unsigned int type)
{
    return type <= PT_L4TAB || (type >= PT_L1PIN && type <= PT_XTAB);
}

bool page_type_to_populate(unsigned int type)
{
    return page_type_is_known(type) && type != PT_BROKEN && type != PT_XTAB;
}

bool page_type_has_stream_data(unsigned int type)
{
    return page_type_to_populate(type) && type != PT_XALLOC;
}
