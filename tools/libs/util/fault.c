/* The fault table (xfault.h): COLO_FAULT, parsed once. */
#include "xfault.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[XFAULT__COUNT] = {
    [XFAULT_PRIMARY_STALL] = "primary-stall",
    [XFAULT_PRIMARY_DIES_AT] = "primary-dies-at",
    [XFAULT_MAIN_CUT_AT] = "main-cut-at",
    [XFAULT_SVM_SCRIBBLE] = "svm-scribble",
};

static struct xfault faults[XFAULT__COUNT];
static int selected[XFAULT__COUNT];
static pthread_once_t faults_once = PTHREAD_ONCE_INIT;

/* "name=ARG[:ARG]" into its table entry: 0, or -1 with the reason in why. */
static int parse_one(const char *item, size_t len, char *why, size_t whylen)
{
    const char *eq = memchr(item, '=', len), *p;
    size_t nlen = eq ? (size_t)(eq - item) : len;
    int id = -1;

    for (int i = 0; i < XFAULT__COUNT; i++)
        if (strlen(fault_names[i]) == nlen && !strncmp(item, fault_names[i], nlen))
            id = i;
    if (id < 0) {
        snprintf(why, whylen, "unknown fault '%.*s'", (int)nlen, item);
        return -1;
    }
    if (!eq) {
        snprintf(why, whylen, "fault '%s' needs an argument", fault_names[id]);
        return -1;
    }
    faults[id].nargs = 0;
    for (p = eq + 1; p < item + len;) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(p, &end, 10);
        if (end == p || errno || *p == '-' || faults[id].nargs == 2 ||
            (end < item + len && *end != ':')) {
            snprintf(why, whylen, "fault '%s': '%.*s' is not N or N:M", fault_names[id],
                     (int)(item + len - eq - 1), eq + 1);
            return -1;
        }
        faults[id].arg[faults[id].nargs++] = v;
        p = end < item + len ? end + 1 : end;
    }
    selected[id] = 1;
    return 0;
}

static void read_faults(void)
{
    const char *v = getenv("COLO_FAULT"), *item, *comma;
    char why[160];

    if (!v || !*v)
        return;
    for (item = v; *item; item = comma + 1) {
        comma = strchr(item, ',');
        if (!comma)
            comma = item + strlen(item);
        if (parse_one(item, (size_t)(comma - item), why, sizeof(why))) {
            fprintf(stderr, "COLO_FAULT='%s': %s: no fault injected\n", v, why);
            memset(selected, 0, sizeof(selected));
            return;
        }
        if (!*comma)
            break;
    }
}

const struct xfault *xfault(enum xfault_id id)
{
    pthread_once(&faults_once, read_faults);
    return id >= 0 && id < XFAULT__COUNT && selected[id] ? &faults[id] : NULL;
}
