/* printf of infinities, NaN (sign-free), negative zero, denormals and extremes. */
#include <float.h>
#include <math.h>
#include <stdio.h>

int main(void) {
    double inf = INFINITY, nan_ = NAN;
    printf("[%f][%f][%e][%g][%5.1f][%-6f|][%+f]\n", inf, -inf, inf, -inf, inf, inf, inf);
    printf("[%F][%E][%G]\n", inf, -inf, inf);
    printf("[%f][%e][%g][%6f]\n", nan_, nan_, nan_, nan_);
    printf("[%f][%e][%g][%.0f]\n", -0.0, -0.0, -0.0, -0.0);
    printf("[%g][%e]\n", DBL_MAX, DBL_MIN);
    printf("[%g][%.3e]\n", 4.9406564584124654e-324, 2.2250738585072009e-308);
    printf("[%g][%g]\n", FLT_MAX, FLT_MIN);
    printf("[%.0f][%.0f]\n", 9007199254740992.0, 4398046511104.0);
    printf("[%.3f][%.3f][%.2e]\n", 0.0009765625, 999.9996, 9.996e5);
    return 0;
}
