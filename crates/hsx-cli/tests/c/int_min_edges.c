/* Defined edge cases around INT_MIN / INT64_MIN and unsigned conversions. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    int m = INT_MIN;
    printf("%d %d %d\n", m, INT_MAX, m + INT_MAX);
    printf("as unsigned %u neg-as-unsigned %u\n", (unsigned)m, -(unsigned)m);
    printf("-(MIN+1)=%d abs(MIN+1)=%d\n", -(m + 1), abs(m + 1));
    printf("MIN<0 %d MIN<MAX %d MIN==-MAX-1 %d\n", m < 0, m < INT_MAX, m == -INT_MAX - 1);
    printf("MIN>>31 via unsigned %u\n", (unsigned)m >> 31);
    int64_t wide = (int64_t)m * 2;
    printf("widened %" PRId64 " negated %" PRId64 "\n", wide, -(int64_t)m);
    printf("INT64_MIN %" PRId64 " INT64_MAX %" PRId64 "\n", INT64_MIN, INT64_MAX);
    printf("INT64_MIN as u %" PRIu64 "\n", (uint64_t)INT64_MIN);
    printf("llabs %lld\n", llabs(INT64_MIN + 1));
    unsigned um = 0u - 1u;
    printf("0u-1u %u UINT_MAX==%d\n", um, um == UINT_MAX);
    printf("SHRT %d %d SCHAR %d %d UCHAR %d USHRT %d\n", SHRT_MIN, SHRT_MAX, SCHAR_MIN, SCHAR_MAX, UCHAR_MAX, USHRT_MAX);
    int16_t s16 = INT16_MIN;
    int8_t s8 = INT8_MIN;
    printf("promoted %d %d %d\n", -s16, -s8, s16 * s16);
    printf("INT_MIN/-1 avoided; INT_MIN%%1=%d INT_MIN/1=%d\n", m % 1, m / 1);
    return 5;
}
