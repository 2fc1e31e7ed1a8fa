/*
 * dom0 memory canary for the real-Xen harness (dom0-init.sh runs it for the whole plan).
 *
 *   dom0-canary run [-m MiB] [-d DIR] [-e FILE]  resident checker (log on stdout;
 *                                       FILE: the harness's stderr, followed)
 *   dom0-canary probe [-m MiB] [-i]     one short-lived process: fill, hold, verify
 *   dom0-canary segv                    die of a fault (proves the kernel-log path)
 *   dom0-canary selftest                offline: a flipped byte must be found
 *
 * Why this shape: the defect it watches for gave fresh dom0 processes bad memory
 * (busybox grep/awk crashed right after a COLO checkpoint).  So the resident process
 * holds a buffer whose frames it keeps recycling (unmap a chunk, map a fresh one, fill
 * it), and small slots it replaces at every slice (the allocator's most recently freed
 * frames): frames the kernel freed a moment ago, the kind fresh processes get, enter
 * the checked set continuously, not only the frames it got at start.  Every pattern word
 * encodes its chunk, generation and offset, so a report says what should have been
 * there.  Beside it, short-lived probe processes (fork + exec: fresh mm, fresh heap) fill
 * pages, hold them a while and check them; and the kernel log is read for processes
 * that died of a fault (segfault, general protection, traps, bad page state, OOM kills).
 *
 * Reports go to stdout, one line each, prefixed "@@CANARY"; counters go to
 * DIR/canary.stat (key=value lines, replaced atomically) for the harness, which reads
 * them at every step boundary.  The phase written into DIR/canary.phase by the harness
 * is quoted in every report: the step and the last result marked in it.
 * SIGUSR1 flips one byte of the resident buffer through /proc/self/mem (a second path
 * to the same frame, as a foreign writer would be); SIGUSR2 makes the next probe do the
 * same to its own memory.  Both are counted like any other violation: the harness's
 * self-test step expects exactly those.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define CHUNK (1UL << 20)
#define PROBE_EXIT_BAD 3

/* One report line: on stdout (the serial console, with its time stamp) and appended to
 * DIR/canary.log (the harness quotes the step's lines from there). */
static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *dir = "/run";
static FILE *logf;
static char self_path[4096];

static void report(const char *fmt, ...)
{
    va_list ap;

    if (!logf) {
        char path[4200];

        snprintf(path, sizeof(path), "%s/canary.log", dir);
        logf = fopen(path, "a");
        if (logf)
            setvbuf(logf, NULL, _IOLBF, 0);
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    if (logf && logf != stdout) {
        va_start(ap, fmt);
        vfprintf(logf, fmt, ap);
        va_end(ap);
    }
}

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser: every bit of the input reaches every bit of the word */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t pattern(uint64_t seed, uint64_t word)
{
    return mix(seed ^ (word * 0x9e3779b97f4a7c15ULL));
}

static void fill(uint64_t *p, size_t bytes, uint64_t seed)
{
    for (size_t i = 0; i < bytes / 8; i++)
        p[i] = pattern(seed, i);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void read_phase(char *buf, size_t len)
{
    char path[4200];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/canary.phase", dir);
    snprintf(buf, len, "?");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0) {
        snprintf(buf, len, "?");
        return;
    }
    buf[n] = 0;
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == ' ')
            *c = *c == ' ' ? '_' : 0;
}

/* The pseudo-physical frame behind a virtual address (root: /proc/self/pagemap gives
 * PFNs to CAP_SYS_ADMIN).  In a PV dom0 that is the pfn, not the machine frame. */
static long long pfn_of(const void *va)
{
    uint64_t e;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    off_t off = (off_t)((uintptr_t)va / PAGE) * 8;

    if (fd < 0)
        return -1;
    if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e)) {
        close(fd);
        return -1;
    }
    close(fd);
    if (!(e >> 63))
        return -2;                      /* not present */
    return (long long)(e & ((1ULL << 55) - 1));
}

/*
 * Check one page against its pattern.  On a mismatch: one report line with the
 * virtual address, the frame, how many bytes differ, the first ones (expected/found)
 * and what the page holds around the first difference (hex and text: a ring page of a
 * guest shows as its text), then the page is put back so the next write shows anew.
 * Returns the number of differing bytes.
 */
static size_t check_page(uint64_t *pg, uint64_t seed, uint64_t word0, const char *who,
                         const char *phase)
{
    size_t ndiff = 0, first = SIZE_MAX;
    char exp_found[200] = "", ctx[200] = "", txt[80] = "";
    size_t ef = 0;

    for (size_t i = 0; i < PAGE / 8; i++) {
        uint64_t want = pattern(seed, word0 + i);

        if (pg[i] == want)
            continue;
        for (int b = 0; b < 8; b++) {
            uint8_t w = (uint8_t)(want >> (8 * b)), f = (uint8_t)(pg[i] >> (8 * b));

            if (w == f)
                continue;
            if (first == SIZE_MAX)
                first = i * 8 + (size_t)b;
            if (ndiff < 8 && ef < sizeof(exp_found) - 24)
                ef += (size_t)snprintf(exp_found + ef, sizeof(exp_found) - ef, "%s+%#zx:%02x>%02x",
                                       ndiff ? "," : "", i * 8 + (size_t)b, w, f);
            ndiff++;
        }
    }
    if (!ndiff)
        return 0;
    {
        const uint8_t *bp = (const uint8_t *)pg;
        size_t s = first & ~(size_t)31, c = 0, t = 0;

        for (size_t k = s; k < s + 32 && k < PAGE; k++) {
            c += (size_t)snprintf(ctx + c, sizeof(ctx) - c, "%02x", bp[k]);
            txt[t++] = (bp[k] >= 0x20 && bp[k] < 0x7f && bp[k] != ' ') ? (char)bp[k] : '.';
        }
        txt[t] = 0;
    }
    report("@@CANARY BAD %s phase=%s pid=%d va=%p pfn=%#llx bytes=%zu first=+%#zx "
           "diffs=%s found32=%s text=%s\n", who, phase, (int)getpid(), (void *)pg,
           (long long)pfn_of(pg), ndiff, first, exp_found, ctx, txt);
    for (size_t i = 0; i < PAGE / 8; i++)
        pg[i] = pattern(seed, word0 + i);
    return ndiff;
}

/*
 * A freshly mapped anonymous page must read as zero until we write it: the kernel
 * zeroed it when it handed the frame over.  Anything else is a write into the frame by
 * someone who still had it after it was freed (the crashed busybox tools were fresh
 * processes, whose bss, heap and stack start as such zero pages).  Returns the number
 * of pages that were not zero; each is reported like a pattern mismatch.
 */
static size_t check_zero(uint64_t *p, size_t bytes, const char *who, const char *phase)
{
    size_t bad = 0;

    for (size_t off = 0; off < bytes; off += PAGE) {
        const uint64_t *pg = p + off / 8;
        const uint8_t *bp = (const uint8_t *)pg;
        size_t ndiff = 0, first = SIZE_MAX, ef = 0;
        char vals[160] = "", ctx[80] = "", txt[40] = "";

        for (size_t i = 0; i < PAGE / 8; i++)
            if (pg[i])
                goto dirty;
        continue;
 dirty:
        for (size_t k = 0; k < PAGE; k++) {
            if (!bp[k])
                continue;
            if (first == SIZE_MAX)
                first = k;
            if (ndiff < 8 && ef < sizeof(vals) - 16)
                ef += (size_t)snprintf(vals + ef, sizeof(vals) - ef, "%s+%#zx:%02x",
                                       ndiff ? "," : "", k, bp[k]);
            ndiff++;
        }
        for (size_t k = first & ~(size_t)31, c = 0, t = 0; k < (first & ~(size_t)31) + 32 && k < PAGE; k++) {
            c += (size_t)snprintf(ctx + c, sizeof(ctx) - c, "%02x", bp[k]);
            txt[t++] = (bp[k] >= 0x21 && bp[k] < 0x7f) ? (char)bp[k] : '.';
            txt[t] = 0;
        }
        report("@@CANARY BAD %s-zero phase=%s pid=%d va=%p pfn=%#llx bytes=%zu first=+%#zx "
               "nonzero=%s found32=%s text=%s\n", who, phase, (int)getpid(), (const void *)pg,
               (long long)pfn_of(pg), ndiff, first, vals, ctx, txt);
        bad++;
    }
    return bad;
}

/* Flip one byte at p through /proc/self/mem: the kernel writes the frame through its
 * own mapping, not through the one the checker reads. */
static int flip_via_proc(volatile uint8_t *p)
{
    int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    uint8_t v = (uint8_t)(*p ^ 0x5a);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = pwrite(fd, &v, 1, (off_t)(uintptr_t)p);
    close(fd);
    return n == 1 ? 0 : -1;
}

/* ---- probe ---------------------------------------------------------------------------- */

static int probe(size_t mib, bool inject, long hold_ms)
{
    size_t bytes = mib << 20, nblk = 64, bad = 0;
    uint64_t seed = mix((uint64_t)getpid() * 1315423911ULL ^ (uint64_t)(now_s() * 1e6));
    uint64_t *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    uint64_t *blk[64];
    char phase[256];

    read_phase(phase, sizeof(phase));
    if (buf == MAP_FAILED) {
        report("@@CANARY ERR probe phase=%s mmap %zu MiB: %s\n", phase, mib, strerror(errno));
        return 2;
    }
    if (inject)
        flip_via_proc((uint8_t *)buf + 77);
    sleep_ms(hold_ms / 2);
    read_phase(phase, sizeof(phase));
    bad += check_zero(buf, bytes, "probe", phase);
    fill(buf, bytes, seed);
    /* the heap as well: grep's "malloc(): invalid size" was heap metadata gone bad */
    for (size_t k = 0; k < nblk; k++) {
        blk[k] = malloc(PAGE * 4);
        if (blk[k])
            fill(blk[k], PAGE * 4, seed ^ (k + 1));
    }
    if (inject)
        flip_via_proc((uint8_t *)buf + bytes / 2 + 123);
    /* Half the buffer is also copied on write into a child: the kernel copies each
     * page into a frame it has just allocated (what a forked shell gets), and the
     * child checks the copies. */
    pid_t kid = fork();

    if (kid == 0) {
        size_t kbad = 0;

        for (size_t off = 0; off < bytes / 2; off += PAGE)
            ((volatile uint64_t *)buf)[off / 8 + 1] = buf[off / 8 + 1]; /* a COW fault, same value */
        sleep_ms(hold_ms);
        read_phase(phase, sizeof(phase));
        for (size_t off = 0; off < bytes / 2; off += PAGE)
            kbad += check_page(buf + off / 8, seed, off / 8, "probe-cow", phase) ? 1 : 0;
        _exit(kbad ? PROBE_EXIT_BAD : 0);
    }
    sleep_ms(hold_ms);
    read_phase(phase, sizeof(phase));
    for (size_t off = 0; off < bytes; off += PAGE)
        bad += check_page(buf + off / 8, seed, off / 8, "probe", phase) ? 1 : 0;
    if (kid > 0) {
        int ks;

        if (waitpid(kid, &ks, 0) == kid && !(WIFEXITED(ks) && WEXITSTATUS(ks) == 0)) {
            if (!(WIFEXITED(ks) && WEXITSTATUS(ks) == PROBE_EXIT_BAD))
                report("@@CANARY PROBE-DIED phase=%s pid=%d (copy-on-write child) status %#x\n",
                       phase, (int)kid, ks);
            bad++;
        }
    }
    for (size_t k = 0; k < nblk; k++) {
        if (!blk[k])
            continue;
        for (size_t i = 0; i < (PAGE * 4) / 8; i++)
            if (blk[k][i] != pattern(seed ^ (k + 1), i)) {
                report("@@CANARY BAD probe-heap phase=%s pid=%d va=%p word=%zu "
                       "expected=%016" PRIx64 " found=%016" PRIx64 "\n", phase, (int)getpid(),
                       (void *)&blk[k][i], i, pattern(seed ^ (k + 1), i), blk[k][i]);
                bad++;
                break;
            }
        free(blk[k]);
    }
    fflush(stdout);
    return bad ? PROBE_EXIT_BAD : 0;
}

/* ---- resident ------------------------------------------------------------------------- */

struct chunk {
    uint64_t *p;
    uint64_t seed;
};

static struct {
    unsigned long passes, pages_checked, recycled, probes, bad, bad_pages, probe_bad,
        probe_crash, faults;
} st;
static volatile sig_atomic_t want_inject, want_probe_inject;

static void on_usr1(int s) { (void)s; want_inject = 1; }
static void on_usr2(int s) { (void)s; want_probe_inject = 1; }

static void write_stat(const char *phase)
{
    char path[4200], tmp[4300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/canary.stat", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "CANARY_PID=%d\nCANARY_PASSES=%lu\nCANARY_PAGES=%lu\nCANARY_RECYCLED=%lu\n"
            "CANARY_PROBES=%lu\nCANARY_BAD=%lu\nCANARY_BAD_PAGES=%lu\nCANARY_PROBE_BAD=%lu\n"
            "CANARY_PROBE_CRASH=%lu\nCANARY_FAULTS=%lu\nCANARY_PHASE=%s\n", (int)getpid(),
            st.passes, st.pages_checked, st.recycled, st.probes, st.bad, st.bad_pages,
            st.probe_bad, st.probe_crash, st.faults, phase);
    if (fclose(f) == 0)
        rename(tmp, path);
}

/* Kernel-log lines that mean a process (or the kernel) met bad memory. */
static bool fault_line(const char *msg)
{
    static const char *const pat[] = {
        "segfault at", "traps:", "general protection", "invalid opcode", "Bad page",
        "BUG:", "Oops", "Out of memory", "Killed process", "bad pmd", "bad pte",
        "Bad rss-counter", "page dumped because", "unable to handle",
    };

    for (size_t i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
        if (strstr(msg, pat[i]))
            return true;
    return false;
}

static void read_kmsg(int fd, const char *phase)
{
    char rec[2048];

    if (fd < 0)
        return;
    for (;;) {
        ssize_t n = read(fd, rec, sizeof(rec) - 1);
        char *msg;

        if (n < 0 && errno == EPIPE)
            continue;                   /* overwritten records: read on */
        if (n <= 0)
            return;
        rec[n] = 0;
        msg = strchr(rec, ';');
        msg = msg ? msg + 1 : rec;
        msg[strcspn(msg, "\n")] = 0;
        if (!fault_line(msg))
            continue;
        st.faults++;
        report("@@CANARY FAULT phase=%s kmsg=%s\n", phase, msg);
    }
}

/*
 * The harness's own stderr (dom0-init.sh sends it to a file that this follows and
 * copies to the console).  The shell running the plan is a dom0 process too: it
 * lost a byte of a command name twice ("rturn: not found" for "return") while the
 * resident buffer and the probes saw nothing, so its errors are faults as well:
 * script errors ("/init: line N: ..."), "bad number", and what a shell or glibc says
 * when a process died or its heap went bad.
 */
static bool stderr_fault(const char *l)
{
    static const char *const pat[] = {
        "/init: line ", "bad number", "Segmentation fault", "Illegal instruction",
        "Bus error", "Aborted", "malloc(", "free(", "corrupted", "double free",
        "syntax error",
    };

    for (size_t i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
        if (strstr(l, pat[i]))
            return true;
    return false;
}

static void follow_stderr(int fd, const char *phase)
{
    static char buf[8192];
    static size_t have;

    if (fd < 0)
        return;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
        char *l, *nl;

        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        for (l = buf; (nl = strchr(l, '\n')); l = nl + 1) {
            *nl = 0;
            printf("%s\n", l);
            if (stderr_fault(l)) {
                st.faults++;
                report("@@CANARY FAULT phase=%s stderr=%s\n", phase, l);
            }
        }
        have = strlen(l);
        memmove(buf, l, have + 1);
        if (have == sizeof(buf) - 1) {      /* a line longer than the buffer: pass it on */
            printf("%s\n", buf);
            have = 0;
        }
    }
    fflush(stdout);
}

static pid_t start_probe(size_t mib, bool inject)
{
    pid_t pid = fork();

    if (pid == 0) {
        char m[32];

        snprintf(m, sizeof(m), "%zu", mib);
        execl(self_path, "dom0-canary", "probe", "-m", m, "-d", dir, inject ? "-i" : NULL,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void reap(const char *phase)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_EXIT_BAD) {
            st.probe_bad++;
            continue;
        }
        st.probe_crash++;
        report("@@CANARY PROBE-DIED phase=%s pid=%d %s %d\n", phase, (int)pid,
               WIFSIGNALED(status) ? "signal" : "exit",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
}

/*
 * Small fresh slots, one replaced at every slice: the page allocator hands out the
 * frames freed most recently first (per-cpu lists), so these take frames that another
 * dom0 process (a toolstack helper that just exited or unmapped) gave back a moment
 * ago.  They are left as the kernel zeroed them and must still be zero when their turn
 * comes again (FRESH_SLOTS slices later).
 */
#define FRESH_SLOTS 8
#define FRESH_BYTES (64UL << 10)
static struct chunk fresh[FRESH_SLOTS];
static size_t fresh_next;
static int fresh_inject;

static void fresh_turn(const char *phase)
{
    struct chunk *f = &fresh[fresh_next];

    if (f->p && fresh_inject) {         /* the self-test's: the slot checked now */
        fresh_inject = 0;
        flip_via_proc((uint8_t *)f->p + 999);
        report("@@CANARY INJECT fresh va=%p\n", (void *)((uint8_t *)f->p + 999));
    }
    if (f->p) {
        size_t d = check_zero(f->p, FRESH_BYTES, "fresh", phase);

        st.bad += d;
        st.bad_pages += d;
        st.pages_checked += FRESH_BYTES / PAGE;
        munmap(f->p, FRESH_BYTES);
    }
    f->p = mmap(NULL, FRESH_BYTES, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (f->p == MAP_FAILED)
        f->p = NULL;
    fresh_next = (fresh_next + 1) % FRESH_SLOTS;
}

static int resident(size_t mib, size_t probe_mib, const char *errfile)
{
    int efd = errfile ? open(errfile, O_RDONLY | O_CLOEXEC) : -1;
    size_t n = mib, next = 0;
    struct chunk *c = calloc(n, sizeof(*c));
    uint64_t gen = 1;
    int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    char phase[256];
    double last_probe = 0;
    ssize_t sl = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

    if (!c || sl <= 0) {
        fprintf(stderr, "dom0-canary: setup failed\n");
        return 1;
    }
    self_path[sl] = 0;
    setpriority(PRIO_PROCESS, 0, 10);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    if (kfd >= 0)
        lseek(kfd, 0, SEEK_END);        /* what happened before we started is not ours */
    for (size_t i = 0; i < n; i++) {
        c[i].p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (c[i].p == MAP_FAILED) {
            fprintf(stderr, "dom0-canary: mmap: %s\n", strerror(errno));
            return 1;
        }
        c[i].seed = mix(gen++ ^ ((uint64_t)i << 32));
        fill(c[i].p, CHUNK, c[i].seed);
    }
    read_phase(phase, sizeof(phase));
    report("@@CANARY START pid=%d resident=%zu MiB in %zu chunks, probes %zu MiB\n",
           (int)getpid(), mib, n, probe_mib);
    write_stat(phase);
    for (;;) {
        /* one chunk per slice: the toolstack shares dom0's single vcpu with us */
        for (size_t i = 0; i < n; i++) {
            size_t bad = 0;

            read_phase(phase, sizeof(phase));
            if (want_inject) {
                want_inject = 0;
                fresh_inject = 1;
                flip_via_proc((uint8_t *)c[i].p + 4321);
                report("@@CANARY INJECT resident va=%p\n", (void *)((uint8_t *)c[i].p + 4321));
            }
            for (size_t off = 0; off < CHUNK; off += PAGE) {
                size_t d = check_page(c[i].p + off / 8, c[i].seed, off / 8, "resident", phase);

                if (d) {
                    st.bad += d;
                    st.bad_pages++;
                    bad++;
                }
            }
            st.pages_checked += CHUNK / PAGE;
            fresh_turn(phase);
            read_kmsg(kfd, phase);
            follow_stderr(efd, phase);
            reap(phase);
            if (now_s() - last_probe >= 0.5) {
                bool inj = want_probe_inject;

                want_probe_inject = 0;
                if (start_probe(probe_mib, inj) > 0)
                    st.probes++;
                last_probe = now_s();
            }
            if (i % 8 == 7)
                write_stat(phase);
            sleep_ms(15);
        }
        /* recycle: hand two chunks' frames back and take fresh ones */
        for (int k = 0; k < 2; k++) {
            struct chunk *r = &c[next];

            munmap(r->p, CHUNK);
            r->p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
            if (r->p == MAP_FAILED) {
                report("@@CANARY ERR mmap: %s\n", strerror(errno));
                return 1;
            }
            {
                size_t d = check_zero(r->p, CHUNK, "recycled", phase);

                st.bad += d;
                st.bad_pages += d;
            }
            r->seed = mix(gen++ ^ ((uint64_t)next << 32));
            fill(r->p, CHUNK, r->seed);
            st.recycled++;
            next = (next + 1) % n;
        }
        st.passes++;
        write_stat(phase);
    }
}

/* ---- selftest ------------------------------------------------------------------------- */

/* A byte changed behind the checker's back, through another path to the frame, must be
 * found with the right offset and values; a clean page must not be reported. */
static int selftest(void)
{
    uint64_t seed = 0x1234;
    uint64_t *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    size_t d0, d1;

    if (p == MAP_FAILED)
        return 1;
    logf = stdout;                      /* no log file for an offline test */
    fill(p, 2 * PAGE, seed);
    d0 = check_page(p, seed, 0, "selftest-clean", "selftest");
    if (flip_via_proc((uint8_t *)p + PAGE + 7))
        return 1;
    d1 = check_page(p + PAGE / 8, seed, PAGE / 8, "selftest-flipped", "selftest");
    {
        uint64_t *z = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        size_t z0, z1;

        if (z == MAP_FAILED)
            return 1;
        z0 = check_zero(z, PAGE, "selftest-zero-clean", "selftest");
        if (flip_via_proc((uint8_t *)z + PAGE + 100))
            return 1;
        z1 = check_zero(z + PAGE / 8, PAGE, "selftest-zero-flipped", "selftest");
        printf("selftest: pattern pages: clean %zu, flipped %zu byte(s) differ; fresh pages: "
               "clean %zu, flipped %zu not zero: %s\n", d0, d1, z0, z1,
               d0 == 0 && d1 == 1 && z0 == 0 && z1 == 1 ? "ok" : "WRONG");
        return d0 == 0 && d1 == 1 && z0 == 0 && z1 == 1 ? 0 : 1;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: dom0-canary run [-m MiB] [-p probe-MiB] [-d DIR] [-e STDERR-FILE] | probe [-m MiB] [-i]"
            " | segv | selftest\n");
    exit(2);
}

int main(int argc, char **argv)
{
    size_t mib = 0, pmib = 4;
    const char *errfile = NULL;
    bool inject = false;
    int o;

    if (argc < 2)
        usage();
    optind = 2;
    while ((o = getopt(argc, argv, "m:p:d:e:i")) != -1) {
        switch (o) {
        case 'e': errfile = optarg; break;
        case 'm': mib = strtoul(optarg, NULL, 0); break;
        case 'p': pmib = strtoul(optarg, NULL, 0); break;
        case 'd': dir = optarg; break;
        case 'i': inject = true; break;
        default: usage();
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "run"))
        return resident(mib ? mib : 64, pmib ? pmib : 4, errfile);
    if (!strcmp(argv[1], "probe"))
        return probe(mib ? mib : 4, inject, 300);
    if (!strcmp(argv[1], "segv")) {
        /* a real fault, not raise(): the kernel logs only faults ("segfault at 8") */
        volatile uintptr_t addr = 8;

        return *(volatile int *)addr;
    }
    if (!strcmp(argv[1], "selftest"))
        return selftest();
    usage();
    return 2;
}
