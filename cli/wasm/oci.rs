//! Plugins in OCI registries, in the CNCF Wasm OCI artifact layout (config
//! `application/vnd.wasm.config.v0+json`, one `application/wasm` layer): push a component with
//! the pattern's metadata as annotations, pull one by tag or digest with every digest checked.
//! The distribution API is `oci-client`'s.

use std::collections::BTreeMap;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::json;

use super::cache::sha256_hex;
use super::fetch::{self, MAX_PLUGIN_BYTES};
pub use super::oci_auth::Credentials;
pub use super::oci_error::OciError;
use super::oci_error::map_error;
pub use super::oci_ref::{OciRef, is_oci};

/// The config blob's media type (CNCF Wasm OCI artifact layout).
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The one layer's media type: the component itself.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Plain HTTP (only for a registry on this machine; checked by `connect`).
    pub plain_http: bool,
    /// The credentials to present.
    pub credentials: Credentials,
}

/// A plugin fetched from a registry, digests checked.
#[derive(Debug)]
pub struct Pulled {
    /// The component.
    pub bytes: Vec<u8>,
    /// `sha256:…` of the manifest that was fetched.
    pub manifest_digest: String,
}

/// What `push` records about the plugin, from the loaded component.
#[derive(Debug, Clone)]
pub struct PluginMeta {
    /// The pattern id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// sidecar, adapter, ambassador or init.
    pub kind: String,
    /// One line.
    pub summary: String,
    /// The component's exports and imports (WIT interface names).
    pub exports: Vec<String>,
    /// See `exports`.
    pub imports: Vec<String>,
}

struct Session<'a> {
    client: Client,
    auth: RegistryAuth,
    target: &'a OciRef,
    connection: &'a Connection,
}

impl<'a> Session<'a> {
    fn connect(target: &'a OciRef, connection: &'a Connection) -> Result<Self, OciError> {
        if connection.plain_http {
            target.check_plain_http().map_err(OciError::PlainHttp)?;
        }
        fetch::install_crypto_provider();
        let config = ClientConfig {
            protocol: if connection.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(std::time::Duration::from_secs(15)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| OciError::Registry {
            registry: target.registry.clone(),
            message: format!("cannot set up the HTTP client: {e}"),
        })?;
        let auth = match &connection.credentials.basic {
            Some((user, password)) => RegistryAuth::Basic(user.clone(), password.clone()),
            None => RegistryAuth::Anonymous,
        };
        Ok(Session {
            client,
            auth,
            target,
            connection,
        })
    }

    fn fail(&self, err: oci_client::errors::OciDistributionError) -> OciError {
        map_error(err, self.target, &self.connection.credentials)
    }

    fn reference(&self, r: &OciRef) -> Reference {
        match (&r.tag, &r.digest) {
            (Some(tag), _) => {
                Reference::with_tag(r.registry.clone(), r.repository.clone(), tag.clone())
            }
            (None, Some(digest)) => {
                Reference::with_digest(r.registry.clone(), r.repository.clone(), digest.clone())
            }
            (None, None) => {
                Reference::with_tag(r.registry.clone(), r.repository.clone(), "latest".into())
            }
        }
    }

    async fn authenticate(
        &self,
        reference: &Reference,
        op: RegistryOperation,
    ) -> Result<(), OciError> {
        self.client
            .auth(reference, &self.auth, op)
            .await
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }
}

/// Fetches the plugin `target` names. With a tag and a digest, the tag must resolve to that
/// digest. The manifest must be a Wasm artifact with one `application/wasm` layer, and the
/// layer must hash to its digest; nothing is returned otherwise.
pub fn pull(target: &OciRef, connection: &Connection) -> Result<Pulled, OciError> {
    let session = Session::connect(target, connection)?;
    fetch::block_on(pull_async(&session)).map_err(|e| OciError::Registry {
        registry: target.registry.clone(),
        message: format!("cannot start the HTTP client: {e}"),
    })?
}

async fn pull_async(s: &Session<'_>) -> Result<Pulled, OciError> {
    let target = s.target;
    let reference = s.reference(target);
    s.authenticate(&reference, RegistryOperation::Pull).await?;
    let (raw, _) = s
        .client
        .pull_manifest_raw(&reference, &s.auth, &[OCI_IMAGE_MEDIA_TYPE])
        .await
        .map_err(|e| s.fail(e))?;
    // The digest of the bytes received, whatever the registry's headers say.
    let manifest_digest = format!("sha256:{}", sha256_hex(&raw));
    if let Some(pinned) = &target.digest
        && *pinned != manifest_digest
    {
        return Err(match &target.tag {
            Some(tag) => OciError::TagMoved {
                target: target.to_string(),
                tag: tag.clone(),
                pinned: pinned.clone(),
                actual: manifest_digest,
            },
            None => OciError::Corrupt {
                target: target.to_string(),
                what: "manifest".into(),
                expected: pinned.clone(),
                actual: manifest_digest,
            },
        });
    }
    let manifest: OciImageManifest =
        serde_json::from_slice(&raw).map_err(|e| OciError::NotAPlugin {
            target: target.to_string(),
            why: format!("its manifest is not an OCI image manifest ({e})"),
        })?;
    let layer = wasm_layer(target, &manifest)?;
    let pinned = s.reference(&target.at_digest(&manifest_digest));
    let mut bytes = Vec::new();
    s.client
        .pull_blob(&pinned, &layer, &mut bytes)
        .await
        .map_err(|e| s.fail(e))?;
    let actual = format!("sha256:{}", sha256_hex(&bytes));
    if actual != layer.digest {
        return Err(OciError::Corrupt {
            target: target.to_string(),
            what: format!("layer {}", layer.digest),
            expected: layer.digest.clone(),
            actual,
        });
    }
    Ok(Pulled {
        bytes,
        manifest_digest,
    })
}

/// The manifest's one `application/wasm` layer, of a sane size and a sha256 digest.
fn wasm_layer(
    target: &OciRef,
    manifest: &OciImageManifest,
) -> Result<oci_client::manifest::OciDescriptor, OciError> {
    let not_a_plugin = |why: String| OciError::NotAPlugin {
        target: target.to_string(),
        why,
    };
    let types: Vec<&str> = manifest
        .layers
        .iter()
        .map(|l| l.media_type.as_str())
        .collect();
    let [layer] = manifest.layers.as_slice() else {
        return Err(not_a_plugin(format!(
            "a plugin artifact has exactly one layer of type {WASM_LAYER_MEDIA_TYPE}, this one has {} ({})",
            types.len(),
            types.join(", ")
        )));
    };
    if layer.media_type != WASM_LAYER_MEDIA_TYPE {
        return Err(not_a_plugin(format!(
            "its layer has media type {}, not {WASM_LAYER_MEDIA_TYPE} (is it a container image?)",
            layer.media_type
        )));
    }
    if !layer.digest.starts_with("sha256:") {
        return Err(not_a_plugin(format!(
            "its layer digest {} is not sha256",
            layer.digest
        )));
    }
    if u64::try_from(layer.size).map_or(true, |size| size > MAX_PLUGIN_BYTES) {
        return Err(not_a_plugin(format!(
            "its layer is {} bytes, more than the {} MiB a plugin may have",
            layer.size,
            MAX_PLUGIN_BYTES >> 20
        )));
    }
    Ok(layer.clone())
}

/// Pushes `component` to `target` (which must have a tag) as a Wasm OCI artifact; returns the
/// manifest digest. The manifest is built here, so its digest is that of the bytes sent.
pub fn push(
    component: &[u8],
    meta: &PluginMeta,
    target: &OciRef,
    connection: &Connection,
) -> Result<String, OciError> {
    if target.tag.is_none() || target.digest.is_some() {
        return Err(OciError::Reference(format!(
            "{target}: push needs a tag and no digest (the digest is the registry's answer), e.g. oci://{}/{}:{}",
            target.registry, target.repository, meta.version
        )));
    }
    let session = Session::connect(target, connection)?;
    let artifact = Artifact::new(component, meta);
    fetch::block_on(push_async(&session, component, &artifact)).map_err(|e| OciError::Registry {
        registry: target.registry.clone(),
        message: format!("cannot start the HTTP client: {e}"),
    })?
}

async fn push_async(s: &Session<'_>, component: &[u8], a: &Artifact) -> Result<String, OciError> {
    let reference = s.reference(s.target);
    s.authenticate(&reference, RegistryOperation::Push).await?;
    for (data, digest) in [
        (a.config.clone(), &a.config_digest),
        (component.to_vec(), &a.layer_digest),
    ] {
        let exists = s
            .client
            .blob_exists(&reference, digest)
            .await
            .map_err(|e| s.fail(e))?;
        if !exists {
            s.client
                .push_blob(&reference, data, digest)
                .await
                .map_err(|e| s.fail(e))?;
        }
    }
    let content_type = http_header(OCI_IMAGE_MEDIA_TYPE);
    s.client
        .push_manifest_raw(&reference, a.manifest.clone(), content_type)
        .await
        .map_err(|e| s.fail(e))?;
    Ok(format!("sha256:{}", sha256_hex(&a.manifest)))
}

fn http_header(value: &'static str) -> reqwest::header::HeaderValue {
    reqwest::header::HeaderValue::from_static(value)
}

/// The config blob and the manifest of one plugin, serialised once.
struct Artifact {
    config: Vec<u8>,
    config_digest: String,
    layer_digest: String,
    manifest: Vec<u8>,
}

impl Artifact {
    fn new(component: &[u8], meta: &PluginMeta) -> Self {
        let layer_digest = format!("sha256:{}", sha256_hex(component));
        let config = serde_json::to_vec(&json!({
            "created": created(),
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [layer_digest],
            "component": {
                "exports": meta.exports,
                "imports": meta.imports,
            },
        }))
        .unwrap_or_default();
        let config_digest = format!("sha256:{}", sha256_hex(&config));
        let annotations: BTreeMap<&str, &str> = BTreeMap::from([
            ("org.opencontainers.image.title", meta.id.as_str()),
            ("org.opencontainers.image.version", meta.version.as_str()),
            (
                "org.opencontainers.image.description",
                meta.summary.as_str(),
            ),
            ("dev.kubectl-pattern.id", meta.id.as_str()),
            ("dev.kubectl-pattern.kind", meta.kind.as_str()),
            (
                "dev.kubectl-pattern.wit",
                meta.exports
                    .iter()
                    .find(|e| e.starts_with("kubectl-pattern:plugin/"))
                    .map_or("", String::as_str),
            ),
        ]);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_MEDIA_TYPE,
            "config": {
                "mediaType": WASM_CONFIG_MEDIA_TYPE,
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": WASM_LAYER_MEDIA_TYPE,
                "digest": layer_digest,
                "size": component.len(),
            }],
            "annotations": annotations,
        }))
        .unwrap_or_default();
        Artifact {
            config,
            config_digest,
            layer_digest,
            manifest,
        }
    }
}

/// The config's `created` time: `SOURCE_DATE_EPOCH` when set (reproducible pushes), else now.
fn created() -> String {
    let at = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> PluginMeta {
        PluginMeta {
            id: "demo".into(),
            version: "1.0.0".into(),
            kind: "sidecar".into(),
            summary: "A demo".into(),
            exports: vec!["kubectl-pattern:plugin/pattern@0.1.0".into()],
            imports: vec!["wasi:cli/stderr@0.2.0".into()],
        }
    }

    #[test]
    fn the_artifact_follows_the_wasm_layout_and_its_digests_hold() {
        let component = b"\0asm\x0d\0\x01\0";
        let a = Artifact::new(component, &meta());
        let manifest: serde_json::Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(manifest["mediaType"], OCI_IMAGE_MEDIA_TYPE);
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.wasm.config.v0+json"
        );
        assert_eq!(manifest["config"]["size"], a.config.len());
        assert_eq!(
            manifest["config"]["digest"],
            format!("sha256:{}", sha256_hex(&a.config))
        );
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0]["mediaType"], "application/wasm");
        assert_eq!(layers[0]["size"], component.len());
        assert_eq!(
            layers[0]["digest"],
            format!("sha256:{}", sha256_hex(component))
        );
        let ann = &manifest["annotations"];
        assert_eq!(ann["org.opencontainers.image.title"], "demo");
        assert_eq!(ann["org.opencontainers.image.version"], "1.0.0");
        assert_eq!(ann["org.opencontainers.image.description"], "A demo");
        assert_eq!(ann["dev.kubectl-pattern.kind"], "sidecar");
        assert_eq!(
            ann["dev.kubectl-pattern.wit"],
            "kubectl-pattern:plugin/pattern@0.1.0"
        );
        let config: serde_json::Value = serde_json::from_slice(&a.config).unwrap();
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(config["os"], "wasip2");
        assert_eq!(config["layerDigests"][0], layers[0]["digest"]);
        // The parsed manifest is what `pull` accepts.
        let parsed: OciImageManifest = serde_json::from_slice(&a.manifest).unwrap();
        let target = OciRef::parse("oci://localhost:5000/demo:1").unwrap();
        assert_eq!(
            wasm_layer(&target, &parsed).unwrap().digest,
            layers[0]["digest"]
        );
    }

    #[test]
    fn a_container_image_is_not_a_plugin() {
        let mut parsed: OciImageManifest =
            serde_json::from_slice(&Artifact::new(b"x", &meta()).manifest).unwrap();
        parsed.layers[0].media_type = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        let target = OciRef::parse("oci://localhost:5000/demo:1").unwrap();
        let err = wasm_layer(&target, &parsed).unwrap_err().to_string();
        assert!(
            err.contains("not application/wasm (is it a container image?)"),
            "{err}"
        );
        parsed.layers.push(parsed.layers[0].clone());
        let err = wasm_layer(&target, &parsed).unwrap_err().to_string();
        assert!(err.contains("exactly one layer"), "{err}");
    }

    #[test]
    fn push_needs_a_tag() {
        let target = OciRef::parse(&format!(
            "oci://localhost:5000/demo@sha256:{}",
            "a".repeat(64)
        ))
        .unwrap();
        let connection = Connection {
            plain_http: true,
            credentials: Credentials::anonymous(),
        };
        let err = push(b"x", &meta(), &target, &connection)
            .unwrap_err()
            .to_string();
        assert!(err.contains("push needs a tag"), "{err}");
        assert!(err.contains("oci://localhost:5000/demo:1.0.0"), "{err}");
    }
}
