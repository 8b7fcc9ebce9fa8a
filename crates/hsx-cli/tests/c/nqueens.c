/* N-queens by backtracking with bitmasks for N = 1..9, plus the first 8-queens solution. */
#include <stdio.h>

static int first[12], found_first;
static int cols[12];

static int solve(int n, int row, unsigned used, unsigned d1, unsigned d2) {
    if (row == n) {
        if (!found_first) { for (int i = 0; i < n; i++) first[i] = cols[i]; found_first = 1; }
        return 1;
    }
    int count = 0;
    unsigned avail = ~(used | d1 | d2) & ((1u << n) - 1);
    while (avail) {
        unsigned bit = avail & -avail;
        avail ^= bit;
        cols[row] = __builtin_ctz(bit);
        count += solve(n, row + 1, used | bit, (d1 | bit) << 1, (d2 | bit) >> 1);
    }
    return count;
}

int main(void) {
    int total = 0;
    for (int n = 1; n <= 9; n++) {
        found_first = n != 8;
        int c = solve(n, 0, 0, 0, 0);
        total += c;
        printf("%d-queens: %d\n", n, c);
    }
    printf("first 8-queens:");
    for (int i = 0; i < 8; i++) printf(" %d", first[i]);
    printf("\n");
    for (int r = 0; r < 8; r++) {
        for (int c = 0; c < 8; c++) putchar(first[r] == c ? 'Q' : '.');
        putchar('\n');
    }
    return total % 256;
}
