//! Build script of the bindings: export only `PyInit__core`, strip release builds, and record the
//! target and profile.

use std::env;

fn main() {
    // rustc exports every `#[no_mangle]` function of every dependency from a cdylib (crc-fast's
    // C API, for one); a version script keeps them local so they cannot clash with other modules.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let dir = env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/exports.map");
        // `strip = "symbols"` in [profile.release] passes -C strip to every crate, so changing it
        // rebuilds all dependencies; stripping at the link touches only this library.
        // PYRUSTPIPE_KEEP_SYMBOLS=1 keeps the symbol table, so a profiler (callgrind, perf) can
        // name the engine's functions; it only relinks this library.
        let keep_symbols = env::var_os("PYRUSTPIPE_KEEP_SYMBOLS").is_some_and(|v| v == "1");
        if env::var("PROFILE").as_deref() == Ok("release") && !keep_symbols {
            println!("cargo:rustc-cdylib-link-arg=-Wl,--strip-all");
        }
    }
    println!("cargo:rerun-if-changed=exports.map");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PYRUSTPIPE_KEEP_SYMBOLS");
    for (name, var) in [
        ("PYRUSTPIPE_TARGET", "TARGET"),
        ("PYRUSTPIPE_PROFILE", "PROFILE"),
    ] {
        println!(
            "cargo:rustc-env={name}={}",
            env::var(var).expect("set by cargo")
        );
    }
}
