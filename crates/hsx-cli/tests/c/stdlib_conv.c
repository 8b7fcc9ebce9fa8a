/* <stdlib.h> conversions: atoi, atol, strtol with bases 0/2/8/10/16/36 and end pointers,
 * strtoul (including "-1" wrapping), strtoll, abs/labs/llabs, div/ldiv. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("atoi %d %d %d %d %d\n", atoi("42"), atoi("  -17xyz"), atoi("+8"), atoi("abc"), atoi("2147483647"));
    printf("atol %ld\n", atol("-123456"));
    static const struct { const char *s; int base; } t[] = {
        {"123", 10}, {"-0x1A", 16}, {"0x1A", 0}, {"017", 0}, {"017", 10}, {"101101", 2}, {"zz", 36}, {"Zz", 36},
        {"  +77 rest", 8}, {"9", 8}, {"", 10}, {"0x", 16}, {"-2147483648", 10}, {"1g", 16}, {"0b101", 0},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *end;
        long v = strtol(t[i].s, &end, t[i].base);
        printf("strtol(\"%s\",%d) = %ld consumed %d\n", t[i].s, t[i].base, v, (int)(end - t[i].s));
    }
    errno = 0;
    long big = strtol("99999999999999999999", NULL, 10);
    printf("overflow clamps %d errno %d\n", big == LONG_MAX, errno == ERANGE);
    errno = 0;
    long small = strtol("-99999999999999999999", NULL, 10);
    printf("underflow clamps %d errno %d\n", small == LONG_MIN, errno == ERANGE);
    printf("strtoul %lu %lu\n", strtoul("4000000000", NULL, 10), strtoul("ffffffff", NULL, 16));
    printf("strtoul -1 is max %d\n", strtoul("-1", NULL, 10) == ULONG_MAX);
    printf("strtoll %lld %lld\n", strtoll("-9223372036854775808", NULL, 10), strtoll("7fffffffffffffff", NULL, 16));
    printf("strtoull %llu\n", strtoull("18446744073709551615", NULL, 10));
    printf("abs %d %d labs %ld llabs %lld\n", abs(-5), abs(7), labs(-100000L), llabs(-5000000000LL));
    div_t d = div(-17, 5);
    ldiv_t ld = ldiv(100000L, -7L);
    printf("div %d %d ldiv %ld %ld\n", d.quot, d.rem, ld.quot, ld.rem);
    return 0;
}
