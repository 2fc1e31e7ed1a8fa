/* xl: global options, command dispatch, common helpers. */
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
int xl_force;
int xl_dryrun;
int xl_progress_use_cr;
int xl_timestamps;

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

int main(int argc, char **argv)
{
    const struct xl_cmd_spec *cmd;
    int opt, rc;

    /* -h is ours (upstream has no global -h): the same as `xl help`. */
    while ((opt = getopt(argc, argv, "+vfNtTh")) != -1) {
        switch (opt) {
        case 'v': xl_verbose++; break;
        case 'f': xl_force = 1; break;
        case 'N': xl_dryrun = 1; break;
        case 't': xl_progress_use_cr = 1; break;
        case 'T': xl_timestamps = 1; break;
        case 'h': xl_help(stdout, NULL); return XL_EXIT_OK;
        default:
            fprintf(stderr, "xl: unknown global option; 'xl help' lists them\n");
            return XL_EXIT_FAIL;
        }
    }
    if (optind >= argc) {
        xl_help(stdout, NULL);
        return XL_EXIT_FAIL;
    }
    cmd = xl_cmd_lookup(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "xl: command \"%s\" not implemented; 'xl help' lists the commands\n",
                argv[optind]);
        return XL_EXIT_FAIL;
    }
    if (xl_dryrun && !cmd->can_dryrun) {
        fprintf(stderr, "xl %s: this command has no dry run (-N): nothing was done\n",
                cmd->name);
        return XL_EXIT_FAIL;
    }
    if (xl_log_setup()) {
        fprintf(stderr, "xl: setting up stderr: %s\n", strerror(errno));
        return XL_EXIT_FAIL;
    }
    rc = XL_EXIT_FAIL;
    if (cmd->fn == main_help || !libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, NULL)) {
        if (ctx)
            libxl_ctx_set_verbosity(ctx, xl_verbose);
        argc -= optind;
        argv += optind;
        optind = 0;   /* full getopt re-initialisation (main used "+" mode) */
        rc = cmd->fn(argc, argv);
        if (ctx)
            libxl_ctx_free(ctx);
    } else {
        fprintf(stderr, "xl: cannot init xl context\n");
    }
    fflush(stdout);
    xl_log_teardown();
    return rc;
}
