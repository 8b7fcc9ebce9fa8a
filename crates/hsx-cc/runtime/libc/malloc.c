/* Small first-fit allocator over [__heap_base, heap_end()).
 *
 * The arena is one implicit list of blocks, each an 8-byte header followed
 * by its payload; sizes include the header and are multiples of 8, so
 * payloads are 8-aligned. free() merges with the following free blocks and
 * malloc() merges runs of free blocks while it scans, so fragmentation is
 * undone without a back pointer. Every operation is a bounded walk over the
 * arena (a few KiB on the MiniVM); a full arena gives NULL, never a trap. */
#include "rt.h"
#include <errno.h>
#include <string.h>

#define USED 0xA110C8EDu /* marks a live block; anything else is free */
#define MINBLK 16u

typedef struct {
    uint32_t size;
    uint32_t used;
} hdr;

#ifdef HSX_HOST_TEST
extern unsigned char hsx_test_heap[];
extern size_t hsx_test_heap_size;
#define HEAP_LO ((uintptr_t)hsx_test_heap)
#define HEAP_HI ((uintptr_t)hsx_test_heap + hsx_test_heap_size)
#else
extern unsigned char __heap_base;
__attribute__((import_module("hsx"), import_name("heap_end"))) int __hsx_heap_end(void);
#define HEAP_LO ((uintptr_t)&__heap_base)
#define HEAP_HI ((uintptr_t)(unsigned)__hsx_heap_end())
#endif

static char *lo, *hi; /* arena bounds once initialised (lo == hi: no heap) */
static int ready;

#define H(p) ((hdr *)(void *)(p))

static int arena(void)
{
    if (!ready) {
        uintptr_t a = (HEAP_LO + 7) & ~(uintptr_t)7, b = HEAP_HI & ~(uintptr_t)7;
        ready = 1;
        lo = hi = (char *)a;
        if (b > a && b - a >= MINBLK) {
            hi = (char *)b;
            H(lo)->size = (uint32_t)(b - a);
            H(lo)->used = 0;
        }
    }
    return lo != hi;
}

/* Absorb the free blocks that follow b. */
static void merge_next(char *b)
{
    char *n;
    while ((n = b + H(b)->size) < hi && H(n)->used != USED)
        H(b)->size += H(n)->size;
}

/* Cut b down to need bytes if the rest can form a block of its own. */
static void split(char *b, uint32_t need)
{
    uint32_t rest = H(b)->size - need;
    if (rest >= MINBLK) {
        H(b + need)->size = rest;
        H(b + need)->used = 0;
        H(b)->size = need;
    }
}

static uint32_t block_need(size_t n)
{
    uint32_t need = (uint32_t)((n + sizeof(hdr) + 7) & ~(size_t)7);
    return need < MINBLK ? MINBLK : need;
}

static int valid(void *p)
{
    char *b = (char *)p - sizeof(hdr);
    return p && b >= lo && b < hi && H(b)->used == USED;
}

void *HSX_NAME(malloc)(size_t n)
{
    if (!arena() || n > (size_t)(hi - lo)) {
        errno = ENOMEM;
        return 0;
    }
    uint32_t need = block_need(n);
    for (char *b = lo; b < hi; b += H(b)->size) {
        if (H(b)->used == USED)
            continue;
        merge_next(b);
        if (H(b)->size >= need) {
            split(b, need);
            H(b)->used = USED;
            return b + sizeof(hdr);
        }
    }
    errno = ENOMEM;
    return 0;
}

void HSX_NAME(free)(void *p)
{
    /* Pointers we did not hand out (or double frees) are ignored rather than
     * corrupting the arena. */
    if (!valid(p))
        return;
    char *b = (char *)p - sizeof(hdr);
    H(b)->used = 0;
    merge_next(b);
}

void *HSX_NAME(calloc)(size_t a, size_t b)
{
    if (b && a > (size_t)-1 / b) {
        errno = ENOMEM;
        return 0;
    }
    void *p = HSX_NAME(malloc)(a * b);
    if (p)
        memset(p, 0, a * b);
    return p;
}

void *HSX_NAME(realloc)(void *p, size_t n)
{
    if (!p)
        return HSX_NAME(malloc)(n);
    if (!valid(p))
        return 0;
    if (!n) {
        HSX_NAME(free)(p);
        return 0;
    }
    if (n > (size_t)(hi - lo)) {
        errno = ENOMEM;
        return 0;
    }
    char *b = (char *)p - sizeof(hdr);
    uint32_t need = block_need(n), old = H(b)->size - (uint32_t)sizeof(hdr);
    merge_next(b); /* grow in place when the neighbour is free */
    if (H(b)->size >= need) {
        split(b, need);
        return p;
    }
    void *q = HSX_NAME(malloc)(n);
    if (q) {
        memcpy(q, p, old);
        HSX_NAME(free)(p);
    }
    return q;
}

void *HSX_NAME(aligned_alloc)(size_t al, size_t n)
{
    if (al & (al - 1)) {
        errno = EINVAL;
        return 0;
    }
    if (al <= 8)
        return HSX_NAME(malloc)(n);
    if (n > (size_t)-1 - al - 2 * MINBLK)
        return 0;
    char *p = HSX_NAME(malloc)(n + al + MINBLK);
    if (!p)
        return 0;
    uintptr_t q = ((uintptr_t)p + al - 1) & ~(uintptr_t)(al - 1);
    if (q != (uintptr_t)p && q - (uintptr_t)p < MINBLK)
        q += al;
    if (q != (uintptr_t)p) {
        /* Give the gap in front back to the arena as a free block. */
        char *b = p - sizeof(hdr), *nb = (char *)q - sizeof(hdr);
        uint32_t gap = (uint32_t)(q - (uintptr_t)p);
        H(nb)->size = H(b)->size - gap;
        H(nb)->used = USED;
        H(b)->size = gap;
        H(b)->used = 0;
        split(nb, block_need(n));
    }
    return (void *)q;
}

int HSX_NAME(posix_memalign)(void **out, size_t al, size_t n)
{
    if (al < sizeof(void *) || (al & (al - 1)))
        return EINVAL;
    void *p = HSX_NAME(aligned_alloc)(al, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *HSX_NAME(memalign)(size_t al, size_t n)
{
    return HSX_NAME(aligned_alloc)(al, n);
}

size_t HSX_NAME(malloc_usable_size)(void *p)
{
    return valid(p) ? H((char *)p - sizeof(hdr))->size - sizeof(hdr) : 0;
}

#ifdef HSX_HOST_TEST
/* Walks the block list; returns the number of free bytes, or -1 if the
 * chain is broken (sizes not tiling the arena exactly). */
long hsx_test_heap_walk(void)
{
    long fr = 0;
    char *b = lo;
    while (b < hi) {
        uint32_t s = H(b)->size;
        if (s < MINBLK || (s & 7) || s > (uint32_t)(hi - b))
            return -1;
        if (H(b)->used != USED)
            fr += s;
        b += s;
    }
    return b == hi ? fr : -1;
}
#endif
