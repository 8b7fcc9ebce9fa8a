//! What a task's code and data live in: the code representation ([`TaskCode`], chosen by the
//! executive's type parameter) and the data layout ([`MemLayout`], chosen per executive at
//! run time).
//!
//! * Desktop default: code pre-decoded once at load ([`hsx_vm::DecodedCode`]: native words
//!   plus one decoded op per word, run by the VM's pre-decoded loop) and a flat 64 KiB data
//!   space per task.
//! * Microcontroller: code executed in place from the image bytes in flash
//!   ([`FlashCode`] with [`crate::Executive::load_static`]) and segmented data: only
//!   `ro_len + heap` bytes at 0x4000 and the stack below 0xFFFC are backed by RAM.
//!
//! Both layouts use the same memory type ([`hsx_vm::SegMem`]); the flat layout is its single
//! 64 KiB segment, so switching layout costs no code and the VM loop stays monomorphic.

use alloc::boxed::Box;
use alloc::vec::Vec;

use hsx_image::Image;
use hsx_vm::{ByteCode, Code, DecodedCode, MEM_SIZE, SegLayout, SegMem};

use super::{ExecConfig, LoadOptions};

/// A task's data memory in the executive (flat or segmented, see [`MemLayout`]).
pub type TaskMem = SegMem<Box<[u8]>>;

/// How a task's code is held. Implemented for [`DesktopCode`] (pre-decoded) and
/// [`FlashCode`] (the image's big-endian bytes, in place when loaded with
/// [`crate::Executive::load_static`]).
pub trait TaskCode: Code + Clone + Sized {
    /// Code copied out of a parsed image.
    fn from_image(code: &[u8]) -> Self;
    /// Code that stays where it is (`'static` image bytes, e.g. in flash). The default
    /// converts like [`TaskCode::from_image`].
    fn from_static(code: &'static [u8]) -> Self {
        Self::from_image(code)
    }
}

/// The desktop code representation: native instruction words and their pre-decoded form.
pub type DesktopCode = DecodedCode;

impl TaskCode for DesktopCode {
    fn from_image(code: &[u8]) -> Self {
        DecodedCode::from_be_bytes(code)
    }
}

/// Big-endian image code bytes: borrowed from `'static` storage (flash) or owned.
#[derive(Debug, Clone)]
pub enum CodeBytes {
    /// Executed in place.
    Static(&'static [u8]),
    /// A copy (an image that was not `'static`).
    Owned(Vec<u8>),
}

impl AsRef<[u8]> for CodeBytes {
    #[inline(always)]
    fn as_ref(&self) -> &[u8] {
        match self {
            CodeBytes::Static(s) => s,
            CodeBytes::Owned(v) => v,
        }
    }
}

/// The microcontroller code representation: image bytes, fetched in place.
pub type FlashCode = ByteCode<CodeBytes>;

impl TaskCode for FlashCode {
    fn from_image(code: &[u8]) -> Self {
        ByteCode(CodeBytes::Owned(code.to_vec()))
    }
    fn from_static(code: &'static [u8]) -> Self {
        ByteCode(CodeBytes::Static(code))
    }
}

/// Data memory layout of the tasks of an executive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MemLayout {
    /// Every task owns a full 64 KiB data space (the reference's model).
    #[default]
    Flat,
    /// Only the data segment (`ro_len` + heap at 0x4000) and the stack (ending at 0xFFFC)
    /// are backed; any other access is a `MEM_FAULT` of that task.
    Segmented,
}

impl MemLayout {
    /// Parse `flat` / `segmented`.
    pub fn parse(s: &str) -> Option<MemLayout> {
        match s {
            "flat" => Some(MemLayout::Flat),
            "segmented" => Some(MemLayout::Segmented),
            _ => None,
        }
    }

    /// The name [`MemLayout::parse`] accepts.
    pub const fn as_str(self) -> &'static str {
        match self {
            MemLayout::Flat => "flat",
            MemLayout::Segmented => "segmented",
        }
    }
}

/// The memory sizes a task is loaded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskSizes {
    /// Stack bytes (guard at 0xFFFC − stack).
    pub stack: u32,
    /// Data segment bytes at 0x4000 (rodata + zeroed heap), rounded up to a word.
    pub data: u32,
}

/// Stack: load option, else the image hint (0 = none), else the configured default. Heap:
/// load option, else the hint, else the header's bss size; the data segment is rodata plus
/// that, rounded up to whole words.
pub(crate) fn task_sizes(cfg: &ExecConfig, image: &Image, opts: &LoadOptions) -> TaskSizes {
    let hint = image.hints.unwrap_or_default();
    let nonzero = |v: u32| (v != 0).then_some(v);
    let stack = opts
        .stack_size
        .or(nonzero(hint.stack_size))
        .unwrap_or(cfg.stack_size);
    let heap = opts
        .heap_size
        .or(nonzero(hint.heap_size))
        .unwrap_or(image.bss_size);
    let ro = u32::try_from(image.rodata.len()).unwrap_or(u32::MAX);
    let data = ro.saturating_add(heap).saturating_add(3) & !3;
    TaskSizes { stack, data }
}

/// A zeroed task memory of `layout` for `sizes`; `None` if the allocation fails.
pub(crate) fn new_task_mem(layout: MemLayout, sizes: TaskSizes) -> Option<TaskMem> {
    let l = match layout {
        MemLayout::Flat => SegLayout::flat(),
        MemLayout::Segmented => SegLayout::task(sizes.data, sizes.stack),
    };
    let n = l.arena_len().min(MEM_SIZE);
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, 0);
    SegMem::new(v.into_boxed_slice(), l)
}
