//! Connecting like kubectl: kubeconfig (the merged `KUBECONFIG` list or `--kubeconfig`),
//! `--context/--cluster/--user`, impersonation, request timeout, in-cluster config in a pod;
//! and what the cluster supports (native sidecars from the server and kubelet versions).

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use kubectl_pattern_engine::pattern::parse_kube_version;

use super::error::{ClusterError, Endpoint, RequestContext, classify};
use super::resource::Resource;

/// How to reach the cluster (kubectl's global flags).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`.
    pub context: Option<String>,
    /// `--cluster`.
    pub cluster: Option<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--as`.
    pub impersonate: Option<String>,
    /// `--as-group`.
    pub impersonate_groups: Vec<String>,
    /// `--request-timeout` (None: the client's defaults).
    pub request_timeout: Option<Duration>,
}

/// A client and where it points.
#[derive(Clone)]
pub struct Connection {
    /// The client.
    pub client: Client,
    /// Context and server, for errors.
    pub endpoint: Endpoint,
    /// The context's namespace (default `default`).
    pub default_namespace: String,
}

impl Connection {
    /// A connection over an existing client (tests use a mocked service).
    pub fn from_client(client: Client, context: &str, server: &str) -> Self {
        let default_namespace = client.default_namespace().to_string();
        Connection {
            client,
            endpoint: Endpoint {
                context: context.into(),
                server: server.into(),
            },
            default_namespace,
        }
    }
}

/// Loads the configuration the way kubectl does and builds a client.
pub async fn connect(opts: &ConnectOptions) -> Result<Connection, ClusterError> {
    let kc_opts = KubeConfigOptions {
        context: opts.context.clone(),
        cluster: opts.cluster.clone(),
        user: opts.user.clone(),
    };
    let explicit =
        opts.kubeconfig.is_some() || std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty());
    let (mut config, context) = if let Some(path) = &opts.kubeconfig {
        let kc = Kubeconfig::read_from(path)
            .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))?;
        let context = context_name(&kc, &kc_opts);
        let config = Config::from_custom_kubeconfig(kc, &kc_opts)
            .await
            .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
        (config, context)
    } else {
        match Kubeconfig::read() {
            Ok(kc) => {
                let context = context_name(&kc, &kc_opts);
                let config = Config::from_custom_kubeconfig(kc, &kc_opts)
                    .await
                    .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
                (config, context)
            }
            Err(e) if explicit => return Err(ClusterError::Kubeconfig(e.to_string())),
            Err(e) => {
                if opts.context.is_some() || opts.cluster.is_some() || opts.user.is_some() {
                    return Err(ClusterError::NoConfig(format!(
                        "--context/--cluster/--user need a kubeconfig ({e})"
                    )));
                }
                let config = Config::incluster().map_err(|ic| {
                    ClusterError::NoConfig(format!("no kubeconfig ({e}) and not in a pod ({ic})"))
                })?;
                (config, "in-cluster".to_string())
            }
        }
    };
    if let Some(user) = &opts.impersonate {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !opts.impersonate_groups.is_empty() {
        config.auth_info.impersonate_groups = Some(opts.impersonate_groups.clone());
    }
    if let Some(t) = opts.request_timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    let endpoint = Endpoint {
        context,
        server: config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string(),
    };
    let default_namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| ClusterError::Unreachable {
        context: endpoint.context.clone(),
        server: endpoint.server.clone(),
        message: e.to_string(),
    })?;
    Ok(Connection {
        client,
        endpoint,
        default_namespace,
    })
}

fn context_name(kc: &Kubeconfig, opts: &KubeConfigOptions) -> String {
    opts.context
        .clone()
        .or_else(|| kc.current_context.clone())
        .unwrap_or_else(|| "(none)".into())
}

/// What the cluster supports, and notes about how that was decided.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    /// The oldest version among the server and the nodes' kubelets, as (major, minor).
    pub version: Option<(u32, u32)>,
    /// Notes for the user (old kubelets, nodes not readable).
    pub notes: Vec<String>,
}

/// Reads the server version and the kubelet versions of the nodes: native sidecars need both
/// at 1.29 or later.
pub async fn capabilities(conn: &Connection) -> Result<Capabilities, ClusterError> {
    let info = conn
        .client
        .apiserver_version()
        .await
        .map_err(|e| classify(e, &version_ctx(), &conn.endpoint))?;
    let server = parse_kube_version(&format!("{}.{}", info.major, info.minor));
    let mut caps = Capabilities {
        version: server,
        notes: Vec::new(),
    };
    let nodes: Api<Node> = Api::all(conn.client.clone());
    match nodes.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => caps.notes.push(format!(
            "cannot list nodes ({}): native sidecars decided from the server version alone",
            status.reason.to_lowercase()
        )),
        Err(e) => return Err(classify(e, &version_ctx(), &conn.endpoint)),
        Ok(list) => {
            let mut old = Vec::new();
            for node in &list.items {
                let kubelet = node
                    .status
                    .as_ref()
                    .and_then(|s| s.node_info.as_ref())
                    .map(|i| i.kubelet_version.trim_start_matches('v').to_string());
                if let Some(v) = kubelet.as_deref().and_then(parse_kube_version) {
                    if caps.version.is_none_or(|cur| v < cur) {
                        caps.version = Some(v);
                    }
                    if v < (1, 29) {
                        old.push(format!(
                            "{} (kubelet {})",
                            node.metadata.name.as_deref().unwrap_or("?"),
                            kubelet.unwrap_or_default()
                        ));
                    }
                }
            }
            if !old.is_empty() {
                caps.notes.push(format!(
                    "nodes older than 1.29 cannot run native sidecars: {}; helpers go in as classic containers (--sidecar-mode native to override)",
                    old.join(", ")
                ));
            }
        }
    }
    Ok(caps)
}

fn version_ctx() -> RequestContext {
    RequestContext {
        verb: "list",
        resource: Resource::Pod,
        name: None,
        namespace: None,
    }
}
