//! Streamed loading: `load_begin/write/end/start/abort` and their error model.

mod common;
use common::*;

use hsx_exec::stream::StreamError;
use hsx_exec::{EventKind, ExecConfig, LoadLimits, LoadOptions, LoadPhase, ProvKind, TaskState};
use hsx_image::{HEADER_V2_LEN, Image, LoadError, META_OFFSET_OFFSET, ValueEntry};

/// A v2 image that prints nothing and returns 7, with one value so it has a section table.
fn app(name: &str) -> Vec<u8> {
    let mut a = Asm::new();
    a.ldi(0, 7).ret();
    let mut img = image(&a.build(), b"rodata bytes");
    img.app_name = Some(name.into());
    img.set_allow_multiple_instances(false);
    img.metadata.values.push(ValueEntry {
        group: 1,
        id: 2,
        name: Some("speed".into()),
        ..ValueEntry::default()
    });
    img.to_v2_bytes()
}

fn stream(ex: &mut hsx_exec::Executive, bytes: &[u8], chunk: usize) -> Result<u32, StreamError> {
    let pid = ex.load_begin(Some("test"), bytes.len() as u32)?;
    for c in bytes.chunks(chunk) {
        ex.load_write(pid, c)?;
    }
    ex.load_end(pid)?;
    Ok(pid)
}

fn prov_names(ex: &mut hsx_exec::Executive) -> Vec<&'static str> {
    ex.drain_events()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Provisioning(_)))
        .map(|e| e.kind.name())
        .collect()
}

#[test]
fn a_streamed_image_runs_like_a_monolithic_one() {
    let (mut ex, _c) = exec();
    let bytes = app("streamed");
    let pid = stream(&mut ex, &bytes, 7).unwrap();
    assert_eq!(ex.load_sessions()[0].phase, LoadPhase::Ready);
    assert_eq!(ex.load_staged(pid), Some(&bytes[..]));
    let rep = ex.load_start(pid, LoadOptions::default()).unwrap();
    assert_eq!(rep.pid, pid, "the task gets the PID reserved at load_begin");
    assert_eq!(rep.app_name, "streamed");
    assert!(ex.load_sessions().is_empty());
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.exit_status), (TaskState::Returned, Some(7)));

    // The same bytes in one piece give the same task.
    let mono = ex.load(&bytes, LoadOptions::default());
    assert!(mono.is_err(), "app names are unique: {mono:?}");
}

#[test]
fn progress_is_reported_monotonically_and_rate_limited() {
    let (mut ex, _c) = exec();
    let bytes = app("progress");
    ex.drain_events();
    stream(&mut ex, &bytes, 1).unwrap();
    let events = ex.drain_events();
    let progress: Vec<u32> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Provisioning(p) => match p.kind {
                ProvKind::Progress { bytes_written, .. } => Some(bytes_written),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(progress.len() <= 33, "{} progress events", progress.len());
    assert!(progress.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(progress.last(), Some(&(bytes.len() as u32)));
    let first = events.iter().find_map(|e| match &e.kind {
        EventKind::Provisioning(p) => Some(p.kind.name()),
        _ => None,
    });
    assert_eq!(first, Some("provisioning.started"));
    assert!(
        events
            .iter()
            .any(|e| e.kind.name() == "provisioning.complete")
    );
}

#[test]
fn a_bad_magic_is_refused_with_the_header_and_frees_the_session() {
    let (mut ex, _c) = exec();
    let mut bytes = app("bad");
    bytes[0] = b'Z';
    let pid = ex.load_begin(None, bytes.len() as u32).unwrap();
    ex.drain_events();
    let e = ex.load_write(pid, &bytes[..HEADER_V2_LEN]).unwrap_err();
    assert!(matches!(e, StreamError::BadImage(LoadError::BadMagic(_))));
    assert_eq!(e.code(), "EBADMSG");
    assert_eq!(prov_names(&mut ex), ["provisioning.error"]);
    let s = &ex.load_sessions()[0];
    assert_eq!(s.phase, LoadPhase::Failed);
    assert!(s.error.as_deref().unwrap().starts_with("EBADMSG"));
    // A failed session takes no more bytes, and abort clears it.
    assert!(matches!(
        ex.load_write(pid, &bytes[..4]),
        Err(StreamError::Busy { .. })
    ));
    ex.load_abort(pid).unwrap();
    assert!(ex.load_sessions().is_empty());
    assert_eq!(ex.load_abort(pid), Err(StreamError::NoSession(pid)));
}

#[test]
fn a_section_table_pointing_outside_the_file_is_refused_when_it_arrives() {
    let (mut ex, _c) = exec();
    let mut bytes = app("table");
    let table = u32::from_be_bytes(
        bytes[META_OFFSET_OFFSET..META_OFFSET_OFFSET + 4]
            .try_into()
            .unwrap(),
    ) as usize;
    // Section 0's size: far past the end of the file.
    bytes[table + 8..table + 12].copy_from_slice(&0x00FF_0000u32.to_be_bytes());
    let pid = ex.load_begin(None, bytes.len() as u32).unwrap();
    ex.load_write(pid, &bytes[..table]).unwrap();
    let e = ex.load_write(pid, &bytes[table..table + 16]).unwrap_err();
    assert_eq!(
        e,
        StreamError::BadImage(LoadError::MetadataSectionOutOfBounds { index: 0 })
    );
    assert!(
        (table + 16) < bytes.len(),
        "refused before the end of the image"
    );
}

#[test]
fn a_corrupted_byte_fails_verification_at_the_end() {
    let (mut ex, _c) = exec();
    let mut bytes = app("crc");
    let n = bytes.len();
    bytes[n - 1] ^= 0x55;
    let e = stream(&mut ex, &bytes, 64).unwrap_err();
    assert!(matches!(
        e,
        StreamError::BadImage(LoadError::CrcMismatch { .. })
    ));
    assert_eq!(ex.load_sessions()[0].phase, LoadPhase::Failed);
}

#[test]
fn limits_and_unknown_sessions() {
    let cfg = ExecConfig {
        load: LoadLimits {
            max_image: 1000,
            max_chunk: 16,
            max_sessions: 1,
            ..LoadLimits::desktop()
        },
        ..ExecConfig::default()
    };
    let (mut ex, _c) = exec_with(cfg);
    assert!(matches!(
        ex.load_begin(None, 1001),
        Err(StreamError::NoSpace(_))
    ));
    assert!(matches!(
        ex.load_begin(None, 10),
        Err(StreamError::BadImage(LoadError::TooSmall { .. }))
    ));
    let pid = ex.load_begin(None, 200).unwrap();
    assert!(matches!(
        ex.load_begin(None, 200),
        Err(StreamError::Busy { .. })
    ));
    assert!(matches!(
        ex.load_write(pid, &[0; 17]),
        Err(StreamError::ChunkTooLarge { len: 17, max: 16 })
    ));
    assert_eq!(ex.load_write(99, &[0]), Err(StreamError::NoSession(99)));
    assert_eq!(ex.load_end(99), Err(StreamError::NoSession(99)));
    assert_eq!(ex.load_sessions()[0].phase, LoadPhase::Failed);
}

#[test]
fn timeouts_abort_and_free_the_reservation() {
    let cfg = ExecConfig {
        max_tasks: 1,
        load: LoadLimits {
            write_timeout_ms: 500,
            total_timeout_ms: 2_000,
            ..LoadLimits::desktop()
        },
        ..ExecConfig::default()
    };
    let (mut ex, clock) = exec_with(cfg);
    let bytes = app("slow");
    let pid = ex.load_begin(None, bytes.len() as u32).unwrap();
    // The reservation holds the only task place.
    assert!(ex.load(&app("other"), LoadOptions::default()).is_err());
    ex.load_write(pid, &bytes[..10]).unwrap();
    clock.advance(400);
    ex.load_write(pid, &bytes[10..20]).unwrap();
    clock.advance(600);
    ex.drain_events();
    ex.step(1);
    assert!(ex.load_sessions().is_empty(), "write timeout");
    assert_eq!(prov_names(&mut ex), ["provisioning.aborted"]);
    assert_eq!(
        ex.load_write(pid, &bytes[20..]),
        Err(StreamError::NoSession(pid))
    );
    // The place is free again.
    let other = ex.load(&app("other"), LoadOptions::default()).unwrap();
    ex.kill(other.pid).unwrap();

    // A session that keeps writing still ends at the total timeout.
    let pid = ex.load_begin(None, bytes.len() as u32).unwrap();
    for i in 0..5 {
        clock.advance(450);
        let r = ex.load_write(pid, &bytes[i..=i]);
        if i < 4 {
            r.unwrap();
        } else {
            assert_eq!(r, Err(StreamError::NoSession(pid)));
        }
    }
}

#[test]
fn a_staged_image_that_cannot_start_reports_and_consumes_its_pid() {
    let (mut ex, _c) = exec();
    let bytes = app("twice");
    ex.load(&bytes, LoadOptions::default()).unwrap();
    let pid = stream(&mut ex, &bytes, 50).unwrap();
    ex.drain_events();
    let e = ex.load_start(pid, LoadOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "app_exists:twice");
    assert_eq!(prov_names(&mut ex), ["provisioning.error"]);
    assert!(ex.load_sessions().is_empty());
    assert!(ex.task(pid).is_err());
}

#[test]
fn v1_images_stream_too() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi(0, 3).ret();
    let bytes = Image::new(Vec::new(), Vec::new(), 0);
    let mut img = bytes;
    img.set_code_words(&a.build());
    let v1 = img.to_v1_bytes();
    let pid = stream(&mut ex, &v1, 3).unwrap();
    ex.load_start(pid, LoadOptions::named("v1app")).unwrap();
    ex.step(10);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(3));
}
