//! Plugins through a real OCI registry (Debian's docker-registry, the CNCF distribution
//! registry, started by each test on 127.0.0.1): push, install by tag and by digest, a moved
//! tag, a corrupted blob, htpasswd authentication, a registry that is down, and the index
//! written before registries were supported.

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::common::plugins::{EXAMPLE, bin, run_err, run_ok, wasm};
use crate::common::registry::{Registry, rebuilt};

const PLUGIN: &str = "otel-collector";

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn plugins_dir(home: &Path) -> std::path::PathBuf {
    home.join("data/kubectl-pattern/plugins")
}

/// `plugin list -o json`.
fn listed(home: &Path) -> Vec<Value> {
    serde_json::from_str(&run_ok(bin(home).args(["plugin", "list", "-o", "json"]))).unwrap()
}

/// The .wasm files in the store.
fn stored_files(home: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(plugins_dir(home)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm"))
        .collect();
    names.sort();
    names
}

/// Pushes `file` with --plain-http (and `extra` flags); returns the digest it printed.
fn push(home: &Path, file: &Path, reference: &str, extra: &[&str]) -> String {
    let out = run_ok(
        bin(home)
            .args(["plugin", "push"])
            .arg(file)
            .arg(reference)
            .arg("--plain-http")
            .args(extra),
    );
    digest_of(&out)
}

fn digest_of(push_output: &str) -> String {
    push_output
        .lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .unwrap_or_else(|| panic!("no digest line in {push_output:?}"))
        .to_string()
}

fn install(home: &Path, reference: &str) -> assert_cmd::Command {
    let mut cmd = bin(home);
    cmd.args(["plugin", "install", reference, "--plain-http"]);
    cmd
}

/// `add` with the installed plugin works and its output is valid Kubernetes.
fn add_works(home: &Path) {
    let out = run_ok(bin(home).args(["add", "-q", PLUGIN, "-f", EXAMPLE]));
    assert!(out.contains("otel"), "{out}");
    let file = home.join("added.yaml");
    std::fs::write(&file, out).unwrap();
    crate::common::validate(&file);
}

#[test]
fn push_then_install_by_tag_and_by_digest() {
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let component = wasm(PLUGIN);
    let component_sha = sha256(&std::fs::read(&component).unwrap());
    let tag_ref = registry.oci("plugins/otel:1.0");

    let out = run_ok(
        bin(home.path())
            .args(["plugin", "push"])
            .arg(&component)
            .args([&tag_ref, "--plain-http"]),
    );
    let digest = digest_of(&out);
    let by_digest = registry.oci(&format!("plugins/otel@{digest}"));
    assert!(out.starts_with(&format!("pushed {PLUGIN} ")), "{out}");
    assert!(
        out.ends_with(&format!(
            "install it with:\n  kubectl pattern plugin install {by_digest} --plain-http\n"
        )),
        "{out}"
    );

    // What the registry stored, read from its own files: the Wasm artifact layout.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(registry.blob_file(&digest)).unwrap()).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["layers"][0]["digest"],
        format!("sha256:{component_sha}")
    );
    let annotations = &manifest["annotations"];
    assert_eq!(annotations["org.opencontainers.image.title"], PLUGIN);
    assert_eq!(annotations["dev.kubectl-pattern.kind"], "sidecar");
    assert_eq!(
        annotations["dev.kubectl-pattern.wit"],
        "kubectl-pattern:plugin/pattern@0.2.0"
    );
    let layer = std::fs::read(registry.blob_file(&format!("sha256:{component_sha}"))).unwrap();
    assert_eq!(layer, std::fs::read(&component).unwrap());

    // Install by tag: the index records the reference and the manifest digest.
    let out = run_ok(&mut install(home.path(), &tag_ref));
    assert!(out.starts_with(&format!("installed {PLUGIN} ")), "{out}");
    assert!(out.contains(&component_sha), "{out}");
    let entries = listed(home.path());
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["source"], tag_ref.as_str());
    assert_eq!(entries[0]["manifestDigest"], digest.as_str());
    assert_eq!(entries[0]["sha256"], component_sha.as_str());
    add_works(home.path());

    // Every load still checks the module's sha256, and says how to reinstall from the registry.
    let file = plugins_dir(home.path()).join(entries[0]["file"].as_str().unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(0);
    std::fs::write(&file, bytes).unwrap();
    let err = run_err(bin(home.path()).args(["add", PLUGIN, "-f", EXAMPLE]));
    assert!(
        err.contains("was modified after it was installed")
            && err.contains(&format!("kubectl pattern plugin install {tag_ref}")),
        "{err}"
    );

    // Install by digest, in another home.
    let other = tempfile::tempdir().unwrap();
    run_ok(&mut install(other.path(), &by_digest));
    let entries = listed(other.path());
    assert_eq!(entries[0]["source"], by_digest.as_str());
    assert_eq!(entries[0]["manifestDigest"], digest.as_str());
    add_works(other.path());

    // A digest the registry does not have.
    let missing = registry.oci(&format!("plugins/otel@sha256:{}", "0".repeat(64)));
    let fresh = tempfile::tempdir().unwrap();
    let err = run_err(&mut install(fresh.path(), &missing));
    assert!(
        err.starts_with(&format!(
            "error: {missing} was not found in registry {}",
            registry.host
        )),
        "{err}"
    );
    assert!(stored_files(fresh.path()).is_empty());
}

#[test]
fn a_moved_tag_refuses_the_pinned_install_and_updates_by_tag() {
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let component = wasm(PLUGIN);
    let tag_ref = registry.oci("plugins/otel:stable");
    let old = push(home.path(), &component, &tag_ref, &[]);
    run_ok(&mut install(home.path(), &tag_ref));
    let before = listed(home.path());

    // The publisher moves the tag to a new build of the same plugin.
    let second = home.path().join("second.wasm");
    std::fs::write(&second, rebuilt(&component, "second build")).unwrap();
    let new = push(home.path(), &second, &tag_ref, &[]);
    assert_ne!(old, new);

    let pinned = format!("{tag_ref}@{old}");
    let err = run_err(&mut install(home.path(), &pinned));
    assert_eq!(
        err,
        format!(
            "error: {pinned}: tag stable now points to {new}, not the pinned {old}; nothing was installed (install {new} explicitly if you trust it)\n"
        )
    );
    assert_eq!(listed(home.path()), before, "the index is unchanged");

    let out = run_ok(&mut install(home.path(), &tag_ref));
    assert!(
        out.starts_with(&format!(
            "digest changed: {old} → {new}\ninstalled {PLUGIN} "
        )),
        "{out}"
    );
    let after = listed(home.path());
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["manifestDigest"], new.as_str());
    assert_eq!(
        after[0]["sha256"],
        sha256(&std::fs::read(&second).unwrap()).as_str()
    );
    assert_eq!(
        stored_files(home.path()),
        vec![after[0]["file"].as_str().unwrap().to_string()],
        "the old file is gone"
    );
    add_works(home.path());
}

#[test]
fn a_corrupted_blob_is_refused_and_nothing_is_installed() {
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let component = wasm(PLUGIN);
    let bytes = std::fs::read(&component).unwrap();
    let tag_ref = registry.oci("plugins/otel:1.0");
    push(home.path(), &component, &tag_ref, &[]);

    // Damage the layer in the registry's storage, keeping its length.
    let blob = registry.blob_file(&format!("sha256:{}", sha256(&bytes)));
    let mut damaged = std::fs::read(&blob).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    std::fs::write(&blob, &damaged).unwrap();

    let err = run_err(&mut install(home.path(), &tag_ref));
    assert!(
        err.starts_with(&format!("error: {tag_ref}: the blob sha256:{} received does not match its digest (expected sha256:{}, got sha256:{})", sha256(&bytes), sha256(&bytes), sha256(&damaged))),
        "{err}\nregistry log:\n{}",
        registry.log()
    );
    assert!(err.contains("nothing was installed"), "{err}");
    assert!(stored_files(home.path()).is_empty());
    assert_eq!(listed(home.path()), Vec::<Value>::new());
}

#[test]
fn htpasswd_auth_with_flags_and_docker_config() {
    let registry = Registry::with_users(&[("alice", "s3cret")]);
    let host = registry.host.clone();
    let home = tempfile::tempdir().unwrap();
    let component = wasm(PLUGIN);
    let tag_ref = registry.oci("team/otel:1.0");
    let unauthorized = format!(
        "error: authentication required by {host}: docker login {host}, or --username/--password-stdin\n"
    );

    // No credentials: the 401 message, for push and install.
    let err = run_err(
        bin(home.path())
            .args(["plugin", "push"])
            .arg(&component)
            .args([&tag_ref, "--plain-http"]),
    );
    assert_eq!(err, unauthorized);

    // --username/--password-stdin.
    let out = run_ok(
        bin(home.path())
            .args(["plugin", "push"])
            .arg(&component)
            .args([
                &tag_ref,
                "--plain-http",
                "--username",
                "alice",
                "--password-stdin",
            ])
            .write_stdin("s3cret\n"),
    );
    let digest = digest_of(&out);

    let err = run_err(&mut install(home.path(), &tag_ref));
    assert_eq!(err, unauthorized);
    assert!(stored_files(home.path()).is_empty());

    let err = run_err(
        install(home.path(), &tag_ref)
            .args(["--username", "alice", "--password-stdin"])
            .write_stdin("wrong\n"),
    );
    assert!(
        err.starts_with(&format!(
            "error: registry {host} rejected the credentials of user alice (from --username/--password-stdin)"
        )),
        "{err}"
    );
    assert!(!err.contains("wrong"), "{err}");

    run_ok(
        install(home.path(), &tag_ref)
            .args(["--username", "alice", "--password-stdin"])
            .write_stdin("s3cret"),
    );
    assert_eq!(listed(home.path())[0]["manifestDigest"], digest.as_str());

    // A docker config.json with auths.<host>.auth = base64(user:password).
    let docker = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let other = tempfile::tempdir().unwrap();
    run_ok(install(other.path(), &tag_ref).env("DOCKER_CONFIG", docker.path()));
    assert_eq!(listed(other.path())[0]["manifestDigest"], digest.as_str());
    add_works(other.path());

    // A credential helper is not run: said on stderr, with the way around it.
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{}}}},"credsStore":"desktop"}}"#),
    )
    .unwrap();
    let third = tempfile::tempdir().unwrap();
    let err = run_err(install(third.path(), &tag_ref).env("DOCKER_CONFIG", docker.path()));
    assert!(
        err.starts_with("warning: ")
            && err.contains("docker-credential-desktop (credsStore), which kubectl pattern does not run; pass them with --username USER --password-stdin instead")
            && err.contains(&unauthorized[..unauthorized.len() - 1]),
        "{err}"
    );
    assert!(stored_files(third.path()).is_empty());
}

#[test]
fn a_registry_that_is_down_is_named_and_nothing_is_installed() {
    let host = {
        let registry = Registry::start();
        registry.host.clone()
    }; // stopped: nothing listens there any more
    let home = tempfile::tempdir().unwrap();
    let reference = format!("oci://{host}/plugins/otel:1.0");
    let err = run_err(&mut install(home.path(), &reference));
    assert!(
        err.starts_with(&format!("error: cannot reach registry {host}: ")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(
        err.contains("check the address and that the registry is running"),
        "{err}"
    );
    assert!(stored_files(home.path()).is_empty());
    assert!(!plugins_dir(home.path()).join("index.json").exists());
}

#[test]
fn plain_http_is_refused_for_a_remote_registry() {
    let home = tempfile::tempdir().unwrap();
    let out = bin(home.path())
        .args([
            "plugin",
            "install",
            "oci://registry.example.com/otel:1.0",
            "--plain-http",
        ])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: --plain-http is only allowed for a registry on this machine (localhost, 127.0.0.0/8, ::1), not registry.example.com:"),
        "{err}"
    );
    // Registry flags make no sense for a file.
    let err = run_err(
        bin(home.path())
            .args(["plugin", "install"])
            .arg(wasm(PLUGIN))
            .arg("--plain-http"),
    );
    assert!(err.contains("are for oci:// references"), "{err}");
}

#[test]
fn an_index_written_before_registries_still_loads() {
    let home = tempfile::tempdir().unwrap();
    let component = wasm(PLUGIN);
    run_ok(bin(home.path()).args(["plugin", "install"]).arg(&component));
    let entry = listed(home.path()).remove(0);
    // The index exactly as the release before OCI support wrote it (no manifestDigest).
    let old_index = format!(
        r#"{{
  "apiVersion": "kubectl-pattern/v1",
  "plugins": [
    {{
      "name": "{name}",
      "version": "{version}",
      "kind": "sidecar",
      "summary": {summary},
      "source": "/old/place/otel_collector.wasm",
      "sha256": "{sha}",
      "file": "{file}"
    }}
  ]
}}"#,
        name = entry["name"].as_str().unwrap(),
        version = entry["version"].as_str().unwrap(),
        summary = entry["summary"],
        sha = entry["sha256"].as_str().unwrap(),
        file = entry["file"].as_str().unwrap(),
    );
    std::fs::write(plugins_dir(home.path()).join("index.json"), &old_index).unwrap();
    let entries = listed(home.path());
    assert_eq!(entries[0]["source"], "/old/place/otel_collector.wasm");
    assert!(entries[0].get("manifestDigest").is_none(), "{entries:?}");
    add_works(home.path());
}
