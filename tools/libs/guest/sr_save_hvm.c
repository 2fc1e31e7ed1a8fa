/*
 * Save operations for x86 HVM-type domains (simulated guests travel as these).
 * End of checkpoint: TSC_INFO, HVM_CONTEXT, HVM_PARAMS, in upstream's order.
 */
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "sr_common.h"

/* The params upstream's saver sends, in its order; zero values are not sent. */
static const uint32_t hvm_params_to_save[] = {
    HVM_PARAM_STORE_PFN, HVM_PARAM_IOREQ_PFN, HVM_PARAM_BUFIOREQ_PFN,
    HVM_PARAM_PAGING_RING_PFN, HVM_PARAM_MONITOR_RING_PFN, HVM_PARAM_SHARING_RING_PFN,
    HVM_PARAM_VM86_TSS_SIZED, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_ACPI_IOPORTS_LOCATION,
    HVM_PARAM_VIRIDIAN, HVM_PARAM_IDENT_PT, HVM_PARAM_VM_GENERATION_ID_ADDR,
    HVM_PARAM_IOREQ_SERVER_PFN, HVM_PARAM_NR_IOREQ_SERVER_PAGES, HVM_PARAM_X87_FIP_WIDTH,
    HVM_PARAM_MCA_CAP,
};
#define NR_PARAMS_TO_SAVE (sizeof(hvm_params_to_save) / sizeof(hvm_params_to_save[0]))

static int hvm_setup(struct sr_context *ctx)
{
    struct save_callbacks *cb = ctx->save.callbacks;

    ctx->save.p2m_size = ctx->dominfo.p2m_size;
    if (!ctx->save.p2m_size) {
        ERROR("Domain %u has no memory to save", ctx->domid);
        errno = EINVAL;
        return -1;
    }
    if (cb->switch_qemu_logdirty && cb->switch_qemu_logdirty(ctx->domid, 1, cb->data)) {
        PERROR("Couldn't enable qemu log-dirty mode");
        return -1;
    }
    return 0;
}

static int hvm_nothing(struct sr_context *ctx)
{
    (void)ctx;
    return 0;
}

static int write_hvm_context(struct sr_context *ctx)
{
    struct sr_record rec = { .type = REC_TYPE_HVM_CONTEXT };
    int size = xhv_hvm_getcontext(ctx->xch, ctx->domid, NULL, 0);
    void *buf;
    int rc = -1;

    if (size <= 0 || (unsigned int)size > HVM_CONTEXT_MAX) {
        PERROR("Unable to get the HVM context size");
        return -1;
    }
    buf = malloc((size_t)size);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    size = xhv_hvm_getcontext(ctx->xch, ctx->domid, buf, (size_t)size);
    if (size <= 0) {
        PERROR("Unable to get the HVM context");
        goto out;
    }
    rec.length = (uint32_t)size;
    rec.data = buf;
    rc = write_record(ctx, ctx->fd, &rec);
 out:
    free(buf);
    return rc;
}

static int write_hvm_params(struct sr_context *ctx)
{
    struct {
        struct sr_hvm_params hdr;
        struct sr_hvm_params_entry entry[NR_PARAMS_TO_SAVE];
    } params;
    struct sr_record rec = { .type = REC_TYPE_HVM_PARAMS, .data = &params };
    unsigned int i;
    uint64_t value;

    memset(&params, 0, sizeof(params));
    for (i = 0; i < NR_PARAMS_TO_SAVE; i++) {
        if (xhv_hvm_param_get(ctx->xch, ctx->domid, hvm_params_to_save[i], &value)) {
            PERROR("Failed to get HVM param %u", hvm_params_to_save[i]);
            return -1;
        }
        if (value)
            params.entry[params.hdr.count++] =
                (struct sr_hvm_params_entry){ hvm_params_to_save[i], value };
    }
    if (!params.hdr.count)
        return 0;   /* upstream omits the record when every param is zero */
    rec.length = (uint32_t)(sizeof(params.hdr) + params.hdr.count * sizeof(params.entry[0]));
    return write_record(ctx, ctx->fd, &rec);
}

static int hvm_end_of_checkpoint(struct sr_context *ctx)
{
    if (write_x86_tsc_info(ctx) || write_hvm_context(ctx) || write_hvm_params(ctx))
        return -1;
    return 0;
}

static int hvm_cleanup(struct sr_context *ctx)
{
    struct save_callbacks *cb = ctx->save.callbacks;

    if (cb && cb->switch_qemu_logdirty && cb->switch_qemu_logdirty(ctx->domid, 0, cb->data))
        PERROR("Couldn't disable qemu log-dirty mode");
    return 0;
}

/*
 * The xenstore and console rings: xenstored and xenconsoled move their indexes through
 * grant mappings, invisible to log-dirty, so a ring page the guest did not touch since
 * it was last sent would arrive with stale indexes (a Remus secondary taking over would
 * see requests as unread that xenstored had already served).  Two pages per round.
 */
static void hvm_mark_backend_pages(struct sr_context *ctx, unsigned long *bitmap,
                                   uint64_t *count)
{
    static const uint32_t rings[] = { HVM_PARAM_STORE_PFN, HVM_PARAM_CONSOLE_PFN };

    for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
        uint64_t pfn = 0;

        /* No such param (a guest without the ring): nothing to add. */
        if (xhv_hvm_param_get(ctx->xch, ctx->domid, rings[i], &pfn) || !pfn ||
            pfn >= ctx->save.p2m_size || bitmap_test_bit(bitmap, pfn))
            continue;
        bitmap_set_bit(bitmap, pfn);
        (*count)++;
    }
    /* The same for every page a backend maps writable (a vif's rx and tx rings).  Seen
     * on real Xen with a vif under COLO: without them the page comparison found 4 and
     * 5 pages different at checkpoints 1 and 2 and the secondary crashed at the third;
     * with them it ran 21 checkpoints. */
    if (xhv_granted_writable(ctx->xch, ctx->domid, bitmap, ctx->save.p2m_size, count) &&
        errno != ENOSYS)
        PERROR("Couldn't read the pages granted writable");
}

const struct sr_save_ops save_ops_x86_hvm = {
    .dhdr_type = DHDR_TYPE_X86_HVM,
    .setup = hvm_setup,
    .static_data = write_x86_cpu_policy_records,
    .start_of_stream = hvm_nothing,
    .start_of_checkpoint = hvm_nothing,
    .end_of_checkpoint = hvm_end_of_checkpoint,
    .check_vm_state = hvm_nothing,
    .mark_backend_pages = hvm_mark_backend_pages,
    .cleanup = hvm_cleanup,
};
