/* Bit manipulation: __builtin_popcount/clz/ctz/parity/bswap (32 and 64 bit), rotates,
 * lowest set bit, power-of-two tests, bit reversal, and portable reference versions. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static int pop_ref(uint32_t x) { int n = 0; while (x) { n += x & 1; x >>= 1; } return n; }
static int clz_ref(uint32_t x) { int n = 0; for (uint32_t m = 0x80000000u; m && !(x & m); m >>= 1) n++; return n; }
static uint32_t rotl(uint32_t x, unsigned r) { return (x << (r & 31)) | (x >> ((32 - r) & 31)); }
static uint32_t rotr(uint32_t x, unsigned r) { return (x >> (r & 31)) | (x << ((32 - r) & 31)); }
static uint32_t rev(uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
    return (x >> 16) | (x << 16);
}

int main(void) {
    static const uint32_t v[] = {1u, 2u, 3u, 0x80000000u, 0xFFFFFFFFu, 0x00F0F000u, 0x12345678u, 0x7FFFFFFFu, 0x10000u};
    int bad = 0;
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t x = v[i];
        printf("%08x pop %2d clz %2d ctz %2d par %d bswap %08x rotl7 %08x rotr7 %08x rev %08x low %08x pow2 %d\n", (unsigned)x,
               __builtin_popcount(x), __builtin_clz(x), __builtin_ctz(x), __builtin_parity(x), (unsigned)__builtin_bswap32(x),
               (unsigned)rotl(x, 7), (unsigned)rotr(x, 7), (unsigned)rev(x), (unsigned)(x & -x), (x & (x - 1)) == 0);
        bad += pop_ref(x) != __builtin_popcount(x) || clz_ref(x) != __builtin_clz(x);
    }
    uint32_t s = 0x9E3779B9u;
    for (int i = 0; i < 1000; i++) {
        s = s * 1664525u + 1013904223u;
        bad += pop_ref(s) != __builtin_popcount(s);
        if (s) bad += clz_ref(s) != __builtin_clz(s);
        bad += rotr(rotl(s, (unsigned)i), (unsigned)i) != s;
    }
    printf("mismatches %d\n", bad);
    uint64_t w = UINT64_C(0x0000F00000000001);
    printf("64: pop %d clz %d ctz %d bswap %016" PRIx64 "\n", __builtin_popcountll(w), __builtin_clzll(w), __builtin_ctzll(w >> 1 << 1),
           __builtin_bswap64(w));
    printf("64 hi-only clz %d ctz %d\n", __builtin_clzll(UINT64_C(1) << 40), __builtin_ctzll(UINT64_C(1) << 40));
    printf("ffs %d %d %d\n", __builtin_ffs(0), __builtin_ffs(8), __builtin_ffs(-2147483647 - 1));
    uint32_t next = 1000;
    next--;
    next |= next >> 1; next |= next >> 2; next |= next >> 4; next |= next >> 8; next |= next >> 16;
    printf("next pow2 of 1000: %u\n", (unsigned)(next + 1));
    return bad;
}
