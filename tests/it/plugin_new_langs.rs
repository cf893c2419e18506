//! `plugin new --lang python|js|c`: each scaffold builds with its own build script and tools
//! (the Rust one is tested in wasm_authoring), and the component it builds works through the
//! binary on a Deployment. The machine time from scaffold to first `add` is printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::common::guests::tools_dir;
use crate::common::plugins::{EXAMPLE, bin, docs, run_ok};

/// PATH with the test tools first, as scripts/test sets it.
fn path_with_tools() -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = tools_dir()
        .map(|(_, dir)| dir.join("bin"))
        .into_iter()
        .collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// Scaffolds `name` in `lang`, builds it with its build.sh, adds it to the sample Deployment
/// and checks the result; returns the project directory.
fn scaffold_build_add(lang: &str, name: &str, work: &Path) -> PathBuf {
    let home = tempfile::tempdir().unwrap();
    let dir = work.join(name);
    let started = Instant::now();
    let created = run_ok(
        bin(home.path())
            .args(["plugin", "new", name, "--lang", lang, "--dir"])
            .arg(&dir),
    );
    assert!(created.contains("./build.sh"), "{created}");
    for file in ["README.md", "build.sh", "wit/plugin.wit"] {
        assert!(dir.join(file).is_file(), "{lang}: no {file}");
    }
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains(&format!("# {name}")), "{readme}");

    let build = Command::new(dir.join("build.sh"))
        .current_dir(&dir)
        .env("PATH", path_with_tools())
        .status()
        .expect("run build.sh");
    assert!(build.success(), "{lang}: the scaffold's build.sh failed");
    let built = started.elapsed();
    let plugin = dir.join(format!("{name}.wasm"));
    assert!(
        plugin.is_file(),
        "{lang}: build.sh did not write {}",
        plugin.display()
    );

    let out = run_ok(
        bin(home.path())
            .args(["add", "-q", "--plugin"])
            .arg(&plugin)
            .args([name, "--set", "sharedDir=/greeting", "-f", EXAMPLE]),
    );
    // Reported, not asserted: the machine time of the author's first loop.
    eprintln!(
        "plugin new --lang {lang}: built in {:.1} s, first add after {:.1} s",
        built.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let file = work.join(format!("{name}.yaml"));
    std::fs::write(&file, &out).unwrap();
    crate::common::validate(&file);
    let deployment = docs(&out).into_iter().next().unwrap();
    let spec = &deployment["spec"]["template"]["spec"];
    let helper = spec["initContainers"]
        .as_array()
        .into_iter()
        .chain(spec["containers"].as_array())
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{lang}: no helper {name} in\n{out}"));
    assert_eq!(
        helper["env"][1],
        serde_json::json!({"name": "APP", "value": "web"})
    );
    let web = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap();
    assert_eq!(
        web["volumeMounts"][0],
        serde_json::json!({"name": format!("{name}-shared"), "mountPath": "/greeting", "readOnly": true}),
        "{out}"
    );

    let explain = run_ok(
        bin(home.path())
            .args(["explain", "--plugin"])
            .arg(&plugin)
            .arg(name),
    );
    for needle in [
        "Write a greeting for the app into a shared volume",
        "sharedDir (string, default \"/shared\")",
        &format!("kubectl pattern add {name} -f deploy.yaml"),
    ] {
        assert!(
            explain.contains(needle),
            "{lang}: explain lacks {needle:?}\n{explain}"
        );
    }
    dir
}

#[test]
fn plugin_new_python_builds_and_adds() {
    let work = tempfile::tempdir().unwrap();
    let dir = scaffold_build_add("python", "demo-py", work.path());
    assert!(dir.join("test_app.py").is_file());
}

#[test]
fn plugin_new_js_builds_and_adds() {
    let work = tempfile::tempdir().unwrap();
    let dir = scaffold_build_add("js", "demo-js", work.path());
    assert!(dir.join("package-lock.json").is_file());
}

#[test]
fn plugin_new_c_builds_and_adds() {
    let work = tempfile::tempdir().unwrap();
    let dir = scaffold_build_add("c", "demo-c", work.path());
    assert!(dir.join("kp_json.c").is_file());
}

#[test]
fn plugin_new_refuses_an_unknown_language() {
    let home = tempfile::tempdir().unwrap();
    let err = bin(home.path())
        .args(["plugin", "new", "demo", "--lang", "cobol"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("cobol") && err.contains("rust, python, js, c"),
        "{err}"
    );
}
