//! CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) with a 1 KiB table built at compile
//! time. `crc32fast`'s slice-by-16 table is 16 KiB of flash, most of a microcontroller
//! executive's budget, for speed an image loader does not need.

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table();

/// An incremental CRC-32 (same results as `crc32fast::Hasher` / zlib's `crc32`).
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// A fresh CRC.
    pub const fn new() -> Self {
        Crc32(!0)
    }

    /// Feed `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut c = self.0;
        for &b in bytes {
            c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    /// The CRC of `bytes`.
    #[must_use]
    pub fn checksum(bytes: &[u8]) -> u32 {
        let mut c = Self::new();
        c.update(bytes);
        c.finalize()
    }

    /// The CRC of everything fed.
    pub const fn finalize(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Crc32;

    #[test]
    fn check_value_and_agreement_with_crc32fast() {
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.finalize(), 0xCBF4_3926);
        let data: alloc::vec::Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let mut c = Crc32::new();
        c.update(&data[..1000]);
        c.update(&data[1000..]);
        assert_eq!(c.finalize(), crc32fast::hash(&data));
    }
}
