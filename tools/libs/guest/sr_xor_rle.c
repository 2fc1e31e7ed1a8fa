/*
 * XOR + run-length page codec (format in sr_xor_rle.h).  The decoder treats its input as
 * hostile: every operation is bounded by both the encoding's end and the page's end.
 */
#include <errno.h>
#include <string.h>

#include "sr_xor_rle.h"

#define LITERAL_MAX 128U
#define SKIP_MAX    32768U
/* A zero run shorter than this costs less inside a literal (one byte each) than as a
 * skip (two bytes plus the op byte of the literal after it). */
#define SKIP_MIN    3U

size_t xor_rle_encode(const uint8_t *page, const uint8_t *ref, uint8_t *out)
{
    size_t i = 0, o = 0;

    while (i < XOR_RLE_PAGE) {
        size_t z = 0, n;

        while (i + z < XOR_RLE_PAGE && page[i + z] == ref[i + z])
            z++;
        if (z >= SKIP_MIN || i + z == XOR_RLE_PAGE) {
            /* One skip covers the page: no run can be longer than SKIP_MAX. */
            if (o + 2 > XOR_RLE_MAX)
                return 0;
            out[o++] = (uint8_t)(0x80U | ((z - 1) >> 8));
            out[o++] = (uint8_t)((z - 1) & 0xffU);
            i += z;
            continue;
        }
        /* A literal: up to the next zero run worth a skip, at most LITERAL_MAX bytes. */
        for (n = 0; n < LITERAL_MAX && i + n < XOR_RLE_PAGE; n++) {
            size_t run = 0;

            while (run < SKIP_MIN && i + n + run < XOR_RLE_PAGE &&
                   page[i + n + run] == ref[i + n + run])
                run++;
            if (run == SKIP_MIN || (run && i + n + run == XOR_RLE_PAGE))
                break;
        }
        if (o + 1 + n > XOR_RLE_MAX)
            return 0;
        out[o++] = (uint8_t)(n - 1);
        for (size_t k = 0; k < n; k++)
            out[o++] = page[i + k] ^ ref[i + k];
        i += n;
    }
    return o;
}

/* Walks the operations; with page set, XORs the literals into it. */
static int walk(uint8_t *page, const uint8_t *enc, size_t len)
{
    size_t i = 0, off = 0;

    if (len < 2 || len > XOR_RLE_MAX)
        goto bad;
    while (i < len) {
        uint8_t b = enc[i++];
        size_t n;

        if (b & 0x80U) {
            if (i == len)
                goto bad;            /* a skip without its second byte */
            n = (((size_t)(b & 0x7fU) << 8) | enc[i++]) + 1;
            if (n > XOR_RLE_PAGE - off)
                goto bad;            /* past the page's end */
        } else {
            n = (size_t)b + 1;
            if (n > len - i || n > XOR_RLE_PAGE - off)
                goto bad;            /* truncated, or past the page's end */
            if (page)
                for (size_t k = 0; k < n; k++)
                    page[off + k] ^= enc[i + k];
            i += n;
        }
        off += n;
    }
    if (off != XOR_RLE_PAGE)
        goto bad;                    /* the page is not covered */
    return 0;
 bad:
    errno = EBADMSG;
    return -1;
}

int xor_rle_check(const uint8_t *enc, size_t len)
{
    return walk(NULL, enc, len);
}

int xor_rle_apply(uint8_t *page, const uint8_t *enc, size_t len)
{
    if (walk(NULL, enc, len))
        return -1;
    return walk(page, enc, len);
}
