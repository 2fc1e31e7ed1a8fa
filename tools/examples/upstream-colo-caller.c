/*
 * A COLO caller written to upstream libxl 4.17's documented API only (libxl.h,
 * libxl_utils.h, xentoollog.h): it builds unchanged against Debian's libxenlight
 *   cc upstream-colo-caller.c $(pkg-config --cflags --libs xenlight xentoollog)
 * and against this toolstack's library with only the pkg-config name changed
 *   cc upstream-colo-caller.c $(pkg-config --cflags --libs xenlight-colo xentoollog)
 *
 * Usage: upstream-colo-caller DOMAIN SECONDS
 * Protects DOMAIN with COLO to a secondary on this host (a socketpair as the link),
 * lets it run SECONDS, then destroys the primary: the secondary must take over and
 * run.  Exit status 0 when it did.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

static libxl_ctx *new_ctx(xentoollog_logger_stdiostream **lg)
{
    libxl_ctx *ctx = NULL;

    *lg = xtl_createlogger_stdiostream(stderr, XTL_NOTICE, 0);
    if (!*lg || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)*lg)) {
        fprintf(stderr, "caller: cannot allocate a libxl context\n");
        exit(1);
    }
    return ctx;
}

static void free_ctx(libxl_ctx *ctx, xentoollog_logger_stdiostream *lg)
{
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
}

#ifdef LIBXL_HAVE_REMUS
/* The secondary: a domain built from the COLO stream; returns at failover. */
static int run_secondary(libxl_domain_config *dc, int stream_fd, int back_fd)
{
    xentoollog_logger_stdiostream *lg;
    libxl_ctx *ctx = new_ctx(&lg);
    libxl_domain_restore_params params;
    libxl_dominfo info;
    uint32_t domid;
    int rc;

    libxl_domain_restore_params_init(&params);
#ifdef LIBXL_HAVE_CHECKPOINTED_STREAM
    params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_COLO;
#endif
#ifdef LIBXL_HAVE_DOMAIN_CREATE_RESTORE_SEND_BACK_FD
    rc = libxl_domain_create_restore(ctx, dc, &domid, stream_fd, back_fd, &params, NULL,
                                     NULL);
#else
    (void)back_fd;
    rc = ERROR_NI;
#endif
    libxl_domain_restore_params_dispose(&params);
    if (rc) {
        fprintf(stderr, "caller: secondary: libxl_domain_create_restore: %d\n", rc);
        free_ctx(ctx, lg);
        return 1;
    }
    libxl_dominfo_init(&info);
    rc = libxl_domain_info(ctx, &info, domid);
    printf("secondary: took over as domain %u (uuid " LIBXL_UUID_FMT "), %s\n", domid,
           LIBXL_UUID_BYTES(info.uuid), !rc && info.running ? "running" : "not running");
    fflush(stdout);
    rc = !rc && info.running && !info.paused ? 0 : 1;
    libxl_dominfo_dispose(&info);
    free_ctx(ctx, lg);
    return rc;
}

/* The primary's replication: runs until it fails (the primary is destroyed). */
static int run_primary(uint32_t domid, int stream_fd, int back_fd)
{
    xentoollog_logger_stdiostream *lg;
    libxl_ctx *ctx = new_ctx(&lg);
    libxl_domain_remus_info ri;
    int rc;

    libxl_domain_remus_info_init(&ri);
    ri.interval = 100;
    libxl_defbool_set(&ri.colo, true);
    rc = libxl_domain_remus_start(ctx, &ri, domid, stream_fd, back_fd, NULL);
    printf("primary: libxl_domain_remus_start returned %d\n", rc);
    fflush(stdout);
    libxl_domain_remus_info_dispose(&ri);
    free_ctx(ctx, lg);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    xentoollog_logger_stdiostream *lg;
    libxl_ctx *ctx;
    libxl_domain_config dc;
    libxl_dominfo info;
    uint32_t domid;
    int main_sv[2], back_sv[2], status = 1;
    pid_t sec, pri;
    char *name;

    if (argc != 3) {
        fprintf(stderr, "usage: upstream-colo-caller DOMAIN SECONDS\n");
        return 2;
    }
#ifndef LIBXL_HAVE_REMUS
    fprintf(stderr, "caller: this libxl has no Remus/COLO (LIBXL_HAVE_REMUS)\n");
    return 1;
#else
    ctx = new_ctx(&lg);
    if (libxl_domain_qualifier_to_domid(ctx, argv[1], &domid)) {
        fprintf(stderr, "caller: no domain '%s'\n", argv[1]);
        return 1;
    }
    libxl_dominfo_init(&info);
    if (libxl_domain_info(ctx, &info, domid)) {
        fprintf(stderr, "caller: domain %u does not exist\n", domid);
        return 1;
    }
    name = libxl_domid_to_name(ctx, domid);
    printf("primary: domain %u (%s, uuid " LIBXL_UUID_FMT ")\n", domid, name ? name : "?",
           LIBXL_UUID_BYTES(info.uuid));
    libxl_dominfo_dispose(&info);
    libxl_domain_config_init(&dc);
#ifdef LIBXL_HAVE_RETRIEVE_DOMAIN_CONFIGURATION
    if (libxl_retrieve_domain_configuration(ctx, domid, &dc, NULL)) {
        fprintf(stderr, "caller: no configuration for domain %u\n", domid);
        return 1;
    }
#endif
    /* the secondary runs on the same host: it needs a name of its own */
    free(dc.c_info.name);
    dc.c_info.name = malloc(strlen(name ? name : "x") + sizeof("--incoming"));
    sprintf(dc.c_info.name, "%s--incoming", name ? name : "x");
    free(name);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, main_sv) ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, back_sv)) {
        perror("caller: socketpair");
        return 1;
    }
    fflush(stdout);
    sec = fork();
    if (sec == 0) {
        close(main_sv[0]);
        close(back_sv[0]);
        _exit(run_secondary(&dc, main_sv[1], back_sv[1]));
    }
    pri = fork();
    if (pri == 0) {
        close(main_sv[1]);
        close(back_sv[1]);
        _exit(run_primary(domid, main_sv[0], back_sv[0]));
    }
    close(main_sv[0]);
    close(main_sv[1]);
    close(back_sv[0]);
    close(back_sv[1]);
    if (sec < 0 || pri < 0) {
        perror("caller: fork");
        return 1;
    }
    sleep((unsigned int)atoi(argv[2]));
    /* the primary is lost */
    printf("primary: destroying domain %u\n", domid);
    fflush(stdout);
    libxl_domain_destroy(ctx, domid, NULL);
    if (waitpid(sec, &status, 0) != sec || !WIFEXITED(status))
        status = 1;
    else
        status = WEXITSTATUS(status);
    waitpid(pri, NULL, 0);
    libxl_domain_config_dispose(&dc);
    free_ctx(ctx, lg);
    printf("caller: %s\n", status ? "FAILED" : "the secondary took over");
    return status;
#endif
}
