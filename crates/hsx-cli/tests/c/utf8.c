/* UTF-8 encode/decode of code points (1-4 bytes), validation of malformed sequences, and
 * counting characters in a fixed multilingual string (bytes written as escapes). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) { out[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { out[0] = (unsigned char)(0xC0 | cp >> 6); out[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12); out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)); out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18); out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)); out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Returns bytes consumed, or -1 if malformed; stores the code point. */
static int decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (!n) return -1;
    unsigned char c = s[0];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : -1;
    if (len < 0 || (size_t)len > n) return -1;
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int i = 1; i < len; i++) { if ((s[i] & 0xC0) != 0x80) return -1; v = v << 6 | (s[i] & 0x3Fu); }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return -1;
    *cp = v;
    return len;
}

int main(void) {
    static const uint32_t cps[] = {0x24, 0x7F, 0x80, 0xA2, 0x7FF, 0x800, 0x20AC, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
    for (unsigned i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        unsigned char buf[4];
        int n = encode(cps[i], buf);
        uint32_t back = 0;
        int m = decode(buf, (size_t)n, &back);
        printf("U+%04X ->", (unsigned)cps[i]);
        for (int k = 0; k < n; k++) printf(" %02X", buf[k]);
        printf(" -> %d U+%04X\n", m, (unsigned)back);
    }
    const char *text = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC 5 \xF0\x9F\x98\x80!";
    size_t len = strlen(text), pos = 0;
    int chars = 0;
    uint32_t sum = 0;
    while (pos < len) {
        uint32_t cp;
        int k = decode((const unsigned char *)text + pos, len - pos, &cp);
        if (k < 0) { printf("bad at %u\n", (unsigned)pos); break; }
        pos += (size_t)k;
        chars++;
        sum += cp;
    }
    printf("bytes %u chars %d cpsum %u\n", (unsigned)len, chars, (unsigned)sum);
    static const char *bad[] = {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3", "\xE2\x28\xA1"};
    for (int i = 0; i < 7; i++) {
        uint32_t cp;
        printf("%d ", decode((const unsigned char *)bad[i], strlen(bad[i]), &cp));
    }
    printf("\n");
    return 0;
}
