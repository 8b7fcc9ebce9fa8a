/* abort(): stdout is flushed explicitly first (abort does not flush stdio). Natively the
 * process dies with SIGABRT; the harness expects the HSX task to fault or trap. */
#include <stdio.h>
#include <stdlib.h>

static int checked_div(int a, int b) {
    if (b == 0) {
        printf("division by zero requested, aborting\n");
        fflush(stdout);
        abort();
    }
    return a / b;
}

int main(void) {
    printf("%d\n", checked_div(100, 7));
    printf("%d\n", checked_div(-9, 2));
    fflush(stdout);
    printf("%d\n", checked_div(1, 0));
    return 0;
}
