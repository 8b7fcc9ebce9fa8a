/* char is signed on both x86_64 and wasm32 (HSX contract); signed/unsigned char arithmetic
 * and promotion, character constants and escapes. */
#include <stdio.h>

int main(void) {
    char c = -5;
    signed char sc = -128;
    unsigned char uc = 255;
    printf("char %d neg %d\n", c, c < 0);
    printf("schar %d uchar %d sum %d\n", sc, uc, sc + uc);
    unsigned char inc = uc;
    inc++;
    printf("uchar wrap %d\n", inc);
    const char *s = "A\x7f\t\n\\\"'";
    for (const char *p = s; *p; p++) printf("%d ", *p);
    printf("\n");
    const char bytes[] = {'\101', '\x42', 'C', 0};
    printf("%s %d\n", bytes, (int)sizeof bytes);
    int hist[4] = {0};
    for (int i = -128; i < 128; i++) {
        signed char x = (signed char)i;
        hist[(x >> 6) + 2]++;
    }
    printf("hist %d %d %d %d\n", hist[0], hist[1], hist[2], hist[3]);
    unsigned char u = 0xC8;
    signed char back = (signed char)(u - 256);
    printf("back %d\n", back);
    printf("multichar-free 'a'+1=%c digit %d\n", 'a' + 1, '7' - '0');
    return 0;
}
