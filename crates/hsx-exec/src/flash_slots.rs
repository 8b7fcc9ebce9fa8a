//! The microcontroller's image store: two image slots and a boot record in one flash region,
//! with the promise of [`crate::store`] (after a power failure at any point the active image
//! is a complete, verified one) and trial boots that fall back to the known-good image.
//!
//! ```text
//! 0    boot record, copy 0   "HSXB" seq active trial - writes[2] crc   (24 bytes)
//! 32   boot record, copy 1
//! 64   slot A: "HSXS" len crc (32-byte header), then the image
//! 64+S slot B: the same
//! ```
//!
//! The two record copies are written alternately (record `seq` goes to copy `seq % 2`), so
//! a write torn by a reset leaves the other copy, the previous state, intact; the newest copy
//! whose CRC checks wins. A slot's header gets its magic last, after its length and CRC, and
//! is cleared before the slot is rewritten: a half-written slot never looks valid. Everything
//! here works on plain byte slices, so the board decides how bytes reach its flash.

use core::ops::Range;

use hsx_image::Crc32;

use crate::store::Slot;

const RECORD_MAGIC: &[u8; 4] = b"HSXB";
const SLOT_MAGIC: &[u8; 4] = b"HSXS";
const RECORD_LEN: usize = 24;
const RECORD_STRIDE: usize = 32;
/// Bytes before slot A (the two boot-record copies).
pub const RECORD_AREA: usize = 2 * RECORD_STRIDE;
/// Bytes of a slot's header before its image.
pub const SLOT_HEADER: usize = 32;

/// The boot record: which slot boots, and whether it is still on trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BootRecord {
    /// Incremented by every write; the newest valid copy is current.
    pub seq: u32,
    /// The slot that boots (`None`: nothing provisioned).
    pub active: Option<Slot>,
    /// The active image is an update not yet confirmed: if the board resets before it is,
    /// the next boot returns to the other slot.
    pub trial: bool,
    /// Images written into each slot so far (wear).
    pub writes: [u32; 2],
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

impl BootRecord {
    fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        out[..4].copy_from_slice(RECORD_MAGIC);
        out[4..8].copy_from_slice(&self.seq.to_le_bytes());
        out[8] = self.active.map_or(0xFF, |s| s.index() as u8);
        out[9] = u8::from(self.trial);
        out[12..16].copy_from_slice(&self.writes[0].to_le_bytes());
        out[16..20].copy_from_slice(&self.writes[1].to_le_bytes());
        let crc = Crc32::checksum(&out[..20]);
        out[20..24].copy_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(b: &[u8]) -> Option<BootRecord> {
        let b = b.get(..RECORD_LEN)?;
        if &b[..4] != RECORD_MAGIC || Crc32::checksum(&b[..20]) != le32(b, 20) {
            return None;
        }
        let active = match b[8] {
            0 => Some(Slot::A),
            1 => Some(Slot::B),
            0xFF => None,
            _ => return None,
        };
        Some(BootRecord {
            seq: le32(b, 4),
            active,
            trial: b[9] == 1,
            writes: [le32(b, 12), le32(b, 16)],
        })
    }
}

/// What the boot should do (see [`FlashSlots::boot_plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootPlan {
    /// The slot to start, if any holds a verified image.
    pub start: Option<Slot>,
    /// An update on trial when the board reset, abandoned for the other slot: (from, to).
    pub reverted: Option<(Slot, Slot)>,
    /// The record to write before starting (`None`: the current one stands).
    pub write: Option<BootRecord>,
}

/// The layout of one region holding the boot record and two slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashSlots {
    slot_size: usize,
}

impl FlashSlots {
    /// The layout for a region of `region_len` bytes (`None` if it cannot hold two slots).
    #[must_use]
    pub fn new(region_len: usize) -> Option<FlashSlots> {
        let slot_size = (region_len.checked_sub(RECORD_AREA)? / 2) & !3;
        (slot_size > SLOT_HEADER).then_some(FlashSlots { slot_size })
    }

    /// Largest image a slot holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.slot_size - SLOT_HEADER
    }

    /// Byte range of `slot`'s image area within the region.
    #[must_use]
    pub fn body(&self, slot: Slot) -> Range<usize> {
        let start = RECORD_AREA + slot.index() * self.slot_size + SLOT_HEADER;
        start..start + self.capacity()
    }

    fn header(&self, slot: Slot) -> Range<usize> {
        let start = RECORD_AREA + slot.index() * self.slot_size;
        start..start + SLOT_HEADER
    }

    /// The current boot record (a blank one if neither copy checks).
    #[must_use]
    pub fn record(region: &[u8]) -> BootRecord {
        let copy = |i: usize| BootRecord::decode(region.get(i * RECORD_STRIDE..)?);
        match (copy(0), copy(1)) {
            (Some(a), Some(b)) => {
                if b.seq.wrapping_sub(a.seq) as i32 > 0 {
                    b
                } else {
                    a
                }
            }
            (Some(r), None) | (None, Some(r)) => r,
            (None, None) => BootRecord::default(),
        }
    }

    /// Writes `rec` as the next record (its `seq` is set here) over the older copy.
    pub fn write_record(region: &mut [u8], rec: BootRecord) -> BootRecord {
        let rec = BootRecord {
            seq: Self::record(region).seq.wrapping_add(1),
            ..rec
        };
        let at = (rec.seq % 2) as usize * RECORD_STRIDE;
        if let Some(dst) = region.get_mut(at..at + RECORD_LEN) {
            dst.copy_from_slice(&rec.encode());
        }
        rec
    }

    /// The verified image in `slot`, if its header and CRC check.
    #[must_use]
    pub fn image<'a>(&self, region: &'a [u8], slot: Slot) -> Option<&'a [u8]> {
        let h = region.get(self.header(slot))?;
        if &h[..4] != SLOT_MAGIC {
            return None;
        }
        let len = le32(h, 4) as usize;
        if len > self.capacity() {
            return None;
        }
        let image = region.get(self.body(slot))?.get(..len)?;
        (Crc32::checksum(image) == le32(h, 8)).then_some(image)
    }

    /// Marks `slot` empty before it is rewritten.
    pub fn clear(&self, region: &mut [u8], slot: Slot) {
        if let Some(h) = region.get_mut(self.header(slot)) {
            h[..4].fill(0xFF);
        }
    }

    /// Seals `slot` around the `len` image bytes written into its body: length and CRC
    /// first, the magic last.
    pub fn seal(&self, region: &mut [u8], slot: Slot, len: usize) {
        let Some(body) = region.get(self.body(slot)) else {
            return;
        };
        let crc = body.get(..len).map_or(0, Crc32::checksum);
        if let Some(h) = region.get_mut(self.header(slot)) {
            h[4..8].copy_from_slice(&(len as u32).to_le_bytes());
            h[8..12].copy_from_slice(&crc.to_le_bytes());
            h[..4].copy_from_slice(SLOT_MAGIC);
        }
    }

    /// Decides what to boot. An update still on trial is abandoned for the other slot when
    /// that one holds a verified image (it did not get confirmed before the reset); an
    /// active slot that no longer verifies falls back to the other one too.
    #[must_use]
    pub fn boot_plan(&self, region: &[u8]) -> BootPlan {
        let rec = Self::record(region);
        let valid = |s: Slot| self.image(region, s).is_some();
        let Some(active) = rec.active else {
            return BootPlan {
                start: None,
                reverted: None,
                write: None,
            };
        };
        let other = active.other();
        if (rec.trial || !valid(active)) && valid(other) {
            return BootPlan {
                start: Some(other),
                reverted: rec.trial.then_some((active, other)),
                write: Some(BootRecord {
                    active: Some(other),
                    trial: false,
                    ..rec
                }),
            };
        }
        BootPlan {
            start: valid(active).then_some(active),
            reverted: None,
            // A trial with nothing to go back to is kept: it is all there is.
            write: rec.trial.then_some(BootRecord {
                trial: false,
                ..rec
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn region() -> (FlashSlots, Vec<u8>) {
        let r = vec![0xFFu8; 4096];
        (FlashSlots::new(r.len()).unwrap(), r)
    }

    fn put(fs: &FlashSlots, r: &mut [u8], slot: Slot, image: &[u8]) {
        fs.clear(r, slot);
        r[fs.body(slot)][..image.len()].copy_from_slice(image);
        fs.seal(r, slot, image.len());
    }

    #[test]
    fn a_blank_region_boots_nothing() {
        let (fs, r) = region();
        assert_eq!(FlashSlots::record(&r), BootRecord::default());
        assert_eq!(fs.boot_plan(&r).start, None);
        assert_eq!(fs.capacity(), (4096 - RECORD_AREA) / 2 - SLOT_HEADER);
        assert!(FlashSlots::new(RECORD_AREA + 2 * SLOT_HEADER).is_none());
    }

    #[test]
    fn sealed_images_verify_and_damage_is_seen() {
        let (fs, mut r) = region();
        put(&fs, &mut r, Slot::B, b"image bytes");
        assert_eq!(fs.image(&r, Slot::B), Some(&b"image bytes"[..]));
        assert_eq!(fs.image(&r, Slot::A), None);
        let at = fs.body(Slot::B).start + 3;
        r[at] ^= 1;
        assert_eq!(fs.image(&r, Slot::B), None);
    }

    #[test]
    fn a_torn_record_write_leaves_the_previous_record() {
        let (_, mut r) = region();
        let first = FlashSlots::write_record(
            &mut r,
            BootRecord {
                active: Some(Slot::A),
                ..BootRecord::default()
            },
        );
        let next = BootRecord {
            active: Some(Slot::B),
            trial: true,
            writes: [1, 1],
            ..first
        };
        let mut done = r.clone();
        let written = FlashSlots::write_record(&mut done, next);
        assert_eq!(FlashSlots::record(&done), written);
        let at = (written.seq % 2) as usize * RECORD_STRIDE;
        // Power lost after k of the record's bytes reached flash.
        for k in 0..RECORD_LEN {
            let mut torn = r.clone();
            torn[at..at + k].copy_from_slice(&done[at..at + k]);
            assert_eq!(FlashSlots::record(&torn), first, "torn after {k} bytes");
        }
    }

    #[test]
    fn sequence_numbers_wrap() {
        let (_, mut r) = region();
        let mut rec = BootRecord {
            seq: u32::MAX - 1,
            ..BootRecord::default()
        };
        r[..RECORD_LEN].copy_from_slice(&rec.encode());
        for _ in 0..4 {
            rec = FlashSlots::write_record(&mut r, rec);
            assert_eq!(FlashSlots::record(&r), rec);
        }
    }

    #[test]
    fn a_trial_at_reset_reverts_to_the_known_good_slot() {
        let (fs, mut r) = region();
        put(&fs, &mut r, Slot::A, b"good");
        put(&fs, &mut r, Slot::B, b"update");
        FlashSlots::write_record(
            &mut r,
            BootRecord {
                active: Some(Slot::B),
                trial: true,
                ..BootRecord::default()
            },
        );
        let plan = fs.boot_plan(&r);
        assert_eq!(plan.start, Some(Slot::A));
        assert_eq!(plan.reverted, Some((Slot::B, Slot::A)));
        let w = plan.write.unwrap();
        assert_eq!((w.active, w.trial), (Some(Slot::A), false));
    }

    #[test]
    fn a_confirmed_slot_boots_and_a_damaged_one_falls_back() {
        let (fs, mut r) = region();
        put(&fs, &mut r, Slot::A, b"old");
        put(&fs, &mut r, Slot::B, b"new");
        FlashSlots::write_record(
            &mut r,
            BootRecord {
                active: Some(Slot::B),
                ..BootRecord::default()
            },
        );
        let plan = fs.boot_plan(&r);
        assert_eq!(
            (plan.start, plan.reverted, plan.write),
            (Some(Slot::B), None, None)
        );
        fs.clear(&mut r, Slot::B);
        let plan = fs.boot_plan(&r);
        assert_eq!((plan.start, plan.reverted), (Some(Slot::A), None));
        assert_eq!(plan.write.unwrap().active, Some(Slot::A));
    }

    #[test]
    fn a_trial_with_nothing_to_return_to_is_kept() {
        let (fs, mut r) = region();
        put(&fs, &mut r, Slot::A, b"first");
        FlashSlots::write_record(
            &mut r,
            BootRecord {
                active: Some(Slot::A),
                trial: true,
                ..BootRecord::default()
            },
        );
        let plan = fs.boot_plan(&r);
        assert_eq!((plan.start, plan.reverted), (Some(Slot::A), None));
        assert!(!plan.write.unwrap().trial);
    }

    /// The update sequence the firmware runs, cut by a power failure after every step: the
    /// next boot always starts a complete, verified image, the old one until the record
    /// names the new one.
    #[test]
    fn power_fail_at_every_step_of_an_update_boots_a_verified_image() {
        let (fs, mut base) = region();
        put(&fs, &mut base, Slot::A, b"version 1");
        FlashSlots::write_record(
            &mut base,
            BootRecord {
                active: Some(Slot::A),
                writes: [1, 0],
                ..BootRecord::default()
            },
        );
        let new = b"version 2, longer";
        type Step<'a> = &'a dyn Fn(&mut Vec<u8>);
        let steps: [Step<'_>; 4] = [
            &|r| fs.clear(r, Slot::B),
            &|r| r[fs.body(Slot::B)][..new.len()].copy_from_slice(new),
            &|r| fs.seal(r, Slot::B, new.len()),
            &|r| {
                let rec = FlashSlots::record(r);
                FlashSlots::write_record(
                    r,
                    BootRecord {
                        active: Some(Slot::B),
                        trial: true,
                        writes: [rec.writes[0], rec.writes[1] + 1],
                        ..rec
                    },
                );
            },
        ];
        for cut in 0..=steps.len() {
            let mut r = base.clone();
            for step in &steps[..cut] {
                step(&mut r);
            }
            let plan = fs.boot_plan(&r);
            let slot = plan.start.expect("something boots");
            assert_eq!(fs.image(&r, slot), Some(&b"version 1"[..]), "cut {cut}");
        }
        // Confirmed: the new image boots from then on.
        let mut r = base.clone();
        for step in &steps {
            step(&mut r);
        }
        let rec = FlashSlots::record(&r);
        FlashSlots::write_record(
            &mut r,
            BootRecord {
                trial: false,
                ..rec
            },
        );
        let plan = fs.boot_plan(&r);
        assert_eq!(fs.image(&r, plan.start.unwrap()), Some(&new[..]));
        assert_eq!(FlashSlots::record(&r).writes, [1, 1]);
    }
}
