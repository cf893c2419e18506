//! Runs an engine action over a document stream on worker threads and hands the results on in
//! input order. Workers block on channels when idle (no spinning), so on a machine whose cores
//! are busy with other work the run costs little more than a sequential one.
//!
//! On such a machine the scheduler can stop the main thread at any instruction, so a worker
//! that has work never waits on a lock the main thread holds: results go through a channel the
//! main thread only polls, and it sleeps with `park` until a worker's `unpark` (a futex on
//! linux, no lock). Waiting in `recv` instead registers the main thread under the channel's
//! lock; stopped there, it held up every worker's send for a time slice. (The job queue's lock
//! is shared with the main thread only while a worker waits on an empty queue.)

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::Thread;

use kubectl_pattern_engine::process::{self, Action, EngineError, Processed};
use kubectl_pattern_engine::stream::{Document, StreamError};

/// Turns one document's outcome into what the sink consumes (runs on the workers too).
pub type Prepare<'a, T> = dyn Fn(&Document, Processed) -> Result<T, EngineError> + Sync + 'a;

/// Documents handed to a worker in one message once the workers are busy: one channel send
/// and at most one wake-up per batch instead of per document (the wake-ups were a tenth of the
/// stream's CPU time).
const BATCH: usize = 8;

/// How many batches may wait for a worker per worker: enough for a few milliseconds of work,
/// so the workers keep going while the scheduler has the main thread stopped.
const QUEUE_PER_WORKER: usize = 8;

type Job = Vec<(usize, Document)>;
type Done<T> = Vec<(usize, Document, Result<T, EngineError>)>;

fn workers() -> usize {
    std::env::var("KUBECTL_PATTERN_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .clamp(1, 16)
}

/// Runs `action` over `docs`; `prepare` turns each document's outcome into what `sink`
/// consumes, in input order. Stops at the first error in input order (a document's, the
/// sink's or the stream's), the one a single thread would meet.
pub fn process_stream<T: Send>(
    docs: impl Iterator<Item = Result<Document, StreamError>>,
    action: &dyn Action,
    prepare: &Prepare<'_, T>,
    sink: impl FnMut(&Document, T) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    process_on(workers(), docs, action, prepare, sink)
}

/// [`process_stream`] on `workers` threads.
fn process_on<T: Send>(
    workers: usize,
    docs: impl Iterator<Item = Result<Document, StreamError>>,
    action: &dyn Action,
    prepare: &Prepare<'_, T>,
    mut sink: impl FnMut(&Document, T) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let run = |d: &Document| process::process_document(d, action).and_then(|p| prepare(d, p));
    if workers == 1 {
        for doc in docs {
            let doc = doc?;
            let result = run(&doc)?;
            sink(&doc, result)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(workers * QUEUE_PER_WORKER);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = mpsc::channel::<Done<T>>();
        for _ in 0..workers {
            let job_rx = Arc::clone(&job_rx);
            let results = Results {
                tx: Some(done_tx.clone()),
                main: std::thread::current(),
            };
            let run = &run;
            scope.spawn(move || {
                loop {
                    // The lock is held while taking one job, or waiting for one.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(batch) = job else { return };
                    let done = batch
                        .into_iter()
                        .map(|(index, doc)| {
                            let result = run(&doc);
                            (index, doc, result)
                        })
                        .collect();
                    if !results.send(done) {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut feed = Feed {
            job_tx,
            done_rx,
            order: Reorder::default(),
            batch: Vec::with_capacity(BATCH),
            in_flight: 0,
        };
        for (index, doc) in docs.enumerate() {
            let doc = match doc {
                Ok(doc) => doc,
                // The documents before it come first, as on one thread: one of them may have
                // failed, and that is the error to report.
                Err(e) => return feed.finish(&mut sink).and(Err(e.into())),
            };
            feed.batch.push((index, doc));
            // While the workers have less than a document each, a document goes out at once,
            // so a slow input (a pipe) keeps them busy instead of filling a batch first.
            if (feed.batch.len() >= BATCH || feed.in_flight < workers) && !feed.send(&mut sink)? {
                return Ok(());
            }
            feed.take_ready(&mut sink)?;
        }
        feed.finish(&mut sink)
    })
}

/// A worker's end of the results channel. Every send wakes the main thread, and so does the
/// worker's end (a panic's too, where panics unwind); once every worker has ended, the main
/// thread sees the channel close.
struct Results<T> {
    tx: Option<mpsc::Sender<Done<T>>>,
    main: Thread,
}

impl<T> Results<T> {
    /// False when the main thread has stopped taking results. The wake-up comes after the send,
    /// so the main thread, woken, finds the results (see [`next_results`]).
    fn send(&self, done: Done<T>) -> bool {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(done).is_ok());
        self.main.unpark();
        sent
    }
}

impl<T> Drop for Results<T> {
    fn drop(&mut self) {
        drop(self.tx.take());
        self.main.unpark();
    }
}

/// The next batch of results, parked until one comes; None once every worker has ended.
/// (An `unpark` before the `park` is kept as a token, so no wake-up is lost; it relies on
/// every worker sending, or dropping its sender, before it unparks.)
fn next_results<T>(done_rx: &mpsc::Receiver<Done<T>>) -> Option<Done<T>> {
    loop {
        match done_rx.try_recv() {
            Ok(done) => return Some(done),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => std::thread::park(),
        }
    }
}

/// The main thread's side of the channels: the batch being filled and the results to reorder.
struct Feed<T> {
    job_tx: mpsc::SyncSender<Job>,
    done_rx: mpsc::Receiver<Done<T>>,
    order: Reorder<T>,
    batch: Job,
    /// Documents sent to the workers whose results have not come back.
    in_flight: usize,
}

impl<T> Feed<T> {
    /// Sends the batch; a full queue means the workers are behind, so results are handed on
    /// while waiting. False when the workers are gone.
    fn send(
        &mut self,
        sink: &mut impl FnMut(&Document, T) -> Result<(), EngineError>,
    ) -> Result<bool, EngineError> {
        let mut job = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let count = job.len();
        loop {
            match self.job_tx.try_send(job) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back)) => {
                    job = back;
                    match next_results(&self.done_rx) {
                        Some(done) => self.receive(done, sink)?,
                        None => return Ok(false),
                    }
                }
                Err(mpsc::TrySendError::Disconnected(_)) => return Ok(false),
            }
        }
        self.in_flight += count;
        Ok(true)
    }

    /// Sends what is left of the batch, then hands on every result still to come.
    fn finish(
        mut self,
        sink: &mut impl FnMut(&Document, T) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        if !self.batch.is_empty() && !self.send(sink)? {
            return Ok(());
        }
        let Feed {
            done_rx,
            mut order,
            job_tx,
            ..
        } = self;
        drop(job_tx);
        while let Some(done) = next_results(&done_rx) {
            order.push_all(done, sink)?;
        }
        Ok(())
    }

    /// Hands on the results that are already there, without waiting.
    fn take_ready(
        &mut self,
        sink: &mut impl FnMut(&Document, T) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        while let Ok(done) = self.done_rx.try_recv() {
            self.receive(done, sink)?;
        }
        Ok(())
    }

    fn receive(
        &mut self,
        done: Done<T>,
        sink: &mut impl FnMut(&Document, T) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        self.in_flight -= done.len();
        self.order.push_all(done, sink)
    }
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
    fn push_all(
        &mut self,
        done: Done<T>,
        sink: &mut impl FnMut(&Document, T) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        for (index, doc, result) in done {
            self.waiting.insert(index, (doc, result));
        }
        while let Some((doc, result)) = self.waiting.remove(&self.next) {
            self.next += 1;
            sink(&doc, result?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use kubectl_pattern_engine::process::{ActionResult, ObjectError, ObjectFailure};
    use kubectl_pattern_engine::stream;
    use serde_json::Value;

    use super::*;

    /// Leaves every object as it is.
    struct Keep;

    impl Action for Keep {
        fn run(&self, _: &mut Value) -> Result<ActionResult, ObjectError> {
            Ok(ActionResult::default())
        }
    }

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|n| format!("cm-{n}")).collect()
    }

    fn stream_of(count: usize) -> impl Iterator<Item = Result<Document, StreamError>> {
        let text: String = names(count)
            .iter()
            .map(|n| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}}}\n"))
            .collect();
        stream::split(Box::new(Cursor::new(text)), "test".into()).expect("splits")
    }

    /// Each document's result is the name read from it.
    fn name_of(doc: &Document, _: Processed) -> Result<String, EngineError> {
        let (value, _) = doc.read_object()?;
        Ok(value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The names the sink was given and how the run ended; the sink fails on the result
    /// numbered `sink_fails_at` (0-based), after taking those before it.
    fn run_with(
        workers: usize,
        count: usize,
        action: &dyn Action,
        sink_fails_at: Option<usize>,
    ) -> (Vec<String>, Result<(), EngineError>) {
        run_docs(workers, stream_of(count), action, sink_fails_at)
    }

    fn run_docs(
        workers: usize,
        docs: impl Iterator<Item = Result<Document, StreamError>>,
        action: &dyn Action,
        sink_fails_at: Option<usize>,
    ) -> (Vec<String>, Result<(), EngineError>) {
        let mut out = Vec::new();
        let result = process_on(workers, docs, action, &name_of, |_, name| {
            if Some(out.len()) == sink_fails_at {
                return Err(EngineError::Object(Box::new(ObjectFailure {
                    source_name: "test".into(),
                    document: out.len() + 1,
                    object: String::new(),
                    error: ObjectError::Namespace {
                        found: "sink".into(),
                        given: name,
                    },
                })));
            }
            out.push(name);
            Ok(())
        });
        (out, result)
    }

    /// The stream's documents as the workers hand them on.
    fn run_on(workers: usize, count: usize) -> Vec<String> {
        let (out, result) = run_with(workers, count, &Keep, None);
        result.expect("the stream runs");
        out
    }

    /// Fails on the object with this name, or panics there.
    struct FailOn {
        name: String,
        panics: bool,
    }

    impl Action for FailOn {
        fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
            if object["metadata"]["name"] != self.name.as_str() {
                return Ok(ActionResult::default());
            }
            assert!(!self.panics, "the action panics on {}", self.name);
            Err(ObjectError::Namespace {
                found: "action".into(),
                given: self.name.clone(),
            })
        }
    }

    /// The document number and what failed, of a run's error.
    fn where_failed(result: Result<(), EngineError>) -> (usize, String, String) {
        match result {
            Err(EngineError::Object(f)) => match f.error {
                ObjectError::Namespace { found, given } => (f.document, found, given),
                other => panic!("unexpected object error {other}"),
            },
            other => panic!("expected an object error, got {other:?}"),
        }
    }

    /// Long enough to fill the job queue of up to 4 workers twice over.
    const LONG: usize = 2 * (QUEUE_PER_WORKER + 1) * BATCH * 4 + 3;

    /// An object's error ends the run with that error, after the sink has taken exactly the
    /// documents before it, however many workers run and wherever the error is.
    #[test]
    fn an_object_error_ends_the_stream_after_the_documents_before_it() {
        for workers in [1, 2, 3, 4] {
            for at in [0, 5, BATCH * 3 + 1, LONG - 1] {
                let fail = FailOn {
                    name: format!("cm-{at}"),
                    panics: false,
                };
                let (out, result) = run_with(workers, LONG, &fail, None);
                assert_eq!(out, names(at), "{workers} workers, error at {at}");
                let expected = (at + 1, "action".to_owned(), format!("cm-{at}"));
                assert_eq!(where_failed(result), expected, "{workers} workers");
            }
        }
    }

    /// A sink's error ends the run with that error (the workers still busy are let go).
    #[test]
    fn a_sink_error_ends_the_stream() {
        for workers in [1, 2, 3, 4] {
            for at in [0, 7, LONG / 2] {
                let (out, result) = run_with(workers, LONG, &Keep, Some(at));
                assert_eq!(out, names(at), "{workers} workers, sink error at {at}");
                let expected = (at + 1, "sink".to_owned(), format!("cm-{at}"));
                assert_eq!(where_failed(result), expected, "{workers} workers");
            }
        }
    }

    /// A stream that breaks at document `at` (0-based) after the documents before it.
    fn broken_at(at: usize) -> impl Iterator<Item = Result<Document, StreamError>> {
        let broken = StreamError::Read {
            name: "test".into(),
            source: std::io::Error::other("the pipe broke"),
        };
        stream_of(at).chain(std::iter::once(Err(broken)))
    }

    /// A broken stream ends the run with its error after the sink has taken every document
    /// before the break; but when one of those failed, that error is the run's, as on one
    /// thread (the workers used to be left behind at the break).
    #[test]
    fn a_broken_stream_reports_an_earlier_documents_error_first() {
        for workers in [1, 2, 3, 4] {
            for at in [0, 1, BATCH + 2, LONG] {
                let (out, result) = run_docs(workers, broken_at(at), &Keep, None);
                assert_eq!(out, names(at), "{workers} workers, break at {at}");
                assert!(
                    matches!(result, Err(EngineError::Stream(StreamError::Read { .. }))),
                    "{workers} workers, break at {at}: {result:?}"
                );
            }
            for (fails, breaks) in [(0, 1), (BATCH + 1, BATCH + 2), (3, LONG)] {
                let fail = FailOn {
                    name: format!("cm-{fails}"),
                    panics: false,
                };
                let (out, result) = run_docs(workers, broken_at(breaks), &fail, None);
                assert_eq!(out, names(fails), "{workers} workers, fails at {fails}");
                let expected = (fails + 1, "action".to_owned(), format!("cm-{fails}"));
                assert_eq!(where_failed(result), expected, "{workers} workers");
            }
            // The sink fails on a document still in flight at the break.
            let at = LONG - 2;
            let (out, result) = run_docs(workers, broken_at(LONG), &Keep, Some(at));
            assert_eq!(out, names(at), "{workers} workers, sink error at {at}");
            let expected = (at + 1, "sink".to_owned(), format!("cm-{at}"));
            assert_eq!(where_failed(result), expected, "{workers} workers");
        }
    }

    /// A worker's panic reaches the caller instead of hanging the run.
    #[test]
    fn a_worker_panic_reaches_the_caller() {
        for workers in [2, 3] {
            let fail = FailOn {
                name: "cm-9".into(),
                panics: true,
            };
            let run = std::panic::AssertUnwindSafe(|| run_with(workers, LONG, &fail, None));
            let caught = std::panic::catch_unwind(run);
            assert!(caught.is_err(), "{workers} workers: the panic was lost");
        }
    }

    /// Every short length, and streams long enough to fill the job queue whenever the workers
    /// fall behind the main thread's splitting (they parse each document twice here), so that
    /// the main thread parks until a worker's results wake it, end with every document once,
    /// in order. (Without the wake-up after a send, this test hung in each of two runs.)
    #[test]
    fn every_stream_comes_back_whole_and_in_order() {
        for workers in [2, 3, 4] {
            for count in (0..=2 * BATCH + 1).chain([LONG]) {
                assert_eq!(
                    run_on(workers, count),
                    names(count),
                    "{workers} workers, {count} docs"
                );
            }
        }
    }
}
