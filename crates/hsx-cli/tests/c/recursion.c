/* Recursion: fib(20), small Ackermann values, a depth-400 linear recursion, and recursive
 * permutation generation, and a 500-deep call chain that cannot become a loop. Depths stay modest (64 KiB address space on the target). */
#include <stdint.h>
#include <stdio.h>

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static unsigned ack(unsigned m, unsigned n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}
static long long deep(int n, long long acc) { return n == 0 ? acc : deep(n - 1, acc + (long long)n * n) + 1; }
/* r * 3 + c is no accumulator LLVM can turn into a loop, so this really recurses 500 deep. */
static uint32_t chain(uint32_t n) { if (n == 0) return 1; uint32_t r = chain(n - 1); return r * 3u + n % 7u; }
static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

static int perm_count;
static unsigned perm_hash;
static void permute(char *s, int k, int n) {
    if (k == n) { perm_count++; for (int i = 0; i < n; i++) perm_hash = perm_hash * 31u + (unsigned char)s[i]; return; }
    for (int i = k; i < n; i++) {
        char t = s[k]; s[k] = s[i]; s[i] = t;
        permute(s, k + 1, n);
        t = s[k]; s[k] = s[i]; s[i] = t;
    }
}

static int hanoi_moves;
static void hanoi(int n, int from, int to, int via) {
    if (!n) return;
    hanoi(n - 1, from, via, to);
    hanoi_moves++;
    hanoi(n - 1, via, to, from);
}

int main(void) {
    printf("fib(20) = %d\n", fib(20));
    printf("ack(2,3) = %u ack(3,3) = %u\n", ack(2, 3), ack(3, 3));
    printf("deep(400) = %lld\n", deep(400, 0));
    printf("chain(500) = %u\n", (unsigned)chain(500));
    printf("gcd %d %d\n", gcd(1071, 462), gcd(832040, 514229));
    char s[] = "abcdef";
    permute(s, 0, 6);
    printf("perms %d hash %u back %s\n", perm_count, perm_hash, s);
    hanoi(10, 1, 3, 2);
    printf("hanoi %d\n", hanoi_moves);
    return fib(10) % 256;
}
