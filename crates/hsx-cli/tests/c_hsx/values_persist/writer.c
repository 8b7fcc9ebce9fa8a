/* Persistence within one `hsx run`: this task registers value 3:1 with the PERSIST flag and
 * a PERSIST descriptor (key 0x42, no debounce), sets it to 2.5 and exits. reader.c then
 * registers another value with the same key and starts with the stored 2.5. */
#include <stdint.h>
#include <stdio.h>
#include "hsx.h"
#include "hsx_value.h"

static hsx_persist_desc_t persist = {HSX_VAL_DESC_PERSIST, 0, HSX_VAL_DESC_INVALID, 0x42, 0};

int main(void)
{
    uint16_t oid = 0;
    int st = hsx_val_register(3, 1, HSX_VAL_FLAG_PERSIST, &persist, &oid);
    printf("writer: register %d oid %04x, initial %04x\n", st, oid,
           (unsigned)hsx_val_get_raw(oid));
    printf("writer: set 2.5 (0x4100): %d\n", hsx_val_set(oid, 0x4100));
    return 0;
}
