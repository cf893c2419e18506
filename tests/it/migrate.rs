//! `migrate gitrepo` on files: each gitRepo volume becomes a git-clone instance with the same
//! repository, revision and directory; the mounts stay where they were; the result validates
//! with the Kubernetes 1.37 schemas; untouched documents and bytes pass through.

use serde_json::Value;

const SITE: &str = "\
# The site, served from a Git checkout
apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
  namespace: web
spec:
  selector:
    matchLabels:
      app: site
  template:
    metadata:
      labels:
        app: site
    spec:
      containers:
        - name: nginx
          image: nginx:1.27.3
          ports:
            - name: http
              containerPort: 80
          volumeMounts:
            - name: content
              mountPath: /srv/www
              readOnly: true
        - name: indexer
          image: registry.example.com/web/indexer:0.3.1
          volumeMounts:
            - name: content
              mountPath: /srv/site
              readOnly: true
      volumes:
        - name: content
          gitRepo:
            repository: https://github.com/example/site.git
            revision: 8d2f8a0c41b5e1e4b4a3d0f7e6c5b4a392817161
            directory: www
        - name: cache
          emptyDir: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: untouched
data:
  key: value
";

fn migrate(file: &std::path::Path) -> (String, String) {
    let out = crate::common::bin()
        .args(["migrate", "gitrepo", "-f"])
        .arg(file)
        .assert()
        .success()
        .get_output()
        .clone();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `migrate gitrepo` with `extra` flags before `-f FILE`, which must fail: its stderr.
fn migrate_refused(file: &std::path::Path, extra: &[&str]) -> String {
    let out = crate::common::bin()
        .args(["migrate", "gitrepo"])
        .args(extra)
        .arg("-f")
        .arg(file)
        .assert()
        .failure()
        .get_output()
        .clone();
    String::from_utf8(out.stderr).unwrap()
}

fn mounts(object: &Value, container: &str) -> Vec<Value> {
    object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == container)
        .unwrap()["volumeMounts"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn gitrepo_volumes_become_git_clone_with_the_mounts_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.yaml");
    std::fs::write(&file, SITE).unwrap();
    let (stdout, stderr) = migrate(&file);
    insta::assert_snapshot!("migrate-gitrepo-site", stdout);
    assert!(stderr.contains("git-clone"), "{stderr}");

    let docs: Vec<&str> = stdout.split("\n---\n").collect();
    let site: Value = kubectl_pattern::engine::yaml::from_str(docs[0]).unwrap();
    let spec = &site["spec"]["template"]["spec"];
    assert!(!stdout.contains("gitRepo"), "{stdout}");
    // Same repository, revision and directory, cloned before the app starts.
    let init = &spec["initContainers"][0];
    assert_eq!(init["name"], "git-clone");
    let env = |name: &str| {
        init["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(env("GITSYNC_REPO"), "https://github.com/example/site.git");
    assert_eq!(
        env("GITSYNC_REF"),
        "8d2f8a0c41b5e1e4b4a3d0f7e6c5b4a392817161"
    );
    assert_eq!(env("GITSYNC_LINK"), "www");
    assert_eq!(env("GITSYNC_ROOT"), "/srv/www");
    // The mounts stay at their paths (read-only), on the clone's emptyDir.
    assert_eq!(
        mounts(&site, "nginx"),
        [serde_json::json!({"name": "git-clone-repo", "mountPath": "/srv/www", "readOnly": true})]
    );
    assert_eq!(
        mounts(&site, "indexer"),
        [serde_json::json!({"name": "git-clone-repo", "mountPath": "/srv/site", "readOnly": true})]
    );
    let volumes = spec["volumes"].as_array().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["name"] == "git-clone-repo" && v["emptyDir"].is_object())
    );
    assert!(!volumes.iter().any(|v| v["name"] == "content"));
    // The edit keeps the file's own layout (indented sequences), the comment and the untouched
    // document.
    assert!(
        stdout
            .contains("      containers:\n        - name: nginx\n          image: nginx:1.27.3\n"),
        "{stdout}"
    );
    assert!(
        stdout.starts_with("# The site, served from a Git checkout\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("kind: ConfigMap\nmetadata:\n  name: untouched\ndata:\n  key: value\n"),
        "{stdout}"
    );

    let out = dir.path().join("out.yaml");
    std::fs::write(&out, &stdout).unwrap();
    crate::common::validate(&out);

    // The result is a git-clone instance like any other: status lists it, a re-run changes nothing.
    let status = crate::common::bin()
        .args(["status", "-f"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let status = String::from_utf8(status).unwrap();
    assert!(status.contains("git-clone"), "{status}");
    let (again, _) = migrate(&out);
    assert_eq!(again, stdout);
}

#[test]
fn a_mount_git_clone_cannot_keep_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.yaml");
    let text = SITE.replace(
        "              mountPath: /srv/www\n",
        "              mountPath: /srv/www\n              subPath: public\n",
    );
    std::fs::write(&file, &text).unwrap();
    let stderr = migrate_refused(&file, &["--in-place"]);
    assert!(
        stderr.contains(r#"gitRepo volume "content": the mount on container "nginx" sets subPath"#),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

/// nginx serves from /usr/share/nginx/html, where gitRepo examples mount the checkout: data,
/// not a system path, so the clone takes that mount; a checkout over a library directory is
/// still refused, naming the path.
#[test]
fn the_web_servers_docroot_is_migrated_and_a_library_directory_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.yaml");
    std::fs::write(
        &file,
        SITE.replace("mountPath: /srv/www", "mountPath: /usr/share/nginx/html"),
    )
    .unwrap();
    let (stdout, _) = migrate(&file);
    let first = stdout.split("\n---\n").next().unwrap();
    let object: Value = kubectl_pattern::engine::yaml::from_str(first).unwrap();
    assert_eq!(
        mounts(&object, "nginx"),
        [
            serde_json::json!({"name": "git-clone-repo", "mountPath": "/usr/share/nginx/html", "readOnly": true})
        ]
    );

    let text = SITE.replace("mountPath: /srv/www", "mountPath: /usr/lib/site");
    std::fs::write(&file, &text).unwrap();
    let stderr = migrate_refused(&file, &[]);
    assert!(stderr.contains("system path /usr/lib/site"), "{stderr}");
}
