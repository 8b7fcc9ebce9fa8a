//! Reading a program for `load`: an `.hxe` image file (size-capped), or an `.mvasm` source
//! assembled in the daemon together with its symbol table.

use std::io::Read;
use std::path::{Path, PathBuf};

use hsx_image::sym::SymFile;

use crate::error::OpError;

/// Largest `.hxe` file `load` reads: far above any valid image (code, rodata and bss are
/// 64 KiB each), and it keeps a client's `load /dev/zero` from exhausting memory.
const MAX_IMAGE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The image bytes of a program, and for a `.mvasm` the assembler's symbol table.
///
/// # Errors
/// The file cannot be read, is too large, or does not assemble; the text is the reply's.
pub fn read_program(path: &str) -> Result<(Vec<u8>, Option<SymFile>), OpError> {
    let p = Path::new(path);
    // The io::Error text without Rust's "(os error N)" suffix (the Python executive said
    // "[Errno 2] No such file or directory: '…'"; people read these, scripts do not).
    let io_text = |e: std::io::Error| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::IsADirectory => "is a directory".to_string(),
            _ => e.to_string(),
        };
        format!("cannot read {path}: {reason}")
    };
    // Regular files only: opening a FIFO or a device would block the request (and the
    // daemon with it) or read without end.
    match std::fs::metadata(p) {
        Ok(m) if !m.is_file() => {
            return Err(OpError::failed(format!(
                "cannot read {path}: not a regular file"
            )));
        }
        Ok(_) => {}
        Err(e) => return Err(OpError::failed(io_text(e))),
    }
    let is_source = p.extension().is_some_and(|e| e == "mvasm");
    let limit = if is_source {
        MAX_SOURCE_FILE_BYTES
    } else {
        MAX_IMAGE_FILE_BYTES
    };
    let mut bytes = Vec::new();
    let file = std::fs::File::open(p).map_err(|e| OpError::failed(io_text(e)))?;
    // Checked again on the open file: the path may have been swapped meanwhile.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(OpError::failed(format!(
            "cannot read {path}: not a regular file"
        )));
    }
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| OpError::failed(io_text(e)))?;
    if bytes.len() as u64 > limit {
        let what = if is_source { "source" } else { "image" };
        return Err(OpError::failed(format!(
            "{what} file too large (limit {limit} bytes): '{path}'"
        )));
    }
    if !is_source {
        return Ok((bytes, None));
    }
    // Whoever sent `load` may not be allowed to read this file: diagnostics quote none of
    // it, and `.include` reads only inside the source's own directory tree.
    let text = String::from_utf8(bytes)
        .map_err(|_| OpError::failed(format!("cannot read {path}: not UTF-8 text")))?;
    let root = std::fs::canonicalize(p)
        .ok()
        .and_then(|c| c.parent().map(Path::to_path_buf));
    let opts = hsx_asm::AsmOptions {
        emit_sym: true,
        include_root: Some(root.unwrap_or_else(|| PathBuf::from("/nonexistent"))),
        redact: true,
        ..hsx_asm::AsmOptions::default()
    };
    let input = hsx_asm::SourceInput {
        name: path.to_string(),
        text,
    };
    let out =
        hsx_asm::assemble_sources(&[input], &opts).map_err(|e| OpError::failed(e.to_string()))?;
    Ok((out.hxe_bytes, out.sym))
}

/// Largest `.mvasm` file `load` assembles (the assembler's own bound for an include).
const MAX_SOURCE_FILE_BYTES: u64 = hsx_asm::MAX_INCLUDE_BYTES;
