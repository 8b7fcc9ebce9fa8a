/* hsx_value.h - value registry constants and layouts (SVC module 0x07),
 * same names and values as the reference's include/hsx_value.h. Calls are
 * in hsx.h (hsx_val_register, hsx_val_get_raw, hsx_val_set, ...).
 * OID = group_id << 8 | value_id; values are IEEE half-float bits. */
#ifndef HSX_VALUE_H
#define HSX_VALUE_H

#include <stdint.h>

#define HSX_VAL_MODULE_ID 0x07

#define HSX_VAL_FN_REGISTER 0x00
#define HSX_VAL_FN_LOOKUP 0x01
#define HSX_VAL_FN_GET 0x02
#define HSX_VAL_FN_SET 0x03
#define HSX_VAL_FN_LIST 0x04
#define HSX_VAL_FN_SUB 0x05
#define HSX_VAL_FN_PERSIST 0x06

#define HSX_VAL_STATUS_OK 0x0000
#define HSX_VAL_STATUS_ENOENT 0x0001
#define HSX_VAL_STATUS_EPERM 0x0002
#define HSX_VAL_STATUS_ENOSPC 0x0003
#define HSX_VAL_STATUS_EINVAL 0x0004
#define HSX_VAL_STATUS_EEXIST 0x0005
#define HSX_VAL_STATUS_EBUSY 0x0006

#define HSX_VAL_FLAG_RO 0x01
#define HSX_VAL_FLAG_PERSIST 0x02
#define HSX_VAL_FLAG_STICKY 0x04
#define HSX_VAL_FLAG_PIN 0x08
#define HSX_VAL_FLAG_BOOL 0x10

#define HSX_VAL_AUTH_PUBLIC 0x00
#define HSX_VAL_AUTH_USER 0x01
#define HSX_VAL_AUTH_ADMIN 0x02
#define HSX_VAL_AUTH_FACTORY 0x03

#define HSX_VAL_PERSIST_VOLATILE 0x00
#define HSX_VAL_PERSIST_LOAD 0x01
#define HSX_VAL_PERSIST_SAVE 0x02

#define HSX_VAL_DESC_GROUP 0x01
#define HSX_VAL_DESC_NAME 0x02
#define HSX_VAL_DESC_UNIT 0x03
#define HSX_VAL_DESC_RANGE 0x04
#define HSX_VAL_DESC_PERSIST 0x05

#define HSX_VAL_GROUP_ALL 0xFF

#define HSX_VAL_MAX_VALUES 256
#define HSX_VAL_STRING_TABLE_SIZE 4096

#define HSX_VAL_DESC_INVALID 0xFFFF

struct hsx_val_descriptor;

/* Packed registry/descriptor layouts (16-bit fields little-endian in VM
 * memory; `next`/name fields are 16-bit offsets or addresses). */
#pragma pack(push, 1)
typedef struct hsx_val_entry {
    uint8_t group_id;
    uint8_t value_id;
    uint8_t flags;
    uint8_t auth_level;
    uint16_t owner_pid;
    uint16_t last_f16;
    uint16_t desc_head;
} hsx_val_entry_t;

typedef struct hsx_val_descriptor {
    uint8_t desc_type;
    uint8_t reserved;
    uint16_t next;
} hsx_val_descriptor_t;

typedef struct hsx_group_desc {
    uint8_t desc_type; /* HSX_VAL_DESC_GROUP */
    uint8_t group_id;
    uint16_t next;
    uint16_t name_offset;
} hsx_group_desc_t;

typedef struct hsx_name_desc {
    uint8_t desc_type; /* HSX_VAL_DESC_NAME */
    uint8_t reserved;
    uint16_t next;
    uint16_t name_offset;
} hsx_name_desc_t;

typedef struct hsx_unit_desc {
    uint8_t desc_type; /* HSX_VAL_DESC_UNIT */
    uint8_t reserved;
    uint16_t next;
    uint32_t unit_code; /* up to 4 ASCII chars, little-endian */
    uint16_t epsilon_f16;
    uint16_t rate_ms;
} hsx_unit_desc_t;

typedef struct hsx_range_desc {
    uint8_t desc_type; /* HSX_VAL_DESC_RANGE */
    uint8_t reserved;
    uint16_t next;
    uint16_t min_f16;
    uint16_t max_f16;
} hsx_range_desc_t;

typedef struct hsx_persist_desc {
    uint8_t desc_type; /* HSX_VAL_DESC_PERSIST */
    uint8_t reserved;
    uint16_t next;
    uint16_t persist_key;
    uint16_t debounce_ms;
} hsx_persist_desc_t;
#pragma pack(pop)

_Static_assert(sizeof(hsx_val_entry_t) == 10, "hsx_val_entry_t is 10 packed bytes");

#endif /* HSX_VALUE_H */
