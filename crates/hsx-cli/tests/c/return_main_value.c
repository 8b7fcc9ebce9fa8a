/* The exit status is main's return value modulo 256: returning 300 gives 44. Output
 * written with printf but no trailing newline must still be flushed at exit. */
#include <stdio.h>

int main(void) {
    int total = 0;
    for (int i = 1; i <= 24; i++) total += i;
    printf("total %d, status will be %d", total, total % 256);
    return total;
}
