/*
 * xl's config parser (xl_parse_config) on one input, as xl create reads a config file.
 * A config it accepts must be one xl can use (a name, memory within the simulated
 * hypervisor's limit, at least one vcpu) and must come back unchanged through the JSON
 * form xl's save files and `xl list -l` carry; on refusal it says why and leaves nothing
 * allocated.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_xl_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_xl_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    libxl_domain_config c, back;
    char *text = malloc(size + 1), *json;
    char err[512];

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    err[0] = 0;
    if (xl_parse_config("fuzz.cfg", text, &c, err, sizeof(err))) {
        if (!err[0])
            fuzz_fail("config refused without a reason");
        free(text);
        return 0;
    }
    free(text);
    if (!c.c_info.name || !c.sim.program || !c.b_info.max_memkb ||
        c.b_info.max_memkb > (16ULL << 20) || c.b_info.max_vcpus < 1)
        fuzz_fail("accepted a config xl cannot use (name %s, %llu KiB, %d vcpus)",
                  c.c_info.name ? c.c_info.name : "(none)",
                  (unsigned long long)c.b_info.max_memkb, c.b_info.max_vcpus);
    json = libxl_domain_config_to_json(ctx, &c);
    if (!json)
        fuzz_fail("an accepted config has no JSON form");
    if (libxl_domain_config_from_json(ctx, &back, json))
        fuzz_fail("the JSON of an accepted config does not parse:\n%s", json);
    if (!fuzz_same_config(&c, &back))
        fuzz_fail("the config changed through its JSON:\n%s", json);
    free(json);
    libxl_domain_config_dispose(&back);
    libxl_domain_config_dispose(&c);
    return 0;
}
