/* clock_gettime and time() return successfully and never go backwards. Only those
 * properties are printed (the values differ between runs). Under hsx cc both come from the
 * WASI clock_time_get import, whose thunk once lost its result pointer (MEM_FAULT).
 * (clock() is not in wasi-libc without -lwasi-emulated-process-clocks.) */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>

static volatile unsigned sink;

int main(void)
{
    struct timespec a, b;
    int ra = clock_gettime(CLOCK_MONOTONIC, &a);
    for (unsigned i = 0; i < 2000; i++) {
        sink += i * i;
    }
    int rb = clock_gettime(CLOCK_MONOTONIC, &b);
    int later = b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
    printf("clock_gettime: %d %d, nsec in range %d %d, not backwards %d\n", ra, rb,
           a.tv_nsec >= 0 && a.tv_nsec < 1000000000L, b.tv_nsec >= 0 && b.tv_nsec < 1000000000L,
           later);
    struct timespec r;
    printf("realtime: %d\n", clock_gettime(CLOCK_REALTIME, &r));
    time_t t = time(NULL);
    time_t t2;
    time(&t2);
    printf("time: valid %d, stored %d\n", t != (time_t)-1, t2 >= t);
    return 11;
}
