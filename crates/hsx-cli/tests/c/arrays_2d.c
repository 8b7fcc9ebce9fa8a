/* 2D arrays: indexing, row pointers, pointer-to-array parameters, VLA-free transposition,
 * and a flattened view. */
#include <stdio.h>

#define R 5
#define C 7

static int grid[R][C];

static int row_sum(const int (*g)[C], int r) { int s = 0; for (int c = 0; c < C; c++) s += g[r][c]; return s; }

static void transpose(const int src[R][C], int dst[C][R]) {
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) dst[c][r] = src[r][c];
}

int main(void) {
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) grid[r][c] = r * 10 + c - 3 * (r & c);
    for (int r = 0; r < R; r++) printf("row %d sum %d\n", r, row_sum(grid, r));
    int t[C][R];
    transpose(grid, t);
    for (int c = 0; c < C; c++) {
        for (int r = 0; r < R; r++) printf("%4d", t[c][r]);
        printf("\n");
    }
    const int *flat = &grid[0][0];
    long long s = 0;
    for (int i = 0; i < R * C; i++) s += (long long)flat[i] * (i + 1);
    printf("flat weighted %lld\n", s);
    int (*rowp)[C] = grid + 2;
    printf("rowp %d %d\n", (*rowp)[3], rowp[1][6]);
    static const char names[4][8] = {"north", "east", "south", "west"};
    for (int i = 0; i < 4; i++) printf("%s%c", names[i], i == 3 ? '\n' : ',');
    int cube[3][3][3];
    for (int i = 0; i < 27; i++) cube[i / 9][(i / 3) % 3][i % 3] = i * i;
    printf("cube diag %d %d %d\n", cube[0][0][0], cube[1][1][1], cube[2][2][2]);
    return 0;
}
