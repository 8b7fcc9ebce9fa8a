/* Internal declarations shared by the compact HSX libc (not for programs).
 *
 * HSX_NAME(x) lets the host test harness compile the pure parts (formatter,
 * malloc, math) under prefixed names so they can be compared against glibc in
 * the same process without symbol clashes. In the real (wasm) build the names
 * are the standard ones and override wasi-libc's. */
#ifndef HSX_RT_H
#define HSX_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HSX_HOST_TEST
#define HSX_NAME(x) hsx_test_##x
#else
#define HSX_NAME(x) x
#endif

/* Output sink of the formatter. With flush == NULL it is a bounded string
 * (snprintf: keeps room for the NUL); otherwise buf is a chunk that is handed
 * to flush() whenever it fills up and once at the end. */
struct hsx_sink {
    char *buf;
    size_t cap;
    size_t pos;
    size_t total; /* characters produced so far (printf's return value) */
    void (*flush)(struct hsx_sink *s);
    void *file;
};

int __hsx_vformat(struct hsx_sink *s, const char *fmt, va_list ap);

#endif
