//! v2 metadata payloads: mailbox JSON shapes, aliases, mode names, legacy struct form,
//! string-table errors and the linker-side validation.

mod common;

use common::*;
use hsx_image::*;

fn mailboxes(json: &str) -> Result<Vec<MailboxEntry>, LoadError> {
    Image::parse(&v2_with_sections(&[], &[mailbox_payload(json)])).map(|i| i.metadata.mailboxes)
}

fn one(json: &str) -> MailboxEntry {
    let mut list = mailboxes(json).unwrap();
    assert_eq!(list.len(), 1);
    list.remove(0)
}

fn mbx_err(json: &str, expected: LoadError, message: &str) {
    let e = mailboxes(json).expect_err("payload must be rejected");
    assert_eq!(e, expected);
    assert_eq!(e.to_string(), message);
}

#[test]
fn json_object_form() {
    let m = one(
        r#"{"version":1,"mailboxes":[{"target":"app:x","capacity":128,"mode_mask":9,"owner_pid":4,"bindings":[{"pid":2,"flags":65537},{"pid":3}]}]}"#,
    );
    assert_eq!(m.target, "app:x");
    assert_eq!(m.capacity, 128);
    assert_eq!(m.mode_mask, 9);
    assert_eq!(m.owner_pid, Some(4));
    assert_eq!(
        m.bindings,
        [
            MailboxBinding { pid: 2, flags: 1 },
            MailboxBinding { pid: 3, flags: 0 }
        ]
    );
    assert_eq!(m.raw.as_ref().unwrap().len(), 5);
}

#[test]
fn json_bare_array_form() {
    let list = mailboxes(r#"[{"target":"a"},{"target":"b","capacity":0}]"#).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].capacity, list[0].mode_mask), (0, MBX_MODE_RDWR));
    assert_eq!(list[1].effective_capacity(), 64);
}

#[test]
fn json_aliases() {
    let m = one(r#"{"entries":[{"name":" svc:log ","queue_depth":"32","mode":"ro"}]}"#);
    assert_eq!(
        (m.target.as_str(), m.capacity, m.mode_mask),
        ("svc:log", 32, MBX_MODE_RDONLY)
    );
    let m = one(r#"[{"target":"","name":"n","flags":"TAP"}]"#);
    assert_eq!((m.target.as_str(), m.mode_mask), ("n", MBX_MODE_TAP));
    // `mailboxes` that is empty falls through to `entries`.
    let m = one(r#"{"mailboxes":[],"entries":[{"target":"e"}]}"#);
    assert_eq!(m.target, "e");
    // A present key wins even when null: capacity null means default, not queue_depth.
    let m = one(r#"[{"target":"t","capacity":null,"queue_depth":5}]"#);
    assert_eq!(m.capacity, 0);
    let m = one(r#"[{"target":"t","capacity":64.0,"owner_pid":"7"}]"#);
    assert_eq!((m.capacity, m.owner_pid), (64, Some(7)));
    let m = one(r#"[{"target":"t","owner_pid":""}]"#);
    assert_eq!(m.owner_pid, None);
}

#[test]
fn json_version_absent_or_one() {
    assert_eq!(one(r#"{"mailboxes":[{"target":"t"}]}"#).target, "t");
    assert_eq!(
        one(r#"{"version":null,"mailboxes":[{"target":"t"}]}"#).target,
        "t"
    );
    mbx_err(
        r#"{"version":2,"mailboxes":[{"target":"t"}]}"#,
        LoadError::MailboxJsonVersion,
        "mailbox metadata JSON version not supported",
    );
}

#[test]
fn json_surrounding_whitespace_and_trailing_nuls() {
    let mut payload = b"  \n{\"mailboxes\":[{\"target\":\"t\"}]}\n ".to_vec();
    payload.extend_from_slice(&[0, 0, 0]);
    let img = Image::parse(&v2_with_sections(&[], &[(3, payload, 1)])).unwrap();
    assert_eq!(img.metadata.mailboxes[0].target, "t");
}

#[test]
fn mode_names_case_insensitive_with_spaces() {
    let cases = [
        ("rdonly | fanout_drop", 0x11),
        (" Fanout , TAP ", 0x0C),
        ("WriteOnly|fanout_block", 0x22),
        ("wo", 0x02),
        ("readonly,rw", 0x03),
        ("", 0x03),
        (" | ", 0x03),
    ];
    for (mode, mask) in cases {
        let m = one(&format!(r#"[{{"target":"t","mode":"{mode}"}}]"#));
        assert_eq!(m.mode_mask, mask, "mode {mode:?}");
    }
    assert_eq!(
        one(r#"[{"target":"t","mode_mask":0}]"#).mode_mask,
        MBX_MODE_RDWR
    );
    assert_eq!(
        one(r#"[{"target":"t","mode_mask":131071}]"#).mode_mask,
        0xFFFF
    );
    assert_eq!(
        one(r#"[{"target":"t","mode_mask":false}]"#).mode_mask,
        MBX_MODE_RDWR
    );
}

#[test]
fn unknown_mode_rejected() {
    mbx_err(
        r#"[{"target":"t","mode":"RDWR| bogus"}]"#,
        LoadError::UnknownMailboxMode {
            token: " bogus".into(),
        },
        "unknown mailbox mode ' bogus'",
    );
    mbx_err(
        r#"[{"target":"t","mode":"3"}]"#,
        LoadError::UnknownMailboxMode { token: "3".into() },
        "unknown mailbox mode '3'",
    );
}

#[test]
fn invalid_json_rejected() {
    mbx_err(
        r#"{"mailboxes":[{"target":"t"}"#,
        LoadError::MailboxJsonInvalid,
        "mailbox metadata JSON invalid",
    );
    mbx_err(
        "[1,]",
        LoadError::MailboxJsonInvalid,
        "mailbox metadata JSON invalid",
    );
}

#[test]
fn json_not_utf8_rejected() {
    let payload = b"[{\"target\":\"\xff\"}]".to_vec();
    let e = Image::parse(&v2_with_sections(&[], &[(3, payload, 1)])).unwrap_err();
    assert_eq!(e, LoadError::MailboxJsonNotUtf8);
    assert_eq!(e.to_string(), "mailbox metadata JSON must be UTF-8");
}

#[test]
fn json_shape_errors() {
    mbx_err(
        r#"{"mailboxes":"x"}"#,
        LoadError::MailboxEntriesNotList,
        "mailbox metadata entries must be a list",
    );
    mbx_err(
        r#"[{"target":"t"}, 5]"#,
        LoadError::MailboxEntryNotObject { index: 1 },
        "mailbox metadata entry 1 must be an object",
    );
    mbx_err(
        r#"[{"target":"   "}]"#,
        LoadError::MailboxEntryMissingTarget { index: 0 },
        "mailbox metadata entry 0 missing target",
    );
    mbx_err(
        r#"[{"target":7}]"#,
        LoadError::MailboxEntryMissingTarget { index: 0 },
        "mailbox metadata entry 0 missing target",
    );
}

#[test]
fn json_capacity_errors() {
    mbx_err(
        r#"[{"target":"t","capacity":"lots"}]"#,
        LoadError::MailboxCapacityNotInteger,
        "mailbox metadata capacity must be an integer",
    );
    mbx_err(
        r#"[{"target":"t","capacity":-1}]"#,
        LoadError::MailboxCapacityNegative,
        "mailbox metadata capacity must be non-negative",
    );
    mbx_err(
        r#"[{"target":"t","capacity":4294967296}]"#,
        LoadError::MailboxCapacityOutOfRange,
        "mailbox metadata capacity out of range",
    );
}

#[test]
fn json_mode_errors() {
    mbx_err(
        r#"[{"target":"t","mode_mask":[1]}]"#,
        LoadError::MailboxModeNotInteger,
        "mailbox metadata mode_mask must be an integer",
    );
    mbx_err(
        r#"[{"target":"t","mode_mask":-3}]"#,
        LoadError::MailboxModeNegative,
        "mailbox metadata mode_mask must be non-negative",
    );
}

#[test]
fn json_owner_errors() {
    mbx_err(
        r#"[{"target":"t"},{"target":"u","owner_pid":"me"}]"#,
        LoadError::MailboxOwnerNotInteger { index: 1 },
        "mailbox metadata entry 1 owner_pid must be an integer",
    );
    mbx_err(
        r#"[{"target":"t","owner_pid":-1}]"#,
        LoadError::MailboxOwnerOutOfRange { index: 0 },
        "mailbox metadata entry 0 owner_pid out of range",
    );
}

#[test]
fn json_binding_errors() {
    mbx_err(
        r#"[{"target":"t","bindings":{}}]"#,
        LoadError::MailboxBindingsNotList,
        "mailbox metadata bindings must be a list",
    );
    mbx_err(
        r#"[{"target":"t","bindings":[3]}]"#,
        LoadError::MailboxBindingNotObject,
        "mailbox metadata binding entries must be objects",
    );
    mbx_err(
        r#"[{"target":"t","bindings":[{"flags":1}]}]"#,
        LoadError::MailboxBindingMissingPid,
        "mailbox metadata binding missing pid",
    );
    mbx_err(
        r#"[{"target":"t","bindings":[{"pid":null}]}]"#,
        LoadError::MailboxBindingPidNotInteger,
        "mailbox metadata binding pid must be an integer",
    );
    mbx_err(
        r#"[{"target":"t","bindings":[{"pid":-2}]}]"#,
        LoadError::MailboxBindingPidOutOfRange,
        "mailbox metadata binding pid out of range",
    );
    mbx_err(
        r#"[{"target":"t","bindings":[{"pid":1,"flags":"x"}]}]"#,
        LoadError::MailboxBindingFlagsNotInteger,
        "mailbox metadata binding flags must be an integer",
    );
    // Negative flags are masked to 16 bits, as the reference does.
    let m = one(r#"[{"target":"t","bindings":[{"pid":1,"flags":-1}]}]"#);
    assert_eq!(m.bindings[0].flags, 0xFFFF);
}

fn legacy_payload(records: &[(u32, u16, u16)], strings: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    for (name_off, depth, flags) in records {
        p.extend_from_slice(&name_off.to_be_bytes());
        p.extend_from_slice(&depth.to_be_bytes());
        p.extend_from_slice(&flags.to_be_bytes());
        p.extend_from_slice(&[0u8; 8]);
    }
    p.extend_from_slice(strings);
    p
}

#[test]
fn legacy_struct_form() {
    let payload = legacy_payload(&[(32, 16, 0x08), (38, 0, 0)], b"app:a\0app:b\0");
    let img = Image::parse(&v2_with_sections(&[], &[(3, payload, 2)])).unwrap();
    let m = &img.metadata.mailboxes;
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[0].target.as_str(), m[0].capacity, m[0].mode_mask),
        ("app:a", 16, 0x08)
    );
    assert_eq!(
        (m[1].target.as_str(), m[1].capacity, m[1].mode_mask),
        ("app:b", 0, MBX_MODE_RDWR)
    );
    assert!(m[0].raw.is_none());
}

#[test]
fn legacy_struct_errors() {
    let payload = legacy_payload(&[(0, 1, 1)], b"x\0");
    let e = Image::parse(&v2_with_sections(&[], &[(3, payload, 1)])).unwrap_err();
    assert_eq!(e, LoadError::MailboxMissingName);
    assert_eq!(e.to_string(), "mailbox metadata missing name");

    let payload = legacy_payload(&[(16, 1, 1)], b"x\0");
    let e = Image::parse(&v2_with_sections(&[], &[(3, payload, 2)])).unwrap_err();
    assert_eq!(e, LoadError::MailboxTableTruncated);
    assert_eq!(e.to_string(), "mailbox metadata table truncated");
}

#[test]
fn empty_or_all_nul_mailbox_payload_means_none() {
    for payload in [Vec::new(), vec![0u8; 32]] {
        let img = Image::parse(&v2_with_sections(&[], &[(3, payload, 2)])).unwrap();
        assert!(img.metadata.mailboxes.is_empty());
    }
}

fn value_record(name_off: u16, unit_off: u16, group_off: u16) -> Vec<u8> {
    let mut r = vec![1, 2, VALUE_FLAG_PERSIST, AUTH_ADMIN];
    for h in [0x3C00u16, name_off, unit_off, 0, 0, 0, 7, group_off] {
        r.extend_from_slice(&h.to_be_bytes());
    }
    r
}

#[test]
fn value_records_with_strings() {
    let mut p = value_record(20, 0, 22);
    p.extend_from_slice(b"v\0g\0");
    let img = Image::parse(&v2_with_sections(&[], &[(1, p, 1)])).unwrap();
    let v = &img.metadata.values[0];
    assert_eq!(
        (v.group, v.id, v.flags, v.auth, v.persist_key),
        (1, 2, 2, 2, 7)
    );
    assert_eq!(v.name.as_deref(), Some("v"));
    assert_eq!(v.unit, None);
    assert_eq!(v.group_name.as_deref(), Some("g"));
}

#[test]
fn string_offset_out_of_range() {
    let p = value_record(20, 0, 0);
    let e = Image::parse(&v2_with_sections(&[], &[(1, p, 1)])).unwrap_err();
    assert_eq!(
        e,
        LoadError::StringOffsetOutOfRange {
            offset: 20,
            size: 20
        }
    );
    assert_eq!(
        e.to_string(),
        "metadata string offset 20 out of range (size=20)"
    );
}

#[test]
fn string_missing_nul() {
    let mut p = value_record(20, 0, 0);
    p.extend_from_slice(b"abc");
    let e = Image::parse(&v2_with_sections(&[], &[(1, p, 1)])).unwrap_err();
    assert_eq!(e, LoadError::StringNotTerminated);
    assert_eq!(e.to_string(), "metadata string is not null-terminated");
}

#[test]
fn string_not_utf8() {
    let mut p = value_record(20, 0, 0);
    p.extend_from_slice(b"\xff\0");
    let e = Image::parse(&v2_with_sections(&[], &[(1, p, 1)])).unwrap_err();
    assert_eq!(e, LoadError::StringNotUtf8);
}

#[test]
fn value_and_command_tables_truncated() {
    let e = Image::parse(&v2_with_sections(&[], &[(1, vec![0; 39], 2)])).unwrap_err();
    assert_eq!(e, LoadError::ValueTableTruncated);
    assert_eq!(e.to_string(), "value metadata table truncated");
    let e = Image::parse(&v2_with_sections(&[], &[(2, vec![0; 15], 1)])).unwrap_err();
    assert_eq!(e, LoadError::CommandTableTruncated);
    assert_eq!(e.to_string(), "command metadata table truncated");
}

#[test]
fn command_record_fields() {
    let mut p = vec![4, 5, CMD_FLAG_ASYNC, AUTH_USER, 0, 0, 0x01, 0x00];
    p.extend_from_slice(&16u16.to_be_bytes()); // name
    p.extend_from_slice(&19u16.to_be_bytes()); // help
    p.extend_from_slice(&0xABCD_0016u32.to_be_bytes()); // reserved high, group name 22
    p.extend_from_slice(b"go\0h\0\0grp\0");
    let img = Image::parse(&v2_with_sections(&[], &[(2, p, 1)])).unwrap();
    let c = &img.metadata.commands[0];
    assert_eq!(
        (c.group, c.id, c.flags, c.auth, c.handler),
        (4, 5, 2, 1, 0x100)
    );
    assert_eq!(c.name.as_deref(), Some("go"));
    assert_eq!(c.help.as_deref(), Some("h"));
    assert_eq!(c.group_name.as_deref(), Some("grp"));
    assert_eq!(c.reserved, 0xABCD);
    // Re-written with its string table re-interned, the record reads back identically.
    let back = Image::parse(&img.to_v2_bytes()).unwrap();
    assert_eq!(back.metadata, img.metadata);
}

#[test]
fn other_section_types_are_kept_raw_and_rewritten() {
    let img = Image::parse(&v2_with_sections(&[], &[(7, vec![1, 2, 3], 9)])).unwrap();
    assert_eq!(
        img.metadata.other,
        [RawSection {
            kind: 7,
            entry_count: 9,
            bytes: vec![1, 2, 3]
        }]
    );
    let back = Image::parse(&img.to_v2_bytes()).unwrap();
    assert_eq!(back.metadata.other, img.metadata.other);
}

#[test]
fn multiple_sections_of_one_type_are_concatenated() {
    let img = Image::parse(&v2_with_sections(
        &[],
        &[
            mailbox_payload(r#"[{"target":"a"}]"#),
            mailbox_payload(r#"[{"target":"b"}]"#),
        ],
    ))
    .unwrap();
    let targets: Vec<_> = img
        .metadata
        .mailboxes
        .iter()
        .map(|m| m.target.as_str())
        .collect();
    assert_eq!(targets, ["a", "b"]);
}

#[test]
fn v1_images_ignore_metadata_fields() {
    let mut img = Image::parse(&tiny_v2()).unwrap();
    img.metadata.mailboxes.push(MailboxEntry::new("app:x"));
    let v1 = img.to_v1_bytes();
    assert_eq!(v1.len(), 40);
    let back = Image::parse(&v1).unwrap();
    assert!(back.metadata.is_empty());
    assert_eq!(back.app_name, None);
}

#[test]
fn writer_sorts_records_and_round_trips() {
    let mut img = Image::new(TINY_CODE.to_vec(), vec![], 0);
    img.metadata.values = vec![
        ValueEntry {
            group: 2,
            id: 0,
            name: Some("b".into()),
            ..Default::default()
        },
        ValueEntry {
            group: 1,
            id: 5,
            name: Some("a".into()),
            unit: Some("b".into()),
            ..Default::default()
        },
    ];
    img.metadata.commands = vec![
        CommandEntry {
            group: 9,
            id: 1,
            help: Some("".into()),
            ..Default::default()
        },
        CommandEntry {
            group: 0,
            id: 1,
            name: Some("ü".into()),
            ..Default::default()
        },
    ];
    let back = Image::parse(&img.to_v2_bytes()).unwrap();
    let mut sorted = img.metadata.clone();
    sorted.sort_canonical();
    assert_eq!(back.metadata, sorted);
}

#[test]
fn mailbox_raw_written_key_sorted_and_ascii_escaped() {
    let img = Image::parse(&v2_with_sections(
        &[],
        &[mailbox_payload(
            r#"[{"target":"app:ü","z":[1.5,{"b":1,"a":null}],"capacity":1e2}]"#,
        )],
    ))
    .unwrap();
    assert_eq!(img.metadata.mailboxes[0].capacity, 100);
    let out = img.to_v2_bytes();
    let back = Image::parse(&out).unwrap();
    let table = u32::from_be_bytes(out[0x40..0x44].try_into().unwrap()) as usize;
    let off = u32::from_be_bytes(out[table + 4..table + 8].try_into().unwrap()) as usize;
    assert_eq!(
        std::str::from_utf8(&out[off..]).unwrap(),
        r#"{"mailboxes":[{"capacity":100.0,"target":"app:\u00fc","z":[1.5,{"a":null,"b":1}]}],"version":1}"#
    );
    assert_eq!(back.metadata, img.metadata);
}

#[test]
fn validate_reports_duplicates() {
    let mut m = Metadata {
        values: vec![
            ValueEntry {
                group: 1,
                id: 2,
                ..Default::default()
            };
            2
        ],
        ..Metadata::default()
    };
    let e = m.validate().unwrap_err();
    assert_eq!(e, MetadataError::DuplicateValue { group: 1, id: 2 });
    assert_eq!(e.to_string(), "duplicate value metadata entry for (1,2)");

    m.values.truncate(1);
    m.commands = vec![
        CommandEntry {
            group: 3,
            id: 4,
            ..Default::default()
        };
        2
    ];
    let e = m.validate().unwrap_err();
    assert_eq!(e.to_string(), "duplicate command metadata entry for (3,4)");

    m.commands.truncate(1);
    m.mailboxes = vec![MailboxEntry::new("app:x"), MailboxEntry::new(" app:x ")];
    let e = m.validate().unwrap_err();
    assert_eq!(
        e,
        MetadataError::DuplicateMailbox {
            target: "app:x".into()
        }
    );

    m.mailboxes = vec![MailboxEntry::new(" ")];
    assert_eq!(
        m.validate(),
        Err(MetadataError::MailboxMissingTarget { index: 0 })
    );

    m.mailboxes = vec![MailboxEntry::new("b"), MailboxEntry::new("a")];
    assert_eq!(m.validate(), Ok(()));
    m.sort_canonical();
    assert_eq!(m.mailboxes[0].target, "a");
}

/// Deliberate difference: Python's `json.loads` accepts `NaN`/`Infinity` literals (and then
/// fails later with an `OverflowError` for a capacity of `Infinity`); standard JSON parsing
/// rejects the payload up front.
#[test]
fn non_standard_json_literals_rejected() {
    for payload in [
        r#"[{"target":"t","capacity":Infinity}]"#,
        r#"[{"target":"t","reserved":NaN}]"#,
    ] {
        assert_eq!(mailboxes(payload), Err(LoadError::MailboxJsonInvalid));
    }
}
