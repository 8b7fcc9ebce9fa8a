/* strchr, strrchr (including the terminator), strstr (empty needle, overlap), strtok with
 * several delimiters, strspn, strcspn, strpbrk. */
#include <stdio.h>
#include <string.h>

static int idx(const char *base, const char *p) { return p ? (int)(p - base) : -1; }

int main(void) {
    const char *s = "hello, world; hello again";
    printf("strchr %d %d %d %d\n", idx(s, strchr(s, 'o')), idx(s, strchr(s, 'z')), idx(s, strchr(s, 0)), idx(s, strchr(s, 'h')));
    printf("strrchr %d %d %d\n", idx(s, strrchr(s, 'o')), idx(s, strrchr(s, 'h')), idx(s, strrchr(s, 0)));
    printf("strstr %d %d %d %d %d\n", idx(s, strstr(s, "hello")), idx(s, strstr(s, "again")), idx(s, strstr(s, "")),
           idx(s, strstr(s, "worlds")), idx(s, strstr(s, "lo a")));
    printf("strstr overlap %d\n", idx("aaab", strstr("aaab", "aab")));
    char text[] = "  alpha,beta;;gamma , delta,,epsilon  ";
    int n = 0;
    for (char *tok = strtok(text, " ,;"); tok; tok = strtok(NULL, " ,;")) printf("tok%d[%s] ", n++, tok);
    printf("\n");
    char kv[] = "key=value&k2=v2&flag";
    for (char *tok = strtok(kv, "&"); tok; tok = strtok(NULL, "&")) {
        char *eq = strchr(tok, '=');
        if (eq) { *eq = 0; printf("%s -> %s\n", tok, eq + 1); }
        else printf("%s (no value)\n", tok);
    }
    char empty[] = ",,,";
    printf("all delims %d\n", strtok(empty, ",") == NULL);
    printf("strspn %u %u strcspn %u %u\n", (unsigned)strspn("123abc", "0123456789"), (unsigned)strspn("abc", "xyz"),
           (unsigned)strcspn("abc;def", ";"), (unsigned)strcspn("abc", ""));
    const char *p = strpbrk("find:the;first", ";:");
    printf("strpbrk %s %d\n", p, strpbrk("abc", "xyz") == NULL);
    return 0;
}
