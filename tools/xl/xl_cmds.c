/* xl subcommands (docs/man/xl.1.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain_compare.h"
#include "xl.h"

#define NEED_ARGS(n, usage_str) do {                                                       \
        if (argc - optind < (n)) {                                                          \
            fprintf(stderr, "Usage: xl %s\n", usage_str);                                   \
            return 2;                                                                       \
        }                                                                                   \
    } while (0)

static int simple_opts(int argc, char **argv, const char *usage_str)
{
    int opt;

    while ((opt = getopt(argc, argv, "h")) != -1) {
        fprintf(stderr, "Usage: xl %s\n", usage_str);
        return opt == 'h' ? 0 : 2;
    }
    return -1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    if (n < 0 || n > (1 << 20)) {
        fclose(f);
        errno = EFBIG;
        return NULL;
    }
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* ---- create ---- */
int main_create(int argc, char **argv)
{
    const char *usage_str = "create [-p] [-q] [-f] <ConfigFile> [Variable=value ...]";
    libxl_domain_config c;
    char err[512], *text, *file = NULL;
    uint32_t domid;
    int opt, paused = 0, quiet = 0, rc;

    while ((opt = getopt(argc, argv, "hpqf:")) != -1) {
        switch (opt) {
        case 'p': paused = 1; break;
        case 'q': quiet = 1; break;
        case 'f': file = optarg; break;
        default: fprintf(stderr, "Usage: xl %s\n", usage_str); return opt == 'h' ? 0 : 2;
        }
    }
    if (!file) {
        NEED_ARGS(1, usage_str);
        file = argv[optind++];
    }
    text = read_file(file);
    if (!text) {
        fprintf(stderr, "Failed to read config file: %s: %s\n", file, strerror(errno));
        return 1;
    }
    /* Variable=value overrides: appended lines win. */
    for (; optind < argc; optind++) {
        size_t n = strlen(text) + strlen(argv[optind]) + 3;
        char *t = malloc(n);

        if (!strchr(argv[optind], '=')) {
            fprintf(stderr, "xl create: '%s' is not Variable=value\n", argv[optind]);
            return 2;
        }
        snprintf(t, n, "%s\n%s\n", text, argv[optind]);
        free(text);
        text = t;
    }
    if (xl_parse_config(file, text, &c, err, sizeof(err))) {
        fprintf(stderr, "Failed to parse config: %s\n", err);
        free(text);
        return 1;
    }
    free(text);
    rc = libxl_domain_create_new(ctx, &c, &domid, NULL, NULL);
    if (rc) {
        fprintf(stderr, "xl: failed to create domain '%s'\n", c.c_info.name);
        libxl_domain_config_dispose(&c);
        return 1;
    }
    if (paused && libxl_domain_pause(ctx, domid, NULL))
        return 1;
    if (!quiet)
        printf("Parsing config from %s\nCreated domain %s with id %u\n", file, c.c_info.name,
               domid);
    libxl_domain_config_dispose(&c);
    return 0;
}

/* ---- list ---- */
static void state_str(const libxl_dominfo *d, char s[7])
{
    s[0] = d->running ? 'r' : '-';
    s[1] = d->blocked ? 'b' : '-';
    s[2] = d->paused ? 'p' : '-';
    s[3] = d->shutdown && d->shutdown_reason != LIBXL_SHUTDOWN_REASON_CRASH ? 's' : '-';
    s[4] = d->shutdown && d->shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH ? 'c' : '-';
    s[5] = d->dying ? 'd' : '-';
    s[6] = 0;
}

int main_list(int argc, char **argv)
{
    static const struct option lopts[] = { { "long", 0, 0, 'l' }, { 0, 0, 0, 0 } };
    libxl_dominfo *list;
    int opt, n, details = 0, shown = 0;
    json_object *arr = NULL;

    while ((opt = getopt_long(argc, argv, "hl", lopts, NULL)) != -1) {
        switch (opt) {
        case 'l': details = 1; break;
        default: fprintf(stderr, "Usage: xl list [-l] [Domain ...]\n"); return opt == 'h' ? 0 : 2;
        }
    }
    list = libxl_list_domain(ctx, &n);
    if (!list) {
        fprintf(stderr, "libxl_list_domain failed.\n");
        return 1;
    }
    if (details)
        arr = json_object_new_array();
    else
        printf("%-40s %5s %5s %5s     %s %8s\n", "Name", "ID", "Mem", "VCPUs", "State",
               "Time(s)");
    for (int i = 0; i < n; i++) {
        char *name = libxl_domid_to_name(ctx, list[i].domid), st[7];
        int want = optind >= argc;

        for (int a = optind; a < argc && !want; a++) {
            char *end;
            unsigned long v = strtoul(argv[a], &end, 10);

            want = (!*end && v == list[i].domid) || (name && !strcmp(name, argv[a]));
        }
        if (!want) {
            free(name);
            continue;
        }
        shown++;
        state_str(&list[i], st);
        if (details) {
            libxl_domain_config c;
            json_object *o = json_object_new_object(), *s = json_object_new_object();

            json_object_object_add(o, "domid", json_object_new_int((int)list[i].domid));
            if (!libxl_retrieve_domain_configuration(ctx, list[i].domid, &c, NULL)) {
                char *js = libxl_domain_config_to_json(ctx, &c);

                json_object_object_add(o, "config", json_tokener_parse(js));
                free(js);
                libxl_domain_config_dispose(&c);
            }
            json_object_object_add(s, "state", json_object_new_string(st));
            json_object_object_add(s, "steps", json_object_new_int64((int64_t)list[i].cpu_time));
            json_object_object_add(s, "resumes",
                                   json_object_new_int64((int64_t)list[i].sim_resumes));
            json_object_object_add(s, "selfchecks_passed",
                                   json_object_new_int64((int64_t)list[i].sim_selfchecks_passed));
            json_object_object_add(s, "selfchecks_failed",
                                   json_object_new_int64((int64_t)list[i].sim_selfchecks_failed));
            json_object_object_add(s, "vcpu_alive", json_object_new_boolean(list[i].sim_vcpu_alive));
            json_object_object_add(o, "sim_status", s);
            json_object_array_add(arr, o);
        } else {
            printf("%-40s %5u %5llu %5d     %s %8.1f\n", name ? name : "?", list[i].domid,
                   (unsigned long long)(list[i].current_memkb / 1024), 1, st, 0.0);
        }
        free(name);
    }
    if (details) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_SPACED));
        json_object_put(arr);
    }
    libxl_dominfo_list_free(list, n);
    if (optind < argc && !shown) {
        fprintf(stderr, "xl list: no such domain: %s\n", argv[optind]);
        return 1;
    }
    return 0;
}

/* ---- destroy / pause / unpause ---- */
static int one_domain_cmd(int argc, char **argv, const char *usage_str,
                          int (*fn)(libxl_ctx *, uint32_t, const libxl_asyncop_how *))
{
    uint32_t domid;
    int r = simple_opts(argc, argv, usage_str);

    if (r >= 0)
        return r;
    NEED_ARGS(1, usage_str);
    if (xl_find_domain(argv[optind], &domid))
        return 1;
    return fn(ctx, domid, NULL) ? 1 : 0;
}

int main_destroy(int argc, char **argv)
{
    return one_domain_cmd(argc, argv, "destroy <Domain>", libxl_domain_destroy);
}
int main_pause(int argc, char **argv)
{
    return one_domain_cmd(argc, argv, "pause <Domain>", libxl_domain_pause);
}
int main_unpause(int argc, char **argv)
{
    return one_domain_cmd(argc, argv, "unpause <Domain>", libxl_domain_unpause);
}

/* ---- save / restore ---- */
int main_save(int argc, char **argv)
{
    const char *usage_str = "save [-c] [-p] <Domain> <CheckpointFile>";
    libxl_domain_config c;
    uint32_t domid;
    int opt, checkpoint = 0, leavepaused = 0, fd, rc;
    const char *file;

    while ((opt = getopt(argc, argv, "hcp")) != -1) {
        switch (opt) {
        case 'c': checkpoint = 1; break;
        case 'p': leavepaused = 1; break;
        default: fprintf(stderr, "Usage: xl %s\n", usage_str); return opt == 'h' ? 0 : 2;
        }
    }
    NEED_ARGS(2, usage_str);
    if (argc - optind > 2) {
        fprintf(stderr, "xl save: a config file argument is not supported; the domain's own "
                "config is saved\n");
        return 2;
    }
    if (xl_find_domain(argv[optind], &domid))
        return 1;
    file = argv[optind + 1];
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL))
        return 1;
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "Failed to open temp file %s for writing: %s\n", file, strerror(errno));
        return 1;
    }
    {
        char *json = libxl_domain_config_to_json(ctx, &c);

        /* As upstream: mandatory flags / optional flags / optional data length. */
        fprintf(stderr, "Saving to %s new xl format (info 0x%x/0x0/%zu)\n", file,
                XL_MANDATORY_FLAG_STREAMv2 | XL_MANDATORY_FLAG_JSON,
                json ? 4 + strlen(json) + 1 : (size_t)0);
        free(json);
    }
    if (xl_write_savefile_header(fd, &c)) {
        fprintf(stderr, "xl save: writing the header to %s: %s\n", file, strerror(errno));
        close(fd);
        return 1;
    }
    libxl_ctx_set_progress(ctx, xl_progress, "Saving");
    rc = libxl_domain_suspend(ctx, domid, fd, 0, NULL);
    if (close(fd) && !rc) {
        fprintf(stderr, "xl save: closing %s: %s\n", file, strerror(errno));
        rc = ERROR_FAIL;
    }
    if (rc) {
        fprintf(stderr, "Failed to save domain %u: %s; the domain keeps running\n", domid,
                libxl_ctx_last_error(ctx));
        unlink(file);
        libxl_domain_config_dispose(&c);
        return 1;
    }
    if (checkpoint) {
        libxl_domain_resume(ctx, domid, 1, NULL);
        if (leavepaused)
            libxl_domain_pause(ctx, domid, NULL);
        fprintf(stderr, "Domain %u saved to %s and left running%s\n", domid, file,
                leavepaused ? " (paused)" : "");
    } else {
        libxl_domain_destroy(ctx, domid, NULL);
        fprintf(stderr, "Domain %u saved to %s and destroyed\n", domid, file);
    }
    libxl_domain_config_dispose(&c);
    return 0;
}

int main_restore(int argc, char **argv)
{
    const char *usage_str = "restore [-p] [-e] [-d] <CheckpointFile>";
    libxl_domain_config c;
    libxl_domain_restore_params params;
    uint32_t domid;
    int opt, paused = 0, fd, rc;
    const char *file;

    while ((opt = getopt(argc, argv, "hpedFV")) != -1) {
        switch (opt) {
        case 'p': paused = 1; break;
        case 'e': case 'd': case 'F': case 'V': break;
        default: fprintf(stderr, "Usage: xl %s\n", usage_str); return opt == 'h' ? 0 : 2;
        }
    }
    NEED_ARGS(1, usage_str);
    if (argc - optind > 1) {
        fprintf(stderr, "xl restore: a config file argument is not supported; the saved "
                "config is used\n");
        return 2;
    }
    file = argv[optind];
    fd = open(file, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "Cannot open restore file %s: %s\n", file, strerror(errno));
        return 1;
    }
    if (xl_read_savefile_header(fd, &c, file)) {
        close(fd);
        return 1;
    }
    fprintf(stderr, "Loading new save file %s (new xl fmt info 0x%x/0x0/...)\n", file,
            XL_MANDATORY_FLAG_STREAMv2 | XL_MANDATORY_FLAG_JSON);
    libxl_domain_restore_params_init(&params);
    rc = libxl_domain_create_restore(ctx, &c, &domid, fd, -1, &params, NULL, NULL);
    close(fd);
    if (rc) {
        fprintf(stderr, "xl restore: restoring %s failed: %s (no domain was left behind)\n",
                file, libxl_ctx_last_error(ctx));
        libxl_domain_config_dispose(&c);
        return 1;
    }
    if (!paused && libxl_domain_unpause(ctx, domid, NULL))
        return 1;
    fprintf(stderr, "Restored domain %s with id %u%s\n", c.c_info.name, domid,
            paused ? " (paused)" : "");
    libxl_domain_config_dispose(&c);
    return 0;
}

/* ---- migrate ---- */
static pid_t migration_child;

static pid_t create_migration_child(const char *rune, int *send_fd, int *recv_fd)
{
    int sendpipe[2], recvpipe[2];
    pid_t pid;

    if (pipe(sendpipe) || pipe(recvpipe)) {
        perror("pipe");
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        /* Its own process group: a Ctrl-C for xl does not cut the transport under it. */
        setpgid(0, 0);
        dup2(sendpipe[0], 0);
        dup2(recvpipe[1], 1);
        close(sendpipe[0]); close(sendpipe[1]);
        close(recvpipe[0]); close(recvpipe[1]);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", rune, (char *)NULL);
        perror("exec /bin/sh");
        _exit(127);
    }
    close(sendpipe[0]);
    close(recvpipe[1]);
    fcntl(sendpipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(recvpipe[0], F_SETFD, FD_CLOEXEC);
    *send_fd = sendpipe[1];
    *recv_fd = recvpipe[0];
    migration_child = pid;
    return pid;
}

static void reap_migration_child(int kill_it)
{
    int status;

    if (migration_child <= 0)
        return;
    if (kill_it)
        kill(migration_child, SIGTERM);
    if (waitpid(migration_child, &status, 0) == migration_child && WIFEXITED(status) &&
        WEXITSTATUS(status) && xl_verbose)
        fprintf(stderr, "migration target process exited with status %d\n", WEXITSTATUS(status));
    migration_child = 0;
}

/* Wait for the receiver's banner, then send xl's header and the config. */
static int migrate_do_preamble(int send_fd, int recv_fd, libxl_domain_config *c,
                               const char *rune)
{
    char buf[sizeof(XL_MIGRATE_RECEIVER_BANNER)];
    size_t len = strlen(XL_MIGRATE_RECEIVER_BANNER);

    if (xl_read_exact(recv_fd, buf, len) || memcmp(buf, XL_MIGRATE_RECEIVER_BANNER, len)) {
        fprintf(stderr, "migration sender: did not get the receiver's banner from `%s`%s\n",
                rune, errno ? "" : " (the target exited or sent something else)");
        return -1;
    }
    if (xl_write_savefile_header(send_fd, c)) {
        fprintf(stderr, "migration sender: writing the header: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int read_string(int fd, const char *expect, const char *what)
{
    size_t len = strlen(expect) + 1;   /* sent with sizeof: the NUL travels */
    char buf[128];

    if (xl_read_exact(fd, buf, len)) {
        fprintf(stderr, "%s: expected \"%s\", got end of stream\n", what, expect);
        return -1;
    }
    if (memcmp(buf, expect, len)) {
        fprintf(stderr, "%s: expected \"%s\", got something else\n", what, expect);
        return -1;
    }
    return 0;
}

static char *make_rune(const char *ssh, const char *host, const char *args)
{
    size_t n = strlen(ssh) + strlen(host) + strlen(args) + 64;
    char *r = malloc(n);

    if (!*ssh)
        snprintf(r, n, "%s", host);   /* upstream: an empty -s runs <host> itself */
    else
        snprintf(r, n, "exec %s %s xl migrate-receive%s", ssh, host, args);
    return r;
}

int main_migrate(int argc, char **argv)
{
    static const struct option lopts[] = { { "debug", 0, 0, 0x100 }, { "live", 0, 0, 0x200 },
                                           { 0, 0, 0, 0 } };
    const char *usage_str = "migrate [-s <sshcommand>] [-e] [-F] [--debug] <Domain> <host>";
    const char *ssh = "ssh";
    libxl_domain_config c;
    char *rune, *away, *name;
    uint32_t domid;
    int opt, send_fd, recv_fd, rc, debug = 0, noremotedaemon = 0;
    char status;

    while ((opt = getopt_long(argc, argv, "hs:eFC:p", lopts, NULL)) != -1) {
        switch (opt) {
        case 's': ssh = optarg; break;
        case 'e': noremotedaemon = 1; break;
        case 'F': case 'p': case 0x200: break;
        case 0x100: debug = 1; break;
        case 'C': fprintf(stderr, "xl migrate: -C is not supported\n"); return 2;
        default: fprintf(stderr, "Usage: xl %s\n", usage_str); return opt == 'h' ? 0 : 2;
        }
    }
    NEED_ARGS(2, usage_str);
    if (xl_find_domain(argv[optind], &domid))
        return 1;
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL))
        return 1;
    name = strdup(c.c_info.name);
    rune = make_rune(ssh, argv[optind + 1], debug ? (noremotedaemon ? " -d -e" : " -d")
                                                  : (noremotedaemon ? " -e" : ""));
    signal(SIGPIPE, SIG_IGN);
    if (create_migration_child(rune, &send_fd, &recv_fd) < 0)
        return 1;
    if (migrate_do_preamble(send_fd, recv_fd, &c, rune)) {
        reap_migration_child(1);
        return 1;
    }
    libxl_ctx_set_progress(ctx, xl_progress, "migration sender");
    rc = libxl_domain_suspend(ctx, domid, send_fd, LIBXL_SUSPEND_LIVE, NULL);
    if (rc) {
        fprintf(stderr, "migration sender: libxl_domain_suspend failed (rc=%d): %s; the domain "
                "keeps running here\n", rc, libxl_ctx_last_error(ctx));
        close(send_fd);
        reap_migration_child(1);
        return 1;
    }
    fprintf(stderr, "migration sender: Target has acknowledged transfer.\n");
    if (read_string(recv_fd, XL_MIGRATE_RECEIVER_READY, "migration sender")) {
        fprintf(stderr, "migration sender: Target has unexpectedly died or failed; resuming "
                "domain %u here\n", domid);
        libxl_domain_resume(ctx, domid, 1, NULL);
        reap_migration_child(1);
        return 1;
    }
    away = malloc(strlen(name) + 16);
    sprintf(away, "%s--migratedaway", name);
    libxl_domain_rename(ctx, domid, name, away);
    fprintf(stderr, "migration sender: Giving target permission to start.\n");
    if (xl_write_exact(send_fd, XL_MIGRATE_PERMISSION, sizeof(XL_MIGRATE_PERMISSION)) ||
        read_string(recv_fd, XL_MIGRATE_REPORT, "migration sender") ||
        xl_read_exact(recv_fd, &status, 1)) {
        fprintf(stderr, "migration sender: Target status is unknown; the domain here is left "
                "suspended as %s (the target may be running it: check before resuming)\n",
                away);
        reap_migration_child(1);
        return 3;
    }
    if (status) {
        fprintf(stderr, "migration sender: Target reports startup failure (status %d); "
                "resuming domain %u here\n", status, domid);
        libxl_domain_rename(ctx, domid, away, name);
        libxl_domain_resume(ctx, domid, 1, NULL);
        reap_migration_child(1);
        return 1;
    }
    fprintf(stderr, "migration sender: Target reports successful startup.\n");
    libxl_domain_destroy(ctx, domid, NULL);
    close(send_fd);
    close(recv_fd);
    reap_migration_child(0);
    fprintf(stderr, "Migration successful.\n");
    libxl_domain_config_dispose(&c);
    free(away);
    free(name);
    free(rune);
    return 0;
}

int main_migrate_receive(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "colo", 0, 0, 0x100 }, { "coloft-script", 1, 0, 0x200 },
        { "userspace-colo-proxy", 0, 0, 0x300 }, { 0, 0, 0, 0 } };
    libxl_domain_config c;
    libxl_domain_restore_params params;
    char *incoming, *name;
    uint32_t domid;
    int opt, rc, remus = 0, colo = 0, paused = 0;
    char status;

    while ((opt = getopt_long(argc, argv, "Fedrph", lopts, NULL)) != -1) {
        switch (opt) {
        case 'F': case 'e': break;
        case 'd': libxl_ctx_set_verbosity(ctx, ++xl_verbose); break;
        case 'r': remus = 1; break;
        case 'p': paused = 1; break;
        case 0x100: colo = 1; break;
        case 0x200: case 0x300: break;
        default:
            fprintf(stderr, "Usage: xl migrate-receive [-F] [-e] [-d] [-r] [-p] [--colo]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (xl_write_exact(1, XL_MIGRATE_RECEIVER_BANNER, strlen(XL_MIGRATE_RECEIVER_BANNER)))
        return 1;
    fprintf(stderr, "migration target: Ready to receive domain.\n");
    if (xl_read_savefile_header(0, &c, "migration target"))
        return 1;
    if (!c.c_info.name || !*c.c_info.name) {
        fprintf(stderr, "migration target: the domain config in the stream has no name\n");
        return 1;
    }
    name = strdup(c.c_info.name);
    incoming = malloc(strlen(name) + 16);
    sprintf(incoming, "%s--incoming", name);
    free(c.c_info.name);
    c.c_info.name = strdup(incoming);
    libxl_domain_restore_params_init(&params);
    params.checkpointed_stream = colo ? LIBXL_CHECKPOINTED_STREAM_COLO
                                      : remus ? LIBXL_CHECKPOINTED_STREAM_REMUS
                                              : LIBXL_CHECKPOINTED_STREAM_NONE;
    libxl_ctx_set_progress(ctx, xl_progress, "migration target");
    rc = libxl_domain_create_restore(ctx, &c, &domid, 0, colo ? 1 : -1, &params, NULL, NULL);
    if (rc) {
        fprintf(stderr, "migration target: Domain creation failed (code %d): %s\n", rc,
                libxl_ctx_last_error(ctx));
        return 1;
    }
    if (colo || remus) {
        /* The stream ended: the primary or the link is gone.  Take over. */
        libxl_domain_rename(ctx, domid, incoming, name);
        libxl_domain_config_dispose(&c);
        if (colo) {
            fprintf(stderr, "migration target: COLO failover: domain %s (id %u) continues "
                    "here.\nThe guest is running after failover in COLO mode.\n", name, domid);
        } else {
            if (!paused)
                libxl_domain_unpause(ctx, domid, NULL);
            fprintf(stderr, "migration target: Remus failover for domain %u: running from "
                    "the last complete checkpoint%s.\n", domid, paused ? " (paused)" : "");
        }
        free(name);
        free(incoming);
        return 0;
    }
    fprintf(stderr, "migration target: Transfer complete, requesting permission to start "
            "domain.\n");
    if (xl_write_exact(1, XL_MIGRATE_RECEIVER_READY, sizeof(XL_MIGRATE_RECEIVER_READY)) ||
        read_string(0, XL_MIGRATE_PERMISSION, "migration target")) {
        fprintf(stderr, "migration target: the sender went away before giving permission; "
                "destroying the incoming domain %u\n", domid);
        libxl_domain_destroy(ctx, domid, NULL);
        return 1;
    }
    fprintf(stderr, "migration target: Got permission, starting domain.\n");
    libxl_domain_rename(ctx, domid, incoming, name);
    status = 0;
    if (!paused && libxl_domain_unpause(ctx, domid, NULL))
        status = 1;
    xl_write_exact(1, XL_MIGRATE_REPORT, sizeof(XL_MIGRATE_REPORT));
    xl_write_exact(1, &status, 1);
    fprintf(stderr, "migration target: Domain started successfully.\n");
    libxl_domain_config_dispose(&c);
    free(name);
    free(incoming);
    return status ? 1 : 0;
}

/* ---- remus ---- */
static libxl_ctx *remus_ctx;

static void remus_on_signal(int sig)
{
    (void)sig;
    if (remus_ctx)
        libxl_domain_remus_stop(remus_ctx);
}

int main_remus(int argc, char **argv)
{
    static const struct option lopts[] = { { "colo", 0, 0, 'c' }, { 0, 0, 0, 0 } };
    const char *usage_str =
        "remus [-i <ms>] [-s <sshcommand>] [-e] [-N <script>] [-F] [-b] [-n] [-d] [-c|--colo] "
        "[-p] <Domain> [<host>]";
    const char *ssh = "ssh", *host = NULL;
    libxl_domain_remus_info r_info;
    libxl_domain_config c;
    struct sigaction sa;
    char args[128], *rune = NULL;
    uint32_t domid;
    int opt, send_fd = -1, recv_fd = -1, rc, daemonize = 1, interval_set = 0, proxy = 0;
    int primary_gone;

    libxl_domain_remus_info_init(&r_info);
    while ((opt = getopt_long(argc, argv, "hFbundi:s:N:ecp", lopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            r_info.interval = atoi(optarg);
            if (r_info.interval <= 0) {
                fprintf(stderr, "xl remus: -i needs a positive number of milliseconds\n");
                return 2;
            }
            interval_set = 1;
            break;
        case 'F': libxl_defbool_set(&r_info.allow_unsafe, true); break;
        case 'b': libxl_defbool_set(&r_info.blackhole, true); break;
        case 'u': libxl_defbool_set(&r_info.compression, false); break;
        case 'n': libxl_defbool_set(&r_info.netbuf, false); break;
        case 'N': r_info.netbufscript = strdup(optarg); break;
        case 'd': libxl_defbool_set(&r_info.diskbuf, false); break;
        case 's': ssh = optarg; break;
        case 'e': daemonize = 0; break;
        case 'c': libxl_defbool_set(&r_info.colo, true); break;
        case 'p': proxy = 1; break;
        default: fprintf(stderr, "Usage: xl %s\n", usage_str); return opt == 'h' ? 0 : 2;
        }
    }
    if (libxl_defbool_val(r_info.colo)) {
        /* Unlike upstream, -i is allowed with -c: the COLO checkpoint period (checkpoints
         * also come earlier when the compare proxy asks for one). */
        if (libxl_defbool_val(r_info.blackhole) ||
            !libxl_defbool_is_default(r_info.netbuf) || !libxl_defbool_is_default(r_info.diskbuf)) {
            fprintf(stderr, "option -c is conflict with -d, -n or -b\n");
            return 2;
        }
        if (libxl_defbool_is_default(r_info.compression))
            libxl_defbool_set(&r_info.compression, false);
    } else {
        if (proxy) {
            fprintf(stderr, "option -p requires -c\n");
            return 2;
        }
        libxl_defbool_set(&r_info.colo, false);
        if (!interval_set)
            r_info.interval = 200;
    }
    NEED_ARGS(libxl_defbool_val(r_info.blackhole) ? 1 : 2, usage_str);
    if (xl_find_domain(argv[optind], &domid))
        return 1;
    if (argc - optind > 1)
        host = argv[optind + 1];
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL))
        return 1;
    signal(SIGPIPE, SIG_IGN);
    if (libxl_defbool_val(r_info.blackhole)) {
        send_fd = open("/dev/null", O_RDWR, 0644);
        if (send_fd < 0) {
            perror("failed to open /dev/null");
            return 1;
        }
    } else {
        if (libxl_defbool_val(r_info.colo))
            snprintf(args, sizeof(args), " --colo%s%s", proxy ? " --userspace-colo-proxy" : "",
                     daemonize ? "" : " -e");
        else
            snprintf(args, sizeof(args), " -r%s", daemonize ? "" : " -e");
        rune = make_rune(ssh, host, args);
        if (create_migration_child(rune, &send_fd, &recv_fd) < 0)
            return 1;
        if (migrate_do_preamble(send_fd, recv_fd, &c, rune)) {
            reap_migration_child(1);
            return 1;
        }
    }
    remus_ctx = ctx;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = remus_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "%s: protecting domain %u (%s) to %s, checkpoint interval %d ms\n",
            libxl_defbool_val(r_info.colo) ? "COLO" : "Remus", domid, c.c_info.name,
            host ? host : "/dev/null", r_info.interval ? r_info.interval : 200);
    libxl_ctx_set_progress(ctx, xl_progress,
                           libxl_defbool_val(r_info.colo) ? "COLO" : "Remus");
    rc = libxl_domain_remus_start(ctx, &r_info, domid, send_fd, recv_fd, NULL);
    primary_gone = libxl_domain_info(ctx, NULL, domid) != 0;
    /* Closing the stream is what tells the receiver to fail over.  With the primary
     * gone the receiver must live to take over: wait for it (a local one exits after
     * its failover), never kill it.  With the primary still here, stop it (no second
     * copy of the guest running from an old checkpoint beside the primary). */
    close(send_fd);
    if (recv_fd >= 0)
        close(recv_fd);
    reap_migration_child(rc != 0 && !primary_gone);
    libxl_domain_config_dispose(&c);
    libxl_domain_remus_info_dispose(&r_info);
    free(rune);
    if (primary_gone) {
        fprintf(stderr, "Primary domain has been destroyed.\n");
        return 0;
    }
    if (!rc) {
        fprintf(stderr, "Replication stopped; domain %u keeps running here, unprotected.\n",
                domid);
        return 0;
    }
    fprintf(stderr, "Backup failed? resuming domain at primary: domain %u keeps running here, "
            "unprotected.\n", domid);
    return 1;
}

/* ---- debug-digest (tests) ---- */
int main_debug_digest(int argc, char **argv)
{
    xc_interface *xch;
    uint64_t m, cdig;
    uint32_t domid;
    int r = simple_opts(argc, argv, "debug-digest <Domain>");

    if (r >= 0)
        return r;
    NEED_ARGS(1, "debug-digest <Domain>");
    if (xl_find_domain(argv[optind], &domid))
        return 1;
    xch = xhv_open(NULL);
    if (!xch || domain_digest(xch, domid, &m, &cdig)) {
        fprintf(stderr, "xl debug-digest: cannot read domain %u: %s\n", domid, strerror(errno));
        return 1;
    }
    printf("mem=%016llx ctx=%016llx\n", (unsigned long long)m, (unsigned long long)cdig);
    xhv_close(xch);
    return 0;
}
