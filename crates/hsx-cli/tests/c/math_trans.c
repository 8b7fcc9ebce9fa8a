/* Transcendental functions printed with %.6g only at arguments where the result is far from
 * a rounding boundary at 6 significant digits (libm implementations differ in the last ulp). */
#include <math.h>
#include <stdio.h>

int main(void) {
    printf("exp %.6g %.6g %.6g\n", exp(1.0), exp(-2.0), exp(10.0));
    printf("log %.6g %.6g %.6g\n", log(10.0), log(0.5), log(1e6));
    printf("log10 %.6g %.6g log2 %.6g\n", log10(2.0), log10(1000.0), log2(10.0));
    printf("pow %.6g %.6g %.6g %.6g\n", pow(2.0, 10.0), pow(2.0, 0.5), pow(10.0, -3.0), pow(1.5, 2.5));
    printf("sin %.6g %.6g cos %.6g %.6g\n", sin(1.0), sin(0.5), cos(1.0), cos(2.0));
    printf("tan %.6g atan %.6g atan2 %.6g\n", tan(0.5), atan(1.0), atan2(1.0, -1.0));
    printf("asin %.6g acos %.6g\n", asin(0.5), acos(0.3));
    printf("sinh %.6g cosh %.6g tanh %.6g\n", sinh(1.0), cosh(1.0), tanh(0.5));
    printf("cbrt %.6g expm1 %.6g log1p %.6g\n", cbrt(27.0), expm1(1e-3), log1p(1e-5));
    printf("expf %.5g logf %.5g\n", (double)expf(1.0f), (double)logf(3.0f));
    return 0;
}
