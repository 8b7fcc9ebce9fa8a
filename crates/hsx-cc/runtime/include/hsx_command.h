/* hsx_command.h - command registry constants and layouts (SVC module 0x08),
 * same names and values as the reference's include/hsx_command.h. Calls are
 * in hsx.h (hsx_cmd_register, hsx_cmd_call, ...). */
#ifndef HSX_COMMAND_H
#define HSX_COMMAND_H

#include <stdint.h>

#define HSX_CMD_MODULE_ID 0x08

#define HSX_CMD_FN_REGISTER 0x00
#define HSX_CMD_FN_LOOKUP 0x01
#define HSX_CMD_FN_CALL 0x02
#define HSX_CMD_FN_CALL_ASYNC 0x03
#define HSX_CMD_FN_HELP 0x04

#define HSX_CMD_STATUS_OK 0x0000
#define HSX_CMD_STATUS_ENOENT 0x0001
#define HSX_CMD_STATUS_EPERM 0x0002
#define HSX_CMD_STATUS_ENOSPC 0x0003
#define HSX_CMD_STATUS_EINVAL 0x0004
#define HSX_CMD_STATUS_EEXIST 0x0005
#define HSX_CMD_STATUS_ENOASYNC 0x0006
#define HSX_CMD_STATUS_EFAIL 0x0007

#define HSX_CMD_FLAG_PIN 0x01
#define HSX_CMD_FLAG_ASYNC 0x02

#define HSX_CMD_AUTH_PUBLIC 0x00
#define HSX_CMD_AUTH_USER 0x01
#define HSX_CMD_AUTH_ADMIN 0x02
#define HSX_CMD_AUTH_FACTORY 0x03

#define HSX_CMD_MAX_COMMANDS 256

#define HSX_CMD_DESC_NAME 0x10
#define HSX_CMD_DESC_INVALID 0xFFFF

#pragma pack(push, 1)
typedef struct hsx_cmd_entry {
    uint8_t group_id;
    uint8_t cmd_id;
    uint8_t flags;
    uint8_t auth_level;
    uint16_t owner_pid;
    uint16_t handler_ref;
    uint16_t desc_head;
} hsx_cmd_entry_t;

typedef struct hsx_cmd_name_desc {
    uint8_t desc_type; /* HSX_CMD_DESC_NAME */
    uint8_t reserved;
    uint16_t next;
    uint16_t name_offset; /* name string address */
    uint16_t help_offset; /* help string address */
} hsx_cmd_name_desc_t;
#pragma pack(pop)

_Static_assert(sizeof(hsx_cmd_entry_t) == 10, "hsx_cmd_entry_t is 10 packed bytes");

#endif /* HSX_COMMAND_H */
