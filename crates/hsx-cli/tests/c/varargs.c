/* Variadic functions: own vsum with va_list, va_copy for two passes, mixed int / long long
 * / double / pointer arguments, and forwarding a va_list to vsnprintf. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vsum(int n, va_list ap) { int s = 0; while (n--) s += va_arg(ap, int); return s; }
static int sum(int n, ...) { va_list ap; va_start(ap, n); int s = vsum(n, ap); va_end(ap); return s; }

static void stats(int n, ...) {
    va_list ap, again;
    va_start(ap, n);
    va_copy(again, ap);
    int total = 0;
    for (int i = 0; i < n; i++) total += va_arg(ap, int);
    int above = 0;
    for (int i = 0; i < n; i++) above += va_arg(again, int) * n > total;
    va_end(again);
    va_end(ap);
    printf("n=%d total=%d above-mean=%d\n", n, total, above);
}

/* Format: i=int, L=long long, d=double, s=string, c=char. */
static void mixed(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        switch (*p) {
        case 'i': printf("[i %d]", va_arg(ap, int)); break;
        case 'L': printf("[L %lld]", va_arg(ap, long long)); break;
        case 'd': printf("[d %.2f]", va_arg(ap, double)); break;
        case 's': printf("[s %s]", va_arg(ap, const char *)); break;
        case 'c': printf("[c %c]", (char)va_arg(ap, int)); break;
        }
    }
    va_end(ap);
    printf("\n");
}

static int fmt(char *buf, size_t n, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(buf, n, f, ap);
    va_end(ap);
    return r;
}

int main(void) {
    printf("sum %d %d %d\n", sum(0), sum(3, 1, 2, 3), sum(6, -10, 20, -30, 40, -50, 60));
    stats(5, 1, 2, 3, 4, 100);
    stats(4, 7, 7, 7, 7);
    mixed("iLdsc", 42, -1234567890123LL, 3.25, "str", 'Z');
    mixed("ddLi", 0.5, -1.75, 9000000000LL, -1);
    mixed("cfloatpromoted", 'x', 2.5f);
    char buf[16];
    int r = fmt(buf, sizeof buf, "%s-%d-%05.1f", "abc", 77, 3.14159);
    printf("vsnprintf %d [%s] len %d\n", r, buf, (int)strlen(buf));
    r = fmt(buf, 8, "%d", 123456789);
    printf("truncated %d [%s]\n", r, buf);
    return 0;
}
