/* Host test for the integer-only math helpers: bit-exact agreement with the
 * host libm (NaN only has to stay NaN) over special values, boundaries and
 * millions of random bit patterns. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

double __hsx_sqrt(double), __hsx_floor(double), __hsx_ceil(double), __hsx_trunc(double),
    __hsx_nearest(double), __hsx_fmin(double, double), __hsx_fmax(double, double);
float __hsx_sqrtf(float), __hsx_floorf(float), __hsx_ceilf(float), __hsx_truncf(float),
    __hsx_nearestf(float), __hsx_fminf(float, float), __hsx_fmaxf(float, float);
double hsx_test_round(double), hsx_test_fabs(double), hsx_test_fmod(double, double),
    hsx_test_sqrt(double), hsx_test_floor(double);
float hsx_test_roundf(float), hsx_test_fabsf(float), hsx_test_fmodf(float, float);

static long checks, fails;
static uint64_t rng = 0xDEADBEEFCAFEull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t db(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t fb(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static double bd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static float bf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void cd(const char *n, double in, double in2, double got, double want)
{
    checks++;
    if (isnan(want) ? !isnan(got) : db(got) != db(want))
        if (fails++ < 30)
            fprintf(stderr, "%s(%a, %a): got %a want %a\n", n, in, in2, got, want);
}

static void cf(const char *n, float in, float in2, float got, float want)
{
    checks++;
    if (isnan(want) ? !isnan(got) : fb(got) != fb(want))
        if (fails++ < 30)
            fprintf(stderr, "%s(%a, %a): got %a want %a\n", n, in, in2, got, want);
}

/* wasm min/max reference */
static double wmin(double a, double b)
{
    if (isnan(a) || isnan(b)) return NAN;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static double wmax(double a, double b)
{
    if (isnan(a) || isnan(b)) return NAN;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

static void one_d(double x, double y)
{
    cd("sqrt", x, 0, __hsx_sqrt(x), sqrt(x));
    cd("sqrt(C)", x, 0, hsx_test_sqrt(x), sqrt(x));
    cd("floor", x, 0, __hsx_floor(x), floor(x));
    cd("floor(C)", x, 0, hsx_test_floor(x), floor(x));
    cd("ceil", x, 0, __hsx_ceil(x), ceil(x));
    cd("trunc", x, 0, __hsx_trunc(x), trunc(x));
    cd("nearest", x, 0, __hsx_nearest(x), nearbyint(x));
    cd("round", x, 0, hsx_test_round(x), round(x));
    cd("fabs", x, 0, hsx_test_fabs(x), fabs(x));
    cd("fmod", x, y, hsx_test_fmod(x, y), fmod(x, y));
    cd("fmin", x, y, __hsx_fmin(x, y), wmin(x, y));
    cd("fmax", x, y, __hsx_fmax(x, y), wmax(x, y));
}

static void one_f(float x, float y)
{
    cf("sqrtf", x, 0, __hsx_sqrtf(x), sqrtf(x));
    cf("floorf", x, 0, __hsx_floorf(x), floorf(x));
    cf("ceilf", x, 0, __hsx_ceilf(x), ceilf(x));
    cf("truncf", x, 0, __hsx_truncf(x), truncf(x));
    cf("nearestf", x, 0, __hsx_nearestf(x), nearbyintf(x));
    cf("roundf", x, 0, hsx_test_roundf(x), roundf(x));
    cf("fabsf", x, 0, hsx_test_fabsf(x), fabsf(x));
    cf("fmodf", x, y, hsx_test_fmodf(x, y), fmodf(x, y));
    cf("fminf", x, y, __hsx_fminf(x, y), (float)wmin(x, y));
    cf("fmaxf", x, y, __hsx_fmaxf(x, y), (float)wmax(x, y));
}

int main(void)
{
    static const double sp[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994,
                                1.0, -1.0, 3.0, 4.0, 1e-310, -1e-310, 5e-324, 2.2250738585072014e-308,
                                4503599627370495.5, 4503599627370496.0, 9007199254740991.0,
                                1e300, 1.7976931348623157e308, 0.1, 2.0, 7.0, 1e-5, 123.456,
                                INFINITY, -INFINITY, NAN, -NAN};
    size_t n = sizeof sp / sizeof *sp;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            one_d(sp[i], sp[j]);
            one_f((float)sp[i], (float)sp[j]);
        }
    for (int i = 0; i < 500000; i++) {
        uint64_t a = rnd(), b = rnd();
        one_d(bd(a), bd(b));
        one_d(bd(a), bd((b & 0x800FFFFFFFFFFFFFull) | (a & 0x7FF0000000000000ull) + (rnd() % 64 << 52)));
        one_f(bf((uint32_t)a), bf((uint32_t)b));
        one_f(bf((uint32_t)(a >> 32)), bf((uint32_t)(a >> 32) ^ (uint32_t)(b & 0x807fffff)));
        /* values near integers and half-integers */
        double h = (double)(int64_t)(a % 2000001) / 2 - 500000;
        one_d(h, 0.5);
        one_d(nextafter(h, 1e9), 3);
        one_d(nextafter(h, -1e9), -3);
        one_f((float)h, 0.5f);
        one_f(nextafterf((float)h, 1e9f), 3);
        /* perfect squares and their neighbours for sqrt */
        double r = (double)(a >> 38), sq = r * r;
        one_d(sq, 1);
        one_d(nextafter(sq, 0), 1);
        one_d(nextafter(sq, 1e300), 1);
    }
    printf("math: %ld checks, %ld mismatches\n", checks, fails);
    return fails != 0;
}
