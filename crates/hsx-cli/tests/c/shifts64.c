/* 64-bit shifts by every count 0..63 (constant and variable), unsigned and signed. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t rotl64(uint64_t x, unsigned n) { n &= 63; return n ? (x << n) | (x >> (64 - n)) : x; }

int main(void) {
    const uint64_t u = UINT64_C(0xF0E1D2C3B4A59687);
    const int64_t s = -INT64_C(0x123456789ABCDEF);
    uint64_t ck = 0;
    for (volatile unsigned n = 0; n < 64; n++) {
        uint64_t a = u << n, b = u >> n;
        int64_t c = s >> n;
        ck = (ck ^ a) * UINT64_C(0x100000001B3) ^ b ^ (uint64_t)c;
        if (n % 8 == 0 || n == 31 || n == 32 || n == 33 || n == 63)
            printf("%2u %016" PRIx64 " %016" PRIx64 " %" PRId64 "\n", n, a, b, c);
    }
    printf("ck %016" PRIx64 "\n", ck);
    printf("const %016" PRIx64 " %016" PRIx64 " %" PRId64 "\n", u << 32, u >> 32, s >> 40);
    printf("rot %016" PRIx64 " %016" PRIx64 "\n", rotl64(u, 13), rotl64(u, 51));
    uint32_t lo = 0xFFFFFFFFu;
    uint64_t wide = (uint64_t)lo << 16;
    printf("widen %" PRIx64 "\n", wide);
    return 64 - 1;
}
