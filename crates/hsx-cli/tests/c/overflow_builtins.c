/* __builtin_{add,sub,mul}_overflow on 32 and 64 bits (64-bit multiply checks need a
 * 128-bit helper on 32-bit targets). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    int32_t r32;
    int64_t r64;
    uint32_t u32;
    uint64_t u64;
    int o;
    o = __builtin_add_overflow(INT32_MAX, 1, &r32);
    printf("add32 %d %d\n", o, r32);
    o = __builtin_sub_overflow(INT32_MIN, 1, &r32);
    printf("sub32 %d %d\n", o, r32);
    o = __builtin_mul_overflow(65536, 32768, &r32);
    printf("mul32 %d %d\n", o, r32);
    o = __builtin_mul_overflow(46340, 46340, &r32);
    printf("mul32ok %d %d\n", o, r32);
    o = __builtin_mul_overflow(0x10000u, 0x10000u, &u32);
    printf("umul32 %d %u\n", o, (unsigned)u32);
    o = __builtin_add_overflow(INT64_MAX, (int64_t)1, &r64);
    printf("add64 %d %" PRId64 "\n", o, r64);
    o = __builtin_mul_overflow(INT64_C(3037000499), INT64_C(3037000499), &r64);
    printf("mul64ok %d %" PRId64 "\n", o, r64);
    o = __builtin_mul_overflow(INT64_C(3037000500), INT64_C(3037000500), &r64);
    printf("mul64 %d %" PRId64 "\n", o, r64);
    o = __builtin_mul_overflow(-INT64_C(4611686018427387904), (int64_t)2, &r64);
    printf("mul64min %d %" PRId64 "\n", o, r64);
    o = __builtin_mul_overflow(UINT64_C(0x100000000), UINT64_C(0x100000000), &u64);
    printf("umul64 %d %" PRIu64 "\n", o, u64);
    o = __builtin_mul_overflow(UINT64_C(0xFFFFFFFF), UINT64_C(0x100000001), &u64);
    printf("umul64ok %d %" PRIu64 "\n", o, u64);
    int count = 0;
    uint64_t f = 1;
    for (uint64_t i = 1; !__builtin_mul_overflow(f, i, &f); i++) count++;
    printf("factorials fitting in u64: %d\n", count);
    return 11;
}
