/* printf strings and characters: %s with width, precision, '*', left-justification, empty
 * strings, embedded quotes; %c including non-letters; puts/putchar/fputs interleaving. */
#include <stdio.h>

int main(void) {
    const char *s = "Hello, HSX";
    printf("[%s]\n[%15s]\n[%-15s]\n[%.5s]\n[%15.3s]\n[%-15.3s]\n[%.0s]\n[%.20s]\n", s, s, s, s, s, s, s, s);
    for (int p = 0; p <= 11; p += 3) printf("[%.*s]", p, s);
    printf("\n");
    printf("[%*s][%-*s]\n", 8, "ab", 8, "cd");
    printf("[%s][%5s][%-5s]\n", "", "", "");
    printf("[%c%c%c][%c]\n", 'x', '1', '#', ' ');
    char buf[4] = {'a', 'b', 'c', 'd'};
    printf("[%.4s] precision stops before the end of an unterminated array\n", buf);
    puts("puts adds a newline");
    fputs("fputs does not", stdout);
    putchar('\n');
    putchar('!');
    putchar('\n');
    printf("%s %s %s\n", "multiple", "string", "args");
    printf("100%% literal and %s\n", "%d inside an argument is not a format");
    int r = printf("%s|%5s|%-5s|\n", "abc", "de", "f");
    printf("return %d\n", r);
    return 1;
}
