/* Comparisons: signed vs unsigned, usual arithmetic conversions, 64-bit compare of the high
 * and low halves, and boolean results used as integers. */
#include <stdint.h>
#include <stdio.h>

static int cmp3(int64_t a, int64_t b) { return (a > b) - (a < b); }
static int ucmp3(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

int main(void) {
    int neg = -1;
    unsigned one = 1;
    printf("-1 < 1u: %d\n", (unsigned)neg < one);
    printf("-1 < (int)1u: %d\n", neg < (int)one);
    printf("long long -1 < 1u: %d\n", (long long)neg < one);
    static const int64_t v[] = {INT64_MIN, -INT64_C(0x100000000), -1, 0, 1, INT64_C(0xFFFFFFFF),
                                INT64_C(0x100000000), INT64_C(0x100000001), INT64_MAX};
    enum { N = sizeof v / sizeof v[0] };
    for (int i = 0; i < N; i++) {
        char line[N + 1];
        for (int j = 0; j < N; j++) line[j] = "<=>"[cmp3(v[i], v[j]) + 1];
        line[N] = 0;
        char uline[N + 1];
        for (int j = 0; j < N; j++) uline[j] = "<=>"[ucmp3((uint64_t)v[i], (uint64_t)v[j]) + 1];
        uline[N] = 0;
        printf("%s %s\n", line, uline);
    }
    static const int32_t w[] = {INT32_MIN, -2, -1, 0, 1, 2, INT32_MAX};
    int s = 0;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++)
            s += (w[i] < w[j]) * 1 + (w[i] <= w[j]) * 2 + ((uint32_t)w[i] < (uint32_t)w[j]) * 4 +
                 ((uint32_t)w[i] >= (uint32_t)w[j]) * 8 + (w[i] != w[j]) * 16;
    printf("score %d\n", s);
    int16_t sh = -1;
    uint16_t ush = 0xFFFF;
    printf("short promo %d %d\n", sh == ush, (uint16_t)sh == ush);
    return 0;
}
