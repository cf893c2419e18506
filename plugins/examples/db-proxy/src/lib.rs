//! `db-proxy`: an Envoy TCP-proxy ambassador in front of a database. The target comes from a
//! workload annotation (else the `target` parameter); the app connects to localhost and gets
//! `DATABASE_HOST`/`DATABASE_PORT`.

use kubectl_pattern_sdk::prelude::*;

mod envoy;

/// The annotation naming the database, `host:port`.
pub const TARGET_ANNOTATION: &str = "db-proxy.kubectl-pattern.io/target";
/// The envoy user and group of the official image.
const ENVOY_UID: i64 = 101;

struct DbProxy;

/// The parameters, as `describe` declares them (validated by the host, defaults filled in).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    image: String,
    target: Option<String>,
    listen_port: Option<u16>,
    env_prefix: String,
    connect_timeout: String,
    idle_timeout: String,
    health_port: u16,
    admin_port: u16,
}

impl Pattern for DbProxy {
    type Params = Params;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "db-proxy",
            PatternKind::Ambassador,
            "1.0.0",
            "Reach a database through a local Envoy TCP proxy chosen by a workload annotation",
        )
        .docs(DESCRIPTION, USE_WHEN, AVOID_WHEN, DIAGRAM)
        .param(Param::image("image", "Envoy image, pinned.").default("envoyproxy/envoy:v1.32.3"))
        .param(
            Param::string(
                "target",
                "Database host:port, used when the workload has no db-proxy.kubectl-pattern.io/target annotation.",
            )
            .pattern(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$"),
        )
        .param(Param::port("listenPort", "Port the proxy listens on at 127.0.0.1 (default: the target's port)."))
        .param(
            Param::string("envPrefix", "Prefix of the env vars set on the main container (<prefix>_HOST, <prefix>_PORT).")
                .default("DATABASE")
                .pattern(r"^[A-Z][A-Z0-9_]*$"),
        )
        .param(Param::duration("connectTimeout", "Timeout of a connection to the database.").default("5s"))
        .param(Param::duration("idleTimeout", "Close connections idle this long (0s: never).").default("1h"))
        .param(Param::port("healthPort", "Port of the readiness endpoint probed by the kubelet.").default(9902))
        .param(Param::port("adminPort", "Envoy admin port, on 127.0.0.1.").default(9901))
        .resource_params("20m", "200m", "32Mi", "128Mi")
        .example("target", "postgres.db.svc.cluster.local:5432")
    }

    fn render(req: Request<Params>) -> Result<Contribution, RenderError> {
        let p = req.params();
        let view = req.view();
        let main = req.require_main_container()?;
        let (host, port, source) = target(&req)?;
        let listen = p.listen_port.unwrap_or(port);
        let (health, admin) = (p.health_port, p.admin_port);
        if listen == health || listen == admin || health == admin {
            return Err(RenderError::InvalidParams(format!(
                "listenPort ({listen}), healthPort ({health}) and adminPort ({admin}) must differ"
            )));
        }
        check_ports_free(&view, [listen, health, admin])?;
        let prefix = &p.env_prefix;
        let (host_var, port_var) = (format!("{prefix}_HOST"), format!("{prefix}_PORT"));
        for var in [&host_var, &port_var] {
            if kubectl_pattern_sdk::container_env(main, var).is_some() {
                return Err(RenderError::InvalidParams(format!(
                    "container {} already sets {var}; a plugin cannot change it: remove it, or \
                     --set envPrefix=OTHER and read OTHER_HOST/OTHER_PORT",
                    req.main_container()
                )));
            }
        }

        let config = envoy::config(&envoy::Settings {
            host: &host,
            port,
            listen,
            health,
            admin,
            connect_timeout: &p.connect_timeout,
            idle_timeout: &p.idle_timeout,
        });
        let upstream = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let proxy = ContainerBuilder::new(req.instance(), &p.image)
            .command(["envoy"])
            .args(["--config-yaml", &config.to_string()])
            .args([
                "--disable-hot-restart",
                "--log-level",
                "warn",
                "--concurrency",
                "1",
            ])
            .port("db-health", health)
            .resources(req.resources())
            .hardened_as(ENVOY_UID)
            .readiness_probe(probe::http_get("/ready", "db-health"))
            .liveness_probe(probe::tcp_socket("db-health"));

        let mut contribution = Contribution::new();
        contribution
            .add_container(proxy)
            .add_env_value(ContainerTarget::Main, &host_var, "127.0.0.1")
            .add_env_value(ContainerTarget::Main, &port_var, listen.to_string());
        if source == "parameter" {
            // Record where the connections go, as the annotation would have said.
            contribution.annotate(TARGET_ANNOTATION, upstream.clone());
        }
        log::info(&format!(
            "proxying 127.0.0.1:{listen} to {host}:{port} (from the {source})"
        ));
        if !req.native_sidecars() {
            contribution.warn(
                "classic sidecar: the app may start before the proxy listens; retry the first \
                 connection, or target Kubernetes >= 1.29 for native sidecars",
            );
        }
        Ok(contribution)
    }
}

/// Where the proxy connects, from the workload's annotation or else the `target` parameter, and
/// which of the two said so.
fn target(req: &Request<Params>) -> Result<(String, u16, &'static str), RenderError> {
    let view = req.view();
    let parameter = req.params().target.as_deref().filter(|t| !t.is_empty());
    let found = match (view.annotation(TARGET_ANNOTATION), parameter) {
        (Some(text), _) => {
            let (h, p) = parse_target(text).map_err(|m| {
                RenderError::UnsupportedWorkload(format!("annotation {TARGET_ANNOTATION}: {m}"))
            })?;
            (h, p, "annotation")
        }
        (None, Some(text)) => {
            let (h, p) = parse_target(text)
                .map_err(|m| RenderError::InvalidParams(format!("target: {m}")))?;
            (h, p, "parameter")
        }
        (None, None) => {
            return Err(RenderError::NotApplicable(format!(
                "{} {} does not say which database to proxy: annotate it with \
             {TARGET_ANNOTATION}: HOST:PORT, or --set target=HOST:PORT",
                view.kind(),
                view.name()
            )));
        }
    };
    Ok(found)
}

/// Fails when a container of the workload already uses one of `ports`.
fn check_ports_free(view: &Workload<'_>, ports: [u16; 3]) -> Result<(), RenderError> {
    for c in view.containers().iter().chain(view.init_containers()) {
        for p in container_ports(c) {
            if ports.contains(&p.container_port) {
                let owner = c.get("name").and_then(Value::as_str).unwrap_or("?");
                return Err(RenderError::InvalidParams(format!(
                    "port {} is already used by container {owner}: change listenPort, healthPort or adminPort",
                    p.container_port
                )));
            }
        }
    }
    Ok(())
}

/// Splits `host:port` (`[v6]:port` for IPv6), checking both.
pub fn parse_target(text: &str) -> Result<(String, u16), String> {
    let text = text.trim();
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not HOST:PORT"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !host_ok {
        return Err(format!("{host:?} is not a host name or address"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("{port:?} is not a port (1-65535)"))?;
    Ok((host.to_owned(), port))
}

const DESCRIPTION: &str = "\
Adds an Envoy ambassador that listens on 127.0.0.1 and forwards every TCP connection to the
database named by the workload's db-proxy.kubectl-pattern.io/target annotation (HOST:PORT),
or by the target parameter. The main container gets DATABASE_HOST=127.0.0.1 and DATABASE_PORT
(envPrefix changes the names), so the app needs no knowledge of where the database lives.

Envoy re-resolves the host's DNS, bounds connect and idle times, and counts connections and
bytes (admin on 127.0.0.1:adminPort). Its configuration is passed with --config-yaml: no
ConfigMap. The kubelet probes a small readiness endpoint on healthPort.";

const USE_WHEN: &str = "\
- Several workloads reach the same database and its address should be set per workload with
  an annotation, not baked into each app's configuration.
- You want connection timeouts and metrics without changing the app.";

const AVOID_WHEN: &str = "\
- The app already reaches the database through a Service: a plain Service name is simpler.
- You need TLS origination, connection pooling or credentials injection: use a database-aware
  proxy (pgbouncer, Cloud SQL proxy) instead of a TCP proxy.";

const DIAGRAM: &str = "\
+--------------------------- Pod ---------------------------+
|                                                           |
|  +----------------+  127.0.0.1:5432  +-----------------+  |
|  | main container |----------------->|  db-proxy       |  |
|  | DATABASE_HOST  |                  |  (envoy)        |  |
|  +----------------+                  +--------+--------+  |
+---------------------------------------------|-------------+
                                              v
                          postgres.db.svc:5432 (annotation)";

export_pattern!(DbProxy);

#[cfg(test)]
mod tests;
