//! `plugin push` and `plugin install oci://…`: plugins shared through OCI registries, with the
//! registry flags (`--plain-http`, `--username`, `--password-stdin`) and the credentials lookup.

use std::io::Read as _;
use std::path::Path;

use anyhow::Result;
use clap::Args;

use crate::engine::pattern::Pattern as _;
use crate::wasm::Limits;
use crate::wasm::oci::{self, Connection, Credentials, OciRef, PluginMeta};
use crate::wasm::pattern::WasmPattern;
use crate::wasm::store::{self, Installed, PluginStore};

use super::UsageError;

/// How to reach the registry of an `oci://` reference.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Registry")]
pub struct RegistryArgs {
    /// Talk plain HTTP to the registry (only for one on this machine: localhost, 127.0.0.0/8,
    /// ::1).
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// The registry user (the password is read from stdin, see --password-stdin). Without
    /// it, the docker config's credentials for the registry are used ($DOCKER_CONFIG or
    /// ~/.docker/config.json).
    #[arg(long, short = 'u', requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password (or token) from stdin, as `docker login` does.
    #[arg(long = "password-stdin", requires = "username")]
    pub password_stdin: bool,
}

impl RegistryArgs {
    /// The connection for `target`: the flags' credentials, else the docker config's. A
    /// credential helper that would apply is named on stderr with the way around it.
    fn connection(&self, target: &OciRef) -> Result<Connection> {
        if self.plain_http {
            target.check_plain_http().map_err(UsageError)?;
        }
        let credentials = match &self.username {
            Some(user) => {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .map_err(|e| UsageError(format!("--password-stdin: cannot read stdin: {e}")))?;
                let password = password.trim_end_matches(['\n', '\r']).to_string();
                if password.is_empty() {
                    return Err(UsageError(
                        "--password-stdin: stdin is empty; pipe the password or token into the command".into(),
                    )
                    .into());
                }
                Credentials::given(user.clone(), password)
            }
            None => Credentials::from_docker_config(&target.registry).map_err(UsageError)?,
        };
        if let Some(note) = &credentials.note {
            crate::ui::warn(note);
        }
        Ok(Connection {
            plain_http: self.plain_http,
            credentials,
        })
    }

    /// Whether any registry flag was given (they only make sense with `oci://`).
    pub fn any(&self) -> bool {
        self.plain_http || self.username.is_some() || self.password_stdin
    }
}

fn parse(reference: &str) -> Result<OciRef> {
    Ok(OciRef::parse(reference).map_err(UsageError)?)
}

/// `plugin install SOURCE`: from a registry for `oci://`, else a file, directory or URL.
pub fn install_any(
    store: &PluginStore,
    source: &str,
    sha256: Option<&str>,
    registry: &RegistryArgs,
    limits: Limits,
) -> Result<Installed> {
    if let Some(sha) = sha256
        && !(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(UsageError(format!("--sha256 {sha:?}: expected 64 hex digits")).into());
    }
    if oci::is_oci(source) {
        return install(store, source, sha256, registry, limits);
    }
    if registry.any() {
        return Err(UsageError(format!(
            "{source}: --plain-http, --username and --password-stdin are for oci:// references"
        ))
        .into());
    }
    let (origin, bytes) = store::read_source(source)?;
    Ok(store.install(&origin, &bytes, sha256, limits)?)
}

/// `plugin install oci://…`: pulls (digests checked), installs, and says when the digest of
/// an installed plugin of the same name changed.
fn install(
    store: &PluginStore,
    reference: &str,
    sha256: Option<&str>,
    registry: &RegistryArgs,
    limits: Limits,
) -> Result<Installed> {
    let target = parse(reference)?;
    let connection = registry.connection(&target)?;
    let pulled = oci::pull(&target, &connection)?;
    let before = store.list()?;
    let installed = store.install_recorded(
        &target.to_string(),
        &pulled.bytes,
        sha256,
        Some(&pulled.manifest_digest),
        limits,
    )?;
    let previous = before
        .iter()
        .find(|p| p.name == installed.name)
        .and_then(|p| p.manifest_digest.as_deref());
    if let (Some(old), Some(new)) = (previous, installed.manifest_digest.as_deref())
        && old != new
    {
        crate::ui::stdout(&format!("digest changed: {old} → {new}\n"))?;
    }
    Ok(installed)
}

/// `plugin push FILE oci://REGISTRY/REPO:TAG`.
pub fn push(file: &str, reference: &str, registry: &RegistryArgs, limits: Limits) -> Result<()> {
    let target = parse(reference)?;
    if file.starts_with("https://") || file.starts_with("http://") || oci::is_oci(file) {
        return Err(UsageError(format!(
            "{file}: push takes a local .wasm file or a plugin crate's directory"
        ))
        .into());
    }
    let (origin, bytes) = store::read_source(file)?;
    // Load it as `plugin install` would: a component that does not work is not published.
    let pattern = WasmPattern::load(Path::new(&origin), limits, None)?;
    let spec = pattern.spec();
    let meta = PluginMeta {
        id: spec.id.clone(),
        version: spec.version.clone(),
        kind: spec.kind.to_string(),
        summary: spec.summary.clone(),
        exports: pattern.exports.clone(),
        imports: pattern.imports.clone(),
    };
    let connection = registry.connection(&target)?;
    let digest = oci::push(&bytes, &meta, &target, &connection)?;
    let pinned = target.at_digest(&digest);
    let flag = if registry.plain_http {
        " --plain-http"
    } else {
        ""
    };
    crate::ui::stdout(&format!(
        "pushed {} {} to {target}\ndigest: {digest}\ninstall it with:\n  kubectl pattern plugin install {pinned}{flag}\n",
        meta.id, meta.version
    ))?;
    Ok(())
}
