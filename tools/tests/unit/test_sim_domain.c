/* Domains: create/info/list/lookup/rename/destroy, across processes, concurrently. */
#include <sys/mman.h>
#include <sys/wait.h>

#include "sim_helpers.h"

static void test_basic(xc_interface *xch)
{
    xhv_dominfo_t info, list[8];
    uint64_t v;
    uint32_t d, d2, found = 0;
    int n;

    d = sim_create(xch, "basic", "incrementer", 64, 0, 0, 0, 0, 0, 0);
    CHECK(d >= 1, "create returns a guest domid (%u), never 0", d);
    CHECK(xhv_domain_info(xch, d, &info) == 0, "info");
    CHECK(info.domid == d && !strcmp(info.name, "basic"), "info: domid and name");
    CHECK(info.max_pages == 64 && info.p2m_size == 66 && info.nr_pages == 66,
          "info: max_pages 64, p2m_size 66, nr_pages 66 (%llu/%llu/%llu)",
          (unsigned long long)info.max_pages, (unsigned long long)info.p2m_size,
          (unsigned long long)info.nr_pages);
    CHECK(info.running && !info.paused && !info.shutdown && info.hvm, "info: running");
    CHECK(xhv_hvm_param_get(xch, d, 1, &v) == 0 && v == 65, "STORE_PFN param = 65");
    CHECK(xhv_hvm_param_get(xch, d, 17, &v) == 0 && v == 64, "CONSOLE_PFN param = 64");
    CHECK(xhv_hvm_param_get(xch, d, 64, &v) == -1 && errno == EINVAL, "param index 64: EINVAL");
    CHECK(xhv_hvm_param_set(xch, d, 30, 1234) == 0 && xhv_hvm_param_get(xch, d, 30, &v) == 0 &&
          v == 1234, "param set/get");

    CHECK(sim_create(xch, "basic", "incrementer", 8, 0, 0, 0, 0, 0, 0) == 0 && errno == EEXIST,
          "duplicate name refused");
    CHECK(sim_create(xch, "bad1", "nosuchprog", 8, 0, 0, 0, 0, 0, 0) == 0 && errno == EINVAL,
          "unknown program refused");
    CHECK(sim_create(xch, "bad2", "incrementer", 0, 0, 0, 0, 0, 0, 0) == 0 && errno == EINVAL,
          "max_pages 0 refused");
    CHECK(sim_create(xch, "bad3", "incrementer", 8, 0x80, 0, 0, 0, 0, 0) == 0 &&
          errno == EINVAL, "unknown flag bits refused");
    CHECK(sim_create(xch, "bad4", "dirtyrate", 8, 0, 0, 0, 9, 0, 0) == 0 && errno == EINVAL,
          "working set > RAM refused");

    d2 = sim_create(xch, "empty", "", 32, 0, 0, 0, 0, 0, 1);
    CHECK(d2 > d, "empty target created with a higher domid (%u)", d2);
    CHECK(xhv_domain_info(xch, d2, &info) == 0 && info.nr_pages == 0 && info.paused,
          "empty target: nothing populated, paused");

    n = xhv_domain_list(xch, list, 8);
    CHECK(n == 2 && list[0].domid == d && list[1].domid == d2, "list: both, sorted");
    CHECK(xhv_domain_lookup(xch, "empty", &found) == 0 && found == d2, "lookup");
    CHECK(xhv_domain_rename(xch, d2, "renamed") == 0 &&
          xhv_domain_lookup(xch, "renamed", &found) == 0 && found == d2 &&
          xhv_domain_lookup(xch, "empty", &found) == -1 && errno == ESRCH, "rename");
    CHECK(xhv_domain_rename(xch, d2, "basic") == -1 && errno == EEXIST,
          "rename to an existing name refused");

    /* memory: populate, types, map_foreign */
    {
        uint64_t pfns[3] = { 5, 40, 7 }, query[4] = { 5, 33, 40, (1ULL << 40) + 5 };
        uint32_t types[4];
        void *pages[3];
        int errs[3];

        CHECK(xhv_populate(xch, d2, pfns, 1) == 0, "populate pfn 5");
        CHECK(xhv_get_pfn_type_batch(xch, d2, 4, query, types) == 0 &&
              types[0] == XHV_PFINFO_NOTAB && types[1] == XHV_PFINFO_XTAB &&
              types[2] == XHV_PFINFO_XTAB && types[3] == XHV_PFINFO_XTAB,
              "pfn types: NOTAB for populated, XTAB otherwise, beyond p2m and for a pfn "
              "above 2^32 that aliases a populated one in 32 bits");
        CHECK(xhv_map_foreign(xch, d2, PROT_READ | PROT_WRITE, pfns, pages, errs, 3) == 0,
              "map_foreign");
        CHECK(errs[0] == 0 && pages[0] && errs[1] == EINVAL && errs[2] == ENOENT,
              "map errs: ok, EINVAL beyond p2m, ENOENT unpopulated (%d %d %d)", errs[0],
              errs[1], errs[2]);
        CHECK(xhv_domain_info(xch, d2, &info) == 0 && info.nr_pages == 1, "nr_pages 1");
        xhv_unmap_foreign(xch, d2, pages, 3);
    }

    CHECK(xhv_domain_destroy(xch, d) == 0 && xhv_domain_destroy(xch, d2) == 0, "destroy");
    CHECK(xhv_domain_info(xch, d, &info) == -1 && errno == ESRCH, "destroyed: ESRCH");
    CHECK(xhv_domain_list(xch, list, 8) == 0, "list empty");
    CHECK(xhv_domain_info(xch, 0, &info) == -1, "domid 0 is not a guest");
}

static void test_cross_process(xc_interface *xch)
{
    int pfd[2], status;
    uint32_t d = 0;
    pid_t pid;
    xhv_dominfo_t info;

    CHECK(pipe(pfd) == 0, "pipe");
    pid = fork();
    if (pid == 0) {
        xc_interface *c = xhv_open("sim");
        uint32_t cd = c ? sim_create(c, "child", "incrementer", 16, 0, 0, 0, 0, 0, 0) : 0;
        if (write(pfd[1], &cd, sizeof(cd)) != sizeof(cd))
            _exit(3);
        _exit(cd ? 0 : 2);   /* the domain outlives its creator */
    }
    close(pfd[1]);
    CHECK(read(pfd[0], &d, sizeof(d)) == sizeof(d) && d, "child created domain %u", d);
    close(pfd[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exited cleanly");
    CHECK(xhv_domain_info(xch, d, &info) == 0 && !strcmp(info.name, "child") && info.running,
          "parent sees the child's domain, still running after the child exited");
    CHECK(sim_wait_steps(xch, d, 1000, 5000) == 0, "its vcpu makes progress");

    /* the child destroys a domain the parent created */
    {
        uint32_t p = sim_create(xch, "parents", "incrementer", 16, 0, 0, 0, 0, 0, 0);
        pid = fork();
        if (pid == 0) {
            xc_interface *c = xhv_open("sim");
            _exit(c && xhv_domain_destroy(c, p) == 0 ? 0 : 1);
        }
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child destroyed parent's domain");
        CHECK(xhv_domain_info(xch, p, &info) == -1 && errno == ESRCH, "gone for the parent");
    }
    CHECK(xhv_domain_destroy(xch, d) == 0, "parent destroys the child's domain");
}

static void test_concurrent(xc_interface *xch)
{
    enum { PER = 6 };
    pid_t pids[2];
    int status, ok = 1;
    xhv_dominfo_t list[64];
    int n;

    for (int c = 0; c < 2; c++) {
        pids[c] = fork();
        if (pids[c] == 0) {
            xc_interface *h = xhv_open("sim");
            char name[32];
            if (!h)
                _exit(2);
            for (int i = 0; i < PER; i++) {
                snprintf(name, sizeof(name), "conc-%d-%d", c, i);
                if (!sim_create(h, name, "incrementer", 8, 0, 0, 1000, 0, 0, 0))
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int c = 0; c < 2; c++) {
        waitpid(pids[c], &status, 0);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK(ok, "two processes created %d domains each concurrently", PER);
    n = xhv_domain_list(xch, list, 64);
    CHECK(n == 2 * PER, "all %d listed (%d)", 2 * PER, n);
    for (int i = 1; i < n; i++)
        if (list[i].domid == list[i - 1].domid)
            ok = 0;
    CHECK(ok, "domids unique");
    for (int i = 0; i < n; i++)
        if (xhv_domain_destroy(xch, list[i].domid))
            ok = 0;
    CHECK(ok && xhv_domain_list(xch, list, 64) == 0, "all destroyed");
}

int main(void)
{
    xc_interface *xch = sim_open();
    uint32_t maj = 0, min = 0;

    CHECK(xhv_version(xch, &maj, &min) == 0 && maj == 4 && min == 17, "version 4.17");
    CHECK(!strcmp(xhv_backend_name(xch), "sim"), "backend name");
    test_basic(xch);
    test_cross_process(xch);
    test_concurrent(xch);
    xhv_close(xch);
    return test_done();
}
