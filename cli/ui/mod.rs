//! Terminal presentation: report lines, diffs and colours (only on a terminal, honouring
//! `NO_COLOR`, through anstream).

pub mod diff;
pub mod highlight;
pub mod prompt;
pub mod report;

use std::io::Write;

use anstyle::{AnsiColor, Style};

/// Text from inputs and patterns made safe for a terminal: control characters (escape
/// sequences, carriage returns) are shown escaped; line breaks and tabs stay.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Writes data to stdout (colours stripped when it is not a terminal). A closed pipe
/// (`| head`) ends the output quietly instead of failing.
pub fn stdout(text: &str) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Prints a warning on stderr: `warning: …` (coloured on a terminal; the text is cleaned).
pub fn warn(message: &str) {
    let style = WARNING;
    anstream::eprintln!("{style}warning:{style:#} {}", clean(message));
}

/// Prints an error on stderr: `error: …`, then each cause on its own line.
pub fn error(message: &str, causes: &[String]) {
    let style = ERROR;
    let mut text = format!("{style}error:{style:#} {}", clean(message));
    let mut shown = message;
    for cause in causes {
        // Many messages already end with their cause ("cannot read x: No such file…"):
        // printing it again below adds nothing.
        if shown.contains(cause.as_str()) {
            continue;
        }
        text.push_str(&format!("\n  caused by: {}", clean(cause)));
        shown = cause;
    }
    anstream::eprintln!("{text}");
}

/// Style for errors.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// Style for warnings.
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// Style for changes.
pub const ADDED: Style = AnsiColor::Green.on_default();
/// Style for removals.
pub const REMOVED: Style = AnsiColor::Red.on_default();
/// Style for headings and names.
pub const BOLD: Style = Style::new().bold();
/// Style for secondary text.
pub const DIM: Style = Style::new().dimmed();
