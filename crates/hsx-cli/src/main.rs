//! The `hsx` command-line tool.
fn main() {}
