//! MiniVM: the HSX 32-bit register virtual machine (`no_std`, no allocation).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod isa;
