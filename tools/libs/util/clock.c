/* The monotonic clock (xutil.h). */
#include "xutil.h"

#include <errno.h>
#include <time.h>

uint64_t clock_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t clock_now_ms(void)
{
    return clock_now_ns() / 1000000ULL;
}

double clock_now_s(void)
{
    return (double)clock_now_ns() / 1e9;
}

void clock_sleep_ms(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}
