/* Server task: binds app:req, answers every request on app:rsp with the text upper-cased,
 * until "quit". Then shows that an empty mailbox polls as NO_DATA and times out as TIMEOUT.
 * Uses the raw hsx.h API. */
#include <stdio.h>
#include "hsx.h"
#include "hsx_mailbox.h"

int main(void)
{
    int desc, req, rsp;
    int st = hsx_mbx_bind("app:req", 128, HSX_MBX_MODE_RDWR, &desc);
    printf("bind app:req: status %d\n", st);
    if (hsx_mbx_open("app:req", 0, &req) || hsx_mbx_open("app:rsp", 0, &rsp))
        return 1;
    for (;;) {
        char buf[64];
        hsx_mbx_info_t info;
        st = hsx_mbx_recv(req, buf, sizeof buf - 1, 1000, &info);
        if (st) {
            printf("recv failed: %d\n", st);
            return 2;
        }
        buf[info.length] = 0;
        printf("request \"%s\" (%d bytes, channel %u)\n", buf, (int)info.length,
               (unsigned)info.channel);
        if (info.channel == 9)
            break;
        for (int i = 0; i < info.length; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] = (char)(buf[i] - 'a' + 'A');
        unsigned sent = 0;
        st = hsx_mbx_send(rsp, buf, (unsigned)info.length, 0, info.channel + 100, &sent);
        printf("reply sent: status %d, %u bytes\n", st, sent);
    }
    char b[8];
    hsx_mbx_info_t info;
    st = hsx_mbx_recv(req, b, sizeof b, HSX_MBX_TIMEOUT_POLL, &info);
    printf("poll on empty: status %d (NO_DATA=%d), info.status %d\n", st, HSX_MBX_STATUS_NO_DATA,
           (int)info.status);
    st = hsx_mbx_recv(req, b, sizeof b, 25, &info);
    printf("wait 25 ms: status %d (TIMEOUT=%d)\n", st, HSX_MBX_STATUS_TIMEOUT);
    printf("close: %d, close again: %d\n", hsx_mbx_close(req), hsx_mbx_close(req));
    return 5;
}
