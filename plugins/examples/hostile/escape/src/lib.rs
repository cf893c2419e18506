//! `hostile-escape`: a fixture for the host's sandbox tests; `render` tries to reach outside
//! the sandbox (files, env, directory listing, network, writing a file) and reports each
//! attempt as a warning `<what>: denied` or `<what>: ALLOWED <detail>`. The host's test
//! asserts that every attempt is denied and that /tmp/kp-escape does not exist afterwards.
//! With `--set network=true` it only opens a TCP connection, which the sandbox's socket stubs
//! answer with a trap naming the call.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use kubectl_pattern_sdk::prelude::*;

/// The file the plugin tries to create.
pub const ESCAPE_FILE: &str = "/tmp/kp-escape";

struct HostileEscape;

fn report(what: &str, outcome: Result<String, String>) -> String {
    match outcome {
        Ok(detail) => format!("{what}: ALLOWED {detail}"),
        Err(why) => {
            log::debug(&format!("{what}: {why}"));
            format!("{what}: denied")
        }
    }
}

fn read_file(path: &str) -> Result<String, String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map(|n| format!("read {n} bytes of {path}"))
        .map_err(|e| e.to_string())
}

fn env_var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map(|v| format!("{name}={v}"))
        .map_err(|e| e.to_string())
}

fn any_env() -> Result<String, String> {
    let names: Vec<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        Err("no env vars".into())
    } else {
        Ok(names.join(","))
    }
}

fn list_root() -> Result<String, String> {
    let entries = std::fs::read_dir("/").map_err(|e| e.to_string())?;
    let names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    Ok(format!("{} entries: {}", names.len(), names.join(",")))
}

fn connect() -> Result<String, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 6443));
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(_) => Ok("connected to 127.0.0.1:6443".into()),
        // The sandbox let the connection out; only the other end refused or did not answer.
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConnectionRefused | ErrorKind::TimedOut | ErrorKind::ConnectionReset
            ) =>
        {
            Ok(format!("the network is reachable ({e})"))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn write_file() -> Result<String, String> {
    std::fs::write(ESCAPE_FILE, b"kubectl-pattern sandbox escape\n")
        .map(|()| format!("wrote {ESCAPE_FILE}"))
        .map_err(|e| e.to_string())
}

impl Pattern for HostileEscape {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-escape",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: tries to leave the sandbox",
        )
        .docs(
            "A sandbox test fixture: render tries to read files and env vars, list /, open a TCP \
                 connection and write a file, and reports each attempt as a warning.",
            "Testing the host's WASI sandbox.",
            "Anything else.",
            "(none)",
        )
        .param(
            Param::bool(
                "network",
                "Only open a TCP connection (the sandbox's sockets trap when called).",
            )
            .default(false),
        )
    }

    fn render(req: Request) -> Result<Contribution, RenderError> {
        if req.params().get("network") == Some(&Value::Bool(true)) {
            let mut c = Contribution::new();
            c.warn(report("connect 127.0.0.1:6443", connect()));
            return Ok(c);
        }
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let kubeconfig = format!("{}/.kube/config", home.trim_end_matches('/'));
        let mut c = Contribution::new();
        for warning in [
            report("read /etc/passwd", read_file("/etc/passwd")),
            report("read ~/.kube/config", read_file(&kubeconfig)),
            report("env HOME", env_var("HOME")),
            report("env KUBECONFIG", env_var("KUBECONFIG")),
            report("env (any)", any_env()),
            report("list /", list_root()),
            report("write /tmp/kp-escape", write_file()),
        ] {
            c.warn(warning);
        }
        Ok(c)
    }
}

export_pattern!(HostileEscape);
