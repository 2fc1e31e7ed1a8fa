/*
 * xen-resume-stress: suspend a running guest and resume it, N times, through the
 * real-Xen backend's own resume paths, with nothing else around (no stream, no second
 * domain).  A diagnostic of the real-Xen harness (steps/stress.sh): it separates what
 * one resume path does to dom0 from everything else a COLO checkpoint does.
 *
 *   xen-resume-stress [-f] [-n N] [-w MS] DOMAIN
 *
 * Default: the slow resume a COLO secondary gets from its second checkpoint on (soft
 * reset while xenstored and xenconsoled keep the rings' grant mappings, then the
 * xenstore and console channels put back).  -f: the fast resume the primary gets after
 * every checkpoint (suspend cancelled).  -w: ms the guest runs between rounds (1000).
 * Prints "@@RESUME round=K ok" per round and exits non-zero at the first failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xhv.h"

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    unsigned long rounds = 20, wait_ms = 1000;
    int fast = 0, opt;
    uint32_t domid;
    xc_interface *xch;
    char *end;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "fn:w:")) != -1) {
        switch (opt) {
        case 'f': fast = 1; break;
        case 'n': rounds = strtoul(optarg, NULL, 0); break;
        case 'w': wait_ms = strtoul(optarg, NULL, 0); break;
        default:
            fprintf(stderr, "usage: xen-resume-stress [-f] [-n N] [-w MS] DOMAIN\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: xen-resume-stress [-f] [-n N] [-w MS] DOMAIN\n");
        return 2;
    }
    xch = xhv_open("xen");
    if (!xch)
        return 1;
    domid = (uint32_t)strtoul(argv[optind], &end, 0);
    if (*end && xhv_domain_lookup(xch, argv[optind], &domid)) {
        fprintf(stderr, "xen-resume-stress: no domain %s\n", argv[optind]);
        return 1;
    }
    for (unsigned long k = 1; k <= rounds; k++) {
        if (xhv_domain_suspend(xch, domid, 20000)) {
            fprintf(stderr, "xen-resume-stress: round %lu: suspend: %s\n", k, strerror(errno));
            return 1;
        }
        if (xhv_domain_resume(xch, domid, fast)) {
            fprintf(stderr, "xen-resume-stress: round %lu: %s resume: %s\n", k,
                    fast ? "fast" : "slow", strerror(errno));
            return 1;
        }
        printf("@@RESUME round=%lu %s ok\n", k, fast ? "fast" : "slow");
        sleep_ms((long)wait_ms);
    }
    xhv_close(xch);
    return 0;
}
