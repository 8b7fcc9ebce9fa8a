/* printf integer conversions: d i u x X o c %, flags - + space # 0, widths, precisions,
 * '*' width/precision, length modifiers hh h l ll z j t. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    static const int v[] = {0, 1, -1, 42, -42, 255, 65535, 2147483647, -2147483647 - 1};
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        int x = v[i];
        printf("[%d][%5d][%-5d][%+d][% d][%05d][%.3d][%8.4d][%-+8d][%+05d]\n", x, x, x, x, x, x, x, x, x, x);
        printf("[%u][%x][%X][%o][%#x][%#X][%#o][%08x][%#010x][%.0d]\n", (unsigned)x, (unsigned)x, (unsigned)x,
               (unsigned)x, (unsigned)x, (unsigned)x, (unsigned)x, (unsigned)x, (unsigned)x, x);
    }
    printf("[%*d][%-*d][%.*d][%*.*d]\n", 6, 12, 6, 12, 4, 12, 7, 3, -5);
    printf("[%*d] negative width means left-justify\n", -6, 9);
    printf("[%hhd][%hhu][%hd][%hu]\n", (signed char)-3, (unsigned char)250, (short)-1234, (unsigned short)60000);
    printf("[%ld][%lu][%lx]\n", -123456789L, 4000000000UL, 0xCAFEBABEUL);
    printf("[%lld][%llu][%llx][%#llo]\n", -9223372036854775807LL - 1, 18446744073709551615ULL, 0x1234567890ABCDEFULL, 01234567012345670123LL);
    printf("[%zu][%zd][%td][%jd]\n", (size_t)12345, (ptrdiff_t)-77, (ptrdiff_t)88, (intmax_t)-99);
    printf("[%c][%3c][%-3c][%%]\n", 'A', 'b', 'c');
    printf("[%i][%+i][%+.0d][% .0d]\n", -7, 7, 0, 0);
    printf("[%#.3o][%#.0o][%#x]\n", 8, 0, 0);
    int n1 = 0, n2 = 0;
    int r = printf("count%n me%n\n", &n1, &n2);
    printf("returned %d n1 %d n2 %d\n", r, n1, n2);
    return 0;
}
