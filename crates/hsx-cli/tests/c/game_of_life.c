/* Conway's Game of Life on a 24x16 torus: a glider and an R-pentomino evolve for 30
 * generations; prints population every 5 generations and the final board. */
#include <stdio.h>
#include <string.h>

#define W 24
#define H 16
static unsigned char grid[H][W], next[H][W];

static int neighbours(int r, int c) {
    int n = 0;
    for (int dr = -1; dr <= 1; dr++)
        for (int dc = -1; dc <= 1; dc++)
            if (dr || dc) n += grid[(r + dr + H) % H][(c + dc + W) % W];
    return n;
}

int main(void) {
    static const int glider[][2] = {{0, 1}, {1, 2}, {2, 0}, {2, 1}, {2, 2}};
    static const int rpent[][2] = {{0, 1}, {0, 2}, {1, 0}, {1, 1}, {2, 1}};
    for (int i = 0; i < 5; i++) { grid[1 + glider[i][0]][1 + glider[i][1]] = 1; grid[7 + rpent[i][0]][12 + rpent[i][1]] = 1; }
    for (int gen = 0; gen <= 30; gen++) {
        if (gen % 5 == 0) {
            int pop = 0;
            for (int r = 0; r < H; r++) for (int c = 0; c < W; c++) pop += grid[r][c];
            printf("gen %2d pop %d\n", gen, pop);
        }
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++) {
                int n = neighbours(r, c);
                next[r][c] = (unsigned char)(n == 3 || (n == 2 && grid[r][c]));
            }
        memcpy(grid, next, sizeof grid);
    }
    for (int r = 0; r < H; r++) {
        for (int c = 0; c < W; c++) putchar(grid[r][c] ? '#' : '.');
        putchar('\n');
    }
    return 0;
}
