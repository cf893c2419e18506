//! A harness for bad-input tests: run the binary in a scratch directory and check it failed
//! cleanly (exit code, message, no panic, nothing on stdout, no file changed).

use std::path::{Path, PathBuf};

/// A Deployment with one container on port 8080.
pub const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27.3\n        ports:\n        - containerPort: 8080\n";

pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new() -> Self {
        Case {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs the binary; asserts failure with `code`, no panic, `needles` in stderr, and every
    /// file in the case directory unchanged.
    pub fn fails(&self, args: &[&str], stdin: Option<&str>, code: i32, needles: &[&str]) {
        let before = snapshot(self.dir.path());
        let mut cmd = super::bin();
        cmd.current_dir(self.dir.path()).args(args);
        cmd.write_stdin(stdin.unwrap_or(""));
        let out = cmd.assert().code(code).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "panic: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout on failure, got: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "stderr lacks {needle:?}:\n{stderr}"
            );
        }
        assert_eq!(before, snapshot(self.dir.path()), "files changed");
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    files.sort();
    files
}
