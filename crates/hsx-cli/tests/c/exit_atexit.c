/* atexit handlers run in reverse registration order on exit() and on return from main;
 * here exit(3) is called and the handlers print. */
#include <stdio.h>
#include <stdlib.h>

static int state = 1;
static void h1(void) { printf("handler 1 state %d\n", state); }
static void h2(void) { state *= 10; printf("handler 2\n"); }
static void h3(void) { state += 5; printf("handler 3\n"); }

int main(void) {
    if (atexit(h1) || atexit(h2) || atexit(h3)) { puts("atexit failed"); return 1; }
    printf("main running\n");
    state = 2;
    exit(3);
}
