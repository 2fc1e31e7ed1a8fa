#include "libxl_records.h"

#include <errno.h>
#include <string.h>

#include "sr_common.h"

int libxl_write_checkpoint_end(int fd)
{
    uint32_t rec[2] = { LIBXL_REC_CHECKPOINT_END, 0 };

    return write_exact(fd, rec, sizeof(rec));
}

int libxl_write_checkpoint_state(int fd, uint32_t id)
{
    uint32_t rec[4] = { LIBXL_REC_CHECKPOINT_STATE, 4, id, 0 };

    return write_exact(fd, rec, sizeof(rec));
}

int libxl_read_record(int fd, uint32_t *type, uint32_t *id)
{
    uint32_t hdr[2], body[4];
    size_t padded;

    if (read_exact(fd, hdr, sizeof(hdr)))
        return -1;
    padded = (hdr[1] + 7u) & ~7u;
    if (padded > sizeof(body)) {
        errno = EBADMSG;
        return -1;
    }
    if (padded && read_exact(fd, body, padded))
        return -1;
    *type = hdr[0];
    if (hdr[0] == LIBXL_REC_CHECKPOINT_STATE) {
        if (hdr[1] != 4) {
            errno = EBADMSG;
            return -1;
        }
        *id = body[0];
    }
    return 0;
}

int libxl_expect_state(int fd, uint32_t id)
{
    uint32_t type = 0, got = 0;

    if (libxl_read_record(fd, &type, &got))
        return -1;
    if (type != LIBXL_REC_CHECKPOINT_STATE || got != id) {
        errno = EBADMSG;
        return -1;
    }
    return 0;
}
