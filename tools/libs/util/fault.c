/* The fault table (xfault.h): COLO_FAULT, parsed once. */
#include "xfault.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What each fault's value may be: between min and max arguments (a named point first,
 * for some), the second at most ms_limit when that is set. */
static const struct spec {
    const char *name, *syntax;
    unsigned int min, max;
    unsigned long ms_limit;
    const char *const *points;   /* NULL: numbers only */
} specs[XFAULT__COUNT] = {
    [XFAULT_PRIMARY_STALL] = { "primary-stall", "N or N:MS", 1, 2, 0, NULL },
    [XFAULT_PRIMARY_DIES_AT] = { "primary-dies-at", "BYTES", 1, 1, 0, NULL },
    [XFAULT_MAIN_CUT_AT] = { "main-cut-at", "BYTES", 1, 1, 0, NULL },
    [XFAULT_SVM_SCRIBBLE] = { "svm-scribble", "PFN", 1, 1, 0, NULL },
    [XFAULT_MAIN_DELAY] = { "main-delay", "BYTES:MS", 2, 2, XFAULT_DELAY_MS_MAX, NULL },
    [XFAULT_BACK_CUT_AT] = { "back-cut-at", "BYTES", 1, 1, 0, NULL },
    [XFAULT_BACK_CORRUPT_AT] = { "back-corrupt-at", "BYTES", 1, 1, 0, NULL },
    [XFAULT_BACK_DELAY] = { "back-delay", "BYTES:MS", 2, 2, XFAULT_DELAY_MS_MAX, NULL },
    [XFAULT_HELPER_PIPE_CUT_AT] = { "helper-pipe-cut-at", "BYTES", 1, 1, 0, NULL },
    [XFAULT_HELPER_KILL_AT] = {
        "helper-kill-at", "POINT:N (POINT suspend, checkpoint or restore-checkpoint)", 2, 2,
        0, (const char *const[]){ [XFAULT_AT_SUSPEND] = "suspend",
                                  [XFAULT_AT_CHECKPOINT] = "checkpoint",
                                  [XFAULT_AT_RESTORE_CHECKPOINT] = "restore-checkpoint",
                                  NULL } },
    [XFAULT_PROXY_BYPASS] = { "proxy-bypass", "nothing (it takes no value)", 0, 0, 0, NULL },
};

static struct xfault faults[XFAULT__COUNT];
static int selected[XFAULT__COUNT];
static pthread_once_t faults_once = PTHREAD_ONCE_INIT;

/* One argument of item (ending at end) at *p into *out: 0, or -1. */
static int parse_arg(const struct spec *s, unsigned int nth, const char **p, const char *end,
                     unsigned long *out)
{
    const char *colon = memchr(*p, ':', (size_t)(end - *p));
    size_t len = (size_t)((colon ? colon : end) - *p);
    char *stop;
    int rc = -1;

    if (nth == 0 && s->points) {
        for (unsigned long i = 0; s->points[i]; i++)
            if (strlen(s->points[i]) == len && !strncmp(*p, s->points[i], len)) {
                *out = i;
                rc = 0;
            }
        goto out;
    }
    errno = 0;
    *out = strtoul(*p, &stop, 10);
    if (stop != *p + len || !len || errno || **p == '-' || (nth == 1 && s->ms_limit && *out > s->ms_limit))
        goto out;
    rc = 0;
 out:
    *p += len + (colon != NULL);
    return rc;
}

/* "name=ARG[:ARG]" into its table entry: 0, or -1 with the reason in why. */
static int parse_one(const char *item, size_t len, char *why, size_t whylen)
{
    const char *eq = memchr(item, '=', len), *p, *end = item + len;
    size_t nlen = eq ? (size_t)(eq - item) : len;
    const struct spec *s;
    int id = -1;

    for (int i = 0; i < XFAULT__COUNT; i++)
        if (strlen(specs[i].name) == nlen && !strncmp(item, specs[i].name, nlen))
            id = i;
    if (id < 0) {
        snprintf(why, whylen, "unknown fault '%.*s'", (int)nlen, item);
        return -1;
    }
    s = &specs[id];
    if (selected[id]) {
        snprintf(why, whylen, "fault '%s' is given twice", s->name);
        return -1;
    }
    if (!eq && s->min == 0) {
        faults[id].nargs = 0;
        selected[id] = 1;
        return 0;
    }
    if (!eq) {
        snprintf(why, whylen, "fault '%s' needs an argument (%s)", s->name, s->syntax);
        return -1;
    }
    faults[id].nargs = 0;
    for (p = eq + 1; p < end || faults[id].nargs == 0;) {
        unsigned long v;

        if (faults[id].nargs == s->max || parse_arg(s, faults[id].nargs, &p, end, &v)) {
            faults[id].nargs = s->max + 1;   /* reported below */
            break;
        }
        faults[id].arg[faults[id].nargs++] = v;
        if (p == end && end[-1] == ':') {
            faults[id].nargs = s->max + 1;   /* a trailing ':' */
            break;
        }
    }
    if (faults[id].nargs < s->min || faults[id].nargs > s->max) {
        snprintf(why, whylen, "fault '%s': '%.*s' is not %s", s->name, (int)(end - eq - 1),
                 eq + 1, s->syntax);
        if (s->ms_limit)
            snprintf(why + strlen(why), whylen - strlen(why), ", MS at most %lu", s->ms_limit);
        return -1;
    }
    selected[id] = 1;
    return 0;
}

int xfault_parse(const char *v, char *why, size_t whylen)
{
    const char *item, *comma;
    int rc = 0;

    memset(selected, 0, sizeof(selected));
    if (!v || !*v)
        goto out;
    for (item = v; *item; item = comma + 1) {
        comma = strchr(item, ',');
        if (!comma)
            comma = item + strlen(item);
        if (parse_one(item, (size_t)(comma - item), why, whylen)) {
            memset(selected, 0, sizeof(selected));
            rc = -1;
            goto out;
        }
        if (!*comma)
            break;
    }
 out:
    return rc;
}

static void read_faults(void)
{
    const char *v = getenv("COLO_FAULT");
    char why[200];

    if (xfault_parse(v, why, sizeof(why)))
        fprintf(stderr, "COLO_FAULT='%s': %s: no fault injected\n", v, why);
}

const struct xfault *xfault(enum xfault_id id)
{
    pthread_once(&faults_once, read_faults);
    return id >= 0 && id < XFAULT__COUNT && selected[id] ? &faults[id] : NULL;
}

const char *xfault_name(enum xfault_id id)
{
    return id >= 0 && id < XFAULT__COUNT ? specs[id].name : "?";
}
