/* Integer conversions with defined results: narrowing to unsigned types, sign and zero
 * extension from narrow types, and conversions between 32 and 64 bits. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    int32_t vals[] = {0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32769, 65535, 70000, INT32_MIN, INT32_MAX};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int32_t v = vals[i];
        uint8_t u8 = (uint8_t)v;
        uint16_t u16 = (uint16_t)v;
        uint64_t u64 = (uint64_t)v;
        int64_t s64 = v;
        printf("%11d u8=%3u u16=%5u u64=%" PRIu64 " s64=%" PRId64 "\n", v, u8, u16, u64, s64);
    }
    int8_t s8 = -100;
    int16_t s16 = -30000;
    uint8_t z8 = 200;
    uint16_t z16 = 60000;
    int32_t r1 = s8, r2 = s16, r3 = z8, r4 = z16;
    printf("ext %d %d %d %d\n", r1, r2, r3, r4);
    uint64_t big = UINT64_C(0x123456789ABCDEF0);
    uint32_t lo = (uint32_t)big, hi = (uint32_t)(big >> 32);
    printf("split %08x %08x\n", (unsigned)hi, (unsigned)lo);
    uint64_t joined = ((uint64_t)hi << 32) | lo;
    printf("join %d\n", joined == big);
    int64_t neg = -5;
    uint32_t trunc = (uint32_t)neg;
    printf("trunc %u\n", (unsigned)trunc);
    _Bool b1 = 256, b2 = 0, b3 = -1;
    printf("bool %d %d %d\n", b1, b2, b3);
    return 9;
}
