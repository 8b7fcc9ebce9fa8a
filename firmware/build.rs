//! Puts `memory.x` where cortex-m-rt's `link.x` finds it and rebuilds when an app changes.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=apps");
    println!("cargo:rerun-if-env-changed=HSX_APPS_DIR");
}
