/* The reference's mailbox and stdio helper libraries (hsx_mailbox.h,
 * hsx_stdio.h), with the same return conventions, built on the SVC imports
 * of hsx.h instead of MVASM. */
#include <string.h>

#include "../include/hsx.h"
#include "../include/hsx_mailbox.h"
#include "../include/hsx_stdio.h"

int hsx_mailbox_open(const char *target, unsigned flags)
{
    int h, st = hsx_mbx_open(target, flags, &h);
    return st ? -st : h;
}

int hsx_mailbox_bind(const char *target, unsigned capacity, unsigned mode)
{
    int d, st = hsx_mbx_bind(target, capacity, mode, &d);
    return st ? -st : d;
}

int hsx_mailbox_close(int handle)
{
    return -hsx_mbx_close(handle);
}

int hsx_mailbox_send(int handle, const void *data, int length, unsigned flags, unsigned channel)
{
    unsigned n;
    int st = hsx_mbx_send(handle, data, (unsigned)length, flags, channel, &n);
    return st ? -st : (int)n;
}

int hsx_mailbox_recv(int handle, void *buffer, int max_len, unsigned timeout,
                     hsx_mailbox_recv_info *out)
{
    hsx_mbx_info_t i;
    int st = hsx_mbx_recv(handle, buffer, (unsigned)max_len, timeout, &i);
    if (out) {
        out->status = i.status;
        out->length = i.length;
        out->flags = i.flags;
        out->channel = i.channel;
        out->src_pid = i.src_pid;
    }
    return -st;
}

int hsx_mailbox_open_stdout(void) { return hsx_mailbox_open(HSX_MBX_STDIO_OUT, 0); }
int hsx_mailbox_open_stdin(void) { return hsx_mailbox_open(HSX_MBX_STDIO_IN, 0); }
int hsx_mailbox_open_app_demo(void) { return hsx_mailbox_open("app:demo", 0); }

int hsx_mailbox_send_basic(int handle, const void *data, int length)
{
    return hsx_mailbox_send(handle, data, length, 0, 0);
}

int hsx_mailbox_recv_basic(int handle, void *buffer, int max_len)
{
    hsx_mbx_info_t i;
    int st = hsx_mbx_recv(handle, buffer, (unsigned)max_len, HSX_MBX_TIMEOUT_INFINITE, &i);
    return st ? -st : i.length;
}

/* open target, send once, close; the status of the first failing step */
static int stdio_send(const char *target, const void *data, int length, unsigned flags)
{
    int h, st = hsx_mbx_open(target, 0, &h);
    if (st)
        return st;
    st = hsx_mbx_send(h, data, (unsigned)length, flags, 0, 0);
    hsx_mbx_close(h);
    return st;
}

int hsx_stdio_write(const void *data, int length, unsigned flags, unsigned channel)
{
    (void)channel;
    return stdio_send(HSX_MBX_STDIO_OUT, data, length, flags);
}

int hsx_stdio_write_err(const void *data, int length, unsigned flags, unsigned channel)
{
    (void)channel;
    return stdio_send(HSX_MBX_STDIO_ERR, data, length, flags);
}

static int stdio_puts(const char *target, const char *text)
{
    int st = stdio_send(target, text, (int)strlen(text), 0);
    return st ? st : stdio_send(target, "\n", 1, 0);
}

int hsx_stdio_puts(const char *text) { return stdio_puts(HSX_MBX_STDIO_OUT, text); }
int hsx_stdio_puts_err(const char *text) { return stdio_puts(HSX_MBX_STDIO_ERR, text); }

int hsx_stdio_read_basic(void *buffer, int max_length, unsigned timeout)
{
    int h, st = hsx_mbx_open(HSX_MBX_STDIO_IN, 0, &h);
    if (st)
        return -st;
    hsx_mbx_info_t i;
    st = hsx_mbx_recv(h, buffer, (unsigned)max_length, timeout, &i);
    int cst = hsx_mbx_close(h);
    if (st)
        return -st;
    return cst ? -cst : i.length;
}

int hsx_stdio_read(void *buffer, int max_length, unsigned timeout, int *out_length)
{
    (void)timeout; /* the reference ignores it and waits for data */
    int h, st = hsx_mbx_open(HSX_MBX_STDIO_IN, 0, &h);
    if (st)
        return st;
    hsx_mbx_info_t i;
    do
        st = hsx_mbx_recv(h, buffer, (unsigned)max_length, HSX_MBX_TIMEOUT_INFINITE, &i);
    while (st == HSX_MBX_STATUS_NO_DATA);
    hsx_mbx_close(h);
    if (!st && out_length)
        *out_length = i.length;
    return st;
}
