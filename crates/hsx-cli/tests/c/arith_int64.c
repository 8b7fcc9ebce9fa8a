/* 64-bit integer arithmetic: mul, div, mod, shifts, compares, unsigned wrap. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    int64_t a = INT64_C(123456789012345), b = -INT64_C(987654321);
    printf("add %" PRId64 " sub %" PRId64 "\n", a + b, a - b);
    printf("mul %" PRId64 "\n", (a / 1000000) * b);
    printf("div %" PRId64 " mod %" PRId64 "\n", a / b, a % b);
    uint64_t u = UINT64_C(0xFEDCBA9876543210);
    printf("hex %016" PRIx64 " shr %" PRIx64 " shl %" PRIx64 "\n", u, u >> 20, u << 12);
    printf("udiv %" PRIu64 " umod %" PRIu64 "\n", u / UINT64_C(1000000007), u % UINT64_C(1000000007));
    uint64_t w = UINT64_MAX;
    w += 2;
    printf("wrap %" PRIu64 "\n", w);
    uint64_t m = UINT64_C(0x0123456789ABCDEF) * UINT64_C(0xFEDCBA9876543211);
    printf("umul %016" PRIx64 "\n", m);
    int64_t c1 = -1, c2 = 1;
    uint64_t d1 = (uint64_t)-1, d2 = 1;
    printf("cmp s %d %d %d u %d %d\n", c1 < c2, c1 > c2, c1 == -1, d1 < d2, d1 > d2);
    int64_t big = INT64_C(1) << 40;
    printf("cmp hi/lo %d %d\n", big > (int64_t)INT64_C(0xFFFFFFFF), (big + 1) < big);
    uint64_t f = 1;
    for (int i = 1; i <= 20; i++) f *= (uint64_t)i;
    printf("20! %" PRIu64 "\n", f);
    uint64_t h = UINT64_C(1469598103934665603);
    for (int i = 0; i < 100; i++) { h ^= (uint64_t)i; h *= UINT64_C(1099511628211); }
    printf("fnv %016" PRIx64 "\n", h);
    int64_t n = -a;
    printf("neg %" PRId64 " compl %" PRId64 "\n", n, ~a);
    int32_t x = -7;
    int64_t ext = x;
    uint64_t uext = (uint32_t)x;
    printf("ext %" PRId64 " uext %" PRIu64 "\n", ext, uext);
    return 3;
}
