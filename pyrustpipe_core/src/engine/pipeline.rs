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

/// Hands one block to the pipeline: `(source, buffer, offset, eof)`, see [`Producer::produce`].
pub type Emit<'a, C> = dyn FnMut(Arc<C>, &mut Vec<u8>, u64, bool) -> bool + 'a;

/// Something that cuts sources into blocks, on the reader thread.
pub trait Producer<C>: Send {
    /// Send every block of every source through `emit`, in order. Stop when `emit` fails.
    /// `emit` takes the block's buffer and leaves a spent one in its place (a block the merge is
    /// done with, or an empty one), which the producer fills next instead of a fresh allocation
    /// whose every page the kernel would fault in again.
    fn produce(&mut self, emit: &mut Emit<'_, C>) -> Result<()>;
}

/// Run `job` over every block in parallel and feed the results to `merge` in block order;
/// `merge` gives back the block's buffer (or an empty one if it kept it) for the reader to refill.
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
    M: FnMut(Work<C>, R) -> Result<Vec<u8>>,
{
    // A token is a free slot, and carries the buffer of the block that freed it.
    let (token_tx, token_rx) = sync_channel::<Vec<u8>>(in_flight);
    for _ in 0..in_flight {
        token_tx
            .send(Vec::new())
            .expect("the channel has room for every token");
    }
    let (result_tx, result_rx) = channel::<(u64, Work<C>, R)>();

    std::thread::scope(|scope| -> Result<()> {
        let reader = scope.spawn({
            let result_tx = result_tx.clone();
            let job = job.clone();
            move || -> Result<()> {
                let mut seq = 0u64;
                let mut emit = |source: Arc<C>, buf: &mut Vec<u8>, offset: u64, eof: bool| {
                    // Wait for a free slot; a closed channel means the merge stopped early.
                    if cancel.is_cancelled() {
                        return false;
                    }
                    let Ok(spent) = token_rx.recv() else {
                        return false;
                    };
                    let work = Work {
                        seq,
                        source,
                        buf: std::mem::replace(buf, spent),
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
    tokens: &std::sync::mpsc::SyncSender<Vec<u8>>,
    cancel: &Cancel,
    merge: &mut M,
) -> Result<()>
where
    M: FnMut(Work<C>, R) -> Result<Vec<u8>>,
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
            let spent = merge(work, result)?;
            let _ = tokens.try_send(spent);
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
        fn produce(&mut self, emit: &mut Emit<'_, ()>) -> Result<()> {
            let source = Arc::new(());
            let mut offset = 0;
            while emit(source.clone(), &mut vec![0; 16], offset, false) {
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
                Ok(Vec::new())
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
            |_, ()| Ok(Vec::new()),
        );
        assert!(matches!(outcome, Err(Error::Cancelled)));
    }

    /// Emits `blocks` buffers and keeps what each `emit` leaves in their place.
    struct Recorder {
        blocks: usize,
        /// Buffer addresses, only compared.
        sent: Vec<usize>,
        spent: Vec<usize>,
    }

    impl Producer<()> for &mut Recorder {
        fn produce(&mut self, emit: &mut Emit<'_, ()>) -> Result<()> {
            let source = Arc::new(());
            for offset in 0..self.blocks {
                let mut buf = vec![0u8; 16];
                self.sent.push(buf.as_ptr() as usize);
                if !emit(source.clone(), &mut buf, offset as u64, false) {
                    break;
                }
                self.spent.push(buf.as_ptr() as usize);
            }
            Ok(())
        }
    }

    #[test]
    fn a_merged_blocks_buffer_comes_back_to_the_reader() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut recorder = Recorder {
            blocks: 5,
            sent: Vec::new(),
            spent: Vec::new(),
        };
        run(
            &pool,
            1,
            &Cancel::default(),
            &mut recorder,
            |w: &Work<()>| w.buf.len(),
            |work, _| Ok(work.buf),
        )
        .unwrap();
        // One slot: each block waits for the one before it to be merged, and gets its buffer.
        assert_eq!(recorder.spent.len(), 5);
        assert_eq!(&recorder.spent[1..], &recorder.sent[..4]);
    }
}
