/* Own pseudo-random generators (LCG, xorshift32, xorshift64*, PCG32): sequences, a
 * histogram, a Fisher-Yates shuffle, and Monte-Carlo integer estimates. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint32_t lcg = 1;
static uint32_t lcg_next(void) { lcg = lcg * 1103515245u + 12345u; return (lcg >> 16) & 0x7FFF; }
static uint32_t xs32 = 2463534242u;
static uint32_t xs32_next(void) { xs32 ^= xs32 << 13; xs32 ^= xs32 >> 17; xs32 ^= xs32 << 5; return xs32; }
static uint64_t xs64 = 88172645463325252ULL;
static uint64_t xs64s_next(void) { xs64 ^= xs64 >> 12; xs64 ^= xs64 << 25; xs64 ^= xs64 >> 27; return xs64 * UINT64_C(2685821657736338717); }
static uint64_t pcg_state = 0x853c49e6748fea9bULL, pcg_inc = 0xda3e39cb94b95bdbULL;
static uint32_t pcg32(void) {
    uint64_t old = pcg_state;
    pcg_state = old * UINT64_C(6364136223846793005) + pcg_inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

int main(void) {
    for (int i = 0; i < 5; i++) printf("%u ", (unsigned)lcg_next());
    printf("\n");
    for (int i = 0; i < 3; i++) printf("%u ", (unsigned)xs32_next());
    printf("\n");
    for (int i = 0; i < 3; i++) printf("%016" PRIx64 " ", xs64s_next());
    printf("\n");
    for (int i = 0; i < 4; i++) printf("%08x ", (unsigned)pcg32());
    printf("\n");
    int hist[10] = {0};
    for (int i = 0; i < 10000; i++) hist[xs32_next() % 10]++;
    for (int i = 0; i < 10; i++) printf("%d ", hist[i]);
    printf("\n");
    int deck[20];
    for (int i = 0; i < 20; i++) deck[i] = i;
    for (int i = 19; i > 0; i--) { int j = (int)(pcg32() % (uint32_t)(i + 1)); int t = deck[i]; deck[i] = deck[j]; deck[j] = t; }
    for (int i = 0; i < 20; i++) printf("%d ", deck[i]);
    printf("\n");
    int inside = 0;
    for (int i = 0; i < 10000; i++) {
        int32_t x = (int32_t)(lcg_next() % 2001) - 1000, y = (int32_t)(lcg_next() % 2001) - 1000;
        inside += x * x + y * y <= 1000000;
    }
    printf("pi*2500 estimate %d\n", inside);
    return 0;
}
