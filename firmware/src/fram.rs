//! Persisted values in FRAM, in the embedded record layout of `services.md` §5.3: sequential
//! blocks `[key u16, length u16, crc u32, payload]` (little-endian; CRC-32 over key, length
//! and payload), starting at offset 0 and ended by an erased key (0xFFFF) or the end of the
//! device. At boot every record's CRC is checked: a record that fails keeps its place but is
//! ignored (its value falls back to the default) and is counted as stale. A key is rewritten
//! in place when its record is valid and the same length, otherwise a new record is appended
//! (the old one stays stale); a full device refuses the write.

use hsx_exec::persist::{Persist, PersistError};

use crate::hal::Fram;

/// Record header bytes.
const HEADER: usize = 8;
/// Key of erased space (end of the records).
const END: u16 = 0xFFFF;

/// What the boot scan found.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanReport {
    /// Records whose CRC checked.
    pub valid: u32,
    /// Records whose CRC failed (ignored).
    pub stale: u32,
    /// First free byte.
    pub used: usize,
}

/// The value store over a [`Fram`].
pub struct FramStore<F> {
    fram: F,
    end: usize,
}

fn crc(key: u16, len: u16, payload: &[u8]) -> u32 {
    let mut h = hsx_image::Crc32::new();
    h.update(&key.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(payload);
    h.finalize()
}

impl<F: Fram> FramStore<F> {
    /// Scan the device, checking every record's CRC.
    pub fn open(fram: F) -> (Self, ScanReport) {
        let mut s = FramStore { fram, end: 0 };
        let mut rep = ScanReport::default();
        s.walk(|_, _, _, ok| {
            if ok {
                rep.valid += 1;
            } else {
                rep.stale += 1;
            }
        });
        rep.used = s.end;
        (s, rep)
    }

    /// Visit every record as `(offset, key, length, crc ok)`; sets `self.end` to the first
    /// free byte.
    fn walk(&mut self, mut f: impl FnMut(usize, u16, u16, bool)) {
        let size = self.fram.size();
        let mut at = 0;
        while at + HEADER <= size {
            let mut h = [0u8; HEADER];
            self.fram.read(at, &mut h);
            let key = u16::from_le_bytes([h[0], h[1]]);
            let len = u16::from_le_bytes([h[2], h[3]]);
            let stored = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            if key == END || at + HEADER + usize::from(len) > size || len > 64 {
                break;
            }
            let mut p = [0u8; 64];
            let payload = &mut p[..usize::from(len)];
            self.fram.read(at + HEADER, payload);
            f(at, key, len, crc(key, len, payload) == stored);
            at += HEADER + usize::from(len);
        }
        self.end = at;
    }

    /// The valid 2-byte record of `key` (the last one wins).
    fn find(&mut self, key: u16) -> Option<usize> {
        let mut found = None;
        self.walk(|at, k, len, ok| {
            if ok && k == key && len == 2 {
                found = Some(at);
            }
        });
        found
    }

    /// Give the device back (e.g. to sync it).
    pub fn fram_mut(&mut self) -> &mut F {
        &mut self.fram
    }
}

impl<F: Fram> Persist for FramStore<F> {
    fn load(&mut self, key: u16) -> Option<u16> {
        let at = self.find(key)?;
        let mut h = [0u8; HEADER + 2];
        self.fram.read(at, &mut h);
        Some(u16::from_le_bytes([h[8], h[9]]))
    }

    fn store(&mut self, key: u16, bits: u16) -> Result<(), PersistError> {
        if key == 0 || key == END {
            return Err(PersistError { key });
        }
        let payload = bits.to_le_bytes();
        let mut rec = [0u8; HEADER + 2];
        rec[..2].copy_from_slice(&key.to_le_bytes());
        rec[2..4].copy_from_slice(&2u16.to_le_bytes());
        rec[4..8].copy_from_slice(&crc(key, 2, &payload).to_le_bytes());
        rec[8..].copy_from_slice(&payload);
        let at = match self.find(key) {
            Some(at) => at,
            None => {
                let at = self.end;
                if at + rec.len() > self.fram.size() {
                    return Err(PersistError { key });
                }
                self.end = at + rec.len();
                at
            }
        };
        self.fram.write(at, &rec);
        Ok(())
    }
}
