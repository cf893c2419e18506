//! `migrate gitrepo`: each `gitRepo` volume (disabled from Kubernetes 1.33, locked off in 1.36)
//! becomes an instance of the git-clone pattern: the same repository, revision and directory,
//! cloned by an init container into an emptyDir. The app container that mounts the volume gets
//! the pattern's mount at the same path (and read-only flag); every other mount of the volume
//! is kept and points at the new volume.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::merge::{self, MergeOptions};
use crate::params::{self, ParamError, ParamInput};
use crate::pattern::{Pattern, RenderContext};
use crate::process::{Action, ActionResult, ObjectError, PatternReport, workload_info};
use crate::tracking;
use crate::workload::Workload;

/// The pattern each `gitRepo` volume becomes an instance of.
pub const PATTERN: &str = "git-clone";

/// A `gitRepo` volume that cannot be converted.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Its values are not what git-clone takes.
    #[error(
        "gitRepo volume {volume:?}: {source}; convert it by hand (`kubectl pattern explain git-clone`)"
    )]
    Param {
        /// The volume.
        volume: String,
        /// What git-clone refused.
        source: ParamError,
    },
    /// The app's mount of it has fields git-clone's mount cannot keep.
    #[error(
        "gitRepo volume {volume:?}: the mount on container {container:?} sets {fields}, which the git-clone pattern's mount cannot keep; convert it by hand (`kubectl pattern explain git-clone`)"
    )]
    MountFields {
        /// The volume.
        volume: String,
        /// The container.
        container: String,
        /// The fields.
        fields: String,
    },
    /// No free instance name.
    #[error(
        "gitRepo volume {volume:?}: instance name {instance:?} is taken or not a DNS label; rename the volume"
    )]
    Instance {
        /// The volume.
        volume: String,
        /// The name tried.
        instance: String,
    },
}

/// One `gitRepo` volume.
#[derive(Debug, Clone, PartialEq)]
struct GitRepo {
    volume: String,
    repository: String,
    revision: Option<String>,
    directory: Option<String>,
}

fn git_repos(spec: &Map<String, Value>) -> Vec<GitRepo> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    spec.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let repo = v.get("gitRepo")?;
            Some(GitRepo {
                volume: text(v, "name")?,
                repository: text(repo, "repository").unwrap_or_default(),
                revision: text(repo, "revision").filter(|r| !r.is_empty()),
                directory: text(repo, "directory").filter(|d| !d.is_empty()),
            })
        })
        .collect()
}

/// The name under the volume where the checkout is: gitRepo's `directory`, or else the
/// repository's name (what `git clone` makes); `.` (the volume's root), which git-sync cannot
/// do, becomes `current`, with a warning.
fn link(g: &GitRepo) -> (String, Option<String>) {
    match g.directory.as_deref() {
        Some(".") => (
            "current".into(),
            Some(format!(
                "gitRepo volume {} held the checkout at its root (directory: .); git-clone puts it under current/: point the app at <mountPath>/current",
                g.volume
            )),
        ),
        Some(dir) => (dir.to_string(), None),
        None => {
            let base = g.repository.trim_end_matches('/').rsplit(['/', ':']).next();
            let base = base.unwrap_or_default();
            (base.strip_suffix(".git").unwrap_or(base).to_string(), None)
        }
    }
}

/// The converter.
pub struct MigrateGitRepo {
    /// The git-clone pattern.
    pub pattern: Arc<dyn Pattern>,
    /// Merge options (the target).
    pub options: MergeOptions,
}

impl Action for MigrateGitRepo {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        // All volumes of an object or none.
        let backup = object.clone();
        let result = self.migrate(object);
        if result.is_err() {
            *object = backup;
        }
        result
    }
}

/// The (container, index, mount) mounts of `volume` in every container list.
fn mounts_of(spec: &Map<String, Value>, volume: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            let mounts = c.get("volumeMounts").and_then(Value::as_array);
            for m in mounts.into_iter().flatten() {
                if m.get("name").and_then(Value::as_str) == Some(volume) {
                    out.push((name.to_string(), m.clone()));
                }
            }
        }
    }
    out
}

/// Applies `f` to every mount of `volume` in every container of the pod spec; `f` returns
/// false to drop the mount.
fn edit_mounts(
    spec: &mut Map<String, Value>,
    volume: &str,
    mut f: impl FnMut(&str, &mut Value) -> bool,
) {
    for list in ["initContainers", "containers"] {
        let Some(Value::Array(containers)) = spec.get_mut(list) else {
            continue;
        };
        for c in containers {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(Value::Array(mounts)) = c.get_mut("volumeMounts") {
                mounts.retain_mut(|m| {
                    m.get("name").and_then(Value::as_str) != Some(volume) || f(&name, m)
                });
            }
        }
    }
}

impl MigrateGitRepo {
    fn migrate(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        let mut w = match Workload::new(object) {
            Ok(w) => w,
            Err(e) => {
                return Ok(ActionResult {
                    skipped: Some(e.to_string()),
                    ..Default::default()
                });
            }
        };
        let repos = git_repos(w.pod_spec());
        let mut result = ActionResult {
            note: repos.is_empty().then(|| "no gitRepo volume".to_string()),
            ..Default::default()
        };
        for (i, g) in repos.iter().enumerate() {
            let report = self.convert(&mut w, g, i)?;
            result.changed = true;
            result.warnings.extend(report.1);
            result.patterns.push(report.0);
        }
        Ok(result)
    }

    fn convert(
        &self,
        w: &mut Workload<'_>,
        g: &GitRepo,
        index: usize,
    ) -> Result<(PatternReport, Vec<String>), ObjectError> {
        let records = tracking::read(w)?;
        let instance = match index {
            0 if !records.iter().any(|r| r.instance == "git-clone") => "git-clone".to_string(),
            _ => format!("git-clone-{}", g.volume),
        };
        if !params::is_dns_label(&instance) || records.iter().any(|r| r.instance == instance) {
            return Err(MigrateError::Instance {
                volume: g.volume.clone(),
                instance,
            }
            .into());
        }
        let apps = merge::app_containers(w, &records);
        let mounts = mounts_of(w.pod_spec(), &g.volume);
        // The app container that mounts it takes the pattern's mount; else the main one.
        let owner = mounts.iter().find(|(c, _)| apps.contains(c));
        let main = match owner {
            Some((c, _)) => c.clone(),
            None => merge::main_container(w, &records, self.options.main_container.as_deref())?,
        };
        let (path, read_only) = owner_mount(g, owner)?;
        let (link, warning) = link(g);
        let mut input = ParamInput::from_texts([
            ("repo", g.repository.as_str()),
            ("link", link.as_str()),
            ("mountPath", path.as_str()),
        ])
        .value("readOnly", Value::Bool(read_only));
        if let Some(rev) = &g.revision {
            input = input.text("ref", rev);
        }
        let spec = self.pattern.spec();
        let params = params::resolve(&spec.id, &spec.params, &input).map_err(|source| {
            MigrateError::Param {
                volume: g.volume.clone(),
                source,
            }
        })?;
        // The gitRepo volume and the main container's mount of it go; the pattern adds its own.
        let pod = w.pod_spec_mut();
        if let Some(Value::Array(volumes)) = pod.get_mut("volumes") {
            volumes.retain(|v| v.get("name").and_then(Value::as_str) != Some(g.volume.as_str()));
        }
        edit_mounts(pod, &g.volume, |c, _| owner.is_none_or(|(o, _)| o != c));
        let info = workload_info(w, &main);
        let ctx = RenderContext {
            workload: &info,
            object: w.object(),
            params: &params,
            instance: &instance,
            target: &self.options.target,
        };
        let contribution = self.pattern.render(&ctx)?;
        let options = MergeOptions {
            main_container: Some(main),
            ..self.options.clone()
        };
        let applied = merge::Instance {
            pattern: spec,
            name: &instance,
            params: &params,
        };
        let outcome = merge::apply(w, &applied, contribution, &options)?;
        // Other containers keep their mounts, now of the clone's volume.
        let repo_volume = format!("{instance}-repo");
        edit_mounts(w.pod_spec_mut(), &g.volume, |_, m| {
            m["name"] = Value::String(repo_volume.clone());
            true
        });
        let mut warnings: Vec<String> = warning.into_iter().collect();
        warnings.extend(outcome.warnings.iter().map(|m| format!("{instance}: {m}")));
        let report = PatternReport {
            action: "added",
            native: Some(outcome.native),
            record: outcome.record,
        };
        Ok((report, warnings))
    }
}

/// The path and `readOnly` of the app container's mount of the gitRepo volume (the clone's
/// mount takes them), or `/git` read-only when no app container mounts it; a mount with other
/// fields (`subPath`…) cannot be kept.
fn owner_mount(
    g: &GitRepo,
    owner: Option<&(String, Value)>,
) -> Result<(String, bool), ObjectError> {
    let mount = match owner {
        Some((c, m)) => {
            let extra: Vec<&str> = m
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .map(String::as_str)
                .filter(|k| !["name", "mountPath", "readOnly"].contains(k))
                .collect();
            if !extra.is_empty() {
                return Err(MigrateError::MountFields {
                    volume: g.volume.clone(),
                    container: c.clone(),
                    fields: extra.join(", "),
                }
                .into());
            }
            let path = m.get("mountPath").and_then(Value::as_str).unwrap_or("/git");
            let ro = m.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
            (path.to_string(), ro)
        }
        None => ("/git".to_string(), true),
    };
    Ok(mount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(url: &str, directory: Option<&str>) -> GitRepo {
        GitRepo {
            volume: "site".into(),
            repository: url.into(),
            revision: None,
            directory: directory.map(str::to_string),
        }
    }

    #[test]
    fn the_checkout_keeps_its_directory() {
        assert_eq!(
            link(&repo("https://example.com/org/site.git", Some("www"))).0,
            "www"
        );
        assert_eq!(
            link(&repo("https://example.com/org/site.git", None)).0,
            "site"
        );
        assert_eq!(link(&repo("git@example.com:org/site", None)).0, "site");
        let (root, warning) = link(&repo("https://example.com/org/site.git", Some(".")));
        assert_eq!(root, "current");
        assert!(warning.unwrap().contains("<mountPath>/current"));
    }
}
