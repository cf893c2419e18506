//! The pure engine: workloads, patterns, contributions, merging, linting and YAML streams.
//! No network, no terminal, no plugin runtime: everything here is a function of its inputs.

mod actions;
pub mod catalogue;
pub mod contribution;
pub mod defaults;
pub mod drift;
pub mod duration;
pub mod fragment;
pub mod free_ports;
pub mod gitrepo;
pub mod handover;
pub mod inject;
pub mod kinds;
pub mod lint;
pub mod merge;
pub mod nulls;
pub mod output;
pub mod owned;
pub mod params;
pub mod partial;
pub mod pattern;
pub mod podspec;
pub mod process;
pub mod quantity;
pub mod released;
pub mod scope;
pub mod selector;
pub mod stream;
pub mod target;
pub mod template;
pub mod text;
pub mod tracking;
pub mod workload;
pub mod yaml;
