/* Static locals keep their value across calls; separate functions have separate statics;
 * a memoised function; a generator-style iterator. */
#include <stdio.h>

static int counter(void) { static int n; return ++n; }
static int other_counter(void) { static int n = 100; return n += 10; }

static long long memo_fib(int n) {
    static long long cache[91];
    static int filled;
    if (!filled) { cache[1] = 1; filled = 1; }
    if (n < 2) return n;
    if (cache[n]) return cache[n];
    return cache[n] = memo_fib(n - 1) + memo_fib(n - 2);
}

/* Yields successive primes using state kept in statics. */
static int next_prime(void) {
    static int last = 1;
    for (;;) {
        int c = ++last, ok = c >= 2;
        for (int d = 2; d * d <= c && ok; d++) ok = c % d != 0;
        if (ok) return c;
    }
}

static const char *name_of_call(void) {
    static const char *names[] = {"first", "second", "third"};
    static unsigned i;
    return names[i++ % 3];
}

int main(void) {
    for (int i = 0; i < 5; i++) printf("%d/%d ", counter(), other_counter());
    printf("\n");
    printf("fib90 %lld fib50 %lld\n", memo_fib(90), memo_fib(50));
    for (int i = 0; i < 15; i++) printf("%d ", next_prime());
    printf("\n");
    for (int i = 0; i < 5; i++) printf("%s ", name_of_call());
    printf("\ncounter now %d\n", counter());
    return counter();
}
