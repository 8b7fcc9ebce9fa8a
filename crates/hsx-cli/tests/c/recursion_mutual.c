/* Mutual recursion to depth 500 (is_even/is_odd; clang -O2 turns it into a loop), a
 * recursive binary tree built from a static pool with depth-first sums, recursion with
 * address-taken locals, and recursive string reversal. */
#include <stdio.h>
#include <string.h>

static int is_odd(unsigned n);
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

struct tnode { int key; struct tnode *l, *r; };
static struct tnode pool[127];
static int used;
static struct tnode *insert(struct tnode *t, int key) {
    if (!t) { struct tnode *n = &pool[used++]; n->key = key; n->l = n->r = NULL; return n; }
    if (key < t->key) t->l = insert(t->l, key); else t->r = insert(t->r, key);
    return t;
}
static int height(const struct tnode *t) { if (!t) return 0; int a = height(t->l), b = height(t->r); return 1 + (a > b ? a : b); }
static long sum(const struct tnode *t) { return t ? t->key + sum(t->l) + sum(t->r) : 0; }
static void inorder(const struct tnode *t, int *out, int *n) { if (!t) return; inorder(t->l, out, n); out[(*n)++] = t->key; inorder(t->r, out, n); }

/* Each frame's local array has its address taken, so it lives in the C stack at any
 * optimisation level: 150 frames of C-stack data linked to their parents. */
static int walk(int n, const int *parent) {
    int local[2] = {n, parent ? parent[0] + parent[1] : 0};
    if (n == 0) return local[1];
    return walk(n - 1, local) % 100003 + local[0] % 3;
}

static void rev(char *s, int i, int j) { if (i >= j) return; char t = s[i]; s[i] = s[j]; s[j] = t; rev(s, i + 1, j - 1); }

int main(void) {
    printf("even(500) %d odd(500) %d even(333) %d\n", is_even(500), is_odd(500), is_even(333));
    struct tnode *root = NULL;
    for (int i = 0; i < 127; i++) root = insert(root, (i * 53) % 127);
    int order[127], n = 0;
    inorder(root, order, &n);
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= order[i] == i;
    printf("nodes %d height %d sum %ld inorder-ok %d\n", n, height(root), sum(root), ok);
    /* A degenerate tree (sorted insertion) gives recursion depth 100. */
    used = 0;
    root = NULL;
    for (int i = 0; i < 100; i++) root = insert(root, i);
    printf("degenerate height %d sum %ld\n", height(root), sum(root));
    printf("walk(150) = %d\n", walk(150, NULL));
    char s[] = "recursion reverses this string";
    rev(s, 0, (int)strlen(s) - 1);
    printf("%s\n", s);
    return 0;
}
