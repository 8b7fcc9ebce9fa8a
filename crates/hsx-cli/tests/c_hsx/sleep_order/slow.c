/* The other half of sleep_order (see fast.c); its exit status is not the run's. */
#include <stdio.h>
#include "hsx.h"

int main(void)
{
    hsx_sleep_ms(15);
    printf("slow 1 (t=15 ms)\n");
    hsx_yield();
    hsx_sleep_ms(19);
    printf("slow 2 (t=35 ms)\n");
    return 3;
}
