/* hsx.h - the HSX executive API for C programs built with `hsx cc`.
 *
 * Every service is an SVC. From C an SVC is a function imported from the
 * wasm module "hsx_svc" whose import name encodes it: "<mod hex>_<fn 2 hex>"
 * plus "_r0" (first argument goes to R0, e.g. TASK_EXIT, SLEEP) and/or "_o"
 * (the last argument points to a uint32_t[4] that receives R1..R4 after the
 * call). Other arguments go to R1..R5 in order; the return value is R0. The
 * translator turns each import into one SVC instruction.
 *
 * The wrappers below return the raw status (0 = OK; mailbox, value and
 * command codes are in hsx_mailbox.h / hsx_value.h / hsx_command.h) and pass
 * results through pointer arguments, which may be NULL. */
#ifndef HSX_H
#define HSX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HSX_SVC(name) __attribute__((import_module("hsx_svc"), import_name(name)))

/* ---- raw SVC imports (module/function numbers: vm.md section 6.2) ---- */
HSX_SVC("0_00") int __hsx_svc_0_00(void);                                 /* CORE_GET_STEPS */
HSX_SVC("1_00_r0") int __hsx_svc_1_00(int code);                          /* TASK_EXIT */
HSX_SVC("1_01") int __hsx_svc_1_01(const void *buf, unsigned len);        /* UART_WRITE */
HSX_SVC("2_00") int __hsx_svc_2_00(unsigned id, const void *buf, unsigned len); /* CAN_TX */
HSX_SVC("4_00") int __hsx_svc_4_00(const char *path, unsigned flags);    /* FS_OPEN */
HSX_SVC("4_01") int __hsx_svc_4_01(int fd, void *buf, unsigned len);     /* FS_READ */
HSX_SVC("4_02") int __hsx_svc_4_02(int fd, const void *buf, unsigned len); /* FS_WRITE */
HSX_SVC("4_03") int __hsx_svc_4_03(int fd);                              /* FS_CLOSE */
HSX_SVC("4_0a") int __hsx_svc_4_0a(const char *path, char *buf, unsigned max); /* FS_LISTDIR */
HSX_SVC("4_0b") int __hsx_svc_4_0b(const char *path);                    /* FS_DELETE */
HSX_SVC("4_0c") int __hsx_svc_4_0c(const char *from, const char *to);    /* FS_RENAME */
HSX_SVC("4_0d") int __hsx_svc_4_0d(const char *path);                    /* FS_MKDIR */
HSX_SVC("5_00_o") int __hsx_svc_5_00(const char *target, unsigned flags, uint32_t *out);
HSX_SVC("5_01_o") int __hsx_svc_5_01(const char *target, unsigned capacity, unsigned mode,
                                     uint32_t *out);
HSX_SVC("5_02_o") int __hsx_svc_5_02(int handle, const void *buf, unsigned len, unsigned flags,
                                     unsigned channel, uint32_t *out);
HSX_SVC("5_03_o") int __hsx_svc_5_03(int handle, void *buf, unsigned max, unsigned timeout,
                                     void *info, uint32_t *out);
HSX_SVC("5_04_o") int __hsx_svc_5_04(int handle, uint32_t *out);           /* MAILBOX_PEEK */
HSX_SVC("5_05") int __hsx_svc_5_05(int handle, unsigned enable);          /* MAILBOX_TAP */
HSX_SVC("5_06") int __hsx_svc_5_06(int handle);                           /* MAILBOX_CLOSE */
HSX_SVC("6_00_r0") int __hsx_svc_6_00(uint32_t ms);                       /* EXEC_SLEEP_MS */
HSX_SVC("7_00_o") int __hsx_svc_7_00(unsigned group, unsigned id, unsigned flags,
                                     const void *desc, uint32_t *out);
HSX_SVC("7_01_o") int __hsx_svc_7_01(unsigned group, unsigned id, uint32_t *out);
HSX_SVC("7_02") int __hsx_svc_7_02(unsigned oid);                         /* VAL_GET */
HSX_SVC("7_03") int __hsx_svc_7_03(unsigned oid, unsigned f16);           /* VAL_SET */
HSX_SVC("7_04_o") int __hsx_svc_7_04(unsigned group, uint16_t *oids, unsigned max, uint32_t *out);
HSX_SVC("7_05_o") int __hsx_svc_7_05(unsigned oid, const char *target, uint32_t *out);
HSX_SVC("7_06") int __hsx_svc_7_06(unsigned oid, unsigned mode);          /* VAL_PERSIST */
HSX_SVC("8_00_o") int __hsx_svc_8_00(unsigned group, unsigned id, unsigned flags,
                                     const void *desc, uint32_t *out);
HSX_SVC("8_01_o") int __hsx_svc_8_01(unsigned group, unsigned id, uint32_t *out);
HSX_SVC("8_02_o") int __hsx_svc_8_02(unsigned oid, const char *token, uint32_t *out);
HSX_SVC("8_03_o") int __hsx_svc_8_03(unsigned oid, const char *token, const char *target,
                                     uint32_t *out);
HSX_SVC("8_04_o") int __hsx_svc_8_04(unsigned oid, char *buf, unsigned max, uint32_t *out);

/* ---- core ---- */

/** Instructions this task has retired so far. */
static inline uint32_t hsx_steps(void) { return (uint32_t)__hsx_svc_0_00(); }

/** Ends the task at once (no atexit handlers, no flushing): exit() is the C way. */
static inline void hsx_task_exit(int code) { __hsx_svc_1_00(code); }

/** Sleeps ms milliseconds; 0 returns immediately (the executive treats it as a no-op). */
static inline int hsx_sleep_ms(uint32_t ms) { return __hsx_svc_6_00(ms); }

/** There is no YIELD SVC (services.md 4.2); the shortest real yield is a 1 ms sleep. */
static inline void hsx_yield(void) { __hsx_svc_6_00(1); }

/** Writes to the UART log; returns len. */
static inline int hsx_uart_write_raw(const void *buf, unsigned len) { return __hsx_svc_1_01(buf, len); }

/** Transmits a CAN frame (id & 0x7FF); returns 0. */
static inline int hsx_can_tx_raw(unsigned id, const void *buf, unsigned len)
{
    return __hsx_svc_2_00(id, buf, len);
}

/* ---- mailboxes (module 5) ---- */

/** Receive result, laid out like the executive's 20-byte info record. */
typedef struct hsx_mbx_info {
    int32_t status;
    int32_t length;
    uint32_t flags;
    uint32_t channel;
    uint32_t src_pid;
} hsx_mbx_info_t;

typedef struct hsx_mbx_peek {
    uint32_t depth;      /* messages queued */
    uint32_t bytes_used; /* ring bytes in use */
    uint32_t next_len;   /* length of the next message */
} hsx_mbx_peek_t;

static inline int hsx_mbx_open(const char *target, unsigned flags, int *handle)
{
    uint32_t o[4];
    int st = __hsx_svc_5_00(target, flags, o);
    if (handle)
        *handle = st ? -1 : (int)o[0];
    return st;
}

static inline int hsx_mbx_bind(const char *target, unsigned capacity, unsigned mode, int *desc)
{
    uint32_t o[4];
    int st = __hsx_svc_5_01(target, capacity, mode, o);
    if (desc)
        *desc = st ? -1 : (int)o[0];
    return st;
}

/** Never blocks: a full mailbox gives HSX_MBX_STATUS_WOULDBLOCK (1). */
static inline int hsx_mbx_send(int handle, const void *buf, unsigned len, unsigned flags,
                               unsigned channel, unsigned *sent)
{
    uint32_t o[4];
    int st = __hsx_svc_5_02(handle, buf, len, flags, channel, o);
    if (sent)
        *sent = st ? 0 : o[0];
    return st;
}

/** timeout: 0 polls, 1..0xFFFE ms, 0xFFFF waits forever. Longer messages are truncated to max. */
static inline int hsx_mbx_recv(int handle, void *buf, unsigned max, unsigned timeout,
                               hsx_mbx_info_t *info)
{
    uint32_t o[4];
    int st = __hsx_svc_5_03(handle, buf, max, timeout, 0, o);
    if (info) {
        info->status = st;
        info->length = st ? 0 : (int32_t)o[0];
        info->flags = st ? 0 : o[1];
        info->channel = st ? 0 : o[2];
        info->src_pid = st ? 0 : o[3];
    }
    return st;
}

static inline int hsx_mbx_peek(int handle, hsx_mbx_peek_t *out)
{
    uint32_t o[4];
    int st = __hsx_svc_5_04(handle, o);
    if (out) {
        out->depth = o[0];
        out->bytes_used = o[1];
        out->next_len = o[2];
    }
    return st;
}

static inline int hsx_mbx_tap(int handle, int enable) { return __hsx_svc_5_05(handle, enable ? 1u : 0u); }
static inline int hsx_mbx_close(int handle) { return __hsx_svc_5_06(handle); }

/* ---- values (module 7); values are IEEE half floats passed as raw bits ---- */

static inline uint16_t hsx_oid(unsigned group, unsigned id) { return (uint16_t)((group << 8) | (id & 0xFF)); }

static inline int hsx_val_register(unsigned group, unsigned id, unsigned flags, const void *desc,
                                   uint16_t *oid)
{
    uint32_t o[4];
    int st = __hsx_svc_7_00(group, id, flags, desc, o);
    if (oid)
        *oid = (uint16_t)(st ? 0 : o[0]);
    return st;
}

static inline int hsx_val_lookup(unsigned group, unsigned id, uint16_t *oid)
{
    uint32_t o[4];
    int st = __hsx_svc_7_01(group, id, o);
    if (oid)
        *oid = (uint16_t)(st ? 0 : o[0]);
    return st;
}

/** Returns the f16 bits (status 0 in the upper half) or a status; see vm.md 6.2 for the ambiguity. */
static inline uint32_t hsx_val_get_raw(unsigned oid) { return (uint32_t)__hsx_svc_7_02(oid); }
static inline int hsx_val_set(unsigned oid, uint16_t f16) { return __hsx_svc_7_03(oid, f16); }

/** Fills oids with up to max OIDs of group (0xFF = all); *count gets the number written. */
static inline int hsx_val_list(unsigned group, uint16_t *oids, unsigned max, unsigned *count)
{
    uint32_t o[4];
    int st = __hsx_svc_7_04(group, oids, max, o);
    if (count)
        *count = st ? 0 : o[0];
    return st;
}

/** Subscribes mailbox target to changes of oid; *handle gets the opened handle. */
static inline int hsx_val_sub(unsigned oid, const char *target, int *handle)
{
    uint32_t o[4];
    int st = __hsx_svc_7_05(oid, target, o);
    if (handle)
        *handle = st ? -1 : (int)o[0];
    return st;
}

/** mode: 0 volatile, 1 load, 2 load + save. */
static inline int hsx_val_persist(unsigned oid, unsigned mode) { return __hsx_svc_7_06(oid, mode); }

/* ---- commands (module 8) ---- */

static inline int hsx_cmd_register(unsigned group, unsigned id, unsigned flags, const void *desc,
                                   uint16_t *oid)
{
    uint32_t o[4];
    int st = __hsx_svc_8_00(group, id, flags, desc, o);
    if (oid)
        *oid = (uint16_t)(st ? 0 : o[0]);
    return st;
}

static inline int hsx_cmd_lookup(unsigned group, unsigned id, uint16_t *oid)
{
    uint32_t o[4];
    int st = __hsx_svc_8_01(group, id, o);
    if (oid)
        *oid = (uint16_t)(st ? 0 : o[0]);
    return st;
}

/** token may be NULL; *result gets the numeric result. */
static inline int hsx_cmd_call(unsigned oid, const char *token, uint32_t *result)
{
    uint32_t o[4];
    int st = __hsx_svc_8_02(oid, token, o);
    if (result)
        *result = st ? 0 : o[0];
    return st;
}

/** Completion arrives at mailbox target as <u16 oid, u16 status>[<u32 result>]. */
static inline int hsx_cmd_call_async(unsigned oid, const char *token, const char *target,
                                     int *handle)
{
    uint32_t o[4];
    int st = __hsx_svc_8_03(oid, token, target, o);
    if (handle)
        *handle = st ? -1 : (int)o[0];
    return st;
}

/** Copies the NUL-terminated help text (at most max-1 chars); *len gets its length. */
static inline int hsx_cmd_help(unsigned oid, char *buf, unsigned max, unsigned *len)
{
    uint32_t o[4];
    int st = __hsx_svc_8_04(oid, buf, max, o);
    if (len)
        *len = st ? 0 : o[0];
    return st;
}

#ifdef __cplusplus
}
#endif

#endif /* HSX_H */
