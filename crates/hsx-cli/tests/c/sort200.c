/* Sorting 200 pseudo-random numbers (own LCG) with insertion sort, merge sort, heap sort,
 * and quicksort; all results must agree and be ordered. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 200
static int32_t orig[N], a[N], b[N], c[N], d[N], tmp[N];

static void insertion(int32_t *v, int n) {
    for (int i = 1; i < n; i++) { int32_t k = v[i]; int j = i - 1; while (j >= 0 && v[j] > k) { v[j + 1] = v[j]; j--; } v[j + 1] = k; }
}
static void merge_sort(int32_t *v, int lo, int hi) {
    if (hi - lo < 2) return;
    int mid = (lo + hi) / 2;
    merge_sort(v, lo, mid);
    merge_sort(v, mid, hi);
    int i = lo, j = mid, k = lo;
    while (i < mid || j < hi) tmp[k++] = (j >= hi || (i < mid && v[i] <= v[j])) ? v[i++] : v[j++];
    memcpy(v + lo, tmp + lo, (size_t)(hi - lo) * sizeof *v);
}
static void sift(int32_t *v, int start, int end) {
    int root = start;
    while (2 * root + 1 <= end) {
        int child = 2 * root + 1, sw = root;
        if (v[sw] < v[child]) sw = child;
        if (child + 1 <= end && v[sw] < v[child + 1]) sw = child + 1;
        if (sw == root) return;
        int32_t t = v[root]; v[root] = v[sw]; v[sw] = t;
        root = sw;
    }
}
static void heap_sort(int32_t *v, int n) {
    for (int s = (n - 2) / 2; s >= 0; s--) sift(v, s, n - 1);
    for (int e = n - 1; e > 0; e--) { int32_t t = v[e]; v[e] = v[0]; v[0] = t; sift(v, 0, e - 1); }
}
static void quick(int32_t *v, int lo, int hi) {
    while (lo < hi) {
        int32_t p = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) { int32_t t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quick(v, lo, j); lo = i; } else { quick(v, i, hi); hi = j; }
    }
}

int main(void) {
    uint32_t s = 20261203u;
    for (int i = 0; i < N; i++) { s = s * 1664525u + 1013904223u; orig[i] = (int32_t)(s >> 12) - 500000; }
    orig[17] = orig[42]; /* a duplicate */
    memcpy(a, orig, sizeof a); memcpy(b, orig, sizeof b); memcpy(c, orig, sizeof c); memcpy(d, orig, sizeof d);
    insertion(a, N);
    merge_sort(b, 0, N);
    heap_sort(c, N);
    quick(d, 0, N - 1);
    int ordered = 1;
    for (int i = 1; i < N; i++) ordered &= a[i - 1] <= a[i];
    printf("ordered %d agree %d %d %d\n", ordered, !memcmp(a, b, sizeof a), !memcmp(a, c, sizeof a), !memcmp(a, d, sizeof a));
    printf("min %d max %d median %d\n", a[0], a[N - 1], a[N / 2]);
    for (int i = 0; i < N; i += 20) printf("%d ", a[i]);
    printf("\n");
    uint32_t h = 0;
    for (int i = 0; i < N; i++) h = h * 16777619u ^ (uint32_t)a[i];
    printf("hash %08x\n", (unsigned)h);
    return 0;
}
