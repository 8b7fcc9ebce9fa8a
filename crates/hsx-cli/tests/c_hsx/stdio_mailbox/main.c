/* The reference's mailbox stdio helpers (hsx_stdio.h, hsx_mailbox.h) mixed with printf:
 * writes to stdout and stderr in call order, a poll and a timeout on an empty stdin, a
 * blocking read, and stdin lines fed by another task (feeder.c sends to svc:stdio.in@1). */
#include <stdio.h>
#include <string.h>
#include "hsx_mailbox.h"
#include "hsx_stdio.h"

int main(void)
{
    printf("puts: %d\n", hsx_stdio_puts("hello from hsx_stdio_puts"));
    hsx_stdio_write("partial write, cut here", 13, 0, 0);
    hsx_stdio_write("\n", 1, HSX_MBX_FLAG_STDOUT, 7);
    printf("printf after the helpers\n");
    hsx_stdio_puts_err("an error line");
    fputs("fputs to stderr\n", stderr);
    hsx_stdio_write_err("raw err\n", 8, 0, 0);

    char buf[32];
    printf("poll empty stdin: %d (-NO_DATA)\n", hsx_stdio_read_basic(buf, sizeof buf, 0));
    int len = -1;
    int st = hsx_stdio_read(buf, sizeof buf - 1, 50, &len);
    buf[len > 0 ? len : 0] = 0;
    printf("hsx_stdio_read: %d, %d bytes \"%s\"\n", st, len, buf);
    int n = hsx_stdio_read_basic(buf, sizeof buf - 1, 1000);
    buf[n > 0 ? n : 0] = 0;
    printf("read_basic: %d \"%s\"\n", n, buf);
    int in = hsx_mailbox_open_stdin();
    n = hsx_mailbox_recv_basic(in, buf, 4);
    buf[n > 0 ? n : 0] = 0;
    printf("recv_basic (4 of 5 bytes): %d \"%s\"\n", n, buf);
    printf("close stdin handle: %d\n", hsx_mailbox_close(in));
    printf("read_basic 20 ms: %d (-TIMEOUT)\n", hsx_stdio_read_basic(buf, sizeof buf, 20));
    int out = hsx_mailbox_open_stdout();
    const char line[] = "sent on my own stdout handle\n";
    printf("send_basic: %d\n", hsx_mailbox_send_basic(out, line, (int)strlen(line)));
    return 0;
}
