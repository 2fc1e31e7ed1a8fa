/* xl save, xl restore. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"

#define NO_DOMID_IN_CONFIG \
    "the domain config here has no domain id to preserve (libxl_domain_create_info has none)"

/* The file is complete: leave the domain as asked (upstream's order: pause, then resume
 * with suspend_cancel, so a -p domain never runs again before it is unpaused). */
static int after_save(uint32_t domid, int checkpoint, int leavepaused)
{
    if (!checkpoint && !leavepaused)
        return libxl_domain_destroy(ctx, domid, NULL);
    if (leavepaused && libxl_domain_pause(ctx, domid, NULL))
        return -1;
    return libxl_domain_resume(ctx, domid, 1, NULL);
}

static int save_to(uint32_t domid, const char *file, libxl_domain_config *c)
{
    char *json = libxl_domain_config_to_json(ctx, c);
    int fd, rc = -1;

    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "Failed to open temp file %s for writing: %s\n", file, strerror(errno));
        goto out;
    }
    if (xl_write_savefile_header(fd, c)) {
        fprintf(stderr, "xl save: writing the header to %s: %s\n", file, strerror(errno));
        close(fd);
        goto out;
    }
    /* As upstream: mandatory flags / optional flags / optional data length. */
    fprintf(stderr, "Saving to %s new xl format (info 0x%x/0x0/%zu)\n", file,
            XL_MANDATORY_FLAG_STREAMv2 | XL_MANDATORY_FLAG_JSON,
            json ? 4 + strlen(json) + 1 : (size_t)0);
    libxl_ctx_set_progress(ctx, xl_progress, "Saving");
    rc = libxl_domain_suspend(ctx, domid, fd, 0, NULL) ? -1 : 0;
    if (close(fd) && !rc) {
        fprintf(stderr, "xl save: closing %s: %s\n", file, strerror(errno));
        rc = -1;
    }
    if (rc) {
        fprintf(stderr, "Failed to save domain %u: %s; the domain keeps running\n", domid,
                libxl_ctx_last_error(ctx));
        unlink(file);
    }
out:
    free(json);
    return rc;
}

int main_save(int argc, char **argv)
{
    libxl_domain_config c;
    uint32_t domid;
    int opt, checkpoint = 0, leavepaused = 0, rc = XL_EXIT_FAIL;
    const char *file;

    while ((opt = xl_getopt(argc, argv, "cpD", NULL, "save", 2, &rc)) >= 0) {
        switch (opt) {
        case 'c': checkpoint = 1; break;
        case 'p': leavepaused = 1; break;
        default: return xl_refuse_option("save", "-D", NO_DOMID_IN_CONFIG);
        }
    }
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (argc - optind > 3) {
        xl_help(stderr, "save");
        return XL_EXIT_FAIL;
    }
    if (argc - optind == 3) {
        fprintf(stderr, "xl save: a <ConfigFile> argument is not supported here: the "
                "domain's own config is saved\n");
        return XL_EXIT_USAGE;
    }
    if (xl_find_domain(argv[optind], &domid))
        return XL_EXIT_FAIL;
    file = argv[optind + 1];
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL)) {
        fprintf(stderr, "xl save: unable to retrieve domain %u's configuration\n", domid);
        return XL_EXIT_FAIL;
    }
    if (save_to(domid, file, &c))
        goto out;
    if (after_save(domid, checkpoint, leavepaused)) {
        fprintf(stderr, "Domain %u saved to %s, but then: %s\n", domid, file,
                libxl_ctx_last_error(ctx));
        goto out;
    }
    fprintf(stderr, "Domain %u saved to %s and %s\n", domid, file,
            leavepaused ? "left paused" : checkpoint ? "left running" : "destroyed");
    rc = XL_EXIT_OK;
out:
    libxl_domain_config_dispose(&c);
    return rc;
}

int main_restore(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "vncviewer", 0, 0, 'V' }, { "vncviewer-autopass", 0, 0, 'A' }, { 0, 0, 0, 0 } };
    libxl_domain_config c;
    libxl_domain_restore_params params;
    uint32_t domid;
    int opt, paused = 0, fd, rc = XL_EXIT_FAIL;
    const char *file;

    while ((opt = xl_getopt(argc, argv, "FcpdeVA", lopts, "restore", 1, &rc)) >= 0) {
        switch (opt) {
        case 'p': paused = 1; break;
        case 'd': libxl_ctx_set_verbosity(ctx, ++xl_verbose); break;
        case 'e': break;   /* how this xl always runs */
        case 'F':
            return xl_refuse_option("restore", "-F", "this xl has no domain monitor (it "
                                    "never stays in the background); leave -F out");
        case 'c': return xl_refuse_option("restore", "-c", "the guests here have no console");
        default:
            return xl_refuse_option("restore", opt == 'V' ? "-V" : "-A",
                                    "the guests here have no VNC display");
        }
    }
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (argc - optind > 2) {
        xl_help(stderr, "restore");
        return XL_EXIT_FAIL;
    }
    if (argc - optind == 2) {
        fprintf(stderr, "xl restore: a <ConfigFile> argument is not supported here: the "
                "saved config is used\n");
        return XL_EXIT_USAGE;
    }
    file = argv[optind];
    fd = open(file, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "Cannot open restore file %s: %s\n", file, strerror(errno));
        return XL_EXIT_FAIL;
    }
    if (xl_read_savefile_header(fd, &c, file)) {
        close(fd);
        return XL_EXIT_FAIL;
    }
    fprintf(stderr, "Loading new save file %s (new xl fmt info 0x%x/0x0/...)\n", file,
            XL_MANDATORY_FLAG_STREAMv2 | XL_MANDATORY_FLAG_JSON);
    libxl_domain_restore_params_init(&params);
    if (libxl_domain_create_restore(ctx, &c, &domid, fd, -1, &params, NULL, NULL)) {
        fprintf(stderr, "xl restore: restoring %s failed: %s (no domain was left behind)\n",
                file, libxl_ctx_last_error(ctx));
        goto out;
    }
    if (!paused && libxl_domain_unpause(ctx, domid, NULL)) {
        fprintf(stderr, "xl restore: domain %u was restored but could not be unpaused\n",
                domid);
        goto out;
    }
    fprintf(stderr, "Restored domain %s with id %u%s\n", c.c_info.name, domid,
            paused ? " (paused)" : "");
    rc = XL_EXIT_OK;
out:
    close(fd);
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&c);
    return rc;
}
