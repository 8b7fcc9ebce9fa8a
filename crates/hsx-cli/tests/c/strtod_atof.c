/* strtod/atof on simple decimal inputs (exactly or nearly exactly representable), end
 * pointers, exponents, signs, and invalid input; results printed with %.6g / %.3f. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    static const char *in[] = {"0", "1", "-1", "3.5", "-0.25", "1e3", "1.5E-2", "+12.75", "  42abc", ".5", "5.", "123456.75",
                               "1e-5", "-7.125e2", "abc", "", "1e", "2.5e+3x"};
    for (unsigned i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *end;
        double v = strtod(in[i], &end);
        printf("strtod(\"%s\") = %.6g consumed %d\n", in[i], v, (int)(end - in[i]));
    }
    printf("atof %.3f %.3f %.3f\n", atof("2.125"), atof("-1000.5"), atof("nope"));
    double sum = 0;
    char buf[32];
    for (int i = 1; i <= 50; i++) {
        snprintf(buf, sizeof buf, "%d.%02d", i, i * 3 % 100);
        sum += strtod(buf, NULL);
    }
    printf("round-trip sum %.2f\n", sum);
    return 0;
}
