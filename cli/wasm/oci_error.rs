//! What can go wrong with a registry, each said with the registry's name and the fix; and the
//! mapping from `oci-client`'s errors to these.

use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};

use super::fetch::describe;
use super::oci_auth::Credentials;
use super::oci_ref::OciRef;

/// A registry operation failed. Nothing was installed or pushed in part.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The reference is malformed.
    #[error("{0}")]
    Reference(String),
    /// `--plain-http` for a registry that is not on this machine.
    #[error("{0}")]
    PlainHttp(String),
    /// The registry wants credentials (none given, or it rejected them).
    #[error("{message}")]
    Unauthorized {
        /// The whole message.
        message: String,
    },
    /// The registry cannot be reached at all.
    #[error(
        "cannot reach registry {registry}: {cause}; check the address and that the registry is running{hint}"
    )]
    Unreachable {
        /// host[:port].
        registry: String,
        /// The innermost cause (refused, DNS, TLS…).
        cause: String,
        /// A hint for the case at hand, or "".
        hint: String,
    },
    /// No such repository, tag or digest.
    #[error("{target} was not found in registry {registry} ({what})")]
    NotFound {
        /// The reference.
        target: String,
        /// host[:port].
        registry: String,
        /// The registry's code.
        what: String,
    },
    /// `:TAG@sha256:D` and the tag now points elsewhere.
    #[error(
        "{target}: tag {tag} now points to {actual}, not the pinned {pinned}; nothing was installed (install {actual} explicitly if you trust it)"
    )]
    TagMoved {
        /// The reference.
        target: String,
        /// The tag.
        tag: String,
        /// The digest the user pinned.
        pinned: String,
        /// What the tag resolves to.
        actual: String,
    },
    /// A manifest or blob does not hash to its digest.
    #[error(
        "{target}: the {what} received does not match its digest (expected {expected}, got {actual}); the registry's copy is damaged or was tampered with; nothing was installed"
    )]
    Corrupt {
        /// The reference.
        target: String,
        /// "manifest", "layer sha256:…".
        what: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// The artifact is not a plugin.
    #[error("{target} is not a kubectl-pattern plugin: {why}")]
    NotAPlugin {
        /// The reference.
        target: String,
        /// Why not.
        why: String,
    },
    /// Anything else the registry said.
    #[error("registry {registry}: {message}")]
    Registry {
        /// host[:port].
        registry: String,
        /// What happened.
        message: String,
    },
}

/// `oci-client`'s error for an operation on `target`, said for a person.
pub fn map_error(err: OciDistributionError, target: &OciRef, creds: &Credentials) -> OciError {
    let registry = target.registry.clone();
    let status = match &err {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Some(401),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().find_map(|e| match e.code {
                OciErrorCode::Unauthorized => Some(401),
                OciErrorCode::Denied => Some(403),
                OciErrorCode::ManifestUnknown
                | OciErrorCode::NameUnknown
                | OciErrorCode::BlobUnknown
                | OciErrorCode::NotFound => Some(404),
                _ => None,
            })
        }
        OciDistributionError::ImageManifestNotFoundError(_) => Some(404),
        // Some calls (a blob's HEAD) report the status through reqwest.
        OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
        _ => None,
    };
    match status {
        Some(401) => return unauthorized(&registry, creds),
        Some(403) => {
            return OciError::Unauthorized {
                message: format!(
                    "registry {registry} denied access to {} for {}; check that this account may {}",
                    target.repository,
                    creds
                        .basic
                        .as_ref()
                        .map_or("anonymous access".to_string(), |(u, _)| format!("user {u}")),
                    "read (install) or write (push) it"
                ),
            };
        }
        Some(404) => {
            return OciError::NotFound {
                target: target.to_string(),
                registry,
                what: registry_codes(&err).unwrap_or_else(|| "HTTP 404".into()),
            };
        }
        _ => {}
    }
    match err {
        OciDistributionError::DigestError(DigestError::VerificationError { expected, actual }) => {
            OciError::Corrupt {
                target: target.to_string(),
                what: format!("blob {expected}"),
                expected,
                actual,
            }
        }
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            let cause = describe(&e);
            let tls = [
                "tls",
                "certificate",
                "handshake",
                "corrupt message",
                "InvalidContentType",
            ]
            .iter()
            .any(|w| cause.to_lowercase().contains(&w.to_lowercase()));
            let hint = if tls && target.check_plain_http().is_ok() {
                " (a registry on this machine that serves plain HTTP needs --plain-http)"
            } else {
                ""
            };
            OciError::Unreachable {
                registry,
                cause,
                hint: hint.into(),
            }
        }
        OciDistributionError::RequestError(e) => OciError::Registry {
            registry,
            message: describe(&e),
        },
        other => OciError::Registry {
            registry,
            message: other.to_string(),
        },
    }
}

fn unauthorized(registry: &str, creds: &Credentials) -> OciError {
    let fix = format!("docker login {registry}, or --username/--password-stdin");
    let message = match &creds.basic {
        None => format!("authentication required by {registry}: {fix}"),
        Some((user, _)) => format!(
            "registry {registry} rejected the credentials of user {user} (from {}): check them, then {fix}",
            creds.origin
        ),
    };
    let message = match &creds.note {
        Some(note) => format!("{message}\n  note: {note}"),
        None => message,
    };
    OciError::Unauthorized { message }
}

fn registry_codes(err: &OciDistributionError) -> Option<String> {
    let OciDistributionError::RegistryError { envelope, .. } = err else {
        return None;
    };
    let codes: Vec<String> = envelope
        .errors
        .iter()
        .map(|e| {
            let code = serde_json::to_value(&e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            if e.message.is_empty() {
                code
            } else {
                format!("{code}: {}", e.message)
            }
        })
        .collect();
    (!codes.is_empty()).then(|| codes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> OciRef {
        OciRef::parse("oci://reg.example:5000/team/p:1").unwrap()
    }

    #[test]
    fn a_401_without_credentials_says_how_to_log_in() {
        let err = OciDistributionError::UnauthorizedError {
            url: "https://reg.example:5000/v2/".into(),
        };
        assert_eq!(
            map_error(err, &target(), &Credentials::anonymous()).to_string(),
            "authentication required by reg.example:5000: docker login reg.example:5000, or --username/--password-stdin"
        );
    }

    #[test]
    fn a_401_with_credentials_names_the_user_and_where_they_came_from() {
        let err = OciDistributionError::ServerError {
            code: 401,
            url: "u".into(),
            message: String::new(),
        };
        let creds = Credentials::given("bob".into(), "pw".into());
        let text = map_error(err, &target(), &creds).to_string();
        assert!(
            text.starts_with("registry reg.example:5000 rejected the credentials of user bob (from --username/--password-stdin)"),
            "{text}"
        );
        assert!(!text.contains("pw"), "{text}");
    }

    #[test]
    fn a_credential_helper_note_follows_the_401() {
        let creds = Credentials {
            note: Some("use --username".into()),
            ..Credentials::anonymous()
        };
        let text = unauthorized("r.io", &creds).to_string();
        assert!(text.ends_with("\n  note: use --username"), "{text}");
    }

    #[test]
    fn an_unknown_manifest_is_not_found_with_the_registry_code() {
        let envelope: oci_client::errors::OciEnvelope = serde_json::from_str(
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        )
        .unwrap();
        let err = OciDistributionError::RegistryError {
            envelope,
            url: "u".into(),
        };
        assert_eq!(
            map_error(err, &target(), &Credentials::anonymous()).to_string(),
            "oci://reg.example:5000/team/p:1 was not found in registry reg.example:5000 (MANIFEST_UNKNOWN: manifest unknown)"
        );
    }
}
