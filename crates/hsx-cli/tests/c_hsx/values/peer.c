/* Value registry, another task: finds the owner's value by group/id, reads it, changes it
 * (allowed: auth level public), is refused on the read-only one and on persistence (owner
 * only), then tells the owner on app:sync. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hsx.h"
#include "hsx_value.h"

int main(void)
{
    hsx_sleep_ms(5);
    uint16_t oid = 0, ro = 0;
    int st = hsx_val_lookup(1, 1, &oid);
    hsx_val_lookup(1, 2, &ro);
    uint32_t raw = hsx_val_get_raw(oid);
    _Float16 h;
    uint16_t b = (uint16_t)raw;
    memcpy(&h, &b, 2);
    printf("lookup: status %d oid %04x, value %g\n", st, oid, (double)h);
    h = (_Float16)30.0f;
    memcpy(&b, &h, 2);
    printf("set 30: status %d; set read-only: %d; persist: %d\n", hsx_val_set(oid, b),
           hsx_val_set(ro, b), hsx_val_persist(oid, HSX_VAL_PERSIST_SAVE));
    int h2;
    hsx_mbx_open("app:sync", 0, &h2);
    return hsx_mbx_send(h2, "done", 4, 0, 0, 0);
}
