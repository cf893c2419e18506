//! The integration tests, in one binary so the heavy dependencies are linked once: the binary
//! driven end to end, goldens, properties, schema validation, and (by cargo feature) plugins
//! and live mode.
#![allow(
    clippy::unwrap_used,
    missing_docs,
    reason = "tests fail loudly on unexpected values"
)]

mod common;

mod bad_input;
mod bad_params;
mod cli;
mod doc_links;
mod drift;
mod golden;
mod habits;
mod help;
mod helper_details;
mod krew;
mod lint;
mod lint_exact;
mod migrate;
mod new;
mod new_resources;
mod no_workloads;
mod position;
mod properties;
mod release;
mod sdk_arena;
mod sdk_json;
mod sdk_yaml;
mod second_instance;
mod structure;
mod text_edit;
mod text_repo;
mod threads;
mod tracking;
mod validate;
mod wizard;
mod workload_defaults;

#[cfg(feature = "plugins")]
mod guest_langs;
#[cfg(feature = "plugins")]
mod inject;
mod inject_admission;
#[cfg(feature = "plugins")]
mod inject_equivalence;
#[cfg(feature = "plugins")]
mod integrations;
#[cfg(feature = "plugins")]
mod oci_registry;
#[cfg(feature = "plugins")]
mod plugin_new_langs;
#[cfg(feature = "plugins")]
mod wasm;
#[cfg(feature = "plugins")]
mod wasm_authoring;
#[cfg(feature = "plugins")]
mod wasm_declines;
#[cfg(feature = "plugins")]
mod wasm_explain;
#[cfg(feature = "plugins")]
mod wasm_memory;
#[cfg(feature = "plugins")]
mod wasm_versions;

#[cfg(feature = "cluster")]
mod apiserver;
#[cfg(feature = "cluster")]
mod doctor;
#[cfg(feature = "cluster")]
mod e2e_cluster;
#[cfg(feature = "cluster")]
mod inject_apply;
#[cfg(feature = "cluster")]
mod inject_verify_mock;
#[cfg(feature = "cluster")]
mod live_cli;
#[cfg(feature = "cluster")]
mod live_cli_errors;
#[cfg(feature = "cluster")]
mod live_cli_rollout;
#[cfg(feature = "cluster")]
mod live_conflicts;
#[cfg(feature = "cluster")]
mod live_findings;
#[cfg(feature = "cluster")]
mod live_findings_more;
#[cfg(feature = "cluster")]
mod live_migrate;
#[cfg(feature = "cluster")]
mod live_mock;
#[cfg(feature = "cluster")]
mod live_wait;
