//! The parallel pipeline: a reader thread cuts sources into blocks, a Rayon pool works on them,
//! and the calling thread merges the results strictly in block order. At most `in_flight` blocks
//! exist at once, which bounds memory whatever the size of the input. A cancel stops the reader
//! at its next block and the merge within `CANCEL_POLL`.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::progress::Cancel;

/// How often a merge waiting for a block looks at the cancel switch.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// One unit of work: a block of one source.
pub struct Work<C> {
    pub seq: u64,
    pub source: Arc<C>,
    pub buf: Vec<u8>,
    /// Byte offset of `buf[0]` in the source.
    pub offset: u64,
    /// `buf` ends where the source ends.
    pub eof: bool,
}

/// Something that cuts sources into blocks, on the reader thread.
pub trait Producer<C>: Send {
    /// Send every block of every source through `emit`, in order. Stop when `emit` fails.
    fn produce(&mut self, emit: &mut dyn FnMut(Arc<C>, Vec<u8>, u64, bool) -> bool) -> Result<()>;
}

/// Run `job` over every block in parallel and feed the results to `merge` in block order.
/// `Err(Error::Cancelled)` once `cancel` is set, whatever was left to do.
pub fn run<C, R, P, J, M>(
    pool: &rayon::ThreadPool,
    in_flight: usize,
    cancel: &Cancel,
    mut producer: P,
    job: J,
    mut merge: M,
) -> Result<()>
where
    C: Send + Sync + 'static,
    R: Send + 'static,
    P: Producer<C>,
    J: Fn(&Work<C>) -> R + Send + Sync + Clone + 'static,
    M: FnMut(Work<C>, R) -> Result<()>,
{
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx
            .send(())
            .expect("the channel has room for every token");
    }
    let (result_tx, result_rx) = channel::<(u64, Work<C>, R)>();

    std::thread::scope(|scope| -> Result<()> {
        let reader = scope.spawn({
            let result_tx = result_tx.clone();
            let job = job.clone();
            move || -> Result<()> {
                let mut seq = 0u64;
                let mut emit = |source: Arc<C>, buf: Vec<u8>, offset: u64, eof: bool| -> bool {
                    // Wait for a free slot; a closed channel means the merge stopped early.
                    if cancel.is_cancelled() || token_rx.recv().is_err() {
                        return false;
                    }
                    let work = Work {
                        seq,
                        source,
                        buf,
                        offset,
                        eof,
                    };
                    seq += 1;
                    let tx = result_tx.clone();
                    let job = job.clone();
                    pool.spawn(move || {
                        let result = job(&work);
                        let _ = tx.send((work.seq, work, result));
                    });
                    true
                };
                producer.produce(&mut emit)
            }
        });
        drop(result_tx);
        let merged = merge_in_order(&result_rx, &token_tx, cancel, &mut merge);
        // Unblock and stop the reader if the merge ended early.
        drop(token_tx);
        drop(result_rx);
        let produced = reader
            .join()
            .map_err(|_| Error::Internal("the reader thread panicked".to_owned()))?;
        merged?;
        produced?;
        // A reader told to stop ends without an error: the run must not pass for complete.
        cancel.check()
    })
}

fn merge_in_order<C, R, M>(
    results: &Receiver<(u64, Work<C>, R)>,
    tokens: &std::sync::mpsc::SyncSender<()>,
    cancel: &Cancel,
    merge: &mut M,
) -> Result<()>
where
    M: FnMut(Work<C>, R) -> Result<()>,
{
    let mut waiting: BTreeMap<u64, (Work<C>, R)> = BTreeMap::new();
    let mut next = 0u64;
    loop {
        cancel.check()?;
        let (seq, work, result) = match results.recv_timeout(CANCEL_POLL) {
            Ok(received) => received,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        waiting.insert(seq, (work, result));
        while let Some((work, result)) = waiting.remove(&next) {
            merge(work, result)?;
            let _ = tokens.try_send(());
            next += 1;
        }
    }
    if waiting.is_empty() {
        Ok(())
    } else {
        Err(Error::Internal(format!("block {next} never arrived")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks without end: only a cancel (or the merge stopping) ends it.
    struct Endless;

    impl Producer<()> for Endless {
        fn produce(
            &mut self,
            emit: &mut dyn FnMut(Arc<()>, Vec<u8>, u64, bool) -> bool,
        ) -> Result<()> {
            let source = Arc::new(());
            let mut offset = 0;
            while emit(source.clone(), vec![0; 16], offset, false) {
                offset += 16;
            }
            Ok(())
        }
    }

    #[test]
    fn a_cancel_stops_the_reader_the_workers_and_the_merge() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let cancel = Cancel::default();
        let mut merged = 0u64;
        let outcome = run(
            &pool,
            4,
            &cancel,
            Endless,
            |w: &Work<()>| w.buf.len(),
            |_, _| {
                merged += 1;
                if merged == 10 {
                    cancel.cancel();
                }
                Ok(())
            },
        );
        assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
        assert_eq!(merged, 10);
    }

    #[test]
    fn a_reader_told_to_stop_does_not_pass_for_a_complete_run() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let cancel = Cancel::default();
        cancel.cancel();
        let outcome = run(
            &pool,
            4,
            &cancel,
            Endless,
            |_: &Work<()>| (),
            |_, ()| Ok(()),
        );
        assert!(matches!(outcome, Err(Error::Cancelled)));
    }
}
