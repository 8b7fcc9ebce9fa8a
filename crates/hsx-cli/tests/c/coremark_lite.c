/* A small CoreMark-like kernel: CRC32 (bitwise and table), 8x8 integer matrix multiply
 * with accumulation, a linked-list walk with find/reverse/sort, and a state machine over a
 * byte buffer. Prints one checksum per part and a combined checksum. */
#include <stdint.h>
#include <stdio.h>

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}
static uint32_t crc32_table(const uint8_t *p, uint32_t n, uint32_t crc) {
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
static uint32_t crc32_bitwise(const uint8_t *p, uint32_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) { crc ^= *p++; for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1))); }
    return ~crc;
}

#define M 8
static int32_t A[M][M], B[M][M], Cm[M][M];
static uint32_t matrix_part(uint32_t seed) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            seed = seed * 1103515245u + 12345u;
            A[i][j] = (int32_t)(seed >> 16) % 201 - 100;
            seed = seed * 1103515245u + 12345u;
            B[i][j] = (int32_t)(seed >> 16) % 51 - 25;
        }
    uint32_t ck = 0;
    for (int iter = 0; iter < 40; iter++) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++) {
                int32_t s = 0;
                for (int k = 0; k < M; k++) s += A[i][k] * B[k][j];
                Cm[i][j] = s;
            }
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++) { ck = ck * 31u + (uint32_t)Cm[i][j]; A[i][j] = Cm[i][j] / 16 % 97 + iter; }
    }
    return ck;
}

struct item { struct item *next; int16_t key; int16_t val; };
static struct item pool[64];
static uint32_t list_part(void) {
    struct item *head = NULL;
    for (int i = 0; i < 64; i++) { pool[i].key = (int16_t)((i * 37) % 64); pool[i].val = (int16_t)(i * i - 500); pool[i].next = head; head = &pool[i]; }
    uint32_t ck = 0;
    for (int round = 0; round < 30; round++) {
        /* find */
        int16_t want = (int16_t)((round * 11) % 70);
        int pos = 0;
        struct item *p = head;
        while (p && p->key != want) { p = p->next; pos++; }
        ck = ck * 7u + (p ? (uint32_t)(pos * 1000 + p->val) : 0xFFFFu);
        /* reverse */
        struct item *prev = NULL;
        while (head) { struct item *n = head->next; head->next = prev; prev = head; head = n; }
        head = prev;
        /* insertion sort by (val ^ round) on even rounds */
        if (round % 2 == 0) {
            struct item *sorted = NULL;
            while (head) {
                struct item *n = head->next, **pp = &sorted;
                while (*pp && ((*pp)->val ^ round) < (head->val ^ round)) pp = &(*pp)->next;
                head->next = *pp;
                *pp = head;
                head = n;
            }
            head = sorted;
        }
        for (p = head; p; p = p->next) { p->val = (int16_t)(p->val + 1); ck += (uint32_t)(uint16_t)p->val; }
    }
    return ck;
}

static uint32_t state_part(const uint8_t *buf, int n) {
    enum { START, INT, FLOAT, EXP, BAD } st = START;
    uint32_t counts[5] = {0};
    for (int i = 0; i < n; i++) {
        uint8_t c = buf[i];
        if (c == ',') { counts[st]++; st = START; continue; }
        switch (st) {
        case START: st = (c >= '0' && c <= '9') ? INT : (c == '.') ? FLOAT : BAD; break;
        case INT: st = (c >= '0' && c <= '9') ? INT : (c == '.') ? FLOAT : (c == 'e') ? EXP : BAD; break;
        case FLOAT: st = (c >= '0' && c <= '9') ? FLOAT : (c == 'e') ? EXP : BAD; break;
        case EXP: st = (c >= '0' && c <= '9') ? EXP : BAD; break;
        case BAD: break;
        }
    }
    return counts[0] | counts[1] << 6 | counts[2] << 12 | counts[3] << 18 | counts[4] << 24;
}

static uint8_t buf[1024];

int main(void) {
    crc_init();
    static const char *chunks[] = {"12,", "3.5,", "7e9,", "x1,", ".25,", "99.e3,", "5,", "abc,", "1.2.3,"};
    int n = 0;
    for (int i = 0; n < 1000; i++) {
        const char *s = chunks[(i * 7) % 9];
        while (*s && n < 1000) buf[n++] = (uint8_t)*s++;
    }
    uint32_t c1 = crc32_table(buf, (uint32_t)n, 0), c2 = crc32_bitwise(buf, (uint32_t)n);
    printf("crc32 %08x bitwise %08x equal %d\n", (unsigned)c1, (unsigned)c2, c1 == c2);
    printf("crc32(\"123456789\") %08x\n", (unsigned)crc32_table((const uint8_t *)"123456789", 9, 0));
    uint32_t m = matrix_part(0xC0FFEEu);
    uint32_t l = list_part();
    uint32_t s = state_part(buf, n);
    printf("matrix %08x list %08x state %08x\n", (unsigned)m, (unsigned)l, (unsigned)s);
    uint8_t parts[12];
    uint32_t all[3] = {m, l, s};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++) parts[i * 4 + b] = (uint8_t)(all[i] >> (8 * b));
    printf("coremark-lite checksum %08x\n", (unsigned)crc32_table(parts, 12, c1));
    return 0;
}
