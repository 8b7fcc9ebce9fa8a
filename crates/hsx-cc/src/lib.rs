//! `hsx cc`: C programs for the HSX MiniVM.
//!
//! clang compiles C to a wasm32 module (with wasi-libc, compiler-rt and the compact HSX
//! libc); this crate validates that module with `wasmparser` and translates it to MiniVM
//! code and data, producing a `.hxe` v2 image and a `.sym` file. See `docs/c-toolchain.md`.

mod build;
mod ctl;
pub mod driver;
pub mod dwarf;
mod dwarf_read;
mod dwarf_types;
pub mod emit;
pub mod error;
pub mod frame;
mod func;
mod helpers;
pub mod imports;
pub mod module;
mod ops_float;
mod ops_int;
mod ops_mem;
pub mod prog;
pub mod runtime;
pub mod translate;

pub use error::CcError;
pub use helpers::HELPERS;
pub use translate::{Options, Output, translate};
