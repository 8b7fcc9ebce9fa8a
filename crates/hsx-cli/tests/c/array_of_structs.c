/* Arrays of structs: initialisation, aggregation, in-place insertion sort by two keys,
 * searching, and array-of-pointer indirection. */
#include <stdio.h>
#include <string.h>

struct item { char sku[8]; int qty; int price_cents; };

static struct item inv[] = {
    {"A100", 5, 1999}, {"B220", 0, 450}, {"C031", 12, 99}, {"A101", 5, 2500},
    {"D777", 3, 10000}, {"E001", 12, 1}, {"B221", 7, 450}, {"Z999", 1, 12345},
};
#define N (int)(sizeof inv / sizeof inv[0])

static int before(const struct item *a, const struct item *b) {
    if (a->qty != b->qty) return a->qty > b->qty;
    return strcmp(a->sku, b->sku) < 0;
}

int main(void) {
    long total = 0;
    for (int i = 0; i < N; i++) total += (long)inv[i].qty * inv[i].price_cents;
    printf("stock value %ld.%02ld\n", total / 100, total % 100);
    for (int i = 1; i < N; i++) {
        struct item key = inv[i];
        int j = i - 1;
        while (j >= 0 && before(&key, &inv[j])) { inv[j + 1] = inv[j]; j--; }
        inv[j + 1] = key;
    }
    for (int i = 0; i < N; i++) printf("%-5s %3d %6d\n", inv[i].sku, inv[i].qty, inv[i].price_cents);
    struct item *by_price[N];
    for (int i = 0; i < N; i++) by_price[i] = &inv[i];
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (by_price[j]->price_cents < by_price[i]->price_cents ||
                (by_price[j]->price_cents == by_price[i]->price_cents && strcmp(by_price[j]->sku, by_price[i]->sku) < 0)) {
                struct item *t = by_price[i]; by_price[i] = by_price[j]; by_price[j] = t;
            }
    printf("cheapest %s dearest %s\n", by_price[0]->sku, by_price[N - 1]->sku);
    by_price[0]->qty = 1000;
    int found = -1;
    for (int i = 0; i < N; i++) if (inv[i].qty == 1000) found = i;
    printf("alias index %d sku %s\n", found, inv[found].sku);
    return 2;
}
