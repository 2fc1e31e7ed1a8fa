/* xl's save-file header and JSON config, in front of the libxl stream (facts §1.9). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

int xl_write_savefile_header(int fd, libxl_domain_config *c)
{
    struct xl_savefile_header h;
    char *json = libxl_domain_config_to_json(ctx, c);
    uint32_t len;
    int rc;

    if (!json)
        return -1;
    len = (uint32_t)strlen(json) + 1;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, XL_SAVEFILE_MAGIC, sizeof(h.magic));
    h.byteorder = XL_SAVEFILE_BYTEORDER;
    h.mandatory_flags = XL_MANDATORY_FLAG_STREAMv2 | XL_MANDATORY_FLAG_JSON;
    h.optional_data_len = 4 + len;
    rc = write_exact(fd, &h, sizeof(h)) || write_exact(fd, &len, 4) ||
         write_exact(fd, json, len);
    free(json);
    return rc ? -1 : 0;
}

int xl_read_savefile_config(int fd, char **json, const char *what)
{
    struct xl_savefile_header h;
    char *opt = NULL;
    uint32_t len;

    *json = NULL;
    if (read_exact(fd, &h, sizeof(h))) {
        fprintf(stderr, "%s: cannot read the xl header: %s\n", what,
                errno ? strerror(errno) : "end of file");
        return -1;
    }
    if (memcmp(h.magic, XL_SAVEFILE_MAGIC, sizeof(h.magic))) {
        fprintf(stderr, "%s: not an xl save file or migration stream (bad magic)\n", what);
        return -1;
    }
    if (h.byteorder != XL_SAVEFILE_BYTEORDER) {
        fprintf(stderr, "%s: written on a host of the other byte order\n", what);
        return -1;
    }
    if (h.mandatory_flags & ~XL_MANDATORY_FLAG_ALL) {
        fprintf(stderr, "%s: unknown mandatory flags 0x%x\n", what,
                h.mandatory_flags & ~XL_MANDATORY_FLAG_ALL);
        return -1;
    }
    if (!(h.mandatory_flags & XL_MANDATORY_FLAG_STREAMv2)) {
        fprintf(stderr, "%s: a legacy (pre-v2) stream; not supported\n", what);
        return -1;
    }
    if (h.optional_data_len > XL_OPTDATA_MAX) {
        fprintf(stderr, "%s: optional data of %u bytes is too large\n", what, h.optional_data_len);
        return -1;
    }
    opt = calloc(1, h.optional_data_len + 1);
    if (!opt || read_exact(fd, opt, h.optional_data_len)) {
        fprintf(stderr, "%s: cannot read the xl header's optional data\n", what);
        goto bad;
    }
    if (!(h.mandatory_flags & XL_MANDATORY_FLAG_JSON)) {
        fprintf(stderr, "%s: no domain config in the stream (give one on the command line is "
                "not supported)\n", what);
        goto bad;
    }
    if (h.optional_data_len < 4) {
        fprintf(stderr, "%s: truncated config in the xl header\n", what);
        goto bad;
    }
    memcpy(&len, opt, 4);
    if (len == 0 || len > h.optional_data_len - 4 || opt[4 + len - 1] != 0) {
        fprintf(stderr, "%s: malformed config in the xl header (length %u)\n", what, len);
        goto bad;
    }
    /* The JSON text moves to the front of the buffer for the caller. */
    memmove(opt, opt + 4, len);
    *json = opt;
    return 0;
 bad:
    free(opt);
    return -1;
}

int xl_read_savefile_header(int fd, libxl_domain_config *c, const char *what)
{
    char *json;
    int rc = -1;

    if (xl_read_savefile_config(fd, &json, what))
        return -1;
    if (libxl_domain_config_from_json(ctx, c, json))
        fprintf(stderr, "%s: cannot parse the domain config in the xl header\n", what);
    else
        rc = 0;
    free(json);
    return rc;
}
