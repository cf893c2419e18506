//! kubectl-pattern: adds helper containers (sidecar, adapter, ambassador, init) to Kubernetes
//! workloads. The binary's library: the command line (`commands`) and the terminal (`ui`) on
//! top of the pure engine, the I/O layer, and (by cargo feature) the plugin host and the
//! cluster client, re-exported here under their short names.

pub use kubectl_pattern_engine as engine;
pub use kubectl_pattern_io as io;

#[cfg(feature = "cluster")]
pub use kubectl_pattern_cluster as cluster;
#[cfg(feature = "plugins")]
pub use kubectl_pattern_wasm as wasm;

#[cfg(target_os = "linux")]
mod allocator;
mod catalogue;
pub mod commands;
mod parallel;
pub mod request;
pub mod ui;

pub use commands::main;
