//! `vault-agent`: secrets from HashiCorp Vault as files in an in-memory volume. An init
//! container renders them before the app starts, a sidecar keeps them fresh; which secrets
//! is said by workload annotations, so one plugin serves every app.

use kubectl_pattern_sdk::prelude::*;

mod agent;

use agent::{AgentSettings, CONFIG_DIR, SECRET_PREFIX, TOKEN_DIR};

/// The `vault` user of the official image.
const VAULT_UID: i64 = 100;

struct VaultAgent;

/// The parameters, as `describe` declares them (validated by the host, defaults filled in).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    address: String,
    role: String,
    auth_path: String,
    image: String,
    secrets_dir: String,
    refresh: bool,
    refresh_interval: String,
    vault_namespace: Option<String>,
    token_audience: Option<String>,
    file_mode: String,
    volume_size: String,
}

/// An optional text parameter, empty text counting as absent.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl Pattern for VaultAgent {
    type Params = Params;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "vault-agent",
            PatternKind::Sidecar,
            "1.0.0",
            "Render Vault secrets named by annotations into an in-memory volume and keep them fresh",
        )
        .docs(DESCRIPTION, USE_WHEN, AVOID_WHEN, DIAGRAM)
        .param(
            Param::string("address", "Vault's address.")
                .required()
                .pattern(r"^https?://[^\s]+$"),
        )
        .param(
            Param::string(
                "role",
                "Vault Kubernetes-auth role bound to the pod's service account.",
            )
            .required(),
        )
        .param(
            Param::string("authPath", "Mount path of Vault's Kubernetes auth method.")
                .default("auth/kubernetes"),
        )
        .param(Param::image("image", "Vault image, pinned.").default("hashicorp/vault:1.18.3"))
        .param(
            Param::string(
                "secretsDir",
                "Where the main container finds the secret files (read-only).",
            )
            .default("/vault/secrets")
            .pattern(r"^/[^\s]*$"),
        )
        .param(
            Param::bool(
                "refresh",
                "Keep the secrets fresh with a sidecar (false: init container only).",
            )
            .default(true),
        )
        .param(Param::duration("refreshInterval", "How often static secrets are re-read.").default("5m"))
        .param(Param::string("vaultNamespace", "Vault Enterprise namespace."))
        .param(Param::string(
            "tokenAudience",
            "Audience of the projected service-account token, if the role checks one.",
        ))
        .param(
            Param::string(
                "fileMode",
                "Mode of the secret files (0444: any user of the pod can read them).",
            )
            .default("0444")
            .pattern(r"^0[0-7]{3}$"),
        )
        .param(Param::quantity("volumeSize", "Size limit of the in-memory secrets volume.").default("16Mi"))
        .resource_params("20m", "200m", "32Mi", "128Mi")
        .example("address", "https://vault.example.com:8200")
        .example("role", "web")
    }

    fn render(req: Request<Params>) -> Result<Contribution, RenderError> {
        let p = req.params();
        let view = req.view();
        let main = req.require_main_container()?;
        let secrets = agent::secrets(&view)?;
        if secrets.is_empty() {
            return Err(RenderError::NotApplicable(format!(
                "{} {} names no secret: annotate its pod template with {SECRET_PREFIX}<file>: <vault path>, \
                 e.g. {SECRET_PREFIX}db: database/creds/app",
                view.kind(),
                view.name()
            )));
        }
        let secrets_dir = p.secrets_dir.as_str();
        check_secrets_dir_free(main, secrets_dir, req.main_container())?;
        let (secrets_vol, config_vol, token_vol) =
            (req.name("secrets"), req.name("config"), req.name("token"));
        for v in [&secrets_vol, &config_vol, &token_vol] {
            if view.has_volume(v) {
                return Err(RenderError::InvalidParams(format!(
                    "the workload already has a volume {v}: choose another instance name"
                )));
            }
        }

        let settings = AgentSettings {
            address: &p.address,
            role: &p.role,
            auth_path: &p.auth_path,
            secrets_dir,
            file_mode: &p.file_mode,
            refresh_interval: &p.refresh_interval,
            secrets: &secrets,
        };
        let image = p.image.as_str();
        let agent_container = |name: String, once: bool| {
            let mut c = ContainerBuilder::new(name, image)
                .command(["/bin/sh", "-ec", &agent::script(once)])
                .env(
                    "VAULT_AGENT_CONFIG",
                    agent::config(&settings, once).to_string(),
                )
                .env("HOME", CONFIG_DIR)
                .env("SKIP_SETCAP", "true");
            if let Some(ns) = given(&p.vault_namespace) {
                c = c.env("VAULT_NAMESPACE", ns);
            }
            c.resources(req.resources())
                .hardened_as(VAULT_UID)
                .mount(&config_vol, CONFIG_DIR, false)
                .mount(&secrets_vol, secrets_dir, false)
                .mount(&token_vol, TOKEN_DIR, true)
        };

        let mut token = json!({"path": "token", "expirationSeconds": 3600});
        if let Some(audience) = given(&p.token_audience) {
            token["audience"] = json!(audience);
        }
        let mut c = Contribution::new();
        c.add_init_container(agent_container(req.name("init"), true))
            .add_empty_dir(&secrets_vol, true, &p.volume_size)
            .add_empty_dir(&config_vol, true, "1Mi")
            .add_volume(
                json!({"name": token_vol, "projected": {"sources": [{"serviceAccountToken": token}]}}),
            )
            .add_mount(
                ContainerTarget::Main,
                json!({"name": secrets_vol, "mountPath": secrets_dir, "readOnly": true}),
            );
        if p.refresh {
            c.add_container(agent_container(req.instance().to_owned(), false));
        } else {
            c.warn(
                "refresh=false: secrets are rendered once at pod start; leased secrets will expire",
            );
        }
        warn_default_account(&view, settings.role, &mut c);
        let files: Vec<&str> = secrets.iter().map(|s| s.file.as_str()).collect();
        log::info(&format!(
            "rendering {} into {secrets_dir}",
            files.join(", ")
        ));
        Ok(c)
    }
}

/// Fails when the main container already mounts something at `secrets_dir`.
fn check_secrets_dir_free(
    main: &Value,
    secrets_dir: &str,
    container: &str,
) -> Result<(), RenderError> {
    let mounted_there = main
        .get("volumeMounts")
        .and_then(Value::as_array)
        .is_some_and(|ms| {
            ms.iter()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(secrets_dir))
        });
    if mounted_there {
        return Err(RenderError::InvalidParams(format!(
            "container {container} already mounts a volume at {secrets_dir}: --set secretsDir=ANOTHER_PATH"
        )));
    }
    Ok(())
}

/// Warns when the pod logs in to Vault as the namespace's `default` service account.
fn warn_default_account(view: &Workload<'_>, role: &str, c: &mut Contribution) {
    let account = view
        .pod_spec()
        .and_then(|s| s.get("serviceAccountName"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    if account == "default" {
        c.warn(format!(
            "the pod runs as service account default: bind Vault role {role} to a dedicated account"
        ));
    }
}

const DESCRIPTION: &str = "\
Vault Agent logs in to Vault with the pod's Kubernetes service-account token (a projected
token mounted only in the agent containers) and renders the secrets the workload names in
annotations into files of an in-memory emptyDir, which the main container mounts read-only at
secretsDir:

  vault-agent.kubectl-pattern.io/secret-<file>: <vault path>      (required, one per file)
  vault-agent.kubectl-pattern.io/template-<file>: <template>      (optional)

By default a file holds the secret's data as JSON (the data of a KV v2 secret); a template
annotation (consul-template syntax) formats it otherwise. An init container renders every file
before the app starts; unless refresh=false, a sidecar re-renders them when leases renew and
every refreshInterval. The agent configuration is generated per workload and passed in an env
var: no ConfigMap, no admission webhook.";

const USE_WHEN: &str = "\
- Apps read secrets from files and the secrets live in Vault (dynamic database credentials,
  KV secrets), without a Vault injector webhook in the cluster.
- Secrets must not be stored as Kubernetes Secrets (etcd) at all.";

const AVOID_WHEN: &str = "\
- The Vault Agent Injector or the Vault Secrets Operator runs in the cluster: use its
  annotations or VaultStaticSecret objects.
- The app reads secrets from env vars only: files cannot change a running process's env;
  sync to a Kubernetes Secret (External Secrets Operator) instead.";

const DIAGRAM: &str = "\
+------------------------------ Pod ------------------------------+
|                                                                 |
|  +------------------+  renders once  +------------------+       |
|  | vault-agent init |--------------->| emptyDir Memory  |<--+   |
|  +------------------+                | /vault/secrets   |   |   |
|                                      +--------+---------+   |   |
|                                     read-only |  re-renders |   |
|  +----------------+                           |             |   |
|  | main container |<--------------------------+   +---------+-+ |
|  +----------------+                               |vault-agent| |
|                                                   |  sidecar  | |
|                                                   +-----+-----+ |
+---------------------------------------------------------|-------+
                                                          v
                                            Vault (Kubernetes auth)";

export_pattern!(VaultAgent);

#[cfg(test)]
mod tests;
