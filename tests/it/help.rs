//! Help that can be copied: every subcommand's examples keep one command per line (long ones
//! split with `\` continuations) whatever the terminal's width, flags sit under the heading of
//! what they are for, and the top-level help names both modes.

use clap::CommandFactory;
use kubectl_pattern::commands::Cli;

/// Every visible subcommand path, the top level first: `[]`, `["add"]`, `["plugin", "new"]`…
fn subcommands() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() == "help" {
                continue;
            }
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(sub, next, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), Vec::new(), &mut out);
    out
}

/// `kubectl pattern PATH --help` on a terminal `columns` wide (clap reads COLUMNS when stdout
/// is not a terminal).
fn help(path: &[String], columns: u16) -> String {
    let out = crate::common::bin()
        .args(path)
        .arg("--help")
        .env("COLUMNS", columns.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{path:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of the `Examples:` section (up to the next unindented line).
fn examples(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// The programs an example command may start with (after `VAR=value` assignments).
const PROGRAMS: &[&str] = &[
    "kubectl",
    "kubectl-pattern",
    "kustomize",
    "kpt",
    "cat",
    "cd",
    "cargo",
    "$",
];

/// Why `lines` are not one command per line, if they are not.
fn problems(lines: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut continued = false;
    for line in lines {
        let text = line.trim();
        if text.is_empty() {
            if continued {
                out.push("a blank line after a `\\` continuation".into());
            }
            continued = false;
            continue;
        }
        if text.starts_with('#') && !continued {
            continue;
        }
        let first = text
            .split_whitespace()
            .find(|w| !w.contains('=') || w.starts_with('-'))
            .unwrap_or_default();
        if !continued && !PROGRAMS.contains(&first) {
            out.push(format!(
                "{text:?} is neither a command, a comment nor a continuation"
            ));
        }
        continued = text.ends_with('\\');
    }
    if continued {
        out.push("the last example ends with `\\`".into());
    }
    out
}

#[test]
fn every_example_is_one_command_per_line_at_any_width() {
    let paths = subcommands();
    // The file-mode build has no `plugin` and `doctor` commands.
    let least = if cfg!(all(feature = "cluster", feature = "plugins")) {
        15
    } else {
        12
    };
    assert!(paths.len() > least, "{paths:?}");
    for path in &paths {
        let (narrow, wide) = (help(path, 60), help(path, 200));
        let (narrow_ex, wide_ex) = (examples(&narrow), examples(&wide));
        assert!(!wide_ex.is_empty(), "{path:?} has no examples:\n{wide}");
        assert_eq!(
            narrow_ex, wide_ex,
            "{path:?}: an example line was wrapped at 60 columns"
        );
        let found = problems(&wide_ex);
        assert!(found.is_empty(), "{path:?}: {found:#?}\n{wide}");
    }
}

#[test]
fn the_line_check_catches_a_wrapped_command() {
    let wrapped = [
        "  kubectl pattern add git-sync --set repo=https://github.com/org/site",
        "  --in-place",
    ];
    assert_eq!(problems(&wrapped).len(), 1);
    let continued = [
        "  # a comment",
        "  kubectl pattern add git-sync \\",
        "      --in-place",
        "",
        "  KUSTOMIZE_PLUGIN_HOME=DIR kubectl kustomize \\",
        "      --enable-alpha-plugins overlays/prod",
    ];
    assert_eq!(problems(&continued), Vec::<String>::new());
    assert_eq!(problems(&["  redis-proxy.servers=redis:6379"]).len(), 1);
    assert_eq!(problems(&["  kubectl pattern add x \\", ""]).len(), 1);
}

/// The options listed under `heading` in `help`.
fn under<'h>(help: &'h str, heading: &str) -> Vec<&'h str> {
    help.lines()
        .skip_while(|l| *l != format!("{heading}:"))
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter_map(|l| {
            l.trim_start()
                .split([' ', ','])
                .find(|w| w.starts_with("--"))
        })
        .collect()
}

#[test]
fn new_lists_its_own_flags_apart_from_the_cluster_connection() {
    let text = help(&["new".to_string()], 200);
    let connection = under(&text, "Cluster connection");
    // The file-mode build has no cluster connection (and so no such heading).
    if cfg!(feature = "cluster") {
        assert!(connection.contains(&"--kubeconfig"), "{text}");
    }
    for flag in [
        "--overwrite",
        "--save-values",
        "--yes",
        "--interactive",
        "--sidecar-mode",
        "--template-dir",
        "--requests",
    ] {
        assert!(
            !connection.contains(&flag),
            "{flag} under Cluster connection:\n{text}"
        );
        assert!(text.contains(flag), "{flag} missing:\n{text}");
    }
}

#[test]
fn the_top_level_help_names_both_modes() {
    let text = help(&[], 100);
    for needle in [
        "Offline",
        "-k DIR",
        "Live",
        "deploy/web",
        "server-side apply",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    // -l and -n work on files too: their heading says so.
    let add = help(&["add".to_string()], 200);
    let objects = under(&add, "Objects (files and live)");
    assert_eq!(objects, ["--namespace", "--selector"], "{add}");
}
