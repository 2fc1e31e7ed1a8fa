/*
 * Minimal test support: each test program is a TAP producer.  CHECK records one
 * assertion; a program exits non-zero if any check failed.  run-tests.sh counts.
 */
#ifndef TEST_H
#define TEST_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

extern int test_failures;
extern int test_count;

void test_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Exit status for main(): prints the plan line. */
int test_done(void);

/* A fresh private simulated-hypervisor directory for this test process (sets
 * $SIMXEN_DIR); removed at exit along with any domains left in it. */
const char *test_sim_dir(void);

/* An unlinked file holding the n bytes at p, positioned at 0 (exits 2 on failure). */
int test_bytes_fd(const void *p, size_t n);

/* A xorshift generator: the same bytes every run. */
static inline uint8_t test_rand8(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (uint8_t)*state;
}

#define CHECK(cond, ...) test_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#endif
