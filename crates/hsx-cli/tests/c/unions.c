/* Unions: reinterpreting bytes of integers and floats (little-endian IEEE 754 on both
 * x86_64 and wasm32), tagged unions. */
#include <stdint.h>
#include <stdio.h>

union word { uint32_t u; int32_t s; uint8_t b[4]; uint16_t h[2]; float f; };
union dword { uint64_t u; double d; uint32_t w[2]; };

enum kind { K_INT, K_DBL, K_STR };
struct value { enum kind k; union { int i; double d; const char *s; } as; };

static void show(const struct value *v) {
    switch (v->k) {
    case K_INT: printf("int %d\n", v->as.i); break;
    case K_DBL: printf("dbl %.3f\n", v->as.d); break;
    case K_STR: printf("str %s\n", v->as.s); break;
    }
}

int main(void) {
    union word w;
    w.u = 0x11223344u;
    printf("bytes %02x %02x %02x %02x halves %04x %04x\n", w.b[0], w.b[1], w.b[2], w.b[3], w.h[0], w.h[1]);
    w.f = 1.0f;
    printf("1.0f bits %08x\n", (unsigned)w.u);
    w.f = -2.5f;
    printf("-2.5f bits %08x\n", (unsigned)w.u);
    w.u = 0x40490fdbu;
    printf("pi-ish %.5f\n", w.f);
    w.s = -1;
    printf("s=-1 u=%u\n", (unsigned)w.u);
    union dword d;
    d.d = 1.5;
    printf("1.5 bits %08x %08x\n", (unsigned)d.w[1], (unsigned)d.w[0]);
    d.u = UINT64_C(0x4024000000000000);
    printf("ten %.1f\n", d.d);
    struct value vs[] = {{K_INT, {.i = -42}}, {K_DBL, {.d = 2.25}}, {K_STR, {.s = "hello"}}};
    for (int i = 0; i < 3; i++) show(&vs[i]);
    return 0;
}
