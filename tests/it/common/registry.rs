//! A real OCI registry for the plugin-distribution tests: Debian's `docker-registry` (the CNCF
//! distribution registry, installed by `scripts/install-test-tools`) on 127.0.0.1, on a port
//! the kernel picks, with its storage in a temporary directory; killed on drop.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running registry.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
}

/// The registry executable; its absence fails the test (the test command installs it).
pub fn executable() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    std::env::var_os("KP_TOOLS_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join(".tools/bin")])
        .chain(path_dirs)
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("docker-registry not found in $KP_TOOLS_BIN, .tools/bin or PATH: run scripts/install-test-tools (scripts/test does it)")
        })
}

impl Registry {
    /// Starts a registry without authentication.
    pub fn start() -> Registry {
        Registry::launch(None)
    }

    /// Starts a registry that requires one of `users` (user, password), checked against an
    /// htpasswd file of bcrypt hashes made here.
    pub fn with_users(users: &[(&str, &str)]) -> Registry {
        let lines: Vec<String> = users
            .iter()
            .map(|(user, password)| format!("{user}:{}", bcrypt::hash(password, 4).unwrap()))
            .collect();
        Registry::launch(Some(lines.join("\n") + "\n"))
    }

    fn launch(htpasswd: Option<String>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n",
            storage.display()
        );
        if let Some(entries) = htpasswd {
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, entries).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kubectl-pattern-tests\n    path: {}\n",
                file.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let mut child = Command::new(executable())
            .arg("serve")
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start docker-registry");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        // Reads the log to the end (so the pipe never fills), reporting the listening address.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = listening_address(&line) {
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        // A bounded wait on the registry's own "listening on" line; no polling, no sleep.
        let host = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(host) => host,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "docker-registry did not start ({e}):\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Registry {
            child,
            host,
            dir,
            log,
        }
    }

    /// The registry's storage directory.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where the registry keeps the blob `sha256:…`.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// `oci://127.0.0.1:PORT/REPO`.
    pub fn oci(&self, repo_and_tag: &str) -> String {
        format!("oci://{}/{repo_and_tag}", self.host)
    }

    /// The registry's log so far (for assertion messages).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `… msg="listening on 127.0.0.1:40123" …` → `127.0.0.1:40123`.
fn listening_address(line: &str) -> Option<String> {
    let rest = line.split("listening on ").nth(1)?;
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    addr.contains(':').then_some(addr)
}

/// A second, equally valid build of `component`: the same plugin with a custom section
/// appended (a custom section may end a component), so its sha256 and digest differ.
pub fn rebuilt(component: &Path, note: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(component).unwrap();
    let name = b"kubectl-pattern-test";
    let mut body = leb128(name.len());
    body.extend_from_slice(name);
    body.extend_from_slice(note.as_bytes());
    bytes.push(0);
    bytes.extend(leb128(body.len()));
    bytes.extend(body);
    bytes
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
