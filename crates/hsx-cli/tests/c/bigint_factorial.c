/* Arbitrary precision with uint32_t limbs and uint64_t intermediates: 100!, 2^500, and a
 * Fibonacci number, printed in decimal by repeated division. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LIMBS 64
typedef struct { uint32_t d[LIMBS]; int n; } big;

static void set(big *b, uint32_t v) { memset(b, 0, sizeof *b); b->d[0] = v; b->n = 1; }
static void mul_small(big *b, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < b->n; i++) { uint64_t t = (uint64_t)b->d[i] * m + carry; b->d[i] = (uint32_t)t; carry = t >> 32; }
    if (carry) b->d[b->n++] = (uint32_t)carry;
}
static void add(big *r, const big *a, const big *b) {
    uint64_t carry = 0;
    int n = a->n > b->n ? a->n : b->n;
    for (int i = 0; i < n; i++) { uint64_t t = (uint64_t)a->d[i] + b->d[i] + carry; r->d[i] = (uint32_t)t; carry = t >> 32; }
    r->n = n;
    if (carry) r->d[r->n++] = (uint32_t)carry;
}
static uint32_t div_small(big *b, uint32_t m) {
    uint64_t rem = 0;
    for (int i = b->n - 1; i >= 0; i--) { uint64_t cur = rem << 32 | b->d[i]; b->d[i] = (uint32_t)(cur / m); rem = cur % m; }
    while (b->n > 1 && !b->d[b->n - 1]) b->n--;
    return (uint32_t)rem;
}
static void print(const char *label, const big *src) {
    static char digits[700];
    big t = *src;
    int k = 0;
    do {
        uint32_t chunk = div_small(&t, 1000000000u);
        for (int i = 0; i < 9; i++) { digits[k++] = (char)('0' + chunk % 10); chunk /= 10; }
    } while (t.n > 1 || t.d[0]);
    while (k > 1 && digits[k - 1] == '0') k--;
    printf("%s (%d digits): ", label, k);
    while (k) putchar(digits[--k]);
    putchar('\n');
}

int main(void) {
    static big f, p, a, b, c;
    set(&f, 1);
    for (uint32_t i = 2; i <= 100; i++) mul_small(&f, i);
    print("100!", &f);
    set(&p, 1);
    for (int i = 0; i < 500; i++) mul_small(&p, 2);
    print("2^500", &p);
    set(&a, 0);
    set(&b, 1);
    for (int i = 0; i < 300; i++) { add(&c, &a, &b); a = b; b = c; }
    print("fib(301)", &b);
    uint32_t digit_sum = 0;
    big t = f;
    while (t.n > 1 || t.d[0]) digit_sum += div_small(&t, 10);
    printf("digit sum of 100! = %u\n", (unsigned)digit_sum);
    return 0;
}
