/* Host test: the runtime's formatter (compiled with -DHSX_HOST_TEST, so its
 * entry points are hsx_test_snprintf & co.) must produce byte-identical output
 * to glibc's snprintf over a large generated corpus. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int hsx_test_snprintf(char *buf, size_t n, const char *fmt, ...);
int hsx_test_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

static long checks, fails;
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check(const char *fmt, ...)
{
    char a[2048], b[2048];
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int ra = vsnprintf(a, sizeof a, fmt, ap);
    int rb = hsx_test_vsnprintf(b, sizeof b, fmt, aq);
    va_end(aq);
    va_end(ap);
    checks++;
    if (ra != rb || strcmp(a, b)) {
        if (fails++ < 30)
            fprintf(stderr, "MISMATCH fmt=\"%s\": glibc[%d]=\"%s\" hsx[%d]=\"%s\"\n", fmt, ra, a, rb,
                    b);
    }
}

static const char *flagsets[] = {"", "-", "+", " ", "#", "0", "-+", "+0", " 0", "#0", "-#", "+#0", "- "};

static void build(char *out, const char *flags, int width, int prec, const char *len, char conv)
{
    char w[16] = "", p[16] = "";
    if (width >= 0)
        sprintf(w, "%d", width);
    if (prec >= 0)
        sprintf(p, ".%d", prec);
    else if (prec == -2)
        strcpy(p, ".");
    sprintf(out, "[%%%s%s%s%s%c]", flags, w, p, len, conv);
}

static void ints(void)
{
    static const long long vals[] = {0, 1, -1, 7, -7, 42, 255, 256, -128, 32767, -32768, 65535,
                                     2147483647LL, -2147483647LL - 1, 4294967295LL,
                                     9223372036854775807LL, -9223372036854775807LL - 1,
                                     123456789012LL, -98765};
    const char *convs = "diuoxX";
    const int widths[] = {-1, 0, 1, 5, 12, 25};
    const int precs[] = {-1, -2, 0, 1, 3, 10, 22};
    char f[64];
    for (size_t v = 0; v < sizeof vals / sizeof *vals; v++)
        for (const char *c = convs; *c; c++)
            for (size_t fs = 0; fs < sizeof flagsets / sizeof *flagsets; fs++)
                for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
                    for (size_t pi = 0; pi < sizeof precs / sizeof *precs; pi++) {
                        long long x = vals[v];
                        build(f, flagsets[fs], widths[wi], precs[pi], "hh", *c);
                        check(f, (int)x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "h", *c);
                        check(f, (int)x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "", *c);
                        check(f, (int)x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "l", *c);
                        check(f, (long)x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "ll", *c);
                        check(f, x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "j", *c);
                        check(f, (intmax_t)x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "z", *c);
                        check(f, (size_t)x);
                        build(f, flagsets[fs], widths[wi], precs[pi], "t", *c);
                        check(f, (ptrdiff_t)x);
                    }
    for (int i = 0; i < 20000; i++) {
        long long x = (long long)rnd() >> (rnd() % 64);
        check("%lld|%llx|%llo|%+25lld|%-20llu|%#.30llX", x, x, x, x, x, x);
        check("%d|%x|%5.3o|% 08d|%-#10x", (int)x, (unsigned)x, (unsigned)x, (int)x, (unsigned)x);
    }
}

static void strs(void)
{
    const char *ss[] = {"", "a", "hello", "hello world, longer string"};
    const int widths[] = {-1, 0, 3, 10, 30};
    const int precs[] = {-1, -2, 0, 2, 5, 40};
    char f[64];
    for (size_t s = 0; s < 4; s++)
        for (size_t fs = 0; fs < 2; fs++)
            for (size_t wi = 0; wi < 5; wi++)
                for (size_t pi = 0; pi < 6; pi++) {
                    build(f, flagsets[fs], widths[wi], precs[pi], "", 's');
                    check(f, ss[s]);
                }
    check("%s|%.3s|%10s|%-10s|", (char *)0, (char *)0, (char *)0, (char *)0);
    check("%c|%5c|%-5c|%c", 'x', 'y', 'z', 0x41);
    check("%%|%5%|%-5%|");
    check("%*d|%-*d|%*d|%.*d|%.*f|%*.*e|", 5, 42, 5, 42, -6, 42, 4, 7, 3, 3.14159, 12, 3, 2.5);
    check("%.*s|%.*d|%.*f", -1, "abc", -3, 5, -1, 1.5);
    check("%p|%p|%10p|%-10p|", (void *)0, (void *)0x1234, (void *)0xab, (void *)0);
    int n1 = 0, n2 = 0;
    char b1[64], b2[64];
    snprintf(b1, sizeof b1, "abc%ndef%n", &n1, &n2);
    int m1 = 0, m2 = 0;
    hsx_test_snprintf(b2, sizeof b2, "abc%ndef%n", &m1, &m2);
    checks++;
    if (n1 != m1 || n2 != m2 || strcmp(b1, b2)) {
        fails++;
        fprintf(stderr, "MISMATCH %%n\n");
    }
    /* truncation and return values */
    char t1[8], t2[8];
    int r1 = snprintf(t1, sizeof t1, "%s-%d", "abcdef", 12345);
    int r2 = hsx_test_snprintf(t2, sizeof t2, "%s-%d", "abcdef", 12345);
    int r3 = hsx_test_snprintf(NULL, 0, "%s-%d", "abcdef", 12345);
    checks++;
    if (r1 != r2 || r1 != r3 || strcmp(t1, t2)) {
        fails++;
        fprintf(stderr, "MISMATCH truncation\n");
    }
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static void fp_one(double d)
{
    char f[64];
    static const char convs[] = "feEgGaA";
    for (const char *c = convs; *c; c++) {
        for (int p = -1; p <= 17; p++) {
            build(f, "", -1, p, "", *c);
            check(f, d);
        }
        check("%#.0f|%#g|%#.3g|%+.3e|% 015.4f|%-12.2g|%020a|%-+#15.3a", d, d, d, d, d, d, d, d);
    }
}

static void floats(void)
{
    static const double sp[] = {0.0, 1.0, 0.5, 1.5, 2.5, 3.5, -0.5, 0.125, 0.375, 1e-300, 1e300,
                                DBL_MAX, DBL_MIN, 4.9406564584124654e-324, 2.2250738585072009e-308,
                                123456789.0, 9.5, 99.5, 0.05, 0.15, 0.25, 0.35, 1e21, 1e22, 1e23,
                                999999.5, 9999995.0, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 100, 1e-5,
                                1e-4, 0.0001234, 123456, 1234567, 9.999999e-5, 0.00009999995,
                                5e-324, 1.7976931348623157e308, 3.141592653589793, 2.718281828459045,
                                6.02214076e23, 1.602176634e-19, 1e15, 1e16, 1e17, 4503599627370496.5,
                                9007199254740993.0, 0.999999999, 9.9999999999};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
        fp_one(sp[i]);
        fp_one(-sp[i]);
    }
    fp_one(INFINITY);
    fp_one(-INFINITY);
    fp_one(NAN);
    fp_one(-NAN);
    check("%f|%F|%e|%E|%g|%G|%5.1f|%-8f|%08f|%+f", INFINITY, INFINITY, -INFINITY, NAN, NAN, -NAN,
          NAN, INFINITY, -INFINITY, NAN);
    /* Exact ties at every precision: k/2^n written with %.{n-1}f etc. */
    for (int n = 1; n <= 20; n++)
        for (int k = 1; k < 64; k += 2) {
            double d = ldexp(k, -n);
            for (int p = 0; p <= n; p++) {
                check("%.*f|%.*e|%.*g", p, d, p, d, p, d);
                check("%.*f|%.*e|%.*g", p, d * 1000, p, d * 1000, p, d * 1000);
            }
        }
    for (int e = -1074; e <= 1023; e++)
        check("%.17g|%.3e|%g|%a|%.0f", ldexp(1, e), ldexp(1.5, e), ldexp(1, e), ldexp(1, e),
              ldexp(1, e) * 1.0);
    for (int i = 0; i < 5000; i++)
        fp_one(from_bits(rnd() & ~(0x7ffull << 52) ? rnd() : 0) ); /* full random bit patterns */
    for (int i = 0; i < 20000; i++) {
        /* values with a moderate exponent, where %f prints many digits */
        double d = from_bits((rnd() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 - 60 + rnd() % 120) << 52));
        int p = (int)(rnd() % 18);
        check("%.*f|%.*e|%.*g|%#.*g", p, d, p, d, p, d, p, d);
    }
    for (int i = 0; i < 3000; i++) {
        double d = from_bits(rnd() % 0x000FFFFFFFFFFFFFull); /* subnormals */
        check("%.20e|%.3g|%a|%.2a|%.400f", d, d, d, d, d);
    }
    check("%.60f|%.40e|%.50g", 0.1, 1.0 / 3, 2.0 / 3);
    check("%f|%f", 1e308, -1e307);
    check("%#g|%#.2g|%#.5g|%#.3g|%#.7g|%#g", 999999.5, 99.96, 99999.95, 999.95, 9999999.5, 9999995.0);
    check("%.0a|%.0a|%.0a|%.1a|%.1a", 1.5, 2.5, 3.0, 1.03125, 1.09375);
}

int main(void)
{
    ints();
    strs();
    floats();
    printf("printf: %ld checks, %ld mismatches\n", checks, fails);
    return fails != 0;
}
