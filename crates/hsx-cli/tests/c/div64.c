/* 64-bit signed/unsigned division and modulo (helper calls on 32-bit targets). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    static const int64_t nums[] = {0, 1, -1, 7, -7, INT64_C(1000000000000), -INT64_C(1000000000000),
                                   INT64_MAX, INT64_MIN + 1, INT64_C(0x100000000), -INT64_C(0x100000001)};
    static const int64_t dens[] = {1, -1, 3, -3, 10, INT64_C(0x100000000), -INT64_C(0x7FFFFFFF),
                                   INT64_C(1000000007), INT64_MAX, -INT64_C(5000000000)};
    uint64_t ck = 0;
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++)
        for (unsigned j = 0; j < sizeof dens / sizeof dens[0]; j++) {
            int64_t q = nums[i] / dens[j], r = nums[i] % dens[j];
            if (q * dens[j] + r != nums[i]) printf("broken\n");
            ck = ck * UINT64_C(1000003) + (uint64_t)q + ((uint64_t)r << 7);
            if ((i * 3 + j) % 7 == 0)
                printf("%" PRId64 " / %" PRId64 " = %" PRId64 " rem %" PRId64 "\n", nums[i], dens[j], q, r);
        }
    printf("signed checksum %016" PRIx64 "\n", ck);
    uint64_t u = UINT64_C(0xFFFFFFFFFFFFFFFF), v = UINT64_C(0x8000000000000000);
    printf("u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", u / 3, u % 1000, v / UINT64_C(0xFFFFFFFF), v % UINT64_C(0xFFFFFFFF));
    printf("u2 %" PRIu64 " %" PRIu64 "\n", u / v, u % v);
    printf("min %" PRId64 " %" PRId64 " %" PRId64 "\n", INT64_MIN / 2, INT64_MIN % 7, INT64_MIN / INT64_MAX);
    /* Decimal conversion by repeated division. */
    uint64_t x = UINT64_C(18446744073709551557);
    char buf[32];
    int k = 0;
    do { buf[k++] = (char)('0' + x % 10); x /= 10; } while (x);
    printf("digits ");
    while (k) putchar(buf[--k]);
    putchar('\n');
    return 0;
}
