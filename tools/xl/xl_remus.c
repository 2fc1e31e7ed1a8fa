/* xl remus: Remus or COLO replication of a domain to another host. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"

static libxl_ctx *remus_ctx;

static void remus_on_signal(int sig)
{
    (void)sig;
    if (remus_ctx)
        libxl_domain_remus_stop(remus_ctx);
}

/* Upstream's option rules; a conflict is reported and exits 255, as upstream. */
static int check_remus_options(libxl_domain_remus_info *r, int interval_set)
{
    if (libxl_defbool_val(r->userspace_colo_proxy) && !libxl_defbool_val(r->colo)) {
        fprintf(stderr, "Option -p must be used in conjunction with -c\n");
        return -1;
    }
    if (libxl_defbool_val(r->colo)) {
        /* Unlike upstream, -i is allowed with -c: the COLO checkpoint period (checkpoints
         * also come earlier when the compare proxy asks for one). */
        if (libxl_defbool_val(r->blackhole) || !libxl_defbool_is_default(r->netbuf) ||
            !libxl_defbool_is_default(r->diskbuf)) {
            fprintf(stderr, "option -c is conflict with -d, -n or -b\n");
            return -1;
        }
    } else {
        libxl_defbool_set(&r->colo, false);
        if (!interval_set)
            r->interval = 200;
    }
    return 0;
}

static int open_stream(libxl_domain_remus_info *r, libxl_domain_config *c, const char *ssh,
                       const char *host, int daemonize, const char *fence, int *send_fd,
                       int *recv_fd, char **rune)
{
    char args[96 + 256];
    size_t n;

    if (libxl_defbool_val(r->blackhole)) {
        *send_fd = open("/dev/null", O_RDWR, 0644);
        if (*send_fd < 0)
            perror("failed to open /dev/null");
        return *send_fd < 0 ? -1 : 0;
    }
    if (libxl_defbool_val(r->colo))
        snprintf(args, sizeof(args), " --colo%s%s",
                 libxl_defbool_val(r->userspace_colo_proxy) ? " --userspace-colo-proxy" : "",
                 daemonize ? "" : " -e");
    else
        snprintf(args, sizeof(args), " -r%s", daemonize ? "" : " -e");
    n = strlen(args);
    if (fence)
        snprintf(args + n, sizeof(args) - n, " --fence-script %s", fence);
    /* As upstream, remus passes none of the global options to the receiver. */
    *rune = xl_make_rune(ssh, host, 0, args);
    if (xl_transport_start(*rune, send_fd, recv_fd))
        return -1;
    if (xl_transport_preamble(*send_fd, *recv_fd, c, *rune)) {
        close(*send_fd);
        close(*recv_fd);
        *send_fd = *recv_fd = -1;
        xl_transport_reap(0);
        return -1;
    }
    return 0;
}

int main_remus(int argc, char **argv)
{
    static const struct option lopts[] = { { "colo", 0, 0, 'c' },
                                           { "fence-script", 1, 0, 0x100 }, { 0, 0, 0, 0 } };
    const char *ssh = "ssh", *host = NULL, *mode, *fence = NULL;
    libxl_domain_remus_info r_info;
    libxl_domain_config c;
    struct sigaction sa;
    char *rune = NULL, *end;
    uint32_t domid;
    int opt, send_fd = -1, recv_fd = -1, rc = XL_EXIT_FAIL, daemonize = 1, interval_set = 0;
    int primary_gone;
    long v;

    libxl_domain_remus_info_init(&r_info);
    while ((opt = xl_getopt(argc, argv, "Fbundi:s:N:ecp", lopts, "remus", 1, &rc)) >= 0) {
        switch (opt) {
        case 'i':
            v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v <= 0 || v > 3600000) {
                fprintf(stderr, "xl remus: -i needs a positive number of milliseconds\n");
                rc = XL_EXIT_USAGE;
                goto out_info;
            }
            r_info.interval = (int)v;
            interval_set = 1;
            break;
        case 'F': libxl_defbool_set(&r_info.allow_unsafe, true); break;
        case 'b': libxl_defbool_set(&r_info.blackhole, true); break;
        case 'u': libxl_defbool_set(&r_info.compression, false); break;
        case 'n': libxl_defbool_set(&r_info.netbuf, false); break;
        case 'd': libxl_defbool_set(&r_info.diskbuf, false); break;
        case 's': ssh = optarg; break;
        case 'e': daemonize = 0; break;
        case 'c': libxl_defbool_set(&r_info.colo, true); break;
        case 'p': libxl_defbool_set(&r_info.userspace_colo_proxy, true); break;
        case 0x100:
            /* it travels in a shell command line: a plain path only */
            if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789/._-") != strlen(optarg) ||
                strlen(optarg) > 200) {
                fprintf(stderr, "xl remus: --fence-script needs a plain path (letters, "
                        "digits, / . _ -; at most 200 characters): '%s'\n", optarg);
                rc = XL_EXIT_USAGE;
                goto out_info;
            }
            fence = optarg;
            break;
        default:
            rc = xl_refuse_option("remus", "-N", "no network buffering or COLO proxy scripts "
                                  "are run here (the COLO proxy, colo-proxy, is built in)");
            goto out_info;
        }
    }
    if (opt == XL_GETOPT_EXIT)
        goto out_info;
    if (check_remus_options(&r_info, interval_set)) {
        rc = XL_EXIT_REMUS_OPTS;
        goto out_info;
    }
    /* The host may be left out only with -b (upstream always wants it). */
    if (!libxl_defbool_val(r_info.blackhole) && argc - optind < 2) {
        fprintf(stderr, "'xl remus' needs a domain and a host (only -b needs no host).\n\n");
        xl_help(stderr, "remus");
        rc = XL_EXIT_USAGE;
        goto out_info;
    }
    rc = XL_EXIT_FAIL;
    if (xl_find_domain(argv[optind], &domid))
        goto out_info;
    if (argc - optind > 1)
        host = argv[optind + 1];
    if (libxl_retrieve_domain_configuration(ctx, domid, &c, NULL)) {
        fprintf(stderr, "xl remus: unable to retrieve domain %u's configuration\n", domid);
        goto out_info;
    }
    mode = libxl_defbool_val(r_info.colo) ? "COLO" : "Remus";
    signal(SIGPIPE, SIG_IGN);
    if (open_stream(&r_info, &c, ssh, host, daemonize, fence, &send_fd, &recv_fd, &rune))
        goto out_config;
    remus_ctx = ctx;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = remus_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "%s: protecting domain %u (%s) to %s, checkpoint interval %d ms\n", mode,
            domid, c.c_info.name, host ? host : "/dev/null",
            r_info.interval ? r_info.interval : 200);
    libxl_ctx_set_progress(ctx, xl_progress, (void *)mode);
    rc = libxl_domain_remus_start(ctx, &r_info, domid, send_fd, recv_fd, NULL);
    primary_gone = libxl_domain_info(ctx, NULL, domid) != 0;
    /* Closing the stream is what tells the receiver to fail over.  With the primary
     * gone the receiver must live to take over: wait for it (a local one exits after
     * its failover), never kill it.  With the primary still here, a local receiver sees
     * that and gives its copy up (give it time to); a remote one fences or holds its
     * copy whether its transport lives or not. */
    close(send_fd);
    if (recv_fd >= 0)
        close(recv_fd);
    xl_transport_reap(primary_gone || !rc ? XL_REAP_WAIT : *ssh ? 0 : 10000);
    if (primary_gone) {
        fprintf(stderr, "%s: Primary domain has been destroyed.\n", mode);
        rc = XL_EXIT_OK;
    } else if (!rc) {
        fprintf(stderr, "Replication stopped; domain %u keeps running here, unprotected.\n",
                domid);
        rc = XL_EXIT_OK;
    } else {
        fprintf(stderr, "%s: Backup failed? resuming domain at primary: domain %u keeps "
                "running here, unprotected.\n", mode, domid);
        rc = XL_EXIT_FAIL;
    }
out_config:
    libxl_domain_config_dispose(&c);
out_info:
    libxl_domain_remus_info_dispose(&r_info);
    free(rune);
    return rc;
}
