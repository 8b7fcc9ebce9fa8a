/* snprintf/sprintf: return value is the untruncated length, truncation keeps a NUL,
 * size 0 writes nothing, building strings piecewise. */
#include <stdio.h>
#include <string.h>

static const char *volatile long_text = "truncate me";

int main(void) {
    char buf[32];
    int r = snprintf(buf, sizeof buf, "%d-%s-%x", 123, "abc", 255u);
    printf("%d [%s]\n", r, buf);
    memset(buf, '#', sizeof buf);
    r = snprintf(buf, 6, "%s", long_text);
    printf("%d [%s] after-nul %c\n", r, buf, buf[6]);
    r = snprintf(NULL, 0, "%05d|%.2f", 42, 1.5);
    printf("size0 %d\n", r);
    buf[0] = 'Q';
    r = snprintf(buf, 1, "%s", long_text);
    printf("size1 %d empty %d\n", r, buf[0] == 0);
    char big[128];
    int pos = 0;
    for (int i = 0; i < 10; i++) pos += sprintf(big + pos, "%d,", i * i);
    big[pos - 1] = 0;
    printf("%d [%s]\n", pos, big);
    r = sprintf(big, "%-8s|%8s|%c", "left", "right", '!');
    printf("%d [%s]\n", r, big);
    char tiny[4];
    volatile long long big_neg = -1234567890123LL;
    r = snprintf(tiny, sizeof tiny, "%lld", big_neg);
    printf("%d [%s]\n", r, tiny);
    return 0;
}
