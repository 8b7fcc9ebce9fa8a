/* 32-bit integer arithmetic: + - * / %, precedence, unsigned wrap, compound assignment. */
#include <stdint.h>
#include <stdio.h>

static int32_t poly(int32_t x) { return 3 * x * x - 7 * x + 11; }

int main(void) {
    int32_t a = 123456, b = -789;
    printf("add %d sub %d mul %d\n", a + b, a - b, a * b);
    printf("div %d mod %d\n", a / b, a % b);
    printf("prec %d %d %d\n", 2 + 3 * 4, (2 + 3) * 4, 100 / 7 * 7 + 100 % 7);
    uint32_t u = 0xFFFFFFF0u;
    u += 0x20u;
    printf("wrap %u\n", (unsigned)u);
    uint32_t m = 0x12345678u * 0x9ABCDEF1u;
    printf("umul 0x%08x\n", (unsigned)m);
    int32_t s = 0;
    for (int32_t i = -50; i <= 50; i++) s += poly(i);
    printf("poly sum %d\n", s);
    int32_t x = 1000;
    x += 5; x -= 10; x *= 3; x /= 7; x %= 100; x <<= 3; x >>= 1; x |= 0x100; x &= 0x1F7; x ^= 0x55;
    printf("compound %d\n", x);
    int32_t neg = -a;
    printf("neg %d unary+ %d not %d compl %d\n", neg, +b, !a, ~a);
    uint32_t acc = 1;
    for (uint32_t i = 1; i < 40; i++) acc = acc * 2654435761u + i;
    printf("hashmix %u\n", (unsigned)acc);
    return 0;
}
