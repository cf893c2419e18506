//! The build script of a plugin crate: the component starts with a heap, so a render that
//! stays within it never grows linear memory.
//!
//! A fresh instance runs every render. Its memory starts at what the module asks for, the
//! stack and static data with no room for a heap, so a render that allocates more than a
//! few kilobytes grows memory. For the host each grown page means an `mprotect` to open it
//! during the call and another to close it before the next instance uses the slot, and
//! closing pages interrupts every other core running the process to flush its TLB. On the
//! `otel-collector` example the plugin benchmark's stream of 10,000 Deployments took 12% less
//! time with a 1 MiB heap; pages a render never touches cost nothing.
//!
//! A plugin crate names it in `Cargo.toml` (`build = "sdk/plugin-build.rs"`, as `plugin new`
//! writes it) or copies it as its `build.rs`. `KUBECTL_PATTERN_PLUGIN_HEAP=BYTES` at build time
//! starts it with another heap (rounded up to whole 64 KiB pages; 0 for none).

/// Bytes of heap the component starts with unless the build says otherwise.
const HEAP: u64 = 1 << 20;
/// A WebAssembly page.
const PAGE: u64 = 64 << 10;
const VAR: &str = "KUBECTL_PATTERN_PLUGIN_HEAP";

fn main() {
    println!("cargo::rerun-if-env-changed={VAR}");
    let heap = match std::env::var(VAR) {
        Ok(text) => text.trim().parse::<u64>().unwrap_or_else(|_| {
            panic!("{VAR}={text:?} is not a number of bytes (for example {HEAP}, or 0 for none)")
        }),
        Err(_) => HEAP,
    };
    // Only the WebAssembly build links with wasm-ld; a native build (`cargo test`) has no
    // such flag.
    if heap > 0 && std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        let pages = heap.div_ceil(PAGE);
        println!("cargo::rustc-link-arg=--initial-heap={}", pages * PAGE);
    }
}
