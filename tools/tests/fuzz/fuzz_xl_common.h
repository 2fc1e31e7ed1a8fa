/* xl's globals for the xl harnesses (xl.c, which defines them, has xl's main). */
#ifndef FUZZ_XL_COMMON_H
#define FUZZ_XL_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "libxl_internal.h"
#include "xl.h"

libxl_ctx *ctx;
int xl_verbose, xl_force, xl_dryrun, xl_progress_use_cr, xl_timestamps;

static void fuzz_xtl_vmessage(struct xentoollog_logger *lg, xentoollog_level level,
                              int errnoval, const char *context, const char *fmt, va_list ap)
{
    (void)lg;
    (void)level;
    (void)errnoval;
    (void)context;
    if (fuzz_verbose())
        vfprintf(stderr, fmt, ap), fputc('\n', stderr);
}

static struct xentoollog_logger fuzz_xtl = { .vmessage = fuzz_xtl_vmessage };
static struct libxl__ctx fuzz_ctx = { .lg = &fuzz_xtl };

/* libxl's context for the JSON code, which only logs through it. */
static void fuzz_xl_init(void)
{
    ctx = &fuzz_ctx;
}

/* The fields a config's JSON carries, compared: what to_json wrote, from_json read. */
static int fuzz_same_config(const libxl_domain_config *a, const libxl_domain_config *b)
{
#define SAME_STR(f) ((!a->f && !b->f) || (a->f && b->f && !strcmp(a->f, b->f)))
    /* Name and program go out as "" when there is none: the callers treat both alike. */
#define SAME_OR_EMPTY(f) (!strcmp(a->f ? a->f : "", b->f ? b->f : ""))
    return SAME_OR_EMPTY(c_info.name) && a->c_info.type == b->c_info.type &&
           a->b_info.max_vcpus == b->b_info.max_vcpus &&
           a->b_info.max_memkb == b->b_info.max_memkb &&
           a->b_info.target_memkb == b->b_info.target_memkb && SAME_OR_EMPTY(sim.program) &&
           a->sim.rate == b->sim.rate && a->sim.seed == b->sim.seed &&
           a->sim.max_steps == b->sim.max_steps && a->sim.flags == b->sim.flags &&
           a->sim.host_input == b->sim.host_input && SAME_STR(sim.net) &&
           SAME_STR(sim.net_compare);
#undef SAME_STR
#undef SAME_OR_EMPTY
}

#endif
