//! An in-test provisioning target and helpers shared by the integration tests.
#![allow(dead_code)]

use hsx_can::provision::{ProvisionTarget, TargetError};

/// Assembles the pushed image; at `end` it checks the image's own CRC-32, carried little-endian
/// in its last 4 bytes (as a real image carries one in its header).
#[derive(Default)]
pub struct AssemblingTarget {
    pub next_pid: u32,
    pub current: Option<(u32, Vec<u8>, u32)>,
    pub installed: Vec<(u32, Option<String>, Vec<u8>)>,
    pub aborted: Vec<u32>,
    pub label: Option<String>,
    pub capacity: u32,
}

impl AssemblingTarget {
    pub fn new() -> Self {
        Self {
            next_pid: 1,
            capacity: u32::MAX,
            ..Self::default()
        }
    }
}

impl ProvisionTarget for AssemblingTarget {
    fn begin(&mut self, label: Option<&str>, total_len: u32) -> Result<u32, TargetError> {
        if self.current.is_some() {
            return Err(TargetError::Busy);
        }
        if total_len > self.capacity {
            return Err(TargetError::NoSpace);
        }
        let pid = self.next_pid;
        self.next_pid += 1;
        self.label = label.map(str::to_owned);
        self.current = Some((pid, Vec::with_capacity(total_len as usize), total_len));
        Ok(pid)
    }

    fn write(&mut self, pid: u32, chunk: &[u8]) -> Result<(), TargetError> {
        match &mut self.current {
            Some((p, buf, _)) if *p == pid => {
                buf.extend_from_slice(chunk);
                Ok(())
            }
            _ => Err(TargetError::NoSession),
        }
    }

    fn end(&mut self, pid: u32) -> Result<(), TargetError> {
        let Some((p, buf, total)) = self.current.take() else {
            return Err(TargetError::NoSession);
        };
        if p != pid || buf.len() != total as usize || buf.len() < 4 {
            return Err(TargetError::BadImage("incomplete".into()));
        }
        let (body, tail) = buf.split_at(buf.len() - 4);
        if hsx_image::Crc32::checksum(body).to_le_bytes() != tail {
            return Err(TargetError::BadImage("image CRC mismatch".into()));
        }
        self.installed.push((pid, self.label.take(), buf));
        Ok(())
    }

    fn abort(&mut self, pid: u32) {
        if self.current.as_ref().is_some_and(|c| c.0 == pid) {
            self.current = None;
        }
        self.aborted.push(pid);
    }
}

/// A test image of `len` bytes (at least 4) whose last 4 bytes are the CRC-32 of the rest.
pub fn image(len: usize, salt: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(salt);
    let mut v: Vec<u8> = (0..len.max(4) - 4).map(|_| rng.u8(..)).collect();
    let crc = hsx_image::Crc32::checksum(&v);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}
