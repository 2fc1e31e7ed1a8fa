/* The no-migration variant: save and restore fail with ENOSYS, nothing else happens. */
#include <errno.h>

#include "test.h"
#include "xenguest_colo.h"

int main(void)
{
    struct save_callbacks scb = { 0 };
    struct restore_callbacks rcb = { 0 };
    xen_pfn_t store = 0, console = 0;
    int rc;

    errno = 0;
    rc = xc_domain_save(NULL, -1, 1, 0, &scb, XC_STREAM_PLAIN, -1);
    CHECK(rc == -1 && errno == ENOSYS, "xc_domain_save returns -1/ENOSYS (rc %d errno %d)", rc,
          errno);
    errno = 0;
    rc = xc_domain_restore(NULL, -1, 1, 0, &store, 0, 0, &console, 0, XC_STREAM_COLO, &rcb, -1);
    CHECK(rc == -1 && errno == ENOSYS, "xc_domain_restore returns -1/ENOSYS (rc %d errno %d)",
          rc, errno);
    return test_done();
}
