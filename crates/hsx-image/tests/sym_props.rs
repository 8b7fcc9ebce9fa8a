//! Arbitrary JSON documents never make the `.sym` reader or its lookups panic.
#![cfg(feature = "std")]

use hsx_image::sym::{SymFile, SymTable};
use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "symbols",
    "functions",
    "variables",
    "locals",
    "labels",
    "instructions",
    "lines",
    "line_table",
    "line_map",
    "memory_regions",
    "name",
    "symbol",
    "address",
    "addr",
    "pc",
    "size",
    "type",
    "kind",
    "file",
    "source",
    "line",
    "column",
    "function",
    "version",
    "0x00000004",
    "8",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u32..64).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "", "main", "function", "0x10", "0X", "12", " 7 ", "a/b.c"
        ])
        .prop_map(Value::from),
    ]
}

fn object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
        Value::Object(
            kv.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<String, Value>>(),
        )
    })
}

/// Mostly objects (the reader refuses anything else at the root), keyed like `.sym` files.
fn json() -> impl Strategy<Value = Value> {
    let nested = leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object(inner),
        ]
    });
    prop_oneof![1 => nested.clone(), 4 => object(nested)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // About two thirds of the generated documents are accepted.

    #[test]
    fn arbitrary_documents_never_panic(doc in json(), addrs in prop::collection::vec(any::<u32>(), 4)) {
        let text = doc.to_string();
        if let Ok(file) = SymFile::from_json_str(&text) {
            // A document that was read writes out and reads back to the same model.
            let again = SymFile::from_json_str(&file.to_json_string());
            prop_assert_eq!(again.as_ref().ok(), Some(&file));
            let table = SymTable::new(file);
            for &a in &addrs {
                let _ = table.function_containing(a);
                if let Some((sym, off)) = table.symbol_at(a) {
                    prop_assert_eq!(sym.address + off, a);
                }
                let _ = table.labels_at(a);
                let _ = table.instruction_at(a);
                let _ = table.line_for_pc(a);
                let _ = table.addresses_for_line("a/b.c", a);
            }
        }
    }
}
