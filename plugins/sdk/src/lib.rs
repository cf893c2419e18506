//! Write kubectl-pattern pattern plugins in Rust: implement [`Pattern`], call
//! [`export_pattern!`], build with `cargo build --release --target wasm32-wasip2`.
//!
//! ```ignore
//! use kubectl_pattern_sdk::prelude::*;
//!
//! struct Hello;
//!
//! /// The parameters, as `describe` declares them (the host validated them already).
//! #[derive(serde::Deserialize)]
//! struct Params {
//!     image: String,
//! }
//!
//! impl Pattern for Hello {
//!     type Params = Params;
//!     fn describe() -> PatternInfo {
//!         PatternInfo::new("hello", PatternKind::Sidecar, "0.1.0", "Say hello")
//!             .param(Param::image("image", "Image.").default("busybox:1.36"))
//!             .example("image", "busybox:1.37")
//!     }
//!     fn render(req: Request<Params>) -> Result<Contribution, RenderError> {
//!         let mut c = Contribution::new();
//!         c.add_container(ContainerBuilder::new(req.instance(), &req.params().image).hardened());
//!         Ok(c)
//!     }
//! }
//!
//! export_pattern!(Hello);
//! ```
//!
//! Everything but [`log`] and the export glue is plain Rust over `serde_json`, so a plugin's
//! render logic can be unit-tested with `cargo test` on the host target.

#[cfg(feature = "arena")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod arena;
pub mod container;
pub mod contribution;
#[doc(hidden)]
pub mod export;
pub mod info;
pub mod json;
mod json_read;
pub mod log;
pub mod request;
mod unfreed;
pub mod workload;
pub mod yaml;

use serde::de::DeserializeOwned;

/// Which app containers a mount or env var goes to, and a Kubernetes minor release: the
/// contract's own types, generated from `wit/plugin.wit`.
pub use bindings::kubectl_pattern::plugin::types::{ContainerTarget, KubeVersion};
pub use container::{ContainerBuilder, hardened_security_context, probe};
pub use contribution::{Contribution, RenderError, Targeted};
pub use info::{Docs, Param, ParamType, PatternInfo, PatternKind};
pub use request::{Request, SidecarMode};
pub use serde;
pub use serde_json;
pub use workload::{Port, Workload, container_env, container_ports, pod_metadata, pod_spec};

/// The bindings `wit-bindgen` generates from `wit/plugin.wit` (world `pattern-plugin`).
/// `bindings::export_plugin!` exports a type implementing the generated `Guest` trait;
/// prefer [`Pattern`] and [`export_pattern!`].
pub mod bindings {
    wit_bindgen::generate!({
        world: "pattern-plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "export_plugin",
        default_bindings_module: "kubectl_pattern_sdk::bindings",
        additional_derives: [PartialEq, Eq],
    });
}

/// A pattern plugin. Implement it on a unit struct and export it with [`export_pattern!`].
pub trait Pattern {
    /// The parameters as a `serde` type (camelCase names, as declared in `describe`). The
    /// host validated every value against the declarations and filled in the defaults, so
    /// this only reads them; `serde_json::Map<String, Value>` takes them untyped.
    type Params: DeserializeOwned;
    /// Describes the pattern. Must depend on nothing but the plugin: the host caches it.
    fn describe() -> PatternInfo;
    /// Renders the contribution for one workload.
    fn render(req: Request<Self::Params>) -> Result<Contribution, RenderError>;
    /// Reads the parameters into [`Self::Params`] and renders: what the host's call runs,
    /// and what unit tests call with a [`Request::new`].
    fn render_json(req: Request) -> Result<Contribution, RenderError> {
        Self::render(req.typed()?)
    }
}

/// Everything a plugin usually needs: `use kubectl_pattern_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::log;
    pub use crate::serde_json::{self, Map, Value, json};
    pub use crate::{
        ContainerBuilder, ContainerTarget, Contribution, Docs, KubeVersion, Param, ParamType,
        Pattern, PatternInfo, PatternKind, Port, RenderError, Request, SidecarMode, Workload,
        container_ports, export_pattern, probe,
    };
}

/// Exports a type implementing [`Pattern`] as the component's `pattern` interface, with a
/// panic hook that sends the panic message to the host's log before the trap. Use it once,
/// at the top level of the plugin crate. Off WebAssembly it exports nothing, so the crate's
/// unit tests build on the host target.
#[macro_export]
macro_rules! export_pattern {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        type __KubectlPatternExport = $crate::export::Adapter<$ty>;
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export_plugin!(__KubectlPatternExport with_types_in $crate::bindings);
        // Off WebAssembly nothing is exported: keep the pattern "used" for the dead-code lint.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            #[allow(dead_code)]
            fn __kubectl_pattern_uses() -> $crate::export::Adapter<$ty> {
                $crate::export::Adapter::new()
            }
        };
    };
}
