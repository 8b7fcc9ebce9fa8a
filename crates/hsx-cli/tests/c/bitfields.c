/* Bit-fields: unsigned and explicitly signed fields, packing several into a word,
 * wrap-around on assignment to unsigned fields, reading back after neighbour writes. */
#include <stdio.h>

struct flags {
    unsigned int ready : 1;
    unsigned int mode : 3;
    signed int delta : 5;
    unsigned int count : 7;
    unsigned int big : 16;
};

struct hdr { unsigned int version : 4, ihl : 4, tos : 8, len : 16; };

int main(void) {
    struct flags f = {0};
    f.ready = 1;
    f.mode = 5;
    f.delta = -9;
    f.count = 100;
    f.big = 54321;
    printf("%u %u %d %u %u\n", f.ready, f.mode, f.delta, f.count, f.big);
    f.mode = 9 & 7;       /* wraps to 1 */
    f.count += 30;        /* 130 mod 128 = 2 */
    f.delta = 15;
    printf("%u %u %d %u %u\n", f.ready, f.mode, f.delta, f.count, f.big);
    int sum = 0;
    for (int i = -16; i < 16; i++) { f.delta = i; sum += f.delta * (f.ready + 1); }
    printf("sum %d\n", sum);
    struct hdr h = {4, 5, 0x2e, 1500};
    printf("hdr v%u ihl%u tos%#x len%u\n", h.version, h.ihl, h.tos, h.len);
    h.len = 70000u & 0xFFFF;
    printf("len %u version %u\n", h.len, h.version);
    struct hdr arr[4];
    for (unsigned i = 0; i < 4; i++) { arr[i].version = i; arr[i].ihl = 15 - i; arr[i].tos = i * 50; arr[i].len = i * 1000; }
    unsigned total = 0;
    for (unsigned i = 0; i < 4; i++) total += arr[i].version + arr[i].ihl + arr[i].tos + arr[i].len;
    printf("total %u\n", total);
    return 13;
}
