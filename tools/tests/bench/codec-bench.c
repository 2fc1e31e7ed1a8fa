/*
 * Why XOR + run-length encoding and not zlib for checkpoint pages: bytes and time per
 * page for each candidate, on the page kinds a checkpoint carries, in one run.
 * XOR+RLE against the last-sent copy; zlib (levels 1 and 6) of the same XOR delta; zlib
 * level 1 of the page itself (no cache needed).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "sr_xor_rle.h"
#include "test.h"

#define PAGE  XOR_RLE_PAGE
#define N     4096

static uint64_t prng = 0x2545f4914f6cdd1dULL;

static uint8_t rnd(void)
{
    return test_rand8(&prng);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t ref[N][PAGE], cur[N][PAGE];

/* kind 0: random contents, a 16-byte stamp rewritten; 1: zero page, stamp rewritten;
 * 2: a new random page. */
static void make(int kind)
{
    for (int i = 0; i < N; i++) {
        for (unsigned int k = 0; k < PAGE; k++)
            ref[i][k] = kind == 1 ? 0 : rnd();
        memcpy(cur[i], ref[i], PAGE);
        if (kind == 2)
            for (unsigned int k = 0; k < PAGE; k++)
                cur[i][k] = rnd();
        else
            for (int k = 0; k < 16; k++)
                cur[i][k] = rnd();
    }
}

/* codec 0 XOR+RLE, 1 zlib-1 of XOR, 2 zlib-6 of XOR, 3 zlib-1 of the page.  A page that
 * does not shrink costs PAGE (sent as it is). */
static double run(int codec, double *ns)
{
    static uint8_t out[PAGE * 2], delta[PAGE];
    double t0 = now(), bytes = 0;

    for (int i = 0; i < N; i++) {
        size_t len;

        if (codec == 0) {
            len = xor_rle_encode(cur[i], ref[i], out);
        } else {
            uLongf l = sizeof(out);
            const uint8_t *src = cur[i];

            if (codec < 3) {
                for (unsigned int k = 0; k < PAGE; k++)
                    delta[k] = cur[i][k] ^ ref[i][k];
                src = delta;
            }
            len = compress2(out, &l, src, PAGE, codec == 2 ? 6 : 1) == Z_OK ? l : 0;
        }
        bytes += len && len < PAGE ? len : PAGE;
    }
    *ns = (now() - t0) / N * 1e9;
    return bytes / N;
}

int main(void)
{
    static const char *const kinds[] = { "16 B of a random page", "16 B of a zero page",
                                         "random page" };
    static const char *const codecs[] = { "xor+rle", "zlib-1(xor)", "zlib-6(xor)",
                                          "zlib-1(page)" };

    for (int k = 0; k < 3; k++) {
        make(k);
        printf("ckpt-codec      %-22s", kinds[k]);
        for (int c = 0; c < 4; c++) {
            double ns, b = run(c, &ns);

            printf("  %s %6.0f B %6.0f ns", codecs[c], b, ns);
        }
        printf("\n");
    }
    return 0;
}
