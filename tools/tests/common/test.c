#include "test.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

/* libxl and the simulated hypervisor have the installed helper paths compiled in; a test
 * program runs the build tree's (as scripts/build-tree-env.sh arranges for the scripts),
 * unless the environment already names others. */
__attribute__((constructor)) static void test_use_build_tree_helpers(void)
{
    setenv("SIMXEN_VCPU", TEST_BUILD_ROOT "/xen/simxen-vcpu", 0);
    setenv("LIBXL_SAVE_HELPER", TEST_BUILD_ROOT "/tools/helpers/libxl-save-helper", 0);
    setenv("COLO_PROXY", TEST_BUILD_ROOT "/tools/misc/colo-proxy", 0);
}

int test_failures;
int test_count;

void test_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    test_count++;
    printf("%s %d - ", cond ? "ok" : "not ok", test_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        test_failures++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
}

int test_done(void)
{
    printf("1..%d\n", test_count);
    if (test_count == 0) {
        printf("# no checks ran\n");
        return 1;
    }
    return test_failures ? 1 : 0;
}

static char sim_dir[256];
static pid_t sim_dir_owner;

static void remove_sim_dir(void)
{
    DIR *d;
    struct dirent *e;
    char path[512];

    if (!sim_dir[0] || getpid() != sim_dir_owner)
        return;
    d = opendir(sim_dir);
    if (d) {
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", sim_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(sim_dir);
}

const char *test_sim_dir(void)
{
    if (sim_dir[0])
        return sim_dir;
    snprintf(sim_dir, sizeof(sim_dir), "/dev/shm/simxen-test-%d", (int)getpid());
    if (mkdir(sim_dir, 0700) && errno != EEXIST) {
        perror("mkdir sim dir");
        exit(2);
    }
    sim_dir_owner = getpid();
    setenv("SIMXEN_DIR", sim_dir, 1);
    atexit(remove_sim_dir);
    return sim_dir;
}

int test_bytes_fd(const void *p, size_t n)
{
    char path[] = "/tmp/test-bytes-XXXXXX";
    int fd = mkstemp(path);

    unlink(path);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n)
        exit(2);
    lseek(fd, 0, SEEK_SET);
    return fd;
}
