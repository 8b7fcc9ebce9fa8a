/* Pointer arithmetic: increments, differences, comparisons within one array, pointers to
 * pointers, walking backwards, and char/int pointer strides. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static void swap(int **a, int **b) { int *t = *a; *a = *b; *b = t; }

int main(void) {
    int arr[10];
    for (int i = 0; i < 10; i++) arr[i] = i * i;
    int *p = arr, *q = arr + 9;
    printf("diff %d\n", (int)(q - p));
    printf("lt %d ge %d\n", p < q, p >= q);
    while (p < q) { int t = *p; *p++ = *q; *q-- = t; }
    for (int i = 0; i < 10; i++) printf("%d ", arr[i]);
    printf("\n");
    int *a = &arr[2], *b = &arr[7];
    swap(&a, &b);
    printf("after swap %d %d idx %d %d\n", *a, *b, (int)(a - arr), (int)(b - arr));
    int **pp = &a;
    **pp = -1;
    printf("via pp %d\n", arr[7]);
    uint32_t w[2] = {0x04030201u, 0x08070605u};
    const unsigned char *bp = (const unsigned char *)w;
    int bs = 0;
    for (int i = 0; i < 8; i++) bs = bs * 3 + bp[i];
    printf("bytes %d\n", bs);
    const char *s = "pointer";
    const char *e = s;
    while (*e) e++;
    printf("len %d last %c\n", (int)(e - s), e[-1]);
    int *end = arr + 10;
    int n = 0;
    for (int *it = end; it != arr;) { --it; n += *it > 20; }
    printf("count>20 %d\n", n);
    ptrdiff_t d = &arr[3] - &arr[8];
    printf("neg diff %d\n", (int)d);
    int *null = NULL;
    printf("null %d\n", null == NULL);
    return 0;
}
