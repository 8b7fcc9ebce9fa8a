//! Throughput of a provisioning push through SLCAN on a pseudo-terminal pair: the host end on
//! one side, the adapter end (what a device behind a serial line runs) on the other, so the
//! ASCII encoding and the tty layer are in the path.
//!
//! `cargo run --release -p hsx-can --example pty_throughput [-- SIZE_KIB [CHUNK]]`

use std::time::{Duration, Instant};

use hsx_can::frame::standard_id;
use hsx_can::provision::{
    DeviceSession, ProvisionDevice, ProvisionLink, ProvisionTarget, PushOptions, TargetError,
};
use hsx_can::slcan::{Bitrate, Slcan};
use hsx_can::{IsoTpChannel, IsoTpParams};

struct Sink(u64);

impl ProvisionTarget for Sink {
    fn begin(&mut self, _: Option<&str>, _: u32) -> Result<u32, TargetError> {
        Ok(1)
    }
    fn write(&mut self, _: u32, chunk: &[u8]) -> Result<(), TargetError> {
        self.0 += chunk.len() as u64;
        Ok(())
    }
    fn end(&mut self, _: u32) -> Result<(), TargetError> {
        Ok(())
    }
    fn abort(&mut self, _: u32) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let kib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    let chunk: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(4090);
    let image: Vec<u8> = (0..kib * 1024).map(|i| (i * 13) as u8).collect();
    let (master, slave) = serialport::TTYPort::pair()?;
    let params = IsoTpParams::new(standard_id(0x6A0).unwrap(), standard_id(0x6A8).unwrap());
    let device = std::thread::spawn(move || {
        let mut sink = Sink(0);
        let ch = IsoTpChannel::new(Slcan::adapter(master), params.reversed()).ok()?;
        let mut dev = ProvisionDevice::new(ch, DeviceSession::default());
        while dev
            .serve_once(&mut sink, Duration::from_millis(200))
            .is_ok()
        {}
        let frames = dev.channel().frame_counts();
        Some((sink.0, frames))
    });
    let ch = IsoTpChannel::new(Slcan::host(slave, Bitrate::M1)?, params)?;
    let options = PushOptions {
        chunk_size: chunk,
        ..PushOptions::default()
    };
    let mut link = ProvisionLink::new(ch, options);
    let start = Instant::now();
    let report = link.push(Some("bench"), &image, |_, _| {})?;
    let secs = start.elapsed().as_secs_f64();
    let (sent, received) = link.channel().frame_counts();
    drop(link);
    let (written, _) = device.join().ok().flatten().ok_or("device side failed")?;
    let frames = sent + received;
    println!(
        "SLCAN over a pty: pushed {written} B in {} chunks of {chunk} B: {secs:.3} s, {:.0} B/s ({:.1} KiB/s), {frames} frames, {:.0} frames/s, resends {}",
        report.chunks,
        image.len() as f64 / secs,
        image.len() as f64 / secs / 1024.0,
        frames as f64 / secs,
        report.resends
    );
    Ok(())
}
