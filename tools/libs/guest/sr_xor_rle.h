/*
 * The page codec of COMPRESSED_PAGE_DATA (docs/stream-format.md): a page is sent as the
 * XOR of its new contents with the copy the receiver already holds, run-length encoded.
 * A page that changed in a few bytes XORs to a page of zeros with a few bytes set, which
 * encodes to a few bytes.
 *
 * Encoding: a sequence of operations that together cover exactly one page, in order.
 *   op byte b < 0x80:  a literal of b + 1 bytes (1..128) follows; they are XORed into
 *                      the page at the current offset.
 *   op byte b >= 0x80: a skip; with the next byte n, ((b & 0x7f) << 8 | n) + 1 bytes
 *                      (1..32768) are left as they are.
 * No operation may reach past the page's end, and the operations must end exactly at
 * it.  Encodings are at most XOR_RLE_MAX bytes: a page that would need more is sent as
 * it is.
 */
#ifndef SR_XOR_RLE_H
#define SR_XOR_RLE_H

#include <stddef.h>
#include <stdint.h>

#define XOR_RLE_PAGE 4096U
/* Longer than this is no gain over sending the page itself. */
#define XOR_RLE_MAX  (XOR_RLE_PAGE - 1U)

/* Encode page XOR ref into out (room for XOR_RLE_MAX bytes).  Returns the encoding's
 * length, or 0 when it would exceed XOR_RLE_MAX. */
size_t xor_rle_encode(const uint8_t *page, const uint8_t *ref, uint8_t *out);

/* Check an encoding of len bytes without applying it: 0, or -1 with errno EBADMSG. */
int xor_rle_check(const uint8_t *enc, size_t len);

/* Apply an encoding to page (XOR in place).  The encoding is checked first, and page is
 * left untouched when it is malformed: 0, or -1 with errno EBADMSG. */
int xor_rle_apply(uint8_t *page, const uint8_t *enc, size_t len);

#endif /* SR_XOR_RLE_H */
