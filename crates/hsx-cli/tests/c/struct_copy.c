/* Struct assignment, pass and return by value (small and large), copies are independent. */
#include <stdint.h>
#include <stdio.h>

struct pt { int32_t x, y; };
struct big { int32_t id; char name[20]; int64_t vals[6]; struct pt corner; };

static struct pt add(struct pt a, struct pt b) { struct pt r = {a.x + b.x, a.y + b.y}; return r; }

static struct big make(int32_t id) {
    struct big b = {0};
    b.id = id;
    for (int i = 0; i < 19; i++) b.name[i] = (char)('a' + (id + i) % 26);
    for (int i = 0; i < 6; i++) b.vals[i] = (int64_t)id * 1000000007 * (i + 1);
    b.corner.x = -id;
    b.corner.y = id * 2;
    return b;
}

static int64_t sum(struct big b) {
    int64_t s = b.id + b.corner.x + b.corner.y;
    for (int i = 0; i < 6; i++) s += b.vals[i];
    b.id = 9999; /* modifies the callee's copy only */
    return s;
}

int main(void) {
    struct pt p = {3, -4}, q = {10, 20};
    struct pt r = add(p, q);
    printf("add %d %d\n", r.x, r.y);
    struct pt c = p;
    c.x = 100;
    printf("copy independent %d %d\n", p.x, c.x);
    struct big b1 = make(7);
    struct big b2 = b1;
    b2.name[0] = 'Z';
    b2.vals[5] = -1;
    printf("b1 %d %s %lld\n", b1.id, b1.name, (long long)b1.vals[5]);
    printf("b2 %d %s %lld\n", b2.id, b2.name, (long long)b2.vals[5]);
    printf("sum %lld id after %d\n", (long long)sum(b1), b1.id);
    struct big arr[3];
    for (int i = 0; i < 3; i++) arr[i] = make(i + 1);
    arr[0] = arr[2];
    printf("arr %d %s %d\n", arr[0].id, arr[0].name, arr[0].corner.y);
    struct pt *pp = &r;
    *pp = (struct pt){-1, -2};
    printf("compound %d %d\n", r.x, r.y);
    return 0;
}
