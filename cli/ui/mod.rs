//! Terminal presentation: report lines, diffs and colours (only on a terminal, honouring
//! `NO_COLOR`, through anstream).

pub mod diff;
pub mod report;

use anstyle::{AnsiColor, Style};

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
