/* The helpers of libxl_utils.h: lookups, exact reads and writes, pipes. */
#include "libxl_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xutil.h"

int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
    return xhv_domain_lookup(ctx->xch, name, domid) ? ERROR_INVAL : 0;
}

int libxl_domain_qualifier_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
    const char *p = name;
    unsigned long v;
    char *end;

    while (*p && isdigit((unsigned char)*p))
        p++;
    if (!*name || *p)
        return libxl_name_to_domid(ctx, name, domid);
    errno = 0;
    v = strtoul(name, &end, 10);
    if (errno || v > UINT32_MAX)
        return ERROR_INVAL;
    *domid = (uint32_t)v;
    return 0;
}

char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
    xhv_dominfo_t d;

    if (domid == 0)
        return strdup("Domain-0");
    if (xhv_domain_info(ctx->xch, domid, &d))
        return NULL;
    return strdup(d.name);
}

/* Both directions of libxl_read_exactly/libxl_write_exactly: 0 or an errno value. */
static int exactly(libxl_ctx *ctx, int fd, void *data, ssize_t sz, const char *filename,
                   const char *what, int writing)
{
    const char *verb = writing ? "write" : "read", *prep = writing ? " to " : " from ";
    int rc = 0;

    if (sz < 0) {
        LOG_ERR(ctx, "%s %s%s%s: negative size %zd", writing ? "writing" : "reading",
                what ? what : "", what ? prep : "", filename, sz);
        return EINVAL;
    }
    if (writing ? write_exact(fd, data, (size_t)sz) : read_exact(fd, data, (size_t)sz)) {
        rc = errno ? errno : writing ? EIO : EPROTO;
        if (rc == EPROTO && !writing)
            LOG_ERR(ctx, "file/stream truncated reading %s%s%s", what ? what : "",
                    what ? prep : "", filename);
        else
            libxl__log(ctx, XTL_ERROR, rc, "libxl", "failed to %s %s%s%s", verb,
                       what ? what : "", what ? prep : "", filename);
    }
    return rc;
}

int libxl_read_exactly(libxl_ctx *ctx, int fd, void *data, ssize_t sz, const char *filename,
                       const char *what)
{
    return exactly(ctx, fd, data, sz, filename, what, 0);
}

int libxl_write_exactly(libxl_ctx *ctx, int fd, const void *data, ssize_t sz,
                        const char *filename, const char *what)
{
    return exactly(ctx, fd, (void *)data, sz, filename, what, 1);
}

int libxl_pipe(libxl_ctx *ctx, int pipes[2])
{
    if (pipe(pipes)) {
        libxl__log(ctx, XTL_ERROR, errno, "libxl", "failed to create a pipe");
        return ERROR_FAIL;
    }
    return 0;
}
