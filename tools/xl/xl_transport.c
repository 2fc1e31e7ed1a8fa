/*
 * The transport of xl migrate and xl remus: `sh -c <rune>` with the stream on its stdin
 * and the receiver's answers (and the COLO back channel) on its stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xl.h"

static pid_t transport_child;

char *xl_make_rune(const char *ssh, const char *host, int pass_tty, const char *args)
{
    char globals[32] = "";
    size_t n;
    char *r;

    if (!*ssh)
        return strdup(host);   /* as upstream: an empty -s runs <host> itself */
    /* The sender's own global options travel, as upstream's sender passes them. */
    n = (size_t)snprintf(globals, sizeof(globals), "%s%s", pass_tty ? " -t" : "",
                         xl_timestamps ? " -T" : "");
    if (xl_verbose > 0 && n + 3 < sizeof(globals)) {
        globals[n++] = ' ';
        globals[n++] = '-';
        for (int i = 0; i < xl_verbose && n + 1 < sizeof(globals); i++)
            globals[n++] = 'v';
        globals[n] = 0;
    }
    n = strlen(ssh) + strlen(host) + strlen(globals) + strlen(args) + 64;
    r = malloc(n);
    if (r)
        snprintf(r, n, "exec %s %s " XL_REMOTE_COMMAND "%s migrate-receive%s", ssh, host,
                 globals, args);
    return r;
}

int xl_transport_start(const char *rune, int *send_fd, int *recv_fd)
{
    int sendpipe[2] = { -1, -1 }, recvpipe[2] = { -1, -1 };
    pid_t pid;

    if (!rune || pipe(sendpipe) || pipe(recvpipe)) {
        perror("xl: transport pipe");
        goto fail;
    }
    pid = fork();
    if (pid < 0) {
        perror("xl: fork");
        goto fail;
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
    transport_child = pid;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (sendpipe[i] >= 0)
            close(sendpipe[i]);
        if (recvpipe[i] >= 0)
            close(recvpipe[i]);
    }
    return -1;
}

void xl_transport_reap(unsigned int grace_ms)
{
    int status = 0;
    pid_t r = 0;

    if (transport_child <= 0)
        return;
    for (unsigned int t = 0; grace_ms != XL_REAP_WAIT && t < grace_ms; t += 50) {
        if ((r = waitpid(transport_child, &status, WNOHANG)) != 0)
            break;
        usleep(50000);
    }
    if (r == 0 && grace_ms != XL_REAP_WAIT)
        kill(transport_child, SIGTERM);
    if ((r > 0 || waitpid(transport_child, &status, 0) == transport_child) && WIFEXITED(status) &&
        WEXITSTATUS(status) && xl_verbose)
        fprintf(stderr, "migration target process exited with status %d\n",
                WEXITSTATUS(status));
    transport_child = 0;
}

int xl_transport_preamble(int send_fd, int recv_fd, libxl_domain_config *c, const char *rune)
{
    char buf[sizeof(XL_MIGRATE_RECEIVER_BANNER)];
    size_t len = strlen(XL_MIGRATE_RECEIVER_BANNER);

    if (read_exact(recv_fd, buf, len) || memcmp(buf, XL_MIGRATE_RECEIVER_BANNER, len)) {
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

int xl_read_handshake(int fd, const char *expect, const char *what)
{
    size_t len = strlen(expect) + 1;   /* sent with sizeof: the NUL travels */
    char buf[128];

    if (len > sizeof(buf) || read_exact(fd, buf, len)) {
        fprintf(stderr, "%s: expected \"%s\", got end of stream\n", what, expect);
        errno = EPIPE;
        return -1;
    }
    if (memcmp(buf, expect, len)) {
        fprintf(stderr, "%s: expected \"%s\", got something else\n", what, expect);
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int xl_write_handshake(int fd, const char *msg)
{
    return write_exact(fd, msg, strlen(msg) + 1);
}
