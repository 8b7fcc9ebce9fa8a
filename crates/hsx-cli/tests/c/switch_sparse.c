/* Sparse switches: large and negative case values, 64-bit switch, default, binary search
 * style lowering. */
#include <stdint.h>
#include <stdio.h>

static const char *code_name(int c) {
    switch (c) {
    case -2147483647 - 1: return "min";
    case -100000: return "neg-100k";
    case -1: return "minus-one";
    case 0: return "zero";
    case 200: return "ok";
    case 404: return "not-found";
    case 65536: return "2^16";
    case 1000000: return "million";
    case 0x7FFFFFFF: return "max";
    default: return "other";
    }
}

static int u_sw(uint32_t u) {
    switch (u) {
    case 0x80000000u: return 1;
    case 0xFFFFFFFFu: return 2;
    case 0xDEADBEEFu: return 3;
    case 7u: return 4;
    default: return 0;
    }
}

static int wide(int64_t v) {
    switch (v) {
    case INT64_C(0x100000000): return 1;
    case INT64_C(0x100000001): return 2;
    case -INT64_C(0x100000000): return 3;
    case 1: return 4;
    case INT64_MAX: return 5;
    default: return -1;
    }
}

int main(void) {
    static const int probes[] = {-2147483647 - 1, -100000, -99999, -1, 0, 1, 200, 201, 404, 65536, 65535, 1000000, 0x7FFFFFFF};
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) printf("%d=%s\n", probes[i], code_name(probes[i]));
    printf("u %d %d %d %d %d\n", u_sw(0x80000000u), u_sw(0xFFFFFFFFu), u_sw(0xDEADBEEFu), u_sw(7u), u_sw(8u));
    printf("w %d %d %d %d %d %d\n", wide(INT64_C(0x100000000)), wide(INT64_C(0x100000001)), wide(-INT64_C(0x100000000)),
           wide(1), wide(INT64_MAX), wide(0));
    int hits = 0;
    for (int i = -5000; i < 70000; i += 3) {
        switch (i) {
        case -4998: case 3: case 999: case 12345: case 65535: case 69999: hits += i; break;
        case 30000: hits -= 1; break;
        default: break;
        }
    }
    printf("hits %d\n", hits);
    return 4;
}
