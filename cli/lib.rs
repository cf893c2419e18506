//! kubectl-pattern: adds helper containers (sidecar, adapter, ambassador, init) to Kubernetes
//! workloads. `engine` is pure; `commands` is the CLI on top; `ui` is terminal presentation.

pub mod cluster;
pub mod commands;
pub mod engine;
pub mod ui;
pub mod wasm;

pub use commands::main;
