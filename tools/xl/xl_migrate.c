/* xl migrate and its receiving end, xl migrate-receive (upstream's handshake). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"

/* After the receiver reported a startup failure: it destroys its copy and says so with
 * the permission string; only then may the domain run here again. */
static int resume_after_target_failure(int recv_fd, uint32_t domid, const char *name,
                                       const char *away)
{
    if (xl_read_handshake(recv_fd, XL_MIGRATE_PERMISSION, "migration sender"))
        return -1;
    fprintf(stderr, "migration sender: Trying to resume at our end.\n");
    libxl_domain_rename(ctx, domid, away, name);
    if (!libxl_domain_resume(ctx, domid, 1, NULL))
        fprintf(stderr, "migration sender: Resumed OK.\n");
    return 0;
}

static int migrate_domain(uint32_t domid, libxl_domain_config *c, const char *rune,
                          int debug)
{
    char *name = c->c_info.name, *away = NULL, status;
    int send_fd = -1, recv_fd = -1, rc = XL_EXIT_FAIL;
    size_t n;

    if (xl_transport_start(rune, &send_fd, &recv_fd))
        return XL_EXIT_FAIL;
    if (xl_transport_preamble(send_fd, recv_fd, c, rune)) {
        fprintf(stderr, "Migration failed: the domain keeps running here.\n");
        goto out_kill;
    }
    libxl_ctx_set_progress(ctx, xl_progress, "migration sender");
    if (libxl_domain_suspend(ctx, domid, send_fd,
                             LIBXL_SUSPEND_LIVE | (debug ? LIBXL_SUSPEND_DEBUG : 0), NULL)) {
        fprintf(stderr, "migration sender: libxl_domain_suspend failed: %s\n"
                "Migration failed: the domain keeps running here.\n",
                libxl_ctx_last_error(ctx));
        goto out_kill;
    }
    if (xl_read_handshake(recv_fd, XL_MIGRATE_RECEIVER_READY, "migration sender")) {
        fprintf(stderr, "Migration failed, resuming domain %u at sender.\n", domid);
        libxl_domain_resume(ctx, domid, 1, NULL);
        goto out_kill;
    }
    fprintf(stderr, "migration sender: Target has acknowledged transfer.\n");
    n = strlen(name) + sizeof("--migratedaway");
    away = malloc(n);
    if (!away || (snprintf(away, n, "%s--migratedaway", name),
                  libxl_domain_rename(ctx, domid, name, away))) {
        fprintf(stderr, "Migration failed (renaming the domain here), resuming domain %u "
                "at sender.\n", domid);
        libxl_domain_resume(ctx, domid, 1, NULL);
        goto out_kill;
    }
    /* From here on the target may be running the domain: never resume it here blindly. */
    fprintf(stderr, "migration sender: Giving target permission to start.\n");
    if (xl_write_handshake(send_fd, XL_MIGRATE_PERMISSION) ||
        xl_read_handshake(recv_fd, XL_MIGRATE_REPORT, "migration sender") ||
        read_exact(recv_fd, &status, 1))
        goto failed_badly;
    if (status) {
        fprintf(stderr, "migration sender: Target reports startup failure (status code %d).\n",
                status);
        if (resume_after_target_failure(recv_fd, domid, name, away))
            goto failed_badly;
        fprintf(stderr, "Migration failed due to problems at target.\n");
        goto out_kill;
    }
    fprintf(stderr, "migration sender: Target reports successful startup.\n");
    libxl_domain_destroy(ctx, domid, NULL);
    fprintf(stderr, "Migration successful.\n");
    rc = XL_EXIT_OK;
    close(send_fd);
    close(recv_fd);
    xl_transport_reap(XL_REAP_WAIT);
    goto out;
failed_badly:
    fprintf(stderr, "** Migration failed during the final handshake **\n"
            "The domain's state is unknown: here it is left suspended as %s; the target may "
            "be running it.\nCheck both hosts and resume at most one copy: two running "
            "copies would corrupt the guest's data.\n", away);
out_kill:
    close(send_fd);
    close(recv_fd);
    xl_transport_reap(0);
out:
    free(away);
    return rc;
}

int main_migrate(int argc, char **argv)
{
    static const struct option lopts[] = { { "debug", 0, 0, 0x100 }, { "live", 0, 0, 0x200 },
                                           { 0, 0, 0, 0 } };
    const char *ssh = "ssh";
    libxl_domain_config c;
    char args[16], *rune;
    uint32_t domid;
    int opt, rc = XL_EXIT_FAIL, debug = 0, daemonize = 1, paused = 0, pass_tty;

    while ((opt = xl_getopt(argc, argv, "FC:s:epD", lopts, "migrate", 2, &rc)) >= 0) {
        switch (opt) {
        case 's': ssh = optarg; break;
        case 'F': case 'e': daemonize = 0; break;
        case 'p': paused = 1; break;
        case 0x100: debug = 1; break;
        case 0x200: break;   /* xm's --live: migration is always live */
        case 'C':
            return xl_refuse_option("migrate", "-C", "the domain's own config is sent (this "
                                    "toolstack's configs only describe simulated guests)");
        default:
            return xl_refuse_option("migrate", "-D", "the domain config here has no domain "
                                    "id to preserve (libxl_domain_create_info has none)");
        }
    }
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (xl_find_domain(argv[optind], &domid))
        return XL_EXIT_FAIL;
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL)) {
        fprintf(stderr, "xl migrate: unable to retrieve domain %u's configuration\n", domid);
        return XL_EXIT_FAIL;
    }
    /* Upstream's order of the receiver's options: -e, -d, -p. */
    snprintf(args, sizeof(args), "%s%s%s", daemonize ? "" : " -e", debug ? " -d" : "",
             paused ? " -p" : "");
    pass_tty = xl_progress_use_cr || isatty(STDERR_FILENO) == 1;
    rune = xl_make_rune(ssh, argv[optind + 1], pass_tty, args);
    signal(SIGPIPE, SIG_IGN);
    rc = migrate_domain(domid, &c, rune, debug);
    free(rune);
    libxl_domain_config_dispose(&c);
    return rc;
}

/* Plain migration: wait for the sender's go, start the domain, report. */
static int receive_handshake(uint32_t domid, const char *incoming, const char *name,
                             int paused)
{
    char status = 0;
    int rc = 0;

    fprintf(stderr, "migration target: Transfer complete, requesting permission to start "
            "domain.\n");
    if (xl_write_handshake(1, XL_MIGRATE_RECEIVER_READY)) {
        fprintf(stderr, "migration target: the sender went away; destroying the incoming "
                "domain %u\n", domid);
        libxl_domain_destroy(ctx, domid, NULL);
        return XL_EXIT_FAIL;
    }
    if (xl_read_handshake(0, XL_MIGRATE_PERMISSION, "migration target"))
        rc = ERROR_FAIL;
    else
        fprintf(stderr, "migration target: Got permission, starting domain.\n");
    if (!rc)
        rc = libxl_domain_rename(ctx, domid, incoming, name);
    if (!rc && !paused)
        rc = libxl_domain_unpause(ctx, domid, NULL);
    if (!rc)
        fprintf(stderr, "migration target: Domain started successfully%s.\n",
                paused ? " (paused)" : "");
    /* As upstream, the status byte is the libxl error code, negated. */
    status = (char)(rc < 0 ? -rc : rc);
    if (xl_write_handshake(1, XL_MIGRATE_REPORT) || write_exact(1, &status, 1))
        return XL_EXIT_FAIL;
    if (!rc)
        return XL_EXIT_OK;
    fprintf(stderr, "migration target: Failure, destroying our copy.\n");
    if (libxl_domain_destroy(ctx, domid, NULL)) {
        fprintf(stderr, "migration target: Failed to destroy our copy.\n");
        return XL_EXIT_FAIL;
    }
    fprintf(stderr, "migration target: Cleanup OK, granting sender permission to resume.\n");
    xl_write_handshake(1, XL_MIGRATE_PERMISSION);
    return XL_EXIT_FAIL;
}

int main_migrate_receive(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "colo", 0, 0, 0x100 }, { "coloft-script", 1, 0, 0x200 },
        { "userspace-colo-proxy", 0, 0, 0x300 }, { "fence-script", 1, 0, 0x400 },
        { 0, 0, 0, 0 } };
    const char *fence = NULL;
    uint32_t primary;
    int primary_here = 0;
    libxl_domain_config c;
    libxl_domain_restore_params params;
    char *incoming = NULL, *name = NULL;
    uint32_t domid;
    int opt, rc = XL_EXIT_FAIL, remus = 0, colo = 0, paused = 0;
    size_t n;

    while ((opt = xl_getopt(argc, argv, "Fedrp", lopts, "migrate-receive", 0, &rc)) >= 0) {
        switch (opt) {
        case 'e': break;   /* how this xl always runs */
        case 'd': libxl_ctx_set_verbosity(ctx, ++xl_verbose); break;
        case 'r': remus = 1; break;
        case 'p': paused = 1; break;
        case 0x100: colo = 1; break;
        case 0x200:
            fprintf(stderr, "migration target: --coloft-script %s: not run (this "
                    "toolstack's COLO proxy is built in, it needs no setup script)\n", optarg);
            break;
        case 0x300: break;   /* the only COLO proxy here is the userspace one */
        case 0x400: fence = optarg; break;
        default:
            return xl_refuse_option("migrate-receive", "-F", "this xl has no domain "
                                    "monitor (it never stays in the background)");
        }
    }
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (argc - optind != 0) {
        xl_help(stderr, "migrate-receive");
        return XL_EXIT_FAIL;
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "migration target: Ready to receive domain.\n");
    if (write_exact(1, XL_MIGRATE_RECEIVER_BANNER, strlen(XL_MIGRATE_RECEIVER_BANNER)))
        return XL_EXIT_FAIL;
    if (xl_read_savefile_header(0, &c, "migration target"))
        return XL_EXIT_FAIL;
    libxl_domain_restore_params_init(&params);
    if (!c.c_info.name || !*c.c_info.name) {
        fprintf(stderr, "migration target: the domain config in the stream has no name\n");
        goto out;
    }
    name = strdup(c.c_info.name);
    n = strlen(c.c_info.name) + sizeof("--incoming");
    incoming = malloc(n);
    if (!name || !incoming)
        goto out;
    snprintf(incoming, n, "%s--incoming", name);
    free(c.c_info.name);
    c.c_info.name = strdup(incoming);
    /* A primary on this very host: its death is seen here, no fencing needed. */
    primary_here = (colo || remus) && !libxl_name_to_domid(ctx, name, &primary);
    params.hold_at_failover = colo || remus;
    params.checkpointed_stream = colo ? LIBXL_CHECKPOINTED_STREAM_COLO
                                      : remus ? LIBXL_CHECKPOINTED_STREAM_REMUS
                                              : LIBXL_CHECKPOINTED_STREAM_NONE;
    libxl_ctx_set_progress(ctx, xl_progress, "migration target");
    /* stdout is the back channel: COLO's, and where a Remus secondary accepts an offer
     * of checkpoint compression (upstream's Remus receiver writes nothing there). */
    if (libxl_domain_create_restore(ctx, &c, &domid, 0, colo || remus ? 1 : -1, &params, NULL,
                                    NULL)) {
        fprintf(stderr, "migration target: Domain creation failed: %s\n",
                libxl_ctx_last_error(ctx));
        goto out;
    }
    if (colo || remus)
        rc = xl_receive_failover(domid, incoming, name, colo, paused,
                                 primary_here ? &primary : NULL, fence);
    else
        rc = receive_handshake(domid, incoming, name, paused);
out:
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&c);
    free(name);
    free(incoming);
    return rc;
}
