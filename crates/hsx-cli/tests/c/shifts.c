/* 32-bit shifts: constant and variable counts 0..31, logical (unsigned) vs arithmetic
 * (signed negative >> is implementation-defined in C11 but arithmetic on GCC, Clang and
 * wasm32; left shifts are only done on unsigned values or non-negative signed values). */
#include <stdint.h>
#include <stdio.h>

static uint32_t shl(uint32_t x, unsigned n) { return x << n; }
static uint32_t shr(uint32_t x, unsigned n) { return x >> n; }
static int32_t sar(int32_t x, unsigned n) { return x >> n; }

int main(void) {
    volatile unsigned zero = 0, thirtyone = 31;
    uint32_t u = 0x80000001u;
    int32_t s = -123456789;
    printf("by0 %08x %08x %d\n", (unsigned)(u << zero), (unsigned)(u >> zero), s >> zero);
    printf("by31 %08x %08x %d %d\n", (unsigned)(u << thirtyone), (unsigned)(u >> thirtyone), s >> thirtyone, 5 >> thirtyone);
    uint32_t ck = 0;
    for (unsigned n = 0; n < 32; n++) {
        uint32_t a = shl(0xDEADBEEFu, n), b = shr(0xDEADBEEFu, n);
        int32_t c = sar(s, n), d = sar(0x7654321, n);
        ck = ck * 33u ^ a ^ (b << 1) ^ (uint32_t)c ^ (uint32_t)d;
        if (n % 4 == 0 || n == 31)
            printf("n=%2u shl %08x shr %08x sar %11d sarpos %d\n", n, (unsigned)a, (unsigned)b, c, d);
    }
    printf("ck %08x\n", (unsigned)ck);
    printf("sar -1 %d -2>>1 %d -3>>1 %d\n", -1 >> 7, -2 >> 1, -3 >> 1);
    printf("u8 promote %d %u\n", (uint8_t)0xF0 << 4, (unsigned)((uint8_t)0xF0 >> 4));
    printf("int const %d %d\n", 1 << 30, (int)(1u << 31 >> 31));
    uint16_t h = 0xABCD;
    printf("u16 %x %x\n", (unsigned)(uint16_t)(h << 4), (unsigned)(h >> 4));
    return 0;
}
