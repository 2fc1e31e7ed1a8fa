/*
 * The secondary's side of a failover: whether this copy may take over, so that the
 * guest never runs twice (split brain) and, where that can be known, never nowhere.
 *
 * libxl holds the secondary at failover (paused, its output held back).  It takes over
 * only when the primary's death is certain:
 *   - the primary runs on this same host: it is gone (destroyed, dying or crashed);
 *     while it still runs, this copy is given up (the link or a helper failed, not
 *     the guest);
 *   - a fence script (migrate-receive --fence-script, from xl remus --fence-script)
 *     exits 0: it made sure the primary is dead, as a cluster's fence agent does;
 *   - an explicit `xl failover DOMAIN` on this host (after the operator made sure).
 * Otherwise the copy stays held, and this process waits for `xl failover`.
 * docs/man/xl.1.pod, section FAILOVER.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xl.h"

#define FENCE_TIMEOUT_MS 60000

static volatile sig_atomic_t hold_interrupted;

static void on_hold_signal(int sig)
{
    (void)sig;
    hold_interrupted = 1;
}

/* One host's state: the simulated hypervisor's directory, else /run/xl-colo. */
static const char *state_dir(void)
{
    const char *dir = getenv("SIMXEN_DIR");

    return dir && *dir ? dir : "/run/xl-colo";
}

/* Where a held secondary's request pipe lives. */
static void hold_fifo_path(uint32_t domid, char *buf, size_t len)
{
    snprintf(buf, len, "%s/xl-failover.%u", state_dir(), domid);
}

/* A primary is alive while it exists and has not died (crashed, powered off, dying). */
static int primary_alive(uint32_t domid)
{
    libxl_dominfo info;
    int alive;

    libxl_dominfo_init(&info);
    alive = !libxl_domain_info(ctx, &info, domid) && !info.dying &&
            !(info.shutdown && info.shutdown_reason != LIBXL_SHUTDOWN_REASON_SUSPEND);
    libxl_dominfo_dispose(&info);
    return alive;
}

/* Runs `script NAME DOMID`; 0 when it exited 0 within FENCE_TIMEOUT_MS. */
static int run_fence_script(const char *script, const char *name, uint32_t domid)
{
    char id[16];
    int status = 0, waited = 0;
    pid_t pid, r;

    snprintf(id, sizeof(id), "%u", domid);
    fprintf(stderr, "migration target: fencing the primary: %s %s %s\n", script, name, id);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl(script, script, name, id, (char *)NULL);
        fprintf(stderr, "migration target: cannot run the fence script %s: %s\n", script,
                strerror(errno));
        _exit(127);
    }
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && waited < FENCE_TIMEOUT_MS) {
        usleep(100000);
        waited += 100;
    }
    if (r == 0) {
        fprintf(stderr, "migration target: the fence script did not finish in %d s: "
                "killed\n", FENCE_TIMEOUT_MS / 1000);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "migration target: the fence script failed (%s %d)\n",
                r >= 0 && WIFSIGNALED(status) ? "signal" : "exit status",
                r >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return -1;
    }
    return 0;
}

enum decision { TAKE_OVER, GIVE_UP, HOLD, HOLD_DETACHED };

/* Waits for `xl failover [--release]` on this domain's request pipe. */
static enum decision wait_for_operator(uint32_t domid, const char *incoming)
{
    struct sigaction sa, old_int, old_term;
    enum decision d = HOLD;
    char path[512], log[520], line[32];
    int fd, null;

    hold_fifo_path(domid, path, sizeof(path));
    mkdir(state_dir(), 0755);   /* where it is missing */
    unlink(path);
    /* O_RDWR: the pipe never reports end-of-file between two writers. */
    if (mkfifo(path, 0600) || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        fprintf(stderr, "migration target: cannot create %s: %s; domain %s stays held "
                "(paused): destroy it or unpause it by hand\n", path, strerror(errno),
                incoming);
        return HOLD;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hold_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    fprintf(stderr, "migration target: domain %s (id %u) is held, paused at its last "
            "checkpoint. Take over with `xl failover %s` once the primary is known to be "
            "dead, or give it up with `xl failover --release %s` (log: %s.log).\n",
            incoming, domid, incoming, incoming, path);
    /* Wait in the background: the sender and its transport (ssh) can end meanwhile. */
    switch (fork()) {
    case -1:
        fprintf(stderr, "migration target: fork: %s; waiting here\n", strerror(errno));
        break;
    case 0:
        /* Nothing of the session's: an ssh session ends only when its output does. */
        setsid();
        if ((null = open("/dev/null", O_RDWR)) >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            close(null);
        }
        snprintf(log, sizeof(log), "%s.log", path);
        if ((null = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
            dup2(null, 2);
            close(null);
        }
        /* The hypervisor handles are the parent's: this process opens its own (the
         * parent's copies are left alone, not closed under it). */
        if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, NULL)) {
            fprintf(stderr, "migration target: cannot init a context to wait in; domain "
                    "%s stays held (paused)\n", incoming);
            unlink(path);
            _exit(XL_EXIT_FAIL);
        }
        libxl_ctx_set_verbosity(ctx, xl_verbose);
        break;
    default:
        close(fd);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return HOLD_DETACHED;
    }
    while (d == HOLD && !hold_interrupted) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 1000) <= 0) {
            if (libxl_domain_info(ctx, NULL, domid)) {
                fprintf(stderr, "migration target: the held domain %u is gone\n", domid);
                d = GIVE_UP;
            }
            continue;
        }
        n = read(fd, line, sizeof(line) - 1);
        if (n <= 0)
            continue;
        line[n] = 0;
        if (!strncmp(line, "takeover", 8))
            d = TAKE_OVER;
        else if (!strncmp(line, "release", 7))
            d = GIVE_UP;
    }
    close(fd);
    unlink(path);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (hold_interrupted)
        fprintf(stderr, "migration target: interrupted: domain %s stays held (paused)\n",
                incoming);
    return d;
}

int xl_receive_failover(uint32_t domid, const char *incoming, const char *name, int colo,
                        int paused, const uint32_t *local_primary, const char *fence_script)
{
    const char *mode = colo ? "COLO" : "Remus";
    enum decision d;

    if (local_primary) {
        d = primary_alive(*local_primary) ? GIVE_UP : TAKE_OVER;
        fprintf(stderr, "migration target: the primary (domain %u) %s on this host\n",
                *local_primary, d == GIVE_UP ? "still runs" : "is gone");
    } else if (fence_script && !run_fence_script(fence_script, name, domid)) {
        d = TAKE_OVER;
    } else {
        fprintf(stderr, "migration target: the primary's death is not certain (%s)\n",
                fence_script ? "its fence script failed" : "no fence script");
        d = wait_for_operator(domid, incoming);
    }
    if (d == HOLD || d == HOLD_DETACHED)
        return XL_EXIT_FAIL;
    if (d == GIVE_UP) {
        fprintf(stderr, "migration target: giving up the copy: destroying domain %u\n", domid);
        libxl_domain_destroy(ctx, domid, NULL);
        return XL_EXIT_FAIL;
    }
    if (libxl_domain_rename(ctx, domid, incoming, name))
        fprintf(stderr, "migration target: could not rename domain %u from %s to %s\n",
                domid, incoming, name);
    if (libxl_domain_takeover(ctx, domid, paused ? LIBXL_TAKEOVER_PAUSED : 0, NULL)) {
        fprintf(stderr, "migration target (%s): domain %u could not take over: %s\n", mode,
                domid, libxl_ctx_last_error(ctx));
        return XL_EXIT_FAIL;
    }
    if (colo)
        fprintf(stderr, "migration target: COLO failover: domain %s (id %u) continues "
                "here.\nThe guest is running after failover in COLO mode.\n", name, domid);
    else
        fprintf(stderr, "migration target: Remus failover for domain %u: running from the "
                "last complete checkpoint%s.\n", domid, paused ? " (paused)" : "");
    return XL_EXIT_OK;
}

int main_failover(int argc, char **argv)
{
    static const struct option lopts[] = { { "release", 0, 0, 'r' }, { 0, 0, 0, 0 } };
    const char *what = "takeover\n";
    char path[512];
    uint32_t domid;
    int opt, rc = XL_EXIT_FAIL, fd, i;

    while ((opt = xl_getopt(argc, argv, "r", lopts, "failover", 1, &rc)) >= 0)
        if (opt == 'r')
            what = "release\n";
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (xl_find_domain(argv[optind], &domid))
        return XL_EXIT_FAIL;
    hold_fifo_path(domid, path, sizeof(path));
    fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "xl failover: no receiver holds domain %u here (%s: %s)\n", domid,
                path, strerror(errno));
        return XL_EXIT_FAIL;
    }
    if (write(fd, what, strlen(what)) != (ssize_t)strlen(what)) {
        fprintf(stderr, "xl failover: writing to %s: %s\n", path, strerror(errno));
        close(fd);
        return XL_EXIT_FAIL;
    }
    close(fd);
    /* The receiver removes its pipe once it acted. */
    for (i = 0; i < 300 && access(path, F_OK) == 0; i++)
        usleep(100000);
    if (i == 300) {
        fprintf(stderr, "xl failover: the receiver of domain %u did not act in 30 s\n", domid);
        return XL_EXIT_FAIL;
    }
    fprintf(stderr, "xl failover: domain %u %s\n", domid,
            *what == 't' ? (libxl_domain_info(ctx, NULL, domid) ? "is gone" : "took over")
                         : "given up");
    return XL_EXIT_OK;
}
