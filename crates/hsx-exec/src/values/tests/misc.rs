//! The rest of the registry: events, descriptor offsets, statistics and warning hysteresis,
//! lookups, capacity, f16 conversion, the VAL_GET word and `Send`.

use super::*;

// ---------------------------------------------------------------------- misc

#[test]
fn events_registration_and_change() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.register_value(100, 1, 1, 0, 0, &[]).unwrap();
    r.set_value_f64(0x0101, None, Caller::HOST, 42.0, 0, &mut port)
        .unwrap();
    let ev: Vec<ValEvent> = r.take_events().into_iter().collect();
    assert_eq!(
        ev[0],
        ValEvent::ValueRegistered {
            pid: 100,
            caller_pid: 100,
            oid: 0x0101,
            flags: 0,
            auth_level: 0,
            desc_head: u32::from(DESC_NONE)
        }
    );
    assert_eq!(
        ev[1],
        ValEvent::ValueChanged {
            pid: 100,
            caller_pid: 100,
            oid: 0x0101,
            old_f16: 0,
            new_f16: f64_to_f16(42.0),
            flags: 0,
            auth_level: 0
        }
    );
}

#[test]
fn describe_and_desc_head_offsets_follow_reference_allocation() {
    let mut r = reg();
    let specs = vec![
        ValueDesc::Group {
            group_id: 1,
            name: "telemetry".into(),
        },
        ValueDesc::Name("rpm".into()),
        ValueDesc::Unit {
            unit_code: encode_unit("rpm"),
            epsilon: f64_to_f16(0.1),
            rate_ms: 50,
        },
        ValueDesc::Range {
            min: 0,
            max: f64_to_f16(5000.0),
        },
    ];
    r.register_value(10, 1, 1, 0, 0, &specs).unwrap();
    let v = &r.describe_values(&ListFilter {
        name: Some("rpm"),
        ..ListFilter::default()
    })[0];
    // Back-to-front: RANGE@0 (8), UNIT@8 (12), NAME@20 (6), GROUP@26 → head 26.
    assert_eq!(v.desc_head, 26);
    assert_eq!((v.rate_ms, v.unit().as_deref()), (Some(50), Some("rpm")));
    assert!(
        r.describe_values(&ListFilter {
            name: Some("nope"),
            ..ListFilter::default()
        })
        .is_empty()
    );
    assert_eq!(
        r.describe_values(&ListFilter {
            group: Some(1),
            owner: Some(10),
            ..ListFilter::default()
        })
        .len(),
        1
    );
}

#[test]
fn stats_and_warning_hysteresis() {
    let mut r = Registry::new(RegistryLimits {
        max_values: 5,
        max_commands: 2,
        string_capacity: 128,
        ..RegistryLimits::desktop()
    });
    for id in 0..4 {
        r.register_value(7, 1, id, 0, 0, &[]).unwrap();
    }
    let s = r.stats();
    assert_eq!((s.values.count, s.values.high_water), (4, 4));
    assert!(s.values.warning);
    assert_eq!(s.values.usage_pct(), 80.0);
    r.release_pid(7);
    let s = r.stats();
    assert!(!s.values.warning);
    assert_eq!(s.values.high_water_pct(), 80.0);
}

#[test]
fn lookups() {
    let mut r = reg();
    assert_eq!(r.lookup_value(1, 1, None), Err(ValError::NotFound));
    r.register_value(100, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(r.lookup_value(1, 1, None), Ok(0x0101));
    assert_eq!(r.lookup_value(1, 1, Some(5)), Err(ValError::NotFound));
    assert_eq!(r.lookup_command(1, 1, None), Err(CmdError::NotFound));
    r.register_command(100, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(r.lookup_command(1, 1, None), Ok(0x0101));
    assert_eq!(
        r.register_command(100, 1, 1, 0, 0, &[]),
        Err(CmdError::Exists)
    );
    assert_eq!(oid(0x12, 0x34), 0x1234);
}

#[test]
fn command_capacity() {
    let mut r = Registry::new(RegistryLimits {
        max_commands: 2,
        ..RegistryLimits::desktop()
    });
    r.register_command(1, 1, 1, 0, 0, &[]).unwrap();
    r.register_command(1, 1, 2, 0, 0, &[]).unwrap();
    assert_eq!(
        r.register_command(1, 1, 3, 0, 0, &[]),
        Err(CmdError::NoSpace)
    );
}

#[test]
fn f16_conversion_rounds_and_saturates() {
    assert_eq!(f64_to_f16(1.0), 0x3C00);
    assert_eq!(f64_to_f16(1e9), 0x7C00);
    assert_eq!(f64_to_f16(-1e9), 0xFC00);
    assert_eq!(f16_to_f64(0x4CA0), 18.5);
}

#[test]
fn val_get_word_encoding() {
    assert_eq!(val_get_word(Ok(0x3C00)), 0x3C00);
    assert_eq!(val_get_word(Err(ValError::NotFound)), 1);
    assert_eq!(val_get_word(Err(ValError::PermissionDenied)), 2);
}

#[test]
fn registry_and_manager_are_send() {
    fn send<T: Send>() {}
    send::<Registry>();
    send::<MailboxManager>();
}
