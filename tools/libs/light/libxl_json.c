/*
 * The domain config as JSON: the form xl's save-file header, the stored userdata and
 * `xl list -l` carry.  Simulated guests have a "sim" object; a config written by
 * upstream's libxl (real Xen) is kept whole and goes back out as it came.
 */
#include "libxl_internal.h"
#include "libxl_device.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

void libxl_domain_config_init(libxl_domain_config *c)
{
    memset(c, 0, sizeof(*c));
    c->c_info.type = LIBXL_DOMAIN_TYPE_HVM;
    c->b_info.max_vcpus = 1;
}

void libxl_domain_config_dispose(libxl_domain_config *c)
{
    free(c->c_info.name);
    free(c->sim.program);
    free(c->sim.net);
    free(c->sim.net_compare);
    free(c->xen_json);
    for (int i = 0; i < c->num_nics; i++)
        libxl_device_nic_dispose(&c->nics[i]);
    free(c->nics);
    memset(c, 0, sizeof(*c));
}

static const char *type_str(libxl_domain_type t)
{
    return t == LIBXL_DOMAIN_TYPE_PV ? "pv" : t == LIBXL_DOMAIN_TYPE_PVH ? "pvh" : "hvm";
}

/* Upstream's JSON as it came, with the domain's current name. */
static json_object *xen_config_json(const libxl_domain_config *p)
{
    json_object *o = json_tokener_parse(p->xen_json), *c;

    if (!o)
        return NULL;
    if (p->c_info.name && json_object_object_get_ex(o, "c_info", &c) &&
        json_object_is_type(c, json_type_object))
        json_object_object_add(c, "name", json_object_new_string(p->c_info.name));
    return o;
}

static json_object *config_json(const libxl_domain_config *p)
{
    json_object *o, *c, *b, *s;

    if (p->xen_json)
        return xen_config_json(p);
    o = json_object_new_object();
    c = json_object_new_object();
    b = json_object_new_object();
    s = json_object_new_object();

    json_object_object_add(c, "type", json_object_new_string(type_str(p->c_info.type)));
    json_object_object_add(c, "name", json_object_new_string(p->c_info.name ? p->c_info.name : ""));
    json_object_object_add(b, "max_vcpus", json_object_new_int(p->b_info.max_vcpus));
    json_object_object_add(b, "max_memkb", json_object_new_int64((int64_t)p->b_info.max_memkb));
    json_object_object_add(b, "target_memkb",
                           json_object_new_int64((int64_t)(p->b_info.target_memkb
                                                               ? p->b_info.target_memkb
                                                               : p->b_info.max_memkb)));
    json_object_object_add(s, "program",
                           json_object_new_string(p->sim.program ? p->sim.program : ""));
    json_object_object_add(s, "rate", json_object_new_int64((int64_t)p->sim.rate));
    json_object_object_add(s, "seed", json_object_new_int64((int64_t)p->sim.seed));
    json_object_object_add(s, "max_steps", json_object_new_int64((int64_t)p->sim.max_steps));
    json_object_object_add(s, "flags", json_object_new_int64((int64_t)p->sim.flags));
    json_object_object_add(s, "host_input", json_object_new_int64((int64_t)p->sim.host_input));
    if (p->sim.net)
        json_object_object_add(s, "net", json_object_new_string(p->sim.net));
    if (p->sim.net_compare)
        json_object_object_add(s, "net_compare", json_object_new_string(p->sim.net_compare));
    json_object_object_add(o, "c_info", c);
    json_object_object_add(o, "b_info", b);
    json_object_object_add(o, "sim", s);
    return o;
}

char *libxl_domain_config_to_json(libxl_ctx *ctx, libxl_domain_config *p)
{
    json_object *o = config_json(p);
    char *s;

    if (!o) {
        LOG_ERR(ctx, "domain config: the stored upstream JSON does not parse");
        return NULL;
    }
    s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_SPACED));
    json_object_put(o);
    return s;
}

static int get_u64(json_object *parent, const char *key, uint64_t *out)
{
    json_object *v;

    if (!json_object_object_get_ex(parent, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    *out = (uint64_t)json_object_get_int64(v);
    return 0;
}

int libxl_domain_config_from_json(libxl_ctx *ctx, libxl_domain_config *p, const char *s)
{
    json_object *o = json_tokener_parse(s), *c, *b, *sim, *v;
    uint64_t u = 0;
    int rc = ERROR_INVAL;

    libxl_domain_config_init(p);
    if (!o || !json_object_is_type(o, json_type_object)) {
        LOG_ERR(ctx, "domain config: not a JSON object");
        goto out;
    }
    if (json_object_object_get_ex(o, "c_info", &c)) {
        if (json_object_object_get_ex(c, "name", &v) && json_object_is_type(v, json_type_string))
            p->c_info.name = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(c, "uuid", &v) &&
            (!json_object_is_type(v, json_type_string) ||
             libxl_uuid_from_string(&p->c_info.uuid, json_object_get_string(v)))) {
            LOG_ERR(ctx, "domain config: c_info.uuid is not a UUID");
            goto out;
        }
        if (json_object_object_get_ex(c, "type", &v) && json_object_is_type(v, json_type_string)) {
            const char *t = json_object_get_string(v);

            p->c_info.type = !strcmp(t, "pv") ? LIBXL_DOMAIN_TYPE_PV
                             : !strcmp(t, "pvh") ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_HVM;
        }
    }
    if (json_object_object_get_ex(o, "b_info", &b)) {
        if (get_u64(b, "max_memkb", &p->b_info.max_memkb) ||
            get_u64(b, "target_memkb", &p->b_info.target_memkb) ||
            get_u64(b, "max_vcpus", &u)) {
            LOG_ERR(ctx, "domain config: b_info has a non-integer field");
            goto out;
        }
        if (u)
            p->b_info.max_vcpus = (int)u;
        /* As the JSON form writes it: no target means all of max_memkb. */
        if (!p->b_info.target_memkb)
            p->b_info.target_memkb = p->b_info.max_memkb;
    }
    if (json_object_object_get_ex(o, "sim", &sim)) {
        if (json_object_object_get_ex(sim, "program", &v) && json_object_is_type(v, json_type_string))
            p->sim.program = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(sim, "net", &v) && json_object_is_type(v, json_type_string))
            p->sim.net = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(sim, "net_compare", &v) &&
            json_object_is_type(v, json_type_string))
            p->sim.net_compare = strdup(json_object_get_string(v));
        if (get_u64(sim, "rate", &p->sim.rate) || get_u64(sim, "seed", &p->sim.seed) ||
            get_u64(sim, "max_steps", &p->sim.max_steps) || get_u64(sim, "flags", &p->sim.flags) ||
            get_u64(sim, "host_input", &p->sim.host_input)) {
            LOG_ERR(ctx, "domain config: sim has a non-integer field");
            goto out;
        }
    }
    if ((rc = libxl__nics_from_json(ctx, o, p)))
        goto out;
    rc = ERROR_INVAL;
    /* No "sim" object: a config written by upstream's libxl (real Xen), kept whole. */
    if (!json_object_object_get_ex(o, "sim", &sim) && !(p->xen_json = strdup(s)))
        goto out;
    rc = 0;
 out:
    if (o)
        json_object_put(o);
    /* A refused config leaves nothing for the caller to free. */
    if (rc)
        libxl_domain_config_dispose(p);
    return rc;
}
