/* libxl's side of the simulated NIC and the COLO compare proxy (libxl_colo_proxy.h). */
#include "libxl_colo_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simxen.h"
#include "simxen-net.h"
#include "libxl_test.h"
#include "xfault.h"
#include "xutil.h"

#ifndef COLO_PROXY_DEFAULT
#define COLO_PROXY_DEFAULT "colo-proxy"
#endif

int libxl__colo_net_epoch(uint32_t domid, uint32_t n)
{
    return simxen_net_set_epoch(NULL, domid, n);
}

int libxl__colo_proxy_checkpoint(int fd)
{
    char msg[64];

    if (ctlmsg_send(fd, "COLO_CHECKPOINT"))
        return -1;
    for (;;) {
        if (ctlmsg_recv(fd, msg, sizeof(msg), COLO_PROXY_ACK_TIMEOUT_MS))
            return -1;
        if (!strcmp(msg, "COLO_CHECKPOINT_DONE"))
            return 0;
        /* a DO_CHECKPOINT from before this checkpoint: stale */
    }
}

int libxl__colo_proxy_failover(uint32_t domid)
{
    struct simxen_net_ring *r = simxen_net_map(NULL, domid);
    int32_t pid;

    if (!r)
        return -1;
    pid = atomic_load(&r->consumer_pid);
    simxen_net_unmap(r);
    return pid > 0 ? kill(pid, SIGUSR1) : -1;
}

int libxl__colo_proxy_spawn(libxl_ctx *ctx, const char *mode, uint32_t domid, const char *out,
                            const char *addr, int *ctl_fd, char *err, size_t errlen)
{
    const char *bin = libxl__setting_str(ctx, LIBXL__COLO_PROXY), *dir = getenv("SIMXEN_DIR");
    const char *tmo = libxl__setting_str(ctx, LIBXL__COLO_PROXY_TIMEOUT_MS);
    const char *logp = libxl__setting_str(ctx, LIBXL__COLO_PROXY_LOG);
    int sv[2] = { -1, -1 }, is_primary = !strcmp(mode, "primary"), status;
    char dom[16], logpath[600], outpath[600], msg[64];
    pid_t pid;

    if (!bin)
        bin = COLO_PROXY_DEFAULT;
    if (!dir || !*dir)
        dir = SIMXEN_DEFAULT_DIR;
    snprintf(dom, sizeof(dom), "%u", domid);
    snprintf(logpath, sizeof(logpath), "%s/dom%u.proxy.log", dir, domid);
    /* a relative output path is relative to this host's state directory */
    if (out[0] != '/') {
        snprintf(outpath, sizeof(outpath), "%s/%s", dir, out);
        out = outpath;
    }
    if (is_primary && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        const char *argv[20];
        int a = 0, lfd;

        setsid();
        if (fork() != 0)
            _exit(0);
        lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (lfd >= 0) {
            dup2(lfd, 1);
            dup2(lfd, 2);
        }
        dup2(open("/dev/null", O_RDONLY), 0);
        if (is_primary)
            dup2(sv[1], 3);     /* clears close-on-exec */
        for (int fd = is_primary ? 4 : 3; fd < 1024; fd++)
            close(fd);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        argv[a++] = bin;
        argv[a++] = mode;
        argv[a++] = "--domain";
        argv[a++] = dom;
        argv[a++] = "--out";
        argv[a++] = out;
        if (addr) {
            argv[a++] = is_primary ? "--listen" : "--to";
            argv[a++] = addr;
        }
        if (is_primary) {
            argv[a++] = "--control-fd";
            argv[a++] = "3";
            if (tmo) {
                argv[a++] = "--timeout";
                argv[a++] = tmo;
            }
            if (xfault(XFAULT_PROXY_BYPASS))
                argv[a++] = "--bypass";
        }
        if (logp) {
            argv[a++] = "--log";
            argv[a++] = logp;
        }
        argv[a] = NULL;
        execv(bin, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    waitpid(pid, &status, 0);
    if (!is_primary)
        return 0;
    close(sv[1]);
    sv[1] = -1;
    if (ctlmsg_send(sv[0], "COLO_USERSPACE_PROXY_INIT") ||
        ctlmsg_recv(sv[0], msg, sizeof(msg), 5000) ||
        strcmp(msg, "COLO_USERSPACE_PROXY_INIT")) {
        snprintf(err, errlen, "the COLO proxy (%s) did not answer its init message: %s (see %s)",
                 bin, errno ? strerror(errno) : "wrong answer", logpath);
        goto fail;
    }
    *ctl_fd = sv[0];
    return 0;
 fail:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return -1;
}
