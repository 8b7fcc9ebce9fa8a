//! ISO-TP messages over the loopback bus, clean and with injected faults.

use std::thread;
use std::time::Duration;

use hsx_can::frame::standard_id;
use hsx_can::isotp::MAX_MESSAGE;
use hsx_can::loopback::{Faults, LoopbackHub};
use hsx_can::{IsoTpChannel, IsoTpError, IsoTpParams};
use proptest::prelude::*;

fn params() -> IsoTpParams {
    let mut p = IsoTpParams::new(standard_id(0x7E0).unwrap(), standard_id(0x7E8).unwrap());
    p.n_bs = Duration::from_millis(100);
    p.n_cr = Duration::from_millis(100);
    p
}

fn payload(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ salt)
        .collect()
}

/// Sends `msg` once over a bus with `faults`; returns what the sender and receiver saw.
fn one_transfer(
    msg: &[u8],
    faults: Faults,
) -> (Result<(), IsoTpError>, Result<Vec<u8>, IsoTpError>) {
    let (a, b) = LoopbackHub::pair(faults);
    let mut tx = IsoTpChannel::new(a, params()).unwrap();
    let mut rx = IsoTpChannel::new(b, params().reversed()).unwrap();
    let receiver = thread::spawn(move || rx.recv(Duration::from_secs(3)));
    let sent = tx.send(msg, Duration::from_secs(3));
    // Keep the sender's node alive until the receiver is done, as a real peer would be.
    let received = receiver.join().expect("receiver thread");
    drop(tx);
    (sent, received)
}

#[test]
fn every_boundary_length_round_trips() {
    for len in [
        1,
        6,
        7,
        8,
        13,
        14,
        62,
        63,
        64,
        111,
        112,
        113,
        1024,
        4094,
        MAX_MESSAGE,
    ] {
        let msg = payload(len, 0x5A);
        let (sent, received) = one_transfer(&msg, Faults::NONE);
        sent.unwrap();
        assert_eq!(received.unwrap(), msg, "length {len}");
    }
}

#[test]
fn block_size_and_st_min_are_honoured_by_the_sender() {
    let (a, b) = LoopbackHub::pair(Faults::NONE);
    let mut rx_params = params().reversed();
    rx_params.block_size = 2;
    rx_params.st_min = Duration::from_millis(1);
    let hub = a.hub();
    let mut tx = IsoTpChannel::new(a, params()).unwrap();
    let mut rx = IsoTpChannel::new(b, rx_params).unwrap();
    let msg = payload(200, 1);
    let receiver = thread::spawn(move || rx.recv(Duration::from_secs(5)).map(|m| (m, rx)));
    tx.send(&msg, Duration::from_secs(5)).unwrap();
    let (got, rx) = receiver.join().unwrap().unwrap();
    assert_eq!(got, msg);
    // 200 bytes: 1 first frame + 28 consecutive frames, one flow control per 2 of them
    // (after the first frame, then after every second consecutive frame but the last).
    let (rx_sent, _) = rx.frame_counts();
    assert_eq!(rx_sent, 1 + 13);
    assert_eq!(hub.stats().sent, 29 + 14);
}

#[test]
fn a_lost_last_frame_ends_in_a_receiver_timeout_not_a_hang() {
    // Everything lost after the first frame and its flow control.
    let hub = LoopbackHub::new(Faults::NONE);
    let (a, b) = (hub.node(), hub.node());
    let mut tx = IsoTpChannel::new(a, params()).unwrap();
    let mut rx = IsoTpChannel::new(b, params().reversed()).unwrap();
    let receiver = thread::spawn(move || rx.recv(Duration::from_millis(600)));
    hub.set_faults(Faults {
        drop: 1.0,
        ..Faults::NONE
    });
    let sent = tx.send(&payload(500, 2), Duration::from_secs(2));
    assert!(matches!(sent, Err(IsoTpError::Timeout(_))), "{sent:?}");
    let received = receiver.join().unwrap();
    assert!(
        matches!(received, Err(IsoTpError::Timeout(_))),
        "{received:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_length_round_trips_on_a_clean_bus(len in 1usize..=MAX_MESSAGE, salt in any::<u8>()) {
        let msg = payload(len, salt);
        let (sent, received) = one_transfer(&msg, Faults::NONE);
        prop_assert!(sent.is_ok());
        prop_assert_eq!(received.unwrap(), msg);
    }

    /// With drops, duplicates and reordering a transfer either delivers exactly the message or
    /// fails with an error on both sides within its deadlines; it never hangs and never delivers
    /// different bytes.
    #[test]
    fn faults_give_the_message_or_a_clean_error(
        len in 1usize..=MAX_MESSAGE,
        seed in any::<u64>(),
    ) {
        let faults = Faults {
            drop: 0.01,
            duplicate: 0.01,
            reorder: 0.01,
            delay: 0.01,
            max_delay: Duration::from_millis(3),
            seed,
        };
        let msg = payload(len, seed as u8);
        let (_sent, received) = one_transfer(&msg, faults);
        if let Ok(got) = received {
            prop_assert_eq!(got, msg);
        }
    }
}

/// A hand-driven peer: raw frames on the receiver's identifiers, to play flow-control and
/// sequencing cases a well-behaved node never produces.
mod raw {
    use super::*;
    use hsx_can::{CanBus, CanFrame};

    pub fn frame(bytes: &[u8]) -> CanFrame {
        CanFrame::data(standard_id(0x7E8).unwrap(), bytes).unwrap()
    }

    /// The next frame the raw node receives (panics after 2 s: the test would be wrong).
    pub fn next(bus: &mut impl CanBus) -> CanFrame {
        bus.recv(Duration::from_secs(2)).unwrap().expect("a frame")
    }
}

#[test]
fn flow_control_overflow_fails_the_send() {
    let (a, mut peer) = LoopbackHub::pair(Faults::NONE);
    let sender = thread::spawn(move || {
        let mut tx = IsoTpChannel::new(a, params()).unwrap();
        tx.send(&payload(100, 0), Duration::from_secs(2))
    });
    let ff = raw::next(&mut peer);
    assert_eq!(&ff.payload()[..2], &[0x10, 100]);
    hsx_can::CanBus::send(&mut peer, &raw::frame(&[0x32, 0, 0])).unwrap();
    let r = sender.join().unwrap();
    assert!(matches!(r, Err(IsoTpError::RemoteOverflow)), "{r:?}");
}

#[test]
fn flow_control_wait_is_honoured_then_too_many_waits_fail() {
    // One WAIT, then CTS: the message completes.
    let (a, mut peer) = LoopbackHub::pair(Faults::NONE);
    let sender = thread::spawn(move || {
        let mut tx = IsoTpChannel::new(a, params()).unwrap();
        tx.send(&payload(20, 0), Duration::from_secs(2))
    });
    raw::next(&mut peer);
    hsx_can::CanBus::send(&mut peer, &raw::frame(&[0x31, 0, 0])).unwrap();
    hsx_can::CanBus::send(&mut peer, &raw::frame(&[0x30, 0, 0])).unwrap();
    let cf: Vec<u8> = (0..2).map(|_| raw::next(&mut peer).payload()[0]).collect();
    assert_eq!(cf, vec![0x21, 0x22]);
    sender.join().unwrap().unwrap();

    // More WAITs than wft_max: the send gives up.
    let (a, mut peer) = LoopbackHub::pair(Faults::NONE);
    let mut p = params();
    p.wft_max = 2;
    let sender = thread::spawn(move || {
        let mut tx = IsoTpChannel::new(a, p).unwrap();
        tx.send(&payload(20, 0), Duration::from_secs(2))
    });
    raw::next(&mut peer);
    for _ in 0..4 {
        hsx_can::CanBus::send(&mut peer, &raw::frame(&[0x31, 0, 0])).unwrap();
    }
    let r = sender.join().unwrap();
    assert!(matches!(r, Err(IsoTpError::Timeout(_))), "{r:?}");
}

#[test]
fn a_skipped_sequence_number_drops_the_message() {
    let (mut peer, b) = LoopbackHub::pair(Faults::NONE);
    let receiver = thread::spawn(move || {
        let mut rx = IsoTpChannel::new(b, params().reversed()).unwrap();
        let first = rx.recv(Duration::from_secs(2));
        // The channel still works for the next message.
        (first, rx.recv(Duration::from_secs(2)))
    });
    let to_rx = |bytes: &[u8]| hsx_can::CanFrame::data(standard_id(0x7E0).unwrap(), bytes).unwrap();
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x10, 20, 1, 2, 3, 4, 5, 6])).unwrap();
    let fc = raw::next(&mut peer);
    assert_eq!(fc.payload()[0], 0x30);
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x22, 0, 0, 0, 0, 0, 0, 0])).unwrap();
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x03, 7, 8, 9])).unwrap();
    let (first, second) = receiver.join().unwrap();
    assert!(matches!(first, Err(IsoTpError::BadSequence)), "{first:?}");
    assert_eq!(second.unwrap(), vec![7, 8, 9]);
}

#[test]
fn a_new_first_frame_restarts_an_unfinished_message() {
    let (mut peer, b) = LoopbackHub::pair(Faults::NONE);
    let receiver = thread::spawn(move || {
        let mut rx = IsoTpChannel::new(b, params().reversed()).unwrap();
        rx.recv(Duration::from_secs(2))
    });
    let to_rx = |bytes: &[u8]| hsx_can::CanFrame::data(standard_id(0x7E0).unwrap(), bytes).unwrap();
    // A message whose last frame is lost ...
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x10, 20, 0, 0, 0, 0, 0, 0])).unwrap();
    raw::next(&mut peer);
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x21, 0, 0, 0, 0, 0, 0, 0])).unwrap();
    // ... and the resend, before N_Cr ends the first.
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x10, 9, 1, 2, 3, 4, 5, 6])).unwrap();
    raw::next(&mut peer);
    hsx_can::CanBus::send(&mut peer, &to_rx(&[0x21, 7, 8, 9])).unwrap();
    assert_eq!(
        receiver.join().unwrap().unwrap(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
}
