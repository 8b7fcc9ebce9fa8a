/* A string hash table with separate chaining (FNV-1a), insert/update/lookup/delete, word
 * counting over a fixed text, and ordered output of the most frequent words. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 64
struct entry { char *key; int count; struct entry *next; };
static struct entry *table[BUCKETS];
static int n_entries;

static uint32_t fnv1a(const char *s) { uint32_t h = 2166136261u; while (*s) { h ^= (uint8_t)*s++; h *= 16777619u; } return h; }

static struct entry *find(const char *k) {
    for (struct entry *e = table[fnv1a(k) % BUCKETS]; e; e = e->next) if (!strcmp(e->key, k)) return e;
    return NULL;
}
static void add(const char *k) {
    struct entry *e = find(k);
    if (e) { e->count++; return; }
    e = malloc(sizeof *e);
    if (!e) exit(1);
    e->key = malloc(strlen(k) + 1);
    if (!e->key) exit(1);
    strcpy(e->key, k);
    e->count = 1;
    uint32_t b = fnv1a(k) % BUCKETS;
    e->next = table[b];
    table[b] = e;
    n_entries++;
}
static int del(const char *k) {
    for (struct entry **pp = &table[fnv1a(k) % BUCKETS]; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->key, k)) { struct entry *d = *pp; *pp = d->next; free(d->key); free(d); n_entries--; return 1; }
    return 0;
}
static int by_count(const void *a, const void *b) {
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    if (x->count != y->count) return y->count - x->count;
    return strcmp(x->key, y->key);
}

static const char text[] =
    "the quick brown fox jumps over the lazy dog the dog barks and the fox runs away "
    "a virtual machine runs the program and the program prints a checksum the end "
    "hash tables map keys to values and the keys here are words from this text";

int main(void) {
    char word[32];
    int wl = 0, words = 0;
    for (const char *p = text;; p++) {
        if (*p >= 'a' && *p <= 'z') { if (wl < 31) word[wl++] = *p; continue; }
        if (wl) { word[wl] = 0; add(word); words++; wl = 0; }
        if (!*p) break;
    }
    printf("words %d distinct %d\n", words, n_entries);
    printf("the=%d fox=%d cat=%s\n", find("the")->count, find("fox")->count, find("cat") ? "yes" : "no");
    int first = del("dog");
    int second = del("dog");
    printf("delete dog %d again %d distinct %d\n", first, second, n_entries);
    struct entry *all[128];
    int n = 0, longest = 0;
    for (int b = 0; b < BUCKETS; b++) {
        int len = 0;
        for (struct entry *e = table[b]; e; e = e->next) { all[n++] = e; len++; }
        if (len > longest) longest = len;
    }
    qsort(all, (size_t)n, sizeof all[0], by_count);
    for (int i = 0; i < 8; i++) printf("%s:%d ", all[i]->key, all[i]->count);
    printf("\nlongest chain %d\n", longest);
    for (int i = 0; i < n; i++) del(all[i]->key);
    printf("empty %d\n", n_entries);
    return 0;
}
