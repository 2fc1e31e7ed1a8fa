/*
 * The toolstack's small utility library (tools/libs/util/): whole reads and writes on
 * file descriptors, a monotonic clock, pfn bitmaps.  Every layer (engine, libxl, xl,
 * the programs and the tests) uses these instead of keeping copies of its own.
 */
#ifndef XUTIL_H
#define XUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* ---- fd I/O: 0, or -1 with errno set; a read that meets EOF first fails with errno 0
 * (so that callers tell a clean end of stream from a truncated one). ---- */
int read_exact(int fd, void *buf, size_t len);
int write_exact(int fd, const void *buf, size_t len);
/* The vectors are consumed (advanced) as data moves. */
int readv_exact(int fd, struct iovec *iov, int iovcnt);
int writev_exact(int fd, struct iovec *iov, int iovcnt);

/* ---- clock (CLOCK_MONOTONIC) ---- */
uint64_t clock_now_ns(void);
uint64_t clock_now_ms(void);
double clock_now_s(void);
/* Sleeps the whole time, over signals. */
void clock_sleep_ms(unsigned int ms);

/* ---- bitmaps of unsigned longs ---- */
#define BITS_PER_LONG (sizeof(unsigned long) * 8)
static inline size_t bitmap_longs(uint64_t nbits)
{
    return (size_t)((nbits + BITS_PER_LONG - 1) / BITS_PER_LONG);
}
static inline void bitmap_set_bit(unsigned long *bm, uint64_t bit)
{
    bm[bit / BITS_PER_LONG] |= 1UL << (bit % BITS_PER_LONG);
}
static inline void bitmap_clear_bit(unsigned long *bm, uint64_t bit)
{
    bm[bit / BITS_PER_LONG] &= ~(1UL << (bit % BITS_PER_LONG));
}
static inline bool bitmap_test_bit(const unsigned long *bm, uint64_t bit)
{
    return (bm[bit / BITS_PER_LONG] >> (bit % BITS_PER_LONG)) & 1;
}
uint64_t bitmap_count(const unsigned long *bm, uint64_t nbits);

#endif
