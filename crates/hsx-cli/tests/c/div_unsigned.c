/* Unsigned 32-bit division/modulo, including dividends and divisors >= 2^31. */
#include <stdint.h>
#include <stdio.h>

int main(void) {
    static const uint32_t nums[] = {0u, 1u, 7u, 100u, 0x7FFFFFFFu, 0x80000000u, 0x80000001u,
                                    0xFFFFFFFFu, 0xFFFFFFFEu, 3000000000u, 123456789u};
    static const uint32_t dens[] = {1u, 2u, 3u, 7u, 10u, 0x10000u, 0x7FFFFFFFu, 0x80000000u,
                                    0xFFFFFFFFu, 3000000000u, 65535u};
    uint32_t ck = 0;
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++)
        for (unsigned j = 0; j < sizeof dens / sizeof dens[0]; j++) {
            uint32_t q = nums[i] / dens[j], r = nums[i] % dens[j];
            if (q * dens[j] + r != nums[i] || r >= dens[j]) printf("broken %u %u\n", (unsigned)nums[i], (unsigned)dens[j]);
            ck = (ck ^ q) * 16777619u + r;
            if ((i + j) % 5 == 0)
                printf("%u/%u=%u r%u\n", (unsigned)nums[i], (unsigned)dens[j], (unsigned)q, (unsigned)r);
        }
    printf("checksum %u\n", (unsigned)ck);
    /* Mixed signed/unsigned division converts the int to unsigned. */
    int s = -8;
    unsigned d = 3;
    printf("mixed %u %u\n", s / d, s % d);
    volatile uint32_t a = 4000000000u, b = 3u;
    printf("volatile %u %u\n", (unsigned)(a / b), (unsigned)(a % b));
    return 42;
}
