//! kubectl-pattern's I/O layer: everything that touches the filesystem or stdin. The engine is
//! pure; the binary and the plugin host read and write through here.

pub mod atomic;
pub mod dirs;
pub mod input;
pub mod templates;
