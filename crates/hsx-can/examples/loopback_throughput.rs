//! Throughput of a provisioning push over the in-process loopback bus.
//!
//! `cargo run --release -p hsx-can --example loopback_throughput [-- SIZE_KIB [CHUNK [RUNS]]]`
//!
//! Pushes a SIZE_KIB (default 64) image in chunks of CHUNK bytes (default 4090) RUNS times
//! (default 9) and prints bytes/s and CAN frames/s (all frames on the bus: data, flow control
//! and replies) of each push and their median. The loopback bus has no bit rate, so this
//! measures the software stack, not a wire.

use std::time::{Duration, Instant};

use hsx_can::frame::standard_id;
use hsx_can::loopback::{Faults, LoopbackHub};
use hsx_can::provision::{
    DeviceSession, ProvisionDevice, ProvisionLink, ProvisionTarget, PushOptions, TargetError,
};
use hsx_can::{IsoTpChannel, IsoTpParams};

/// Counts bytes; keeps nothing, so only the transport is measured.
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

fn main() {
    let mut args = std::env::args().skip(1);
    let kib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    let chunk: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(4090);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(9).max(1);
    let image: Vec<u8> = (0..kib * 1024).map(|i| (i * 13) as u8).collect();
    let params = IsoTpParams::new(standard_id(0x6A0).unwrap(), standard_id(0x6A8).unwrap());
    let hub = LoopbackHub::new(Faults::NONE);
    let (a, b) = (hub.node(), hub.node());
    let device = std::thread::spawn(move || {
        let mut sink = Sink(0);
        let ch = IsoTpChannel::new(b, params.reversed()).expect("device channel");
        let mut dev = ProvisionDevice::new(ch, DeviceSession::default());
        while dev
            .serve_once(&mut sink, Duration::from_millis(200))
            .is_ok()
        {}
        sink.0
    });
    let ch = IsoTpChannel::new(a, params).expect("master channel");
    let options = PushOptions {
        chunk_size: chunk,
        ..PushOptions::default()
    };
    let mut link = ProvisionLink::new(ch, options);
    let mut rates = Vec::new();
    for _ in 0..runs {
        let frames_before = hub.stats().sent;
        let start = Instant::now();
        let report = match link.push(Some("bench"), &image, |_, _| {}) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("push failed: {e}");
                std::process::exit(1);
            }
        };
        let secs = start.elapsed().as_secs_f64();
        let frames = hub.stats().sent - frames_before;
        println!(
            "pushed {} B in {} chunks of {chunk} B: {:.4} s, {:.0} B/s, {frames} frames, {:.0} frames/s, resends {}",
            image.len(),
            report.chunks,
            secs,
            image.len() as f64 / secs,
            frames as f64 / secs,
            report.resends
        );
        rates.push((image.len() as f64 / secs, frames as f64 / secs));
    }
    drop(link);
    let written = device.join().unwrap_or(0);
    assert_eq!(
        written,
        (image.len() * runs) as u64,
        "device received every byte"
    );
    rates.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (bps, fps) = rates[rates.len() / 2];
    println!(
        "median of {runs}: {bps:.0} B/s ({:.1} KiB/s), {fps:.0} frames/s",
        bps / 1024.0
    );
}
