/* <math.h> functions with exactly specified or correctly rounded results: sqrt, floor,
 * ceil, trunc, round (halfway away from zero), fabs, fmod, lround, copysign, hypot of
 * Pythagorean triples, ldexp/frexp, modf. */
#include <math.h>
#include <stdio.h>

int main(void) {
    static const double v[] = {0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 2.4999, -7.75, 123.456, -0.001, 1e15 + 0.5};
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        double x = v[i];
        printf("x=%.4f floor %.1f ceil %.1f trunc %.1f round %.1f fabs %.4f llround %lld\n", x, floor(x), ceil(x), trunc(x), round(x),
               fabs(x), llround(x));
    }
    printf("sqrt %.6f %.6f %.1f %.10f\n", sqrt(2.0), sqrt(1e10), sqrt(144.0), sqrt(0.5));
    printf("sqrtf %.5f\n", (double)sqrtf(3.0f));
    printf("fmod %.4f %.4f %.4f %.4f\n", fmod(10.0, 3.0), fmod(-10.0, 3.0), fmod(10.0, -3.0), fmod(5.5, 1.25));
    printf("copysign %.1f %.1f\n", copysign(3.0, -0.0), copysign(-2.0, 1.0));
    printf("hypot %.1f %.1f\n", hypot(3.0, 4.0), hypot(5.0, 12.0));
    int e;
    double m = frexp(48.0, &e);
    printf("frexp %.4f %d ldexp %.1f %.6f\n", m, e, ldexp(0.75, 6), ldexp(1.0, -10));
    double ip;
    double fp = modf(-3.625, &ip);
    printf("modf %.3f %.1f\n", fp, ip);
    printf("floorf %.1f ceilf %.1f fabsf %.2f\n", (double)floorf(-2.5f), (double)ceilf(-2.5f), (double)fabsf(-0.75f));
    printf("sqrt(-1) nan %d\n", isnan(sqrt(-1.0)) != 0);
    printf("lround (long is 32-bit on wasm32: small values only) %ld %ld %ld\n", lround(2.5), lround(-2.5), lround(-100000.4));
    printf("fmin %.1f fmax %.1f\n", fmin(-1.0, 2.0), fmax(-1.0, 2.0));
    return 0;
}
