/* Base64 encoder and decoder (RFC 4648 test vectors plus binary round trips). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t encode(const uint8_t *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

static int val(char c) {
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

static long decode(const char *in, uint8_t *out) {
    size_t n = strlen(in), o = 0;
    if (n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) v[k] = in[i + k] == '=' ? 0 : val(in[i + k]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) return -1;
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (in[i + 2] != '=') out[o++] = (uint8_t)(w >> 8);
        if (in[i + 3] != '=') out[o++] = (uint8_t)w;
    }
    return (long)o;
}

int main(void) {
    static const char *vec[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "Hello, HSX MiniVM!"};
    char enc[128];
    uint8_t dec[128];
    for (int i = 0; i < 8; i++) {
        encode((const uint8_t *)vec[i], strlen(vec[i]), enc);
        long n = decode(enc, dec);
        printf("\"%s\" -> \"%s\" -> %ld %s\n", vec[i], enc, n, (n == (long)strlen(vec[i]) && !memcmp(dec, vec[i], (size_t)n)) ? "ok" : "BAD");
    }
    static uint8_t bin[256];
    for (int i = 0; i < 256; i++) bin[i] = (uint8_t)(255 - i);
    static char big[400];
    static uint8_t back[300];
    size_t en = encode(bin, 256, big);
    long dn = decode(big, back);
    printf("binary %u chars, decoded %ld, same %d\n", (unsigned)en, dn, dn == 256 && !memcmp(bin, back, 256));
    printf("head %.24s tail %s\n", big, big + en - 8);
    printf("invalid %ld %ld\n", decode("abc", dec), decode("ab!d", dec));
    return 0;
}
