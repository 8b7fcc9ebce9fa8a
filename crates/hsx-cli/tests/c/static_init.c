/* Static and global initialisers: scalar, arrays (partial, designated), structs, string
 * tables, pointers into other globals, const lookup tables, zero-initialised bss. */
#include <stdint.h>
#include <stdio.h>

int g_int = 42;
int64_t g_i64 = -1234567890123LL;
double g_dbl = 2.5;
static int partial[8] = {1, 2, 3};
static int designated[10] = {[2] = 20, [7] = 70, [9] = 90};
static char greeting[] = "hi there";
static const char *const colors[] = {"red", "green", "blue", "", "magenta"};
struct cfg { const char *name; int level; uint8_t bytes[4]; double scale; };
static const struct cfg configs[] = {
    {"low", 1, {1, 2, 3, 4}, 0.5},
    {"mid", 5, {0xAA}, 1.25},
    {.name = "high", .scale = -3.0, .level = 9},
};
static int *const ptr_to_global = &designated[7];
static const char *const str_ptr = greeting + 3;
static int bss_array[200];
static struct cfg bss_cfg;
static const uint16_t crc_like[16] = {0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
                                      0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef};
static const int matrix[3][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};

int main(void) {
    printf("%d %lld %.2f\n", g_int, (long long)g_i64, g_dbl);
    for (int i = 0; i < 8; i++) printf("%d ", partial[i]);
    printf("\n");
    for (int i = 0; i < 10; i++) printf("%d ", designated[i]);
    printf("\n%s|%s|%d\n", greeting, str_ptr, *ptr_to_global);
    for (unsigned i = 0; i < sizeof colors / sizeof colors[0]; i++) printf("[%s]", colors[i]);
    printf("\n");
    for (unsigned i = 0; i < 3; i++)
        printf("%s %d %u,%u,%u,%u %.2f\n", configs[i].name, configs[i].level, configs[i].bytes[0], configs[i].bytes[1],
               configs[i].bytes[2], configs[i].bytes[3], configs[i].scale);
    int nz = 0;
    for (int i = 0; i < 200; i++) nz += bss_array[i] != 0;
    printf("bss nonzero %d cfg %d %d %.1f\n", nz, bss_cfg.name == 0, bss_cfg.level, bss_cfg.scale);
    unsigned x = 0;
    for (int i = 0; i < 16; i++) x = (x << 1) ^ crc_like[i];
    printf("table %u trace %d\n", x, matrix[0][0] + matrix[1][1] + matrix[2][2]);
    g_int++;
    partial[7] = 8;
    greeting[0] = 'H';
    printf("mutated %d %d %s\n", g_int, partial[7], greeting);
    return 0;
}
