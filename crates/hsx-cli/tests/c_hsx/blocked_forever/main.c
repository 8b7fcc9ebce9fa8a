/* A receive without timeout on a mailbox nobody writes: the task waits forever, `hsx run`
 * notices that nothing can wake it and exits with status 75 instead of hanging. */
#include <stdio.h>
#include "hsx.h"
#include "hsx_mailbox.h"

int main(void)
{
    int h;
    hsx_mbx_open("app:nobody", 0, &h);
    printf("waiting forever\n");
    char c;
    hsx_mbx_recv(h, &c, 1, HSX_MBX_TIMEOUT_INFINITE, 0);
    printf("not reached\n");
    return 0;
}
