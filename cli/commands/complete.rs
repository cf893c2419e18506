//! `__complete` (hidden): completions in Cobra's `__complete` protocol, which kubectl (>= 1.26)
//! speaks with plugins: for `kubectl pattern <TAB>` it runs `kubectl_complete-pattern` from
//! PATH with the words after `pattern` (the last one being completed) and reads one candidate
//! per line (`value<TAB>description`), then `:<directive>`. The shipped `kubectl_complete-pattern`
//! script calls this subcommand. Subcommands, flags, enum values and pattern ids are completed
//! from the clap definition and the catalogue.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Arg, Args, Command};

use crate::engine::catalogue;

/// Cobra's directive: let the shell complete file names.
pub const DIRECTIVE_DEFAULT: u32 = 0;
/// Cobra's directive: no file completion.
pub const DIRECTIVE_NO_FILE: u32 = 4;

/// Completion candidates for kubectl's plugin completion (used by `kubectl_complete-pattern`).
#[derive(Debug, Args)]
pub struct CompleteCmd {
    /// The words after `kubectl pattern`; the last one is the word being completed.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    words: Vec<String>,
}

/// Args whose values are file or directory names.
const PATH_ARGS: [&str; 5] = [
    "filenames",
    "values_file",
    "template_dirs",
    "plugins",
    "config",
];

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name)
            || a.get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&name))
    })
}

fn help_of(text: Option<&clap::builder::StyledStr>) -> String {
    text.map(|h| h.to_string())
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string()
}

/// Candidates for the value of `arg`.
fn values(cmd: &Command, arg: &Arg, ids: &dyn Fn() -> Vec<String>) -> (Vec<(String, String)>, u32) {
    let possible = arg.get_possible_values();
    if !possible.is_empty() {
        let out = possible
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| (v.get_name().to_string(), help_of(v.get_help())))
            .collect();
        return (out, DIRECTIVE_NO_FILE);
    }
    let id = arg.get_id().as_str();
    if PATH_ARGS.contains(&id) {
        return (vec![], DIRECTIVE_DEFAULT);
    }
    let names = arg.get_value_names().unwrap_or_default();
    if names.iter().any(|n| n.as_str().starts_with("PATTERN")) {
        return (
            ids().into_iter().map(|i| (i, String::new())).collect(),
            DIRECTIVE_NO_FILE,
        );
    }
    if cmd.get_name() == "explain" && id == "name" {
        let mut out: Vec<(String, String)> =
            ids().into_iter().map(|i| (i, String::new())).collect();
        out.extend(
            catalogue::topics()
                .into_iter()
                .map(|(t, _)| (t, "topic".to_string())),
        );
        return (out, DIRECTIVE_NO_FILE);
    }
    (vec![], DIRECTIVE_NO_FILE)
}

/// The candidates (value, description) for `words` and the directive, before prefix filtering.
fn candidates(
    root: &Command,
    words: &[String],
    ids: &dyn Fn() -> Vec<String>,
) -> (Vec<(String, String)>, u32, String) {
    let (current, done) = match words.split_last() {
        Some((last, done)) => (last.clone(), done),
        None => (String::new(), &[][..]),
    };
    let mut cmd = root;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    let mut only_positionals = false;
    for word in done {
        if pending.take().is_some() {
            continue;
        }
        if word == "--" && !only_positionals {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--").filter(|_| !only_positionals) {
            if !long.contains('=') {
                pending = find_long(cmd, long).filter(|a| takes_value(a));
            }
        } else if word.len() > 1 && word.starts_with('-') && !only_positionals {
            // A cluster of short flags: only the last one can take the next word.
            let last = word.chars().last().unwrap_or('-');
            if word.chars().count() == 2 {
                pending = cmd
                    .get_arguments()
                    .find(|a| a.get_short() == Some(last))
                    .filter(|a| takes_value(a));
            }
        } else if let Some(sub) = (positionals == 0)
            .then(|| cmd.find_subcommand(word))
            .flatten()
        {
            cmd = sub;
        } else {
            positionals += 1;
        }
    }
    if let Some(arg) = pending {
        let (v, d) = values(cmd, arg, ids);
        return (v, d, current);
    }
    if let Some((flag, value)) = current.strip_prefix("--").and_then(|c| c.split_once('=')) {
        let Some(arg) = find_long(cmd, flag) else {
            return (vec![], DIRECTIVE_NO_FILE, current);
        };
        let (v, d) = values(cmd, arg, ids);
        let prefixed = v
            .into_iter()
            .map(|(name, help)| (format!("--{flag}={name}"), help))
            .collect();
        return (prefixed, d, format!("--{flag}={value}"));
    }
    if current.starts_with('-') {
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_positional())
            .filter_map(|a| {
                a.get_long()
                    .map(|l| (format!("--{l}"), help_of(a.get_help())))
            })
            .collect();
        return (flags, DIRECTIVE_NO_FILE, current);
    }
    let subs: Vec<(String, String)> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| (s.get_name().to_string(), help_of(s.get_about())))
        .collect();
    if positionals == 0 && !subs.is_empty() {
        return (subs, DIRECTIVE_NO_FILE, current);
    }
    let positional = cmd
        .get_arguments()
        .filter(|a| a.is_positional())
        .nth(positionals)
        .or_else(|| {
            // A repeatable positional (PATTERN...) keeps completing.
            cmd.get_arguments()
                .filter(|a| a.is_positional())
                .last()
                .filter(|a| {
                    matches!(
                        a.get_num_args(),
                        Some(r) if r.max_values() > 1
                    )
                })
        });
    match positional {
        Some(arg) => {
            let (v, d) = values(cmd, arg, ids);
            (v, d, current)
        }
        None => (vec![], DIRECTIVE_NO_FILE, current),
    }
}

/// The completion lines for `words` (the words after `kubectl pattern`), `:directive` last.
pub fn complete(root: &Command, words: &[String], ids: &dyn Fn() -> Vec<String>) -> String {
    let (candidates, directive, prefix) = candidates(root, words, ids);
    let mut out = String::new();
    for (value, help) in candidates {
        if value.starts_with(&prefix) {
            out.push_str(&value);
            if !help.is_empty() {
                out.push('\t');
                out.push_str(&help);
            }
            out.push('\n');
        }
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

impl CompleteCmd {
    pub fn run(self, root: &mut Command) -> Result<ExitCode> {
        root.build();
        crate::ui::stdout(&complete(root, &self.words, &crate::catalogue::ids))?;
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn run(words: &[&str]) -> String {
        let mut root = super::super::Cli::command();
        root.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        complete(&root, &words, &|| {
            vec!["log-shipper".into(), "wait-for".into()]
        })
    }

    #[test]
    fn subcommands_flags_values_and_patterns_complete() {
        let top = run(&[""]);
        assert!(top.contains("add\t") && top.contains("inject\t"), "{top}");
        assert!(!top.contains("__complete"), "hidden commands stay hidden");
        assert!(top.ends_with(":4\n"));
        assert!(run(&["in"]).starts_with("inject\tExport a pattern as an injector"));
        assert_eq!(
            run(&["in"]).lines().count(),
            2,
            "only inject, then the directive"
        );
        assert_eq!(run(&["add", "wa"]), "wait-for\n:4\n");
        assert_eq!(run(&["add", "log-shipper", "w"]), "wait-for\n:4\n");
        assert!(run(&["inject", "log-shipper", "--eng"]).starts_with("--engine\t"));
        assert_eq!(
            run(&["inject", "log-shipper", "--engine", ""]),
            "map\tKubernetes' own MutatingAdmissionPolicy (GA in 1.36; no extra software)\nkyverno\tA Kyverno ClusterPolicy (for clusters that run Kyverno)\n:4\n"
        );
        assert_eq!(
            run(&["add", "--sidecar-mode=n"]),
            "--sidecar-mode=native\tAlways native sidecars (initContainers with restartPolicy: Always)\n:4\n"
        );
        // -f takes file names: the shell completes them.
        assert_eq!(run(&["add", "log-shipper", "-f", ""]), ":0\n");
        assert!(run(&["explain", "nat"]).contains("native-sidecars\ttopic"));
    }
}
