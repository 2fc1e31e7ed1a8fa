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
#include <string.h>
#include <sys/uio.h>

/* ---- fd I/O: 0, or -1 with errno set; a read that meets EOF first fails with errno 0
 * (so that callers tell a clean end of stream from a truncated one). ---- */
int read_exact(int fd, void *buf, size_t len);
/* read_exact that also says how many bytes arrived before an EOF (*got): a reader of
 * records tells a stream that ended between records from one cut inside a header. */
int read_exact_got(int fd, void *buf, size_t len, size_t *got);
int write_exact(int fd, const void *buf, size_t len);
/* The vectors are consumed (advanced) as data moves. */
int readv_exact(int fd, struct iovec *iov, int iovcnt);
int writev_exact(int fd, struct iovec *iov, int iovcnt);

/* ---- clock (CLOCK_MONOTONIC) ---- */
/* The compare proxy's control messages (u32 big-endian length + text): 0 or -1 with
 * errno set.  send: EINVAL over 252 bytes.  recv: EPIPE at EOF, EPROTO for a length of
 * size or more or a NUL inside, ETIMEDOUT when the message is not there within
 * timeout_ms (0: wait for ever; the body gets a second more). */
int ctlmsg_send(int fd, const char *msg);
int ctlmsg_recv(int fd, char *buf, size_t size, unsigned int timeout_ms);

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

/* ---- FNV-1a over 64-bit words (a tail shorter than a word bytewise): cheap and good
 * enough to tell states apart; not a defence against anyone choosing the input ---- */
#define FNV1A_INIT 0xcbf29ce484222325ULL
static inline uint64_t fnv1a_words(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t w;

    for (; len >= 8; b += 8, len -= 8) {
        memcpy(&w, b, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    for (; len; b++, len--)
        h = (h ^ *b) * 0x100000001b3ULL;
    return h;
}

#endif
