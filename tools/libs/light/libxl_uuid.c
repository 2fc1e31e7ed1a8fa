/* Domain UUIDs (libxl_uuid.h). */
#include "libxl_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int libxl_uuid_is_nil(const libxl_uuid *uuid)
{
    static const libxl_uuid nil;

    return !memcmp(uuid->uuid, nil.uuid, sizeof(nil.uuid));
}

/* A random (version 4, RFC 4122 variant) UUID. */
void libxl_uuid_generate(libxl_uuid *uuid)
{
    size_t got = 0;

    while (got < sizeof(uuid->uuid)) {
        ssize_t n = getrandom(uuid->uuid + got, sizeof(uuid->uuid) - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    uuid->uuid[6] = (unsigned char)((uuid->uuid[6] & 0x0f) | 0x40);
    uuid->uuid[8] = (unsigned char)((uuid->uuid[8] & 0x3f) | 0x80);
}

int libxl_uuid_from_string(libxl_uuid *uuid, const char *in)
{
    libxl_uuid u;
    unsigned int x;
    size_t j = 0;

    if (!in || strlen(in) != LIBXL_UUID_FMTLEN)
        return -1;
    for (int i = 0; i < 16; i++, j += 2) {
        if (j == 8 || j == 13 || j == 18 || j == 23) {
            if (in[j] != '-')
                return -1;
            j++;
        }
        if (!isxdigit((unsigned char)in[j]) || !isxdigit((unsigned char)in[j + 1]) ||
            sscanf(in + j, "%2x", &x) != 1)
            return -1;
        u.uuid[i] = (unsigned char)x;
    }
    *uuid = u;
    return 0;
}

void libxl_uuid_copy(struct libxl__ctx *ctx_opt, libxl_uuid *dst, const libxl_uuid *src)
{
    (void)ctx_opt;
    memcpy(dst->uuid, src->uuid, sizeof(dst->uuid));
}

void libxl_uuid_clear(libxl_uuid *uuid)
{
    memset(uuid->uuid, 0, sizeof(uuid->uuid));
}

int libxl_uuid_compare(const libxl_uuid *uuid1, const libxl_uuid *uuid2)
{
    return memcmp(uuid1->uuid, uuid2->uuid, sizeof(uuid1->uuid));
}

const uint8_t *libxl_uuid_bytearray_const(const libxl_uuid *uuid)
{
    return uuid->uuid;
}

uint8_t *libxl_uuid_bytearray(libxl_uuid *uuid)
{
    return uuid->uuid;
}
