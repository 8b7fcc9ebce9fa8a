//! Pieces every client command's arguments share: the common options and the parsers for
//! numbers and addresses.

use clap::Args;

use crate::client::DEFAULT_ADDR;

/// Options every client command takes.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct Common {
    /// hsxd address, HOST:PORT or unix:PATH.
    #[arg(long, global = true, env = "HSX_ADDR", default_value = DEFAULT_ADDR, value_name = "ADDR")]
    pub connect: String,
    /// File whose first line is the token hsxd asks for (`hsxd --token-file`).
    #[arg(long, global = true, env = "HSX_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Print the raw JSON reply (one line per reply or event) instead of human output.
    #[arg(long, global = true)]
    pub json: bool,
}

/// An integer given as decimal, 0x hex, 0o octal or 0b binary (`_` separators allowed),
/// parsed like the daemon parses numeric strings.
pub fn parse_num(s: &str) -> Result<u64, String> {
    hsxd::args::parse_int_str(&s.replace('_', ""))
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| format!("'{s}' is not a number (decimal or 0x hex)"))
}

/// [`parse_num`] limited to 32 bits.
pub fn parse_u32(s: &str) -> Result<u32, String> {
    let v = parse_num(s)?;
    u32::try_from(v).map_err(|_| format!("'{s}' does not fit in 32 bits"))
}

/// [`parse_num`] limited to 16 bits.
pub fn parse_u16(s: &str) -> Result<u16, String> {
    let v = parse_num(s)?;
    u16::try_from(v).map_err(|_| format!("'{s}' does not fit in 16 bits"))
}

/// An address, or a symbol name resolved through the task's `.sym` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrSpec {
    /// A numeric address.
    Num(u32),
    /// A symbol name.
    Sym(String),
    /// A source position, `FILE:LINE` (the first code address of that line).
    Line(String, u32),
}

/// Parses an [`AddrSpec`]: a number when it looks like one, `FILE:LINE` when it ends in
/// `:` and digits after a file name, else an identifier.
pub fn parse_addr(s: &str) -> Result<AddrSpec, String> {
    let t = s.trim();
    if let Some((file, line)) = t.rsplit_once(':')
        && !file.is_empty()
        && !file.ends_with(':')
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
    {
        let line: u32 = line.parse().map_err(|_| format!("invalid line in '{s}'"))?;
        return Ok(AddrSpec::Line(file.to_string(), line));
    }
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        return parse_u32(t).map(AddrSpec::Num);
    }
    let ident = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | ':'));
    if ident {
        Ok(AddrSpec::Sym(t.to_string()))
    } else {
        Err(format!("'{s}' is neither an address nor a symbol name"))
    }
}
