//! `services.md` §8 case 22: persisted values, debounced writes and VAL_PERSIST modes.

use super::*;

// ---------------------------------------------------------------------- §8 case 22

#[test]
fn case22_persisted_value_loaded_and_change_scheduled_with_debounce() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.set_persist(Box::new(MemPersist::with_records(&[(99, f64_to_f16(3.5))])));
    let oid = r
        .register_value(
            11,
            5,
            6,
            flag::PERSIST,
            0,
            &[ValueDesc::Persist {
                key: 99,
                debounce_ms: 75,
            }],
        )
        .unwrap();
    assert_eq!(
        f16_to_f64(r.get_value(oid, None, Caller::task(11)).unwrap()),
        3.5
    );
    r.set_value_f64(oid, None, Caller::task(11), 7.25, 1000, &mut port)
        .unwrap();
    assert_eq!(
        r.pending_writes().pending(99),
        Some((f64_to_f16(7.25), 1075))
    );
    assert_eq!(r.next_persist_due(), Some(1075));
    assert_eq!(r.persist_mut().unwrap().load(99), Some(f64_to_f16(3.5)));
    assert_eq!(r.flush_persist_due(1075), 1);
    assert_eq!(r.persist_mut().unwrap().load(99), Some(f64_to_f16(7.25)));
}

#[test]
fn case22_metadata_value_with_key_writes_through() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.set_persist(Box::new(MemPersist::new()));
    let oid = r
        .register_value_from_meta(
            1,
            &MetaValue {
                group: 1,
                id: 2,
                flags: 0,
                init: f64_to_f16(12.5),
                name: Some("temperature"),
                unit: Some("degC"),
                epsilon: f64_to_f16(0.1),
                min: f64_to_f16(-40.0),
                max: f64_to_f16(125.0),
                persist_key: 17,
                group_name: Some("sensors"),
                ..MetaValue::default()
            },
        )
        .unwrap();
    let info = &r.describe_values(&ListFilter::default())[0];
    assert_ne!(info.flags & flag::PERSIST, 0, "key forces PERSIST");
    assert_eq!(info.last_value(), 12.5);
    assert_eq!(info.unit().as_deref(), Some("degC"));
    assert_eq!(info.group_name.as_deref(), Some("sensors"));
    assert_eq!(info.range, Some((f64_to_f16(-40.0), f64_to_f16(125.0))));
    assert_eq!(info.persist_key, 17);
    r.set_value_f64(oid, None, Caller::task(1), 18.5, 0, &mut port)
        .unwrap();
    assert_eq!(r.persist_mut().unwrap().load(17), Some(f64_to_f16(18.5)));
    assert_eq!(r.pending_writes().pending_count(), 0);
}

#[test]
fn val_persist_modes() {
    let mut r = reg();
    let oid = r.register_value(1, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(
        r.persist_value(oid, None, Caller::task(2), 1),
        Err(ValError::PermissionDenied)
    );
    assert_eq!(
        r.persist_value(oid, None, Caller::task(1), 3),
        Err(ValError::Invalid)
    );
    assert_eq!(
        r.persist_value(0x0505, None, Caller::task(1), 1),
        Err(ValError::NotFound)
    );
    r.persist_value(oid, None, Caller::task(1), persist_mode::SAVE)
        .unwrap();
    let info = &r.describe_values(&ListFilter::default())[0];
    assert_ne!(info.flags & flag::PERSIST, 0);
    assert_eq!(info.persist_key, 0);
    assert_ne!(info.desc_head, u32::from(DESC_NONE));
    r.persist_value(oid, None, Caller::task(1), persist_mode::VOLATILE)
        .unwrap();
    assert_eq!(
        r.describe_values(&ListFilter::default())[0].flags & flag::PERSIST,
        0
    );
}
