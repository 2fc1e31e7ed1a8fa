#include "guest.h"
#include "test.h"
#include "xhv_sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

xc_interface *test_open(void)
{
    xc_interface *xch;

    test_sim_dir();
    xch = xhv_open("sim");
    if (!xch) {
        perror("xhv_open(sim)");
        exit(2);
    }
    return xch;
}

static uint32_t create(xc_interface *xch, const char *name, const char *program, uint64_t pages,
                       uint64_t host_input, uint64_t rate, int paused)
{
    xhv_domain_config_t cfg;
    struct xhv_sim_guest sim;
    uint32_t domid;

    memset(&cfg, 0, sizeof(cfg));

    memset(&sim, 0, sizeof(sim));

    cfg.sim = &sim;
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    snprintf(sim.program, sizeof(sim.program), "%s", program);
    cfg.max_pages = pages;
    sim.host_input = host_input;
    sim.prog_args[2] = rate;
    cfg.start_paused = paused;
    if (xhv_domain_create(xch, &cfg, &domid)) {
        fprintf(stderr, "creating domain %s (%s) failed: %s\n", name, program, strerror(errno));
        exit(2);
    }
    return domid;
}

uint32_t test_create_guest(xc_interface *xch, const char *name, const char *program,
                           uint64_t pages, uint64_t host_input, uint64_t rate)
{
    return create(xch, name, program, pages, host_input, rate, 0);
}

uint32_t test_create_target(xc_interface *xch, const char *name, uint64_t pages,
                            uint64_t host_input)
{
    return create(xch, name, "", pages, host_input, 0, 1);
}

int test_suspend_cb(void *data)
{
    struct test_save_data *d = data;

    return xhv_domain_suspend(d->xch, d->domid, 5000) == 0 ? 1 : 0;
}

int run_verifier(const char *format, const char *path, char *out, size_t outlen)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int status;

    snprintf(cmd, sizeof(cmd),
             "PYTHONPATH=/usr/lib/xen-4.17/lib/python /usr/bin/python3 "
             "/usr/lib/xen-4.17/bin/verify-stream-v2 -v -f %s -i %s 2>&1",
             format, path);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
