/* <ctype.h> classification of every value 0..127 plus EOF, summarised as class strings;
 * toupper/tolower. ("C" locale; the default for a program that never calls setlocale.) */
#include <ctype.h>
#include <stdio.h>

int main(void) {
    unsigned counts[11] = {0};
    unsigned hash = 0;
    for (int c = 0; c < 128; c++) {
        int f[11] = {!!isalnum(c), !!isalpha(c), !!isdigit(c), !!islower(c), !!isupper(c), !!ispunct(c),
                     !!isspace(c), !!isxdigit(c), !!iscntrl(c), !!isgraph(c), !!isprint(c)};
        for (int k = 0; k < 11; k++) { counts[k] += (unsigned)f[k]; hash = hash * 3u + (unsigned)f[k]; }
        hash ^= (unsigned)isblank(c) << 7;
    }
    printf("alnum %u alpha %u digit %u lower %u upper %u punct %u space %u xdigit %u cntrl %u graph %u print %u\n",
           counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7], counts[8], counts[9],
           counts[10]);
    printf("hash %u\n", hash);
    printf("EOF: %d %d %d\n", !!isalpha(EOF), !!isspace(EOF), toupper(EOF) == EOF);
    const char *mix = "Hello, World! 123 xyz_ABC";
    for (const char *p = mix; *p; p++) putchar(toupper((unsigned char)*p));
    putchar('\n');
    for (const char *p = mix; *p; p++) putchar(tolower((unsigned char)*p));
    putchar('\n');
    printf("spaces:");
    for (int c = 0; c < 128; c++) if (isspace(c)) printf(" %d", c);
    printf("\npunct:");
    for (int c = 0; c < 128; c++) if (ispunct(c)) putchar(c);
    printf("\n");
    return 0;
}
