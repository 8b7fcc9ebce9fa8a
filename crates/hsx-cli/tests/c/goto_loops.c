/* Control flow: goto (forward, backward, out of nested loops, cleanup chains), do/while,
 * break/continue in nested loops, comma operator, loops with empty bodies. */
#include <stdio.h>

static int find_pair(const int *v, int n, int target, int *oi, int *oj) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[i] + v[j] == target) { *oi = i; *oj = j; goto found; }
    return 0;
found:
    return 1;
}

static int cleanup_chain(int fail_at) {
    int steps = 0;
    if (fail_at == 1) goto out1;
    steps += 1;
    if (fail_at == 2) goto out2;
    steps += 10;
    if (fail_at == 3) goto out3;
    steps += 100;
out3:
    steps += 1000;
out2:
    steps += 10000;
out1:
    return steps;
}

int main(void) {
    int v[] = {8, 3, 11, 5, 2, 9, 14};
    int i, j;
    if (find_pair(v, 7, 16, &i, &j)) printf("pair %d+%d\n", v[i], v[j]);
    printf("none %d\n", find_pair(v, 7, 100, &i, &j));
    for (int k = 0; k <= 4; k++) printf("chain(%d)=%d\n", k, cleanup_chain(k));
    int n = 0;
again:
    n += 3;
    if (n < 20) goto again;
    printf("backward goto %d\n", n);
    int x = 0;
    do x += 7; while (x % 5);
    printf("do-while %d\n", x);
    int out = 0;
    for (int a = 0; a < 10; a++) {
        if (a % 3 == 0) continue;
        for (int b = 0; b < 10; b++) {
            if (b > a) break;
            if ((a + b) % 4 == 0) continue;
            out += a * b;
        }
    }
    printf("nested %d\n", out);
    int p, q;
    for (p = 0, q = 10; p < q; p++, q--) {}
    printf("comma %d %d\n", p, q);
    unsigned bits = 0xB6u, count = 0;
    while (bits) bits &= bits - 1, count++;
    printf("kernighan %u\n", count);
    int w = 0;
    while (1) { if (++w == 37) break; }
    printf("while1 %d\n", w);
    int collatz = 27, steps = 0;
    while (collatz != 1) { collatz = collatz % 2 ? 3 * collatz + 1 : collatz / 2; steps++; }
    printf("collatz27 %d\n", steps);
    return 0;
}
