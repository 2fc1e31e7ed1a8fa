/*
 * A small program against the installed libxenlight-colo:
 *   cc libxl-example.c $(pkg-config --cflags --libs xenlight-colo) -o libxl-example
 *   SIMXEN_DIR=/dev/shm/example ./libxl-example /tmp/example.libxl
 * Creates a simulated guest, lists domains, saves the guest to a file (a libxl stream),
 * destroys it, restores it from the file and checks that it runs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static void list(libxl_ctx *ctx)
{
    int n;
    libxl_dominfo *d = libxl_list_domain(ctx, &n);

    for (int i = 0; i < n; i++) {
        char *name = libxl_domid_to_name(ctx, d[i].domid);

        printf("  domain %u %-12s %6llu KiB %s%s\n", d[i].domid, name ? name : "?",
               (unsigned long long)d[i].current_memkb, d[i].running ? "running" : "",
               d[i].paused ? "paused" : "");
        free(name);
    }
    libxl_dominfo_list_free(d, n);
}

int main(int argc, char **argv)
{
    libxl_ctx *ctx;
    libxl_domain_config c;
    libxl_domain_restore_params params;
    libxl_dominfo info;
    uint32_t domid;
    int fd, rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <save-file>\n", argv[0]);
        return 2;
    }
    if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, NULL))
        return 1;
    libxl_domain_config_init(&c);
    c.c_info.name = strdup("example");
    c.b_info.max_memkb = 16 * 1024;
    c.sim.program = strdup("incrementer");
    c.sim.rate = 20000;
    if ((rc = libxl_domain_create_new(ctx, &c, &domid, NULL, NULL)))
        return printf("create failed: %d %s\n", rc, libxl_ctx_last_error(ctx)), 1;
    printf("created domain %u\n", domid);
    pause_ms(200);
    list(ctx);

    fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (rc = libxl_domain_suspend(ctx, domid, fd, 0, NULL)))
        return printf("save failed: %s\n", libxl_ctx_last_error(ctx)), 1;
    close(fd);
    printf("saved domain %u to %s\n", domid, argv[1]);
    libxl_domain_destroy(ctx, domid, NULL);

    fd = open(argv[1], O_RDONLY);
    libxl_domain_restore_params_init(&params);
    if (fd < 0 || (rc = libxl_domain_create_restore(ctx, &c, &domid, fd, -1, &params, NULL, NULL)))
        return printf("restore failed: %s\n", libxl_ctx_last_error(ctx)), 1;
    close(fd);
    libxl_domain_unpause(ctx, domid, NULL);
    pause_ms(300);
    libxl_domain_info(ctx, &info, domid);
    printf("restored as domain %u: %s, self-checks passed %llu failed %llu\n", domid,
           info.running ? "running" : "not running",
           (unsigned long long)info.sim_selfchecks_passed,
           (unsigned long long)info.sim_selfchecks_failed);
    list(ctx);
    rc = info.running && info.sim_selfchecks_passed >= 1 && !info.sim_selfchecks_failed ? 0 : 1;
    libxl_domain_destroy(ctx, domid, NULL);
    libxl_domain_config_dispose(&c);
    libxl_ctx_free(ctx);
    return rc;
}
