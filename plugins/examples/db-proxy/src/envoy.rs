//! The Envoy bootstrap configuration, as JSON (Envoy reads it as YAML).

use kubectl_pattern_sdk::prelude::*;

/// What the configuration depends on.
#[derive(Debug)]
pub struct Settings<'a> {
    /// Database host.
    pub host: &'a str,
    /// Database port.
    pub port: u16,
    /// Local listener port (127.0.0.1).
    pub listen: u16,
    /// Readiness endpoint port (all addresses, for the kubelet).
    pub health: u16,
    /// Admin port (127.0.0.1).
    pub admin: u16,
    /// Go-style connect timeout.
    pub connect_timeout: &'a str,
    /// Go-style idle timeout.
    pub idle_timeout: &'a str,
}

/// Converts a Go-style duration (`1h30m`, `250ms`) to a protobuf JSON duration (`5400s`).
pub fn proto_duration(go: &str) -> Option<String> {
    let mut rest = go.trim();
    if rest == "0" {
        return Some("0s".into());
    }
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_len] {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        nanos += (number * scale) as u128;
    }
    let (secs, frac) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    Some(if frac == 0 {
        format!("{secs}s")
    } else {
        format!("{secs}.{frac:09}s")
    })
}

fn socket(address: &str, port: u16) -> Value {
    json!({"socket_address": {"address": address, "port_value": port}})
}

fn cluster(name: &str, kind: &str, address: &str, port: u16, connect_timeout: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "connect_timeout": connect_timeout,
        "dns_lookup_family": "V4_PREFERRED",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": socket(address, port)}}
        ]}]},
    })
}

/// The bootstrap configuration. Timeouts that are not Go durations fall back to 5s and 1h
/// (the host validated them already).
pub fn config(s: &Settings<'_>) -> Value {
    let connect = proto_duration(s.connect_timeout).unwrap_or_else(|| "5s".into());
    let idle = proto_duration(s.idle_timeout).unwrap_or_else(|| "3600s".into());
    let tcp_proxy = json!({
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": "database",
            "cluster": "database",
            "idle_timeout": idle,
        },
    });
    let health = json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "health",
            "route_config": {"virtual_hosts": [{"name": "health", "domains": ["*"], "routes": [
                {"match": {"path": "/ready"}, "route": {"cluster": "admin"}}
            ]}]},
            "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
            }}],
        },
    });
    json!({
        "admin": {"address": socket("127.0.0.1", s.admin)},
        "static_resources": {
            "listeners": [
                {"name": "database", "address": socket("127.0.0.1", s.listen),
                 "filter_chains": [{"filters": [tcp_proxy]}]},
                {"name": "health", "address": socket("0.0.0.0", s.health),
                 "filter_chains": [{"filters": [health]}]},
            ],
            "clusters": [
                cluster("database", "STRICT_DNS", s.host, s.port, &connect),
                cluster("admin", "STATIC", "127.0.0.1", s.admin, "1s"),
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_go_durations() {
        assert_eq!(proto_duration("5s").as_deref(), Some("5s"));
        assert_eq!(proto_duration("1h30m").as_deref(), Some("5400s"));
        assert_eq!(proto_duration("250ms").as_deref(), Some("0.250000000s"));
        assert_eq!(proto_duration("0s").as_deref(), Some("0s"));
        assert_eq!(proto_duration("0").as_deref(), Some("0s"));
        assert_eq!(proto_duration("5 minutes"), None);
        assert_eq!(proto_duration("h"), None);
    }
}
