/*
 * xl's save-file header and its JSON domain config (xl_read_savefile_header, hence
 * libxl_domain_config_from_json) on one input, as xl restore and migrate-receive read a
 * stream.  On refusal nothing stays allocated; an accepted config must come back
 * unchanged through its JSON.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_xl_common.h"

static int fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_xl_init();
    fd = fuzz_memfd("fuzz-savefile");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    libxl_domain_config c, back;
    char *json;

    fuzz_memfd_load(fd, data, size);
    if (xl_read_savefile_header(fd, &c, "fuzz"))
        return 0;
    json = libxl_domain_config_to_json(ctx, &c);
    /* An upstream config is kept as it came, and goes out as it came. */
    if (json) {
        if (libxl_domain_config_from_json(ctx, &back, json))
            fuzz_fail("the JSON of an accepted config does not parse:\n%s", json);
        if (!fuzz_same_config(&c, &back))
            fuzz_fail("the config changed through its JSON:\n%s", json);
        libxl_domain_config_dispose(&back);
        free(json);
    } else if (!c.xen_json) {
        fuzz_fail("an accepted config has no JSON form");
    }
    libxl_domain_config_dispose(&c);
    return 0;
}
