//! The Vault Agent side: secrets listed by annotations, and the agent configuration (JSON,
//! which Vault reads like HCL).

use kubectl_pattern_sdk::prelude::*;

/// `vault-agent.kubectl-pattern.io/secret-<file>: <vault path>` renders a secret to `<file>`.
pub const SECRET_PREFIX: &str = "vault-agent.kubectl-pattern.io/secret-";
/// `vault-agent.kubectl-pattern.io/template-<file>: <template>` overrides how it is rendered.
pub const TEMPLATE_PREFIX: &str = "vault-agent.kubectl-pattern.io/template-";
/// Where the projected service-account token is mounted in the agent containers.
pub const TOKEN_DIR: &str = "/var/run/secrets/vault-agent";
/// The agent's config emptyDir.
pub const CONFIG_DIR: &str = "/vault/config";

/// One secret file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// The file name in the secrets directory.
    pub file: String,
    /// The Vault path.
    pub path: String,
    /// The consul-template text.
    pub template: String,
}

fn valid_file(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./@:=+-".contains(c))
}

/// The default template: a KV v2 secret's data, or any other secret's data, as JSON.
pub fn default_template(path: &str) -> String {
    format!(
        "{{{{ with secret \"{path}\" }}}}{{{{ if .Data.data }}}}{{{{ .Data.data | toJSON }}}}\
         {{{{ else }}}}{{{{ .Data | toJSON }}}}{{{{ end }}}}{{{{ end }}}}"
    )
}

/// The secrets the workload's annotations (pod template first, then the object) ask for,
/// sorted by file name.
pub fn secrets(view: &Workload<'_>) -> Result<Vec<Secret>, RenderError> {
    let maps = [view.pod_annotations(), view.annotations()];
    let annotation = |key: &str| {
        maps.iter()
            .flatten()
            .find_map(|m| m.get(key).and_then(Value::as_str))
    };
    let mut files: Vec<&str> = maps
        .iter()
        .flatten()
        .flat_map(|m| m.keys())
        .filter_map(|k| k.strip_prefix(SECRET_PREFIX))
        .collect();
    files.sort_unstable();
    files.dedup();
    let mut out = Vec::new();
    for file in files {
        let key = format!("{SECRET_PREFIX}{file}");
        let path = annotation(&key).unwrap_or_default().trim();
        if !valid_file(file) {
            return Err(RenderError::UnsupportedWorkload(format!(
                "annotation {key}: {file:?} is not a file name (letters, digits, . _ -)"
            )));
        }
        if !valid_path(path) {
            return Err(RenderError::UnsupportedWorkload(format!(
                "annotation {key}: {path:?} is not a Vault path such as secret/data/app/db"
            )));
        }
        let template = match annotation(&format!("{TEMPLATE_PREFIX}{file}")) {
            Some(t) if !t.trim().is_empty() => t.to_owned(),
            _ => default_template(path),
        };
        out.push(Secret {
            file: file.to_owned(),
            path: path.to_owned(),
            template,
        });
    }
    Ok(out)
}

/// What the agent configuration depends on.
#[derive(Debug)]
pub struct AgentSettings<'a> {
    /// Vault's address.
    pub address: &'a str,
    /// The Kubernetes auth role.
    pub role: &'a str,
    /// The Kubernetes auth mount path.
    pub auth_path: &'a str,
    /// The directory the secrets are written to.
    pub secrets_dir: &'a str,
    /// The files' mode.
    pub file_mode: &'a str,
    /// How often static secrets are re-read.
    pub refresh_interval: &'a str,
    /// The secrets.
    pub secrets: &'a [Secret],
}

/// The agent configuration; `once`: render once and exit (the init container).
pub fn config(s: &AgentSettings<'_>, once: bool) -> Value {
    let templates: Vec<Value> = s
        .secrets
        .iter()
        .map(|secret| {
            json!({
                "destination": format!("{}/{}", s.secrets_dir.trim_end_matches('/'), secret.file),
                "contents": secret.template,
                "perms": s.file_mode,
                "error_on_missing_key": true,
            })
        })
        .collect();
    let name = if once { "init" } else { "agent" };
    json!({
        "pid_file": format!("{CONFIG_DIR}/{name}.pid"),
        "exit_after_auth": once,
        "vault": {"address": s.address, "retry": {"num_retries": 5}},
        "auto_auth": {"method": {
            "type": "kubernetes",
            "mount_path": s.auth_path,
            "config": {"role": s.role, "token_path": format!("{TOKEN_DIR}/token")},
        }},
        "template_config": {
            "exit_on_retry_failure": true,
            "static_secret_render_interval": s.refresh_interval,
        },
        "template": templates,
    })
}

/// The shell command that writes the configuration from `$VAULT_AGENT_CONFIG` into the
/// config emptyDir and runs the agent.
pub fn script(once: bool) -> String {
    let file = format!("{CONFIG_DIR}/{}.json", if once { "init" } else { "agent" });
    format!("printf '%s' \"$VAULT_AGENT_CONFIG\" > {file}\nexec vault agent -config={file}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_secret_annotations() {
        let wl = json!({"kind": "Deployment", "metadata": {"annotations": {
                format!("{SECRET_PREFIX}b.json"): "kv/data/b"}},
            "spec": {"template": {"metadata": {"annotations": {
                format!("{SECRET_PREFIX}a"): "database/creds/app",
                format!("{TEMPLATE_PREFIX}a"): "{{ with secret \"database/creds/app\" }}{{ .Data.password }}{{ end }}",
                "unrelated": "x"}},
                "spec": {"containers": []}}}});
        let found = secrets(&Workload::new(&wl)).expect("valid");
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].file.as_str(), found[0].path.as_str()),
            ("a", "database/creds/app")
        );
        assert!(found[0].template.contains(".Data.password"));
        assert_eq!(found[1].file, "b.json");
        assert_eq!(found[1].template, default_template("kv/data/b"));
        assert!(
            found[1]
                .template
                .starts_with("{{ with secret \"kv/data/b\" }}")
        );
    }

    #[test]
    fn refuses_unsafe_names_and_paths() {
        for (file, path) in [("..", "kv/a"), ("a", "kv/\"a"), ("a", ""), ("a", "/kv/a")] {
            let wl = json!({"kind": "Pod", "metadata": {"annotations": {format!("{SECRET_PREFIX}{file}"): path}},
                "spec": {"containers": []}});
            assert!(secrets(&Workload::new(&wl)).is_err(), "{file} {path}");
        }
    }

    #[test]
    fn init_config_exits_after_rendering() {
        let s = [Secret {
            file: "db".into(),
            path: "p".into(),
            template: "t".into(),
        }];
        let settings = AgentSettings {
            address: "https://vault:8200",
            role: "app",
            auth_path: "auth/kubernetes",
            secrets_dir: "/vault/secrets/",
            file_mode: "0444",
            refresh_interval: "5m",
            secrets: &s,
        };
        let init = config(&settings, true);
        assert_eq!(init["exit_after_auth"], true);
        assert_eq!(init["template"][0]["destination"], "/vault/secrets/db");
        assert_eq!(
            init["auto_auth"]["method"]["config"]["token_path"],
            "/var/run/secrets/vault-agent/token"
        );
        assert_eq!(config(&settings, false)["exit_after_auth"], false);
        assert!(script(true).ends_with("exec vault agent -config=/vault/config/init.json"));
    }
}
