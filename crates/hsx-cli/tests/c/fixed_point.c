/* Q16.16 fixed-point arithmetic with 64-bit intermediates: multiply, divide, square root by
 * bisection, a Mandelbrot ASCII render, and conversion to decimal text without floats. */
#include <stdint.h>
#include <stdio.h>

typedef int32_t fx;
#define FX_ONE 65536
static fx fx_from(int32_t i) { return i * FX_ONE; }
static fx fx_mul(fx a, fx b) { return (fx)(((int64_t)a * b) / FX_ONE); }
static fx fx_div(fx a, fx b) { return (fx)(((int64_t)a * FX_ONE) / b); }
static fx fx_sqrt(fx a) {
    fx lo = 0, hi = a > FX_ONE ? a : FX_ONE;
    for (int i = 0; i < 40; i++) { fx mid = lo + (hi - lo) / 2; if (fx_mul(mid, mid) <= a) lo = mid; else hi = mid; }
    return lo;
}
static void fx_print(fx v) {
    int neg = v < 0;
    uint32_t u = neg ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
    uint32_t ip = u >> 16, frac = u & 0xFFFF;
    uint32_t dec = (uint32_t)(((uint64_t)frac * 10000 + 32768) >> 16);
    if (dec == 10000) { ip++; dec = 0; }
    printf("%s%u.%04u", neg ? "-" : "", (unsigned)ip, (unsigned)dec);
}

int main(void) {
    fx a = fx_from(3) + FX_ONE / 4, b = -fx_from(2) - FX_ONE / 8;
    fx_print(fx_mul(a, b)); printf(" ");
    fx_print(fx_div(a, b)); printf(" ");
    fx_print(fx_sqrt(fx_from(2))); printf(" ");
    fx_print(fx_sqrt(fx_from(100))); printf("\n");
    fx acc = 0;
    for (int i = 1; i <= 100; i++) acc += fx_div(FX_ONE, fx_from(i));
    printf("harmonic100 "); fx_print(acc); printf("\n");
    for (int row = 0; row < 10; row++) {
        for (int col = 0; col < 32; col++) {
            fx cr = fx_from(-2) + col * (fx_from(3) / 32), ci = fx_from(-1) + row * (fx_from(2) / 10);
            fx zr = 0, zi = 0;
            int it = 0;
            while (it < 20 && fx_mul(zr, zr) + fx_mul(zi, zi) <= fx_from(4)) {
                fx t = fx_mul(zr, zr) - fx_mul(zi, zi) + cr;
                zi = 2 * fx_mul(zr, zi) + ci;
                zr = t;
                it++;
            }
            putchar(" .:-=+*#%@"[it % 10]);
        }
        putchar('\n');
    }
    return 0;
}
