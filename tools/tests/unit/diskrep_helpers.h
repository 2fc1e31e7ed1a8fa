/* Helpers shared by the disk replication unit tests (header-only): a primary and a
 * secondary in one process over a socketpair, the secondary served by a thread. */
#ifndef DISKREP_HELPERS_H
#define DISKREP_HELPERS_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diskrep.h"
#include "test.h"

/* The library's messages as TAP comments with $DISKREP_VERBOSE, else dropped. */
static inline void dr_test_logger(void *opaque, enum diskrep_loglevel level, int errnoval,
                                  const char *msg)
{
    (void)opaque;
    (void)level;
    if (getenv("DISKREP_VERBOSE"))
        printf("# diskrep: %s%s%s\n", msg, errnoval ? ": " : "", errnoval ? strerror(errnoval) : "");
}

static inline diskrep *dr_test_new(enum diskrep_role role, diskrep_dev *dev,
                                   const struct diskrep_config *cfg)
{
    diskrep *h = diskrep_new(role, dev, cfg);

    if (!h) {
        printf("Bail out! diskrep_new: %s\n", strerror(errno));
        exit(2);
    }
    diskrep_set_logger(h, dr_test_logger, NULL);
    return h;
}

struct dr_pair {
    diskrep_dev *pdev, *sdev;
    diskrep *p, *s;
    int sv[2];               /* sv[0] the primary's end, sv[1] the secondary's */
    pthread_t server;
    int served;              /* diskrep_serve's result */
    int serving;
};

static inline void *dr_test_serve(void *arg)
{
    struct dr_pair *pr = arg;

    pr->served = diskrep_serve(pr->s);
    return NULL;
}

/* A secondary on sdev served by a thread, connected to the primary p (already made). */
static inline int dr_pair_connect(struct dr_pair *pr, const struct diskrep_config *cfg, int resync)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pr->sv))
        return -1;
    pr->s = dr_test_new(DISKREP_SECONDARY, pr->sdev, cfg);
    if (diskrep_start(pr->s, pr->sv[1], pr->sv[1]))
        return -1;
    if (pthread_create(&pr->server, NULL, dr_test_serve, pr))
        return -1;
    pr->serving = 1;
    return resync ? diskrep_resync(pr->p, pr->sv[0], pr->sv[0])
                  : diskrep_start(pr->p, pr->sv[0], pr->sv[0]);
}

/* Both disks of size bytes in memory, equal (zero) at the start. */
static inline int dr_pair_open(struct dr_pair *pr, uint64_t size, const struct diskrep_config *cfg)
{
    memset(pr, 0, sizeof(*pr));
    pr->pdev = diskrep_dev_mem(size);
    pr->sdev = diskrep_dev_mem(size);
    if (!pr->pdev || !pr->sdev)
        return -1;
    pr->p = dr_test_new(DISKREP_PRIMARY, pr->pdev, cfg);
    return dr_pair_connect(pr, cfg, 0);
}

/* The primary's host goes away: its end closes, the secondary's server returns. */
static inline int dr_pair_kill_primary(struct dr_pair *pr)
{
    close(pr->sv[0]);
    pr->sv[0] = -1;
    if (pr->serving)
        pthread_join(pr->server, NULL);
    pr->serving = 0;
    return pr->served;
}

/* Closes the connection and the handles; the devices are left to the caller. */
static inline void dr_pair_disconnect(struct dr_pair *pr)
{
    if (pr->sv[0] >= 0)
        shutdown(pr->sv[0], SHUT_RDWR);
    if (pr->serving)
        pthread_join(pr->server, NULL);
    pr->serving = 0;
    if (pr->sv[0] >= 0)
        close(pr->sv[0]);
    close(pr->sv[1]);
    diskrep_free(pr->s);
    pr->s = NULL;
}

/* A byte pattern that differs with seed and with position. */
static inline void dr_pattern(uint8_t *buf, size_t len, uint64_t off, unsigned int seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((off + i) * 131 + seed * 17 + ((off + i) >> 9));
}

/* The guest of h writes the pattern of seed. */
static inline int dr_write_pattern(diskrep *h, size_t len, uint64_t off, unsigned int seed)
{
    uint8_t *buf = malloc(len);
    int rc = -1;

    if (buf) {
        dr_pattern(buf, len, off, seed);
        rc = diskrep_write(h, buf, len, off);
        free(buf);
    }
    return rc;
}

/* 1 if len bytes at off of what read() returns equal the pattern of seed. */
static inline int dr_has_pattern(int (*rd)(void *, void *, size_t, uint64_t), void *src,
                                 size_t len, uint64_t off, unsigned int seed)
{
    uint8_t *got = malloc(len), *want = malloc(len);
    int same = got && want && rd(src, got, len, off) == 0;

    if (same) {
        dr_pattern(want, len, off, seed);
        same = !memcmp(got, want, len);
    }
    free(got);
    free(want);
    return same;
}

static inline int dr_read_view(void *h, void *buf, size_t len, uint64_t off)
{
    return diskrep_read(h, buf, len, off);
}

static inline int dr_read_dev(void *dev, void *buf, size_t len, uint64_t off)
{
    return diskrep_dev_pread(dev, buf, len, off);
}

/* 1 if the whole of two sources are equal. */
static inline int dr_same(int (*rd_a)(void *, void *, size_t, uint64_t), void *a,
                          int (*rd_b)(void *, void *, size_t, uint64_t), void *b, size_t size)
{
    uint8_t *x = malloc(size), *y = malloc(size);
    int same = x && y && rd_a(a, x, size, 0) == 0 && rd_b(b, y, size, 0) == 0 &&
               !memcmp(x, y, size);

    free(x);
    free(y);
    return same;
}

#endif
