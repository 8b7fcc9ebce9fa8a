/* See writer.c: a value registered with persist key 0x42 loads what the writer stored. A value
 * without a PERSIST descriptor starts at 0. */
#include <stdint.h>
#include <stdio.h>
#include "hsx.h"
#include "hsx_value.h"

static hsx_persist_desc_t persist = {HSX_VAL_DESC_PERSIST, 0, HSX_VAL_DESC_INVALID, 0x42, 0};

int main(void)
{
    hsx_sleep_ms(10);
    uint16_t oid = 0, plain = 0;
    int st = hsx_val_register(3, 2, HSX_VAL_FLAG_PERSIST, &persist, &oid);
    printf("reader: register %d oid %04x, loaded %04x\n", st, oid, (unsigned)hsx_val_get_raw(oid));
    hsx_val_register(3, 3, 0, 0, &plain);
    printf("reader: plain value %04x; persist(load+save) %d\n", (unsigned)hsx_val_get_raw(plain),
           hsx_val_persist(plain, HSX_VAL_PERSIST_SAVE));
    return 4;
}
