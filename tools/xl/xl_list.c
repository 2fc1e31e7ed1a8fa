/* xl list: upstream's table (columns, six state letters) or JSON (-l). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"

/*
 * r b p s, then the shutdown reason as one letter (upstream's order: poweroff '-',
 * reboot 'r', suspend 's', crash 'c', watchdog 'w', soft reset 'S'), then d.
 */
static void state_str(const libxl_dominfo *d, char s[7])
{
    static const char reason_letters[] = "-rscwS";
    unsigned int reason = d->shutdown ? d->shutdown_reason : 0;

    s[0] = d->running ? 'r' : '-';
    s[1] = d->blocked ? 'b' : '-';
    s[2] = d->paused ? 'p' : '-';
    s[3] = d->shutdown ? 's' : '-';
    s[4] = reason < sizeof(reason_letters) - 1 ? reason_letters[reason] : '?';
    s[5] = d->dying ? 'd' : '-';
    s[6] = 0;
}

static json_object *domain_json(const libxl_dominfo *d)
{
    json_object *o = json_object_new_object(), *s = json_object_new_object();
    libxl_domain_config c;
    char st[7];

    state_str(d, st);
    json_object_object_add(o, "domid", json_object_new_int((int)d->domid));
    if (!libxl_retrieve_domain_configuration(ctx, d->domid, &c, NULL)) {
        char *js = libxl_domain_config_to_json(ctx, &c);

        json_object_object_add(o, "config", js ? json_tokener_parse(js) : NULL);
        free(js);
        libxl_domain_config_dispose(&c);
    }
    json_object_object_add(s, "state", json_object_new_string(st));
    json_object_object_add(s, "steps", json_object_new_int64((int64_t)d->cpu_time));
    json_object_object_add(s, "resumes", json_object_new_int64((int64_t)d->sim_resumes));
    json_object_object_add(s, "selfchecks_passed",
                           json_object_new_int64((int64_t)d->sim_selfchecks_passed));
    json_object_object_add(s, "selfchecks_failed",
                           json_object_new_int64((int64_t)d->sim_selfchecks_failed));
    json_object_object_add(s, "vcpu_alive", json_object_new_boolean(d->sim_vcpu_alive));
    json_object_object_add(o, "sim_status", s);
    return o;
}

static void print_table(const libxl_dominfo *list, int n, int verbose, int context)
{
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)");
    if (verbose)
        printf("   UUID                            Reason-Code\tSecurity Label");
    else if (context)
        printf("   Security Label");
    printf("\n");
    for (int i = 0; i < n; i++) {
        char *name = libxl_domid_to_name(ctx, list[i].domid), st[7];

        state_str(&list[i], st);
        printf("%-40s %5u %5lu %5u     %s  %8.1f", name ? name : "-", list[i].domid,
               (unsigned long)(list[i].current_memkb / 1024), list[i].vcpu_online, st,
               (double)list[i].cpu_time / 1e9);
        if (verbose) {
            printf(" " LIBXL_UUID_FMT, LIBXL_UUID_BYTES(list[i].uuid));
            if (list[i].shutdown)
                printf(" %8x", list[i].shutdown_reason);
            else
                printf(" %8s", "-");
        }
        /* No XSM here: every domain's security label is "-", as upstream without one. */
        if (verbose || context)
            printf(" %16s", "-");
        printf("\n");
        free(name);
    }
}

int main_list(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "long", 0, 0, 'l' }, { "verbose", 0, 0, 'v' }, { "context", 0, 0, 'Z' },
        { "cpupool", 0, 0, 'c' }, { "numa", 0, 0, 'n' }, { 0, 0, 0, 0 } };
    libxl_dominfo *list = NULL, one;
    int opt, n = 0, details = 0, verbose = 0, context = 0, rc = XL_EXIT_FAIL;
    uint32_t domid;

    while ((opt = xl_getopt(argc, argv, "lvZcn", lopts, "list", 0, &rc)) >= 0) {
        switch (opt) {
        case 'l': details = 1; break;
        case 'v': verbose = 1; break;
        case 'Z': context = 1; break;
        case 'c': return xl_refuse_option("list", "-c", "there are no CPU pools");
        default: return xl_refuse_option("list", "-n", "there is no NUMA node affinity");
        }
    }
    if (opt == XL_GETOPT_EXIT)
        return rc;
    if (argc - optind > 1) {
        fprintf(stderr, "'xl list' takes at most one domain.\n\n");
        xl_help(stderr, "list");
        return XL_EXIT_FAIL;
    }
    if (optind < argc) {
        if (xl_find_domain(argv[optind], &domid) || libxl_domain_info(ctx, &one, domid)) {
            fprintf(stderr, "Error: Domain '%s' does not exist.\n", argv[optind]);
            return XL_EXIT_FAIL;
        }
        n = 1;
    } else {
        list = libxl_list_domain(ctx, &n);
        if (!list) {
            fprintf(stderr, "libxl_list_domain failed.\n");
            return XL_EXIT_FAIL;
        }
    }
    if (details) {
        json_object *arr = json_object_new_array();

        for (int i = 0; i < n; i++)
            json_object_array_add(arr, domain_json(list ? &list[i] : &one));
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_SPACED));
        json_object_put(arr);
    } else {
        print_table(list ? list : &one, n, verbose, context);
    }
    if (list)
        libxl_dominfo_list_free(list, n);
    return XL_EXIT_OK;
}
