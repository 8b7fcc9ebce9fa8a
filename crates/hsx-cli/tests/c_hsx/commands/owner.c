/* Command registry, owner side: register with a name/help descriptor, duplicate, lookup,
 * help text (also clipped to a small buffer), a synchronous call (a guest command has no
 * host handler, so it succeeds with no result), an asynchronous call whose completion frame
 * <u16 oid><u16 status> arrives on a reply mailbox, and the error statuses. */
#include <stdint.h>
#include <stdio.h>
#include "hsx.h"
#include "hsx_command.h"
#include "hsx_mailbox.h"

static const char kName[] = "reset";
static const char kHelp[] = "reset the counters";
static hsx_cmd_name_desc_t desc = {HSX_CMD_DESC_NAME, 0, HSX_CMD_DESC_INVALID, 0, 0};

int main(void)
{
    desc.name_offset = (uint16_t)(uintptr_t)kName;
    desc.help_offset = (uint16_t)(uintptr_t)kHelp;
    uint16_t oid = 0, async_oid = 0, found = 0;
    int st = hsx_cmd_register(2, 1, 0, &desc, &oid);
    printf("register 2:1: status %d oid %04x\n", st, oid);
    printf("again: %d (EEXIST=%d)\n", hsx_cmd_register(2, 1, 0, 0, 0), HSX_CMD_STATUS_EEXIST);
    st = hsx_cmd_register(2, 2, HSX_CMD_FLAG_ASYNC, 0, &async_oid);
    printf("register 2:2 async: status %d oid %04x\n", st, async_oid);
    st = hsx_cmd_lookup(2, 1, &found);
    printf("lookup 2:1: %d oid %04x; lookup 7:7: %d (ENOENT=%d)\n", st, found,
           hsx_cmd_lookup(7, 7, 0), HSX_CMD_STATUS_ENOENT);

    char help[64];
    unsigned len = 0;
    st = hsx_cmd_help(oid, help, sizeof help, &len);
    printf("help: %d \"%s\" (%u bytes)\n", st, help, len);
    char small[6];
    st = hsx_cmd_help(oid, small, sizeof small, &len);
    printf("help in 6 bytes: %d \"%s\" (%u)\n", st, small, len);
    printf("help of 2:2 (no name descriptor): %d\n", hsx_cmd_help(async_oid, help, 8, 0));

    printf("call: status %d\n", hsx_cmd_call(oid, 0, 0));
    printf("call unknown: %d\n", hsx_cmd_call(0x0909, 0, 0));
    printf("call_async of a sync command: %d (ENOASYNC=%d)\n",
           hsx_cmd_call_async(oid, 0, "app:done", 0), HSX_CMD_STATUS_ENOASYNC);
    int reply = -1;
    st = hsx_cmd_call_async(async_oid, 0, "app:done", &reply);
    printf("call_async: status %d, reply handle %s\n", st, reply > 0 ? "ok" : "bad");
    uint8_t frame[8];
    hsx_mbx_info_t info;
    st = hsx_mbx_recv(reply, frame, sizeof frame, 100, &info);
    printf("completion: status %d, %d bytes: oid %04x status %u\n", st, (int)info.length,
           frame[0] | frame[1] << 8, frame[2] | frame[3] << 8);

    /* the other task (caller.c) may look the command up but not call it */
    hsx_sleep_ms(20);
    return 6;
}
