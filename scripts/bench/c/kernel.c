/* A CoreMark-like kernel for `scripts/bench/cc_coremark.sh`: CRC32 over a buffer, an 8x8
 * integer matrix multiply and a linked-list walk, repeated ITERATIONS times. It prints a
 * checksum so native and MiniVM runs can be compared. */
#include <stdint.h>
#include <stdio.h>

#ifndef ITERATIONS
#define ITERATIONS 200
#endif

static uint32_t crc_table[256];
static uint8_t buf[512];
static int32_t A[8][8], B[8][8], C[8][8];
struct node { struct node *next; int32_t v; };
static struct node nodes[64];

static void init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    uint32_t x = 12345;
    for (int i = 0; i < 512; i++) { x = x * 1103515245u + 12345u; buf[i] = (uint8_t)(x >> 16); }
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) { A[i][j] = i * 3 - j; B[i][j] = j * 5 - i * 2 + 1; }
    for (int i = 0; i < 64; i++) { nodes[i].v = i * 7 - 100; nodes[i].next = &nodes[(i * 37 + 11) % 64]; }
}

static uint32_t crc32(const uint8_t *p, int n, uint32_t crc) {
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static uint32_t matmul(int round) {
    uint32_t ck = 0;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            int32_t s = 0;
            for (int k = 0; k < 8; k++) s += A[i][k] * B[k][j];
            C[i][j] = s;
            ck = ck * 31u + (uint32_t)s;
        }
    A[round & 7][(round >> 3) & 7] += 1;
    return ck;
}

static uint32_t walk(void) {
    uint32_t ck = 0;
    struct node *p = &nodes[0];
    for (int i = 0; i < 256; i++) { ck += (uint32_t)p->v; p->v ^= i; p = p->next; }
    return ck;
}

int main(void) {
    init();
    uint32_t ck = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        ck = crc32(buf, 512, ck);
        ck ^= matmul(it);
        ck += walk();
    }
    printf("checksum %08x\n", ck);
    return 0;
}
