/* qsort then bsearch: hits, misses below/above/between, a struct table searched by key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }

struct entry { const char *key; int value; };
static int cmp_entry(const void *a, const void *b) { return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key); }
static int cmp_key(const void *k, const void *e) { return strcmp(k, ((const struct entry *)e)->key); }

int main(void) {
    int v[64];
    for (int i = 0; i < 64; i++) v[i] = (i * 37) % 64 * 3;
    qsort(v, 64, sizeof v[0], cmp_int);
    int hits = 0, misses = 0;
    for (int k = -5; k < 200; k++) {
        int *p = bsearch(&k, v, 64, sizeof v[0], cmp_int);
        if (p) { hits++; if (*p != k || (p - v) != k / 3) printf("wrong %d\n", k); }
        else misses++;
    }
    printf("hits %d misses %d\n", hits, misses);
    int one = 7, one_arr[1] = {7};
    printf("single %d empty %d\n", bsearch(&one, one_arr, 1, sizeof(int), cmp_int) != NULL,
           bsearch(&one, one_arr, 0, sizeof(int), cmp_int) != NULL);
    struct entry tab[] = {{"mov", 1}, {"add", 2}, {"sub", 3}, {"jmp", 4}, {"call", 5}, {"ret", 6}, {"push", 7},
                          {"pop", 8}, {"ld", 9}, {"st", 10}, {"cmp", 11}, {"svc", 12}};
    size_t n = sizeof tab / sizeof tab[0];
    qsort(tab, n, sizeof tab[0], cmp_entry);
    for (size_t i = 0; i < n; i++) printf("%s ", tab[i].key);
    printf("\n");
    const char *q[] = {"svc", "add", "nop", "ret", "aaa", "zzz", "ld"};
    for (int i = 0; i < 7; i++) {
        struct entry *e = bsearch(q[i], tab, n, sizeof tab[0], cmp_key);
        printf("%s=%d ", q[i], e ? e->value : -1);
    }
    printf("\n");
    return 6;
}
