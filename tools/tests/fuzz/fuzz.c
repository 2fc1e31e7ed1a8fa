#include "fuzz.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

int fuzz_memfd(const char *name)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0) {
        perror("memfd_create");
        exit(2);
    }
    return fd;
}

void fuzz_memfd_load(int fd, const uint8_t *data, size_t size)
{
    size_t off = 0;

    if (ftruncate(fd, 0)) {
        perror("ftruncate");
        exit(2);
    }
    while (off < size) {
        ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

        if (n <= 0) {
            perror("pwrite");
            exit(2);
        }
        off += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET)) {
        perror("lseek");
        exit(2);
    }
}

void fuzz_memfd_reset(int fd)
{
    fuzz_memfd_load(fd, NULL, 0);
}

int fuzz_verbose(void)
{
    const char *v = getenv("FUZZ_VERBOSE");

    return v && *v && strcmp(v, "0");
}

static void quiet_logger(void *opaque, enum xhv_loglevel level, int errnoval,
                         const char *context, const char *msg)
{
    (void)opaque;
    (void)level;
    (void)errnoval;
    (void)context;
    (void)msg;
}

void fuzz_quiet(xc_interface *xch)
{
    if (!fuzz_verbose())
        xhv_set_logger(xch, quiet_logger, NULL);
}

void fuzz_fail(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    int n = snprintf(msg, sizeof(msg), "fuzz: ");

    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    /* Where the sanitizers report: libFuzzer's -close_fd_mask=2 (run.sh) closes stderr,
     * not that. */
    __sanitizer_report_error_summary(msg);
    abort();
}

size_t take(struct in *in, void *out, size_t n)
{
    size_t have = (size_t)(in->end - in->p) < n ? (size_t)(in->end - in->p) : n;

    memset(out, 0, n);
    memcpy(out, in->p, have);
    in->p += have;
    return have;
}
