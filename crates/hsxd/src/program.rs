//! Reading a program for `load`: an `.hxe` image file (size-capped), or an `.mvasm` source
//! assembled in the daemon together with its symbol table.

use std::io::Read;
use std::path::Path;

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
    if p.extension().is_some_and(|e| e == "mvasm") {
        let opts = hsx_asm::AsmOptions {
            emit_sym: true,
            ..hsx_asm::AsmOptions::default()
        };
        let out = hsx_asm::assemble_files(&[p.to_path_buf()], &opts)
            .map_err(|e| OpError::failed(e.to_string()))?;
        Ok((out.hxe_bytes, out.sym))
    } else {
        let mut bytes = Vec::new();
        std::fs::File::open(p)
            .and_then(|f| f.take(MAX_IMAGE_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| OpError::failed(io_text(e)))?;
        if bytes.len() as u64 > MAX_IMAGE_FILE_BYTES {
            return Err(OpError::failed(format!(
                "image file too large (limit {MAX_IMAGE_FILE_BYTES} bytes): '{path}'"
            )));
        }
        Ok((bytes, None))
    }
}
