//! Asking a person: the `Prompter` trait the wizard and `add` talk to, its silent
//! implementation (no terminal: every question is left unanswered), and the terminal one on
//! dialoguer, which also makes Ctrl-C restore the terminal and end the run with nothing written.

use std::io::IsTerminal;

use anyhow::Result;
use dialoguer::theme::ColorfulTheme;

/// One free-text question.
pub struct TextQuestion<'a> {
    /// The prompt, without a trailing colon.
    pub prompt: &'a str,
    /// Shown and taken when the answer is empty.
    pub default: Option<String>,
    /// An empty answer is allowed (and means "none") when there is no default.
    pub optional: bool,
    /// Input is masked and never echoed.
    pub secret: bool,
    /// Checks an answer: `Err(why)` is shown and the question asked again.
    pub validate: &'a dyn Fn(&str) -> Result<(), String>,
}

/// Asks questions. Every method returns `None` when nobody can answer (silent mode): the
/// caller then takes the default or reports the answer as missing.
pub trait Prompter {
    /// True when a person answers.
    fn interactive(&self) -> bool;
    /// A free-text answer, validated.
    fn text(&mut self, question: &TextQuestion<'_>) -> Result<Option<String>>;
    /// One of `items`.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<Option<usize>>;
    /// Any of `items` (space toggles, enter accepts); `short[i]` names item i in the summary.
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        short: &[String],
    ) -> Result<Option<Vec<usize>>>;
    /// Yes or no.
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<Option<bool>>;
    /// Shows text to the person (stderr); nothing in silent mode.
    fn show(&mut self, text: &str) -> Result<()>;
    /// No more questions: Ctrl-C gets its default meaning back (called before writing).
    fn finish(&mut self) {}
}

/// No terminal (or `--yes`, `--no-input`): nothing is asked.
#[derive(Debug, Default)]
pub struct Silent;

impl Prompter for Silent {
    fn interactive(&self) -> bool {
        false
    }
    fn text(&mut self, _: &TextQuestion<'_>) -> Result<Option<String>> {
        Ok(None)
    }
    fn select(&mut self, _: &str, _: &[String], _: usize) -> Result<Option<usize>> {
        Ok(None)
    }
    fn multi_select(&mut self, _: &str, _: &[String], _: &[String]) -> Result<Option<Vec<usize>>> {
        Ok(None)
    }
    fn confirm(&mut self, _: &str, _: bool) -> Result<Option<bool>> {
        Ok(None)
    }
    fn show(&mut self, _: &str) -> Result<()> {
        Ok(())
    }
}

/// True when a person can be asked by default: stdin and stderr are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Questions on the terminal (stderr), answers from the keyboard (stdin, or /dev/tty when
/// stdin is a pipe).
pub struct Terminal {
    theme: ColorfulTheme,
}

impl Terminal {
    /// A terminal prompter; fails when stderr is not a terminal. From the first question
    /// until [`Prompter::finish`], Ctrl-C restores the terminal and exits with 130.
    pub fn new() -> Result<Self> {
        if !std::io::stderr().is_terminal() {
            anyhow::bail!(
                "cannot ask questions: stderr is not a terminal; drop -i and give every answer as a flag"
            );
        }
        Ok(Terminal {
            theme: ColorfulTheme::default(),
        })
    }
}

fn io(err: dialoguer::Error) -> anyhow::Error {
    anyhow::Error::new(err).context("cannot read the answer from the terminal")
}

impl Prompter for Terminal {
    fn interactive(&self) -> bool {
        true
    }

    fn text(&mut self, q: &TextQuestion<'_>) -> Result<Option<String>> {
        interrupt::install();
        let validate = q.validate;
        if q.secret {
            let prompt = match &q.default {
                Some(_) => format!("{} (hidden, enter keeps the default)", q.prompt),
                None => format!("{} (hidden)", q.prompt),
            };
            let answer = dialoguer::Password::with_theme(&self.theme)
                .with_prompt(prompt)
                .allow_empty_password(q.default.is_some() || q.optional)
                .validate_with(|s: &String| match (s.is_empty(), &q.default) {
                    (true, Some(_)) => Ok(()),
                    (true, None) if q.optional => Ok(()),
                    _ => validate(s),
                })
                .interact()
                .map_err(io)?;
            return Ok(Some(match (answer.is_empty(), &q.default) {
                (true, Some(d)) => d.clone(),
                _ => answer,
            }));
        }
        let mut input = dialoguer::Input::<String>::with_theme(&self.theme)
            .with_prompt(q.prompt)
            .allow_empty(q.optional)
            .validate_with(|s: &String| {
                if s.is_empty() && q.optional {
                    Ok(())
                } else {
                    validate(s)
                }
            });
        if let Some(d) = &q.default {
            input = input.default(d.clone());
        }
        Ok(Some(input.interact_text().map_err(io)?))
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<Option<usize>> {
        interrupt::install();
        dialoguer::Select::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map(Some)
            .map_err(io)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        short: &[String],
    ) -> Result<Option<Vec<usize>>> {
        interrupt::install();
        let chosen = dialoguer::MultiSelect::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(items)
            .report(false)
            .interact()
            .map_err(io)?;
        // The items are long lines; the summary names them briefly.
        let names: Vec<&str> = chosen
            .iter()
            .filter_map(|i| short.get(*i).map(String::as_str))
            .collect();
        let mut line = String::new();
        dialoguer::theme::Theme::format_multi_select_prompt_selection(
            &self.theme,
            &mut line,
            prompt,
            &names,
        )?;
        anstream::eprintln!("{line}");
        Ok(Some(chosen))
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<Option<bool>> {
        interrupt::install();
        dialoguer::Confirm::with_theme(&self.theme)
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map(Some)
            .map_err(io)
    }

    fn show(&mut self, text: &str) -> Result<()> {
        anstream::eprint!("{text}");
        Ok(())
    }

    fn finish(&mut self) {
        interrupt::reset();
    }
}

/// The prompter for a run: the terminal when `forced` or when a person is there, else silent.
pub fn for_run(forced: bool, forbidden: bool) -> Result<Box<dyn Prompter>> {
    if !forbidden && (forced || can_prompt()) {
        Ok(Box::new(Terminal::new()?))
    } else {
        Ok(Box::new(Silent))
    }
}

/// Ctrl-C while a prompt waits: dialoguer puts the terminal in raw or no-echo mode and hides
/// the cursor, and the default SIGINT action would leave it so. The handler puts back the
/// terminal settings saved before the first prompt, shows the cursor, says that nothing was
/// written, and exits with 130 (nothing is written before the last answer, so there is nothing
/// to undo).
#[cfg(unix)]
#[allow(
    unsafe_code,
    reason = "signal handling and termios through libc; see the SAFETY notes"
)]
mod interrupt {
    use std::sync::OnceLock;

    static SAVED: OnceLock<Option<(libc::c_int, libc::termios)>> = OnceLock::new();
    const MESSAGE: &[u8] = b"\x1b[?25h\ncancelled: nothing was written\n";

    extern "C" fn on_interrupt(_: libc::c_int) {
        // Only async-signal-safe calls here: tcsetattr, write, _exit.
        if let Some(Some((fd, termios))) = SAVED.get() {
            // SAFETY: `termios` was filled by tcgetattr on the same descriptor.
            unsafe { libc::tcsetattr(*fd, libc::TCSANOW, termios) };
        }
        // SAFETY: a static buffer written to stderr, then an immediate exit.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(130);
        }
    }

    fn terminal_settings() -> Option<(libc::c_int, libc::termios)> {
        use std::os::fd::IntoRawFd;
        let fd = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            0
        } else {
            // Kept open for the life of the process: the handler needs it.
            std::fs::File::open("/dev/tty").ok()?.into_raw_fd()
        };
        let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills `termios` when it returns 0.
        if unsafe { libc::tcgetattr(fd, termios.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: initialised by the successful tcgetattr above.
        Some((fd, unsafe { termios.assume_init() }))
    }

    /// Installs the handler (the terminal settings are saved before the first question).
    pub fn install() {
        SAVED.get_or_init(terminal_settings);
        let handler: extern "C" fn(libc::c_int) = on_interrupt;
        // SAFETY: the handler only makes async-signal-safe calls.
        unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
    }

    /// Gives SIGINT its default action back: once the questions are over, "nothing was
    /// written" would no longer be sure.
    pub fn reset() {
        // SAFETY: restoring the default disposition.
        unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
    }
}

/// Windows: the console restores its own input mode for the shell after the process ends, and
/// Ctrl-C ends the run before anything is written (nothing is written before the last answer).
#[cfg(not(unix))]
mod interrupt {
    /// Nothing to install.
    pub fn install() {}

    /// Nothing to reset.
    pub fn reset() {}
}
