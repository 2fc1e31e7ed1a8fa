/*
 * The fault table (fault.c) and the byte-offset faults on writes (fault_stream.c):
 * every fault's value is parsed or refused with a reason that names the fault; a cut,
 * a corrupted byte and a delay happen at exactly their offset, once, in the writer's
 * order, on the one fd they were set on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "xfault.h"
#include "xutil.h"

/* Parses v; 1 when it is refused with a reason containing want. */
static int refused(const char *v, const char *want)
{
    char why[200] = "";
    int rc = xfault_parse(v, why, sizeof(why));

    if (rc == 0 || !strstr(why, want)) {
        printf("#   '%s': rc %d, '%s'\n", v, rc, why);
        return 0;
    }
    return xfault(XFAULT_MAIN_CUT_AT) == NULL && xfault(XFAULT_HELPER_KILL_AT) == NULL;
}

static void parser(void)
{
    char why[200];
    const struct xfault *f;

    CHECK(xfault_parse("main-delay=100:250,helper-kill-at=checkpoint:3,back-corrupt-at=7",
                       why, sizeof(why)) == 0, "three faults parse");
    f = xfault(XFAULT_MAIN_DELAY);
    CHECK(f && f->nargs == 2 && f->arg[0] == 100 && f->arg[1] == 250, "main-delay=100:250");
    f = xfault(XFAULT_HELPER_KILL_AT);
    CHECK(f && f->nargs == 2 && f->arg[0] == XFAULT_AT_CHECKPOINT && f->arg[1] == 3,
          "helper-kill-at=checkpoint:3: the point by name, then N");
    f = xfault(XFAULT_BACK_CORRUPT_AT);
    CHECK(f && f->nargs == 1 && f->arg[0] == 7, "back-corrupt-at=7");
    CHECK(!xfault(XFAULT_MAIN_CUT_AT), "a fault not named is not selected");
    CHECK(xfault_parse("helper-kill-at=restore-checkpoint:1", why, sizeof(why)) == 0 &&
          xfault(XFAULT_HELPER_KILL_AT)->arg[0] == XFAULT_AT_RESTORE_CHECKPOINT &&
          !xfault(XFAULT_MAIN_DELAY), "a new value replaces the old selection");
    CHECK(xfault_parse("primary-stall=4", why, sizeof(why)) == 0 &&
          xfault(XFAULT_PRIMARY_STALL)->nargs == 1, "primary-stall=4 (MS optional)");

    CHECK(refused("main-cut-at=x", "fault 'main-cut-at': 'x' is not BYTES"), "a word for BYTES");
    CHECK(refused("main-cut-at=5:6", "fault 'main-cut-at': '5:6' is not BYTES"),
          "too many arguments");
    CHECK(refused("main-delay=5", "fault 'main-delay': '5' is not BYTES:MS"), "a delay without MS");
    CHECK(refused("main-delay=5:", "'5:' is not BYTES:MS"), "a trailing ':'");
    CHECK(refused("back-delay=5:3600001", "is not BYTES:MS, MS at most 3600000"),
          "a delay beyond the limit");
    CHECK(refused("back-cut-at=-1", "fault 'back-cut-at': '-1' is not BYTES"), "a negative offset");
    CHECK(refused("back-corrupt-at=", "fault 'back-corrupt-at': '' is not BYTES"), "an empty value");
    CHECK(refused("helper-pipe-cut-at", "fault 'helper-pipe-cut-at' needs an argument"),
          "no '='");
    CHECK(refused("helper-kill-at=resume:2", "fault 'helper-kill-at': 'resume:2' is not POINT:N "
                  "(POINT suspend, checkpoint or restore-checkpoint)"), "an unknown point");
    CHECK(refused("helper-kill-at=checkpoint", "is not POINT:N"), "a point without N");
    CHECK(refused("main-cut-at=5,back-cut-at=6,main-cut-at=7", "fault 'main-cut-at' is given twice"),
          "a fault given twice");
    CHECK(refused("main-cut-at=1,no-such=3", "unknown fault 'no-such'"),
          "an unknown fault, after a good one: nothing selected");
    CHECK(xfault_parse("proxy-bypass,main-cut-at=9", why, sizeof(why)) == 0 &&
          xfault(XFAULT_PROXY_BYPASS) && xfault(XFAULT_PROXY_BYPASS)->nargs == 0 &&
          xfault(XFAULT_MAIN_CUT_AT), "a fault without a value (proxy-bypass)");
    CHECK(refused("proxy-bypass=1", "fault 'proxy-bypass': '1' is not nothing (it takes no value)"),
          "a value for a fault that takes none");
    CHECK(xfault_parse("", why, sizeof(why)) == 0 && !xfault(XFAULT_PRIMARY_STALL),
          "an empty value selects nothing");
}

static int fired;
static void count_fired(void *opaque) { (void)opaque; fired++; }

/* Writes "0123456789" as a 4-byte and a 6-byte write (and a third one after it) to a
 * fresh file with one fault; what reached the file, how the writes ended. */
static void faulted(enum xfault_kind kind, unsigned long at, unsigned long ms, char *out,
                    int rc[3], uint64_t *ms_taken)
{
    char tmpl[] = "/tmp/test_fault.XXXXXX";
    int fd = mkstemp(tmpl);
    uint64_t t0;
    ssize_t n;

    unlink(tmpl);
    fired = 0;
    if (xfault_on_writes(fd, kind, at, ms, count_fired, NULL))
        exit(2);
    t0 = clock_now_ms();
    rc[0] = write_exact(fd, "0123", 4);
    rc[1] = write_exact(fd, "456789", 6);
    rc[2] = write_exact(fd, "ab", 2);
    *ms_taken = clock_now_ms() - t0;
    n = pread(fd, out, 15, 0);
    out[n < 0 ? 0 : n] = 0;
    xfault_off_writes(fd);
    close(fd);
}

static void writes(void)
{
    char got[16];
    int rc[3];
    uint64_t ms;

    faulted(XFAULT_KIND_CUT, 6, 0, got, rc, &ms);
    CHECK(!strcmp(got, "012345") && rc[0] == 0 && rc[1] == -1 && rc[2] == -1 && fired == 1,
          "cut at 6: '%s' got through, the write over it and the next fail (%d %d %d), "
          "the cut noted %d time(s)", got, rc[0], rc[1], rc[2], fired);
    faulted(XFAULT_KIND_CUT, 4, 0, got, rc, &ms);
    CHECK(!strcmp(got, "0123") && rc[0] == 0 && rc[1] == -1 && errno == EPIPE,
          "cut at 4 (a write's end): the first write whole, the next fails with EPIPE");
    faulted(XFAULT_KIND_CORRUPT, 5, 0, got, rc, &ms);
    CHECK(!memcmp(got, "01234", 5) && (unsigned char)got[5] == (unsigned char)~'5' &&
          !strcmp(got + 6, "6789ab") && !rc[0] && !rc[1] && !rc[2] && fired == 1,
          "corrupt at 5: only that byte inverted, every write succeeds, noted once");
    faulted(XFAULT_KIND_DELAY, 7, 300, got, rc, &ms);
    CHECK(!strcmp(got, "0123456789ab") && !rc[0] && !rc[1] && !rc[2] && ms >= 300 &&
          ms < 1300 && fired == 1, "delay at 7 for 300 ms: all bytes in order, %llu ms, once",
          (unsigned long long)ms);
    faulted(XFAULT_KIND_DELAY, 100, 300, got, rc, &ms);
    CHECK(!strcmp(got, "0123456789ab") && ms < 200 && fired == 0,
          "a delay beyond the bytes written does not happen (%llu ms)", (unsigned long long)ms);
    {
        int other = dup(1);

        CHECK(!xfault_writes_faulty(other), "an fd with no fault is not faulty");
        close(other);
    }
}

int main(void)
{
    /* xfault() reads the environment once, at its first call: done here, with nothing */
    unsetenv("COLO_FAULT");
    (void)xfault(XFAULT_PRIMARY_STALL);
    parser();
    writes();
    return test_done();
}
