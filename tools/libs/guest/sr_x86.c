/*
 * x86 records shared by the x86 guest types (HVM-type and PV):
 *  - X86_TSC_INFO: the domain's TSC mode, frequency, elapsed time and incarnation;
 *  - X86_CPUID_POLICY, X86_MSR_POLICY: the saver sends the domain's policy in the static
 *    data, the restorer applies it before any vcpu state is loaded (Xen checks the
 *    loaded CR4/EFER/XSAVE state against it).  A hypervisor without policies (the
 *    simulated CPU) sends none and takes none, as streams from before Xen 4.14 had none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sr_common.h"

/* Far above what Xen 4.17 reports (a few hundred leaves, a handful of MSRs): a larger
 * record is not a policy. */
#define MAX_CPUID_LEAVES 4096
#define MAX_MSR_ENTRIES  4096

int write_x86_tsc_info(struct sr_context *ctx)
{
    struct sr_tsc_info tsc = { 0 };
    struct sr_record rec = { .type = REC_TYPE_X86_TSC_INFO, .length = sizeof(tsc), .data = &tsc };

    if (xhv_tsc_info_get(ctx->xch, ctx->domid, &tsc.mode, &tsc.nsec, &tsc.khz,
                         &tsc.incarnation)) {
        PERROR("Unable to obtain TSC information");
        return -1;
    }
    return write_record(ctx, ctx->fd, &rec);
}

int check_x86_tsc_info(struct sr_context *ctx, const struct sr_record *rec)
{
    if (rec->length != sizeof(struct sr_tsc_info)) {
        ERROR("X86_TSC_INFO record length %u, expected %zu", rec->length,
              sizeof(struct sr_tsc_info));
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int handle_x86_tsc_info(struct sr_context *ctx, struct sr_record *rec)
{
    const struct sr_tsc_info *tsc = rec->data;

    if (check_x86_tsc_info(ctx, rec))
        return -1;
    if (!ctx->restore.check_only && xhv_tsc_info_set(ctx->xch, ctx->domid, tsc->mode, tsc->nsec, tsc->khz,
                         tsc->incarnation)) {
        PERROR("Unable to set TSC information");
        return -1;
    }
    return 0;
}

int write_x86_cpu_policy_records(struct sr_context *ctx)
{
    uint32_t nl = 0, nm = 0;
    void *leaves = NULL, *msrs = NULL;
    struct sr_record rec;
    int rc = -1;

    if (xhv_cpu_policy_get(ctx->xch, ctx->domid, NULL, &nl, NULL, &nm)) {
        if (errno == ENOSYS)
            return 0;
        PERROR("Unable to get the size of domain %u's CPU policy", ctx->domid);
        return -1;
    }
    if (nl > MAX_CPUID_LEAVES || nm > MAX_MSR_ENTRIES) {
        ERROR("CPU policy of %u leaves and %u MSRs is beyond the bounds", nl, nm);
        errno = E2BIG;
        return -1;
    }
    leaves = calloc(nl ? nl : 1, XHV_CPUID_LEAF_SIZE);
    msrs = calloc(nm ? nm : 1, XHV_MSR_ENTRY_SIZE);
    if (!leaves || !msrs) {
        errno = ENOMEM;
        goto out;
    }
    if (xhv_cpu_policy_get(ctx->xch, ctx->domid, leaves, &nl, msrs, &nm)) {
        PERROR("Unable to get domain %u's CPU policy", ctx->domid);
        goto out;
    }
    rec = (struct sr_record){ .type = REC_TYPE_X86_CPUID_POLICY,
                              .length = nl * XHV_CPUID_LEAF_SIZE, .data = leaves };
    if (nl && write_record(ctx, ctx->fd, &rec))
        goto out;
    rec = (struct sr_record){ .type = REC_TYPE_X86_MSR_POLICY,
                              .length = nm * XHV_MSR_ENTRY_SIZE, .data = msrs };
    if (nm && write_record(ctx, ctx->fd, &rec))
        goto out;
    rc = 0;
 out:
    free(leaves);
    free(msrs);
    return rc;
}

int check_x86_cpu_policy_record(struct sr_context *ctx, const struct sr_record *rec)
{
    bool cpuid = rec->type == REC_TYPE_X86_CPUID_POLICY;
    uint32_t size = cpuid ? XHV_CPUID_LEAF_SIZE : XHV_MSR_ENTRY_SIZE;
    uint32_t max = cpuid ? MAX_CPUID_LEAVES : MAX_MSR_ENTRIES;
    const struct sr_x86_policy *p = &ctx->x86_policy;

    if (rec->length == 0 || rec->length % size || rec->length / size > max) {
        ERROR("%s record length %u invalid (a multiple of %u, at most %u entries)",
              rec_type_to_str(rec->type), rec->length, size, max);
        errno = EBADMSG;
        return -1;
    }
    if (cpuid ? p->leaves != NULL : p->msrs != NULL) {
        ERROR("Duplicate %s record", rec_type_to_str(rec->type));
        errno = EBADMSG;
        return -1;
    }
    /* The policy is applied when the static data is complete: one arriving later would
     * be kept and never applied. */
    if (ctx->restore.seen_static_data_end) {
        ERROR("%s record after STATIC_DATA_END", rec_type_to_str(rec->type));
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int handle_x86_cpu_policy_record(struct sr_context *ctx, struct sr_record *rec)
{
    bool cpuid = rec->type == REC_TYPE_X86_CPUID_POLICY;
    uint32_t size = cpuid ? XHV_CPUID_LEAF_SIZE : XHV_MSR_ENTRY_SIZE;
    struct sr_x86_policy *p = &ctx->x86_policy;

    if (check_x86_cpu_policy_record(ctx, rec))
        return -1;
    /* Taken over from the record: applied when the static data is complete. */
    if (cpuid) {
        p->leaves = rec->data;
        p->nr_leaves = rec->length / size;
    } else {
        p->msrs = rec->data;
        p->nr_msrs = rec->length / size;
    }
    rec->data = NULL;
    return 0;
}

int apply_x86_cpu_policy(struct sr_context *ctx, unsigned int *missing)
{
    struct sr_x86_policy *p = &ctx->x86_policy;

    *missing = (p->leaves ? 0 : XGR_SDD_MISSING_CPUID) | (p->msrs ? 0 : XGR_SDD_MISSING_MSR);
    if ((!p->leaves && !p->msrs) || ctx->restore.check_only)
        return 0;
    if (xhv_cpu_policy_set(ctx->xch, ctx->domid, p->leaves, p->nr_leaves, p->msrs,
                           p->nr_msrs)) {
        if (errno == ENOSYS)     /* the simulated CPU: nothing to apply it to */
            return 0;
        PERROR("Unable to apply the stream's CPU policy (%u leaves, %u MSRs) to domain %u",
               p->nr_leaves, p->nr_msrs, ctx->domid);
        return -1;
    }
    return 0;
}

void free_x86_cpu_policy(struct sr_context *ctx)
{
    free(ctx->x86_policy.leaves);
    free(ctx->x86_policy.msrs);
    memset(&ctx->x86_policy, 0, sizeof(ctx->x86_policy));
}
