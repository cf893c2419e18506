//! `--wait` on the terminal: one progress bar per rollout (indicatif) on a TTY, plain lines
//! otherwise; returns how many rollouts failed.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::join_all;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cluster::connect::Connection;
use crate::cluster::live::Target;
use crate::cluster::rollout::{self, RolloutState};

/// Follows every rollout at once; prints the outcome of each.
pub async fn wait_all(conn: &Connection, targets: &[Target], timeout: Option<Duration>) -> usize {
    if targets.is_empty() {
        return 0;
    }
    let tty = std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if tty {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:.bold} [{bar:24}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bars: Vec<ProgressBar> = targets
        .iter()
        .map(|t| {
            let bar = multi.add(ProgressBar::new(1));
            bar.set_style(style.clone());
            bar.set_prefix(t.display());
            bar
        })
        .collect();
    // Without a terminal: one line per change of state.
    let last: Mutex<Vec<String>> = Mutex::new(vec![String::new(); targets.len()]);
    let waits = targets.iter().enumerate().map(|(i, target)| {
        let bar = bars[i].clone();
        let done_bar = bars[i].clone();
        let last = &last;
        async move {
            let on_update = move |t: &Target, s: &RolloutState| {
                if tty {
                    bar.set_length(s.desired.max(1) as u64);
                    bar.set_position(s.ready.max(0) as u64);
                    bar.set_message(s.message.clone());
                } else if let Ok(mut seen) = last.lock()
                    && seen[i] != s.message
                {
                    seen[i] = s.message.clone();
                    anstream::eprintln!("{}: {}", t.display(), s.message);
                }
            };
            let result = rollout::wait(conn, target, timeout, &on_update).await;
            done_bar.finish_and_clear();
            (target, result)
        }
    });
    let results = join_all(waits).await;
    let mut failed = 0;
    for (target, result) in results {
        match result {
            Ok(_) => anstream::eprintln!("{} rolled out", target.display()),
            Err(e) => {
                failed += 1;
                crate::ui::error(&e.to_string(), &[]);
            }
        }
    }
    failed
}
