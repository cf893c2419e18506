//! Runs an engine action over a document stream on worker threads and hands the results on in
//! input order. Workers block on channels when idle (no spinning), so on a machine whose cores
//! are busy with other work the run costs little more than a sequential one.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use kubectl_pattern_engine::process::{self, Action, EngineError, Processed};
use kubectl_pattern_engine::stream::{Document, StreamError};

/// Turns one document's outcome into what the sink consumes (runs on the workers too).
pub type Prepare<'a, T> = dyn Fn(&Document, Processed) -> Result<T, EngineError> + Sync + 'a;

/// How many documents may wait for a worker per worker.
const QUEUE_PER_WORKER: usize = 16;

fn workers() -> usize {
    std::env::var("KUBECTL_PATTERN_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .clamp(1, 16)
}

/// Runs `action` over `docs`; `prepare` turns each document's outcome into what `sink`
/// consumes, in input order. Stops at the first error.
pub fn process_stream<T: Send>(
    docs: impl Iterator<Item = Result<Document, StreamError>>,
    action: &dyn Action,
    prepare: &Prepare<'_, T>,
    mut sink: impl FnMut(&Document, T) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let run = |d: &Document| process::process_document(d, action).and_then(|p| prepare(d, p));
    let workers = workers();
    if workers == 1 {
        for doc in docs {
            let doc = doc?;
            let result = run(&doc)?;
            sink(&doc, result)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = mpsc::sync_channel::<(usize, Document)>(workers * QUEUE_PER_WORKER);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = mpsc::channel::<(usize, Document, Result<T, EngineError>)>();
        for _ in 0..workers {
            let (job_rx, done_tx) = (Arc::clone(&job_rx), done_tx.clone());
            let run = &run;
            scope.spawn(move || {
                loop {
                    // The lock is held only while taking one job.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((index, doc)) = job else { return };
                    let result = run(&doc);
                    if done_tx.send((index, doc, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut order = Reorder::default();
        for (sent, doc) in docs.enumerate() {
            let doc = match doc {
                Ok(doc) => doc,
                Err(e) => return Err(EngineError::from(e)),
            };
            // A full queue means the workers are behind: hand results on while waiting.
            let mut job = (sent, doc);
            loop {
                match job_tx.try_send(job) {
                    Ok(()) => break,
                    Err(mpsc::TrySendError::Full(back)) => {
                        job = back;
                        match done_rx.recv() {
                            Ok(done) => order.push(done, &mut sink)?,
                            Err(_) => return Ok(()),
                        }
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => return Ok(()),
                }
            }
            while let Ok(done) = done_rx.try_recv() {
                order.push(done, &mut sink)?;
            }
        }
        drop(job_tx);
        for done in done_rx {
            order.push(done, &mut sink)?;
        }
        Ok(())
    })
}

/// Results that arrived before an earlier one, held until it comes.
struct Reorder<T> {
    next: usize,
    waiting: BTreeMap<usize, (Document, Result<T, EngineError>)>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    fn push(
        &mut self,
        (index, doc, result): (usize, Document, Result<T, EngineError>),
        sink: &mut impl FnMut(&Document, T) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        self.waiting.insert(index, (doc, result));
        while let Some((doc, result)) = self.waiting.remove(&self.next) {
            self.next += 1;
            sink(&doc, result?)?;
        }
        Ok(())
    }
}
