/* Sleeps 10 ms four times; the other task (slow.c) sleeps 15 ms then 20 ms. Under
 * `hsx run --virtual-time` the lines come out in wake-up order: fast 10, slow 15, fast 20,
 * fast 30, slow 35, fast 40. (There is no guest clock SVC; clock_gettime counts retired
 * instructions, so the order is the observable.) */
#include <stdio.h>
#include "hsx.h"

int main(void)
{
    for (int i = 1; i <= 4; i++) {
        hsx_sleep_ms(10);
        printf("fast %d (t=%d ms)\n", i, 10 * i);
    }
    printf("sleep(0) returns %d at once\n", hsx_sleep_ms(0));
    return 0;
}
