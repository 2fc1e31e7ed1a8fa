/*
 * Kernel ABI constants the simulated hypervisor needs but that Debian 12's
 * linux-libc-dev (6.1) predates: userfaultfd write-protect ASYNC mode (6.7) and the
 * PAGEMAP_SCAN ioctl on /proc/<pid>/pagemap (6.7).  Values are the kernel's UAPI.
 */
#ifndef SIMXEN_COMPAT_H
#define SIMXEN_COMPAT_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/userfaultfd.h>
#include <linux/fs.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1ULL << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#endif

#ifndef PAGEMAP_SCAN
struct page_region {
    uint64_t start;
    uint64_t end;
    uint64_t categories;
};

struct pm_scan_arg {
    uint64_t size;
    uint64_t flags;
    uint64_t start;
    uint64_t end;
    uint64_t walk_end;
    uint64_t vec;
    uint64_t vec_len;
    uint64_t max_pages;
    uint64_t category_inverted;
    uint64_t category_mask;
    uint64_t category_anyof_mask;
    uint64_t return_mask;
};

#define PAGE_IS_WPALLOWED (1ULL << 0)
#define PAGE_IS_WRITTEN   (1ULL << 1)
#define PAGE_IS_FILE      (1ULL << 2)
#define PAGE_IS_PRESENT   (1ULL << 3)

#define PM_SCAN_WP_MATCHING   (1ULL << 0)
#define PM_SCAN_CHECK_WPASYNC (1ULL << 1)

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#endif
