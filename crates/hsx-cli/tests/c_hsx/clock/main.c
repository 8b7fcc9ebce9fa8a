/* clock() links (wasi-libc's process-clock emulation) and advances with the work done:
 * the executive's clock for a task counts its retired instructions. */
#include <stdio.h>
#include <time.h>

int main(void)
{
    clock_t a = clock();
    volatile int s = 0;
    for (int i = 0; i < 1000; i++) s += i;
    clock_t b = clock();
    printf("clock advanced: %d\n", b > a);
    return 0;
}
