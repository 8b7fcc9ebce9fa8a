/* realloc: a growing dynamic array (doubling), a growing string buffer, shrinking, and
 * realloc(NULL, n) / realloc to a smaller size keeping the prefix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vec { int *data; size_t len, cap; };

static void vpush(struct vec *v, int x) {
    if (v->len == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 4;
        int *nd = realloc(v->data, nc * sizeof *nd);
        if (!nd) { puts("oom"); exit(1); }
        v->data = nd;
        v->cap = nc;
    }
    v->data[v->len++] = x;
}

int main(void) {
    struct vec v = {0};
    for (int i = 0; i < 1500; i++) vpush(&v, i * i - 3 * i);
    long long s = 0;
    for (size_t i = 0; i < v.len; i++) s += v.data[i];
    printf("len %u cap %u sum %lld last %d\n", (unsigned)v.len, (unsigned)v.cap, s, v.data[v.len - 1]);
    int *shrunk = realloc(v.data, 10 * sizeof(int));
    if (!shrunk) return 1;
    printf("shrunk keeps %d %d %d\n", shrunk[0], shrunk[5], shrunk[9]);
    free(shrunk);
    char *str = realloc(NULL, 1);
    if (!str) return 1;
    str[0] = 0;
    size_t slen = 0;
    for (int i = 0; i < 60; i++) {
        char piece[16];
        int n = snprintf(piece, sizeof piece, "%d;", i * 37 % 101);
        char *ns = realloc(str, slen + (size_t)n + 1);
        if (!ns) { free(str); return 1; }
        str = ns;
        memcpy(str + slen, piece, (size_t)n + 1);
        slen += (size_t)n;
    }
    printf("string len %u: %.40s...\n", (unsigned)slen, str);
    printf("tail %s\n", str + slen - 12);
    free(str);
    /* Many small growths interleaved between two buffers. */
    unsigned char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    for (int i = 0; i < 200; i++) {
        unsigned char *t = realloc(a, na + 3);
        if (!t) return 1;
        a = t;
        for (int k = 0; k < 3; k++) a[na++] = (unsigned char)(i + k);
        t = realloc(b, nb + 5);
        if (!t) return 1;
        b = t;
        for (int k = 0; k < 5; k++) b[nb++] = (unsigned char)(i * k);
    }
    unsigned ha = 0, hb = 0;
    for (size_t i = 0; i < na; i++) ha = ha * 31u + a[i];
    for (size_t i = 0; i < nb; i++) hb = hb * 37u + b[i];
    printf("interleaved %u %u %u %u\n", (unsigned)na, (unsigned)nb, ha, hb);
    free(a);
    free(b);
    return 0;
}
