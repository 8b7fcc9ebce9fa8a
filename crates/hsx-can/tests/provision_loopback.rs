//! Whole pushes over the loopback bus against a target that assembles and verifies the image.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::{AssemblingTarget, image};
use hsx_can::frame::standard_id;
use hsx_can::loopback::{Faults, LoopbackBus, LoopbackHub};
use hsx_can::provision::wire::Status;
use hsx_can::provision::{
    DeviceEvent, DeviceSession, ProvisionDevice, ProvisionError, ProvisionLink, PushOptions,
    SessionStatus,
};
use hsx_can::{BusError, IsoTpChannel, IsoTpError, IsoTpParams};
use proptest::prelude::*;

fn params() -> IsoTpParams {
    let mut p = IsoTpParams::new(standard_id(0x6A0).unwrap(), standard_id(0x6A8).unwrap());
    p.n_bs = Duration::from_millis(100);
    p.n_cr = Duration::from_millis(100);
    p
}

struct Device {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(AssemblingTarget, Vec<DeviceEvent>)>,
}

impl Device {
    fn spawn(bus: LoopbackBus, session: DeviceSession, target: AssemblingTarget) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut target = target;
            let mut dev = ProvisionDevice::new(
                IsoTpChannel::new(bus, params().reversed()).unwrap(),
                session,
            );
            let mut events = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match dev.serve_once(&mut target, Duration::from_millis(20)) {
                    Ok(Some(ev)) => events.push(ev),
                    Ok(None) => {}
                    Err(IsoTpError::Bus(BusError::Closed)) => break,
                    Err(e) => panic!("device: {e}"),
                }
            }
            (target, events)
        });
        Self { stop, handle }
    }

    fn finish(self) -> (AssemblingTarget, Vec<DeviceEvent>) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("device thread")
    }
}

/// Options for tests whose replies are lost on purpose: give up quickly.
fn impatient() -> PushOptions {
    PushOptions {
        reply_timeout: Duration::from_millis(100),
        attempts: 3,
        ..PushOptions::default()
    }
}

fn master(bus: LoopbackBus, options: PushOptions) -> ProvisionLink<IsoTpChannel<LoopbackBus>> {
    ProvisionLink::new(IsoTpChannel::new(bus, params()).unwrap(), options)
}

#[test]
fn a_64_kib_push_arrives_whole_with_monotonic_progress() {
    let (a, b) = LoopbackHub::pair(Faults::NONE);
    let dev = Device::spawn(b, DeviceSession::default(), AssemblingTarget::new());
    let mut link = master(a, PushOptions::default());
    let img = image(64 * 1024, 1);
    let mut seen = Vec::new();
    let report = link
        .push(Some("blinky"), &img, |w, t| seen.push((w, t)))
        .unwrap();
    assert_eq!(
        link.status().unwrap(),
        SessionStatus::Completed { pid: report.pid }
    );
    let (target, events) = dev.finish();
    assert_eq!(target.installed.len(), 1);
    assert_eq!(target.installed[0].1.as_deref(), Some("blinky"));
    assert_eq!(target.installed[0].2, img);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(seen.last(), Some(&(img.len() as u64, img.len() as u64)));
    assert_eq!(report.resends, 0);
    assert_eq!(report.chunks as usize, img.len().div_ceil(4090));
    assert!(matches!(events.last(), Some(DeviceEvent::Completed { .. })));
}

#[test]
fn the_device_chunk_limit_is_respected() {
    let (a, b) = LoopbackHub::pair(Faults::NONE);
    let session = DeviceSession::new(512, Duration::from_secs(10));
    let dev = Device::spawn(b, session, AssemblingTarget::new());
    let img = image(5000, 2);
    let report = master(a, PushOptions::default())
        .push(None, &img, |_, _| {})
        .unwrap();
    assert_eq!(report.chunks, 10);
    assert_eq!(dev.finish().0.installed[0].2, img);
}

#[test]
fn a_corrupt_image_is_refused_at_end_and_its_session_freed() {
    let (a, b) = LoopbackHub::pair(Faults::NONE);
    let dev = Device::spawn(b, DeviceSession::default(), AssemblingTarget::new());
    let mut img = image(3000, 3);
    img[100] ^= 0xFF;
    let err = master(a, PushOptions::default())
        .push(None, &img, |_, _| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProvisionError::Refused {
                what: "END",
                status: Status::BadMessage
            }
        ),
        "{err}"
    );
    let (target, _) = dev.finish();
    assert!(target.installed.is_empty() && target.current.is_none());
    assert_eq!(target.aborted, vec![1]);
}

#[test]
fn no_space_is_reported_at_begin() {
    let (a, b) = LoopbackHub::pair(Faults::NONE);
    let mut target = AssemblingTarget::new();
    target.capacity = 1000;
    let dev = Device::spawn(b, DeviceSession::default(), target);
    let err = master(a, PushOptions::default())
        .push(None, &image(2000, 4), |_, _| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProvisionError::Refused {
                status: Status::NoSpace,
                ..
            }
        ),
        "{err}"
    );
    dev.finish();
}

#[test]
fn a_silent_master_loses_its_session_to_the_inactivity_timeout() {
    let hub = LoopbackHub::new(Faults::NONE);
    let (a, b) = (hub.node(), hub.node());
    let session = DeviceSession::new(4090, Duration::from_millis(100));
    let dev = Device::spawn(b, session, AssemblingTarget::new());
    let mut link = master(a, impatient());
    let img = image(20_000, 5);
    // Let BEGIN and the first chunk through, then cut the bus.
    let mut cut = false;
    let err = link
        .push(None, &img, |_, _| {
            if !cut {
                cut = true;
                hub.set_faults(Faults {
                    drop: 1.0,
                    ..Faults::NONE
                });
            }
        })
        .unwrap_err();
    assert!(
        matches!(err, ProvisionError::NoReply { what: "CHUNK", .. }),
        "{err}"
    );
    thread::sleep(Duration::from_millis(200));
    let (target, events) = dev.finish();
    assert!(target.current.is_none());
    assert!(
        events.iter().any(
            |e| matches!(e, DeviceEvent::Aborted { reason, .. } if reason == "inactivity timeout")
        ),
        "{events:?}"
    );
}

#[test]
fn a_second_master_gets_busy_while_a_load_is_open() {
    let hub = LoopbackHub::new(Faults::NONE);
    let dev = Device::spawn(
        hub.node(),
        DeviceSession::default(),
        AssemblingTarget::new(),
    );
    let mut first = master(hub.node(), impatient());
    // Start a session by hand: BEGIN only.
    let mut cut = false;
    let _ = first.push(None, &image(9000, 6), |_, _| {
        if !cut {
            cut = true;
            hub.set_faults(Faults {
                drop: 1.0,
                ..Faults::NONE
            });
        }
    });
    hub.set_faults(Faults::NONE);
    // The first master's ABORT was lost too, so its session is still open.
    let mut second = master(hub.node(), PushOptions::default());
    drop(first);
    let err = second.push(None, &image(100, 7), |_, _| {}).unwrap_err();
    assert!(
        matches!(
            err,
            ProvisionError::Refused {
                what: "BEGIN",
                status: Status::Busy
            }
        ),
        "{err}"
    );
    assert!(matches!(
        second.status().unwrap(),
        SessionStatus::Loading { .. }
    ));
    second.abort().unwrap();
    second.push(None, &image(100, 7), |_, _| {}).unwrap();
    assert_eq!(dev.finish().0.installed.len(), 1);
}

#[test]
fn resends_recover_from_lost_and_repeated_frames() {
    let faults = Faults {
        drop: 0.004,
        duplicate: 0.004,
        seed: 12,
        ..Faults::NONE
    };
    let (a, b) = LoopbackHub::pair(faults);
    let hub = a.hub();
    let dev = Device::spawn(b, DeviceSession::default(), AssemblingTarget::new());
    let options = PushOptions {
        reply_timeout: Duration::from_millis(150),
        attempts: 20,
        chunk_size: 256,
    };
    let img = image(8000, 8);
    let report = master(a, options).push(None, &img, |_, _| {}).unwrap();
    let (target, _) = dev.finish();
    assert!(report.resends > 0, "{report:?}");
    let stats = hub.stats();
    assert!(stats.dropped > 0 && stats.duplicated > 0, "{stats:?}");
    assert_eq!(target.installed.len(), 1);
    assert_eq!(target.installed[0].2, img);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Lost, repeated, reordered and late frames are absorbed by resends: the image that
    /// arrives is the one pushed, byte for byte, or the push fails with an error and nothing is
    /// installed.
    #[test]
    fn faulty_bus_pushes_are_exact_or_cleanly_refused(len in 4usize..12_000, seed in any::<u64>()) {
        let faults = Faults {
            drop: 0.002,
            duplicate: 0.002,
            reorder: 0.002,
            delay: 0.002,
            max_delay: Duration::from_millis(3),
            seed,
        };
        let (a, b) = LoopbackHub::pair(faults);
        let dev = Device::spawn(b, DeviceSession::default(), AssemblingTarget::new());
        let options = PushOptions {
            reply_timeout: Duration::from_millis(150),
            attempts: 10,
            chunk_size: 512,
        };
        let img = image(len, seed);
        let result = master(a, options).push(None, &img, |_, _| {});
        let (target, _) = dev.finish();
        match result {
            Ok(_) => {
                prop_assert_eq!(target.installed.len(), 1);
                prop_assert_eq!(&target.installed[0].2, &img);
            }
            Err(e) => {
                prop_assert!(target.installed.is_empty(), "{e}");
            }
        }
    }
}
