/*
 * libxl's side of the simulated network device and the COLO compare proxy
 * (tools/misc/colo-proxy.c, docs/colo-proxy.md).  Control messages use upstream's
 * userspace-proxy framing (u32 big-endian length + bytes): "COLO_USERSPACE_PROXY_INIT",
 * "COLO_CHECKPOINT" (answered here with "COLO_CHECKPOINT_DONE"), "DO_CHECKPOINT".
 */
#ifndef LIBXL_COLO_PROXY_H
#define LIBXL_COLO_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "libxl.h"

#define COLO_PROXY_ACK_TIMEOUT_MS 5000   /* INIT and COLO_CHECKPOINT answers */

/* Starts `colo-proxy <mode> --domain domid --out out ...` detached from the caller
 * (its own session; stderr to $SIMXEN_DIR/dom<domid>.proxy.log).  mode "primary"
 * needs addr (--listen) and returns the control fd in *ctl_fd; "secondary" needs addr
 * (--to).  The binary, its --timeout, --bypass and --log come from libxl's
 * settings (libxl_test.h). */
int libxl__colo_proxy_spawn(libxl_ctx *ctx, const char *mode, uint32_t domid, const char *out,
                            const char *addr, int *ctl_fd, char *err, size_t errlen);
/* Messages on the control fd: ctlmsg_send / ctlmsg_recv (xutil.h).  The length is
 * bounded, reads are looped, the text is NUL-terminated (upstream's reader does none of
 * these). */
/* The secondary has the checkpoint whose epoch the primary's ring has (set while it
 * was suspended): tell the proxy, which releases the packets of the epochs before, and
 * wait for its answer (discarding stale DO_CHECKPOINTs). */
int libxl__colo_proxy_checkpoint(int fd);
/* Epoch of a domain's network ring, set while it is stopped at a checkpoint (the
 * primary before it resumes, the secondary before it starts into the checkpoint). */
int libxl__colo_net_epoch(uint32_t domid, uint32_t n);
/* Failover on the secondary: its forwarder starts serving the output itself. */
int libxl__colo_proxy_failover(uint32_t domid);

#endif
