/*
 * libxl's environment settings in one table, read once: the tunables a deployment may
 * set and the instrumentation the tests use (digests at each checkpoint, a page
 * comparison of the pair).  Injected faults are xfault.h's.  The instrumentation itself lives in
 * libxl_test.c, so that the operations call one named hook at each point.
 */
#ifndef LIBXL_TEST_H
#define LIBXL_TEST_H

#include <stdint.h>

#include "libxl_internal.h"

enum libxl__setting {
    /* tunables */
    LIBXL__HEARTBEAT_TIMEOUT_MS,    /* a checkpointed stream's peer is lost after this */
    LIBXL__SAVE_HELPER_TIMEOUT_MS,  /* the save helper is hung after this much silence */
    LIBXL__SAVE_HELPER,             /* the save helper's path (else the installed one) */
    LIBXL__COLO_PROXY,              /* the compare proxy's path (else the installed one) */
    LIBXL__COLO_PROXY_TIMEOUT_MS,   /* the proxy's --timeout (a held packet asks for a
                                     * checkpoint after this) */
    LIBXL__COLO_PROXY_LOG,          /* the proxy's --log file */
    LIBXL__CHECKPOINT_STAGING,      /* 0: Remus/COLO checkpoints are sent while suspended */
    /* test instrumentation */
    LIBXL__TEST_DIGEST_DIR,         /* digest files per checkpoint and at failover */
    LIBXL__TEST_COLO_COMPARE,       /* domid of the PVM the SVM is compared with */
    LIBXL__NR_SETTINGS
};

/* The setting's string, NULL when unset or empty. */
const char *libxl__setting_str(libxl_ctx *ctx, enum libxl__setting s);
/* The setting as a number, def when unset; a malformed value is logged, and def used. */
unsigned long libxl__setting_num(libxl_ctx *ctx, enum libxl__setting s, unsigned long def);

/* Primary, suspended with checkpoint n's state: its digest file. */
void libxl__test_primary_checkpoint(libxl_ctx *ctx, uint32_t domid, unsigned int n);
/* Primary, checkpoint n sent (COLO: the secondary has it): the stall fault
 * (XFAULT_PRIMARY_STALL). */
void libxl__test_primary_stall(libxl_ctx *ctx, unsigned int n);
/* Primary: COLO protection ended (the proxy passes the output through from now on). */
void libxl__test_replication_ended(libxl_ctx *ctx);
/* Secondary, checkpoint n applied, both sides stopped: the page comparison. */
void libxl__test_secondary_compare(libxl_ctx *ctx, uint32_t domid, unsigned int n);
/* Secondary after a failover into its last checkpoint: the digest file. */
void libxl__test_secondary_failover(libxl_ctx *ctx, uint32_t domid, const char *what,
                                    unsigned int checkpoints);

#endif
