//! Where provisioned images are kept across restarts: two slots per app, one active and one
//! holding either the staged update or the previous known-good image.
//!
//! An update is [`ImageStore::stage`] (into the slot that is not active) then
//! [`ImageStore::commit`] (one atomic switch of the active pointer; the old active image
//! becomes the previous one). [`ImageStore::rollback`] switches back. An implementation
//! must keep this promise through a power failure at any point: after restart the active
//! image of every app is a complete image that passed verification, the new one if the
//! commit finished, the old one otherwise. The host keeps a directory (`hsxd --store`); a
//! microcontroller keeps flash slots.

use alloc::string::String;
use alloc::vec::Vec;

/// One of an app's two slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Slot `a`.
    A,
    /// Slot `b`.
    B,
}

impl Slot {
    /// The other slot.
    #[must_use]
    pub const fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }

    /// `"a"` or `"b"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
        }
    }

    /// Index 0 or 1 (for per-slot counters).
    #[must_use]
    pub const fn index(self) -> usize {
        match self {
            Slot::A => 0,
            Slot::B => 1,
        }
    }
}

/// What the store holds for one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEntry {
    /// App name.
    pub app: String,
    /// The slot that boots.
    pub active: Option<Slot>,
    /// The known-good image a rollback returns to.
    pub previous: Option<Slot>,
    /// A verified image written but not yet committed.
    pub staged: Option<Slot>,
    /// Writes per slot (wear).
    pub writes: [u32; 2],
    /// CRC of the active image.
    pub active_crc: Option<u32>,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The app name cannot be stored (empty, too long, or not `[A-Za-z0-9_.-]`).
    #[error("invalid app name for the image store: {0:?}")]
    BadName(String),
    /// The image does not fit a slot.
    #[error("image does not fit a store slot")]
    NoSpace,
    /// `commit` without a staged image.
    #[error("no staged image for {0}")]
    NothingStaged(String),
    /// `rollback` without a previous image.
    #[error("no previous image for {0}")]
    NoPrevious(String),
    /// The medium failed.
    #[error("image store: {0}")]
    Io(String),
    /// A failure injected by a power-fail test.
    #[error("injected power failure")]
    PowerFail,
}

/// An image store (see the module documentation).
pub trait ImageStore: Send {
    /// Writes `image` into the slot of `app` that is not active and marks it staged.
    ///
    /// # Errors
    /// [`StoreError`].
    fn stage(&mut self, app: &str, image: &[u8]) -> Result<Slot, StoreError>;
    /// Makes the staged image active; the old active one becomes the previous image.
    ///
    /// # Errors
    /// [`StoreError::NothingStaged`], [`StoreError::Io`].
    fn commit(&mut self, app: &str) -> Result<Slot, StoreError>;
    /// Makes the previous image active again (the current one becomes the previous).
    ///
    /// # Errors
    /// [`StoreError::NoPrevious`], [`StoreError::Io`].
    fn rollback(&mut self, app: &str) -> Result<Slot, StoreError>;
    /// The active image of `app`.
    ///
    /// # Errors
    /// [`StoreError::Io`].
    fn active(&self, app: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every app the store knows, by name.
    fn entries(&self) -> Vec<StoreEntry>;
}
