//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use hsx_asm::{AsmError, AsmOptions, AsmOutput, SourceInput, assemble_files, assemble_sources};

/// Directory of the test programs.
pub fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

/// The repository's `examples/` directory.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Options that name the output `<stem>.hxe` (the app name defaults to the stem).
pub fn opts(stem: &str) -> AsmOptions {
    AsmOptions {
        output_path: Some(PathBuf::from(format!("{stem}.hxe"))),
        ..AsmOptions::default()
    }
}

/// Assemble in-memory sources `(name, text)` with the output stem `out`.
pub fn asm_many(files: &[(&str, &str)], out: &str) -> Result<AsmOutput, AsmError> {
    let inputs: Vec<SourceInput> = files
        .iter()
        .map(|(n, t)| SourceInput {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect();
    assemble_sources(&inputs, &opts(out))
}

/// Assemble one in-memory source as `t.mvasm`, output stem `t`.
pub fn asm(text: &str) -> Result<AsmOutput, AsmError> {
    asm_many(&[("t.mvasm", text)], "t")
}

/// Assemble one source and return its code words.
pub fn words(text: &str) -> Vec<u32> {
    let out = asm(text).unwrap_or_else(|e| panic!("assembly failed:\n{e}\n--- source:\n{text}"));
    out.image.code_words().collect()
}

/// Assemble program files from `tests/programs` with output stem `out`.
pub fn asm_programs(names: &[&str], out: &str) -> Result<AsmOutput, AsmError> {
    let paths: Vec<PathBuf> = names.iter().map(|n| programs().join(n)).collect();
    assemble_files(&paths, &opts(out))
}

/// The first diagnostic as `(line, col, message)`; panics if assembly succeeded.
pub fn first_error(res: Result<AsmOutput, AsmError>) -> (usize, usize, String) {
    match res {
        Ok(_) => panic!("expected an assembly error"),
        Err(e) => {
            let d = e
                .first()
                .unwrap_or_else(|| panic!("error without a location: {e}"));
            (d.line, d.col, d.message.clone())
        }
    }
}

/// Decode a hex string (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).expect("hex digit"))
        .collect()
}
