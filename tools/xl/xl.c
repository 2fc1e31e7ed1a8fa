/* xl: command dispatch, common helpers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xl.h"

libxl_ctx *ctx;
int xl_verbose;

static const struct cmd {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    { "create", main_create, "Create a domain from a config file" },
    { "list", main_list, "List information about all or some domains (-l: JSON)" },
    { "destroy", main_destroy, "Terminate a domain immediately" },
    { "pause", main_pause, "Pause execution of a domain" },
    { "unpause", main_unpause, "Unpause a paused domain" },
    { "save", main_save, "Save a domain state to restore later" },
    { "restore", main_restore, "Restore a domain from a saved state" },
    { "migrate", main_migrate, "Migrate a domain to another host" },
    { "migrate-receive", main_migrate_receive, "Restore a domain from a saved state (internal)" },
    { "remus", main_remus, "Enable Remus HA or COLO HA for domain" },
    { "debug-digest", main_debug_digest, "Print digests of a domain's memory and context" },
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: xl [-v] <subcommand> [args]\n\nxl full list of subcommands:\n\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, " %-18s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\nSee xl(1) (docs/man/xl.1.md) for the options of each command.\n");
}

int xl_read_exact(int fd, void *buf, size_t len)
{
    size_t off = 0;

    errno = 0;
    while (off < len) {
        ssize_t n = read(fd, (char *)buf + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

int xl_write_exact(int fd, const void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = write(fd, (const char *)buf + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

int xl_find_domain(const char *arg, uint32_t *domid)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);

    if (*arg && !*end) {
        if (libxl_domain_info(ctx, NULL, (uint32_t)v)) {
            fprintf(stderr, "xl: domain %lu does not exist\n", v);
            return -1;
        }
        *domid = (uint32_t)v;
        return 0;
    }
    if (libxl_name_to_domid(ctx, arg, domid)) {
        fprintf(stderr, "xl: no domain called '%s'\n", arg);
        return -1;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Progress on stderr: at most ~2 lines per second, plus the end of each pass. */
void xl_progress(void *opaque, const char *what, unsigned long done, unsigned long total)
{
    static double last, start, pass_start;
    static unsigned long last_done;
    static char last_what[64];
    static unsigned int iteration;
    static int checkpointing;
    double t = now_s();
    const char *prefix = opaque ? opaque : "xl";

    if (!start)
        start = t;
    if (!strcmp(what, "checkpoint")) {
        checkpointing = 1;
        if (xl_verbose || t - last >= 1.0 || done <= 1) {
            if (total)
                fprintf(stderr, "%s: checkpoint %lu (%.1f s; last downtime %.1f ms)\n", prefix,
                        done, t - start, total / 1000.0);
            else
                fprintf(stderr, "%s: checkpoint %lu (%.1f s)\n", prefix, done, t - start);
            last = t;
        }
        return;
    }
    if (checkpointing && !xl_verbose)
        return;   /* checkpoints: one line per checkpoint (above), not per pass */
    if (strcmp(what, last_what) || done < last_done) {
        iteration++;
        pass_start = t;
        snprintf(last_what, sizeof(last_what), "%s", what);
    }
    last_done = done;
    if (done == total || t - last >= 0.5) {
        double dt = t - pass_start;

        fprintf(stderr, "%s: %s (iteration %u): %lu/%lu pages (%lu%%), %.0f MiB/s\n", prefix,
                what, iteration, done, total, total ? done * 100 / total : 100,
                dt > 0.01 ? done * 4096.0 / dt / (1 << 20) : 0.0);
        last = t;
    }
}

int main(int argc, char **argv)
{
    int opt, rc;

    while ((opt = getopt(argc, argv, "+vh")) != -1) {
        switch (opt) {
        case 'v': xl_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[optind], cmds[i].name))
            continue;
        if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, NULL)) {
            fprintf(stderr, "xl: cannot init xl context\n");
            return 1;
        }
        libxl_ctx_set_verbosity(ctx, xl_verbose);
        argc -= optind;
        argv += optind;
        optind = 0;   /* full getopt re-initialisation (main used "+" mode) */
        rc = cmds[i].fn(argc, argv);
        libxl_ctx_free(ctx);
        return rc;
    }
    fprintf(stderr, "xl: command '%s' not implemented\n", argv[optind]);
    usage(stderr);
    return 2;
}
