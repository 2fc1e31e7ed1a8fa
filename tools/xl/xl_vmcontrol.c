/* xl create, destroy, pause, unpause. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

#define NO_MONITOR "this xl has no domain monitor (it never stays in the background); leave -F out"
#define NO_CONSOLE "the guests here have no console"
#define NO_VNC "the guests here have no VNC display"

static char *read_config_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20)) {
        errno = EFBIG;
        goto out;
    }
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        errno = EIO;
    }
out:
    fclose(f);
    return buf;
}

/* The config file's text with each Variable=value appended (later lines win). */
static char *config_with_overrides(const char *file, char **vars, int nvars)
{
    char *text = read_config_file(file);

    for (int i = 0; text && i < nvars; i++) {
        size_t n = strlen(text) + strlen(vars[i]) + 3;
        char *t = malloc(n);

        if (t)
            snprintf(t, n, "%s\n%s\n", text, vars[i]);
        free(text);
        text = t;
    }
    return text;
}

/* Dry run: the config as upstream prints it, {"domid": null, "config": {...}}. */
static int print_config(libxl_domain_config *c)
{
    char *js = libxl_domain_config_to_json(ctx, c);
    json_object *o = json_object_new_object(), *cfg = js ? json_tokener_parse(js) : NULL;
    int rc = -1;

    if (o && cfg) {
        json_object_object_add(o, "domid", NULL);
        json_object_object_add(o, "config", cfg);
        cfg = NULL;
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_SPACED));
        rc = 0;
    }
    json_object_put(cfg);
    json_object_put(o);
    free(js);
    return rc;
}

int main_create(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "quiet", 0, 0, 'q' }, { "defconfig", 1, 0, 'f' }, { "dryrun", 0, 0, 'n' },
        { "vncviewer", 0, 0, 'V' }, { "vncviewer-autopass", 0, 0, 'A' }, { 0, 0, 0, 0 } };
    libxl_domain_config c;
    char err[512], *text;
    const char *file = NULL;
    uint32_t domid;
    int opt, paused = 0, quiet = 0, dryrun = xl_dryrun, rc = XL_EXIT_FAIL;

    while ((opt = xl_getopt(argc, argv, "pqf:ndeFcVA", lopts, "create", 0, &rc)) >= 0) {
        switch (opt) {
        case 'p': paused = 1; break;
        case 'q': quiet = 1; break;
        case 'f': file = optarg; break;
        case 'n': dryrun = 1; break;
        case 'd': libxl_ctx_set_verbosity(ctx, ++xl_verbose); break;
        case 'e': break;   /* how this xl always runs */
        case 'F': return xl_refuse_option("create", "-F", NO_MONITOR);
        case 'c': return xl_refuse_option("create", "-c", NO_CONSOLE);
        default: return xl_refuse_option("create", opt == 'V' ? "-V" : "-A", NO_VNC);
        }
    }
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (!file) {
        if (optind >= argc) {
            fprintf(stderr, "'xl create' needs a config file (this toolstack has no "
                    "default guest).\n\n");
            xl_help(stderr, "create");
            return XL_EXIT_USAGE;
        }
        file = argv[optind++];
    }
    for (int i = optind; i < argc; i++) {
        if (!strchr(argv[i], '=')) {
            fprintf(stderr, "xl create: '%s' is not Variable=value\n", argv[i]);
            return XL_EXIT_USAGE;
        }
    }
    if (!quiet)
        fprintf(stderr, "Parsing config from %s\n", file);
    text = config_with_overrides(file, argv + optind, argc - optind);
    if (!text) {
        fprintf(stderr, "Failed to read config file: %s: %s\n", file, strerror(errno));
        return XL_EXIT_FAIL;
    }
    if (xl_parse_config(file, text, &c, err, sizeof(err))) {
        fprintf(stderr, "Failed to parse config: %s\n", err);
        goto out_text;
    }
    if (dryrun) {
        rc = print_config(&c) ? XL_EXIT_FAIL : XL_EXIT_OK;
        goto out;
    }
    if (libxl_domain_create_new(ctx, &c, &domid, NULL, NULL)) {
        fprintf(stderr, "xl: failed to create domain '%s'\n", c.c_info.name);
        goto out;
    }
    if (paused && libxl_domain_pause(ctx, domid, NULL)) {
        fprintf(stderr, "xl: domain %u was created but could not be paused: it runs\n", domid);
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "Created domain %s with id %u%s\n", c.c_info.name, domid,
                paused ? " (paused)" : "");
    rc = XL_EXIT_OK;
out:
    libxl_domain_config_dispose(&c);
out_text:
    free(text);
    return rc;
}

/* A domain argument naming domain 0 (which the simulated hypervisor does not have). */
static int names_domain0(const char *arg)
{
    return !strcmp(arg, "0") || !strcmp(arg, "Domain-0");
}

int main_destroy(int argc, char **argv)
{
    uint32_t domid;
    int opt, force = 0, rc = XL_EXIT_FAIL;

    while ((opt = xl_getopt(argc, argv, "f", NULL, "destroy", 1, &rc)) >= 0)
        force = 1;
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (names_domain0(argv[optind]) && !force) {
        fprintf(stderr, "xl destroy: not destroying domain 0 without -f (only a "
                "disaggregated toolstack, with a hardware domain other than 0, can)\n");
        return XL_EXIT_FAIL;
    }
    if (xl_find_domain(argv[optind], &domid))
        return XL_EXIT_FAIL;
    return libxl_domain_destroy(ctx, domid, NULL) ? XL_EXIT_FAIL : XL_EXIT_OK;
}

static int one_domain_cmd(int argc, char **argv, const char *cmd,
                          int (*fn)(libxl_ctx *, uint32_t, const libxl_asyncop_how *))
{
    uint32_t domid;
    int opt, rc = XL_EXIT_FAIL;

    while ((opt = xl_getopt(argc, argv, "", NULL, cmd, 1, &rc)) >= 0)
        ;
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (xl_find_domain(argv[optind], &domid))
        return XL_EXIT_FAIL;
    return fn(ctx, domid, NULL) ? XL_EXIT_FAIL : XL_EXIT_OK;
}

int main_pause(int argc, char **argv)
{
    return one_domain_cmd(argc, argv, "pause", libxl_domain_pause);
}

int main_unpause(int argc, char **argv)
{
    return one_domain_cmd(argc, argv, "unpause", libxl_domain_unpause);
}
