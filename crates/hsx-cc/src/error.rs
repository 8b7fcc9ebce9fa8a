//! Errors of the translator and of the C toolchain driver.

/// Why `hsx cc` could not produce an image. Each message is one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum CcError {
    /// The wasm module is malformed or fails validation.
    #[error("invalid wasm module: {0}")]
    BadWasm(String),
    /// The module uses a wasm feature the translator does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The module imports something no HSX service provides.
    #[error("{0}")]
    UnknownImport(String),
    /// The program does not fit MiniVM's 64 KiB code or data space.
    #[error("program too large: {0}")]
    TooLarge(String),
    /// A tool (clang, wasm-ld) is missing or failed.
    #[error("{0}")]
    Toolchain(String),
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The OS error (shown inline: one line for the user).
        error: std::io::Error,
    },
    /// A bug in the translator (never the user's fault).
    #[error("internal translator error: {0}")]
    Internal(String),
}

impl From<wasmparser::BinaryReaderError> for CcError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CcError::BadWasm(e.to_string())
    }
}
