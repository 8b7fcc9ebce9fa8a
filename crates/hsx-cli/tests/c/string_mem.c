/* memcpy, memmove with overlapping regions in both directions, memset, memcmp (sign
 * only, bytes compared as unsigned), memchr. */
#include <stdio.h>
#include <string.h>

static int sgn(int x) { return (x > 0) - (x < 0); }
static char buf[64];

static void reset(void) { for (int i = 0; i < 63; i++) buf[i] = (char)('A' + i % 26); buf[63] = 0; }

int main(void) {
    reset();
    memmove(buf + 5, buf, 20);
    printf("move right %s\n", buf);
    reset();
    memmove(buf, buf + 5, 20);
    printf("move left  %s\n", buf);
    reset();
    memmove(buf + 1, buf, 62);
    buf[63] = 0;
    printf("shift1     %s\n", buf);
    reset();
    memmove(buf, buf, 10);
    printf("same       %.10s\n", buf);
    char dst[40];
    void *r = memcpy(dst, "0123456789abcdefghijklmnopqrstuvwxyz", 37);
    printf("memcpy %s ret-ok %d\n", dst, r == dst);
    memcpy(dst + 3, "XYZ", 0);
    printf("memcpy0 %.6s\n", dst);
    memset(dst, '-', 10);
    memset(dst + 10, 0x141, 3); /* converted to unsigned char: 'A' */
    printf("memset %.16s\n", dst);
    unsigned char a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {1, 2, 3, 4, 5, 6, 7, 9}, c[8] = {1, 2, 0x80, 0, 0, 0, 0, 0};
    printf("memcmp %d %d %d %d %d\n", sgn(memcmp(a, b, 8)), sgn(memcmp(a, b, 7)), sgn(memcmp(b, a, 8)), sgn(memcmp(c, a, 3)),
           sgn(memcmp(a, c, 0)));
    const char *hay = "find the x in this";
    const char *x = memchr(hay, 'x', strlen(hay));
    printf("memchr %s %d\n", x ? x : "(null)", memchr(hay, 'q', strlen(hay)) == NULL);
    /* Unaligned copies of many lengths. */
    static unsigned char src[300], out[300];
    for (int i = 0; i < 300; i++) src[i] = (unsigned char)(i * 13 + 7);
    unsigned h = 0;
    for (int off = 0; off < 8; off++)
        for (int len = 0; len < 40; len += 3) {
            memset(out, 0, sizeof out);
            memcpy(out + off, src + 7 - off, (size_t)len);
            for (int i = 0; i < 64; i++) h = h * 131u + out[i];
        }
    printf("unaligned hash %u\n", h);
    return 0;
}
