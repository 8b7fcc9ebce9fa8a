/* Command registry, another task: lookup and help work, a call is refused (commands are
 * owner-only: EPERM). */
#include <stdint.h>
#include <stdio.h>
#include "hsx.h"
#include "hsx_command.h"

int main(void)
{
    hsx_sleep_ms(5);
    uint16_t oid = 0;
    int st = hsx_cmd_lookup(2, 1, &oid);
    char help[32];
    int hs = hsx_cmd_help(oid, help, sizeof help, 0);
    printf("lookup %d oid %04x, help %d \"%s\"\n", st, oid, hs, help);
    printf("call from another task: %d (EPERM=%d)\n", hsx_cmd_call(oid, "1234", 0),
           HSX_CMD_STATUS_EPERM);
    return 0;
}
