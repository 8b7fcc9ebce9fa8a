//! `.sym` model: reading the linker's layout, writing it back byte for byte, the older
//! list-shaped forms, and the lookups.
#![cfg(feature = "std")]

use hsx_image::sym::*;

/// A symbol file in exactly the layout `hld.py --emit-sym` writes (indent 2, sorted keys).
const CANONICAL: &str = r#"
{
  "hxe_crc": 2834838316,
  "hxe_path": "build/app.hxe",
  "instructions": [
    {
      "column": 1,
      "directory": "/home/u/app",
      "file": "main.c",
      "file_id": "!3",
      "function": "main",
      "line": 3,
      "mvasm_line": 5,
      "ordinal": 0,
      "pc": 0,
      "source_kind": "source",
      "word": 16777258
    },
    {
      "function": "main",
      "mvasm_line": 6,
      "ordinal": 1,
      "pc": 4,
      "source_kind": "compiler",
      "word": 620756992
    },
    {
      "column": 7,
      "file": "main.c",
      "function": "main",
      "line": 5,
      "mvasm_line": null,
      "ordinal": 2,
      "pc": 8,
      "source_kind": "source",
      "word": 0
    },
    {
      "file": "src/util.c",
      "function": "helper",
      "line": 11,
      "mvasm_line": 20,
      "ordinal": 6,
      "pc": 24,
      "source_kind": "source",
      "word": 620756992
    }
  ],
  "memory_regions": [
    {
      "end": 31,
      "name": "code",
      "start": 0,
      "type": "text"
    },
    {
      "end": 16386,
      "name": "rodata",
      "start": 16384,
      "type": "data"
    }
  ],
  "symbols": {
    "functions": [
      {
        "address": 0,
        "file": "main.c",
        "line": 3,
        "linkage_name": "main",
        "name": "main",
        "size": 24
      },
      {
        "address": 24,
        "file": "src/util.c",
        "line": 10,
        "linkage_name": null,
        "name": "helper",
        "size": 8
      }
    ],
    "labels": {
      "0x00000000": [
        "main"
      ],
      "0x00000018": [
        "helper"
      ],
      "0x00004000": [
        "msg"
      ]
    },
    "locals": [
      {
        "directory": "/home/u/app",
        "file": "main.c",
        "function": "main",
        "line": 4,
        "locations": [
          {
            "end": 16,
            "location": {
              "kind": "stack",
              "offset": -4
            },
            "start": 4
          }
        ],
        "name": "x",
        "scope": "!12"
      }
    ],
    "variables": [
      {
        "address": 16384,
        "name": "msg",
        "scope": "global",
        "size": 0,
        "type": null
      }
    ]
  },
  "version": 1
}"#;

fn canonical() -> &'static str {
    CANONICAL.trim_start_matches('\n')
}

#[test]
fn reads_linker_layout() {
    let f = SymFile::from_json_str(canonical()).unwrap();
    assert_eq!(f.version, 1);
    assert_eq!(f.hxe_path, "build/app.hxe");
    assert_eq!(f.hxe_crc, 2_834_838_316);
    assert_eq!(f.symbols.functions.len(), 2);
    assert_eq!(f.symbols.functions[1].linkage_name, None);
    assert_eq!(f.symbols.variables[0].scope.as_deref(), Some("global"));
    assert_eq!(f.symbols.locals[0].locations[0].location["offset"], -4);
    assert_eq!(f.symbols.labels["0x00004000"], ["msg"]);
    assert_eq!(f.instructions[2].mvasm_line, None);
    assert_eq!(f.instructions[0].file_id, Some(serde_json::json!("!3")));
    assert_eq!(f.memory_regions[1].kind, "data");
    assert!(f.lines.is_empty());
}

#[test]
fn writes_linker_layout_byte_for_byte() {
    let f = SymFile::from_json_str(canonical()).unwrap();
    assert_eq!(f.to_json_string(), canonical());
}

#[test]
fn unknown_keys_are_ignored() {
    let text = r#"{"version":1,"future":{"x":1},"symbols":{"functions":[{"name":"f","address":8,"size":4,"extra":true}],"other":[]},"instructions":[{"pc":8,"word":1,"ordinal":0,"new":1}]}"#;
    let f = SymFile::from_json_str(text).unwrap();
    assert_eq!(f.symbols.functions[0].name, "f");
    assert_eq!(f.instructions[0].pc, 8);
}

#[test]
fn list_shaped_symbols_and_lines() {
    let text = r#"{
      "version": 1,
      "symbols": [
        {"name": "main", "address": 4096, "size": 32, "type": "function", "file": "main.c", "line": 12},
        {"name": "global_var", "addr": 8192, "type": "object"},
        {"address": 1}
      ],
      "lines": [
        {"address": 4096, "file": "main.c", "line": 12},
        {"address": 4100, "file": "main.c", "line": 18},
        {"file": "bad.c", "line": 1}
      ]
    }"#;
    let t = SymTable::from_json_str(text).unwrap();
    let main = t.symbol("main").unwrap();
    assert_eq!(
        (main.address, main.size, main.kind),
        (4096, 32, SymbolKind::Function)
    );
    let var = t.symbol("global_var").unwrap();
    assert_eq!((var.address, var.kind), (8192, SymbolKind::Variable));
    assert_eq!(t.file().lines.len(), 2);
    assert_eq!(t.line_for_pc(4104).map(|l| l.line), Some(18));
    assert_eq!(t.line_for_pc(4095), None);
}

#[test]
fn line_table_and_line_map_aliases() {
    let t = SymTable::from_json_str(r#"{"line_table":[{"address":8,"source":"a.c","line":2}]}"#)
        .unwrap();
    let l = t.line_for_pc(8).unwrap();
    assert_eq!((l.file, l.line), (Some("a.c"), 2));
    let t =
        SymTable::from_json_str(r#"{"line_map":{"16":{"file":"b.c","line":9},"x":{}}}"#).unwrap();
    assert_eq!(
        t.line_for_pc(20).map(|l| (l.file, l.line)),
        Some((Some("b.c"), 9))
    );
}

#[test]
fn rejects_non_object_and_bad_shapes() {
    assert!(matches!(
        SymFile::from_json_str("[1]"),
        Err(SymError::NotObject)
    ));
    assert!(matches!(
        SymFile::from_json_str("{"),
        Err(SymError::Json(_))
    ));
    assert!(matches!(
        SymFile::from_json_str(r#"{"instructions":[{"pc":"zero"}]}"#),
        Err(SymError::Json(_))
    ));
}

#[test]
fn lookups() {
    let t = SymTable::from_json_str(canonical()).unwrap();
    // by name
    assert_eq!(
        t.symbol("helper").map(|s| (s.address, s.kind)),
        Some((24, SymbolKind::Function))
    );
    assert_eq!(t.symbol("msg").map(|s| s.kind), Some(SymbolKind::Variable));
    assert!(t.symbol("nope").is_none());
    // function containing an address
    assert_eq!(
        t.function_containing(0).map(|f| f.name.as_str()),
        Some("main")
    );
    assert_eq!(
        t.function_containing(20).map(|f| f.name.as_str()),
        Some("main")
    );
    assert_eq!(
        t.function_containing(28).map(|f| f.name.as_str()),
        Some("helper")
    );
    assert!(t.function_containing(32).is_none());
    // nearest symbol with offset
    let (s, off) = t.symbol_at(30).unwrap();
    assert_eq!((s.name.as_str(), off), ("helper", 6));
    let (s, off) = t.symbol_at(0x4002).unwrap();
    assert_eq!((s.name.as_str(), off), ("msg", 2));
    assert_eq!(t.labels_at(24), ["helper"]);
    assert!(t.labels_at(4).is_empty());
    // source lines: exact, then nearest preceding line-carrying record
    let l = t.line_for_pc(0).unwrap();
    assert_eq!(
        (l.file, l.directory, l.line, l.column, l.function),
        (
            Some("main.c"),
            Some("/home/u/app"),
            3,
            Some(1),
            Some("main")
        )
    );
    assert_eq!(t.line_for_pc(4).map(|l| (l.address, l.line)), Some((0, 3)));
    assert_eq!(t.line_for_pc(12).map(|l| l.line), Some(5));
    assert_eq!(t.line_for_pc(24).map(|l| l.file), Some(Some("src/util.c")));
    assert_eq!(
        t.instruction_at(4).and_then(|i| i.source_kind.as_deref()),
        Some("compiler")
    );
    assert!(t.instruction_at(12).is_none());
    // breakpoints by line, with path-suffix matching
    assert_eq!(t.addresses_for_line("util.c", 11), [24]);
    assert_eq!(t.addresses_for_line("/home/u/app/main.c", 5), [8]);
    assert!(t.addresses_for_line("main.c", 99).is_empty());
    assert_eq!(t.locals_of("main").count(), 1);
    assert_eq!(t.locals_of("helper").count(), 0);
}

#[test]
fn built_file_sorts_like_the_linker() {
    let mut f = SymFile {
        hxe_path: "x.hxe".into(),
        ..SymFile::default()
    };
    f.symbols.functions.push(Function {
        name: "b".into(),
        address: 8,
        size: 4,
        ..Function::default()
    });
    f.symbols.functions.push(Function {
        name: "a".into(),
        address: 0,
        size: 8,
        ..Function::default()
    });
    f.symbols
        .labels
        .insert(SymFile::label_key(0), vec!["z".into(), "a".into()]);
    f.sort_canonical();
    assert_eq!(f.symbols.functions[0].name, "a");
    assert_eq!(f.symbols.labels["0x00000000"], ["a", "z"]);
    let text = f.to_json_string();
    assert!(
        text.starts_with(
            "{\n  \"hxe_crc\": 0,\n  \"hxe_path\": \"x.hxe\",\n  \"instructions\": [],"
        )
    );
    assert_eq!(SymFile::from_json_str(&text).unwrap(), f);
}
