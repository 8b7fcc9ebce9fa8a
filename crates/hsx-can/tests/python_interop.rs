//! Interop with tools nobody here wrote: python-can (SLCAN interface) and can-isotp push an
//! image through a pseudo-terminal to the Rust device side (SLCAN adapter end + ISO-TP +
//! provisioning), which must reassemble it byte for byte.
//!
//! Needs `python3` with `python-can`, `can-isotp` and `pyserial` (scripts/deps.sh installs
//! them). Without them the test says so and passes, except under CI (`CI` set), where it fails.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{AssemblingTarget, image};
use hsx_can::frame::standard_id;
use hsx_can::provision::{DeviceSession, ProvisionDevice};
use hsx_can::slcan::Slcan;
use hsx_can::{IsoTpChannel, IsoTpParams};
use serialport::{SerialPort, TTYPort};

fn python_tools_present() -> bool {
    Command::new("python3")
        .args(["-c", "import can, isotp, serial"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_can_isotp_master_pushes_an_image_over_slcan_on_a_pty() {
    if !python_tools_present() {
        let msg = "python3 with python-can, can-isotp and pyserial is not installed \
                   (run scripts/deps.sh, or: python3 -m pip install python-can can-isotp pyserial)";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let (master, slave) = TTYPort::pair().expect("pseudo-terminal pair");
    let slave_path = slave.name().expect("pty slave has a path");
    let dir = tempfile::tempdir().unwrap();
    let img = image(16 * 1024 + 27, 42);
    let img_path = dir.path().join("app.hxe");
    std::fs::write(&img_path, &img).unwrap();

    let params = IsoTpParams::new(standard_id(0x6A8).unwrap(), standard_id(0x6A0).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let device = std::thread::spawn(move || {
        let mut target = AssemblingTarget::new();
        let channel = IsoTpChannel::new(Slcan::adapter(master), params).unwrap();
        let mut dev = ProvisionDevice::new(channel, DeviceSession::default());
        let mut events = 0;
        while !flag.load(Ordering::Relaxed) {
            match dev.serve_once(&mut target, Duration::from_millis(50)) {
                Ok(Some(_)) => events += 1,
                Ok(None) => {}
                Err(e) => return Err(format!("device: {e}")),
            }
        }
        Ok((target, events))
    });

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_master.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(&slave_path)
        .arg(&img_path)
        .args(["--label", "from-python", "--chunk", "1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("python master did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    stop.store(true, Ordering::Relaxed);
    let (target, events) = device.join().unwrap().unwrap();
    // The slave stays open until here: a pty whose slave side has no opener reports EIO.
    drop(slave);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.success(),
        "python master failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pushed 16411 bytes"), "{stdout}");
    assert_eq!(target.installed.len(), 1);
    let (_, label, bytes) = &target.installed[0];
    assert_eq!(label.as_deref(), Some("from-python"));
    assert_eq!(bytes, &img, "image differs");
    // BEGIN, 17 chunks and END each produced an event.
    assert_eq!(events, 1 + 17 + 1);
}
