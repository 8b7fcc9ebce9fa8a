/* float and double arithmetic: + - * /, accumulation, mixed float/double expressions,
 * exactly representable results, and a Newton iteration. Printed with few digits. */
#include <stdio.h>

static double newton_sqrt(double x) { double g = x / 2; for (int i = 0; i < 30; i++) g = 0.5 * (g + x / g); return g; }

int main(void) {
    double a = 1.5, b = -0.25;
    printf("%.4f %.4f %.4f %.4f\n", a + b, a - b, a * b, a / b);
    float fa = 3.0f, fb = 7.0f;
    printf("float %.6f %.6f\n", fa / fb, (double)(fa / fb) * 7.0);
    double s = 0;
    for (int i = 1; i <= 1000; i++) s += 1.0 / i;
    printf("harmonic(1000) %.6f\n", s);
    float fs = 0;
    for (int i = 0; i < 1000; i++) fs += 0.125f;
    printf("float sum exact %.3f\n", fs);
    double p = 1;
    for (int i = 0; i < 60; i++) p *= 2;
    printf("2^60 %.0f\n", p);
    printf("newton sqrt2 %.9f sqrt10 %.6f\n", newton_sqrt(2.0), newton_sqrt(10.0));
    double x = 0.1 + 0.2;
    printf("0.1+0.2==0.3 %d diff-small %d\n", x == 0.3, (x - 0.3) < 1e-15 && (x - 0.3) > -1e-15);
    float f1 = 16777216.0f;
    printf("float precision %d\n", f1 + 1.0f == f1);
    double pi = 0;
    for (int k = 0; k < 2000; k++) pi += (k % 2 ? -4.0 : 4.0) / (2 * k + 1);
    printf("leibniz %.4f\n", pi);
    volatile double vz = 0.0;
    double neg = -vz;
    printf("neg zero %g %g\n", neg, 1.0 / (neg - 1.0));
    double m = 1e308;
    printf("overflow %g %g\n", m * 10, -m * 10);
    printf("mixed %.3f\n", 1 / 4.0f + 3 / 2 + 3 / 2.0);
    return 0;
}
