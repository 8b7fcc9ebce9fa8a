/* Unsigned wrap-around at 8, 16, 32 and 64 bits, and integer promotion of small types. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint8_t a = 250;
    a += 10;
    uint16_t b = 65530;
    b += 10;
    uint32_t c = 4294967290u;
    c += 10;
    uint64_t d = UINT64_MAX - 5;
    d += 10;
    printf("add %u %u %u %" PRIu64 "\n", a, b, (unsigned)c, d);
    uint8_t e = 3;
    e -= 5;
    uint32_t f = 3;
    f -= 5;
    printf("sub %u %u\n", e, (unsigned)f);
    uint8_t g = 200, h = 100;
    int promoted = g + h;            /* int arithmetic, no wrap */
    uint8_t wrapped = (uint8_t)(g + h);
    printf("promote %d %u\n", promoted, wrapped);
    uint16_t m1 = 60000, m2 = 3;
    uint32_t prod = (uint32_t)m1 * m2;
    printf("mul16 %u %u\n", (unsigned)prod, (unsigned)(uint16_t)prod);
    uint32_t x = 1;
    for (int i = 0; i < 100; i++) x *= 3;
    uint64_t y = 1;
    for (int i = 0; i < 100; i++) y *= 3;
    printf("3^100 mod 2^32 %u mod 2^64 %" PRIu64 "\n", (unsigned)x, y);
    uint32_t neg = -(uint32_t)12345;
    printf("neg %u\n", (unsigned)neg);
    uint32_t cnt = 0;
    for (uint8_t i = 250; i != 4; i++) cnt++;
    printf("u8 loop %u\n", (unsigned)cnt);
    uint32_t big = 0xFFFFFFFFu;
    printf("cmp after wrap %d %d\n", big + 1 == 0, (uint64_t)big + 1 == UINT64_C(0x100000000));
    return 7;
}
