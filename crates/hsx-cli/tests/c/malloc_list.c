/* malloc/free: a singly linked list built, reversed, filtered (freeing removed nodes),
 * and freed. */
#include <stdio.h>
#include <stdlib.h>

struct node { int value; struct node *next; };

static struct node *push(struct node *head, int v) {
    struct node *n = malloc(sizeof *n);
    if (!n) { puts("oom"); exit(1); }
    n->value = v;
    n->next = head;
    return n;
}

static struct node *reverse(struct node *h) {
    struct node *prev = NULL;
    while (h) { struct node *nx = h->next; h->next = prev; prev = h; h = nx; }
    return prev;
}

static void print(const struct node *h) {
    int n = 0;
    for (; h; h = h->next, n++) printf("%d ", h->value);
    printf("(%d)\n", n);
}

static struct node *remove_if_multiple(struct node *h, int k) {
    struct node **pp = &h;
    while (*pp) {
        if ((*pp)->value % k == 0) { struct node *dead = *pp; *pp = dead->next; free(dead); }
        else pp = &(*pp)->next;
    }
    return h;
}

int main(void) {
    struct node *list = NULL;
    for (int i = 1; i <= 30; i++) list = push(list, i * 7 % 31);
    print(list);
    list = reverse(list);
    print(list);
    list = remove_if_multiple(list, 3);
    print(list);
    list = remove_if_multiple(list, 2);
    print(list);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 20; i++) list = push(list, round * 100 + i);
        list = remove_if_multiple(list, 1 + round % 2); /* even rounds empty the list, odd rounds keep odd values */
        list = remove_if_multiple(list, 100000);
    }
    long sum = 0;
    int n = 0;
    for (struct node *p = list; p; p = p->next) { sum += p->value; n++; }
    printf("after churn n=%d sum=%ld\n", n, sum);
    while (list) { struct node *nx = list->next; free(list); list = nx; }
    puts("freed");
    return 0;
}
