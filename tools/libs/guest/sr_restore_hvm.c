/*
 * Restore operations for x86 HVM-type domains: TSC_INFO, HVM_CONTEXT, HVM_PARAMS.
 * The context is stashed and applied at stream (or COLO checkpoint) completion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sr_common.h"

#define HVM_PARAM_STORE_EVTCHN   2
#define HVM_PARAM_CONSOLE_EVTCHN 18

/* Bound on the gfns an empty target accepts (2^28 pages: 1 TiB of guest-physical
 * space): per-pfn state is sized by the largest gfn seen. */
#define HVM_GROWABLE_PFN_LIMIT (1ULL << 28)

static bool hvm_pfn_is_valid(const struct sr_context *ctx, uint64_t pfn)
{
    return pfn < ctx->restore.p2m_size ||
           (ctx->restore.p2m_growable && pfn < HVM_GROWABLE_PFN_LIMIT);
}

static int hvm_setup(struct sr_context *ctx)
{
    (void)ctx;
    return 0;
}

static int check_hvm_context(struct sr_context *ctx, const struct sr_record *rec)
{
    if (rec->length == 0 || rec->length > HVM_CONTEXT_MAX) {
        ERROR("HVM_CONTEXT record length %u out of range (1..%u)", rec->length,
              HVM_CONTEXT_MAX);
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

static int handle_hvm_context(struct sr_context *ctx, struct sr_record *rec)
{
    void *copy;

    if (check_hvm_context(ctx, rec))
        return -1;
    copy = malloc(rec->length);
    if (!copy) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(copy, rec->data, rec->length);
    free(ctx->hvm.context);
    ctx->hvm.context = copy;
    ctx->hvm.context_size = rec->length;
    ctx->hvm.have_context = true;
    return 0;
}

static int check_hvm_params(struct sr_context *ctx, const struct sr_record *rec)
{
    const struct sr_hvm_params *hdr = rec->data;
    const struct sr_hvm_params_entry *entry;
    uint32_t i;

    if (rec->length < sizeof(*hdr)) {
        ERROR("HVM_PARAMS record truncated: length %u", rec->length);
        errno = EBADMSG;
        return -1;
    }
    if (hdr->count > HVM_NR_PARAMS ||
        rec->length != sizeof(*hdr) + (uint64_t)hdr->count * sizeof(*entry)) {
        ERROR("HVM_PARAMS record length %u does not match count %u", rec->length, hdr->count);
        errno = EBADMSG;
        return -1;
    }
    entry = (const struct sr_hvm_params_entry *)(hdr + 1);
    for (i = 0; i < hdr->count; i++) {
        if (entry[i].index >= HVM_NR_PARAMS) {
            ERROR("HVM_PARAMS entry %u: param index %llu out of range", i,
                  (unsigned long long)entry[i].index);
            errno = EBADMSG;
            return -1;
        }
    }
    return 0;
}

static int handle_hvm_params(struct sr_context *ctx, struct sr_record *rec)
{
    const struct sr_hvm_params *hdr = rec->data;
    const struct sr_hvm_params_entry *entry = (const struct sr_hvm_params_entry *)(hdr + 1);
    uint32_t i;

    /* All of it is checked before any param is set. */
    if (check_hvm_params(ctx, rec))
        return -1;
    for (i = 0; i < hdr->count; i++) {
        switch (entry[i].index) {
        case HVM_PARAM_PAE_ENABLED:
            continue;   /* not settable; upstream discards it too */
        case HVM_PARAM_CONSOLE_PFN:
            ctx->restore.console_gfn = entry[i].value;
            break;
        case HVM_PARAM_STORE_PFN:
            ctx->restore.xenstore_gfn = entry[i].value;
            break;
        }
        if (!ctx->restore.check_only &&
            xhv_hvm_param_set(ctx->xch, ctx->domid, (uint32_t)entry[i].index, entry[i].value)) {
            PERROR("Failed to set HVM param %llu", (unsigned long long)entry[i].index);
            return -1;
        }
    }
    return 0;
}

static int hvm_process_record(struct sr_context *ctx, struct sr_record *rec)
{
    switch (rec->type) {
    case REC_TYPE_X86_TSC_INFO:
        return handle_x86_tsc_info(ctx, rec);
    case REC_TYPE_HVM_CONTEXT:
        return handle_hvm_context(ctx, rec);
    case REC_TYPE_HVM_PARAMS:
        return handle_hvm_params(ctx, rec);
    case REC_TYPE_X86_CPUID_POLICY:
    case REC_TYPE_X86_MSR_POLICY:
        return handle_x86_cpu_policy_record(ctx, rec);
    default:
        return RECORD_NOT_PROCESSED;
    }
}

static int hvm_check_record(struct sr_context *ctx, const struct sr_record *rec)
{
    switch (rec->type) {
    case REC_TYPE_X86_TSC_INFO:
        return check_x86_tsc_info(ctx, rec);
    case REC_TYPE_HVM_CONTEXT:
        return check_hvm_context(ctx, rec);
    case REC_TYPE_HVM_PARAMS:
        return check_hvm_params(ctx, rec);
    case REC_TYPE_X86_CPUID_POLICY:
    case REC_TYPE_X86_MSR_POLICY:
        return check_x86_cpu_policy_record(ctx, rec);
    default:
        return RECORD_NOT_PROCESSED;
    }
}

static int hvm_static_data_complete(struct sr_context *ctx, unsigned int *missing)
{
    return apply_x86_cpu_policy(ctx, missing);
}

static int hvm_stream_complete(struct sr_context *ctx)
{
    if (!ctx->hvm.have_context) {
        ERROR("Stream complete without an HVM_CONTEXT record");
        errno = EBADMSG;
        return -1;
    }
    if (ctx->restore.check_only)
        return 0;
    if (xhv_hvm_param_set(ctx->xch, ctx->domid, HVM_PARAM_STORE_EVTCHN,
                          ctx->restore.store_evtchn) ||
        xhv_hvm_param_set(ctx->xch, ctx->domid, HVM_PARAM_CONSOLE_EVTCHN,
                          ctx->restore.console_evtchn)) {
        PERROR("Failed to set event channel params");
        return -1;
    }
    if (xhv_hvm_setcontext(ctx->xch, ctx->domid, ctx->hvm.context, ctx->hvm.context_size)) {
        PERROR("Unable to set the HVM context");
        return -1;
    }
    /* The toolstack introduces the domain to xenstored next, which maps the ring through
     * grant entry 1: seeded here, part of the restore as in upstream's. */
    if (xhv_seed_grants(ctx->xch, ctx->domid, ctx->restore.console_gfn,
                        ctx->restore.console_domid, ctx->restore.xenstore_gfn,
                        ctx->restore.store_domid) && errno != ENOSYS) {
        PERROR("Unable to seed the grant table (console %#llx, xenstore %#llx)",
               (unsigned long long)ctx->restore.console_gfn,
               (unsigned long long)ctx->restore.xenstore_gfn);
        return -1;
    }
    return 0;
}

static int hvm_cleanup(struct sr_context *ctx)
{
    free_x86_cpu_policy(ctx);
    return 0;
}

const struct sr_restore_ops restore_ops_x86_hvm = {
    .page_tables = false,
    .pfn_is_valid = hvm_pfn_is_valid,
    .setup = hvm_setup,
    .process_record = hvm_process_record,
    .check_record = hvm_check_record,
    .static_data_complete = hvm_static_data_complete,
    .stream_complete = hvm_stream_complete,
    .cleanup = hvm_cleanup,
};
