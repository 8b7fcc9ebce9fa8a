/* A dense switch (jump table) with fallthrough, default, and a state machine driven by it. */
#include <stdio.h>

static int classify(int v) {
    int r = 0;
    switch (v) {
    case 0: r += 1; /* fallthrough */
    case 1: r += 2; /* fallthrough */
    case 2: r += 4; break;
    case 3: r = 30; break;
    case 4:
    case 5:
    case 6: r = 456; break;
    case 7: r = -7; /* fallthrough */
    case 8: r *= 2; break;
    case 9: return 99;
    case 10: r = 10; break;
    case 11: r = 11; break;
    case 12: r = 12; /* fallthrough */
    default: r += 1000; break;
    case 14: r = 14; break;
    case 15: r = 15; break;
    }
    return r;
}

/* Duff's device copy. */
static void duff(char *to, const char *from, int count) {
    int n = (count + 7) / 8;
    switch (count % 8) {
    case 0: do { *to++ = *from++; /* fallthrough */
    case 7: *to++ = *from++; /* fallthrough */
    case 6: *to++ = *from++; /* fallthrough */
    case 5: *to++ = *from++; /* fallthrough */
    case 4: *to++ = *from++; /* fallthrough */
    case 3: *to++ = *from++; /* fallthrough */
    case 2: *to++ = *from++; /* fallthrough */
    case 1: *to++ = *from++;
            } while (--n > 0);
    }
}

int main(void) {
    for (int v = -2; v <= 17; v++) printf("%d:%d ", v, classify(v));
    printf("\n");
    const char *src = "the quick brown fox jumps over";
    for (int len = 1; len <= 30; len += 7) {
        char dst[32] = {0};
        duff(dst, src, len);
        printf("duff %2d [%s]\n", len, dst);
    }
    /* Tokenise digits/letters/spaces with a state machine. */
    const char *in = "ab12 c3  456de f";
    int state = 0, tokens = 0;
    for (const char *p = in;; p++) {
        int cls = (*p == 0) ? 3 : (*p == ' ') ? 0 : (*p >= '0' && *p <= '9') ? 1 : 2;
        switch (state * 4 + cls) {
        case 0: break;
        case 1: state = 1; break;
        case 2: state = 2; break;
        case 4: case 8: tokens++; state = 0; break;
        case 5: case 10: break;
        case 6: tokens++; state = 2; break;
        case 9: tokens++; state = 1; break;
        case 7: case 11: tokens++; /* fallthrough */
        case 3: state = -1; break;
        default: printf("bad\n"); break;
        }
        if (state < 0) break;
    }
    printf("tokens %d\n", tokens);
    return 0;
}
