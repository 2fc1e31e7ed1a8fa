/* HVM context: round trip, validation, and restores that do / do not restore it. */
#include <sys/mman.h>

#include "sim_helpers.h"

#define NP 64

static int copy_memory(xc_interface *xch, uint32_t from, uint32_t to, uint64_t n)
{
    uint64_t pfns[NP + 2];
    void *src[NP + 2], *dst[NP + 2];
    int es[NP + 2], ed[NP + 2];

    for (uint64_t i = 0; i < n; i++)
        pfns[i] = i;
    if (xhv_populate(xch, to, pfns, n) ||
        xhv_map_foreign(xch, from, PROT_READ, pfns, src, es, n) ||
        xhv_map_foreign(xch, to, PROT_READ | PROT_WRITE, pfns, dst, ed, n))
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        if (es[i] || ed[i])
            return -1;
        memcpy(dst[i], src[i], XHV_PAGE_SIZE);
    }
    return 0;
}

static int try_set(xc_interface *xch, uint32_t d, const uint8_t *good, int len, int off,
                   uint8_t val, int newlen)
{
    uint8_t b[2048];

    memset(b, 0, sizeof(b));
    memcpy(b, good, len);
    if (off >= 0)
        b[off] = val;
    return xhv_hvm_setcontext(xch, d, b, newlen);
}

int main(void)
{
    xc_interface *xch = sim_open();
    uint8_t ctx[1024], ctx2[1024], old[1024];
    int len, len2, oldlen;
    xhv_sim_status_t st;
    xhv_dominfo_t info;
    uint32_t src, t1, t2, t3;
    uint16_t type;

    src = sim_create(xch, "src", "incrementer", NP, 0, 0, 0, 0, 0, 0);
    CHECK(src, "source incrementer");
    CHECK(sim_wait_steps(xch, src, 10000, 5000) == 0, "runs");
    len = xhv_hvm_getcontext(xch, src, NULL, 0);
    CHECK(len > 0 && len <= 1024, "size query: %d", len);
    CHECK(xhv_hvm_getcontext(xch, src, ctx, 8) == -1 && errno == ENOBUFS, "small buffer: ENOBUFS");
    CHECK(xhv_hvm_getcontext(xch, src, ctx, sizeof(ctx)) == len, "getcontext of a running guest");
    CHECK(xhv_hvm_setcontext(xch, src, ctx, len) == -1 && errno == EBUSY,
          "setcontext on a running guest: EBUSY");

    /* layout: descriptor + HVM-like header first, END last */
    memcpy(&type, ctx, 2);
    CHECK(type == 1 && ctx[8] == 0x86 && ctx[9] == 0x12 && ctx[10] == 0x38 && ctx[11] == 0x54,
          "header record with magic 0x54381286 first");
    CHECK(ctx[len - 8] == 0 && ctx[len - 7] == 0 && ctx[len - 4] == 0, "END record last");

    CHECK(xhv_domain_pause(xch, src) == 0, "pause source");
    CHECK(xhv_hvm_getcontext(xch, src, ctx, sizeof(ctx)) == len, "getcontext while paused");
    len2 = xhv_hvm_getcontext(xch, src, ctx2, sizeof(ctx2));
    CHECK(len2 == len && !memcmp(ctx, ctx2, len), "stable while paused");
    CHECK(xhv_hvm_setcontext(xch, src, ctx, len) == 0, "round trip: set it back");
    CHECK(xhv_hvm_getcontext(xch, src, ctx2, sizeof(ctx2)) == len && !memcmp(ctx, ctx2, len),
          "get after set returns the same blob");

    /* corrupted blobs are refused (offsets: header body at 8, cpu desc at 32, body at 40) */
    CHECK(try_set(xch, src, ctx, len, -1, 0, len - 1) == -1 && errno == EINVAL, "truncated by 1");
    CHECK(try_set(xch, src, ctx, len, -1, 0, len - 8) == -1 && errno == EINVAL, "END missing");
    CHECK(try_set(xch, src, ctx, len, -1, 0, 0) == -1 && errno == EINVAL, "empty");
    CHECK(try_set(xch, src, ctx, len, -1, 0, 2000) == -1 && errno == EINVAL, "oversized");
    CHECK(try_set(xch, src, ctx, len, -1, 0, len + 8) == -1 && errno == EINVAL,
          "record after END");
    CHECK(try_set(xch, src, ctx, len, 8, 0x87, len) == -1 && errno == EINVAL, "bad magic");
    CHECK(try_set(xch, src, ctx, len, 12, 2, len) == -1 && errno == EINVAL, "bad version");
    CHECK(try_set(xch, src, ctx, len, 4, 25, len) == -1 && errno == EINVAL,
          "header length wrong");
    CHECK(try_set(xch, src, ctx, len, 36, 0xff, len) == -1 && errno == EINVAL,
          "cpu record length overruns");
    CHECK(try_set(xch, src, ctx, len, 32, 0x48, len) == -1 && errno == EINVAL,
          "unknown record type");
    CHECK(try_set(xch, src, ctx, len, 34, 1, len) == -1 && errno == EINVAL, "instance 1");
    CHECK(try_set(xch, src, ctx, len, 40, 99, len) == -1 && errno == EINVAL,
          "unknown program id");
    CHECK(try_set(xch, src, ctx, len, 48, 'X', len) == -1 && errno == EINVAL,
          "program name does not match id");
    CHECK(try_set(xch, src, ctx, len, 64, 0x80, len) == -1 && errno == EINVAL,
          "unknown flag in args");
    CHECK(try_set(xch, src, ctx, len, 96 + 1, 1, len) == -1 && errno == EINVAL,
          "pc beyond guest RAM");
    CHECK(try_set(xch, src, ctx, len, 100, 0, len) == 0, "(control: a harmless byte is fine)");
    CHECK(xhv_hvm_setcontext(xch, src, ctx, len) == 0, "restore the real context");
    CHECK(xhv_domain_unpause(xch, src) == 0, "unpause after setcontext");
    CHECK(sim_wait_status(xch, src, 5000, 1, &st) == 0 && st.selfchecks_passed == 1 &&
          st.resumes == 1, "unpause after setcontext ran the resume path: self-check passed");

    /* a proper restore: memory + context -> self-check passes, guest continues */
    CHECK(xhv_domain_pause(xch, src) == 0, "pause source");
    oldlen = xhv_hvm_getcontext(xch, src, old, sizeof(old));
    CHECK(oldlen == len, "context taken");
    t1 = sim_create(xch, "t1", "", NP, 0, 0, 0, 0, 0, 1);
    CHECK(t1, "empty restore target");
    CHECK(copy_memory(xch, src, t1, NP + 2) == 0, "memory copied");
    CHECK(xhv_hvm_setcontext(xch, t1, old, oldlen) == 0, "context restored");
    CHECK(xhv_domain_unpause(xch, t1) == 0, "unpause target");
    CHECK(sim_wait_status(xch, t1, 5000, 1, &st) == 0 && st.selfchecks_passed == 1 &&
          st.selfchecks_failed == 0, "restored guest's self-check passed");
    CHECK(sim_wait_steps(xch, t1, 1000, 5000) == 0, "restored guest runs");

    /* restore that forgets the context */
    t2 = sim_create(xch, "t2", "", NP, 0, 0, 0, 0, 0, 1);
    CHECK(t2 && copy_memory(xch, src, t2, NP + 2) == 0, "second target, memory copied");
    CHECK(xhv_domain_unpause(xch, t2) == 0, "unpause without setcontext");
    CHECK(sim_wait_status(xch, t2, 5000, 1, &st) == 0 && st.selfchecks_failed == 1,
          "caught: self-check failed");
    CHECK(xhv_domain_info(xch, t2, &info) == 0 && info.shutdown &&
          info.shutdown_reason == XHV_SHUTDOWN_crash, "the guest crashed");

    /* restore with a stale context (memory newer than the context) */
    CHECK(xhv_domain_unpause(xch, src) == 0, "source runs on");
    {
        uint64_t s0 = sim_steps(xch, src);
        CHECK(sim_wait_steps(xch, src, s0 + 1000, 5000) == 0, "... 1000+ steps");
    }
    CHECK(xhv_domain_pause(xch, src) == 0, "pause source");
    t3 = sim_create(xch, "t3", "", NP, 0, 0, 0, 0, 0, 1);
    CHECK(t3 && copy_memory(xch, src, t3, NP + 2) == 0, "third target, new memory");
    CHECK(xhv_hvm_setcontext(xch, t3, old, oldlen) == 0, "old context");
    CHECK(xhv_domain_unpause(xch, t3) == 0, "unpause");
    CHECK(sim_wait_status(xch, t3, 5000, 1, &st) == 0 && st.selfchecks_failed == 1 &&
          st.selfchecks_passed == 0 && st.first_bad_pfn < NP,
          "stale context caught by the self-check (first bad pfn %llu)",
          (unsigned long long)st.first_bad_pfn);

    CHECK(xhv_domain_destroy(xch, src) == 0 && xhv_domain_destroy(xch, t1) == 0 &&
          xhv_domain_destroy(xch, t2) == 0 && xhv_domain_destroy(xch, t3) == 0, "destroy all");
    xhv_close(xch);
    return test_done();
}
