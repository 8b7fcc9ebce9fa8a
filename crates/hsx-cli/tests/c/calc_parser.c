/* A recursive-descent calculator over fixed strings: + - * / % with precedence, unary
 * minus, parentheses, variables (a..z) with assignment, and error reporting. */
#include <stdio.h>

struct parser { const char *p; int err; long vars[26]; };

static void skip(struct parser *ps) { while (*ps->p == ' ') ps->p++; }
static long expr(struct parser *ps);

static long primary(struct parser *ps) {
    skip(ps);
    char c = *ps->p;
    if (c == '(') {
        ps->p++;
        long v = expr(ps);
        skip(ps);
        if (*ps->p == ')') ps->p++; else ps->err = 1;
        return v;
    }
    if (c == '-') { ps->p++; return -primary(ps); }
    if (c >= '0' && c <= '9') {
        long v = 0;
        while (*ps->p >= '0' && *ps->p <= '9') v = v * 10 + (*ps->p++ - '0');
        return v;
    }
    if (c >= 'a' && c <= 'z') {
        ps->p++;
        skip(ps);
        if (*ps->p == '=' ) { ps->p++; long v = expr(ps); ps->vars[c - 'a'] = v; return v; }
        return ps->vars[c - 'a'];
    }
    ps->err = 2;
    return 0;
}

static long term(struct parser *ps) {
    long v = primary(ps);
    for (;;) {
        skip(ps);
        char op = *ps->p;
        if (op != '*' && op != '/' && op != '%') return v;
        ps->p++;
        long r = primary(ps);
        if ((op == '/' || op == '%') && r == 0) { ps->err = 3; return 0; }
        v = op == '*' ? v * r : op == '/' ? v / r : v % r;
    }
}

static long expr(struct parser *ps) {
    long v = term(ps);
    for (;;) {
        skip(ps);
        char op = *ps->p;
        if (op != '+' && op != '-') return v;
        ps->p++;
        long r = term(ps);
        v = op == '+' ? v + r : v - r;
    }
}

int main(void) {
    static const char *lines[] = {
        "1 + 2 * 3", "(1 + 2) * 3", "100 / 7", "-100 / 7", "100 % -7", "-(3 - 10) * -2",
        "x = 6 * 7", "y = x - 2", "x * y + (x - y)", "((((1))))", "2 * (3 + 4) * (5 - 1) / 3",
        "10 / (5 - 5)", "3 + * 4", "(1 + 2", "z = a = 5", "a + z", "1000 * 1000 * 2 - 1",
    };
    struct parser ps = {0};
    int errors = 0;
    for (unsigned i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        ps.p = lines[i];
        ps.err = 0;
        long v = expr(&ps);
        skip(&ps);
        if (!ps.err && *ps.p) ps.err = 4;
        if (ps.err) { printf("%-28s => error %d\n", lines[i], ps.err); errors++; }
        else printf("%-28s => %ld\n", lines[i], v);
    }
    return errors;
}
