#include <stdio.h>

struct pt { int x; int y; };
int counter = 5;

static int square(int x) {
    int y = x * x;
    return y + counter;
}

int main(void) {
    struct pt p = {3, 4};
    int r = square(p.x);
    counter = r;
    p.y = r + 1;
    printf("r=%d y=%d\n", r, p.y);
    return r == 9 ? 0 : 1;
}
