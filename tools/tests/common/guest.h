/*
 * Helpers for engine tests on the simulated hypervisor: guests, snapshots,
 * comparisons, callbacks, and running Debian's verify-stream-v2.
 */
#ifndef TEST_GUEST_H
#define TEST_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "xenguest_colo.h"
#include "domain_compare.h"

xc_interface *test_open(void);
/* A running guest; program as in xhv_domain_config_t. */
uint32_t test_create_guest(xc_interface *xch, const char *name, const char *program,
                           uint64_t pages, uint64_t host_input, uint64_t rate);
/* An empty, paused domain of the same size, for a restore to fill. */
uint32_t test_create_target(xc_interface *xch, const char *name, uint64_t pages,
                            uint64_t host_input);

/* Save callbacks data: suspends through the hypervisor. */
struct test_save_data {
    xc_interface *xch;
    uint32_t domid;
};
int test_suspend_cb(void *data);

/* Run verify-stream-v2 on a file; output goes to out (NUL-terminated). Returns rc. */
int run_verifier(const char *format, const char *path, char *out, size_t outlen);

/* Write all / read all helpers. */
int copy_fd_to_file(int fd, const char *path);

#endif
