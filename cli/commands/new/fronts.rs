//! Which of the app's ports a helper takes over (TLS termination, a traffic split): the
//! scaffolded Service then targets the helper's named port instead of the app's plain one.

use serde_json::Value;

use crate::engine::defaults;
use crate::engine::merge;
use crate::engine::params::ParamRole;
use crate::engine::process::{AddAction, workload_info};
use crate::engine::workload::Workload;

/// (app port, name of the helper port in front of it), for each pattern of `action` with an
/// `appPort` and a `frontPortName` parameter whose named port is in `after` (the workload
/// with its patterns) on a container other than the app's; `before` is the bare workload.
pub fn fronted(before: &Value, after: &Value, action: &AddAction) -> Vec<(u16, String)> {
    let mut bare = before.clone();
    let mut patched = after.clone();
    let (Ok(bare), Ok(patched)) = (Workload::new(&mut bare), Workload::new(&mut patched)) else {
        return Vec::new();
    };
    let requested = action.options.main_container.as_deref();
    let Ok(main) = merge::main_container(&bare, &[], requested) else {
        return Vec::new();
    };
    let info = workload_info(&bare, &main);
    let mut out = Vec::new();
    for req in &action.requests {
        let spec = req.pattern.spec();
        let with_role = |role| spec.params.iter().find(|p| p.role == Some(role));
        let (Some(app), Some(front)) = (
            with_role(ParamRole::AppPort),
            with_role(ParamRole::FrontPortName),
        ) else {
            continue;
        };
        let Ok((params, _)) = defaults::from_workload(spec, &req.params, &info) else {
            continue;
        };
        let port = params.get(&app.name).and_then(Value::as_u64);
        let name = params.get(&front.name).and_then(Value::as_str);
        let (Some(port), Some(name)) = (port.and_then(|p| u16::try_from(p).ok()), name) else {
            continue;
        };
        if helper_has_port(&patched, &main, name) {
            out.push((port, name.to_string()));
        }
    }
    out
}

/// True when a container other than `main` declares a port named `name`.
fn helper_has_port(w: &Workload<'_>, main: &str, name: &str) -> bool {
    let spec = w.pod_spec();
    ["initContainers", "containers"]
        .iter()
        .filter_map(|list| spec.get(*list).and_then(Value::as_array))
        .flatten()
        .filter(|c| c.get("name").and_then(Value::as_str) != Some(main))
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .any(|p| p.get("name").and_then(Value::as_str) == Some(name))
}
