//! SLCAN host and adapter ends on the two sides of a real pseudo-terminal pair.

use std::time::Duration;

use hsx_can::frame::{extended_id, standard_id};
use hsx_can::slcan::{Bitrate, Slcan};
use hsx_can::{CanBus, CanFrame, IsoTpChannel, IsoTpParams};
use serialport::{SerialPort, TTYPort};

fn pty_pair() -> (TTYPort, TTYPort) {
    TTYPort::pair().expect("pseudo-terminal pair")
}

#[test]
fn host_setup_opens_the_adapter_channel_and_frames_flow_both_ways() {
    let (master, slave) = pty_pair();
    let adapter = std::thread::spawn(move || {
        let mut a = Slcan::adapter(master);
        let mut got = Vec::new();
        while got.len() < 2 {
            if let Some(f) = a.recv(Duration::from_millis(100)).unwrap() {
                got.push(f);
            }
        }
        assert!(a.is_open());
        let reply = CanFrame::data(extended_id(0x18DA_F110).unwrap(), &[9, 8, 7]).unwrap();
        a.send(&reply).unwrap();
        (got, a)
    });
    let mut host = Slcan::host(slave, Bitrate::K500).unwrap();
    let f1 = CanFrame::data(standard_id(0x7E0).unwrap(), &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let f2 = CanFrame::remote(standard_id(0x001).unwrap(), 2).unwrap();
    host.send(&f1).unwrap();
    host.send(&f2).unwrap();
    let mut reply = None;
    for _ in 0..50 {
        if let Some(f) = host.recv(Duration::from_millis(100)).unwrap() {
            reply = Some(f);
            break;
        }
    }
    let (got, adapter) = adapter.join().unwrap();
    assert_eq!(got, vec![f1, f2]);
    assert_eq!(reply.unwrap().payload(), &[9, 8, 7]);
    assert_eq!(adapter.errors(), 0);
}

#[test]
fn adapter_rings_the_bell_for_frames_before_open_and_bad_commands() {
    use std::io::{Read, Write};
    let (master, mut slave) = pty_pair();
    let adapter = std::thread::spawn(move || {
        let mut a = Slcan::adapter(master);
        for _ in 0..20 {
            let _ = a.recv(Duration::from_millis(20));
        }
        a.errors()
    });
    slave
        .write_all(b"t1230\rS9\rY\rt12\rxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\rS6\r")
        .unwrap();
    // Read the answers while the adapter end is still open.
    let mut answers = Vec::new();
    slave.set_timeout(Duration::from_millis(100)).unwrap();
    let mut buf = [0u8; 64];
    while answers.len() < 6 {
        match slave.read(&mut buf) {
            Ok(n) => answers.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let errors = adapter.join().unwrap();
    assert_eq!(answers, b"\x07\x07\x07\x07\x07\r");
    assert_eq!(errors, 5);
}

#[test]
fn isotp_message_crosses_the_pty_through_slcan() {
    let (master, slave) = pty_pair();
    let params = IsoTpParams::new(standard_id(0x600).unwrap(), standard_id(0x601).unwrap());
    // A pty discards what is unread when one end closes: the device end stays open until the
    // host has its answer.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let device = std::thread::spawn(move || {
        let mut ch = IsoTpChannel::new(Slcan::adapter(master), params.reversed()).unwrap();
        let msg = ch.recv(Duration::from_secs(10)).unwrap();
        ch.send(&msg[..10], Duration::from_secs(5)).unwrap();
        let _ = done_rx.recv_timeout(Duration::from_secs(10));
        msg
    });
    let mut host = IsoTpChannel::new(Slcan::host(slave, Bitrate::M1).unwrap(), params).unwrap();
    let msg: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
    host.send(&msg, Duration::from_secs(10)).unwrap();
    let echo = host.recv(Duration::from_secs(10)).unwrap();
    done_tx.send(()).unwrap();
    assert_eq!(device.join().unwrap(), msg);
    assert_eq!(echo, msg[..10]);
}

#[test]
fn host_setup_fails_cleanly_when_the_dongle_refuses_the_bit_rate() {
    use std::io::{Read, Write};
    let (mut dongle, host_side) = pty_pair();
    let fake = std::thread::spawn(move || {
        // Answer `C` with ok and everything after it with a bell.
        dongle.set_timeout(Duration::from_secs(2)).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 32];
        while seen.iter().filter(|&&b| b == b'\r').count() < 2 {
            let n = dongle.read(&mut buf).unwrap();
            seen.extend_from_slice(&buf[..n]);
            let answer: &[u8] = if seen.starts_with(b"C\rS") {
                b"\x07"
            } else {
                b"\r"
            };
            if seen.ends_with(b"\r") {
                dongle.write_all(answer).unwrap();
            }
        }
        // Stay open until the host has read the answer.
        std::thread::sleep(Duration::from_millis(200));
        seen
    });
    let err = Slcan::host(host_side, Bitrate::K250)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("refused command S"), "{err}");
    assert_eq!(fake.join().unwrap(), b"C\rS5\r");
}

#[test]
fn a_bus_named_on_the_command_line_opens_a_pty_slave_by_path() {
    let (master, slave) = pty_pair();
    let path = slave.name().expect("pty slave path");
    let adapter = std::thread::spawn(move || {
        let mut a = Slcan::adapter(master);
        for _ in 0..100 {
            if let Some(f) = a.recv(Duration::from_millis(50)).unwrap() {
                return Some(f);
            }
        }
        None
    });
    let mut bus = hsx_can::open_bus(&format!("slcan:{path}@250k")).unwrap();
    let f = CanFrame::data(standard_id(0x321).unwrap(), &[0xAA]).unwrap();
    bus.send(&f).unwrap();
    assert_eq!(adapter.join().unwrap(), Some(f));
    drop(slave);
}
