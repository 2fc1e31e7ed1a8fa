/*
 * xl.cfg-style guest configs: `key = value` lines, # comments, strings in double or
 * single quotes, decimal integers.  Keys: name, type (hvm, pvh, pv; builder="hvm" is
 * accepted), memory (MiB), maxmem (MiB, must equal memory), vcpus, and the simulated
 * workload: sim_program, sim_rate, sim_seed, sim_max_steps, sim_flags, sim_host_input, and
 * its network device: sim_net (where the output is served), sim_net_compare (COLO).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

/* Xen's HVM_MAX_VCPUS: no guest type of this toolstack can have more. */
#define XL_MAX_VCPUS 128

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    unsigned long long x;

    if (!isdigit((unsigned char)*v))
        return -1;
    errno = 0;
    x = strtoull(v, &end, 0);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

int xl_parse_config(const char *path, const char *text, libxl_domain_config *c, char *err,
                    size_t errlen)
{
    char *copy = strdup(text), *line, *save = NULL;
    uint64_t memory = 0, maxmem = 0, u;
    int lineno = 0, rc = -1;

    libxl_domain_config_init(c);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *key, *val, *eq, *hash, *sval = NULL;
        int quoted = 0;

        lineno++;
        /* Comments (outside quotes: values here never contain '#'). */
        hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        key = trim(line);
        if (!*key)
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected `key = value`", path, lineno);
            goto out;
        }
        *eq = 0;
        val = trim(eq + 1);
        key = trim(key);
        if ((*val == '"' || *val == '\'') && strlen(val) >= 2 && val[strlen(val) - 1] == *val) {
            val[strlen(val) - 1] = 0;
            sval = val + 1;
            quoted = 1;
        } else if (*val == '[') {
            snprintf(err, errlen, "%s:%d: %s: lists are not supported by this toolstack", path,
                     lineno, key);
            goto out;
        }
#define NEED_INT(dst) do {                                                                 \
            if (quoted || parse_u64(val, &(dst))) {                                         \
                snprintf(err, errlen, "%s:%d: %s must be a number (got %s)", path, lineno,  \
                         key, val);                                                         \
                goto out;                                                                   \
            }                                                                               \
        } while (0)
#define NEED_STR() do {                                                                    \
            if (!quoted) {                                                                  \
                snprintf(err, errlen, "%s:%d: %s must be a quoted string (got %s)", path,   \
                         lineno, key, val);                                                 \
                goto out;                                                                   \
            }                                                                               \
        } while (0)
        if (!strcmp(key, "name")) {
            NEED_STR();
            free(c->c_info.name);
            c->c_info.name = strdup(sval);
        } else if (!strcmp(key, "type") || !strcmp(key, "builder")) {
            NEED_STR();
            if (!strcmp(sval, "hvm"))
                c->c_info.type = LIBXL_DOMAIN_TYPE_HVM;
            else if (!strcmp(sval, "pvh"))
                c->c_info.type = LIBXL_DOMAIN_TYPE_PVH;
            else if (!strcmp(sval, "pv") || !strcmp(sval, "generic"))
                c->c_info.type = LIBXL_DOMAIN_TYPE_PV;
            else {
                snprintf(err, errlen, "%s:%d: unknown %s \"%s\"", path, lineno, key, sval);
                goto out;
            }
        } else if (!strcmp(key, "memory")) {
            NEED_INT(memory);
        } else if (!strcmp(key, "maxmem")) {
            NEED_INT(maxmem);
        } else if (!strcmp(key, "vcpus") || !strcmp(key, "maxvcpus")) {
            NEED_INT(u);
            if (u < 1 || u > XL_MAX_VCPUS) {
                snprintf(err, errlen, "%s:%d: %s must be 1 to %d (got %s)", path, lineno, key,
                         XL_MAX_VCPUS, val);
                goto out;
            }
            c->b_info.max_vcpus = (int)u;
        } else if (!strcmp(key, "sim_program")) {
            NEED_STR();
            free(c->sim.program);
            c->sim.program = strdup(sval);
        } else if (!strcmp(key, "sim_rate")) {
            NEED_INT(c->sim.rate);
        } else if (!strcmp(key, "sim_seed")) {
            NEED_INT(c->sim.seed);
        } else if (!strcmp(key, "sim_max_steps")) {
            NEED_INT(c->sim.max_steps);
        } else if (!strcmp(key, "sim_flags")) {
            NEED_INT(c->sim.flags);
        } else if (!strcmp(key, "sim_host_input")) {
            NEED_INT(c->sim.host_input);
        } else if (!strcmp(key, "sim_net")) {
            NEED_STR();
            free(c->sim.net);
            c->sim.net = strdup(sval);
        } else if (!strcmp(key, "sim_net_compare")) {
            NEED_STR();
            free(c->sim.net_compare);
            c->sim.net_compare = strdup(sval);
        } else if (xl_verbose) {
            fprintf(stderr, "%s:%d: warning: ignoring unsupported key '%s'\n", path, lineno, key);
        }
    }
    if (!c->c_info.name) {
        snprintf(err, errlen, "%s: no name (add `name = \"...\"`)", path);
        goto out;
    }
    if (!memory) {
        snprintf(err, errlen, "%s: no memory (add `memory = <MiB>`)", path);
        goto out;
    }
    if (maxmem && maxmem != memory) {
        snprintf(err, errlen, "%s: maxmem (%llu) must equal memory (%llu): no ballooning here",
                 path, (unsigned long long)maxmem, (unsigned long long)memory);
        goto out;
    }
    if (memory > (1ULL << 14)) {
        snprintf(err, errlen, "%s: memory %llu MiB is more than the simulated hypervisor's "
                 "16384 MiB", path, (unsigned long long)memory);
        goto out;
    }
    c->b_info.max_memkb = c->b_info.target_memkb = memory * 1024;
    if (!c->sim.program) {
        snprintf(err, errlen, "%s: no sim_program (incrementer, crcblocks, dirtyrate, "
                 "divergent or netsend)", path);
        goto out;
    }
    rc = 0;
 out:
    free(copy);
    /* A refused config leaves nothing for the caller to free. */
    if (rc)
        libxl_domain_config_dispose(c);
    return rc;
}
