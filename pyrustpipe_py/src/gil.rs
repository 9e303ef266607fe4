//! One helper for every call into the engine: release the GIL while Rust works, turn Python
//! signals into the run's cancel switch, map errors.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

use pyo3::prelude::*;
use pyrustpipe_core::progress::Cancel;

use crate::errors::to_py;

/// How often the calling thread runs Python's signal handlers while the engine works. A signal
/// is only seen between two looks, so this bounds the delay before a cancel starts.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Run `work` on its own thread without the GIL. Meanwhile the calling thread runs the Python
/// signal handlers every `SIGNAL_POLL` (only the main thread has any: elsewhere this is a no-op).
/// When a handler raises (Ctrl-C's `KeyboardInterrupt`, a SIGTERM handler's exception, Airflow's
/// timeout), `cancel` is set, the engine winds down (uploads aborted, nothing committed) and
/// that exception is raised, with the engine's own error as its cause.
pub fn run_engine<T: Send>(
    py: Python<'_>,
    cancel: &Cancel,
    work: impl FnOnce() -> pyrustpipe_core::Result<T> + Send,
) -> PyResult<T> {
    let (joined, signal) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = channel::<()>();
            let worker = std::thread::Builder::new()
                .name("pyrustpipe-run".to_owned())
                .spawn_scoped(scope, move || {
                    let result = work();
                    let _ = done_tx.send(());
                    result
                })
                .expect("cannot start the engine thread");
            let mut signal: Option<PyErr> = None;
            // Done (or its thread gone: a panic, re-raised below) ends the wait.
            while let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(SIGNAL_POLL) {
                if signal.is_none() {
                    if let Err(raised) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        signal = Some(raised);
                    }
                }
            }
            (worker.join(), signal)
        })
    });
    let result = joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    match (signal, result) {
        (None, result) => result.map_err(|e| to_py(py, e)),
        // The signal wins even when the run ended anyway (it had passed its commit point).
        (Some(raised), Ok(_)) => Err(raised),
        (Some(raised), Err(error)) => {
            raised.set_cause(py, Some(to_py(py, error)));
            Err(raised)
        }
    }
}
