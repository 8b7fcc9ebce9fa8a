/* Nested structs, arrays inside structs, designated initialisers, pointers to members. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct date { short year; unsigned char month, day; };
struct person { char name[16]; struct date born; struct { int height_cm; int weight_kg; } body; int tags[3]; };
struct team { const char *title; struct person members[3]; int count; };

static struct team t = {
    .title = "hsx",
    .members = {
        {"ada", {1815, 12, 10}, {165, 55}, {1, 2, 3}},
        {.name = "alan", .born = {.year = 1912, .month = 6, .day = 23}, .body.height_cm = 178, .tags = {[2] = 9}},
        {"grace", {1906, 12, 9}, {.weight_kg = 60}, {0}},
    },
    .count = 3,
};

static int older(const struct date *a, const struct date *b) {
    if (a->year != b->year) return a->year < b->year;
    if (a->month != b->month) return a->month < b->month;
    return a->day < b->day;
}

int main(void) {
    printf("team %s with %d\n", t.title, t.count);
    for (int i = 0; i < t.count; i++) {
        const struct person *p = &t.members[i];
        printf("%-6s %04d-%02d-%02d h=%d w=%d tags=%d,%d,%d\n", p->name, p->born.year, p->born.month, p->born.day,
               p->body.height_cm, p->body.weight_kg, p->tags[0], p->tags[1], p->tags[2]);
    }
    int oldest = 0;
    for (int i = 1; i < t.count; i++)
        if (older(&t.members[i].born, &t.members[oldest].born)) oldest = i;
    printf("oldest %s\n", t.members[oldest].name);
    struct date *d = &t.members[1].born;
    d->day++;
    int *h = &t.members[2].body.height_cm;
    *h = 152;
    printf("modified %d %d\n", t.members[1].born.day, t.members[2].body.height_cm);
    struct person copy = t.members[0];
    strcpy(copy.name, "lovelace");
    printf("copy %s orig %s\n", copy.name, t.members[0].name);
    printf("offset order %d\n", offsetof(struct person, born) < offsetof(struct person, body));
    return 0;
}
