/* pfn bitmaps (xutil.h). */
#include "xutil.h"

uint64_t bitmap_count(const unsigned long *bm, uint64_t nbits)
{
    uint64_t count = 0;
    size_t i, n = bitmap_longs(nbits);

    for (i = 0; i < n; i++)
        count += (uint64_t)__builtin_popcountl(bm[i]);
    return count;
}
