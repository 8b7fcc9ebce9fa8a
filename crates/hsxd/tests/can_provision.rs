//! `hsxd --can`: images pushed over ISO-TP reach the executive and run, from our own master
//! over a lossy loopback bus and from python-can + can-isotp over SLCAN on a pseudo-terminal.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hsx_can::IsoTpChannel;
use hsx_can::loopback::{Faults, LoopbackHub};
use hsx_can::provision::{ProvisionLink, PushOptions, device_params};
use hsx_can::slcan::Slcan;
use hsxd::{Daemon, EventBus, SystemTimeSource, TimeSource};
use serialport::{SerialPort, TTYPort};

fn daemon() -> Arc<Daemon> {
    let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
    Arc::new(Daemon::in_memory(EventBus::new(time.clone()), time))
}

/// An app that prints nothing and returns 42 after a short loop.
fn app() -> Vec<u8> {
    hsx_asm::assemble_source(
        "t.mvasm",
        ".name \"canapp\"\n.entry main\n.text\nmain:\n    LDI R0, 42\n    RET\n",
        &hsx_asm::AsmOptions::default(),
    )
    .unwrap()
    .hxe_bytes
}

fn wait_task(d: &Daemon, name: &str) -> u32 {
    let start = Instant::now();
    loop {
        if let Some(t) = d.exec().tasks().into_iter().find(|t| t.app_name == name) {
            return t.pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name} never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn runs_to_42(d: &Daemon, pid: u32) {
    let mut exec = d.exec();
    exec.step(100);
    assert_eq!(exec.task(pid).unwrap().exit_status, Some(42));
}

#[test]
fn a_push_over_a_lossy_loopback_bus_starts_the_app() {
    let d = daemon();
    let faults = Faults {
        drop: 0.02,
        duplicate: 0.02,
        reorder: 0.02,
        seed: 7,
        ..Faults::NONE
    };
    let (dev_bus, master_bus) = LoopbackHub::pair(faults);
    let dev = hsxd::can::serve(
        d.clone(),
        IsoTpChannel::new(dev_bus, device_params()).unwrap(),
        "loopback".into(),
    );
    let channel = IsoTpChannel::new(master_bus, device_params().reversed()).unwrap();
    let mut link = ProvisionLink::new(
        channel,
        PushOptions {
            attempts: 20,
            ..PushOptions::default()
        },
    );
    let image = app();
    let rep = link
        .push(Some("over-can"), &image, |_, _| {})
        .expect("push");
    let pid = wait_task(&d, "canapp");
    assert_eq!(pid, rep.pid);
    runs_to_42(&d, pid);
    assert_eq!(
        d.exec().task(pid).unwrap().filepath.as_deref(),
        Some("over-can")
    );
    d.set_stopping();
    dev.join().unwrap();
}

fn python_tools_present() -> bool {
    Command::new("python3")
        .args(["-c", "import can, isotp, serial"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_can_pushes_an_image_that_then_runs() {
    if !python_tools_present() {
        let msg =
            "python3 with python-can, can-isotp and pyserial is not installed (scripts/deps.sh)";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let d = daemon();
    let (master, slave) = TTYPort::pair().expect("pseudo-terminal pair");
    let slave_path = slave.name().expect("pty slave path");
    let dev = hsxd::can::serve(
        d.clone(),
        IsoTpChannel::new(Slcan::adapter(master), device_params()).unwrap(),
        "pty".into(),
    );
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("app.hxe");
    std::fs::write(&img, app()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hsx-can/tests/python_master.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(&slave_path)
        .arg(&img)
        .args(["--label", "from-python"])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python master failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = wait_task(&d, "canapp");
    runs_to_42(&d, pid);
    d.set_stopping();
    dev.join().unwrap();
    drop(slave);
}
