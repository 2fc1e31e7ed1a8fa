/*
 * Log-dirty through the kernel: the vcpu process registers guest memory with
 * userfaultfd in write-protect ASYNC mode; the toolstack reads and re-arms the
 * "written" bits with the PAGEMAP_SCAN ioctl on /proc/<vcpu>/pagemap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "simxen-compat.h"
#include "simxen-shared.h"

#define SCAN_VEC 512

int simxen_uffd_wp_register(void *base, size_t len, char *why, size_t whylen)
{
    struct uffdio_api api;
    struct uffdio_register reg;
    struct uffdio_writeprotect wp;
    uint64_t need = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED |
                    UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
    int fd;

    fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0 && errno == EINVAL)
        fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, whylen, "userfaultfd() failed: %s (CONFIG_USERFAULTFD, "
                 "vm.unprivileged_userfaultfd?)", strerror(errno));
        return -1;
    }
    memset(&api, 0, sizeof(api));
    api.api = UFFD_API;
    api.features = need;
    if (ioctl(fd, UFFDIO_API, &api)) {
        snprintf(why, whylen, "UFFDIO_API with UFFD_FEATURE_WP_ASYNC|WP_UNPOPULATED|"
                 "WP_HUGETLBFS_SHMEM refused: %s (need Linux >= 6.7 with "
                 "CONFIG_PTE_MARKER_UFFD_WP)", strerror(errno));
        goto fail;
    }
    if ((api.features & need) != need) {
        snprintf(why, whylen, "kernel lacks userfaultfd features 0x%llx "
                 "(WP_ASYNC/WP_UNPOPULATED/WP_HUGETLBFS_SHMEM)",
                 (unsigned long long)(need & ~api.features));
        goto fail;
    }
    memset(&reg, 0, sizeof(reg));
    reg.range.start = (uintptr_t)base;
    reg.range.len = len;
    reg.mode = UFFDIO_REGISTER_MODE_WP;
    if (ioctl(fd, UFFDIO_REGISTER, &reg)) {
        snprintf(why, whylen, "UFFDIO_REGISTER(MODE_WP) on shmem failed: %s", strerror(errno));
        goto fail;
    }
    memset(&wp, 0, sizeof(wp));
    wp.range.start = (uintptr_t)base;
    wp.range.len = len;
    wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
    if (ioctl(fd, UFFDIO_WRITEPROTECT, &wp)) {
        snprintf(why, whylen, "UFFDIO_WRITEPROTECT failed: %s", strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    errno = ENOTSUP;
    return -1;
}

int64_t simxen_scan(int pagemap_fd, uint64_t start, uint64_t end, int clean,
                    unsigned long *bitmap, uint64_t nbits)
{
    struct page_region vec[SCAN_VEC];
    struct pm_scan_arg arg;
    int64_t dirty = 0;
    uint64_t pos = start;
    const unsigned bpl = 8 * sizeof(unsigned long);

    while (pos < end) {
        long n;

        memset(&arg, 0, sizeof(arg));
        arg.size = sizeof(arg);
        arg.flags = clean ? (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC) : 0;
        arg.start = pos;
        arg.end = end;
        arg.vec = (uintptr_t)vec;
        arg.vec_len = SCAN_VEC;
        arg.category_mask = PAGE_IS_WRITTEN;
        arg.return_mask = PAGE_IS_WRITTEN;
        n = ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
        if (n < 0)
            return -1;
        if (n > SCAN_VEC) {
            errno = EIO;
            return -1;
        }
        for (long i = 0; i < n; i++) {
            uint64_t a = vec[i].start, b = vec[i].end;

            if (a < start || b > end || a >= b || (a & 4095) || (b & 4095)) {
                errno = EIO;
                return -1;
            }
            for (uint64_t p = (a - start) >> 12; p < (b - start) >> 12; p++) {
                if (bitmap && p < nbits)
                    bitmap[p / bpl] |= 1UL << (p % bpl);
                dirty++;
            }
        }
        if (arg.walk_end <= pos || arg.walk_end > end) {
            if (arg.walk_end == end)
                break;
            errno = EIO;
            return -1;
        }
        pos = arg.walk_end;
    }
    return dirty;
}

/* ---- the probe: does this kernel report a written page? -------------------------------- */

static int probe_expect(int pm, uint8_t *base, size_t npages, int clean, long want_pfn,
                        const char *step, char *why, size_t len)
{
    unsigned long bm[1] = { 0 };
    int64_t n = simxen_scan(pm, (uintptr_t)base, (uintptr_t)base + npages * 4096, clean, bm,
                            npages);

    if (n < 0) {
        snprintf(why, len, "PAGEMAP_SCAN ioctl on /proc/self/pagemap failed (%s): %s "
                 "(need Linux >= 6.7)", step, strerror(errno));
        return -1;
    }
    if (want_pfn < 0 ? n != 0 : (n != 1 || bm[0] != 1UL << want_pfn)) {
        snprintf(why, len, "PAGEMAP_SCAN did not report exactly the written page (%s): "
                 "%lld pages, bitmap 0x%lx, expected %s%ld -- the uffd-wp async tracker "
                 "(UFFD_FEATURE_WP_ASYNC / PAGE_IS_WRITTEN) does not work on shmem here",
                 step, (long long)n, bm[0], want_pfn < 0 ? "none " : "pfn ", want_pfn);
        return -1;
    }
    return 0;
}

int simxen_probe_logdirty(char *why, size_t len)
{
    const size_t npages = 16;
    uint8_t *mem = MAP_FAILED;
    int mfd = -1, ufd = -1, pm = -1, rc = -1;

    mfd = memfd_create("simxen-probe", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, npages * 4096)) {
        snprintf(why, len, "memfd_create: %s", strerror(errno));
        goto out;
    }
    mem = mmap(NULL, npages * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (mem == MAP_FAILED) {
        snprintf(why, len, "mmap: %s", strerror(errno));
        goto out;
    }
    madvise(mem, npages * 4096, MADV_NOHUGEPAGE);
    mem[0] = 1;                     /* one page present before protection */
    ufd = simxen_uffd_wp_register(mem, npages * 4096, why, len);
    if (ufd < 0)
        goto out;
    pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) {
        snprintf(why, len, "open /proc/self/pagemap: %s", strerror(errno));
        goto out;
    }
    if (probe_expect(pm, mem, npages, 0, -1, "right after write-protect", why, len))
        goto out;
    *(volatile uint8_t *)&mem[3 * 4096] = 0x5a;
    if (probe_expect(pm, mem, npages, 0, 3, "peek after a write", why, len) ||
        probe_expect(pm, mem, npages, 1, 3, "clean after a write", why, len) ||
        probe_expect(pm, mem, npages, 0, -1, "peek after clean", why, len))
        goto out;
    *(volatile uint8_t *)&mem[0] = 2;   /* present page, re-protected by the clean */
    if (probe_expect(pm, mem, npages, 1, 0, "write to a present page", why, len))
        goto out;
    *(volatile uint8_t *)&mem[7 * 4096 + 100] = 0xa5;   /* never touched before */
    if (probe_expect(pm, mem, npages, 1, 7, "write to an unpopulated page", why, len))
        goto out;
    rc = 0;
out:
    if (pm >= 0)
        close(pm);
    if (ufd >= 0)
        close(ufd);
    if (mem != MAP_FAILED)
        munmap(mem, npages * 4096);
    if (mfd >= 0)
        close(mfd);
    if (rc)
        errno = ENOTSUP;
    return rc;
}
