/* malloc/calloc/free in mixed order: calloc zero-fills, freed blocks are reused without
 * corrupting live ones, varied sizes, free(NULL). Contents are checked, never addresses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 48
static unsigned char *slot[SLOTS];
static size_t slot_len[SLOTS];
static uint32_t rng = 2463534242u;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static int check(int i) {
    for (size_t k = 0; k < slot_len[i]; k++)
        if (slot[i][k] != (unsigned char)(i * 7 + k)) return 0;
    return 1;
}

int main(void) {
    int *z = calloc(100, sizeof(int));
    if (!z) return 1;
    int nz = 0;
    for (int i = 0; i < 100; i++) nz += z[i] != 0;
    printf("calloc nonzero %d\n", nz);
    free(z);
    free(NULL);
    int allocs = 0, frees = 0, bad = 0;
    for (int step = 0; step < 1200; step++) {
        int i = (int)(next() % SLOTS);
        if (slot[i]) {
            bad += !check(i);
            free(slot[i]);
            slot[i] = NULL;
            frees++;
        } else {
            size_t n = 1 + next() % 200;
            slot[i] = (next() & 1) ? malloc(n) : calloc(n, 1);
            if (!slot[i]) { printf("oom at step %d\n", step); return 1; }
            slot_len[i] = n;
            for (size_t k = 0; k < n; k++) slot[i][k] = (unsigned char)(i * 7 + k);
            allocs++;
        }
    }
    int live = 0;
    for (int i = 0; i < SLOTS; i++)
        if (slot[i]) { bad += !check(i); live++; }
    printf("allocs %d frees %d live %d bad %d\n", allocs, frees, live, bad);
    for (int i = SLOTS - 1; i >= 0; i -= 2) { free(slot[i]); slot[i] = NULL; }
    for (int i = 0; i < SLOTS; i++) { free(slot[i]); slot[i] = NULL; }
    /* After freeing everything a large block must fit again. */
    char *big = malloc(12000);
    if (!big) { puts("large block failed"); return 1; }
    memset(big, 'x', 12000);
    big[11999] = 0;
    printf("big ok %u\n", (unsigned)strlen(big));
    free(big);
    return 0;
}
