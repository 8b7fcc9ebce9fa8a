/* Host test for the runtime allocator: random malloc/calloc/realloc/
 * aligned_alloc/free sequences over a 24 KiB arena, checked against a shadow
 * table (alignment, bounds, no overlap, contents preserved) and a walk of the
 * block chain after every operation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *hsx_test_malloc(size_t);
void hsx_test_free(void *);
void *hsx_test_calloc(size_t, size_t);
void *hsx_test_realloc(void *, size_t);
void *hsx_test_aligned_alloc(size_t, size_t);
size_t hsx_test_malloc_usable_size(void *);
long hsx_test_heap_walk(void);

#define ARENA (24 * 1024)
_Alignas(16) unsigned char hsx_test_heap[ARENA + 5];
size_t hsx_test_heap_size = ARENA + 5; /* odd end: the allocator must trim it */

#define SLOTS 64
static struct {
    unsigned char *p;
    size_t n;
    unsigned char tag;
} sl[SLOTS];
static long fails;
static uint64_t rng = 12345;
static unsigned rnd(unsigned m)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 33) % m;
}

static void fail(const char *what, int step)
{
    if (fails++ < 20)
        fprintf(stderr, "malloc FAIL at step %d: %s\n", step, what);
}

static void verify(int step)
{
    if (hsx_test_heap_walk() < 0)
        fail("block chain broken", step);
    for (int i = 0; i < SLOTS; i++) {
        if (!sl[i].p)
            continue;
        if ((uintptr_t)sl[i].p & 7)
            fail("misaligned", step);
        if (sl[i].p < hsx_test_heap || sl[i].p + sl[i].n > hsx_test_heap + ARENA)
            fail("outside arena", step);
        for (size_t k = 0; k < sl[i].n; k++)
            if (sl[i].p[k] != (unsigned char)(sl[i].tag + k)) {
                fail("contents changed", step);
                break;
            }
        for (int j = i + 1; j < SLOTS; j++)
            if (sl[j].p && sl[i].p < sl[j].p + sl[j].n + 1 && sl[j].p < sl[i].p + sl[i].n + 1 &&
                sl[i].n && sl[j].n)
                fail("overlap", step);
    }
}

static void fill(int i)
{
    for (size_t k = 0; k < sl[i].n; k++)
        sl[i].p[k] = (unsigned char)(sl[i].tag + k);
}

int main(void)
{
    long nulls = 0;
    long initial = -2;
    void *z = hsx_test_malloc(0);
    if (!z)
        fail("malloc(0) gave NULL", 0);
    hsx_test_free(z);
    initial = hsx_test_heap_walk();
    for (int step = 0; step < 200000; step++) {
        int i = rnd(SLOTS);
        unsigned op = rnd(10);
        size_t n = rnd(4) == 0 ? rnd(3000) : rnd(200);
        if (!sl[i].p) {
            unsigned char *p;
            if (op < 5)
                p = hsx_test_malloc(n);
            else if (op < 7) {
                p = hsx_test_calloc(n, 1);
                for (size_t k = 0; p && k < n; k++)
                    if (p[k])
                        fail("calloc not zeroed", step);
            } else {
                size_t al = (size_t)8 << rnd(6);
                p = hsx_test_aligned_alloc(al, n);
                if (p && ((uintptr_t)p & (al - 1)))
                    fail("aligned_alloc misaligned", step);
            }
            if (!p) {
                nulls++;
                continue;
            }
            if (hsx_test_malloc_usable_size(p) < n)
                fail("usable size too small", step);
            sl[i].p = p;
            sl[i].n = n;
            sl[i].tag = (unsigned char)rnd(256);
            fill(i);
        } else if (op < 6) {
            hsx_test_free(sl[i].p);
            sl[i].p = 0;
        } else {
            unsigned char *q = hsx_test_realloc(sl[i].p, n);
            if (!q && n) {
                nulls++; /* old block must be intact: checked by verify */
            } else if (!n) {
                sl[i].p = 0;
            } else {
                size_t keep = n < sl[i].n ? n : sl[i].n;
                for (size_t k = 0; k < keep; k++)
                    if (q[k] != (unsigned char)(sl[i].tag + k)) {
                        fail("realloc lost data", step);
                        break;
                    }
                sl[i].p = q;
                sl[i].n = n;
                fill(i);
            }
        }
        if (step % 16 == 0)
            verify(step);
    }
    verify(-1);
    for (int i = 0; i < SLOTS; i++)
        hsx_test_free(sl[i].p);
    hsx_test_free(hsx_test_heap + 100); /* junk pointer: ignored */
    if (hsx_test_heap_walk() != initial)
        fail("free bytes not restored after freeing everything", -1);
    /* Everything coalesces back: one allocation of (almost) the whole arena. */
    void *big = hsx_test_malloc(ARENA - 64);
    if (!big)
        fail("cannot allocate whole arena after frees", -1);
    if (hsx_test_malloc(ARENA) || hsx_test_malloc((size_t)-1) || hsx_test_calloc((size_t)1 << 40, 1 << 30))
        fail("oversized request did not return NULL", -1);
    hsx_test_free(big);
    /* Fill until full: must end with NULL, not a crash. */
    int count = 0;
    while (hsx_test_malloc(100))
        count++;
    if (count < ARENA / 120)
        fail("arena filled too early", -1);
    printf("malloc: 200000 random ops, %ld NULL results under pressure, %ld failures\n", nulls,
           fails);
    return fails != 0;
}
