/*
 * libxenlight-colo: domain UUIDs, with upstream libxl's type, format macros and calls.
 * Included by libxl.h.
 */
#ifndef LIBXL_COLO_UUID_H
#define LIBXL_COLO_UUID_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sixteen bytes in big-endian order, as the hypervisor's domain handle. */
typedef struct {
    unsigned char uuid[16];
} libxl_uuid;

/* printf("... " LIBXL_UUID_FMT " ...", LIBXL_UUID_BYTES(u)) */
#define LIBXL_UUID_FMT "%02hhx%02hhx%02hhx%02hhx-%02hhx%02hhx-%02hhx%02hhx-%02hhx%02hhx-" \
                       "%02hhx%02hhx%02hhx%02hhx%02hhx%02hhx"
#define LIBXL_UUID_FMTLEN 36
#define LIBXL__UUID_BYTES(b) (b)[0], (b)[1], (b)[2], (b)[3], (b)[4], (b)[5], (b)[6], \
                             (b)[7], (b)[8], (b)[9], (b)[10], (b)[11], (b)[12], (b)[13], \
                             (b)[14], (b)[15]
#define LIBXL_UUID_BYTES(arg) LIBXL__UUID_BYTES((arg).uuid)

struct libxl__ctx;
int libxl_uuid_is_nil(const libxl_uuid *uuid);
void libxl_uuid_generate(libxl_uuid *uuid);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits of either case): 0, else -1. */
int libxl_uuid_from_string(libxl_uuid *uuid, const char *in);
void libxl_uuid_copy(struct libxl__ctx *ctx_opt, libxl_uuid *dst, const libxl_uuid *src);
void libxl_uuid_clear(libxl_uuid *uuid);
int libxl_uuid_compare(const libxl_uuid *uuid1, const libxl_uuid *uuid2);
const uint8_t *libxl_uuid_bytearray_const(const libxl_uuid *uuid);
uint8_t *libxl_uuid_bytearray(libxl_uuid *uuid);

#ifdef __cplusplus
}
#endif
#endif
