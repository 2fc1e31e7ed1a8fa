/* Internal to libxhv: the backend ops table and the handle. */
#ifndef XHV_BACKEND_H
#define XHV_BACKEND_H

#include "xhv.h"
#include "xhv_sim.h"

struct xhv_backend_ops {
    const char *name;
    int (*open)(xc_interface *xch);         /* sets xch->priv */
    void (*close)(xc_interface *xch);
    int (*domain_create)(xc_interface *, const xhv_domain_config_t *, uint32_t *);
    int (*domain_destroy)(xc_interface *, uint32_t);
    int (*domain_info)(xc_interface *, uint32_t, xhv_dominfo_t *);
    int (*domain_list)(xc_interface *, xhv_dominfo_t *, int);
    int (*domain_lookup)(xc_interface *, const char *, uint32_t *);
    int (*domain_rename)(xc_interface *, uint32_t, const char *);
    int (*domain_ports)(xc_interface *, uint32_t, unsigned int *, unsigned int *);
    int (*domain_introduce)(xc_interface *, uint32_t, uint64_t, uint64_t);
    struct xs_handle *(*xenstore)(xc_interface *);
    int (*domain_pause)(xc_interface *, uint32_t);
    int (*domain_unpause)(xc_interface *, uint32_t);
    int (*domain_suspend)(xc_interface *, uint32_t, unsigned int);
    int (*domain_resume)(xc_interface *, uint32_t, int);
    int (*populate)(xc_interface *, uint32_t, const uint64_t *, size_t);
    int (*get_pfn_type_batch)(xc_interface *, uint32_t, size_t, const uint64_t *, uint32_t *);
    int (*map_foreign)(xc_interface *, uint32_t, int, const uint64_t *, void **, int *, size_t);
    int (*unmap_foreign)(xc_interface *, uint32_t, void **, size_t);
    int (*logdirty)(xc_interface *, uint32_t, enum xhv_logdirty_op, unsigned long *, uint64_t,
                    xhv_logdirty_stats_t *);
    int (*hvm_getcontext)(xc_interface *, uint32_t, uint8_t *, size_t);
    int (*hvm_setcontext)(xc_interface *, uint32_t, const uint8_t *, size_t);
    int (*hvm_state_digest)(xc_interface *, uint32_t, uint64_t *);
    int (*hvm_param_get)(xc_interface *, uint32_t, uint32_t, uint64_t *);
    int (*hvm_param_set)(xc_interface *, uint32_t, uint32_t, uint64_t);
    int (*tsc_info_get)(xc_interface *, uint32_t, uint32_t *, uint64_t *, uint32_t *, uint32_t *);
    int (*tsc_info_set)(xc_interface *, uint32_t, uint32_t, uint64_t, uint32_t, uint32_t);
    int (*cpu_policy_get)(xc_interface *, uint32_t, void *, uint32_t *, void *, uint32_t *);
    int (*cpu_policy_set)(xc_interface *, uint32_t, const void *, uint32_t, const void *,
                          uint32_t);
    int (*version)(xc_interface *, uint32_t *, uint32_t *);
    int (*sim_status)(xc_interface *, uint32_t, xhv_sim_status_t *);
    /* PV guests */
    int (*pv_info)(xc_interface *, uint32_t, xhv_pv_info_t *);
    int (*pv_p2m_frames)(xc_interface *, uint32_t, uint64_t *, uint64_t *, size_t);
    int (*pv_mfn_types)(xc_interface *, uint32_t, size_t, const uint64_t *, uint32_t *);
    int (*pv_vcpu_get)(xc_interface *, uint32_t, uint32_t, enum xhv_pv_vcpu_blob, uint8_t *,
                       size_t);
    int (*pv_populate)(xc_interface *, uint32_t, size_t, const uint64_t *, uint64_t *);
    int (*pv_pin)(xc_interface *, uint32_t, size_t, const uint64_t *, const unsigned int *);
    int (*pv_vcpu_set)(xc_interface *, uint32_t, uint32_t, enum xhv_pv_vcpu_blob,
                       const uint8_t *, size_t);
    int (*pv_set_shared_info)(xc_interface *, uint32_t, const uint8_t *, size_t);
    int (*seed_grants)(xc_interface *, uint32_t, uint64_t, uint32_t, uint64_t, uint32_t);
    int (*granted_writable)(xc_interface *, uint32_t, unsigned long *, uint64_t, uint64_t *);
};

struct xhv_handle {
    const struct xhv_backend_ops *ops;
    void *priv;
    xhv_log_fn *logfn;
    void *logopaque;
    enum xhv_loglevel minlevel;
};

extern const struct xhv_backend_ops xhv_sim_ops;
extern const struct xhv_backend_ops xhv_xen_ops;

#endif
