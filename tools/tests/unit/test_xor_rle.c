/*
 * The XOR + run-length page codec (sr_xor_rle.c) on its own: pages round-trip, an
 * unchanged page costs two bytes, a random one is refused (sent as it is), and every
 * malformed encoding (an operation past the page's end, a truncated literal or skip, a
 * page left short, an encoding as long as a page) is refused without touching the page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sr_xor_rle.h"
#include "test.h"

static uint64_t prng = 0x9e3779b97f4a7c15ULL;

static uint8_t rnd(void)
{
    return test_rand8(&prng);
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = rnd();
}

/* Encode page against ref, apply to a copy of ref: 1 if that gives page back. */
static int round_trip(const uint8_t *page, const uint8_t *ref, size_t *len)
{
    static uint8_t enc[XOR_RLE_MAX], got[XOR_RLE_PAGE];

    *len = xor_rle_encode(page, ref, enc);
    if (!*len)
        return 0;
    memcpy(got, ref, XOR_RLE_PAGE);
    return xor_rle_check(enc, *len) == 0 && xor_rle_apply(got, enc, *len) == 0 &&
           memcmp(got, page, XOR_RLE_PAGE) == 0;
}

/* 1 if the encoding is refused with EBADMSG by both functions and page is untouched. */
static int refused(const uint8_t *enc, size_t len)
{
    uint8_t page[XOR_RLE_PAGE], before[XOR_RLE_PAGE];
    int c, a, ec, ea;

    fill_random(page, sizeof(page));
    memcpy(before, page, sizeof(page));
    errno = 0;
    c = xor_rle_check(enc, len);
    ec = errno;
    errno = 0;
    a = xor_rle_apply(page, enc, len);
    ea = errno;
    return c == -1 && a == -1 && ec == EBADMSG && ea == EBADMSG &&
           memcmp(page, before, sizeof(page)) == 0;
}

int main(void)
{
    uint8_t ref[XOR_RLE_PAGE], page[XOR_RLE_PAGE], enc[XOR_RLE_PAGE + 8];
    size_t len = 0, worst = 0;
    int ok = 1;

    fill_random(ref, sizeof(ref));
    memcpy(page, ref, sizeof(page));
    ok = round_trip(page, ref, &len);
    CHECK(ok && len == 2, "an unchanged page encodes to %zu bytes", len);

    /* A few bytes changed anywhere, including the first and the last. */
    for (int t = 0; t < 2000 && ok; t++) {
        memcpy(page, ref, sizeof(page));
        for (int k = rnd() % 9; k >= 0; k--)
            page[(rnd() | (size_t)rnd() << 8) % XOR_RLE_PAGE] ^= (uint8_t)(rnd() | 1);
        if (t == 0)
            page[0] ^= 1, page[XOR_RLE_PAGE - 1] ^= 1;
        ok = round_trip(page, ref, &len);
        worst = len > worst ? len : worst;
    }
    CHECK(ok && worst <= 64, "2000 pages with up to 9 bytes changed round-trip (longest %zu "
          "bytes)", worst);

    /* Changes of every density, up to a random page. */
    ok = 1;
    for (int t = 0; t < 2000 && ok; t++) {
        unsigned int every = 1 + rnd() % 8;

        memcpy(page, ref, sizeof(page));
        for (size_t i = rnd() % every; i < XOR_RLE_PAGE; i += every)
            page[i] = rnd();
        ok = round_trip(page, ref, &len) || len == 0;
    }
    CHECK(ok, "2000 denser changes round-trip or are refused as too long");
    fill_random(page, sizeof(page));
    CHECK(xor_rle_encode(page, ref, enc) == 0, "a random page is refused (sent as it is)");

    /* Hostile encodings. */
    enc[0] = 0x8f, enc[1] = 0xff;                   /* skip 4096 */
    CHECK(xor_rle_check(enc, 2) == 0, "a skip over the whole page is accepted");
    enc[0] = 0x8f, enc[1] = 0xfe;                   /* skip 4095 ... */
    enc[2] = 0x01, enc[3] = 0xaa, enc[4] = 0xbb;    /* ... then a literal of 2: one too far */
    CHECK(refused(enc, 5), "a literal past the page's end is refused");
    enc[0] = 0x90, enc[1] = 0x00;                   /* skip 4097 */
    CHECK(refused(enc, 2), "a skip past the page's end is refused");
    enc[0] = 0x8f, enc[1] = 0xfe;                   /* skip 4095, nothing after */
    CHECK(refused(enc, 2), "an encoding that leaves the page short is refused");
    enc[0] = 0x00, enc[1] = 0x11, enc[2] = 0x8f;    /* literal 1, then a skip missing a byte */
    CHECK(refused(enc, 3), "a skip cut after its first byte is refused");
    enc[0] = 0x8f, enc[1] = 0xfd, enc[2] = 0x02, enc[3] = 0x01;   /* literal of 3, 1 given */
    CHECK(refused(enc, 4), "a literal cut short is refused");
    CHECK(refused(enc, 0) && refused(enc, 1), "empty and one-byte encodings are refused");
    memset(enc, 0, sizeof(enc));
    for (size_t i = 0; i < 32; i++)                 /* 32 literals of 128: a whole page */
        enc[i * 129] = 0x7f;
    CHECK(refused(enc, 32 * 129), "an encoding longer than a page is refused (%u bytes)",
          32 * 129);
    return test_done();
}
