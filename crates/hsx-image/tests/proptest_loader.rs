//! The loader never panics: arbitrary bytes, and valid images with random mutations and
//! truncations (CRC re-fixed so the deeper metadata checks run), give `Ok` or a typed error.
//! Writer round trip for random metadata.

mod common;

use common::*;
use hsx_image::*;
use proptest::prelude::*;

fn rich_image() -> Vec<u8> {
    let mut values = Vec::new();
    values.extend_from_slice(&[
        1, 2, 3, 1, 0x3C, 0, 0, 20, 0, 22, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0,
    ]);
    values.extend_from_slice(b"v\0u\0");
    let mut cmd = vec![1, 3, 0, 0, 0, 0, 0, 8, 0, 16, 0, 0, 0, 0, 0, 0];
    cmd.extend_from_slice(b"go\0");
    let mut legacy = vec![0, 0, 0, 16, 0, 8, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0];
    legacy.extend_from_slice(b"app:a\0");
    v2_with_sections(
        b"hi\0",
        &[
            (1, values, 1),
            (2, cmd, 1),
            (3, legacy, 1),
            mailbox_payload(
                r#"{"mailboxes":[{"target":"app:x","mode":"rw|tap","bindings":[{"pid":1}]}],"version":1}"#,
            ),
            (9, vec![1, 2], 0),
        ],
    )
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        4 => (0usize..0x70, any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation], fix: bool) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        match *m {
            Mutation::Set(i, v) => {
                let n = b.len();
                b[i % n] = v;
            }
            Mutation::Truncate(i) => b.truncate(i % (b.len() + 1)),
            Mutation::Insert(i, v) => {
                let n = b.len();
                b.insert(i % (n + 1), v);
            }
        }
    }
    if fix && b.len() >= 32 && compute_crc(&b).is_some() {
        fix_crc(&mut b);
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Image::parse(&bytes);
    }

    #[test]
    fn arbitrary_bytes_with_valid_header_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..300),
        head in proptest::collection::vec(any::<u8>(), 0x60),
    ) {
        let mut b = rich_image();
        b[0x40..0x48].copy_from_slice(&head[0x40..0x48]);
        b.truncate(0x6B);
        b.extend_from_slice(&tail);
        fix_crc(&mut b);
        let _ = Image::parse(&b);
    }

    #[test]
    fn mutated_images_never_panic(muts in proptest::collection::vec(mutation(), 1..6), fix in any::<bool>()) {
        let b = apply(rich_image(), &muts, fix);
        if let Ok(img) = Image::parse(&b) {
            // Whatever parsed and passes the linker's validation must survive a write and
            // re-parse (a legacy mailbox named " " parses but is refused by `validate`).
            prop_assume!(img.metadata.validate().is_ok());
            let again = Image::parse(&img.to_v2_bytes());
            prop_assert!(again.is_ok(), "re-parse failed: {:?}", again);
        }
    }

    #[test]
    fn in_place_parse_and_validate_agree_with_parse(muts in proptest::collection::vec(mutation(), 0..4), fix in any::<bool>()) {
        let b = apply(rich_image(), &muts, fix);
        let full = Image::parse(&b);
        prop_assert_eq!(Image::validate(&b), full.as_ref().map(|_| ()).map_err(Clone::clone));
        match (full, Image::parse_in_place(&b)) {
            (Ok(f), Ok((mut p, code))) => {
                prop_assert_eq!(&b[code], &f.code[..]);
                p.code = f.code.clone();
                prop_assert_eq!(p, f);
            }
            (Err(e), Err(g)) => prop_assert_eq!(e, g),
            (f, p) => prop_assert!(false, "parse {:?} but in place {:?}", f.is_ok(), p.is_ok()),
        }
    }

    #[test]
    fn random_mailbox_payloads_never_panic(text in "[\\[\\]{}\":,a-z0-9 _|.\\-]{0,80}") {
        let _ = Image::parse(&v2_with_sections(&[], &[(3, text.into_bytes(), 1)]));
    }

    #[test]
    fn written_metadata_reads_back(
        values in proptest::collection::btree_map((any::<u8>(), any::<u8>()),
            (any::<u8>(), any::<u16>(), proptest::option::of("[a-zA-Z0-9 ]{0,6}"), proptest::option::of("[a-c]{0,2}")), 0..12),
        commands in proptest::collection::btree_map((any::<u8>(), any::<u8>()),
            (any::<u32>(), any::<u16>(), proptest::option::of("[a-z]{0,4}")), 0..12),
        targets in proptest::collection::btree_set("app:[a-z]{1,5}", 0..4),
    ) {
        let mut img = Image::new(TINY_CODE.to_vec(), vec![1, 2, 3], 4);
        img.app_name = Some("prop".into());
        // Written in reverse so the writer's sort is exercised.
        img.metadata.values = values.iter().rev().map(|(&(group, id), (flags, init, name, unit))| ValueEntry {
            group, id, flags: *flags, init: *init, name: name.clone(), unit: unit.clone(),
            group_name: unit.clone(), ..ValueEntry::default()
        }).collect();
        img.metadata.commands = commands.iter().rev().map(|(&(group, id), (handler, reserved, name))| CommandEntry {
            group, id, handler: *handler, reserved: *reserved, name: name.clone(), help: name.clone(),
            ..CommandEntry::default()
        }).collect();
        img.metadata.mailboxes = targets.iter().map(|t| MailboxEntry { capacity: 8, ..MailboxEntry::new(t.as_str()) }).collect();
        prop_assert_eq!(img.metadata.validate(), Ok(()));
        let bytes = img.to_v2_bytes();
        let back = Image::parse(&bytes).unwrap();
        let mut expected = img.metadata.clone();
        expected.sort_canonical();
        let strip = |m: &Metadata| { let mut m = m.clone(); for x in &mut m.mailboxes { x.raw = None; } m };
        prop_assert_eq!(strip(&back.metadata), strip(&expected));
        prop_assert_eq!(back.to_v2_bytes(), bytes);
    }
}
