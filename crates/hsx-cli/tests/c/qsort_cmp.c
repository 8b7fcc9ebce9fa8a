/* qsort with comparators for ints (overflow-free comparison), strings, and structs with
 * unique composite keys (qsort is not stable, so keys never tie). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int cmp_int_desc(const void *a, const void *b) { return cmp_int(b, a); }
static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

struct rec { int group; char name[8]; };
static int cmp_rec(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int nums[100];

int main(void) {
    unsigned seed = 12345;
    for (int i = 0; i < 100; i++) { seed = seed * 1103515245u + 12345u; nums[i] = (int)(seed >> 8) % 2001 - 1000; }
    nums[0] = -2147483647 - 1;
    nums[1] = 2147483647;
    qsort(nums, 100, sizeof nums[0], cmp_int);
    for (int i = 0; i < 100; i += 9) printf("%d ", nums[i]);
    printf("| %d\n", nums[99]);
    int ok = 1;
    for (int i = 1; i < 100; i++) ok &= nums[i - 1] <= nums[i];
    printf("sorted %d\n", ok);
    qsort(nums, 100, sizeof nums[0], cmp_int_desc);
    printf("desc first %d last %d\n", nums[0], nums[99]);
    const char *words[] = {"pear", "apple", "fig", "banana", "kiwi", "apricot", "cherry", "date", "Zebra", "zebra"};
    qsort(words, 10, sizeof words[0], cmp_str);
    for (int i = 0; i < 10; i++) printf("%s%c", words[i], i == 9 ? '\n' : ' ');
    struct rec recs[] = {{3, "c"}, {1, "z"}, {2, "m"}, {1, "a"}, {3, "a"}, {2, "b"}, {1, "m"}};
    qsort(recs, 7, sizeof recs[0], cmp_rec);
    for (int i = 0; i < 7; i++) printf("%d%s ", recs[i].group, recs[i].name);
    printf("\n");
    qsort(recs, 0, sizeof recs[0], cmp_rec);
    qsort(recs, 1, sizeof recs[0], cmp_rec);
    printf("trivial ok %d%s\n", recs[0].group, recs[0].name);
    return 0;
}
