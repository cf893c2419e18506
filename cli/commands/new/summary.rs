//! What the wizard says once the files are written: where, the equivalent non-interactive
//! command, and how to replay the saved answers.

use anyhow::Result;

use crate::ui::prompt::Prompter;

use super::answers::{ExtraFlags, HIDDEN, command_line, join};
use super::build::Answers;
use super::destination::Destination;
use crate::request::SetParam;

/// Prints the summary (interactive runs only).
pub fn print(
    p: &mut dyn Prompter,
    answers: &Answers,
    ids: &[String],
    params: &[SetParam],
    extra: &ExtraFlags,
    to: &Destination,
    save: Option<&std::path::Path>,
) -> Result<()> {
    let (bold, dim) = (crate::ui::BOLD, crate::ui::DIM);
    let file = match to {
        Destination::File(path) => {
            p.show(&format!("{bold}Wrote{bold:#} {}\n", path.display()))?;
            Some(path.as_path())
        }
        Destination::Stdout => None,
        Destination::Cluster => Some(std::path::Path::new("cluster")),
    };
    let line = command_line(answers, ids, params, extra, file);
    p.show(&format!(
        "\n{bold}Equivalent command{bold:#} {dim}(no questions; for scripts and CI){dim:#}\n  {line}\n"
    ))?;
    if params.iter().any(|s| s.secret) {
        p.show(&format!(
            "  {dim}secret values are shown as {} and left out of values files: set them yourself{dim:#}\n",
            HIDDEN
        ))?;
    }
    if let Some(path) = save {
        let mut args = vec!["--values-file".to_string(), path.display().to_string()];
        args.extend(extra.0.iter().cloned());
        if let Some(f) = file {
            args.extend(["--to".into(), f.display().to_string()]);
        }
        args.push("--yes".into());
        p.show(&format!(
            "{bold}Saved the answers{bold:#} to {}: kubectl pattern new {}\n",
            path.display(),
            join(&args)
        ))?;
    }
    Ok(())
}
