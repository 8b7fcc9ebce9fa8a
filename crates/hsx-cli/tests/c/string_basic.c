/* string.h basics: strlen, strcmp, strncmp, strcpy, strncpy (padding and no terminator),
 * strcat, strncat. Comparison results are printed by sign only. */
#include <stdio.h>
#include <string.h>

static int sgn(int x) { return (x > 0) - (x < 0); }

int main(void) {
    printf("strlen %u %u %u\n", (unsigned)strlen(""), (unsigned)strlen("a"), (unsigned)strlen("hello world"));
    static const char *pairs[][2] = {{"abc", "abc"}, {"abc", "abd"}, {"abd", "abc"}, {"ab", "abc"}, {"abc", "ab"},
                                     {"", ""}, {"", "a"}, {"\x80", "a"}, {"A", "a"}, {"zebra", "apple"}};
    for (int i = 0; i < 10; i++)
        printf("cmp %d ncmp2 %d ncmp0 %d\n", sgn(strcmp(pairs[i][0], pairs[i][1])), sgn(strncmp(pairs[i][0], pairs[i][1], 2)),
               sgn(strncmp(pairs[i][0], pairs[i][1], 0)));
    char buf[32];
    char *r = strcpy(buf, "copy");
    printf("strcpy %s ret-ok %d\n", buf, r == buf);
    char pad[10];
    memset(pad, '#', sizeof pad);
    strncpy(pad, "abc", sizeof pad);
    int zeros = 0;
    for (int i = 0; i < 10; i++) zeros += pad[i] == 0;
    printf("strncpy pads %s zeros %d\n", pad, zeros);
    char nt[5] = "????";
    const char *volatile longer = "abcdef";
    strncpy(nt, longer, 4);
    printf("strncpy no-nul %.4s\n", nt);
    strcpy(buf, "con");
    r = strcat(buf, "cat");
    strcat(buf, "");
    strcat(buf, "enate");
    printf("strcat %s ret-ok %d len %u\n", buf, r == buf, (unsigned)strlen(buf));
    strcpy(buf, "x=");
    const char *volatile digits = "123456";
    strncat(buf, digits, 3);
    strncat(buf, "!", 10);
    printf("strncat %s\n", buf);
    char words[64] = "";
    static const char *w[] = {"one", "two", "three", "four"};
    for (int i = 0; i < 4; i++) { if (i) strcat(words, ", "); strcat(words, w[i]); }
    printf("joined [%s] %u\n", words, (unsigned)strlen(words));
    return 0;
}
