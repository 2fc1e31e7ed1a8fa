/* Log-dirty: the kernel tracker reports exactly the pages the guest process wrote. */
#include <sys/mman.h>

#include "sim_helpers.h"

#define NPAGES 256
#define BPL (8 * sizeof(unsigned long))

static int count_bits(const unsigned long *bm, uint64_t n)
{
    int c = 0;
    for (uint64_t i = 0; i < n; i++)
        c += bit_test(bm, i);
    return c;
}

/* bits [0,k) set and nothing else */
static int exactly_prefix(const unsigned long *bm, uint64_t n, uint64_t k)
{
    for (uint64_t i = 0; i < n; i++)
        if (bit_test(bm, i) != (i < k))
            return 0;
    return 1;
}

int main(void)
{
    xc_interface *xch = sim_open();
    unsigned long bm[(NPAGES + 2 + BPL - 1) / BPL];
    xhv_logdirty_stats_t stats;
    const uint64_t nbits = NPAGES + 2;
    uint32_t d;
    int rc;

    /* Not a Xen dom0 (or built without libxen-dev): the real backend refuses cleanly. */
    errno = 0;
    CHECK(xhv_open("xen") == NULL && errno != 0, "xen backend: refuses to open outside dom0");

    /* incrementer limited to 10 steps: writes exactly pages 0..9 */
    d = sim_create(xch, "ld", "incrementer", NPAGES, 0, 10, 0, 0, 0, 1);
    CHECK(d, "created paused incrementer, max 10 steps");
    memset(bm, 0, sizeof(bm));
    rc = xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats);
    CHECK(rc == -1 && errno == EINVAL, "PEEK before ENABLE: EINVAL");
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_ENABLE, NULL, 0, NULL) == 0, "ENABLE");
    memset(bm, 0, sizeof(bm));
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats) == 0 &&
          stats.dirty_count == 0 && count_bits(bm, nbits) == 0, "nothing dirty while paused");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause");
    CHECK(sim_wait_steps(xch, d, 10, 5000) == 0, "10 steps done");
    usleep(20000);
    CHECK(sim_steps(xch, d) == 10, "and no more");

    memset(bm, 0, sizeof(bm));
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats) == 0, "PEEK");
    CHECK(stats.dirty_count == 10 && exactly_prefix(bm, nbits, 10),
          "PEEK reports exactly pages 0..9 (count %llu, bits %d)",
          (unsigned long long)stats.dirty_count, count_bits(bm, nbits));
    memset(bm, 0, sizeof(bm));
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats) == 0 &&
          stats.dirty_count == 10 && exactly_prefix(bm, nbits, 10), "PEEK again: unchanged");
    /* bits of other pages are left alone */
    memset(bm, 0, sizeof(bm));
    bm[(NPAGES - 1) / BPL] |= 1UL << ((NPAGES - 1) % BPL);
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_CLEAN, bm, nbits, &stats) == 0 &&
          stats.dirty_count == 10 && bit_test(bm, NPAGES - 1) && count_bits(bm, nbits) == 11,
          "CLEAN reports the same 10 and leaves the caller's other bits set");
    memset(bm, 0, sizeof(bm));
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats) == 0 &&
          stats.dirty_count == 0 && count_bits(bm, nbits) == 0, "after CLEAN: nothing dirty");

    /* toolstack writes through the foreign mapping are not guest writes */
    {
        uint64_t pfn = 100;
        void *page;
        int err;
        CHECK(xhv_map_foreign(xch, d, PROT_READ | PROT_WRITE, &pfn, &page, &err, 1) == 0 &&
              err == 0, "map pfn 100");
        ((volatile char *)page)[1] = 42;
        memset(bm, 0, sizeof(bm));
        CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats) == 0 &&
              stats.dirty_count == 0, "foreign-mapping writes are not reported");
    }
    CHECK(xhv_domain_destroy(xch, d) == 0, "destroy");

    /* a running guest: dirty pages appear, CLEAN + later PEEK sees new writes only */
    d = sim_create(xch, "ld2", "incrementer", NPAGES, 0, 0, 2000, 0, 0, 0);
    CHECK(d, "running incrementer at 2000 pages/s");
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_ENABLE, NULL, 0, NULL) == 0, "ENABLE");
    usleep(100000);
    CHECK(xhv_domain_pause(xch, d) == 0, "pause");
    memset(bm, 0, sizeof(bm));
    {
        uint64_t steps = sim_steps(xch, d);
        CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_CLEAN, bm, nbits, &stats) == 0 &&
              stats.dirty_count > 0 && stats.dirty_count <= NPAGES,
              "CLEAN while paused after ~100 ms: %llu dirty (steps %llu)",
              (unsigned long long)stats.dirty_count, (unsigned long long)steps);
    }
    {
        /* while paused nothing new can get dirty */
        usleep(50000);
        memset(bm, 0, sizeof(bm));
        CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_PEEK, bm, nbits, &stats) == 0 &&
              stats.dirty_count == 0, "paused: no new dirty pages");
    }
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_OFF, NULL, 0, NULL) == 0, "OFF");
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_CLEAN, bm, nbits, &stats) == -1 && errno == EINVAL,
          "CLEAN after OFF: EINVAL");
    CHECK(xhv_domain_destroy(xch, d) == 0, "destroy");

    /* a big guest: clean-scan cost does not depend on a user-space loop over clean pages */
    d = sim_create(xch, "big", "incrementer", 1 << 18, 0, 3, 0, 0, 0, 1);
    CHECK(d, "1 GiB guest, 3 steps");
    CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_ENABLE, NULL, 0, NULL) == 0, "ENABLE");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause");
    CHECK(sim_wait_steps(xch, d, 3, 5000) == 0, "3 steps");
    {
        unsigned long *big = calloc((1 << 18) / BPL + 1, sizeof(long));
        uint64_t t0 = sim_now_ms();
        CHECK(xhv_logdirty(xch, d, XHV_LOGDIRTY_CLEAN, big, (1 << 18) + 2, &stats) == 0 &&
              stats.dirty_count == 3 && bit_test(big, 0) && bit_test(big, 1) && bit_test(big, 2),
              "big guest: exactly 3 dirty (%llu)", (unsigned long long)stats.dirty_count);
        printf("# CLEAN of a 1 GiB guest with 3 dirty pages: %llu ms\n",
               (unsigned long long)(sim_now_ms() - t0));
        free(big);
    }
    CHECK(xhv_domain_destroy(xch, d) == 0, "destroy");
    xhv_close(xch);
    return test_done();
}
