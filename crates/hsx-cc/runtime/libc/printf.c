/* Compact printf formatter for the HSX runtime.
 *
 * Why not wasi-libc's: its vfprintf carries long-double support and weighs
 * 70-90 KB of wasm, more than a whole MiniVM code segment (64 KiB).
 *
 * Floating point is exact: a double is m * 2^e, so its decimal expansion is
 * finite; we build all of it as a big integer in base 1e9 (m * 2^e, or
 * m * 5^-e with the decimal point -e digits from the right) and round that
 * digit string at the requested position with round-half-even, which is what
 * glibc prints in the default rounding mode. Nothing is stored per digit: a
 * digit is read back from the limbs on demand, so the only buffer is the
 * limb array (<= 87 limbs for the smallest subnormal). */
#include "rt.h"

enum { F_LEFT = 1, F_PLUS = 2, F_SPACE = 4, F_ALT = 8, F_ZERO = 16, F_UPPER = 32 };
enum { LM_HH = 1, LM_H, LM_L, LM_LL, LM_Z, LM_T, LM_LD };

static void put(struct hsx_sink *s, char c)
{
    if (s->flush) {
        s->buf[s->pos++] = c;
        if (s->pos == s->cap)
            s->flush(s);
    } else if (s->pos + 1 < s->cap) {
        s->buf[s->pos++] = c;
    }
    s->total++;
}

static void pad(struct hsx_sink *s, char c, int n)
{
    while (n-- > 0)
        put(s, c);
}

/* Left padding, prefix (sign, 0x) and zero padding of a field whose body is
 * len characters; returns what is left of the width for the right padding. */
static int pre(struct hsx_sink *s, int fl, int width, const char *pfx, int plen, int len)
{
    int w = width - plen - len;
    if (!(fl & (F_LEFT | F_ZERO)))
        pad(s, ' ', w);
    for (int i = 0; i < plen; i++)
        put(s, pfx[i]);
    if ((fl & (F_LEFT | F_ZERO)) == F_ZERO)
        pad(s, '0', w);
    return (fl & F_LEFT) ? w : 0;
}

static const char hexd[] = "0123456789abcdef0123456789ABCDEF";

static void fmt_int(struct hsx_sink *s, uint64_t v, int neg, unsigned base, int fl, int width,
                    int prec)
{
    char buf[24], pfx[2];
    int n = 0, plen = 0;
    const char *dg = hexd + ((fl & F_UPPER) ? 16 : 0);
    if (prec >= 0)
        fl &= ~F_ZERO;
    else
        prec = 1;
    if (v >> 32 == 0) {
        /* 32-bit loop: on the MiniVM 64-bit division is an emulated call. */
        for (uint32_t x = (uint32_t)v; x; x /= base)
            buf[n++] = dg[x % base];
    } else {
        for (; v; v /= base)
            buf[n++] = dg[v % base];
    }
    if (neg)
        pfx[plen++] = '-';
    else if (fl & F_PLUS)
        pfx[plen++] = '+';
    else if (fl & F_SPACE)
        pfx[plen++] = ' ';
    if (fl & F_ALT) {
        if (base == 8 && prec <= n)
            prec = n + 1;
        if (base == 16 && n) {
            pfx[plen++] = '0';
            pfx[plen++] = (fl & F_UPPER) ? 'X' : 'x';
        }
    }
    int len = n > prec ? n : prec;
    int w = pre(s, fl, width, pfx, plen, len);
    pad(s, '0', prec - n);
    while (n)
        put(s, buf[--n]);
    pad(s, ' ', w);
}

/* ---- exact decimal expansion of a finite non-negative double ---- */

#define NLIMB 90
static uint32_t limb[NLIMB]; /* little-endian, base 1e9 */
static int nl;               /* limbs in use */
static int nd;               /* decimal digits in the integer held by limb[] */
static int dx;               /* value = 0.d0 d1 d2 ... * 10^dx */
static int rn, rpos;         /* rounding state, see round_to() */
static const uint32_t p10[10] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

static void mul_small(uint32_t f)
{
    uint64_t c = 0;
    for (int i = 0; i < nl; i++) {
        c += (uint64_t)limb[i] * f;
        limb[i] = (uint32_t)(c % 1000000000u);
        c /= 1000000000u;
    }
    if (c)
        limb[nl++] = (uint32_t)c;
}

static void decompose(uint64_t b)
{
    int e = (int)(b >> 52);
    uint64_t m = b & 0xFFFFFFFFFFFFFull;
    int k = 0;
    if (e)
        m |= 1ull << 52;
    else
        e = 1;
    e -= 1075;
    if (!m)
        e = 0;
    else
        while (!(m & 1)) { /* fewer factors of 5 to multiply in */
            m >>= 1;
            e++;
        }
    limb[0] = (uint32_t)(m % 1000000000u);
    limb[1] = (uint32_t)(m / 1000000000u % 1000000000u);
    limb[2] = (uint32_t)(m / 1000000000000000000ull);
    nl = 3;
    while (nl > 1 && !limb[nl - 1])
        nl--;
    if (e > 0) {
        for (; e >= 29; e -= 29)
            mul_small(1u << 29);
        if (e)
            mul_small(1u << e);
    } else if (e < 0) {
        k = -e;
        for (e = k; e >= 12; e -= 12)
            mul_small(244140625u); /* 5^12 */
        uint32_t f = 1;
        while (e--)
            f *= 5;
        mul_small(f);
    }
    int t = 1;
    while (t < 9 && limb[nl - 1] >= p10[t])
        t++;
    nd = t + 9 * (nl - 1);
    dx = nd - k;
}

static int dig(int i)
{
    if (i < 0 || i >= nd)
        return 0;
    int r = nd - 1 - i;
    return (int)(limb[r / 9] / p10[r % 9] % 10);
}

/* Round to n significant digits, half to even. Afterwards rdig() yields the
 * rounded digits: rpos == -2 means no carry, -1 means the carry ran out of
 * the top ("999" -> "1000", dx grows), otherwise digit rpos got +1 and the
 * digits after it are 0. */
static void round_to(int n)
{
    rpos = -2;
    rn = n < 0 ? 0 : n;
    if (n < 0 || n >= nd)
        return;
    int d = dig(n);
    if (d < 5)
        return;
    if (d == 5) {
        int i = n + 1;
        while (i < nd && !dig(i))
            i++;
        if (i == nd && !(dig(n - 1) & 1))
            return;
    }
    rpos = n - 1;
    while (rpos >= 0 && dig(rpos) == 9)
        rpos--;
    if (rpos < 0) {
        rpos = -1;
        dx++;
    }
}

static int rdig(int i)
{
    if (rpos == -1)
        return i == 0;
    if (i < 0 || i >= rn)
        return 0;
    if (rpos == -2 || i < rpos)
        return dig(i);
    return i == rpos ? dig(i) + 1 : 0;
}

/* Number of rounded digits up to the last non-zero one (for %g trimming). */
static int sigdigits(void)
{
    if (rpos >= -1)
        return rpos < 0 ? 1 : rpos + 1;
    int i = (rn < nd ? rn : nd) - 1;
    while (i >= 0 && !dig(i))
        i--;
    return i + 1;
}

static void put_dec(struct hsx_sink *s, unsigned v, int mindig)
{
    char b[12];
    int n = 0;
    do
        b[n++] = (char)('0' + v % 10);
    while ((v /= 10) || n < mindig);
    while (n)
        put(s, b[--n]);
}

static int ndec(unsigned v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static void fmt_hex(struct hsx_sink *s, uint64_t b, char *pfx, int plen, int fl, int width,
                    int prec)
{
    int e = (int)(b >> 52), lead = 1;
    uint64_t m = b & 0xFFFFFFFFFFFFFull;
    if (!e) {
        lead = 0;
        e = m ? -1022 : 0;
    } else {
        e -= 1023;
    }
    if (prec < 0) {
        prec = 13;
        while (prec && !((m >> (4 * (13 - prec))) & 15))
            prec--;
    } else if (prec < 13) {
        int sh = 4 * (13 - prec);
        uint64_t rem = m & ((1ull << sh) - 1), half = 1ull << (sh - 1);
        m >>= sh;
        int odd = prec ? (int)(m & 1) : (lead & 1);
        if (rem > half || (rem == half && odd))
            m++;
        if (m >> (4 * prec)) {
            m = 0;
            lead++;
        }
        m <<= sh;
    }
    const char *dg = hexd + ((fl & F_UPPER) ? 16 : 0);
    pfx[plen++] = '0';
    pfx[plen++] = (fl & F_UPPER) ? 'X' : 'x';
    unsigned ae = (unsigned)(e < 0 ? -e : e);
    int dot = prec || (fl & F_ALT);
    int w = pre(s, fl, width, pfx, plen, 1 + dot + prec + 2 + ndec(ae));
    put(s, dg[lead]);
    if (dot)
        put(s, '.');
    for (int j = 1; j <= prec; j++)
        put(s, j <= 13 ? dg[(m >> (52 - 4 * j)) & 15] : '0');
    put(s, (fl & F_UPPER) ? 'P' : 'p');
    put(s, e < 0 ? '-' : '+');
    put_dec(s, ae, 1);
    pad(s, ' ', w);
}

static void fmt_fp(struct hsx_sink *s, double x, int fl, int width, int prec, int conv)
{
    union {
        double d;
        uint64_t u;
    } v = {x};
    uint64_t b = v.u;
    char pfx[4];
    int plen = 0, w, i;
    if (b >> 63)
        pfx[plen++] = '-';
    else if (fl & F_PLUS)
        pfx[plen++] = '+';
    else if (fl & F_SPACE)
        pfx[plen++] = ' ';
    b &= ~(1ull << 63);
    if (conv < 'a')
        fl |= F_UPPER;
    conv |= 32;
    int up = (fl & F_UPPER) ? 0 : 32;
    if ((b >> 52) == 0x7ff) {
        const char *t = (b << 12) ? "NAN" : "INF";
        w = pre(s, fl & ~F_ZERO, width, pfx, plen, 3);
        for (i = 0; i < 3; i++)
            put(s, (char)(t[i] | up));
        pad(s, ' ', w);
        return;
    }
    if (conv == 'a') {
        fmt_hex(s, b, pfx, plen, fl, width, prec);
        return;
    }
    if (prec < 0)
        prec = 6;
    decompose(b);
    int style = conv, p = prec;
    if (conv == 'g') {
        int P = prec ? prec : 1;
        round_to(P);
        int X = dx - 1;
        if (P > X && X >= -4) {
            style = 'f';
            p = P - 1 - X;
        } else {
            style = 'e';
            /* glibc quirk, reproduced: when rounding carries 9.99..|5 up
             * into exponent P, %#g keeps the fraction length of the %f form
             * it first chose (0 digits): 999999.5 -> "1.e+06". */
            p = (rpos == -1 && X == P) ? 0 : P - 1;
        }
        if (!(fl & F_ALT)) {
            int keep = sigdigits() - (style == 'f' ? dx : 1);
            if (keep < 0)
                keep = 0;
            if (p > keep)
                p = keep;
        }
    } else if (conv == 'e') {
        round_to(prec + 1);
    } else {
        round_to(dx + prec);
    }
    int dot = p || (fl & F_ALT);
    int e10 = dx - 1;
    unsigned ae = (unsigned)(e10 < 0 ? -e10 : e10);
    int len = style == 'f' ? (dx > 0 ? dx : 1) + dot + p : 1 + dot + p + 2 + (ae >= 100 ? 3 : 2);
    w = pre(s, fl, width, pfx, plen, len);
    if (style == 'f') {
        if (dx > 0)
            for (i = 0; i < dx; i++)
                put(s, (char)('0' + rdig(i)));
        else
            put(s, '0');
        if (dot)
            put(s, '.');
        for (i = 0; i < p; i++)
            put(s, (char)('0' + rdig(dx + i)));
    } else {
        put(s, (char)('0' + rdig(0)));
        if (dot)
            put(s, '.');
        for (i = 1; i <= p; i++)
            put(s, (char)('0' + rdig(i)));
        put(s, (char)('E' | up));
        put(s, e10 < 0 ? '-' : '+');
        put_dec(s, ae, 2);
    }
    pad(s, ' ', w);
}

#ifndef HSX_HOST_TEST
/* long double is IEEE binary128 on wasm32; narrow it by bit manipulation so
 * %Lf does not drag compiler-rt's soft-float conversion into every program.
 * Results outside the normal double range become 0 or inf. */
static double ld_to_double(long double ld)
{
    union {
        long double l;
        struct {
            uint64_t lo, hi;
        } w;
    } u = {ld};
    union {
        uint64_t u;
        double d;
    } r;
    uint64_t sign = u.w.hi & (1ull << 63);
    int e = (int)((u.w.hi >> 48) & 0x7fff);
    uint64_t m = ((u.w.hi & 0xFFFFFFFFFFFFull) << 4) | (u.w.lo >> 60);
    uint64_t rest = u.w.lo << 4;
    if (e == 0x7fff) {
        r.u = sign | (0x7ffull << 52) | ((m | rest) ? (1ull << 51) | m : 0);
        return r.d;
    }
    e = e - 16383 + 1023;
    if (e <= 0) {
        e = 0;
        m = 0;
    } else {
        if (rest > (1ull << 63) || (rest == (1ull << 63) && (m & 1)))
            m++;
        if (m >> 52) {
            m = 0;
            e++;
        }
        if (e >= 0x7ff) {
            e = 0x7ff;
            m = 0;
        }
    }
    r.u = sign | ((uint64_t)e << 52) | m;
    return r.d;
}
#endif

int __hsx_vformat(struct hsx_sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(s, *fmt);
            continue;
        }
        const char *start = fmt++;
        int fl = 0, width = 0, prec = -1, lm = 0;
        for (;; fmt++) {
            if (*fmt == '-')
                fl |= F_LEFT;
            else if (*fmt == '+')
                fl |= F_PLUS;
            else if (*fmt == ' ')
                fl |= F_SPACE;
            else if (*fmt == '#')
                fl |= F_ALT;
            else if (*fmt == '0')
                fl |= F_ZERO;
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                fl |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                prec = 0;
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        switch (*fmt) {
        case 'h':
            lm = LM_H;
            if (fmt[1] == 'h') {
                lm = LM_HH;
                fmt++;
            }
            fmt++;
            break;
        case 'l':
            lm = LM_L;
            if (fmt[1] == 'l') {
                lm = LM_LL;
                fmt++;
            }
            fmt++;
            break;
        case 'q':
        case 'j':
            lm = LM_LL;
            fmt++;
            break;
        case 'z':
            lm = LM_Z;
            fmt++;
            break;
        case 't':
            lm = LM_T;
            fmt++;
            break;
        case 'L':
            lm = LM_LD;
            fmt++;
            break;
        }
        int c = *fmt;
        unsigned base = 10;
        uint64_t u;
        switch (c) {
        case 'd':
        case 'i': {
            int64_t sv;
            switch (lm) {
            case LM_HH: sv = (signed char)va_arg(ap, int); break;
            case LM_H: sv = (short)va_arg(ap, int); break;
            case LM_L: sv = va_arg(ap, long); break;
            case LM_LL: case LM_LD: sv = va_arg(ap, long long); break;
            case LM_Z: case LM_T: sv = va_arg(ap, ptrdiff_t); break;
            default: sv = va_arg(ap, int); break;
            }
            u = sv < 0 ? 0 - (uint64_t)sv : (uint64_t)sv;
            fmt_int(s, u, sv < 0, 10, fl, width, prec);
            continue;
        }
        case 'X':
            fl |= F_UPPER;
            /* fall through */
        case 'x':
            base = 16;
            goto unsigned_conv;
        case 'o':
            base = 8;
            /* fall through */
        case 'u':
        unsigned_conv:
            switch (lm) {
            case LM_HH: u = (unsigned char)va_arg(ap, unsigned); break;
            case LM_H: u = (unsigned short)va_arg(ap, unsigned); break;
            case LM_L: u = va_arg(ap, unsigned long); break;
            case LM_LL: case LM_LD: u = va_arg(ap, unsigned long long); break;
            case LM_Z: case LM_T: u = va_arg(ap, size_t); break;
            default: u = va_arg(ap, unsigned); break;
            }
            fmt_int(s, u, 0, base, fl & ~(F_PLUS | F_SPACE), width, prec);
            continue;
        case 'p': {
            void *ptr = va_arg(ap, void *);
            if (!ptr) {
                prec = -1;
                goto nil;
            }
            fmt_int(s, (uintptr_t)ptr, 0, 16, fl | F_ALT, width, prec);
            continue;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            int w = pre(s, fl & ~F_ZERO, width, 0, 0, 1);
            put(s, ch);
            pad(s, ' ', w);
            continue;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = (prec < 0 || prec >= 6) ? "(null)" : "";
            if (0) {
            nil:
                str = "(nil)";
            }
            int n = 0;
            while ((prec < 0 || n < prec) && str[n])
                n++;
            int w = pre(s, fl & ~F_ZERO, width, 0, 0, n);
            for (int i = 0; i < n; i++)
                put(s, str[i]);
            pad(s, ' ', w);
            continue;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
            double d;
#ifndef HSX_HOST_TEST
            if (lm == LM_LD)
                d = ld_to_double(va_arg(ap, long double));
            else
#endif
                d = va_arg(ap, double);
            fmt_fp(s, d, fl, width, prec, c);
            continue;
        }
        case 'n': {
            void *ptr = va_arg(ap, void *);
            int n = (int)s->total;
            switch (lm) {
            case LM_HH: *(signed char *)ptr = (signed char)n; break;
            case LM_H: *(short *)ptr = (short)n; break;
            case LM_L: *(long *)ptr = n; break;
            case LM_LL: *(long long *)ptr = n; break;
            case LM_Z: case LM_T: *(ptrdiff_t *)ptr = n; break;
            default: *(int *)ptr = n; break;
            }
            continue;
        }
        case '%':
            put(s, '%');
            continue;
        default:
            /* Unknown conversion: print the directive as written, like glibc. */
            while (start < fmt)
                put(s, *start++);
            if (!*fmt)
                return (int)s->total;
            put(s, *fmt);
            continue;
        }
    }
    return (int)s->total;
}

/* ---- string variants (pure, no I/O) ---- */

int HSX_NAME(vsnprintf)(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct hsx_sink s = {buf, n, 0, 0, 0, 0};
    int r = __hsx_vformat(&s, fmt, ap);
    if (n)
        buf[s.pos] = 0;
    return r;
}

int HSX_NAME(vsprintf)(char *buf, const char *fmt, va_list ap)
{
    return HSX_NAME(vsnprintf)(buf, (size_t)-1 >> 1, fmt, ap);
}

int HSX_NAME(snprintf)(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = HSX_NAME(vsnprintf)(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

int HSX_NAME(sprintf)(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = HSX_NAME(vsprintf)(buf, fmt, ap);
    va_end(ap);
    return r;
}
