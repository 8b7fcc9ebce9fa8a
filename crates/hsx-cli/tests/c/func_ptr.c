/* Function pointers: dispatch tables, callbacks with a context pointer, returning function
 * pointers, and pointers stored in structs. */
#include <stdio.h>

typedef int (*binop)(int, int);
static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int maxi(int a, int b) { return a > b ? a : b; }

static const struct { char sym; binop fn; } ops[] = {{'+', add}, {'-', sub}, {'*', mul}, {'M', maxi}};

static binop lookup(char c) {
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) if (ops[i].sym == c) return ops[i].fn;
    return NULL;
}

static void for_each(const int *v, int n, void (*cb)(int, void *), void *ctx) { for (int i = 0; i < n; i++) cb(v[i], ctx); }
static void acc_sum(int x, void *ctx) { *(int *)ctx += x; }
static void acc_max(int x, void *ctx) { int *m = ctx; if (x > *m) *m = x; }

static int fold(const int *v, int n, binop f, int init) { for (int i = 0; i < n; i++) init = f(init, v[i]); return init; }

struct shape { const char *name; int (*area)(int); };
static int square(int s) { return s * s; }
static int tri(int s) { return s * s / 2; }

int main(void) {
    const char *prog = "+3-1*4M20+7";
    int acc = 0;
    for (const char *p = prog; *p; p += 2) {
        int arg = p[1] - '0';
        if (p[1] == '2') { arg = 20; p++; }
        binop f = lookup(*p);
        acc = f ? f(acc, arg) : acc;
        printf("%c -> %d\n", *p, acc);
    }
    int v[] = {4, -2, 9, 17, 3};
    int s = 0, m = -1000;
    for_each(v, 5, acc_sum, &s);
    for_each(v, 5, acc_max, &m);
    printf("sum %d max %d\n", s, m);
    for (unsigned i = 0; i < 4; i++) printf("fold %c %d\n", ops[i].sym, fold(v, 5, ops[i].fn, 1));
    struct shape shapes[] = {{"square", square}, {"tri", tri}};
    for (int i = 0; i < 2; i++) printf("%s %d\n", shapes[i].name, shapes[i].area(9));
    binop (*get)(char) = lookup;
    printf("indirect %d null %d\n", get('*')(6, 7), get('?') == NULL);
    return 0;
}
