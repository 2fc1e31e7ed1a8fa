/*
 * xl for the COLO toolstack: upstream's command names, options, exit statuses and wire
 * strings (docs/man/xl.1.pod).
 */
#ifndef XL_H
#define XL_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "libxl.h"
#include "libxl_utils.h"
#include "xutil.h"

/*
 * The command `xl migrate` and `xl remus` run on the other host (through ssh or the -s
 * transport).  Packagers that install this xl under another name define it at build time.
 */
#ifndef XL_REMOTE_COMMAND
#define XL_REMOTE_COMMAND "xl"
#endif

/*
 * Exit statuses, as upstream's xl returns them.  Every main_* returns one of these.
 */
enum {
    XL_EXIT_OK = 0,
    /* EXIT_FAILURE: a failed command, an unknown command or global option, no command,
     * a failed migration (at any stage of the handshake), and -N for a command without
     * a dry run. */
    XL_EXIT_FAIL = 1,
    /* A subcommand's unknown or refused option, or too few arguments. */
    XL_EXIT_USAGE = 2,
    /* Conflicting remus options (upstream calls exit(-1)). */
    XL_EXIT_REMUS_OPTS = 255,
};

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

/* Global options (xl [-v] [-f] [-N] [-t] [-T] <subcommand>). */
extern int xl_verbose;          /* -v, repeatable */
extern int xl_force;            /* -f */
extern int xl_dryrun;           /* -N */
extern int xl_progress_use_cr;  /* -t */
extern int xl_timestamps;       /* -T */

/* xl_cmdtable.c: the commands, their usage and option help. */
struct xl_cmd_spec {
    const char *name;
    int (*fn)(int argc, char **argv);
    int can_dryrun;
    const char *summary;
    const char *usage;
    const char *options;        /* one line per option, or NULL */
};
const struct xl_cmd_spec *xl_cmd_lookup(const char *name);
/* The full list (cmd NULL) or one command's usage and options. */
void xl_help(FILE *f, const char *cmd);
/*
 * getopt_long for a subcommand, "h" and --help added: returns the next option, or -1
 * after the last one with at least nreq arguments left.  -h, an unknown option or too
 * few arguments print what they should and return XL_GETOPT_EXIT with *exit_rc set.
 */
#define XL_GETOPT_EXIT (-2)
int xl_getopt(int argc, char **argv, const char *opts, const struct option *lopts,
              const char *cmd, int nreq, int *exit_rc);
/* An upstream option that has no meaning for this toolstack: says why; returns
 * XL_EXIT_USAGE for main_* to return. */
int xl_refuse_option(const char *cmd, const char *opt, const char *why);

/* xl_log.c: stderr with -T timestamps, progress lines (-t: overwritten in place). */
int xl_log_setup(void);
void xl_log_teardown(void);
void xl_progress(void *opaque, const char *what, unsigned long done, unsigned long total);

/* xl_config.c: xl.cfg-style guest configs. */
int xl_parse_config(const char *path, const char *text, libxl_domain_config *c, char *err,
                    size_t errlen);
/* xl_savefile.c */
int xl_write_savefile_header(int fd, libxl_domain_config *c);
/* Reads and checks the header; fills c from the JSON config. */
int xl_read_savefile_header(int fd, libxl_domain_config *c, const char *what);
/* The checks of xl_read_savefile_header without the config parse: *json is the config
 * text (malloc'd, NUL-terminated).  0, or -1 after a message on stderr. */
int xl_read_savefile_config(int fd, char **json, const char *what);

/* xl.c */
int xl_find_domain(const char *arg, uint32_t *domid);

/* xl_transport.c: the process that carries a migration or replication stream. */
/* "exec <ssh> <host> xl<global options> migrate-receive<args>", or host itself when
 * ssh is empty (malloc'd). */
char *xl_make_rune(const char *ssh, const char *host, int pass_tty, const char *args);
int xl_transport_start(const char *rune, int *send_fd, int *recv_fd);
/* Waits for the transport process: XL_REAP_WAIT for as long as it takes, else
 * grace_ms before it gets SIGTERM (0: at once). */
#define XL_REAP_WAIT (~0U)
void xl_transport_reap(unsigned int grace_ms);
/* Waits for the receiver's banner, then sends xl's header and the config. */
int xl_transport_preamble(int send_fd, int recv_fd, libxl_domain_config *c,
                          const char *rune);
/* Reads a handshake string (sent with its NUL). */
int xl_read_handshake(int fd, const char *expect, const char *what);
int xl_write_handshake(int fd, const char *msg);

int main_help(int argc, char **argv);
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
int main_failover(int argc, char **argv);
/* xl_failover.c: the stream ended at failover with the domain held; take over only when
 * the primary's death is certain (local_primary: its domid when it runs on this host). */
int xl_receive_failover(uint32_t domid, const char *incoming, const char *name, int colo,
                        int paused, const uint32_t *local_primary, const char *fence_script);
int main_debug_digest(int argc, char **argv);

#endif
