/*
 * xl for the COLO toolstack: upstream's command names, options and wire strings
 * (docs/man/xl.1.md).
 */
#ifndef XL_H
#define XL_H

#include <stdint.h>

#include "libxl.h"
#include "libxl_utils.h"

/* Upstream's handshake strings (tools/xl/xl.h). */
#define XL_MIGRATE_RECEIVER_BANNER "xl migration receiver ready, send binary domain data.\n"
#define XL_MIGRATE_RECEIVER_READY  "domain received, ready to unpause"
#define XL_MIGRATE_PERMISSION      "domain is yours, you are cleared to unpause"
#define XL_MIGRATE_REPORT          "my copy unpause results are as follows"

/* xl save-file header (32-byte magic, byte order, flags, optional data length). */
#define XL_SAVEFILE_MAGIC "Xen saved domain, xl format\n \0 \r"
#define XL_SAVEFILE_BYTEORDER 0x01020304U
#define XL_MANDATORY_FLAG_JSON     (1U << 0)
#define XL_MANDATORY_FLAG_STREAMv2 (1U << 1)
#define XL_MANDATORY_FLAG_ALL      (XL_MANDATORY_FLAG_JSON | XL_MANDATORY_FLAG_STREAMv2)
#define XL_OPTDATA_MAX             (1U << 20)

struct xl_savefile_header {
    char magic[32];
    uint32_t byteorder;
    uint32_t mandatory_flags;
    uint32_t optional_flags;
    uint32_t optional_data_len;
};

extern libxl_ctx *ctx;
extern int xl_verbose;

/* xl_config.c: xl.cfg-style guest configs. */
int xl_parse_config(const char *path, const char *text, libxl_domain_config *c, char *err,
                    size_t errlen);
/* xl_savefile.c */
int xl_write_savefile_header(int fd, libxl_domain_config *c);
/* Reads and checks the header; fills c from the JSON config. */
int xl_read_savefile_header(int fd, libxl_domain_config *c, const char *what);

/* xl_util.c */
int xl_find_domain(const char *arg, uint32_t *domid);
void xl_progress(void *opaque, const char *what, unsigned long done, unsigned long total);
int xl_read_exact(int fd, void *buf, size_t len);
int xl_write_exact(int fd, const void *buf, size_t len);

int main_create(int argc, char **argv);
int main_list(int argc, char **argv);
int main_destroy(int argc, char **argv);
int main_pause(int argc, char **argv);
int main_unpause(int argc, char **argv);
int main_save(int argc, char **argv);
int main_restore(int argc, char **argv);
int main_migrate(int argc, char **argv);
int main_migrate_receive(int argc, char **argv);
int main_remus(int argc, char **argv);
int main_debug_digest(int argc, char **argv);

#endif
