/* Sieve of Eratosthenes to 30000 with a bit array (static), prime counts per decade,
 * twin primes and the largest gap. */
#include <stdint.h>
#include <stdio.h>

#define LIMIT 30000
static uint32_t composite[LIMIT / 32 + 1];

static int is_comp(int n) { return (composite[n >> 5] >> (n & 31)) & 1; }
static void set_comp(int n) { composite[n >> 5] |= 1u << (n & 31); }

int main(void) {
    set_comp(0);
    set_comp(1);
    for (int i = 2; i * i <= LIMIT; i++)
        if (!is_comp(i))
            for (int j = i * i; j <= LIMIT; j += i) set_comp(j);
    int count = 0, twins = 0, last = 0, gap = 0, gap_at = 0;
    long long sum = 0;
    int per[5] = {0};
    for (int n = 2; n <= LIMIT; n++) {
        if (is_comp(n)) continue;
        count++;
        sum += n;
        if (n < 100000) per[n < 10 ? 0 : n < 100 ? 1 : n < 1000 ? 2 : n < 10000 ? 3 : 4]++;
        if (last && n - last == 2) twins++;
        if (last && n - last > gap) { gap = n - last; gap_at = last; }
        last = n;
    }
    printf("primes <= %d: %d sum %lld\n", LIMIT, count, sum);
    printf("by digits: %d %d %d %d %d\n", per[0], per[1], per[2], per[3], per[4]);
    printf("twins %d largest gap %d after %d last %d\n", twins, gap, gap_at, last);
    printf("first:");
    for (int n = 0, k = 0; k < 20; n++) if (!is_comp(n)) { printf(" %d", n); k++; }
    printf("\n");
    return count % 100;
}
