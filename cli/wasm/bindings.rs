//! The host's bindings to the plugin contract: wasmtime bindings for WIT 0.2.0
//! (`wit/plugin.wit`) and the frozen 0.1.0 (`wit/deps/plugin-0.1.0`), the version a component
//! exports, and one instance type whose calls answer in 0.2 terms whatever the version.

use wasmtime::Store;
use wasmtime::component::{self, Component, ComponentExportIndex, HasSelf, Linker};

use super::runtime::State;
use super::v01;

/// Bindings for `kubectl-pattern:plugin@0.2.0`, the current contract.
#[allow(
    missing_docs,
    reason = "generated from the WIT, which documents every item"
)]
pub mod v02 {
    wasmtime::component::bindgen!({
        world: "kubectl-pattern:plugin/pattern-plugin@0.2.0",
        path: "../../wit",
    });
}

/// Bindings for `kubectl-pattern:plugin@0.1.0`, frozen: plugins built against it still load.
#[allow(
    missing_docs,
    reason = "generated from the WIT, which documents every item"
)]
pub mod v01_bindings {
    wasmtime::component::bindgen!({
        world: "kubectl-pattern:plugin/pattern-plugin@0.1.0",
        path: "../../wit",
    });
}

/// The 0.1 types, converted to 0.2 by `v01`.
pub use v01_bindings::kubectl_pattern::plugin0_1_0::types as wit01;
/// The contract's types, in their current (0.2) form: what the rest of the host works with.
pub use v02::kubectl_pattern::plugin0_2_0::types as wit;

/// The versions of the pattern interface this host loads, newest first.
pub const INTERFACES: [&str; 2] = [
    "kubectl-pattern:plugin/pattern@0.2.0",
    "kubectl-pattern:plugin/pattern@0.1.0",
];

/// Which contract a component was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `kubectl-pattern:plugin@0.2.0`.
    V02,
    /// `kubectl-pattern:plugin@0.1.0`.
    V01,
}

impl Version {
    /// The version whose pattern interface is among `exports`, if any (the newest wins).
    pub fn of<'a>(exports: impl IntoIterator<Item = &'a str> + Clone) -> Option<Version> {
        let has = |name: &str| exports.clone().into_iter().any(|e| e == name);
        if has(INTERFACES[0]) {
            Some(Version::V02)
        } else if has(INTERFACES[1]) {
            Some(Version::V01)
        } else {
            None
        }
    }
}

/// A plugin pre-instantiated for its version.
#[derive(Clone)]
pub enum Pre {
    /// Built against 0.2.0, with where its `render` export is.
    V02(v02::PatternPluginPre<State>, ComponentExportIndex),
    /// Built against 0.1.0.
    V01(v01_bindings::PatternPluginPre<State>),
}

/// The 0.2 pattern interface's `render` export of `component`.
fn render_export(component: &Component) -> Option<ComponentExportIndex> {
    let pattern = component.get_export_index(None, INTERFACES[0])?;
    component.get_export_index(Some(&pattern), "render")
}

/// Links the host's log import of both versions into `linker`.
pub fn add_host(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    v02::PatternPlugin::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    v01_bindings::PatternPlugin::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
}

impl Pre {
    /// Pre-instantiates `component`, built against `version`, with `linker`.
    pub fn new(
        linker: &Linker<State>,
        component: &Component,
        version: Version,
    ) -> wasmtime::Result<Pre> {
        let pre = linker.instantiate_pre(component)?;
        Ok(match version {
            Version::V02 => {
                // The bindings check both exports' types here, once; an instance then looks up
                // only the export it is called through.
                let bindings = v02::PatternPluginPre::new(pre)?;
                let render = render_export(component)
                    .ok_or_else(|| wasmtime::format_err!("no render export"))?;
                Pre::V02(bindings, render)
            }
            Version::V01 => Pre::V01(v01_bindings::PatternPluginPre::new(pre)?),
        })
    }

    /// The engine it was compiled for.
    pub fn engine(&self) -> &wasmtime::Engine {
        match self {
            Pre::V02(p, _) => p.engine(),
            Pre::V01(p) => p.engine(),
        }
    }

    /// A fresh instance in `store`. A 0.2 instance looks up only the export it is called
    /// through: loading both through the bindings type-checked `describe`'s large record
    /// again on every render.
    pub fn instantiate(&self, store: &mut Store<State>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::V02(p, render) => Instance::V02 {
                instance: p.instance_pre().instantiate(&mut *store)?,
                render: *render,
            },
            Pre::V01(p) => Instance::V01(p.instantiate(store)?),
        })
    }
}

/// An instance of a plugin of either version.
pub enum Instance {
    /// Built against 0.2.0: the component instance and its `render` export.
    V02 {
        /// The instance.
        instance: component::Instance,
        /// Its `render` export.
        render: ComponentExportIndex,
    },
    /// Built against 0.1.0.
    V01(v01_bindings::PatternPlugin),
}

/// `render`'s result in the 0.2 contract.
type RenderAnswer = Result<wit::Contribution, wit::RenderError>;

impl Instance {
    /// `describe`, as 0.2 pattern info.
    pub fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<wit::PatternInfo> {
        match self {
            Instance::V02 { instance, .. } => v02::PatternPlugin::new(&mut *store, instance)?
                .kubectl_pattern_plugin0_2_0_pattern()
                .call_describe(store),
            Instance::V01(p) => p
                .kubectl_pattern_plugin0_1_0_pattern()
                .call_describe(store)
                .map(v01::info),
        }
    }

    /// `render`, asked and answered in 0.2 terms.
    pub fn render(
        &self,
        store: &mut Store<State>,
        request: &wit::RenderRequest,
    ) -> wasmtime::Result<Result<wit::Contribution, wit::RenderError>> {
        match self {
            Instance::V02 { instance, render } => {
                let func = instance.get_typed_func::<(&wit::RenderRequest,), (RenderAnswer,)>(
                    &mut *store,
                    render,
                )?;
                let (answer,) = func.call(&mut *store, (request,))?;
                Ok(answer)
            }
            Instance::V01(p) => p
                .kubectl_pattern_plugin0_1_0_pattern()
                .call_render(store, &v01::request(request))
                .map(|answer| answer.map(v01::contribution).map_err(v01::render_error)),
        }
    }
}

impl v02::kubectl_pattern::plugin0_2_0::types::Host for State {}
impl v01_bindings::kubectl_pattern::plugin0_1_0::types::Host for State {}

impl v02::kubectl_pattern::plugin0_2_0::host::Host for State {
    fn log(&mut self, level: wit::LogLevel, message: String) {
        let level = match level {
            wit::LogLevel::Debug => "debug",
            wit::LogLevel::Info => "info",
            wit::LogLevel::Warn => "warn",
            wit::LogLevel::Error => "error",
        };
        self.push_log(level, message);
    }
}

impl v01_bindings::kubectl_pattern::plugin0_1_0::host::Host for State {
    fn log(&mut self, level: wit01::LogLevel, message: String) {
        let level = match level {
            wit01::LogLevel::Debug => "debug",
            wit01::LogLevel::Info => "info",
            wit01::LogLevel::Warn => "warn",
            wit01::LogLevel::Error => "error",
        };
        self.push_log(level, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_exported_version_wins() {
        let both = ["wasi:cli/run@0.2.0", INTERFACES[1], INTERFACES[0]];
        assert_eq!(Version::of(both), Some(Version::V02));
        assert_eq!(Version::of([INTERFACES[1]]), Some(Version::V01));
        assert_eq!(
            Version::of(["kubectl-pattern:plugin/pattern@0.3.0", "wasi:cli/run@0.2.0"]),
            None
        );
    }
}
