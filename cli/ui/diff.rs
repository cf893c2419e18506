//! Unified diffs of a file before and after, coloured when stdout is a terminal.

use similar::{ChangeTag, TextDiff};

use super::{ADDED, BOLD, REMOVED};

/// A unified diff of `before` → `after` for `name`, with ANSI colours (anstream strips them
/// when stdout is not a terminal or `NO_COLOR` is set).
pub fn unified(before: &str, after: &str, name: &str) -> String {
    let diff = TextDiff::from_lines(before, after);
    let mut out = format!("{BOLD}--- {name}\n+++ {name} (patched){BOLD:#}\n");
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            old.start + 1,
            old.len(),
            new.start + 1,
            new.len()
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ("-", REMOVED),
                    ChangeTag::Insert => ("+", ADDED),
                    ChangeTag::Equal => (" ", anstyle::Style::new()),
                };
                let text = change.value();
                let newline = if text.ends_with('\n') {
                    ""
                } else {
                    "\n\\ No newline at end of file\n"
                };
                out.push_str(&format!("{style}{sign}{text}{style:#}{newline}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_only_changed_hunks() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let after = "a\nb\nc\nd\ne\nf\ng\nh2\n";
        let text = super::unified(before, after, "x.yaml");
        assert!(text.contains("@@ -5,4 +5,4 @@"), "{text}");
        assert!(text.contains("-h\n") && text.contains("+h2\n"), "{text}");
        assert!(!text.contains(" a\n"), "{text}");
    }
}
