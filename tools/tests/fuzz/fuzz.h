/*
 * Shared by the libFuzzer targets: inputs go to the parsers through fds (memfds, so
 * that an input of any size is there at once and reads end in EOF as a closed peer's
 * would), and the engine's and libxl's chatter is silenced unless FUZZ_VERBOSE is set
 * (to see why a regression input is refused).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "xhv.h"

/* A memfd; exits on failure (the harness cannot run without it). */
int fuzz_memfd(const char *name);
/* fd's contents become data[0..size), read offset 0. */
void fuzz_memfd_load(int fd, const uint8_t *data, size_t size);
/* Empties fd (for one a parser writes to). */
void fuzz_memfd_reset(int fd);
int fuzz_verbose(void);
/* Engine log messages dropped unless fuzz_verbose(). */
void fuzz_quiet(xc_interface *xch);
/* A bug in the parser that is not a sanitizer's finding: print and abort (libFuzzer
 * then saves the input as a crash). */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* An input read field by field: take() copies the next n bytes (zeros past the end) and
 * says how many the input still had. */
struct in {
    const uint8_t *p, *end;
};
size_t take(struct in *in, void *out, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
