#include <stdio.h>
#include <hsx.h>

int main(void) {
    for (int i = 0; i < 100000; i++) {
        printf("tick %d\n", i);
        hsx_sleep_ms(10);
    }
    return 0;
}
