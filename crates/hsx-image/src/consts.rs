//! Format constants (`vm.md` §4, `services.md` §1.3 and §2).

/// `"HSXE"` as a big-endian u32.
pub const MAGIC: u32 = 0x4853_5845;
/// Header version 1.
pub const VERSION_V1: u16 = 0x0001;
/// Header version 2 (written by the linker).
pub const VERSION_V2: u16 = 0x0002;
/// Size of the version-1 header.
pub const HEADER_V1_LEN: usize = 32;
/// Size of the version-2 header.
pub const HEADER_V2_LEN: usize = 96;
/// File offset of the CRC field; the CRC covers the bytes before it.
pub const CRC_OFFSET: usize = 0x1C;
/// File offset of the v2 app name (32 bytes, NUL-padded).
pub const APP_NAME_OFFSET: usize = 0x20;
/// Size of the v2 app-name field.
pub const APP_NAME_FIELD_LEN: usize = 32;
/// Longest app name the linker writes (the field keeps a terminating NUL).
pub const APP_NAME_MAX_LEN: usize = 31;
/// File offset of the v2 `meta_offset` field.
pub const META_OFFSET_OFFSET: usize = 0x40;
/// File offset of the v2 `meta_count` field.
pub const META_COUNT_OFFSET: usize = 0x44;
/// File offset of the v2 `isa_ext` field (u32 big-endian, the first 4 of the bytes the
/// reference reserves): MiniVM ISA extensions the code needs.
pub const ISA_EXT_OFFSET: usize = 0x48;
/// File offset of the v2 header bytes that stay reserved (must be zero).
pub const RESERVED_OFFSET: usize = 0x4C;
/// Size of the reserved v2 header area after `isa_ext`.
pub const RESERVED_LEN: usize = 20;

/// `isa_ext` bit 0: the code uses ISA extension EXT1 (`hsx_vm::ISA_EXT1`).
pub const ISA_EXT1: u32 = 0x1;
/// Every `isa_ext` bit this crate knows; [`crate::Image::parse`] refuses images with others.
pub const ISA_EXT_KNOWN: u32 = ISA_EXT1;

/// Header flag bit 0: a manifest is present (parsed into a flag only; no manifest parser exists).
pub const FLAG_MANIFEST_PRESENT: u16 = 0x0001;
/// Header flag bit 1 (v2 only): more than one instance of the app may run.
pub const FLAG_ALLOW_MULTIPLE: u16 = 0x0002;

/// Largest accepted code section.
pub const MAX_CODE_LEN: u32 = 0x1_0000;
/// Largest accepted rodata section.
pub const MAX_RODATA_LEN: u32 = 0x1_0000;
/// Largest accepted BSS size.
pub const MAX_BSS_SIZE: u32 = 0x1_0000;
/// Guest data address where rodata is loaded.
pub const RODATA_BASE: u32 = 0x4000;

/// Size of one metadata section-table entry.
pub const META_ENTRY_LEN: usize = 16;
/// Section type: values.
pub const SECTION_VALUE: u32 = 1;
/// Section type: commands.
pub const SECTION_COMMAND: u32 = 2;
/// Section type: mailboxes.
pub const SECTION_MAILBOX: u32 = 3;
/// Size of one value record.
pub const VALUE_RECORD_LEN: usize = 20;
/// Size of one command record.
pub const COMMAND_RECORD_LEN: usize = 16;
/// Size of one legacy mailbox record.
pub const MAILBOX_LEGACY_RECORD_LEN: usize = 16;

/// Value flag: read-only.
pub const VALUE_FLAG_RO: u8 = 0x01;
/// Value flag: persisted.
pub const VALUE_FLAG_PERSIST: u8 = 0x02;
/// Value flag: sticky (reserved).
pub const VALUE_FLAG_STICKY: u8 = 0x04;
/// Value flag: PIN required.
pub const VALUE_FLAG_PIN: u8 = 0x08;
/// Value flag: boolean (0 or 1).
pub const VALUE_FLAG_BOOL: u8 = 0x10;

/// Command flag: PIN required.
pub const CMD_FLAG_PIN: u8 = 0x01;
/// Command flag: asynchronous.
pub const CMD_FLAG_ASYNC: u8 = 0x02;

/// Auth level: public.
pub const AUTH_PUBLIC: u8 = 0;
/// Auth level: user.
pub const AUTH_USER: u8 = 1;
/// Auth level: admin.
pub const AUTH_ADMIN: u8 = 2;
/// Auth level: factory.
pub const AUTH_FACTORY: u8 = 3;

/// Mailbox mode: read only.
pub const MBX_MODE_RDONLY: u16 = 0x01;
/// Mailbox mode: write only.
pub const MBX_MODE_WRONLY: u16 = 0x02;
/// Mailbox mode: read/write (the default).
pub const MBX_MODE_RDWR: u16 = 0x03;
/// Mailbox mode: tap.
pub const MBX_MODE_TAP: u16 = 0x04;
/// Mailbox mode: fan-out delivery.
pub const MBX_MODE_FANOUT: u16 = 0x08;
/// Mailbox mode: fan-out, drop oldest when full.
pub const MBX_MODE_FANOUT_DROP: u16 = 0x10;
/// Mailbox mode: fan-out, refuse new messages when full.
pub const MBX_MODE_FANOUT_BLOCK: u16 = 0x20;
/// Capacity used when a mailbox declares 0 / none.
pub const MBX_DEFAULT_CAPACITY: u32 = 64;

/// Mode bits for an upper-case mode name or alias, as accepted in mailbox metadata.
pub fn mailbox_mode_by_name(name: &str) -> Option<u16> {
    Some(match name {
        "RDONLY" | "READONLY" | "RO" => MBX_MODE_RDONLY,
        "WRONLY" | "WRITEONLY" | "WO" => MBX_MODE_WRONLY,
        "RDWR" | "RW" => MBX_MODE_RDWR,
        "TAP" => MBX_MODE_TAP,
        "FANOUT" => MBX_MODE_FANOUT,
        "FANOUT_DROP" => MBX_MODE_FANOUT_DROP,
        "FANOUT_BLOCK" => MBX_MODE_FANOUT_BLOCK,
        _ => return None,
    })
}
