//! Live progress of a run, shared with whoever watches it (the CLI's progress bar) from another
//! thread, and the run's cancel switch. The engine only adds to counters; reading never blocks
//! the run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// A run's cancel switch. Whoever holds a clone may set it from any thread (the bindings, on a
/// signal); the reader, the merge, pass 2 and every S3 request look at it. Once set, a run
/// stops, aborts its uploads, removes what it staged and commits nothing (docs/outputs.md).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Error::Cancelled)` once the switch is set.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Counters of one run: pass 1 counts the bytes and rows checked, pass 2 (when outputs are asked
/// for) counts the bytes routed again from zero.
#[derive(Debug, Default)]
pub struct Progress {
    bytes_total: AtomicU64,
    bytes_done: AtomicU64,
    rows: AtomicU64,
    writing: AtomicBool,
}

/// One consistent-enough reading of [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// 0 when the size is unknown (an in-memory table).
    pub bytes_total: u64,
    pub bytes_done: u64,
    /// Rows checked so far (pass 1).
    pub rows: u64,
    /// Pass 2 has started: the outputs are being written.
    pub writing: bool,
}

impl Progress {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            writing: self.writing.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn start(&self, bytes_total: u64) {
        self.bytes_total.store(bytes_total, Ordering::Relaxed);
    }

    /// Pass 1 has checked `rows` more rows and reached byte `position` of the run.
    pub(crate) fn checked(&self, position: u64, rows: u64) {
        self.bytes_done.fetch_max(position, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }

    pub(crate) fn start_writing(&self) {
        self.bytes_done.store(0, Ordering::Relaxed);
        self.writing.store(true, Ordering::Relaxed);
    }

    /// Pass 2 has routed the run's bytes up to `position`.
    pub(crate) fn written(&self, position: u64) {
        self.bytes_done.fetch_max(position, Ordering::Relaxed);
    }
}

/// Turns a place in one source (its index, size and a byte offset in it) into a byte position in
/// the whole run, for sources met in order.
#[derive(Debug, Default)]
pub(crate) struct RunPosition {
    source: Option<usize>,
    /// Sizes of the sources before the current one.
    before: u64,
    size: u64,
}

impl RunPosition {
    pub(crate) fn at(&mut self, source: usize, size: u64, offset: u64) -> u64 {
        if self.source != Some(source) {
            if self.source.is_some() {
                self.before += self.size;
            }
            self.source = Some(source);
            self.size = size;
        }
        self.before + offset.min(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_add_up_over_sources_and_never_go_back() {
        let progress = Progress::default();
        progress.start(30);
        let mut position = RunPosition::default();
        for (source, size, offset, rows) in
            [(0, 10, 4, 2), (0, 10, 10, 3), (1, 20, 0, 0), (1, 20, 20, 5)]
        {
            progress.checked(position.at(source, size, offset), rows);
        }
        // A unit that reaches no byte (a Parquet row group before the last) keeps the position.
        progress.checked(position.at(1, 20, 0), 1);
        let snapshot = progress.snapshot();
        assert_eq!((snapshot.bytes_done, snapshot.rows), (30, 11));
        progress.start_writing();
        assert_eq!(progress.snapshot().bytes_done, 0);
        assert!(progress.snapshot().writing);
    }

    #[test]
    fn a_cancel_is_seen_by_every_clone() {
        let cancel = Cancel::default();
        let seen = cancel.clone();
        assert!(seen.check().is_ok());
        cancel.cancel();
        assert!(matches!(seen.check(), Err(Error::Cancelled)));
    }
}
