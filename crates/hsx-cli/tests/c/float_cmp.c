/* Floating comparisons: ordering, NaN is unordered (every relation false except !=),
 * -0.0 == 0.0, infinities, isnan/isinf/isfinite/signbit, fmin/fmax with NaN. */
#include <math.h>
#include <stdio.h>

static void rel(const char *name, double a, double b) {
    printf("%s: < %d <= %d > %d >= %d == %d != %d unord %d\n", name, a < b, a <= b, a > b, a >= b, a == b, a != b,
           isunordered(a, b) != 0);
}

int main(void) {
    volatile double zero = 0.0;
    double nan_ = zero / zero, inf = 1.0 / zero;
    rel("1 vs 2", 1.0, 2.0);
    rel("2 vs 1", 2.0, 1.0);
    rel("nan vs 1", nan_, 1.0);
    rel("nan vs nan", nan_, nan_);
    rel("-0 vs 0", -0.0, 0.0);
    rel("inf vs max", inf, 1.7976931348623157e308);
    rel("-inf vs inf", -inf, inf);
    printf("isnan %d %d isinf %d %d %d isfinite %d %d\n", isnan(nan_) != 0, isnan(inf) != 0, isinf(inf) != 0, isinf(-inf) != 0,
           isinf(nan_) != 0, isfinite(1.0) != 0, isfinite(inf) != 0);
    printf("signbit %d %d %d %d\n", signbit(-0.0) != 0, signbit(0.0) != 0, signbit(-inf) != 0, signbit(-1e-300) != 0);
    printf("fmax %g fmin %g fmax-both %d\n", fmax(nan_, 3.0), fmin(2.0, nan_), isnan(fmax(nan_, nan_)) != 0);
    float fn = (float)nan_;
    printf("float nan self-eq %d\n", fn == fn);
    int count = 0;
    double vals[] = {3.0, nan_, -1.0, inf, -0.0, 0.0, nan_, -inf};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) count += (vals[i] < vals[j]) + 2 * (vals[i] == vals[j]);
    printf("matrix %d\n", count);
    printf("nan to bool %d\n", nan_ ? 1 : 0);
    volatile float tenth_f = 0.1f, half_f = 0.5f;
    volatile double tenth = 0.1, half = 0.5;
    printf("float vs double %d %d\n", tenth_f == tenth, half_f == half);
    return 0;
}
