//! The parallel pipeline: a reader thread cuts sources into blocks, a Rayon pool works on them,
//! and the calling thread merges the results strictly in block order. At most `in_flight` blocks
//! exist at once, which bounds memory whatever the size of the input.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver};
use std::sync::Arc;

use crate::error::{Error, Result};

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
pub fn run<C, R, P, J, M>(
    pool: &rayon::ThreadPool,
    in_flight: usize,
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
                    if token_rx.recv().is_err() {
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
        let merged = merge_in_order(&result_rx, &token_tx, &mut merge);
        // Unblock and stop the reader if the merge ended early.
        drop(token_tx);
        drop(result_rx);
        let produced = reader
            .join()
            .map_err(|_| Error::Internal("the reader thread panicked".to_owned()))?;
        merged?;
        produced
    })
}

fn merge_in_order<C, R, M>(
    results: &Receiver<(u64, Work<C>, R)>,
    tokens: &std::sync::mpsc::SyncSender<()>,
    merge: &mut M,
) -> Result<()>
where
    M: FnMut(Work<C>, R) -> Result<()>,
{
    let mut waiting: BTreeMap<u64, (Work<C>, R)> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, work, result) in results.iter() {
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
