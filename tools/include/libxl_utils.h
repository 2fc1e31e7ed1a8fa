/*
 * libxenlight-colo: the helpers upstream libxl's callers use from <libxl_utils.h>:
 * name and domid lookups, exact reads and writes with logging, pipes.
 */
#ifndef LIBXL_COLO_UTILS_H
#define LIBXL_COLO_UTILS_H

#include "libxl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0, or ERROR_INVAL when no domain has that name. */
int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid);
/* A string of digits is a domid (not checked to exist, as upstream); else a name. */
int libxl_domain_qualifier_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid);
/* malloc'd name, or NULL when the domain does not exist. */
char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid);

/* 0 or an errno value: EPROTO when the file ended first.  Errors are logged naming
 * filename (used for the message only) and what (may be NULL). */
int libxl_read_exactly(libxl_ctx *ctx, int fd, void *data, ssize_t sz,
                       const char *filename, const char *what);
int libxl_write_exactly(libxl_ctx *ctx, int fd, const void *data, ssize_t sz,
                        const char *filename, const char *what);
/* pipe(2), logged on failure: 0 or ERROR_FAIL. */
int libxl_pipe(libxl_ctx *ctx, int pipes[2]);

#ifdef __cplusplus
}
#endif
#endif
