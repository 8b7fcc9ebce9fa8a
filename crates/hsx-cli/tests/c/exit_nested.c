/* exit(n) from deep inside nested calls: output written before it (and still buffered in
 * stdio) must appear, the code after it never runs. Exit status 77. */
#include <stdio.h>
#include <stdlib.h>

static void level3(int v) {
    printf("level3 %d\n", v);
    if (v > 2) exit(77);
    printf("not reached\n");
}
static void level2(int v) { printf("level2\n"); level3(v + 1); printf("after level3\n"); }
static void level1(int v) { printf("level1\n"); level2(v + 1); }

int main(void) {
    printf("start ");  /* no newline: exit must flush a partial line */
    printf("(partial)\n");
    printf("tail without newline: ");
    level1(1);
    puts("main after level1");
    return 0;
}
