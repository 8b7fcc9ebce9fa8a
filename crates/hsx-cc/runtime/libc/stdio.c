/* Minimal stdio over the FS SVCs: FS_WRITE (4_02) for output, FS_READ (4_01)
 * for input. Only the three standard streams exist (no fopen).
 *
 * Output is unbuffered per call: each call hands its bytes to FS_WRITE
 * before returning, so stdout/stderr interleave exactly as written and
 * nothing is lost when main returns without exit() (wasi-libc's crt1 skips
 * exit() for status 0). One call produces as few writes as possible: bytes
 * are gathered in chunks of HSX_STDIO_CHUNK, sized so that one chunk is one
 * mailbox message fitting the executive's default 64-byte stdio mailbox
 * (message cost = len + 8). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../include/hsx.h"
#include "rt.h"

#ifndef HSX_STDIO_CHUNK
#define HSX_STDIO_CHUNK 56
#endif

struct _IO_FILE {
    int fd;
    int err, eof;
    int unget;              /* pushed-back char or EOF */
    unsigned rpos, rlen;    /* read buffer state (stdin only) */
    unsigned char *rbuf;
};

static unsigned char inbuf[64];
/* The streams keep wasi-libc's object names: some of its objects (strtod, ...) refer to
 * __stderr_FILE, and a second definition would pull in its whole stdio. */
FILE __stdin_FILE = {0, 0, 0, EOF, 0, 0, inbuf};
FILE __stdout_FILE = {1, 0, 0, EOF, 0, 0, 0};
FILE __stderr_FILE = {2, 0, 0, EOF, 0, 0, 0};
FILE *const stdin = &__stdin_FILE;
FILE *const stdout = &__stdout_FILE;
FILE *const stderr = &__stderr_FILE;

static size_t wr(FILE *f, const void *p, size_t n)
{
    const char *c = p;
    size_t done = 0;
    while (done < n) {
        size_t k = n - done > HSX_STDIO_CHUNK ? HSX_STDIO_CHUNK : n - done;
        int r = __hsx_svc_4_02(f->fd, c + done, (unsigned)k);
        if (r <= 0) { /* mailbox full or bad fd: report, do not spin */
            f->err = 1;
            break;
        }
        done += (size_t)r;
    }
    return done;
}

static void sink_flush(struct hsx_sink *s)
{
    wr(s->file, s->buf, s->pos);
    s->pos = 0;
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
    char chunk[HSX_STDIO_CHUNK];
    struct hsx_sink s = {chunk, sizeof chunk, 0, 0, sink_flush, f};
    int r = __hsx_vformat(&s, fmt, ap);
    if (s.pos)
        sink_flush(&s);
    return f->err ? -1 : r;
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

int vprintf(const char *restrict fmt, va_list ap) { return vfprintf(stdout, fmt, ap); }

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}

int vdprintf(int fd, const char *restrict fmt, va_list ap)
{
    FILE f = {fd, 0, 0, EOF, 0, 0, 0};
    return vfprintf(&f, fmt, ap);
}

int dprintf(int fd, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vdprintf(fd, fmt, ap);
    va_end(ap);
    return r;
}

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f)
{
    if (!size || !n)
        return 0;
    return wr(f, p, size * n) / size;
}

int fputs(const char *restrict s, FILE *restrict f)
{
    size_t n = strlen(s);
    return wr(f, s, n) == n ? 0 : EOF;
}

int puts(const char *s)
{
    /* text and newline in one write where they fit one chunk */
    char chunk[HSX_STDIO_CHUNK];
    size_t n = strlen(s);
    if (n < sizeof chunk) {
        memcpy(chunk, s, n);
        chunk[n] = '\n';
        return wr(stdout, chunk, n + 1) == n + 1 ? 0 : EOF;
    }
    if (wr(stdout, s, n) != n || wr(stdout, "\n", 1) != 1)
        return EOF;
    return 0;
}

int fputc(int c, FILE *f)
{
    unsigned char b = (unsigned char)c;
    return wr(f, &b, 1) == 1 ? b : EOF;
}

int putc(int c, FILE *f) { return fputc(c, f); }
int putchar(int c) { return fputc(c, stdout); }

int fflush(FILE *f)
{
    (void)f; /* nothing is buffered */
    return 0;
}

int fgetc(FILE *f)
{
    if (f->unget != EOF) {
        int c = f->unget;
        f->unget = EOF;
        return c;
    }
    if (!f->rbuf || f->eof)
        return EOF;
    if (f->rpos == f->rlen) {
        int r = __hsx_svc_4_01(f->fd, f->rbuf, sizeof inbuf);
        if (r <= 0) {
            f->eof = 1;
            return EOF;
        }
        f->rpos = 0;
        f->rlen = (unsigned)r;
    }
    return f->rbuf[f->rpos++];
}

int getc(FILE *f) { return fgetc(f); }
int getchar(void) { return fgetc(stdin); }

int ungetc(int c, FILE *f)
{
    if (c == EOF || f->unget != EOF)
        return EOF;
    f->unget = (unsigned char)c;
    f->eof = 0;
    return f->unget;
}

char *fgets(char *restrict s, int n, FILE *restrict f)
{
    int i = 0;
    if (n <= 0)
        return 0;
    while (i < n - 1) {
        int c = fgetc(f);
        if (c == EOF)
            break;
        s[i++] = (char)c;
        if (c == '\n')
            break;
    }
    if (!i)
        return 0;
    s[i] = 0;
    return s;
}

int feof(FILE *f) { return f->eof; }
int ferror(FILE *f) { return f->err; }
void clearerr(FILE *f) { f->err = f->eof = 0; }
int fileno(FILE *f) { return f->fd; }

void perror(const char *msg)
{
    const char *e = strerror(errno);
    if (msg && *msg)
        fprintf(stderr, "%s: %s\n", msg, e);
    else
        fprintf(stderr, "%s\n", e);
}
