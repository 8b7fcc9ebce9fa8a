/* hsx_stdio.h - mailbox stdio helpers, source compatible with the
 * reference's examples/lib/hsx_stdio.h. Each call opens the task's
 * svc:stdio.{out,err,in} mailbox, does one send/receive and closes it again,
 * like the reference library. Implemented in libc/hsx_compat.c. */
#ifndef HSX_STDIO_API_H
#define HSX_STDIO_API_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Send length bytes to stdout/stderr with the given message flags (the
 * channel argument is ignored: the reference always sends on channel 0).
 * Return the mailbox status: 0 on success. */
int hsx_stdio_write(const void* data, int length, unsigned flags, unsigned channel);
int hsx_stdio_write_err(const void* data, int length, unsigned flags, unsigned channel);
/* text, then "\n" as a second message; 0 on success, else a status. */
int hsx_stdio_puts(const char* text);
int hsx_stdio_puts_err(const char* text);
/* One receive from stdin with timeout (ms, 0 polls, 0xFFFF forever):
 * bytes received, or -status (e.g. -3 no data, -7 timeout). */
int hsx_stdio_read_basic(void* buffer, int max_length, unsigned timeout);
/* Waits until a message arrives (the reference ignores timeout and polls);
 * 0 and *out_length = bytes, or a status. */
int hsx_stdio_read(void* buffer, int max_length, unsigned timeout, int* out_length);

#ifdef __cplusplus
}
#endif

#endif /* HSX_STDIO_API_H */
