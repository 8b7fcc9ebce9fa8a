/* Conversions int <-> float <-> double: truncation toward zero for negative values, large
 * magnitudes, unsigned and 64-bit sources and targets, float rounding of big ints. All
 * conversions are in range (out-of-range float->int is undefined). */
#include <inttypes.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>

int main(void) {
    static const double d[] = {0.0, 0.9, -0.9, 1.5, -1.5, 2.5, -2.5, 123456.789, -123456.789, 2147483647.0, -2147483648.0,
                               4294967295.0, 1e15, -9.2e18};
    for (unsigned i = 0; i < sizeof d / sizeof d[0]; i++) {
        double x = d[i];
        long long ll = (long long)x;
        printf("%.4e -> ll %lld", x, ll);
        if (x > -2147483649.0 && x < 2147483648.0) printf(" i32 %d", (int32_t)x);
        if (x > -1.0 && x < 4294967296.0) printf(" u32 %u", (unsigned)(uint32_t)x);
        printf("\n");
    }
    printf("u64 %" PRIu64 " %" PRIu64 "\n", (uint64_t)1.8e19, (uint64_t)9223372036854775808.0);
    static const int32_t ints[] = {0, 1, -1, 16777216, 16777217, -16777217, 2147483647, -2147483647 - 1, 123456789};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++)
        printf("i32 %d -> f %.1f d %.1f\n", ints[i], (double)(float)ints[i], (double)ints[i]);
    printf("u32 %.1f %.1f\n", (double)4294967295u, (double)(float)4294967295u);
    static const int64_t big[] = {INT64_C(9007199254740993), -INT64_C(9007199254740993), INT64_MAX, INT64_MIN, INT64_C(1) << 62};
    /* The doubles are printed back as integers (exact, and in range as uint64 magnitudes)
     * so that printf never has to render a %f value beyond 2^53. */
    for (unsigned i = 0; i < 5; i++) {
        double dv = (double)big[i];
        float fv = (float)big[i];
        printf("i64 %" PRId64 " -> d %s%" PRIu64 " f %s%" PRIu64 "\n", big[i], dv < 0 ? "-" : "", (uint64_t)fabs(dv),
               fv < 0 ? "-" : "", (uint64_t)fabsf(fv));
    }
    printf("u64max -> d is 2^64 %d\n", (double)UINT64_MAX == 18446744073709551616.0);
    float f = 0.1f;
    double df = f;
    printf("float->double %.10f back %d\n", df, (float)df == f);
    double dd = 1.0 / 3.0;
    float narrowed = (float)dd;
    printf("double->float %.8f\n", (double)narrowed);
    printf("char/short %d %d\n", (int)(signed char)-3.7, (int)(short)-30000.9);
    unsigned char uc = (unsigned char)200.9;
    printf("uchar %u\n", uc);
    return 0;
}
