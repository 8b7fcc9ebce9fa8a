//! HSX `.hxe` executable images: reading and validating v1/v2 images exactly like the
//! reference loader, writing them byte-identically to the reference tools, and the v2
//! metadata (values, commands, mailboxes). With the `std` feature (default) the [`sym`]
//! module models `.sym` symbol files.
//!
//! ```
//! use hsx_image::Image;
//! let mut img = Image::new(Vec::new(), Vec::new(), 0);
//! img.set_code_words(&[0x0100_002A, 0x2500_0000]); // LDI R0, 42 ; RET
//! img.app_name = Some("tiny".into());
//! let bytes = img.to_v2_bytes();
//! let back = Image::parse(&bytes).unwrap();
//! assert_eq!(back.crc32, 0x57BE_C836);
//! assert!(back.allow_multiple_instances());
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod consts;
mod crc;
mod error;
mod header;
mod hints;
mod image;
mod mailbox;
mod mailbox_codec;
#[cfg(feature = "json")]
mod mailbox_json;
mod metadata;
#[cfg(feature = "json")]
pub mod pyjson;
mod section;
#[cfg(feature = "std")]
pub mod sym;

pub use consts::*;
pub use crc::Crc32;
pub use error::{LoadError, MetadataError};
pub use header::Header;
pub use hints::{HINTS_RECORD_LEN, Hints, SECTION_HINTS};
pub use image::{Image, compute_crc};
pub use mailbox::{MailboxBinding, MailboxEntry};
pub use metadata::{CommandEntry, Metadata, RawSection, ValueEntry};
pub use section::MAX_METADATA_DECODED;
