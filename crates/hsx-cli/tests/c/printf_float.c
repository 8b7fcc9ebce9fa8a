/* printf floating point: %f %e %E %g %G with precisions 0..10, widths and flags. Every value
 * and precision was checked to be no rounding tie (exact binary value never ends in a 5 at
 * the cut-off digit), and %f is only used below 1e15, so any correctly rounding printf
 * prints the same digits. */
#include <stdio.h>

int main(void) {
    static const double v[] = {0.0, 1.0, -1.0, 0.3, 0.3135, -2.7, 100.0, 1234.5678, 0.00195, 1e10, 123456789.0,
                               -0.0001220703125, 65536.0, 0.1, 2.0 / 3.0, 3.0627, 99.99, -7.77e-5};
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        double x = v[i];
        printf("%f|%.0f|%.1f|%.3f|%.10f|%e|%.2e|%.0e|%E|%g|%.3g|%.10g|%G\n", x, x, x, x, x, x, x, x, x, x, x, x, x);
    }
    static const double big[] = {6.02214076e23, 1.6e-19, 1e100, -3.3e-200, 5e15};
    for (unsigned i = 0; i < sizeof big / sizeof big[0]; i++) {
        double x = big[i];
        printf("%e|%.2e|%.0e|%E|%g|%.3g|%.10g|%G\n", x, x, x, x, x, x, x, x);
    }
    printf("[%10.3f][%-10.3f][%+.2f][% .2f][%010.2f][%#.0f][%#g][%#.3g]\n", 3.25, 3.25, 3.25, 3.25, -3.25, 7.0, 2.0, 1.0);
    printf("[%12.4e][%-12.2E][%+g][%010g]\n", 12345.6789, 0.000123, 42.0, -1.5);
    printf("[%g][%g][%g][%g][%g][%g]\n", 100000.0, 1000000.0, 0.0001, 0.00001, 123456.0, 1234567.0);
    printf("[%.0g][%.1g][%.2g][%g]\n", 0.0, 16.0, 0.015625, 1e-300);
    printf("[%.15g][%.6f]\n", 0.1, 1e9 / 3.0);
    printf("[%*.*f]\n", 9, 2, 2.71875);
    float f = 1.1f;
    printf("float promoted %.9f %.3f\n", f, f);
    return 0;
}
