//! `oci://REGISTRY/REPO[:TAG][@sha256:DIGEST]` references, and the rule that plain HTTP is only
//! for a registry on this machine.

use std::fmt;
use std::net::IpAddr;

/// A parsed `oci://` reference. The registry is always explicit (no Docker Hub default), so
/// what is fetched is what the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// `host[:port]`, as typed (IPv6 in brackets).
    pub registry: String,
    /// The repository path inside the registry.
    pub repository: String,
    /// The tag, when given.
    pub tag: Option<String>,
    /// `sha256:<64 hex>`, when given (lower-case).
    pub digest: Option<String>,
}

/// The prefix of every reference.
pub const SCHEME: &str = "oci://";

/// Whether `source` is meant as an OCI reference.
pub fn is_oci(source: &str) -> bool {
    source.starts_with(SCHEME)
}

impl OciRef {
    /// Parses `oci://REGISTRY/REPO:TAG`, `…@sha256:DIGEST` or `…:TAG@sha256:DIGEST`; the error
    /// says which part is wrong and shows the expected shape.
    pub fn parse(text: &str) -> Result<OciRef, String> {
        let bad = |why: &str| {
            format!(
                "{text}: {why}; expected oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST"
            )
        };
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("not an oci:// reference"))?;
        let (name_tag, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(parse_digest(d).map_err(|why| bad(&why))?)),
            None => (rest, None),
        };
        let (registry, path) = name_tag
            .split_once('/')
            .ok_or_else(|| bad("no repository after the registry"))?;
        if !looks_like_registry(registry) {
            return Err(bad(&format!(
                "{registry:?} is not a registry host (name it in full, e.g. ghcr.io or localhost:5000)"
            )));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (path, None),
        };
        if !valid_repository(repository) {
            return Err(bad(&format!(
                "repository {repository:?} must be lower-case letters, digits and . _ - separated by /"
            )));
        }
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(bad(&format!(
                "tag {tag:?} must be up to 128 letters, digits, . _ - (not starting with . or -)"
            )));
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad("name a tag or a digest"));
        }
        Ok(OciRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The same repository at `digest`, without a tag.
    pub fn at_digest(&self, digest: &str) -> OciRef {
        OciRef {
            tag: None,
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// Refuses plain HTTP unless the registry is on this machine: credentials and the plugin
    /// would cross the network unencrypted and unauthenticated.
    pub fn check_plain_http(&self) -> Result<(), String> {
        if is_loopback(&self.registry) {
            return Ok(());
        }
        Err(format!(
            "--plain-http is only allowed for a registry on this machine (localhost, 127.0.0.0/8, ::1), not {}: over plain HTTP anyone on the way could read your credentials and swap the plugin; use the registry's https endpoint",
            self.registry
        ))
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn parse_digest(text: &str) -> Result<String, String> {
    let hex = text
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("digest {text:?} must start with sha256:"))?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("digest {text:?} must be sha256: and 64 hex digits"));
    }
    Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// The host part of `host[:port]` (brackets of an IPv6 address removed).
fn host(registry: &str) -> &str {
    if let Some(inner) = registry.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// A registry names a host: it has a dot or a port, or is localhost (a plain word would be
/// a Docker Hub namespace elsewhere; here the registry must be explicit).
fn looks_like_registry(registry: &str) -> bool {
    let host = host(registry);
    !host.is_empty()
        && (registry.contains('.')
            || registry.contains(':')
            || host.eq_ignore_ascii_case("localhost"))
        && registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}

fn is_loopback(registry: &str) -> bool {
    let host = host(registry);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The distribution spec's repository grammar: components of `[a-z0-9]` joined by `.`, `_`,
/// `__` or runs of `-`, separated by `/`.
fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|component| {
            let bytes = component.as_bytes();
            let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
            !bytes.is_empty()
                && bytes.first().is_some_and(edge)
                && bytes.last().is_some_and(edge)
                && bytes
                    .iter()
                    .all(|b| edge(b) || matches!(b, b'.' | b'_' | b'-'))
                && !component.contains("..")
                && !component.contains("___")
                && !component.contains("._")
                && !component.contains("_.")
        })
}

fn valid_tag(tag: &str) -> bool {
    let first_ok = tag
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tag_digest_and_both() {
        let r = OciRef::parse("oci://ghcr.io/acme/plugins/otel:1.2.0").unwrap();
        assert_eq!(
            (
                r.registry.as_str(),
                r.repository.as_str(),
                r.tag.as_deref(),
                r.digest
            ),
            ("ghcr.io", "acme/plugins/otel", Some("1.2.0"), None)
        );
        let r = OciRef::parse(&format!("oci://localhost:5000/otel@{D}")).unwrap();
        assert_eq!(
            (r.registry.as_str(), r.tag, r.digest.as_deref()),
            ("localhost:5000", None, Some(D))
        );
        let r = OciRef::parse(&format!(
            "oci://127.0.0.1:5000/otel:v1@{}",
            D.to_uppercase().replace("SHA256", "sha256")
        ))
        .unwrap();
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref()),
            (Some("v1"), Some(D))
        );
        assert_eq!(r.to_string(), format!("oci://127.0.0.1:5000/otel:v1@{D}"));
        assert_eq!(
            r.at_digest(D).to_string(),
            format!("oci://127.0.0.1:5000/otel@{D}")
        );
    }

    #[test]
    fn wrong_references_say_which_part() {
        for (text, part) in [
            ("ghcr.io/acme/otel:1", "not an oci:// reference"),
            ("oci://otel:1", "no repository"),
            ("oci://acme/otel:1", "\"acme\" is not a registry host"),
            ("oci://ghcr.io/Acme/otel:1", "repository \"Acme/otel\""),
            ("oci://ghcr.io/acme/otel", "name a tag or a digest"),
            ("oci://ghcr.io/acme/otel:-x", "tag \"-x\""),
            ("oci://ghcr.io/acme/otel@sha256:abc", "64 hex digits"),
            ("oci://ghcr.io/acme/otel@md5:abc", "must start with sha256:"),
        ] {
            let err = OciRef::parse(text).unwrap_err();
            assert!(err.starts_with(text), "{err}");
            assert!(err.contains(part), "{text}: {err}");
        }
    }

    #[test]
    fn plain_http_only_on_this_machine() {
        for ok in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.8.9.1",
            "[::1]:5000",
            "LOCALHOST",
        ] {
            let r = OciRef::parse(&format!("oci://{ok}/p:1")).unwrap();
            assert_eq!(r.check_plain_http(), Ok(()), "{ok}");
        }
        for refused in [
            "ghcr.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:5000",
            "128.0.0.1",
        ] {
            let r = OciRef::parse(&format!("oci://{refused}/p:1")).unwrap();
            let err = r.check_plain_http().unwrap_err();
            assert!(err.contains(&format!("not {refused}:")), "{err}");
        }
    }
}
