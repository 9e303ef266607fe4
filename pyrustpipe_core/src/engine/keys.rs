//! Run-wide unique keys: each block's key occurrences, grouped by hash partition in its worker,
//! are logged in merge order and resolved after pass 1, one partition per task.
//!
//! A log that outgrows [`FOLD_AT`] occurrences is folded mid-run into lasting per-partition
//! tables, so a long run holds its distinct keys and a bounded log, not an entry per row.
//!
//! Keys of different partitions never meet, and a partition visits the blocks in merge order and
//! each block's entries in row order, so every key meets its occurrences in run order, exactly as
//! one run-wide table would. But one run-wide table, filled on the merge thread, costs a cache miss
//! per key on the one thread that cannot be parallel (about 50 ms per million keys); a
//! partition's table is small enough for the cache, and the partitions run on all the workers.

use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use super::key_table::KeyTable;
use crate::check::KeyEntry;
use crate::report::Sample;
use crate::rules::unique::{FirstSeen, UniqueKey};
use crate::spec::Keep;

/// Occurrences logged before a fold (24 bytes each, 4 more for a row's line, plus the texts of
/// keys longer than 12 bytes: ~400–450 MB of short keys): runs of up to 16M rows per key never
/// fold, and keep no table between blocks.
pub(super) const FOLD_AT: usize = 16 << 20;

const PARTITION_BITS: u32 = 8;
const PARTITIONS: usize = 1 << PARTITION_BITS;

/// The tables hash by a key's low 64 bits; the partition is its top bits.
fn partition_of(hash: u128) -> usize {
    (hash >> (128 - PARTITION_BITS)) as usize
}

/// One block's occurrences of one key, grouped by partition; each group keeps row order.
#[derive(Debug, Default)]
pub struct Grouped {
    entries: Vec<KeyEntry>,
    /// Partition `p`'s entries are `entries[starts[p]..starts[p + 1]]` (empty: no entries).
    starts: Vec<u32>,
}

impl Grouped {
    /// Groups `entries` (in row order) by partition: a stable counting sort.
    pub fn new(entries: &[KeyEntry]) -> Self {
        let Some(&any) = entries.first() else {
            return Grouped::default();
        };
        let mut starts = vec![0u32; PARTITIONS + 1];
        for entry in entries {
            starts[partition_of(entry.hash) + 1] += 1;
        }
        for p in 0..PARTITIONS {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        // The fill is overwritten below, but not wasted: written in order, it brings the
        // buffer's lines into the cache for the scatter (skipping it on a spare buffer of stale
        // entries: 6 instructions a key fewer, 2 ms slower on the typed 1M-row frame).
        let mut grouped = spare_entries(entries.len());
        grouped.resize(entries.len(), any);
        for &entry in entries {
            let at = &mut next[partition_of(entry.hash)];
            grouped[*at as usize] = entry;
            *at += 1;
        }
        Grouped {
            entries: grouped,
            starts,
        }
    }

    fn part(&self, p: usize) -> &[KeyEntry] {
        match self.starts.get(p..p + 2) {
            Some(&[start, end]) => &self.entries[start as usize..end as usize],
            _ => &[],
        }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The entry buffers of logs already resolved, for the next blocks' groups: a run keeps every
/// block's entries to its end, and memory fresh from the system costs a page fault a 4 KiB
/// (~8,200 for a million keys, a tenth of a warm in-memory run's time). The process keeps at
/// most [`SPARE_BYTES`] of them, each of at least [`SPARE_MIN`] entries (128 KiB): smaller ones
/// come back from the allocator's own free lists, and a run of many tiny blocks must not make
/// the list long.
static SPARE: Mutex<Vec<Vec<KeyEntry>>> = Mutex::new(Vec::new());
const SPARE_BYTES: usize = 64 << 20;
const SPARE_MIN: usize = 4096;

/// An empty buffer for `len` entries: the smallest spare one that fits, or a new one.
fn spare_entries(len: usize) -> Vec<KeyEntry> {
    if len < SPARE_MIN {
        return Vec::with_capacity(len);
    }
    let mut spare = SPARE.lock().unwrap_or_else(PoisonError::into_inner);
    let fits = (spare.iter().enumerate())
        .filter(|(_, buffer)| buffer.capacity() >= len)
        .min_by_key(|(_, buffer)| buffer.capacity());
    match fits {
        Some((at, _)) => spare.swap_remove(at),
        None => Vec::with_capacity(len),
    }
}

impl Drop for Grouped {
    fn drop(&mut self) {
        let mut entries = std::mem::take(&mut self.entries);
        if entries.capacity() < SPARE_MIN {
            return;
        }
        let mut spare = SPARE.lock().unwrap_or_else(PoisonError::into_inner);
        let kept: usize = spare.iter().map(Vec::capacity).sum();
        if (kept + entries.capacity()) * std::mem::size_of::<KeyEntry>() <= SPARE_BYTES {
            entries.clear();
            spare.push(entries);
        }
    }
}

/// Where a block's rows are in the run: its first row, its first line, and each of its rows'
/// line offsets from that line (empty: the source has no lines).
#[derive(Debug, Default)]
pub(super) struct BlockPlace {
    pub(super) base: u64,
    pub(super) line_base: u64,
    pub(super) lines: Vec<u32>,
}

impl BlockPlace {
    /// `entry`'s row in the run.
    pub(super) fn row(&self, entry: &KeyEntry) -> u64 {
        self.base + u64::from(entry.row)
    }

    /// `entry`'s line in its source, if the source has lines.
    pub(super) fn line(&self, entry: &KeyEntry) -> Option<u64> {
        (self.lines.get(entry.row as usize)).map(|&line| self.line_base + u64::from(line))
    }
}

/// A block's keys as logged: where its rows are, its entries per key and the texts they point
/// into.
struct LoggedBlock {
    place: BlockPlace,
    keys: Vec<Grouped>,
    text: Vec<u8>,
}

/// The blocks' key occurrences since the last fold, in merge order, and the folded tables.
pub(super) struct KeyLog {
    blocks: Vec<LoggedBlock>,
    /// Occurrences in `blocks`, and how many call for a fold.
    logged: usize,
    fold_at: usize,
    /// Per key, per partition: the keys folded so far (empty until the first fold).
    tables: Vec<Vec<KeyTable>>,
}

/// An occurrence that fails its key's rule: a repeat, or (`keep="none"`) the first occurrence of
/// a key that repeats. `repeat` is the repeating occurrence (its text is the same key's).
#[derive(Debug, Clone, Copy)]
pub(super) struct KeyFailure {
    pub(super) row: u64,
    pub(super) line: Option<u64>,
    pub(super) first: bool,
    block: u32,
    /// The repeating occurrence as its block logged it.
    repeat: KeyEntry,
}

/// One key's resolution: its failing occurrences (in no particular order) and, when asked for,
/// each distinct key with where it was first seen.
pub(super) struct Resolved {
    pub(super) failures: Vec<KeyFailure>,
    pub(super) first_seen: Vec<(u128, FirstSeen)>,
}

impl KeyLog {
    pub(super) fn new(fold_at: usize) -> Self {
        KeyLog {
            blocks: Vec::new(),
            logged: 0,
            fold_at,
            tables: Vec::new(),
        }
    }

    /// Logs a block whose rows are at `place`; `keys` has one `Grouped` per unique key (or none
    /// at all). True when the log is due for a fold.
    pub(super) fn push(&mut self, place: BlockPlace, keys: Vec<Grouped>, text: Vec<u8>) -> bool {
        if keys.iter().all(Grouped::is_empty) {
            return false;
        }
        self.logged += keys.iter().map(|k| k.entries.len()).sum::<usize>();
        self.blocks.push(LoggedBlock { place, keys, text });
        self.logged >= self.fold_at
    }

    /// Forgets the logged blocks (once every key is resolved and its samples are taken).
    pub(super) fn clear_blocks(&mut self) {
        self.blocks.clear();
        self.logged = 0;
    }

    /// The text of a failing occurrence, as logged (or as its hash keeps it).
    pub(super) fn text(&self, failure: &KeyFailure) -> std::borrow::Cow<'_, [u8]> {
        failure
            .repeat
            .text_in(&self.blocks[failure.block as usize].text)
    }

    /// Folds the log's occurrences of key number `index` (`key`) into its tables, partition by
    /// partition (on `pool`, or on this thread); the `last` fold releases each table when done,
    /// after listing its keys if `keep_first_seen`.
    pub(super) fn resolve(
        &mut self,
        pool: Option<&rayon::ThreadPool>,
        index: usize,
        key: &UniqueKey,
        last: bool,
        keep_first_seen: bool,
    ) -> Resolved {
        if self.tables.len() <= index {
            self.tables.resize_with(index + 1, Vec::new);
        }
        let tables = &mut self.tables[index];
        if tables.is_empty() {
            tables.resize_with(PARTITIONS, KeyTable::default);
        }
        let blocks = &self.blocks;
        let work = |(p, table): (usize, &mut KeyTable)| {
            let part = resolve_part(blocks, table, index, key.keep, p);
            let first_seen = if last && keep_first_seen {
                table.iter().collect()
            } else {
                Vec::new()
            };
            if last {
                *table = KeyTable::default();
            }
            Resolved {
                failures: part,
                first_seen,
            }
        };
        let parts: Vec<Resolved> = match pool {
            Some(pool) => pool.install(|| tables.par_iter_mut().enumerate().map(work).collect()),
            None => tables.iter_mut().enumerate().map(work).collect(),
        };
        let mut resolved = Resolved {
            failures: Vec::new(),
            first_seen: Vec::new(),
        };
        for part in parts {
            resolved.failures.extend(part.failures);
            resolved.first_seen.extend(part.first_seen);
        }
        resolved
    }
}

/// Partition `p` of key number `index`: each logged occurrence meets `table` in run order; gives
/// the failing ones.
fn resolve_part(
    blocks: &[LoggedBlock],
    table: &mut KeyTable,
    index: usize,
    keep: Keep,
    p: usize,
) -> Vec<KeyFailure> {
    let count = blocks
        .iter()
        .filter_map(|b| b.keys.get(index))
        .map(|keys| keys.part(p).len())
        .sum();
    table.reserve(count);
    let mut failures = Vec::new();
    for (block_index, block) in blocks.iter().enumerate() {
        let Some(keys) = block.keys.get(index) else {
            continue;
        };
        let place = &block.place;
        table.meet(keys.part(p), place, |entry, first| {
            let failure = |row, line, first| KeyFailure {
                row,
                line,
                first,
                block: crate::check::as_u32(block_index),
                repeat: *entry,
            };
            failures.push(failure(place.row(entry), place.line(entry), false));
            if keep == Keep::None && !first.repeated() {
                failures.push(failure(first.row(), first.line(), true));
            }
        });
    }
    failures
}

/// The `limit` failures with the smallest rows, in row order (the samples worth building).
pub(super) fn first_rows(failures: &mut [KeyFailure], limit: usize) -> &[KeyFailure] {
    let limit = limit.min(failures.len());
    if limit < failures.len() {
        failures.select_nth_unstable_by_key(limit, |f| f.row);
    }
    let head = &mut failures[..limit];
    head.sort_unstable_by_key(|f| f.row);
    head
}

/// A key rule's sample for `failure`: `source` and `source_row` locate its row.
pub(super) fn sample(
    failure: &KeyFailure,
    (source, source_row): (String, u64),
    column: Option<String>,
    value: String,
) -> Sample {
    Sample {
        row: source_row,
        line: failure.line,
        source,
        column,
        value: Some(value),
        message: if failure.first {
            "key occurs more than once"
        } else {
            "repeats a key seen before"
        }
        .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// A failure as compared: (row, line, first occurrence, text).
    type Seen = (u64, Option<u64>, bool, Vec<u8>);
    /// A distinct key as compared: (hash, first row, its line, repeated).
    type First = (u128, u64, Option<u64>, bool);

    /// A block as logged: (first row, first line, its rows' line offsets, entries, texts).
    type Block = (u64, u64, Vec<u32>, Vec<KeyEntry>, Vec<u8>);

    /// `keys` (one key per row) cut into blocks of `sizes` rows; a row's line is `2 * row`
    /// within its block (`None` every seventh block, as a Parquet source has no lines); every
    /// third block logs no texts, its short keys' hashes keeping them.
    fn blocks_of(keys: &[u16], sizes: &[usize]) -> Vec<Block> {
        let mut blocks = Vec::new();
        let mut start = 0;
        while start < keys.len() {
            let size = sizes[blocks.len() % sizes.len()].min(keys.len() - start);
            let mut text = Vec::new();
            let no_lines = blocks.len() % 7 == 6;
            let no_texts = blocks.len() % 3 == 2;
            let lines = if no_lines {
                Vec::new()
            } else {
                (0..size as u32).map(|row| 2 * row).collect()
            };
            let entries: Vec<KeyEntry> = keys[start..start + size]
                .iter()
                .enumerate()
                .map(|(row, key)| {
                    let key = format!("k{key}");
                    let hash = crate::rules::unique::key_hash(key.as_bytes());
                    if no_texts {
                        return KeyEntry::short_text(hash, row as u32);
                    }
                    let at = crate::check::key_text::append(&mut text, |text| {
                        text.extend_from_slice(key.as_bytes());
                    });
                    KeyEntry::new(hash, row, at)
                })
                .collect();
            blocks.push((start as u64, 10 * start as u64, lines, entries, text));
            start += size;
        }
        blocks
    }

    /// What one run-wide table, filled in row order, finds (the merge before partitions).
    fn one_table(blocks: &[Block], keep: Keep) -> (Vec<Seen>, Vec<First>) {
        let mut table: HashMap<u128, FirstSeen> = HashMap::new();
        let mut failures = Vec::new();
        for (base, line_base, lines, entries, text) in blocks {
            for entry in entries {
                let row = base + u64::from(entry.row);
                let line = (lines.get(entry.row as usize)).map(|&l| line_base + u64::from(l));
                let text = entry.text_in(text).to_vec();
                let hash = entry.hash;
                match table.get_mut(&hash) {
                    None => {
                        table.insert(hash, FirstSeen::new(row, line));
                    }
                    Some(first) => {
                        failures.push((row, line, false, text.clone()));
                        if keep == Keep::None && !first.repeated() {
                            failures.push((first.row(), first.line(), true, text));
                        }
                        first.mark_repeated();
                    }
                }
            }
        }
        let mut seen: Vec<_> = table
            .into_iter()
            .map(|(hash, s)| (hash, s.row(), s.line(), s.repeated()))
            .collect();
        seen.sort_unstable();
        failures.sort();
        (failures, seen)
    }

    /// The failures `resolved` found, with their texts (before the log forgets them).
    fn seen(log: &KeyLog, resolved: &Resolved) -> Vec<Seen> {
        resolved
            .failures
            .iter()
            .map(|f| (f.row, f.line, f.first, log.text(f).to_vec()))
            .collect()
    }

    proptest! {
        #[test]
        fn grouping_keeps_every_entry_in_its_partition_in_row_order(
            hashes in prop::collection::vec(any::<u128>(), 0..600),
        ) {
            let entries: Vec<KeyEntry> = hashes
                .iter()
                .enumerate()
                .map(|(row, &hash)| KeyEntry::short_text(hash, row as u32))
                .collect();
            let grouped = Grouped::new(&entries);
            let mut rows = Vec::new();
            for p in 0..PARTITIONS {
                let part = grouped.part(p);
                prop_assert!(part.iter().all(|e| partition_of(e.hash) == p));
                prop_assert!(part.windows(2).all(|w| w[0].row < w[1].row));
                rows.extend(part.iter().map(|e| (e.row, e.hash)));
            }
            rows.sort_unstable();
            let expected: Vec<(u32, u128)> =
                entries.iter().map(|e| (e.row, e.hash)).collect();
            prop_assert_eq!(rows, expected);
        }

        /// Resolving partition by partition, on two threads, with the log folded into the
        /// tables whenever it reaches `fold_at` occurrences, finds what one table filled in row
        /// order finds: the same failing rows, lines, kinds and texts, the same first sightings.
        #[test]
        fn partitions_find_what_one_table_finds(
            keys in prop::collection::vec(0u16..40, 0..400),
            sizes in prop::collection::vec(1usize..90, 1..5),
            fold_at in prop_oneof![Just(usize::MAX), 1usize..300],
            keep_none in any::<bool>(),
        ) {
            let keep = if keep_none { Keep::None } else { Keep::First };
            let blocks = blocks_of(&keys, &sizes);
            let key = UniqueKey { rule: 3, columns: vec![0], keep };
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
            let mut log = KeyLog::new(fold_at);
            let mut failures = Vec::new();
            for (base, line_base, lines, entries, text) in blocks.clone() {
                let place = BlockPlace { base, line_base, lines };
                if log.push(place, vec![Grouped::new(&entries)], text) {
                    let resolved = log.resolve(None, 0, &key, false, false);
                    failures.extend(seen(&log, &resolved));
                    log.clear_blocks();
                }
            }
            let resolved = log.resolve(Some(&pool), 0, &key, true, true);
            failures.extend(seen(&log, &resolved));
            failures.sort();
            let mut first_seen: Vec<First> = resolved
                .first_seen
                .iter()
                .map(|(hash, s)| (*hash, s.row(), s.line(), s.repeated()))
                .collect();
            first_seen.sort_unstable();
            prop_assert_eq!((failures, first_seen), one_table(&blocks, keep));
        }
    }

    #[test]
    fn the_first_rows_are_the_smallest_in_order() {
        let failure = |row| KeyFailure {
            row,
            line: None,
            first: false,
            block: 0,
            repeat: KeyEntry::short_text(0, 0),
        };
        let mut failures: Vec<KeyFailure> = [9, 2, 7, 4, 1].into_iter().map(failure).collect();
        let rows = |f: &[KeyFailure]| f.iter().map(|f| f.row).collect::<Vec<_>>();
        assert_eq!(rows(first_rows(&mut failures, 3)), [1, 2, 4]);
        assert_eq!(rows(first_rows(&mut failures, 9)), [1, 2, 4, 7, 9]);
        assert_eq!(rows(first_rows(&mut failures, 0)), Vec::<u64>::new());
    }
}
