/* Soft math helpers using integer operations only.
 *
 * The wasm->MiniVM translator has no native sqrt/floor/ceil/trunc/nearest/
 * min/max; it lowers f64.sqrt & co. to calls of the __hsx_* functions below
 * (wasm semantics). They therefore must not contain the instruction they
 * implement, so they work on the IEEE bit patterns. One generic routine per
 * operation serves both formats (mb = mantissa bits, eb = exponent bits):
 * smaller code matters more here than the cost of 64-bit ops for floats.
 * The C library names (sqrt, floor, ...) are thin wrappers over them. */
#include "rt.h"

typedef union {
    double d;
    uint64_t u;
} dbits;
typedef union {
    float f;
    uint32_t u;
} fbits;

enum { R_TRUNC, R_FLOOR, R_CEIL, R_EVEN, R_AWAY };

#define D 52, 11
#define F 23, 8

static uint64_t qnan(int mb, int eb)
{
    return ((1ull << eb) - 1) << mb | 1ull << (mb - 1);
}

/* Rounds the value with bit pattern b to an integer in the given mode. */
static uint64_t rint_bits(uint64_t b, int mb, int eb, int mode)
{
    int bias = (1 << (eb - 1)) - 1;
    int e = (int)((b >> mb) & ((1u << eb) - 1)) - bias;
    uint64_t sign = (b >> (mb + eb)) & 1, one = (uint64_t)bias << mb;
    if (e >= mb) /* already integral, inf or NaN (quieted) */
        return e > bias && (b & ((1ull << mb) - 1)) ? b | 1ull << (mb - 1) : b;
    if (e < 0) {
        if (!(b & ~(sign << (mb + eb))))
            return b; /* +-0 */
        int up = mode == R_FLOOR   ? (int)sign
                 : mode == R_CEIL  ? !sign
                 : mode == R_EVEN  ? e == -1 && (b & ((1ull << mb) - 1))
                 : mode == R_AWAY  ? e == -1
                                   : 0;
        return sign << (mb + eb) | (up ? one : 0);
    }
    uint64_t mask = (1ull << (mb - e)) - 1, frac = b & mask, half = (mask + 1) >> 1;
    if (!frac)
        return b;
    int up = mode == R_FLOOR   ? (int)sign
             : mode == R_CEIL  ? !sign
             : mode == R_EVEN  ? frac > half || (frac == half && ((b >> (mb - e)) & 1))
             : mode == R_AWAY  ? frac >= half
                               : 0;
    b &= ~mask;
    return up ? b + mask + 1 : b; /* a carry into the exponent is exact */
}

/* Correctly rounded square root, digit by digit (one result bit a step). */
static uint64_t sqrt_bits(uint64_t b, int mb, int eb)
{
    int bias = (1 << (eb - 1)) - 1, emax = (1 << eb) - 1;
    uint64_t sign = 1ull << (mb + eb), fm = (1ull << mb) - 1;
    int ex = (int)((b >> mb) & (uint64_t)emax);
    if (!(b & ~sign))
        return b; /* +-0 */
    if (ex == emax && (b & fm))
        return b | 1ull << (mb - 1); /* NaN */
    if (b & sign)
        return qnan(mb, eb); /* negative */
    if (ex == emax)
        return b; /* +inf */
    uint64_t m = b & fm;
    int E;
    if (ex) {
        m |= 1ull << mb;
        E = ex - bias - mb;
    } else {
        E = 1 - bias - mb;
        while (!(m >> mb)) {
            m <<= 1;
            E--;
        }
    }
    int c = mb;
    if (mb & 1) {
        m <<= 1;
        E--;
        c++;
    }
    if (E & 1) {
        m <<= 1;
        E--;
    }
    /* m in [2^c, 2^(c+2)), c even; q = isqrt(m << s) has mb+2 bits. */
    int s = 2 * mb + 2 - c;
    uint64_t q = 0, rem = 0;
    for (int i = mb + 1; i >= 0; i--) {
        int sh = 2 * i - s;
        rem = (rem << 2) | (sh >= 0 ? (m >> sh) & 3 : 0);
        uint64_t t = (q << 2) | 1;
        q <<= 1;
        if (rem >= t) {
            rem -= t;
            q |= 1;
        }
    }
    /* q's last bit is the rounding bit; an exact tie cannot happen. */
    uint64_t res = (q >> 1) + (q & 1);
    int biased = E / 2 - s / 2 + 1 + mb + bias;
    return ((uint64_t)(biased - 1) << mb) + res;
}

static uint64_t fmod_bits(uint64_t x, uint64_t y, int mb, int eb)
{
    int emax = (1 << eb) - 1;
    uint64_t sign = 1ull << (mb + eb), fm = (1ull << mb) - 1;
    uint64_t sx = x & sign, ax = x & ~sign, ay = y & ~sign;
    int ex = (int)(ax >> mb), ey = (int)(ay >> mb);
    if (!ay || ex == emax || ay > ((uint64_t)emax << mb))
        return qnan(mb, eb); /* y == 0, x inf/NaN, y NaN */
    if (ax < ay)
        return x;
    if (ax == ay)
        return sx;
    uint64_t mx = ax & fm, my = ay & fm;
    if (ex)
        mx |= 1ull << mb;
    else
        for (ex = 1; !(mx >> mb); ex--)
            mx <<= 1;
    if (ey)
        my |= 1ull << mb;
    else
        for (ey = 1; !(my >> mb); ey--)
            my <<= 1;
    for (; ex > ey; ex--) {
        if (mx >= my)
            mx -= my;
        mx <<= 1;
    }
    if (mx >= my)
        mx -= my;
    if (!mx)
        return sx;
    while (!(mx >> mb)) {
        mx <<= 1;
        ex--;
    }
    if (ex > 0)
        return sx | (uint64_t)ex << mb | (mx & fm);
    return sx | mx >> (1 - ex); /* subnormal result, exact */
}

#define DF1(name, expr)                                                                            \
    double name(double x)                                                                          \
    {                                                                                              \
        dbits v = {x};                                                                             \
        v.u = expr;                                                                                \
        return v.d;                                                                                \
    }
#define FF1(name, expr)                                                                            \
    float name(float x)                                                                            \
    {                                                                                              \
        fbits v = {x};                                                                             \
        v.u = (uint32_t)(expr);                                                                    \
        return v.f;                                                                                \
    }

/* The translator's targets (wasm semantics). */
DF1(__hsx_sqrt, sqrt_bits(v.u, D))
FF1(__hsx_sqrtf, sqrt_bits(v.u, F))
DF1(__hsx_floor, rint_bits(v.u, D, R_FLOOR))
FF1(__hsx_floorf, rint_bits(v.u, F, R_FLOOR))
DF1(__hsx_ceil, rint_bits(v.u, D, R_CEIL))
FF1(__hsx_ceilf, rint_bits(v.u, F, R_CEIL))
DF1(__hsx_trunc, rint_bits(v.u, D, R_TRUNC))
FF1(__hsx_truncf, rint_bits(v.u, F, R_TRUNC))
DF1(__hsx_nearest, rint_bits(v.u, D, R_EVEN))
FF1(__hsx_nearestf, rint_bits(v.u, F, R_EVEN))

/* wasm min/max: NaN if either is NaN; -0 < +0. */
double __hsx_fmin(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        dbits x = {a}, y = {b};
        x.u |= y.u;
        return x.d;
    }
    return a < b ? a : b;
}

double __hsx_fmax(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        dbits x = {a}, y = {b};
        x.u &= y.u;
        return x.d;
    }
    return a > b ? a : b;
}

float __hsx_fminf(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        fbits x = {a}, y = {b};
        x.u |= y.u;
        return x.f;
    }
    return a < b ? a : b;
}

float __hsx_fmaxf(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        fbits x = {a}, y = {b};
        x.u &= y.u;
        return x.f;
    }
    return a > b ? a : b;
}

/* C library names. */
double HSX_NAME(sqrt)(double x) { return __hsx_sqrt(x); }
float HSX_NAME(sqrtf)(float x) { return __hsx_sqrtf(x); }
double HSX_NAME(floor)(double x) { return __hsx_floor(x); }
float HSX_NAME(floorf)(float x) { return __hsx_floorf(x); }
double HSX_NAME(ceil)(double x) { return __hsx_ceil(x); }
float HSX_NAME(ceilf)(float x) { return __hsx_ceilf(x); }
double HSX_NAME(trunc)(double x) { return __hsx_trunc(x); }
float HSX_NAME(truncf)(float x) { return __hsx_truncf(x); }
double HSX_NAME(rint)(double x) { return __hsx_nearest(x); }
float HSX_NAME(rintf)(float x) { return __hsx_nearestf(x); }
double HSX_NAME(nearbyint)(double x) { return __hsx_nearest(x); }
float HSX_NAME(nearbyintf)(float x) { return __hsx_nearestf(x); }
DF1(HSX_NAME(round), rint_bits(v.u, D, R_AWAY))
FF1(HSX_NAME(roundf), rint_bits(v.u, F, R_AWAY))
DF1(HSX_NAME(fabs), v.u & ~(1ull << 63))
FF1(HSX_NAME(fabsf), v.u & 0x7fffffffu)

double HSX_NAME(fmod)(double x, double y)
{
    dbits a = {x}, b = {y};
    a.u = fmod_bits(a.u, b.u, D);
    return a.d;
}

float HSX_NAME(fmodf)(float x, float y)
{
    fbits a = {x}, b = {y};
    a.u = (uint32_t)fmod_bits(a.u, b.u, F);
    return a.f;
}
