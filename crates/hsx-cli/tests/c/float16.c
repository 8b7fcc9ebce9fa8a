/* _Float16 (IEEE binary16, the HSX value type): literals by cast, arithmetic rounded on
 * assignment, function arguments and returns, arrays, comparisons, conversions to and
 * from int/float/double, bit patterns (round to nearest even, overflow to inf, subnormals).
 * Under hsx cc (clang 16 has no _Float16 on wasm32) it is compiled as __fp16. */
#include <stdio.h>
#include <string.h>

typedef _Float16 half;

static unsigned bits(half h)
{
    unsigned short b;
    memcpy(&b, &h, sizeof b);
    return b;
}

static half from_bits(unsigned b)
{
    unsigned short s = (unsigned short)b;
    half h;
    memcpy(&h, &s, sizeof h);
    return h;
}

static half add(half a, half b) { return a + b; }
static half mul(half a, half b) { return a * b; }
static int use_val(int x) { return x + 1; }

/* examples/c/half.c of the reference HSX repository, in spirit */
static int half_ops(half a, half b)
{
    half sum = a + b;
    half prod = a * b;
    half mix = sum + prod;
    return use_val((int)mix);
}

static half poly(half x)
{
    half acc = (half)0.0f;
    static const float k[] = {0.5f, -1.25f, 2.0f, 3.0f};
    for (int i = 0; i < 4; i++) {
        acc = acc * x + (half)k[i];
    }
    return acc;
}

int main(void)
{
    half a = (half)1.5f, b = (half)2.25f;
    printf("half_ops(1.5, 2.25) = %d\n", half_ops(a, b));
    printf("add %04x mul %04x\n", bits(add(a, b)), bits(mul(a, b)));

    /* rounding: 0.1 and 0.2 are not exact; 2049 rounds to even (2048), 2051 to 2052 */
    half t = (half)0.1f, u = (half)0.2f;
    half s = t + u;
    printf("0.1 %04x 0.2 %04x sum %04x = %.10g\n", bits(t), bits(u), bits(s), (double)s);
    printf("2049 -> %04x, 2051 -> %04x, 65504 -> %04x, 65520 -> %04x\n", bits((half)2049.0f),
           bits((half)2051.0f), bits((half)65504.0f), bits((half)65520.0f));
    printf("1e-7 -> %04x, -0.0 -> %04x, smallest subnormal %.10g\n", bits((half)1e-7f),
           bits((half)-0.0f), (double)from_bits(1));

    /* conversions */
    half neg = (half)-3.75f;
    printf("(int)-3.75 = %d, (int)1e4 = %d, (unsigned)200.5 = %u\n", (int)neg, (int)(half)1e4f,
           (unsigned)(half)200.5f);
    int iv = 1234;
    half hv = (half)iv;
    float fv = hv;
    double dv = (double)(half)3.140625f;
    printf("1234 -> %04x -> %g; 3.140625 -> %.8f\n", bits(hv), (double)fv, dv);
    printf("3.5 bits %u (0x4300 = 17152)\n", bits((half)1.5f + (half)2.0f));

    /* comparisons and an array */
    half v[6];
    for (int i = 0; i < 6; i++) {
        v[i] = (half)(float)(i * i) - (half)7.5f;
    }
    int below = 0;
    half mx = v[0];
    for (int i = 0; i < 6; i++) {
        if (v[i] < (half)0.0f) {
            below++;
        }
        if (v[i] > mx) {
            mx = v[i];
        }
    }
    printf("below zero %d, max %g, v[2] == -3.5: %d\n", below, (double)mx, v[2] == (half)-3.5f);
    printf("poly(0.5) = %g, poly(-2) = %g\n", (double)poly((half)0.5f), (double)poly((half)-2.0f));
    return half_ops(a, b) + 30;
}
