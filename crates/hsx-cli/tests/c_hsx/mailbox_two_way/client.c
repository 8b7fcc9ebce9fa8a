/* Client task: sends requests to app:req and waits (blocking receive, no timeout) for each
 * reply on app:rsp. Uses the reference's helper API (hsx_mailbox_*). */
#include <stdio.h>
#include <string.h>
#include "hsx.h"
#include "hsx_mailbox.h"

int main(void)
{
    int req = hsx_mailbox_open("app:req", 0);
    int rsp = hsx_mailbox_open("app:rsp", 0);
    printf("handles: req %s, rsp %s\n", req > 0 ? "ok" : "bad", rsp > 0 ? "ok" : "bad");
    static const char *words[] = {"hello", "mailbox world", "x"};
    for (int i = 0; i < 3; i++) {
        int n = hsx_mailbox_send(req, words[i], (int)strlen(words[i]), 0, (unsigned)i);
        char buf[32];
        hsx_mailbox_recv_info info;
        int rc = hsx_mailbox_recv(rsp, buf, sizeof buf - 1, HSX_MBX_TIMEOUT_INFINITE, &info);
        buf[rc == 0 ? info.length : 0] = 0;
        printf("sent %d, reply rc %d: \"%s\" len %d channel %u from pid %u\n", n, rc, buf,
               info.length, info.channel, info.src_pid);
    }
    /* a reply truncated to the buffer: send one more, receive 3 bytes of it */
    hsx_mailbox_send(req, "truncate me", 11, 0, 3);
    char small[4] = {0};
    int got = hsx_mailbox_recv_basic(rsp, small, 3);
    printf("truncated: %d \"%s\"\n", got, small);
    hsx_mbx_peek_t pk;
    hsx_mbx_peek(rsp, &pk);
    printf("peek rsp: depth %u\n", (unsigned)pk.depth);
    printf("send_basic quit: %d\n", hsx_mailbox_send(req, "quit", 4, 0, 9));
    printf("bad handle: send %d recv %d close %d\n", hsx_mailbox_send(99, "a", 1, 0, 0),
           hsx_mailbox_recv(99, small, 1, 0, 0), hsx_mailbox_close(99));
    return 0;
}
