/* enums (implicit, explicit, negative values), typedefs of structs/function types,
 * sizeof of fixed-width types (never of long/pointers), _Static_assert, conditional
 * expressions and compound literals. */
#include <stdint.h>
#include <stdio.h>

enum color { RED, GREEN = 5, BLUE, BLACK = -3, WHITE };
typedef enum { OP_ADD = 1, OP_SUB, OP_MUL = 10 } op_t;
typedef struct { int32_t x, y; } vec2;
typedef int32_t (*reduce_fn)(int32_t, int32_t);
typedef vec2 vec2_pair[2];

_Static_assert(sizeof(int32_t) == 4, "int32_t is 4 bytes");
_Static_assert(sizeof(int64_t) == 8, "int64_t is 8 bytes");
_Static_assert(sizeof(vec2) == 8, "no padding in vec2");

static int32_t apply(op_t op, int32_t a, int32_t b) {
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    }
    return 0;
}
static int32_t rmax(int32_t a, int32_t b) { return a > b ? a : b; }

static const char *color_name(enum color c) {
    switch (c) {
    case RED: return "red"; case GREEN: return "green"; case BLUE: return "blue";
    case BLACK: return "black"; case WHITE: return "white";
    }
    return "?";
}

int main(void) {
    printf("%d %d %d %d %d\n", RED, GREEN, BLUE, BLACK, WHITE);
    for (int c = -3; c <= 6; c++)
        if (c == RED || c == GREEN || c == BLUE || c == BLACK || c == WHITE) printf("%s ", color_name((enum color)c));
    printf("\n%d %d %d\n", apply(OP_ADD, 3, 4), apply(OP_SUB, 3, 4), apply(OP_MUL, 3, 4));
    reduce_fn f = rmax;
    vec2_pair pr = {{1, 2}, {3, 4}};
    printf("max %d pair %d\n", f(-5, -9), pr[1].x * pr[0].y);
    vec2 v = (vec2){.y = 7};
    const int32_t *arr = (const int32_t[]){10, 20, 30};
    printf("compound %d %d %d\n", v.x, v.y, arr[2]);
    printf("sizes %d %d %d %d\n", (int)sizeof(int8_t), (int)sizeof(int16_t), (int)sizeof(float), (int)sizeof(double));
    int a = 5, b = 9;
    printf("ternary %d %d %s\n", a > b ? a : b, (a & 1) ? -a : a, a == 5 ? "five" : "other");
    return BLUE;
}
