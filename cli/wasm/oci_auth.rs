//! Registry credentials the way other OCI tools find them: `--username/--password-stdin`, else
//! the docker `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
//! Credential helpers (`credsStore`, `credHelpers`) are not run: the caller is told so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// The credentials for one registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// User and password (or token), when any were found.
    pub basic: Option<(String, String)>,
    /// Where they came from ("--username", "/home/me/.docker/config.json").
    pub origin: String,
    /// Why the config's credentials could not be used (a credential helper), to show the user.
    pub note: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.basic.as_ref().map(|(u, _)| u))
            .field("origin", &self.origin)
            .field("note", &self.note)
            .finish()
    }
}

impl Credentials {
    /// Credentials given on the command line.
    pub fn given(user: String, password: String) -> Self {
        Credentials {
            basic: Some((user, password)),
            origin: "--username/--password-stdin".into(),
            note: None,
        }
    }

    /// Anonymous access.
    pub fn anonymous() -> Self {
        Credentials::default()
    }

    /// The credentials the docker config holds for `registry`, or anonymous access when it
    /// has none (or there is no config). A damaged config is an error naming the file.
    pub fn from_docker_config(registry: &str) -> Result<Self, String> {
        let Some(path) = docker_config_path() else {
            return Ok(Credentials::anonymous());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Credentials::anonymous());
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        lookup(&text, &path, registry)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker/config.json"))
}

/// The `auths` key's registry: `https://host/v1/` and `host` both name `host`.
fn key_host(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn lookup(text: &str, path: &Path, registry: &str) -> Result<Credentials, String> {
    let config: DockerConfig = serde_json::from_str(text)
        .map_err(|e| format!("{} is not a valid docker config: {e}", path.display()))?;
    let origin = path.display().to_string();
    let file = origin.clone();
    let helper_note = move |helper: &str, key: &str| {
        Some(format!(
            "{file} keeps the credentials for {registry} in the credential helper docker-credential-{helper} ({key}), which kubectl pattern does not run; pass them with --username USER --password-stdin instead"
        ))
    };
    if let Some(helper) = config
        .cred_helpers
        .iter()
        .find(|(k, _)| key_host(k) == registry)
        .map(|(_, v)| v)
    {
        return Ok(Credentials {
            basic: None,
            origin,
            note: helper_note(helper, "credHelpers"),
        });
    }
    let entry = config.auths.iter().find(|(k, _)| key_host(k) == registry);
    let Some((_, entry)) = entry else {
        let note = config
            .creds_store
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|store| helper_note(store, "credsStore"));
        return Ok(Credentials {
            basic: None,
            origin,
            note,
        });
    };
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Credentials {
            basic: Some((user.clone(), password.clone())),
            origin,
            note: None,
        });
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                format!("{origin}: auths.{registry}.auth is not base64 of user:password; run docker login {registry} again")
            })?;
        let (user, password) = decoded.split_once(':').ok_or_else(|| {
            format!("{origin}: auths.{registry}.auth is not base64 of user:password; run docker login {registry} again")
        })?;
        return Ok(Credentials {
            basic: Some((user.to_string(), password.to_string())),
            origin,
            note: None,
        });
    }
    let note = if entry.identitytoken.is_some() {
        format!(
            "{origin} holds an identity token for {registry}, which kubectl pattern does not use; pass credentials with --username USER --password-stdin instead"
        )
    } else {
        format!("{origin} has an entry for {registry} without credentials")
    };
    if config.creds_store.as_deref().is_some_and(|s| !s.is_empty()) {
        // `docker login` with a credsStore leaves an empty entry behind.
        let store = config.creds_store.as_deref().unwrap_or_default();
        return Ok(Credentials {
            basic: None,
            origin,
            note: helper_note(store, "credsStore"),
        });
    }
    Ok(Credentials {
        basic: None,
        origin,
        note: Some(note),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(config: &str, registry: &str) -> Result<Credentials, String> {
        lookup(config, Path::new("/h/.docker/config.json"), registry)
    }

    #[test]
    fn auth_is_base64_user_colon_password() {
        // "bob:s3:cret" — a colon inside the password stays in the password.
        let c = find(
            r#"{"auths":{"reg.example:5000":{"auth":"Ym9iOnMzOmNyZXQ="}}}"#,
            "reg.example:5000",
        )
        .unwrap();
        assert_eq!(c.basic, Some(("bob".into(), "s3:cret".into())));
        assert_eq!(c.note, None);
    }

    #[test]
    fn keys_with_a_scheme_or_path_match_the_host() {
        let c = find(
            r#"{"auths":{"https://ghcr.io/v1/":{"username":"u","password":"p"}}}"#,
            "ghcr.io",
        )
        .unwrap();
        assert_eq!(c.basic, Some(("u".into(), "p".into())));
        let none = find(
            r#"{"auths":{"https://ghcr.io/v1/":{"auth":"dTpw"}}}"#,
            "ghcr.io:443",
        )
        .unwrap();
        assert_eq!(none.basic, None);
    }

    #[test]
    fn credential_helpers_are_named_with_the_way_out() {
        let c = find(
            r#"{"auths":{"ghcr.io":{}},"credsStore":"desktop"}"#,
            "ghcr.io",
        )
        .unwrap();
        assert_eq!(c.basic, None);
        let note = c.note.unwrap();
        assert!(
            note.contains("docker-credential-desktop (credsStore)"),
            "{note}"
        );
        assert!(note.contains("--username USER --password-stdin"), "{note}");
        let c = find(r#"{"credHelpers":{"quay.io":"ecr-login"}}"#, "quay.io").unwrap();
        assert!(
            c.note
                .unwrap()
                .contains("docker-credential-ecr-login (credHelpers)")
        );
        // A helper for another registry does not matter.
        let c = find(r#"{"credHelpers":{"quay.io":"ecr-login"}}"#, "ghcr.io").unwrap();
        assert_eq!((c.basic, c.note), (None, None));
    }

    #[test]
    fn a_broken_entry_names_the_file_and_the_fix() {
        let err = find(r#"{"auths":{"ghcr.io":{"auth":"!!"}}}"#, "ghcr.io").unwrap_err();
        assert_eq!(
            err,
            "/h/.docker/config.json: auths.ghcr.io.auth is not base64 of user:password; run docker login ghcr.io again"
        );
        let err = find("{", "ghcr.io").unwrap_err();
        assert!(
            err.starts_with("/h/.docker/config.json is not a valid docker config"),
            "{err}"
        );
    }

    #[test]
    fn the_password_is_never_printed() {
        let c = Credentials::given("bob".into(), "hunter2".into());
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
