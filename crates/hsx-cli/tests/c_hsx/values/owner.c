/* Value registry, owner side: register with a descriptor chain (name + unit), duplicate and
 * read-only errors, lookup, set/get of f16 values, list, subscribe to changes on a mailbox,
 * and a change made by another task (peer.c) arriving as a notification. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hsx.h"
#include "hsx_value.h"
#include "hsx_mailbox.h"

static uint16_t f16(float f)
{
    _Float16 h = (_Float16)f;
    uint16_t b;
    memcpy(&b, &h, 2);
    return b;
}

static double from_f16(uint32_t bits)
{
    uint16_t b = (uint16_t)bits;
    _Float16 h;
    memcpy(&h, &b, 2);
    return (double)h;
}

static const char kName[] = "temperature";
static hsx_name_desc_t name_desc = {HSX_VAL_DESC_NAME, 0, HSX_VAL_DESC_INVALID, 0};
static hsx_unit_desc_t unit_desc = {HSX_VAL_DESC_UNIT, 0, 0, 'd' | 'e' << 8 | 'g' << 16, 0, 0};

static void drain(int h, const char *when)
{
    uint8_t frame[16];
    hsx_mbx_info_t info;
    while (hsx_mbx_recv(h, frame, sizeof frame, HSX_MBX_TIMEOUT_POLL, &info) == 0) {
        unsigned oid = frame[0] | frame[1] << 8;
        if (info.length == 6) {
            printf("%s: oid %04x %g -> %g\n", when, oid, from_f16(frame[2] | frame[3] << 8),
                   from_f16(frame[4] | frame[5] << 8));
        } else {
            printf("%s: %d-byte frame, oid %04x\n", when, (int)info.length, oid);
        }
    }
}

int main(void)
{
    name_desc.name_offset = (uint16_t)(uintptr_t)kName;
    unit_desc.next = (uint16_t)(uintptr_t)&name_desc;
    uint16_t oid = 0, ro = 0, found = 0;
    int st = hsx_val_register(1, 1, 0, &unit_desc, &oid);
    printf("register 1:1: status %d oid %04x\n", st, oid);
    printf("register 1:1 again: status %d (EEXIST=%d)\n", hsx_val_register(1, 1, 0, 0, 0),
           HSX_VAL_STATUS_EEXIST);
    st = hsx_val_register(1, 2, HSX_VAL_FLAG_RO, 0, &ro);
    printf("register 1:2 read-only: status %d oid %04x\n", st, ro);
    printf("set read-only: status %d (EPERM=%d)\n", hsx_val_set(ro, f16(1.0f)),
           HSX_VAL_STATUS_EPERM);
    st = hsx_val_lookup(1, 1, &found);
    printf("lookup 1:1: status %d oid %04x; lookup 9:9: status %d\n", st, found,
           hsx_val_lookup(9, 9, 0));

    printf("set 21.5: status %d\n", hsx_val_set(oid, f16(21.5f)));
    uint32_t raw = hsx_val_get_raw(oid);
    printf("get: bits %04x = %g\n", (unsigned)raw, from_f16(raw));

    uint16_t oids[4] = {0};
    unsigned n = 0;
    st = hsx_val_list(1, oids, 4, &n);
    printf("list group 1: status %d, %u values: %04x %04x\n", st, n, oids[0], oids[1]);

    int sub = -1;
    st = hsx_val_sub(oid, "app:vals", &sub);
    printf("subscribe: status %d, handle %s\n", st, sub > 0 ? "ok" : "bad");
    hsx_val_set(oid, f16(22.0f));
    drain(sub, "own change");

    /* let the peer change the value, then see its notification */
    int desc, sync;
    hsx_mbx_bind("app:sync", 0, HSX_MBX_MODE_RDWR, &desc);
    hsx_mbx_open("app:sync", 0, &sync);
    char msg[8] = {0};
    hsx_mbx_info_t info;
    st = hsx_mbx_recv(sync, msg, sizeof msg - 1, 1000, &info);
    printf("peer says \"%s\" (status %d)\n", msg, st);
    drain(sub, "peer change");
    printf("get: %g\n", from_f16(hsx_val_get_raw(oid)));
    printf("persist mode 7: status %d (EINVAL=%d); mode 0: %d\n", hsx_val_persist(oid, 7),
           HSX_VAL_STATUS_EINVAL, hsx_val_persist(oid, HSX_VAL_PERSIST_VOLATILE));
    return 0;
}
