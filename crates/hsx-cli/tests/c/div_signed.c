/* Signed 32-bit division and modulo with every sign combination (C truncates toward zero). */
#include <limits.h>
#include <stdio.h>

int main(void) {
    static const int nums[] = {7, -7, 100, -100, 1, -1, 0, 2147483647, -2147483647, 13, -13};
    static const int dens[] = {1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 1000, 2147483647};
    unsigned ck = 0;
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        for (unsigned j = 0; j < sizeof dens / sizeof dens[0]; j++) {
            int q = nums[i] / dens[j], r = nums[i] % dens[j];
            if (q * dens[j] + r != nums[i]) printf("identity broken %d %d\n", nums[i], dens[j]);
            ck = ck * 31u + (unsigned)q * 7u + (unsigned)r;
            if (j < 4) printf("%d/%d=%d %d%%%d=%d\n", nums[i], dens[j], q, nums[i], dens[j], r);
        }
    }
    printf("checksum %u\n", ck);
    printf("INT_MIN/1=%d INT_MIN/2=%d INT_MIN/-2=%d INT_MIN%%3=%d INT_MIN%%-3=%d\n",
           INT_MIN / 1, INT_MIN / 2, INT_MIN / -2, INT_MIN % 3, INT_MIN % -3);
    printf("INT_MIN/INT_MAX=%d INT_MIN%%INT_MAX=%d\n", INT_MIN / INT_MAX, INT_MIN % INT_MAX);
    volatile int vn = -17, vd = 5;
    printf("volatile %d %d\n", vn / vd, vn % vd);
    return 0;
}
