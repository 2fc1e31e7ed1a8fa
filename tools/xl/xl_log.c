/*
 * xl's stderr: -T puts a timestamp and xl's pid in front of every line (xl's and
 * libxl's own messages, which all go through stderr); progress lines are overwritten
 * in place (carriage return) with -t or when stderr is a terminal, as upstream.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xl.h"

static FILE *real_stderr;
static FILE *wrapped;
static int at_line_start = 1;
static int progress_pending;   /* a CR progress line is on screen, not ended */
static int writing_progress;
static size_t progress_len;

static int use_cr(void)
{
    return xl_progress_use_cr || isatty(STDERR_FILENO) == 1;
}

static int put(const char *buf, size_t len)
{
    return write_exact(STDERR_FILENO, buf, len);
}

static int put_prefix(void)
{
    char stamp[96];
    time_t now = time(NULL);
    struct tm tm;
    size_t n = 0;

    if (localtime_r(&now, &tm))
        n = strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %Z ", &tm);
    n += (size_t)snprintf(stamp + n, sizeof(stamp) - n, "[%ld] ", (long)getpid());
    return put(stamp, n < sizeof(stamp) ? n : sizeof(stamp) - 1);
}

static ssize_t wrapped_write(void *cookie, const char *buf, size_t len)
{
    size_t i = 0;

    (void)cookie;
    /* Another message after an unfinished progress line starts on a line of its own. */
    if (progress_pending && !writing_progress) {
        if (put("\n", 1))
            return -1;
        progress_pending = 0;
        at_line_start = 1;
    }
    while (i < len) {
        size_t j = i;

        if (buf[i] == '\r') {
            if (put("\r", 1))
                return -1;
            at_line_start = 1;
            i++;
            continue;
        }
        if (at_line_start && xl_timestamps && put_prefix())
            return -1;
        at_line_start = 0;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j < len && buf[j] == '\n') {
            j++;
            at_line_start = 1;
        }
        if (put(buf + i, j - i))
            return -1;
        i = j;
    }
    return (ssize_t)len;
}

int xl_log_setup(void)
{
    static cookie_io_functions_t io = { .write = wrapped_write };

    if (!xl_timestamps && !use_cr())
        return 0;
    wrapped = fopencookie(NULL, "w", io);
    if (!wrapped)
        return -1;
    setvbuf(wrapped, NULL, _IONBF, 0);
    real_stderr = stderr;
    stderr = wrapped;
    return 0;
}

void xl_log_teardown(void)
{
    if (!wrapped)
        return;
    if (progress_pending) {
        writing_progress = 1;
        fputc('\n', stderr);
        writing_progress = 0;
        progress_pending = 0;
    }
    stderr = real_stderr;
    fclose(wrapped);
    wrapped = NULL;
}

/* One progress line: scrolling, or overwriting the previous one (CR mode). */
static void progress_line(const char *line, int last)
{
    if (!wrapped) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    writing_progress = 1;
    fprintf(stderr, "\r%s", line);
    /* Blank out what is left of a longer previous line. */
    for (size_t n = strlen(line); n < progress_len; n++)
        fputc(' ', stderr);
    progress_len = strlen(line);
    if (last) {
        fputc('\n', stderr);
        progress_len = 0;
    }
    progress_pending = !last;
    writing_progress = 0;
}

/* Progress: at most ~2 lines per second, plus the end of each pass. */
void xl_progress(void *opaque, const char *what, unsigned long done, unsigned long total)
{
    static double last, start, pass_start;
    static unsigned long last_done;
    static char last_what[64];
    static unsigned int iteration;
    static int checkpointing;
    double t = clock_now_s();
    const char *prefix = opaque ? opaque : "xl";
    char line[256];

    if (!start)
        start = t;
    if (!strcmp(what, "checkpoint")) {
        checkpointing = 1;
        if (xl_verbose || t - last >= 1.0 || done <= 1) {
            if (total)
                snprintf(line, sizeof(line), "%s: checkpoint %lu (%.1f s; last downtime "
                         "%.1f ms)", prefix, done, t - start, total / 1000.0);
            else
                snprintf(line, sizeof(line), "%s: checkpoint %lu (%.1f s)", prefix, done,
                         t - start);
            progress_line(line, 0);
            last = t;
        }
        return;
    }
    if (checkpointing && !xl_verbose)
        return;   /* checkpoints: one line per checkpoint (above), not per pass */
    if (strcmp(what, last_what) || done < last_done) {
        iteration++;
        pass_start = t;
        snprintf(last_what, sizeof(last_what), "%s", what);
    }
    last_done = done;
    if (done == total || t - last >= 0.5) {
        double dt = t - pass_start;

        snprintf(line, sizeof(line), "%s: %s (iteration %u): %lu/%lu pages (%lu%%), "
                 "%.0f MiB/s", prefix, what, iteration, done, total,
                 total ? done * 100 / total : 100,
                 dt > 0.01 ? done * 4096.0 / dt / (1 << 20) : 0.0);
        progress_line(line, done == total);
        last = t;
    }
}
