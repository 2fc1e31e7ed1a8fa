/* xl debug-digest: digests of a domain's memory and vcpu context (for the tests). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain_compare.h"
#include "xl.h"

int main_debug_digest(int argc, char **argv)
{
    xc_interface *xch;
    uint64_t m, cdig;
    uint32_t domid;
    int opt, rc = XL_EXIT_FAIL;

    while ((opt = xl_getopt(argc, argv, "", NULL, "debug-digest", 1, &rc)) >= 0)
        ;
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (xl_find_domain(argv[optind], &domid))
        return XL_EXIT_FAIL;
    xch = xhv_open(NULL);
    if (!xch) {
        fprintf(stderr, "xl debug-digest: cannot open the hypervisor: %s\n", strerror(errno));
        return XL_EXIT_FAIL;
    }
    if (domain_digest(xch, domid, &m, &cdig)) {
        fprintf(stderr, "xl debug-digest: cannot read domain %u: %s\n", domid, strerror(errno));
    } else {
        printf("mem=%016llx ctx=%016llx\n", (unsigned long long)m, (unsigned long long)cdig);
        rc = XL_EXIT_OK;
    }
    xhv_close(xch);
    return rc;
}
