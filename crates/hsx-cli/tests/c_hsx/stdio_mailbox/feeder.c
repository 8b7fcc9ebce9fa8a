/* Feeds three lines into task 1's stdin mailbox, 2 ms apart. */
#include <string.h>
#include "hsx.h"

int main(void)
{
    static const char *lines[] = {"first line", "second", "third"};
    int h;
    if (hsx_mbx_open("svc:stdio.in@1", 0, &h))
        return 1;
    for (int i = 0; i < 3; i++) {
        hsx_sleep_ms(2);
        if (hsx_mbx_send(h, lines[i], (unsigned)strlen(lines[i]), 0, 0, 0))
            return 2;
    }
    return 0;
}
