//! The check loop shared by every format: a block's rows arrive as text spans per plan column;
//! this module parses them, runs the column checks (a column of a chunk of rows at a time), then
//! row rules and key hashing (a row at a time, or a column at a time for columns read in place:
//! `row_whole`), and keeps per-block counts, first samples and failing rows. It runs inside
//! worker threads and touches no shared state.

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayAccessor, ArrayRef, GenericStringArray, OffsetSizeTrait};
use arrow_schema::DataType;

use crate::formats::typed::native_reader;
use crate::ledger::sketch::Sketch;
use crate::plan::{ColumnPlan, Plan, SourceLayout};
use crate::rules::dataset::{ColumnStats, Gather};
use crate::rules::fixed_pattern::SixteenLanes;
use crate::rules::{ColumnCheck, RuleId};
use crate::value::{sample_text, type_failure_message, Cell, Native, TypeParser, Value};
use clean::CleanPrefix;

mod bits;
mod cells;
mod clean;
mod dictionary;
mod floats;
mod ints;
pub mod key_text;
mod row_batches;
mod row_whole;
mod views;

/// Where a row's text for one plan column sits.
#[derive(Debug, Clone, Copy)]
pub enum TextRef {
    Absent,
    /// A null that has no text (a JSON `null` or missing key, an Arrow null).
    Null,
    Buf(u32, u32),
    Arena(u32, u32),
}

/// A block's rows, as text spans per plan column (`rows × width`; none at all when every column
/// is read in place).
#[derive(Debug, Default)]
pub struct Rows {
    pub width: usize,
    pub texts: Vec<TextRef>,
    /// How many rows there are.
    count: usize,
    /// Line offset of each row's start from the block's first line; empty when the source has
    /// no lines (Parquet, Arrow), so a typed row costs nothing here.
    lines: Vec<u64>,
    /// The rows the reader could not split into fields, ascending, each with why (rare: a row
    /// that splits costs nothing here).
    broken: Vec<(usize, Broken)>,
    pub arena: Vec<u8>,
    /// Typed columns read where they lie: their `texts` stay `Absent`.
    pub in_place: Vec<InPlace>,
}

/// Rows `first..first + array.len()` of plan column `column`, read from an Arrow array itself
/// (a `str` column's strings, or values `formats::typed::native_column` reads), not copied.
#[derive(Debug, Clone)]
pub struct InPlace {
    pub column: usize,
    pub first: usize,
    pub array: ArrayRef,
    /// The dictionary of strings `array`'s views were read from, if any: its checks are
    /// decided once a value (`check/dictionary.rs`).
    pub dictionary: Option<ArrayRef>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a row of a text source, starting at line offset `line`.
    pub fn push_line(&mut self, line: u64) {
        debug_assert_eq!(
            self.lines.len(),
            self.count,
            "rows with lines and rows without"
        );
        self.lines.push(line);
        self.count += 1;
    }

    /// Adds `count` rows of a source without lines (Parquet, Arrow).
    pub fn push_unlined(&mut self, count: usize) {
        debug_assert!(self.lines.is_empty(), "rows with lines and rows without");
        self.count += count;
    }

    /// Marks the last row added as one the reader could not split into fields.
    pub fn break_last(&mut self, broken: Broken) {
        self.broken.push((self.count - 1, broken));
    }

    /// Whether the rows have lines (a text source's do; Parquet's and Arrow's do not).
    pub fn have_lines(&self) -> bool {
        !self.lines.is_empty()
    }

    /// Row `row`'s line offset from the block's first line (`None`: no lines).
    pub fn line(&self, row: usize) -> Option<u64> {
        self.lines.get(row).copied()
    }

    /// Each row's line offset as a `u32` (none when the rows have no lines), for
    /// `BlockFindings::key_lines`.
    pub fn key_lines(&self) -> impl Iterator<Item = u32> + '_ {
        (self.lines.iter()).map(|&line| u32::try_from(line).expect("blocks are smaller than 4 GiB"))
    }

    /// Why row `row` could not be split into fields, if it could not.
    pub fn broken(&self, row: usize) -> Option<&Broken> {
        if self.broken.is_empty() {
            return None;
        }
        let at = self.broken.partition_point(|&(r, _)| r < row);
        self.broken
            .get(at)
            .filter(|&&(r, _)| r == row)
            .map(|(_, broken)| broken)
    }

    /// Whether any of `rows` could not be split into fields.
    pub fn any_broken_in(&self, rows: std::ops::Range<usize>) -> bool {
        let at = self.broken.partition_point(|&(r, _)| r < rows.start);
        self.broken.get(at).is_some_and(|&(r, _)| r < rows.end)
    }

    /// Empty, keeping the allocations for the next block.
    pub fn clear(&mut self) {
        self.texts.clear();
        self.count = 0;
        self.lines.clear();
        self.broken.clear();
        self.arena.clear();
        self.in_place.clear();
    }
}

/// A record the reader could not turn into fields; the row fails a `row:` rule and nothing else.
#[derive(Debug, Clone)]
pub enum Broken {
    /// A CSV record whose field count is not the header's.
    FieldCount(usize),
    /// An NDJSON line that is not a JSON object.
    Malformed(String),
    /// A CSV record that strict mode (`csv.strict`) rejects: `code` is stable
    /// (`csv:bare_quote`, `csv:text_after_quote`), `field` the 0-based offending field.
    Csv { code: &'static str, field: usize },
}

/// A sample before its block's position in the run is known.
#[derive(Debug, Clone)]
pub struct LocalSample {
    pub row: u64,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

/// One key occurrence, hashed in the worker: its hash, its block-local row and where its display
/// text is. A run keeps every unique key's occurrences until its end, and each is written,
/// grouped and read again on the way: the entry is 24 bytes, packed to an 8-byte alignment (a
/// `u128` would align it to 16, and make it 32), and a row's line is the block's
/// (`BlockFindings::key_lines`), not the entry's. Against 32-byte entries: the typed 1M-row
/// frame 350 → 340 instructions a row, ~0.5 ms of its 16 ms, 1,000 fewer page faults for a 1M-row
/// CSV.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(8))]
pub struct KeyEntry {
    pub hash: u128,
    pub row: u32,
    /// Where the key's text starts in the block's `key_text` (`key_text::append`), or
    /// `TEXT_IN_HASH`.
    text: u32,
}

/// `KeyEntry::text` of a key whose text is its hash's, and of an `int` key whose text is its
/// value's decimal, the value its hash's.
const TEXT_IN_HASH: u32 = u32::MAX;
const INT_IN_HASH: u32 = u32::MAX - 1;
const _: () = assert!(std::mem::size_of::<KeyEntry>() == 24);

impl KeyEntry {
    /// An occurrence at block row `row` whose text `key_text::append` wrote at `text`.
    pub fn new(hash: u128, row: usize, text: u32) -> Self {
        KeyEntry {
            hash,
            row: as_u32(row),
            text,
        }
    }

    /// An occurrence of a `str` key of at most `SHORT_KEY` bytes, hashed by
    /// `unique::key_hash`: its text is its hash's (`unique::short_key_text`), none is logged.
    pub fn short_text(hash: u128, row: u32) -> Self {
        KeyEntry {
            hash,
            row,
            text: TEXT_IN_HASH,
        }
    }

    /// An occurrence of an `int` key written as its value's decimal (no `+`, no leading zero):
    /// its text is its value's, and the value its hash's (`unique::int_key_text`).
    pub fn int_text(hash: u128, row: u32) -> Self {
        KeyEntry {
            hash,
            row,
            text: INT_IN_HASH,
        }
    }

    /// The key's text: as `key_text::append` wrote it in the block's `key_text`, or its hash's
    /// (`KeyEntry::short_text`, `KeyEntry::int_text`).
    pub fn text_in<'t>(&self, key_text: &'t [u8]) -> std::borrow::Cow<'t, [u8]> {
        match self.text {
            TEXT_IN_HASH => crate::rules::unique::short_key_text(self.hash).into(),
            INT_IN_HASH => (crate::rules::unique::int_key_text(self.hash))
                .expect("an int key's hash")
                .into(),
            start => key_text::at(key_text, start).into(),
        }
    }
}

/// Where a column loop writes: the chunk's cells, its failures `(row, rule)`, the findings.
type PlainOut<'o, 'a> = (
    &'o mut [Cell<'a>],
    &'o mut Vec<(u32, RuleId)>,
    &'o mut BlockFindings,
);

/// What checking one block found.
#[derive(Debug, Default)]
pub struct BlockFindings {
    pub rows: u64,
    pub counts: Vec<u64>,
    pub samples: Vec<Vec<LocalSample>>,
    /// Per rule, whether this block takes samples of it (false once the blocks before it hold
    /// enough: the merge would drop them).
    pub sampled: Vec<bool>,
    /// Rows (block-local, 0-based) that failed at least one rule, in order; their rules are
    /// `failed_rules[failure_starts[i]..failure_starts[i + 1]]`.
    pub failed_rows: Vec<u32>,
    pub failure_starts: Vec<u32>,
    pub failed_rules: Vec<RuleId>,
    pub keys: Vec<Vec<KeyEntry>>,
    /// Per row-level history check: each row's value (64-bit hash and text).
    pub history_keys: Vec<Vec<KeyEntry>>,
    /// The texts `keys` and `history_keys` point into (`key_text::append`).
    pub key_text: Vec<u8>,
    /// Where each row of the block starts, as a line offset from its first line, for its keys'
    /// samples and first sightings (empty where there are no keys, or no lines).
    pub key_lines: Vec<u32>,
    pub distinct: Vec<Vec<u128>>,
    pub stats: Vec<ColumnStats>,
    /// Field names seen in rows that the schema does not name (NDJSON with `strict`).
    pub unknown_columns: std::collections::BTreeSet<String>,
}

impl BlockFindings {
    pub fn new(plan: &Plan) -> Self {
        BlockFindings {
            rows: 0,
            counts: vec![0; plan.rules.len()],
            samples: vec![Vec::new(); plan.rules.len()],
            sampled: vec![true; plan.rules.len()],
            failed_rows: Vec::new(),
            failure_starts: vec![0],
            failed_rules: Vec::new(),
            keys: vec![Vec::new(); plan.unique_keys.len()],
            history_keys: vec![Vec::new(); plan.history_keys.len()],
            key_text: Vec::new(),
            key_lines: Vec::new(),
            distinct: vec![Vec::new(); plan.distinct_columns.len()],
            stats: vec![ColumnStats::default(); plan.columns.len()],
            unknown_columns: std::collections::BTreeSet::new(),
        }
    }

    pub fn rules_of(&self, index: usize) -> &[RuleId] {
        let start = self.failure_starts[index] as usize;
        let end = self.failure_starts[index + 1] as usize;
        &self.failed_rules[start..end]
    }
}

/// Rows are checked a chunk at a time: first each column of the chunk in one pass (the same
/// parser, null test and checks for every cell, and nothing at all for a valid `str` value that
/// nothing reads), then each row of the chunk for what spans columns (row rules, keys). Only the
/// cells the row pass reads are kept. 32 rows keep a chunk's text spans and field bytes in the
/// L1 cache between column passes: under callgrind's cache model (100k-row benchmark CSV) 32 rows
/// had 0.8% more L1 misses than 16, 2.6% fewer mispredicted branches and fewer instructions, and
/// ran ~3% faster on one thread; 64 rows had 6% more misses; 256 rows with every cell kept (an
/// older loop) 1.8× the misses, and ran slower.
const CHUNK: usize = 32;

/// Rows of a typed unit (Parquet, Arrow) checked at a time: their `TextRef`s (12 bytes a cell)
/// stay in the cache between the reading and the checking, where a whole 64K-row unit's are
/// ~8 MB and a whole row group's ~13 MB per 100K rows.
pub const TYPED_SLICE_ROWS: usize = 8 * 1024;

/// Check every row of `rows`, which are the block's rows from `first_row` on (the block's row
/// numbers are what `out` records).
pub fn check_rows(
    plan: &Plan,
    layout: &SourceLayout,
    buf: &[u8],
    (rows, first_row): (&Rows, usize),
    sample_size: usize,
    out: &mut BlockFindings,
) {
    let block = Block::new(plan, layout, buf, rows, first_row, sample_size);
    let width = plan.columns.len();
    // The chunk's cells, row by row; only the columns the row pass reads are written.
    let mut cells: Vec<Cell<'_>> = vec![Cell::Absent; CHUNK * width.max(1)];
    // Each column pass's failures, as (row, rule); sorted by row (stably, so a row's rules keep
    // column order, then check order) for the row pass.
    let mut column_failures: Vec<(u32, RuleId)> = Vec::new();
    let mut row_failed: Vec<RuleId> = Vec::new();
    // A column read in place is checked whole, first; its failures (in row order) join each
    // chunk's at the column's turn, so a row's rules keep their order, and the row pass reads
    // its cells back from its arrays (`fill_cells`).
    let whole: Vec<Option<Vec<(u32, RuleId)>>> = (0..width)
        .map(|index| block.check_whole(index, out))
        .collect();
    // Then the row rules and keys its columns allow, whole too (`row_whole`); when they are
    // all the row pass had to do, what is left is joining each row's failures.
    let whole_rules = block.check_rows_whole(out);
    if !block.row_pass_needed() && whole.iter().all(Option::is_some) {
        block.join_failures(whole.into_iter().flatten().collect(), &whole_rules, out);
        out.rows += rows.len() as u64;
        return;
    }
    let mut scratch = Scratch {
        whole_rules,
        ..Scratch::default()
    };
    let mut whole_next = vec![0usize; width];
    for start in (0..rows.len()).step_by(CHUNK) {
        let chunk = start..(start + CHUNK).min(rows.len());
        let any_broken = rows.any_broken_in(chunk.clone());
        column_failures.clear();
        for index in 0..width {
            if let Some(found) = &whole[index] {
                let next = &mut whole_next[index];
                while let Some(&failure) = found.get(*next) {
                    if failure.0 as usize >= chunk.end {
                        break;
                    }
                    column_failures.push(failure);
                    *next += 1;
                }
                if block.row_read[index] {
                    block.fill_cells(index, chunk.clone(), &mut cells);
                }
                continue;
            }
            block.check_column(
                index,
                chunk.clone(),
                any_broken,
                &mut cells,
                &mut column_failures,
                out,
            );
        }
        column_failures.sort_by_key(|&(row, _)| row);
        let mut failures = column_failures.iter().peekable();
        for (row_cells, row) in cells.chunks_exact(width.max(1)).zip(chunk) {
            row_failed.clear();
            while let Some(&&(failed_row, rule)) = failures.peek() {
                if failed_row as usize != row {
                    break;
                }
                row_failed.push(rule);
                failures.next();
            }
            block.check_row(row, row_cells, &mut row_failed, &mut scratch, out);
        }
    }
    out.rows += rows.len() as u64;
}

/// Reusable buffers of one block's check.
#[derive(Default)]
struct Scratch {
    key: Vec<u8>,
    /// The row rules done whole, and how far their failures are joined to rows.
    whole_rules: row_whole::WholeRuleRows,
}

/// An array read in place; for strings, with the proven (`Proven`) bytes of each of its value
/// buffers: a value inside them is a valid `str` without a byte loop of its own.
struct InPlaceRead<'a> {
    part: &'a InPlace,
    /// Found when first asked: a view column whose first check proves its values (an `isin`,
    /// a fixed pattern) never asks, and finding them reads every view and long value once.
    proven: std::cell::OnceCell<Vec<Proven<'a>>>,
    /// A dictionary column's keys and values, found when first asked.
    dictionary: std::cell::OnceCell<Option<dictionary::DictionaryRows>>,
}

impl<'a> InPlaceRead<'a> {
    fn new(part: &'a InPlace) -> Self {
        InPlaceRead {
            part,
            proven: std::cell::OnceCell::new(),
            dictionary: std::cell::OnceCell::new(),
        }
    }

    /// The rows as keys into a dictionary of strings (none: not read from one).
    fn dictionary(&self) -> Option<&dictionary::DictionaryRows> {
        let of = || (self.part.dictionary.as_ref()).and_then(dictionary::DictionaryRows::of);
        self.dictionary.get_or_init(of).as_ref()
    }

    /// The proven bytes of each of the array's value buffers (none: not a string array).
    fn proven(&self) -> &[Proven<'a>] {
        self.proven.get_or_init(|| {
            let array = &self.part.array;
            match array.data_type() {
                DataType::Utf8 => vec![offsets_proven(array.as_string::<i32>())],
                DataType::LargeUtf8 => vec![offsets_proven(array.as_string::<i64>())],
                DataType::Utf8View => views_proven(array.as_string_view()),
                _ => Vec::new(),
            }
        })
    }

    /// The block's rows this part holds, within `rows`.
    fn rows_within(&self, rows: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let part = self.part;
        rows.start.max(part.first)..rows.end.min(part.first + part.array.len())
    }
}

/// The proven prefix of a value buffer's bytes from offset `from` on. A unit of work is a slice
/// of its table's arrays and shares their buffers, so only the bytes the slice's own values
/// span are examined: the whole buffer, once per slice, made a frame's check quadratic.
#[derive(Clone, Copy, Default)]
struct Proven<'a> {
    from: usize,
    clean: CleanPrefix<'a>,
}

impl Proven<'_> {
    /// Whether `start..end` of the buffer is a valid `str` value.
    #[inline(always)]
    fn holds(self, start: usize, end: usize) -> bool {
        start >= self.from && self.clean.holds(start - self.from, end - self.from)
    }
}

/// The proven bytes of an offset string array's values (its first value's start to its last
/// value's end).
fn offsets_proven<O: OffsetSizeTrait>(strings: &GenericStringArray<O>) -> Proven<'_> {
    let offsets = strings.value_offsets();
    let (from, end) = (offsets[0].as_usize(), offsets[strings.len()].as_usize());
    Proven {
        from,
        clean: CleanPrefix::of(&strings.value_data()[from..end]),
    }
}

/// A string view's `(buffer, offset, length)` when its value lies in a data buffer (longer
/// than the 12 bytes a view inlines); `None` for an inlined value.
fn long_view(view: u128) -> Option<(usize, usize, usize)> {
    let len = view as u32 as usize;
    let (buffer, offset) = ((view >> 64) as u32 as usize, (view >> 96) as u32 as usize);
    (len > 12).then_some((buffer, offset, len))
}

/// Per data buffer of a view array: the proven bytes between the first start and the last end
/// of the long (not inlined) values its views point at there.
fn views_proven(strings: &arrow_array::StringViewArray) -> Vec<Proven<'_>> {
    let buffers = strings.data_buffers();
    if buffers.is_empty() {
        // Every value inlined in its view (polars' short strings): no long value to prove.
        return Vec::new();
    }
    let mut spans = vec![(usize::MAX, 0usize); buffers.len()];
    let mut widen = |buffer: usize, (from, end): (usize, usize)| {
        if let Some(span) = spans.get_mut(buffer) {
            *span = (span.0.min(from), span.1.max(end));
        }
    };
    // Consecutive long values mostly share a buffer: the current buffer's span is kept at hand
    // and written when the buffer changes.
    let mut run = (usize::MAX, (usize::MAX, 0usize));
    for &view in strings.views().iter() {
        if let Some((buffer, offset, len)) = long_view(view) {
            if buffer != run.0 {
                widen(run.0, run.1);
                run = (buffer, (usize::MAX, 0));
            }
            run.1 = (run.1 .0.min(offset), run.1 .1.max(offset + len));
        }
    }
    widen(run.0, run.1);
    buffers
        .iter()
        .zip(spans)
        .map(|(buffer, (from, end))| {
            let bytes = buffer.as_slice();
            if from >= end || end > bytes.len() {
                return Proven::default();
            }
            Proven {
                from,
                clean: CleanPrefix::of(&bytes[from..end]),
            }
        })
        .collect()
}

/// Whether value `at` of an offset string array lies in its proven bytes.
fn within_offsets<O: OffsetSizeTrait>(
    strings: &GenericStringArray<O>,
    proven: Proven<'_>,
    at: usize,
) -> bool {
    let offsets = strings.value_offsets();
    proven.holds(offsets[at].as_usize(), offsets[at + 1].as_usize())
}

/// One block's check: the plan, the block's text, and what is decided once per block.
struct Block<'a> {
    plan: &'a Plan,
    layout: &'a SourceLayout,
    buf: &'a [u8],
    rows: &'a Rows,
    /// The block's row number of `rows`' first row.
    first_row: usize,
    sample_size: usize,
    /// Each column's parser: the ISO one for typed temporal sources.
    parsers: Vec<&'a TypeParser>,
    /// Whether a null marker other than the empty text exists: only then can a non-empty text,
    /// or a typed value's text, be a null.
    text_nulls: bool,
    /// `str` cells are proven valid by one pass over the block's text, not a byte loop each.
    clean_buf: CleanPrefix<'a>,
    clean_arena: CleanPrefix<'a>,
    /// Per column: whether the row pass reads its cells (row rules and keys not done whole,
    /// history, distinct counts).
    row_read: Vec<bool>,
    /// Per row rule: its columns' parts when it is done a column or a batch of rows at a time
    /// (`row_whole`), not per row.
    rules_whole: Vec<Option<row_whole::WholeRule<'a>>>,
    /// Per unique key: logged a column at a time (`row_whole`), not per row.
    keys_whole: Vec<bool>,
    /// The rows that are not values of a string-view part of a key logged whole, as its check
    /// found them (`check_views_by_check`): the key's log reads them instead of judging each
    /// view again. Each is `(column, first block row, one word per 64 rows)`.
    key_view_skips: std::cell::RefCell<Vec<(usize, usize, Vec<u64>)>>,
    /// Whether a row of the block is a broken record.
    any_broken: bool,
    /// Per column: nothing reads its valid values (no checks, statistics, sketch or row pass)
    /// and a non-empty text cannot be a null marker; only a null or a text its type rejects
    /// does anything, so its texts need only be proven values of its type (`prove_texts`).
    values_unread: Vec<bool>,
    /// Per column: the Arrow arrays its rows are read from (empty: `texts` holds them).
    in_place: Vec<Vec<InPlaceRead<'a>>>,
    /// Per column: whether its in-place arrays hold all the rows (a column read in place in one
    /// batch of a block can take the text path in another).
    all_in_place: Vec<bool>,
    /// A source without a declared column does not match the schema: none of its rows may flow
    /// on as valid, so each carries the (per-source) schema rule without counting it again.
    source_mismatch: bool,
}

impl<'a> Block<'a> {
    fn new(
        plan: &'a Plan,
        layout: &'a SourceLayout,
        buf: &'a [u8],
        rows: &'a Rows,
        first_row: usize,
        sample_size: usize,
    ) -> Self {
        let parsers: Vec<&TypeParser> = plan
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                if layout.iso_text[index] {
                    &plan.iso_parsers[index]
                } else {
                    &column.parser
                }
            })
            .collect();
        let any_str = parsers.iter().any(|p| matches!(p, TypeParser::Str));
        let (clean_buf, clean_arena) = if any_str {
            (CleanPrefix::of(buf), CleanPrefix::of(&rows.arena))
        } else {
            (CleanPrefix::default(), CleanPrefix::default())
        };
        let mut in_place: Vec<Vec<InPlaceRead<'a>>> = std::iter::repeat_with(Vec::new)
            .take(plan.columns.len())
            .collect();
        let mut held = vec![0usize; plan.columns.len()];
        for part in &rows.in_place {
            in_place[part.column].push(InPlaceRead::new(part));
            held[part.column] += part.array.len();
        }
        let all_in_place = held.iter().map(|&n| n == rows.len()).collect();
        let text_nulls = plan.null_values.iter().any(|marker| !marker.is_empty());
        let mut block = Block {
            plan,
            layout,
            buf,
            rows,
            first_row,
            sample_size,
            parsers,
            text_nulls,
            clean_buf,
            clean_arena,
            row_read: Vec::new(),
            rules_whole: Vec::new(),
            keys_whole: Vec::new(),
            key_view_skips: std::cell::RefCell::default(),
            any_broken: rows.any_broken_in(0..rows.len()),
            values_unread: Vec::new(),
            in_place,
            all_in_place,
            source_mismatch: !layout.missing.is_empty(),
        };
        block.rules_whole = block.rules_done_whole();
        block.keys_whole = block.keys_done_whole();
        let row_read = row_read_columns(
            plan,
            |rule| block.rules_whole[rule].is_some(),
            |key| block.keys_whole[key],
        );
        block.values_unread = plan
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                column.checks.is_empty()
                    && plan.stats_columns[index] == Gather::Nothing
                    && plan.sketches[index] == Sketch::Nothing
                    && !row_read[index]
                    && !text_nulls
            })
            .collect();
        block.row_read = row_read;
        block
    }

    /// The text a span points at (empty for a null or an absent column).
    fn text(&self, text_ref: TextRef) -> &'a [u8] {
        match text_ref {
            TextRef::Buf(s, e) => &self.buf[s as usize..e as usize],
            TextRef::Arena(s, e) => &self.rows.arena[s as usize..e as usize],
            TextRef::Absent | TextRef::Null => &[],
        }
    }

    fn text_ref(&self, row: usize, column: usize) -> TextRef {
        self.rows.texts[row * self.rows.width + column]
    }

    /// Whether a failure of `rule` now would be sampled (else only counted).
    #[inline(always)]
    fn samples(&self, out: &BlockFindings, rule: RuleId) -> bool {
        out.sampled[rule as usize] && out.samples[rule as usize].len() < self.sample_size
    }

    /// Counts one failure of `rule` and keeps it as a sample while the rule has room;
    /// `message` gets the sensitive column's token to show in place of the value.
    fn fail(
        &self,
        out: &mut BlockFindings,
        rule: RuleId,
        row: usize,
        column: Option<&ColumnPlan>,
        text: Option<&[u8]>,
        message: &dyn Fn(Option<&str>) -> String,
    ) {
        out.counts[rule as usize] += 1;
        if self.samples(out, rule) {
            let samples = &mut out.samples[rule as usize];
            let token = column
                .filter(|c| c.sensitive)
                .and(text)
                .map(|t| self.plan.masker.token(t));
            samples.push(LocalSample {
                row: (self.first_row + row) as u64,
                line: self.rows.line(row),
                column: column.map(|c| c.name.clone()),
                value: token.clone().or_else(|| text.map(sample_text)),
                message: message(token.as_deref()),
            });
        }
    }

    /// One column of a chunk of rows: each cell parsed (type and null rules), its checks and
    /// statistics; the cell is kept only when the row pass reads it. Kept out of `check_rows`:
    /// inlined there, its loop's state lived on the stack (the text path's hot loop).
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn check_column(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        any_broken: bool,
        cells: &mut [Cell<'a>],
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let column = &self.plan.columns[index];
        let partly_in_place = !self.in_place[index].is_empty();
        if partly_in_place {
            self.check_in_place(index, chunk.clone(), cells, failures, out);
            if self.all_in_place[index] {
                return;
            }
        }
        // Rows held in place were checked above (only a block of several batches has both).
        let in_place = |row: usize| partly_in_place && self.in_place_at(index, row).is_some();
        if self.values_unread[index] {
            return self.prove_texts(index, chunk, any_broken, failures, out);
        }
        let gather = self.plan.stats_columns[index];
        let sketch = self.plan.sketches[index];
        let row_read = self.row_read[index];
        if !partly_in_place
            && !self.text_nulls
            && gather == Gather::Nothing
            && sketch == Sketch::Nothing
        {
            if !row_read && self.check_one_text_check(index, chunk.clone(), failures, out) {
                return;
            }
            let plain = (row_read, any_broken);
            match self.parsers[index] {
                TypeParser::Str => self.check_plain(
                    index,
                    chunk,
                    plain,
                    (cells, failures, out),
                    |s, e| {
                        self.clean_buf
                            .holds_span(s, e)
                            .then(|| Value::Str(&self.buf[s as usize..e as usize]))
                    },
                    |check, value| match value {
                        Value::Str(text) => check.passes_text(text),
                        value => check.passes(value),
                    },
                ),
                TypeParser::Float => self.check_plain(
                    index,
                    chunk,
                    plain,
                    (cells, failures, out),
                    |s, e| {
                        crate::parse::parse_float(&self.buf[s as usize..e as usize])
                            .map(Value::Float)
                    },
                    ColumnCheck::passes_float,
                ),
                TypeParser::Int => self.check_plain(
                    index,
                    chunk,
                    plain,
                    (cells, failures, out),
                    |s, e| {
                        crate::parse::parse_int(&self.buf[s as usize..e as usize]).map(Value::Int)
                    },
                    ColumnCheck::passes,
                ),
                parser => self.check_plain(
                    index,
                    chunk,
                    plain,
                    (cells, failures, out),
                    |s, e| parser.parse(&self.buf[s as usize..e as usize]),
                    ColumnCheck::passes,
                ),
            }
            return;
        }
        for (at, row) in chunk.enumerate() {
            // A record the reader could not split has no cells; the row pass judges it.
            if any_broken && self.rows.broken(row).is_some() || in_place(row) {
                continue;
            }
            let cell = self.cell(index, column, row, failures, out);
            if let Cell::Ok(value) = &cell {
                self.check_value(index, row, value, failures, out);
                if gather != Gather::Nothing {
                    if let Some(number) = value.stat_f64() {
                        out.stats[index].add(number, gather);
                    }
                }
                if sketch != Sketch::Nothing {
                    out.stats[index].sketch(value, sketch);
                }
            }
            if row_read {
                cells[at * self.plan.columns.len() + index] = cell;
            }
        }
    }

    /// Rows `rows` of a column whose values nothing reads (`values_unread`), so
    /// only a null or a text not proven a value of its type takes the cell path (for its
    /// rules), and the cells are left unset.
    fn prove_texts(
        &self,
        index: usize,
        rows: std::ops::Range<usize>,
        any_broken: bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let chunk = (index, rows, any_broken);
        match self.parsers[index] {
            TypeParser::Str => {
                let clean = self.clean_buf;
                self.prove_spans(chunk, true, |s, e| clean.holds_span(s, e), failures, out);
            }
            parser => {
                let buf = self.buf;
                let accepts = |s: u32, e: u32| parser.accepts(&buf[s as usize..e as usize]);
                self.prove_spans(chunk, false, accepts, failures, out);
            }
        }
    }

    /// [`Block::prove_texts`] with `proven(s, e)` the proof that a non-empty field `buf[s..e]`
    /// is a value; `empty_valid`: an empty field that is not a null is a value (of `str`).
    #[inline(always)]
    fn prove_spans(
        &self,
        (index, rows, any_broken): (usize, std::ops::Range<usize>, bool),
        empty_valid: bool,
        proven: impl Fn(u32, u32) -> bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        // The texts as locals, and the cell path out of line: read through `self`, and with
        // the cell path inlined, the loop kept its state on the stack.
        let (texts, width) = (&self.rows.texts[..], self.rows.width);
        // An empty field is a null (counted here), an empty `str` value (nothing to do) or a
        // type failure (the cell path); only a `not_null` rule needs a null's row.
        let empty_is_null = self.plan.is_null(b"");
        let empty_done =
            self.plan.columns[index].not_null.is_none() && (empty_is_null || empty_valid);
        let empty_is_null = u64::from(empty_is_null);
        let mut nulls = 0u64;
        let mut at = rows.start * width + index;
        for row in rows {
            // A row read in place has no text (nor has a row past the texts of a block whose
            // last batches were read wholly in place).
            let text = texts.get(at);
            at += width;
            if let Some(&TextRef::Buf(s, e)) = text {
                if s < e {
                    if proven(s, e) {
                        continue;
                    }
                } else if empty_done {
                    nulls += empty_is_null;
                    continue;
                }
            }
            self.unproven_cell(index, row, any_broken, failures, out);
        }
        out.stats[index].nulls += nulls;
    }

    /// A cell of a column whose values nothing reads that is not a proven text: the cell path,
    /// unless its row is a broken record or is read in place.
    #[cold]
    #[inline(never)]
    fn unproven_cell(
        &self,
        index: usize,
        row: usize,
        any_broken: bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let in_place = !self.in_place[index].is_empty() && self.in_place_at(index, row).is_some();
        if !(any_broken && self.rows.broken(row).is_some() || in_place) {
            let column = &self.plan.columns[index];
            self.cell(index, column, row, failures, out);
        }
    }

    /// A column's one or two checks over text rows, by [`Block::check_spans`] with the test in
    /// hand: a `str` column's `pattern`, `isin`, `not_in` or length (or `min_length` with
    /// `max_length`); an `int` or `float` column's one or two bounds (`ge=0`, `ge=-90, le=90`).
    /// `false` when the column is not such a column (the caller checks it).
    fn check_one_text_check(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) -> bool {
        use crate::parse::{parse_float, parse_int};
        use ColumnCheck::{Compare, Length, Membership, Pattern};
        let found = (failures, out);
        let checks = self.plan.columns[index].checks.as_slice();
        let float = |check: &ColumnCheck| match check {
            Compare(c) => c.float_bound(),
            _ => None,
        };
        let ordinal = |check: &ColumnCheck| match check {
            Compare(c) => c.ordinal_bound(),
            _ => None,
        };
        // A number's text that parses is a value of its type: the parse is the proof.
        match (self.parsers[index], checks) {
            (TypeParser::Str, [Pattern(p)]) if p.accepts_only_plain_text() => {
                self.check_spans::<true>(index, chunk, found, |text| p.passes(text));
            }
            (TypeParser::Str, [Pattern(p)]) => {
                self.check_spans::<false>(index, chunk, found, |text| p.passes(text));
            }
            (TypeParser::Str, [Membership(m)]) if m.proves_plain_text() => {
                self.check_spans::<true>(index, chunk, found, |text| m.passes_text(text));
            }
            (TypeParser::Str, [Membership(m)]) => {
                self.check_spans::<false>(index, chunk, found, |text| m.passes_text(text));
            }
            (TypeParser::Str, [Length(l)]) => {
                self.check_spans::<false>(index, chunk, found, |text| l.passes(text));
            }
            (TypeParser::Str, [Length(a), Length(b)]) => {
                let passes = |text: &[u8]| a.passes(text) && b.passes(text);
                self.check_spans::<false>(index, chunk, found, passes);
            }
            (TypeParser::Float, _) => {
                let Some((a, b)) = bound_pair(checks, float) else {
                    return false;
                };
                let passes =
                    |text: &[u8]| parse_float(text).is_some_and(|x| a.passes(x) && b.passes(x));
                self.check_spans::<true>(index, chunk, found, passes);
            }
            (TypeParser::Int, _) => {
                let Some((a, b)) = bound_pair(checks, ordinal) else {
                    return false;
                };
                let passes =
                    |text: &[u8]| parse_int(text).is_some_and(|x| a.passes(x) && b.passes(x));
                self.check_spans::<true>(index, chunk, found, passes);
            }
            _ => return false,
        }
        true
    }

    /// `check_column` for a column of text rows with one or two checks, no statistics to gather
    /// and no row rule reading it: the checks' test `passes` chosen once, not matched a cell. A
    /// non-empty span of the block's text that is a value of the column's type and passes is
    /// done; any other cell takes the cell path (nulls, the arena, type failures, each check's
    /// failure). `PROVES`: a text that passes is thereby a value of the type (a parsed number,
    /// an `isin`'s key, a fixed pattern's text), so it is tested first and its bytes are not
    /// looked at again; else (`str` only) the UTF-8 proof comes first.
    #[inline(always)]
    fn check_spans<const PROVES: bool>(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        (failures, out): (&mut Vec<(u32, RuleId)>, &mut BlockFindings),
        passes: impl Fn(&[u8]) -> bool,
    ) {
        // Locals, not reloaded through `self` for every cell (see `check_column`).
        let (texts, width, buf, clean) = (
            &self.rows.texts[..],
            self.rows.width,
            self.buf,
            self.clean_buf,
        );
        let mut at = chunk.start * width + index;
        for row in chunk {
            let text = texts[at];
            at += width;
            if let TextRef::Buf(s, e) = text {
                if s < e {
                    let value = &buf[s as usize..e as usize];
                    let done = match PROVES {
                        true => passes(value),
                        false => clean.holds_span(s, e) && passes(value),
                    };
                    if done {
                        continue;
                    }
                }
            }
            self.span_cell(index, row, failures, out);
        }
    }

    /// A cell of `check_spans` that is not a valid `str` that passes: the cell path and its
    /// checks, unless its row is a broken record (the row pass judges it).
    #[inline(never)]
    fn span_cell(
        &self,
        index: usize,
        row: usize,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        if self.any_broken && self.rows.broken(row).is_some() {
            return;
        }
        let column = &self.plan.columns[index];
        if let Cell::Ok(value) = self.cell(index, column, row, failures, out) {
            self.check_value(index, row, &value, failures, out);
        }
    }

    /// Every check of column `index` on a parsed cell `value` of `row`: each failure counted,
    /// sampled and kept for the row pass.
    #[inline]
    fn check_value(
        &self,
        index: usize,
        row: usize,
        value: &Value<'a>,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        for check in &self.plan.columns[index].checks {
            if !check.passes(value) {
                self.fail_check(check, index, row, out);
                failures.push((as_u32(row), check.rule()));
            }
        }
    }

    /// `check_column` for a column of text rows with no statistics to gather, written once per
    /// parser kind (`plain`: a non-empty field of the block's text, `buf[s..e]`, as its value, if
    /// it is one): a plain field's value goes straight to the checks; any other field takes the
    /// cell path (nulls, markers, the arena, type failures).
    /// `passes` is the checks' test, for the `str` loop resolved for text.
    #[inline(always)]
    fn check_plain(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        (row_read, any_broken): (bool, bool),
        out: PlainOut<'_, 'a>,
        plain: impl Fn(u32, u32) -> Option<Value<'a>>,
        passes: impl Fn(&ColumnCheck, &Value<'a>) -> bool,
    ) {
        // A column no row rule reads builds no cell for its plain values: a loop of its own.
        if row_read {
            self.check_plain_rows::<true>(index, chunk, any_broken, out, plain, passes);
        } else {
            self.check_plain_rows::<false>(index, chunk, any_broken, out, plain, passes);
        }
    }

    /// [`Block::check_plain`]'s loop: `ROW_READ`, the column's cells are left for the row pass;
    /// `any_broken`, a row may be a broken record (skipped: the row pass judges it).
    #[inline(always)]
    fn check_plain_rows<const ROW_READ: bool>(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        any_broken: bool,
        (cells, failures, out): PlainOut<'_, 'a>,
        plain: impl Fn(u32, u32) -> Option<Value<'a>>,
        passes: impl Fn(&ColumnCheck, &Value<'a>) -> bool,
    ) {
        let column = &self.plan.columns[index];
        let width = self.plan.columns.len();
        // Locals, not reloaded through `self` for every cell (see `check_column`).
        let (texts, text_width) = (&self.rows.texts[..], self.rows.width);
        let mut text_at = chunk.start * text_width + index;
        for (at, row) in chunk.enumerate() {
            let text = texts[text_at];
            text_at += text_width;
            if any_broken && self.rows.broken(row).is_some() {
                continue;
            }
            let value = match text {
                TextRef::Buf(s, e) if s < e => plain(s, e),
                _ => None,
            };
            let check = |value: &Value<'a>, failures: &mut Vec<_>, out: &mut BlockFindings| {
                for check in &column.checks {
                    if !passes(check, value) {
                        self.fail_check(check, index, row, out);
                        failures.push((as_u32(row), check.rule()));
                    }
                }
            };
            if !ROW_READ {
                match value {
                    Some(value) => check(&value, failures, out),
                    None => {
                        if let Cell::Ok(value) = self.cell(index, column, row, failures, out) {
                            check(&value, failures, out);
                        }
                    }
                }
                continue;
            }
            let cell = match value {
                Some(value) => Cell::Ok(value),
                None => self.cell(index, column, row, failures, out),
            };
            if let Cell::Ok(value) = &cell {
                check(value, failures, out);
            }
            cells[at * width + index] = cell;
        }
    }

    /// Counts and samples a value of column `index` that fails `check` (out of the hot loop).
    #[cold]
    fn fail_check(&self, check: &ColumnCheck, index: usize, row: usize, out: &mut BlockFindings) {
        // Past the rule's samples a failure is only counted: no text to find, no message.
        if !self.samples(out, check.rule()) {
            out.counts[check.rule() as usize] += 1;
            return;
        }
        let cell = (row, self.text(self.text_ref(row, index)));
        self.fail_check_cell(check, index, cell, out);
    }

    /// Counts and samples a cell `(row, text)` of column `index` that fails `check`.
    #[cold]
    fn fail_check_cell(
        &self,
        check: &ColumnCheck,
        index: usize,
        cell: (usize, &[u8]),
        out: &mut BlockFindings,
    ) {
        let message = |text: &[u8], token: Option<&str>| {
            check.message(token.unwrap_or(&String::from_utf8_lossy(text)))
        };
        let column = &self.plan.columns[index];
        self.fail_cell(check.rule(), column, cell, &message, out);
    }

    /// Counts and samples a column rule's failure on one cell `(row, text)`; the
    /// sample shows the cell's text (for a typed value, the text the text path would have read).
    #[cold]
    fn fail_cell(
        &self,
        rule: RuleId,
        column: &ColumnPlan,
        (row, text): (usize, &[u8]),
        message: &dyn Fn(&[u8], Option<&str>) -> String,
        out: &mut BlockFindings,
    ) {
        self.fail(out, rule, row, Some(column), Some(text), &|token| {
            message(text, token)
        });
    }

    /// One cell's value: null, absent, unparsed (failing `not_null` or `type`) or parsed.
    #[inline(always)]
    fn cell(
        &self,
        index: usize,
        column: &ColumnPlan,
        row: usize,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) -> Cell<'a> {
        let text_ref = self.text_ref(row, index);
        // The common case first: a non-empty field of the block's text that parses (for `str`,
        // proven valid), when no marker but the empty text is a null.
        if let TextRef::Buf(s, e) = text_ref {
            if s < e && !self.text_nulls {
                let text = &self.buf[s as usize..e as usize];
                let parser = self.parsers[index];
                let value = if matches!(parser, TypeParser::Str) {
                    self.clean_buf.holds_span(s, e).then_some(Value::Str(text))
                } else {
                    parser.parse(text)
                };
                if let Some(value) = value {
                    return Cell::Ok(value);
                }
            }
        }
        let text = match text_ref {
            TextRef::Absent => return Cell::Absent,
            _ => self.text(text_ref),
        };
        let null = match text_ref {
            TextRef::Null => true,
            _ => self.plan.is_null(text),
        };
        if null {
            return self.null_cell(index, column, (row, text), failures, out);
        }
        let parser = self.parsers[index];
        let value = match text_ref {
            TextRef::Buf(s, e)
                if matches!(parser, TypeParser::Str) && self.clean_buf.holds_span(s, e) =>
            {
                Some(Value::Str(text))
            }
            TextRef::Arena(s, e)
                if matches!(parser, TypeParser::Str) && self.clean_arena.holds_span(s, e) =>
            {
                Some(Value::Str(text))
            }
            _ => parser.parse(text),
        };
        match value {
            Some(value) => Cell::Ok(value),
            None => self.invalid_cell(column, (row, text), failures, out),
        }
    }

    /// A null cell `(row, text)` of column `index`: counted, and failing `not_null`.
    #[inline(always)]
    fn null_cell(
        &self,
        index: usize,
        column: &ColumnPlan,
        cell: (usize, &[u8]),
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) -> Cell<'a> {
        out.stats[index].nulls += 1;
        if let Some(rule) = column.not_null {
            let message = |_: &[u8], _: Option<&str>| "missing required value".to_owned();
            self.fail_cell(rule, column, cell, &message, out);
            failures.push((as_u32(cell.0), rule));
        }
        Cell::Null
    }

    /// A cell `(row, text)` whose text is not a value of its column's type.
    #[cold]
    fn invalid_cell(
        &self,
        column: &ColumnPlan,
        cell: (usize, &[u8]),
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) -> Cell<'a> {
        if let Some(rule) = column.type_rule {
            let format = column.format.as_deref();
            let message = |text: &[u8], token: Option<&str>| {
                type_failure_message(column.dtype, format, text, token)
            };
            self.fail_cell(rule, column, cell, &message, out);
            failures.push((as_u32(cell.0), rule));
        }
        Cell::Invalid
    }

    /// Checks column `index` for the whole block when every row of it is read in place, or when
    /// nothing reads its values and its rows are text (no cells to leave for the row pass, so
    /// no chunk to keep in the cache, and one loop over the block instead of a call per
    /// chunk): its failures, in row order (a row's in check order). None: the column is
    /// checked chunk by chunk.
    fn check_whole(&self, index: usize, out: &mut BlockFindings) -> Option<Vec<(u32, RuleId)>> {
        // An empty block has every column "all in place": it has nothing to check whole.
        if self.rows.is_empty() {
            return None;
        }
        let mut failures = Vec::new();
        if self.all_in_place[index] {
            self.check_in_place(index, 0..self.rows.len(), &mut [], &mut failures, out);
        } else if self.values_unread[index] && self.in_place[index].is_empty() {
            let rows = 0..self.rows.len();
            self.prove_texts(index, rows, self.any_broken, &mut failures, out);
        } else {
            return None;
        }
        Some(failures)
    }

    /// One column of a chunk, read from the Arrow arrays that hold it (kept out of
    /// `check_column`, whose loop over text is the hot one for text sources). `cells`: the
    /// chunk's, where a column the row pass reads leaves its cells; empty when the column is
    /// checked whole.
    #[inline(never)]
    fn check_in_place(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        cells: &mut [Cell<'a>],
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let keep_cells = self.row_read[index] && !cells.is_empty();
        for read in &self.in_place[index] {
            let rows = read.rows_within(chunk.clone());
            if rows.is_empty() {
                continue;
            }
            let part: &'a InPlace = read.part;
            let (cells, first) = (&mut *cells, chunk.start);
            let place = (index, part.first, rows, first);
            match part.array.data_type() {
                DataType::Utf8 => {
                    let array = part.array.as_string::<i32>();
                    let buffers = read.proven();
                    let proven = |at| within_offsets(array, buffers[0], at);
                    self.check_strings(array, proven, place, keep_cells, cells, failures, out);
                }
                DataType::LargeUtf8 => {
                    let array = part.array.as_string::<i64>();
                    let buffers = read.proven();
                    let proven = |at| within_offsets(array, buffers[0], at);
                    self.check_strings(array, proven, place, keep_cells, cells, failures, out);
                }
                DataType::Utf8View => {
                    let array = part.array.as_string_view();
                    let views = array.views();
                    // A long value lies in a data buffer; a short one lies in its view.
                    let proven = |at: usize| {
                        let view = views[at];
                        match long_view(view) {
                            Some((buffer, offset, len)) => read
                                .proven()
                                .get(buffer)
                                .is_some_and(|b| b.holds(offset, offset + len)),
                            // The empty text too is a `str` value.
                            None => view as u32 == 0 || plain_inlined(view),
                        }
                    };
                    let whole = (index, part.first, place.2.clone());
                    if !keep_cells
                        && widest(
                            #[inline(always)]
                            |vector_build| {
                                let (views, place) = ((array, proven, read), whole);
                                self.check_views_by_check(views, place, vector_build, failures, out)
                            },
                        )
                    {
                        continue;
                    }
                    self.check_strings(array, proven, place, keep_cells, cells, failures, out);
                }
                _ => self.check_natives(part, place, keep_cells, cells, failures, out),
            }
        }
    }

    /// Rows `rows` of column `index` from `strings` (whose first row is `first`), judged as
    /// `cell` and `check_column` judge the same text: an Arrow null or a null marker is a null,
    /// the rest is proven a `str` value and checked. `chunk_start` is the chunk's first row.
    #[allow(clippy::too_many_arguments)]
    fn check_strings(
        &self,
        strings: impl ArrayAccessor<Item = &'a str>,
        proven: impl Fn(usize) -> bool,
        (index, first, rows, chunk_start): (usize, usize, std::ops::Range<usize>, usize),
        keep_cells: bool,
        cells: &mut [Cell<'a>],
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        if !keep_cells {
            self.check_strings_by_check(strings, proven, (index, first, rows), failures, out);
            return;
        }
        let column = &self.plan.columns[index];
        let parser = self.parsers[index];
        let width = self.plan.columns.len();
        for row in rows {
            let at = row - first;
            let cell = if strings.is_null(at) {
                self.null_cell(index, column, (row, &[]), failures, out)
            } else {
                let text = strings.value(at).as_bytes();
                if (text.is_empty() || self.text_nulls) && self.plan.is_null(text) {
                    let cell = (row, text);
                    self.null_cell(index, column, cell, failures, out)
                } else if proven(at) {
                    self.value_cell(
                        index,
                        row,
                        Value::Str(text),
                        &|shown| shown.extend_from_slice(text),
                        failures,
                        out,
                    )
                } else if let Some(value) = parser.parse(text) {
                    self.value_cell(
                        index,
                        row,
                        value,
                        &|shown| shown.extend_from_slice(text),
                        failures,
                        out,
                    )
                } else {
                    let cell = (row, text);
                    self.invalid_cell(column, cell, failures, out)
                }
            };
            cells[(row - chunk_start) * width + index] = cell;
        }
    }

    /// `check_strings` where no cell is kept (a column checked whole, or one the row pass does
    /// not read), a loop per check: nulls and texts that are not `str` values are judged first,
    /// then each check runs over the values with its test inlined (no `Value` or `Cell` a value,
    /// no dispatch a value). Its failures are put in row order, a row's in check order, as the
    /// loop of a value at a time has them.
    fn check_strings_by_check(
        &self,
        strings: impl ArrayAccessor<Item = &'a str>,
        proven: impl Fn(usize) -> bool,
        (index, first, rows): (usize, usize, std::ops::Range<usize>),
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let column = &self.plan.columns[index];
        let parser = self.parsers[index];
        let failed_before = failures.len();
        // The values' places in `strings`.
        let mut values: Vec<u32> = Vec::with_capacity(rows.len());
        for row in rows {
            let at = row - first;
            if strings.is_null(at) {
                self.null_cell(index, column, (row, &[]), failures, out);
                continue;
            }
            let text = strings.value(at).as_bytes();
            if (text.is_empty() || self.text_nulls) && self.plan.is_null(text) {
                self.null_cell(index, column, (row, text), failures, out);
            } else if proven(at) || parser.parse(text).is_some() {
                values.push(as_u32(at));
            } else {
                self.invalid_cell(column, (row, text), failures, out);
            }
        }
        let text_at = |at: u32| strings.value(at as usize).as_bytes();
        for check in &column.checks {
            let place = (index, first, &values[..]);
            match check {
                ColumnCheck::Pattern(pattern) => {
                    let passes = |text| pattern.passes(text);
                    self.fail_where(check, place, text_at, passes, failures, out);
                }
                ColumnCheck::Membership(set) => {
                    let passes = |text| set.passes(&Value::Str(text));
                    self.fail_where(check, place, text_at, passes, failures, out);
                }
                ColumnCheck::Length(length) => {
                    let passes = |text| length.passes(text);
                    self.fail_where(check, place, text_at, passes, failures, out);
                }
                _ => {
                    let passes = |text| check.passes(&Value::Str(text));
                    self.fail_where(check, place, text_at, passes, failures, out);
                }
            }
        }
        // A `str` value has no statistics, only a sketch.
        let sketch = self.plan.sketches[index];
        if sketch != Sketch::Nothing {
            for &at in &values {
                out.stats[index].sketch(&Value::Str(text_at(at)), sketch);
            }
        }
        failures[failed_before..].sort_by_key(|&(row, _)| row);
    }

    /// One check of column `index` over its values (at `values` of an array whose first row is
    /// `first`): each text that fails `passes` is counted, sampled and listed.
    #[inline(always)]
    fn fail_where(
        &self,
        check: &ColumnCheck,
        (index, first, values): (usize, usize, &[u32]),
        text_at: impl Fn(u32) -> &'a [u8],
        passes: impl Fn(&'a [u8]) -> bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        for &at in values {
            let text = text_at(at);
            if !passes(text) {
                let row = first + at as usize;
                self.fail_check_cell(check, index, (row, text), out);
                failures.push((as_u32(row), check.rule()));
            }
        }
    }

    /// One check over `len` rows, the first of which is block row `start` (the `skipped` bits
    /// mark the rows that are not values): each value `i` that fails `passes` is counted,
    /// sampled (with the text `text_of` gives) and listed. `passes` runs on every row, and a
    /// skipped row's outcome is dropped: the loop has no branch a row (`bits::each_failing`).
    #[inline(always)]
    fn fail_unless(
        &self,
        check: &ColumnCheck,
        (index, start, len, skipped): (usize, usize, usize, &[u64]),
        passes: impl bits::RowTest,
        text_of: impl Fn(usize) -> std::borrow::Cow<'a, [u8]>,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let rule = check.rule();
        bits::each_failing(len, passes, skipped, &mut |i| {
            let row = start + i;
            // A value's text is only shown in a sample: a typed value's is written for it.
            if self.samples(out, rule) {
                self.fail_check_cell(check, index, (row, &text_of(i)), out);
            } else {
                out.counts[rule as usize] += 1;
            }
            failures.push((as_u32(row), rule));
        });
    }

    /// Rows `rows` of column `index` from a typed array (whose first row is `first`) read as
    /// `Native`s: each judged as its text would be (`formats::typed`).
    fn check_natives(
        &self,
        part: &InPlace,
        (index, first, rows, chunk_start): (usize, usize, std::ops::Range<usize>, usize),
        keep_cells: bool,
        cells: &mut [Cell<'a>],
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) {
        let column = &self.plan.columns[index];
        let Some(natives) = native_reader(&part.array, column.dtype) else {
            return;
        };
        if let (false, Some(floats)) = (keep_cells, natives.floats()) {
            let place = (index, first, rows.clone());
            if widest(
                #[inline(always)]
                |vector_build| self.check_floats(floats, place, vector_build, failures, out),
            ) {
                return;
            }
        }
        let width = self.plan.columns.len();
        let values_unread = self.values_unread[index];
        if !keep_cells && !values_unread {
            let at = rows.start - first..rows.end - first;
            let place = (index, first, rows.clone());
            // Read as `i64`s inside the vector build too: a narrower integer's are a copy.
            let checked = widest(
                #[inline(always)]
                |vector_build| {
                    // No closure here: one not inlined would leave the vector build.
                    match natives.ordinals(column.dtype, at) {
                        Some(ordinals) => {
                            self.check_ordinals(&ordinals, place, vector_build, failures, out)
                        }
                        None => false,
                    }
                },
            );
            if checked {
                return;
            }
        }
        let mut visit = |row: usize| {
            let cell = match natives.get(row - first) {
                None => {
                    let cell = (row, &[][..]);
                    self.null_cell(index, column, cell, failures, out)
                }
                // A typed value is a null where its text would be (`NaN` among `null_values`).
                Some(native) if self.text_nulls && self.plan.is_null(&native_text(native)) => {
                    let cell = (row, &native_text(native)[..]);
                    self.null_cell(index, column, cell, failures, out)
                }
                Some(native) => match native.value(column.dtype) {
                    Some(value) => {
                        let shown = |into: &mut Vec<u8>| native.write_text(into);
                        self.value_cell(index, row, value, &shown, failures, out)
                    }
                    None => {
                        let cell = (row, &native_text(native)[..]);
                        self.invalid_cell(column, cell, failures, out)
                    }
                },
            };
            if keep_cells {
                cells[(row - chunk_start) * width + index] = cell;
            }
        };
        if values_unread && natives.floats().is_none() {
            // Every non-null value of a column no check reads is plain (a float need not be:
            // `check_floats`): only its nulls are visited, found a word of rows at a time.
            let from = rows.start - first;
            let mut valid_words = bits::valid_words(natives.nulls(), from, rows.len());
            let all_plain = |_: usize| true;
            bits::each_clear(rows.len(), all_plain, &mut valid_words, &mut |i| {
                visit(rows.start + i);
            });
            return;
        }
        for row in rows {
            if values_unread && natives.is_plain(row - first) {
                continue;
            }
            visit(row);
        }
    }

    /// A value read in place for column `index` at `row`: its checks (`shown` writes the text a
    /// failure's sample shows) and statistics; its cell.
    #[inline(always)]
    fn value_cell(
        &self,
        index: usize,
        row: usize,
        value: Value<'a>,
        shown: &dyn Fn(&mut Vec<u8>),
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut BlockFindings,
    ) -> Cell<'a> {
        let column = &self.plan.columns[index];
        for check in &column.checks {
            if !check.passes(&value) {
                let mut text = Vec::new();
                shown(&mut text);
                let cell = (row, &text[..]);
                self.fail_check_cell(check, index, cell, out);
                failures.push((as_u32(row), check.rule()));
            }
        }
        let gather = self.plan.stats_columns[index];
        if gather != Gather::Nothing {
            if let Some(number) = value.stat_f64() {
                out.stats[index].add(number, gather);
            }
        }
        let sketch = self.plan.sketches[index];
        if sketch != Sketch::Nothing {
            out.stats[index].sketch(&value, sketch);
        }
        Cell::Ok(value)
    }

    /// The in-place part of column `index` holding `row`, and the row's index in its array.
    fn in_place_at(&self, index: usize, row: usize) -> Option<(&'a InPlace, usize)> {
        self.in_place[index]
            .iter()
            .find(|read| (read.part.first..read.part.first + read.part.array.len()).contains(&row))
            .map(|read| (read.part, row - read.part.first))
    }

    /// What spans a row's columns: a broken record's rule, row rules, unique and history keys,
    /// distinct counts; then the row's failures (`row_failed` holds its column failures).
    fn check_row(
        &self,
        row: usize,
        cells: &[Cell<'a>],
        row_failed: &mut Vec<RuleId>,
        scratch: &mut Scratch,
        out: &mut BlockFindings,
    ) {
        let plan = self.plan;
        let whole_rules = &mut scratch.whole_rules;
        if let Some(broken) = self.rows.broken(row) {
            row_failed.push(self.fail_broken(broken, row, out));
            if self.source_mismatch {
                row_failed.push(plan.missing_columns_rule);
            }
            record_failure(out, self.first_row + row, row_failed);
            return;
        }
        for (n, rule) in plan.row_rules.iter().enumerate() {
            if self.rules_whole[n].is_some() {
                if whole_rules.failed(n, row) {
                    row_failed.push(rule.rule);
                }
                continue;
            }
            if rule.expr.evaluate(cells) == Some(false) {
                self.fail(out, rule.rule, row, None, None, &|_| {
                    "row rule is false".to_owned()
                });
                row_failed.push(rule.rule);
            }
        }

        for (key_index, key) in plan.unique_keys.iter().enumerate() {
            if self.keys_whole[key_index] {
                continue;
            }
            let Some(hash) = key_hash_of(&key.columns, cells, &mut scratch.key) else {
                continue;
            };
            self.log_key(key_index, row, hash, |column| &cells[column], out);
        }

        for (slot, &column) in plan.history_keys.iter().enumerate() {
            if let Cell::Ok(value) = &cells[column] {
                let mut value_scratch = [0u8; 24];
                let hash =
                    crate::ledger::row_history::key_hash(value.key_bytes(&mut value_scratch));
                let text = key_text::append(&mut out.key_text, |text| {
                    self.write_text(row, column, &cells[column], text);
                });
                out.history_keys[slot].push(KeyEntry::new(
                    u128::from(hash),
                    self.first_row + row,
                    text,
                ));
            }
        }

        for (slot, &column) in plan.distinct_columns.iter().enumerate() {
            if let Cell::Ok(value) = &cells[column] {
                out.distinct[slot].push(value_hash(value));
            }
        }

        if self.source_mismatch {
            row_failed.push(plan.missing_columns_rule);
        }
        if !row_failed.is_empty() {
            record_failure(out, self.first_row + row, row_failed);
        }
    }

    /// A unique key's entry for `row`: its hash, and its columns' texts (`cell_of` a column's
    /// cell) joined by commas as the text a duplicate shows.
    fn log_key<'c>(
        &self,
        key_index: usize,
        row: usize,
        hash: u128,
        cell_of: impl Fn(usize) -> &'c Cell<'a>,
        out: &mut BlockFindings,
    ) where
        'a: 'c,
    {
        let columns = &self.plan.unique_keys[key_index].columns;
        // A short `str` key's hash keeps its text (`KeyEntry::short_text`), an `int` key's its
        // value (`KeyEntry::int_text`): none is written.
        if let [column] = columns[..] {
            let row_number = || as_u32(self.first_row + row);
            match cell_of(column) {
                Cell::Ok(Value::Str(text)) if text.len() <= crate::rules::unique::SHORT_KEY => {
                    // Its callers hash a key's value (`value_hash`): a `str`'s is its text's.
                    debug_assert_eq!(hash, crate::rules::unique::key_hash(text));
                    out.keys[key_index].push(KeyEntry::short_text(hash, row_number()));
                    return;
                }
                &Cell::Ok(Value::Int(value)) if self.int_written_as_value(row, column, value) => {
                    debug_assert_eq!(hash, value_hash(&Value::Int(value)));
                    out.keys[key_index].push(KeyEntry::int_text(hash, row_number()));
                    return;
                }
                _ => {}
            }
        }
        let text = key_text::append(&mut out.key_text, |text| {
            for (n, &column) in columns.iter().enumerate() {
                if n > 0 {
                    text.push(b',');
                }
                self.write_text(row, column, cell_of(column), text);
            }
        });
        out.keys[key_index].push(KeyEntry::new(hash, self.first_row + row, text));
    }

    /// Whether the `int` cell `value` at `row`, `column` is written as its value's decimal, the
    /// text its value alone gives back; a native value read in place is (a string array's text
    /// is asked like a text source's).
    #[inline(always)]
    fn int_written_as_value(&self, row: usize, column: usize, value: i64) -> bool {
        let text = match self.in_place[column].is_empty() {
            true => self.text(self.text_ref(row, column)),
            false => match self.int_text_in_place(row, column) {
                Some(text) => text,
                None => return true,
            },
        };
        written_as_decimal(text, value)
    }

    /// The text of an `int` cell of a column read in place, if its array holds text (`None`: a
    /// native value, written as its decimal).
    #[cold]
    #[inline(never)]
    fn int_text_in_place(&self, row: usize, column: usize) -> Option<&'a [u8]> {
        let Some((part, at)) = self.in_place_at(column, row) else {
            return Some(self.text(self.text_ref(row, column)));
        };
        let array = &part.array;
        match array.data_type() {
            DataType::Utf8 => Some(array.as_string::<i32>().value(at).as_bytes()),
            DataType::LargeUtf8 => Some(array.as_string::<i64>().value(at).as_bytes()),
            DataType::Utf8View => Some(array.as_string_view().value(at).as_bytes()),
            _ => None,
        }
    }

    /// A parsed cell's text, as a key's display text.
    fn write_text(&self, row: usize, column: usize, cell: &Cell<'a>, into: &mut Vec<u8>) {
        // A `str` value is its text, wherever it was read (no search for its array).
        if let Cell::Ok(Value::Str(text)) = cell {
            into.extend_from_slice(text);
            return;
        }
        let Some((part, at)) = self.in_place_at(column, row) else {
            into.extend_from_slice(self.text(self.text_ref(row, column)));
            return;
        };
        let array = &part.array;
        match array.data_type() {
            DataType::Utf8 => into.extend_from_slice(array.as_string::<i32>().value(at).as_bytes()),
            DataType::LargeUtf8 => {
                into.extend_from_slice(array.as_string::<i64>().value(at).as_bytes());
            }
            DataType::Utf8View => {
                into.extend_from_slice(array.as_string_view().value(at).as_bytes())
            }
            _ => {
                let dtype = self.plan.columns[column].dtype;
                if let Some(native) = native_reader(array, dtype).and_then(|n| n.get(at)) {
                    native.write_text(into);
                }
            }
        }
    }

    /// Counts and samples a record the reader could not turn into fields; returns its rule.
    fn fail_broken(&self, broken: &Broken, row: usize, out: &mut BlockFindings) -> RuleId {
        let plan = self.plan;
        match broken {
            Broken::FieldCount(fields) => {
                let expected = self.layout.width;
                self.fail(out, plan.field_count_rule, row, None, None, &|_| {
                    format!("expected {expected} fields, got {fields}")
                });
                plan.field_count_rule
            }
            Broken::Malformed(reason) => {
                self.fail(out, plan.malformed_rule, row, None, None, &|_| {
                    reason.clone()
                });
                plan.malformed_rule
            }
            Broken::Csv { code, field } => {
                let name = self.layout.names.get(*field).map(String::as_str);
                let what = match *code {
                    "csv:bare_quote" => "a quote inside an unquoted field",
                    _ => "text after a closing quote",
                };
                let column = name.map_or_else(String::new, |n| format!(" `{n}`"));
                let number = field + 1;
                // The sample names the column when the schema declares it (an extra column is
                // named in the message only).
                let declared = name.and_then(|n| plan.columns.iter().find(|c| c.name == n));
                self.fail(out, plan.malformed_rule, row, declared, None, &|_| {
                    format!("{code}: {what} (field {number}{column}; strict CSV)")
                });
                plan.malformed_rule
            }
        }
    }
}

/// Per column: whether the row pass reads its cells (row rules and unique keys not done whole,
/// history keys, distinct counts).
fn row_read_columns(
    plan: &Plan,
    rule_whole: impl Fn(usize) -> bool,
    key_whole: impl Fn(usize) -> bool,
) -> Vec<bool> {
    let mut row_read = vec![false; plan.columns.len()];
    let row_columns = plan
        .row_rules
        .iter()
        .enumerate()
        .filter(|&(n, _)| !rule_whole(n))
        .flat_map(|(_, rule)| rule.expr.cells_read())
        .chain(
            plan.unique_keys
                .iter()
                .enumerate()
                .filter(|&(k, _)| !key_whole(k))
                .flat_map(|(_, key)| key.columns.iter().copied()),
        )
        .chain(plan.history_keys.iter().copied())
        .chain(plan.distinct_columns.iter().copied());
    for column in row_columns {
        row_read[column] = true;
    }
    row_read
}

/// The text the text path would have read for a typed value (for a sample or a null marker).
#[cold]
fn native_text(native: Native) -> Vec<u8> {
    let mut text = Vec::new();
    native.write_text(&mut text);
    text
}

/// Whether a string view holds a non-empty value inlined in it (1 to 12 bytes) that is all
/// ASCII without NUL, so a `str` value by itself: its sixteen bytes tested as lanes at once
/// (as `rules::fixed_pattern` tests a pattern), where the byte loop takes a dozen steps. False
/// for any other value (the empty text, which can be a null, and a long one included), which
/// the caller then judges.
#[inline(always)]
fn plain_inlined(view: u128) -> bool {
    // By length less one: 1..=127 for the value's own bytes (lanes 4..4 + len), any byte for
    // the length's lanes and past the value.
    const LANES: [SixteenLanes; 12] = {
        let mut lanes = [SixteenLanes::of_bounds([0; 16], [0; 16]); 12];
        let mut len = 1;
        while len <= 12 {
            let (mut lo, mut hi) = ([0u8; 16], [u8::MAX; 16]);
            let mut lane = 4;
            while lane < 4 + len {
                (lo[lane], hi[lane]) = (1, 127);
                lane += 1;
            }
            lanes[len - 1] = SixteenLanes::of_bounds(lo, hi);
            len += 1;
        }
        lanes
    };
    // The empty text wraps to an index past the table.
    let len = view as u32 as usize;
    LANES
        .get(len.wrapping_sub(1))
        .is_some_and(|lanes| lanes.passes(view.to_le_bytes()))
}

/// `plain_inlined` of a view as its halves (`[low, high]`), in arithmetic a loop over views
/// vectorizes: bit 7 of each byte of `((x | 0x80) - 1) & !x` says whether it is 1..=127 (the
/// subtraction borrows across no byte), and only the value's bytes (4..4 + len) are asked.
#[inline(always)]
fn plain_inlined_halves([low, high]: [u64; 2]) -> bool {
    use crate::rules::fixed_pattern::HIGH_BITS;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let plain_bytes = |x: u64| ((x | HIGH_BITS) - ONES) & !x;
    let len = low as u32;
    let within = len.min(12);
    // The value's bytes in each half.
    let low_value = u64::MAX >> (32 - 8 * within.min(4)) & !0xFFFF_FFFF;
    let high_value = crate::rules::inlined::inlined_high_bits(within);
    let asked = |x: u64, value: u64| plain_bytes(x) | !value | !HIGH_BITS == u64::MAX;
    (len.wrapping_sub(1) < 12) & asked(low, low_value) & asked(high, high_value)
}

/// One value's hash as a one-column key and a distinct count see it (its key bytes).
fn value_hash(value: &Value<'_>) -> u128 {
    let mut value_scratch = [0u8; 24];
    crate::rules::unique::key_hash(value.key_bytes(&mut value_scratch))
}

/// The key's hash, or `None` when a key column is null, absent or unparsed (the row is skipped).
fn key_hash_of(columns: &[usize], cells: &[Cell<'_>], scratch: &mut Vec<u8>) -> Option<u128> {
    if let [column] = columns {
        let Cell::Ok(value) = &cells[*column] else {
            return None;
        };
        return Some(value_hash(value));
    }
    let mut value_scratch = [0u8; 24];
    scratch.clear();
    for &column in columns {
        let Cell::Ok(value) = &cells[column] else {
            return None;
        };
        let bytes = value.key_bytes(&mut value_scratch);
        // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
        scratch.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        scratch.extend_from_slice(bytes);
    }
    Some(crate::rules::unique::key_hash(scratch))
}

/// `work` compiled for the widest vector instructions this CPU has, chosen when it runs: AVX2
/// where the CPU has it, the baseline build's SSE2 otherwise. The typed checks' loops, inlined
/// into it, then test four 64-bit lanes at a time (SSE2 has no 64-bit integer compare at all).
/// `work` is told which build it runs in (true: the vector build), a constant in each, for a
/// loop whose best form differs between them. A caller marks its closure `#[inline(always)]`
/// (and what it calls, down to the loops): code not inlined into the vector build runs as the
/// baseline's.
#[inline(always)]
pub(crate) fn widest<R>(work: impl FnOnce(bool) -> R) -> R {
    pulp::Arch::new().dispatch(Widest(work))
}

struct Widest<Work>(Work);

impl<R, Work: FnOnce(bool) -> R> pulp::WithSimd for Widest<Work> {
    type Output = R;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> R {
        (self.0)(!S::IS_SCALAR)
    }
}

fn record_failure(out: &mut BlockFindings, row: usize, rules: &[RuleId]) {
    out.failed_rows
        .push(u32::try_from(row).expect("a block holds fewer than 2^32 rows"));
    out.failed_rules.extend_from_slice(rules);
    out.failure_starts.push(as_u32(out.failed_rules.len()));
}

/// A block-local offset or size (a `TextRef`, a field span, a record's place) as `u32`: blocks,
/// and the text of one unit of work, are smaller than 4 GiB.
pub(crate) fn as_u32(n: usize) -> u32 {
    u32::try_from(n).expect("blocks are smaller than 4 GiB")
}

/// A column's one or two bounds (`of` reads a check as one), one bound as a pair of itself so
/// that one loop serves both; `None` when a check is not a bound or there are more.
fn bound_pair<B: Copy>(
    checks: &[ColumnCheck],
    of: impl Fn(&ColumnCheck) -> Option<B>,
) -> Option<(B, B)> {
    match checks {
        [one] => of(one).map(|bound| (bound, bound)),
        [a, b] => of(a).zip(of(b)),
        _ => None,
    }
}

/// Whether `text`, of `int`'s grammar (`[+-]?[0-9]+`) and parsed as `value`, is `value`'s
/// decimal. It is not exactly when it has a `+`, a leading zero or is `-0`, which is when it
/// has more than one character after a `-` and `value` has fewer digits than that.
#[inline(always)]
fn written_as_decimal(text: &[u8], value: i64) -> bool {
    // 10^(n - 1), the least magnitude of n digits, for n up to i64's 19.
    const LEAST: [u64; 19] = {
        let mut least = [1u64; 19];
        let mut n = 1;
        while n < 19 {
            least[n] = least[n - 1] * 10;
            n += 1;
        }
        least
    };
    let digits = text.len().saturating_sub(usize::from(value < 0));
    digits == 1
        || (digits.checked_sub(1).and_then(|n| LEAST.get(n)))
            .is_some_and(|&least| value.unsigned_abs() >= least)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::csv::block::parse_rows;
    use crate::formats::csv::parser::{Dialect, Parser};

    /// An `int` text is its value's decimal unless it has a `+`, a leading zero or is `-0`.
    #[test]
    fn an_int_text_is_its_decimal_without_plus_leading_zero_or_minus_zero() {
        let cases: &[(&str, bool)] = &[
            ("0", true),
            ("7", true),
            ("-7", true),
            ("10", true),
            ("-10", true),
            ("9223372036854775807", true),
            ("-9223372036854775808", true),
            ("-0", false),
            ("+0", false),
            ("00", false),
            ("+7", false),
            ("007", false),
            ("-07", false),
            ("010", false),
            ("+9223372036854775807", false),
            ("09223372036854775807", false),
            ("-09223372036854775808", false),
        ];
        for (text, want) in cases {
            let value = crate::parse::parse_int(text.as_bytes()).expect("an int");
            assert_eq!(written_as_decimal(text.as_bytes(), value), *want, "{text}");
        }
    }

    /// An entry's text is the one appended where it points, or its hash's.
    #[test]
    fn a_key_entry_reads_its_text_where_it_points_or_from_its_hash() {
        let mut key_text = Vec::new();
        let _ = key_text::append(&mut key_text, |out| out.extend_from_slice(b"first"));
        let long = key_text::append(&mut key_text, |out| out.extend_from_slice(b"LONG-KEY-0001"));
        assert_eq!(
            &*KeyEntry::new(7, 3, long).text_in(&key_text),
            b"LONG-KEY-0001"
        );
        let short = crate::rules::unique::key_hash(b"TX0002");
        assert_eq!(
            &*KeyEntry::short_text(short, 3).text_in(&key_text),
            b"TX0002"
        );
    }

    /// Lines and breakage are kept only where there are some; every row still answers.
    #[test]
    fn rows_keep_lines_and_breakage_sparse() {
        let mut text = Rows::default();
        for line in [0, 2, 3, 7] {
            text.push_line(line);
            if line == 2 || line == 7 {
                text.break_last(Broken::FieldCount(line as usize));
            }
        }
        assert_eq!(text.len(), 4);
        let lines: Vec<_> = (0..4).map(|row| text.line(row)).collect();
        assert_eq!(lines, [Some(0), Some(2), Some(3), Some(7)]);
        let broken: Vec<_> = (0..4)
            .map(|row| match text.broken(row) {
                Some(Broken::FieldCount(n)) => Some(*n),
                _ => None,
            })
            .collect();
        assert_eq!(broken, [None, Some(2), None, Some(7)]);
        for (rows, any) in [
            (0..1, false),
            (0..2, true),
            (2..3, false),
            (2..4, true),
            (4..4, false),
        ] {
            assert_eq!(text.any_broken_in(rows.clone()), any, "{rows:?}");
        }
        let mut typed = Rows::default();
        typed.push_unlined(3);
        typed.push_unlined(2);
        assert_eq!(
            (typed.len(), typed.line(4), typed.broken(4).is_some()),
            (5, None, false)
        );
        assert!(!typed.any_broken_in(0..5));
        typed.clear();
        assert!(typed.is_empty());
    }

    /// A block's findings with rows numbered from `first` (samples, failed rows and keys).
    type Found = (
        Vec<u64>,
        Vec<Vec<(u64, Option<String>, String)>>,
        Vec<(u64, Vec<RuleId>)>,
        Vec<(u128, u64, Vec<u8>)>,
        Vec<u64>,
    );

    fn check_csv(
        plan: &Plan,
        layout: &SourceLayout,
        csv: &[u8],
        sample_size: usize,
    ) -> BlockFindings {
        let parser = Parser::new(Dialect::default());
        let mut rows = Rows::default();
        parse_rows(&parser, layout, csv, true, &mut rows);
        let mut out = BlockFindings::new(plan);
        check_rows(plan, layout, csv, (&rows, 0), sample_size, &mut out);
        out
    }

    /// Appends `block`'s findings to `found`, its rows numbered from `first`.
    fn gather(found: &mut Found, block: &BlockFindings, first: u64, sample_size: usize) {
        let (counts, samples, failed, keys, nulls) = found;
        counts.resize(block.counts.len(), 0);
        samples.resize(block.counts.len(), Vec::new());
        nulls.resize(block.stats.len(), 0);
        for (rule, count) in block.counts.iter().enumerate() {
            counts[rule] += count;
            for sample in &block.samples[rule] {
                if samples[rule].len() < sample_size {
                    let entry = (
                        first + sample.row,
                        sample.value.clone(),
                        sample.message.clone(),
                    );
                    samples[rule].push(entry);
                }
            }
        }
        for (index, &row) in block.failed_rows.iter().enumerate() {
            failed.push((first + u64::from(row), block.rules_of(index).to_vec()));
        }
        for entry in &block.keys[0] {
            let text = entry.text_in(&block.key_text).to_vec();
            keys.push((entry.hash, first + u64::from(entry.row), text));
        }
        for (index, stats) in block.stats.iter().enumerate() {
            nulls[index] += stats.nulls;
        }
    }

    proptest::proptest! {
        /// Any text of `int`'s grammar is judged its value's decimal exactly when it is.
        #[test]
        fn an_int_text_is_its_decimal_exactly_when_it_prints_so(
            text in "[+-]?0{0,3}[0-9]{1,19}",
        ) {
            if let Some(value) = crate::parse::parse_int(text.as_bytes()) {
                proptest::prop_assert_eq!(
                    written_as_decimal(text.as_bytes(), value),
                    value.to_string() == text
                );
            }
        }
    }

    proptest::proptest! {
        /// Chunked column passes change nothing: a block of many rows (several chunks) finds what
        /// its rows find checked one block each — counts, samples, each row's rules in order, keys.
        #[test]
        fn a_block_finds_what_its_rows_find_one_at_a_time(
            records in proptest::collection::vec(
                (0usize..5, 0usize..6, 0usize..6, 0usize..4, 0usize..20),
                1..700,
            ),
        ) {
            let spec = crate::spec::Spec::from_json(r#"{"spec_version": 1, "columns": [
                {"name": "id", "dtype": "str", "checks": [
                    {"type": "pattern", "pattern": "^A[0-9]$"}, {"type": "unique", "keep": "none"},
                    {"type": "max_length", "value": 2}]},
                {"name": "n", "dtype": "int", "checks": [{"type": "gt", "value": 0},
                    {"type": "le", "value": 5}]},
                {"name": "x", "dtype": "float", "nullable": true, "checks": [{"type": "ge", "value": 0}]},
                {"name": "c", "dtype": "str", "nullable": true,
                 "checks": [{"type": "isin", "values": ["a", "b"]}]},
                {"name": "note", "dtype": "str"}],
                "row_rules": [{"name": "x_within_n", "expr": {"type": "binary", "op": "le",
                    "left": {"type": "col", "name": "x"}, "right": {"type": "col", "name": "n"}}}]}"#)
                .expect("a spec");
            let plan = Plan::compile(spec, &[]).expect("compiles");
            let names = ["id", "n", "x", "c", "note"].map(str::to_owned).to_vec();
            let layout = plan.layout("t.csv", names).expect("a layout");
            let ids = ["A1", "A2", "B1", "", "A123"];
            let ns = ["1", "7", "-1", "x", "", "3"];
            let xs = ["0.5", "-2", "", "abc", "9", "2"];
            let cs = ["a", "b", "z", ""];
            // Read by nothing but its null rule.
            let notes = ["n", "", "caf\u{e9}", "\"q\"\"q\""];
            let lines: Vec<String> = records
                .iter()
                .map(|&(id, n, x, c, shape)| match shape {
                    0 => format!("{},{}\n", ids[id], ns[n]),
                    1 => format!("\"{}\",{},{},\"{}\",{}\n", ids[id], ns[n], xs[x], cs[c], notes[c]),
                    _ => format!("{},{},{},{},{}\n", ids[id], ns[n], xs[x], cs[c], notes[3 - c]),
                })
                .collect();
            let sample_size = 3;
            let whole = check_csv(&plan, &layout, lines.concat().as_bytes(), sample_size);
            let mut expected = Found::default();
            for (row, line) in lines.iter().enumerate() {
                let alone = check_csv(&plan, &layout, line.as_bytes(), sample_size);
                gather(&mut expected, &alone, row as u64, sample_size);
            }
            let mut found = Found::default();
            gather(&mut found, &whole, 0, sample_size);
            proptest::prop_assert_eq!(whole.rows, lines.len() as u64);
            // Every whole record with an id is a key occurrence.
            let keyed = records.iter().filter(|r| r.4 != 0 && !ids[r.0].is_empty()).count();
            proptest::prop_assert_eq!(found.3.len(), keyed);
            proptest::prop_assert_eq!(found, expected);
        }
    }

    /// `batches` as one block, their columns read in place (`typed`), else as text copied
    /// into the arena: appended and checked whole, or (`by_batch`) checked a batch at a time as
    /// a typed unit is, each batch's rows numbered from where it starts in the block. The
    /// findings, and how many in-place parts the rows held last.
    fn check_batches(
        plan: &Plan,
        layout: &SourceLayout,
        batches: &[arrow_array::RecordBatch],
        typed: bool,
        by_batch: bool,
    ) -> (BlockFindings, usize) {
        let dtypes = plan.dtypes();
        let reading = crate::formats::arrow::Reading {
            dtypes: &dtypes,
            typed,
        };
        let mut rows = Rows::default();
        let mut out = BlockFindings::new(plan);
        let mut first = 0;
        for batch in batches {
            crate::formats::arrow::append_batch("t", batch, layout, reading, |f| f, &mut rows)
                .expect("appends");
            if by_batch {
                check_rows(plan, layout, &[], (&rows, first), 3, &mut out);
                first += batch.num_rows();
                rows.clear();
            }
        }
        if !by_batch {
            check_rows(plan, layout, &[], (&rows, 0), 3, &mut out);
        }
        (out, rows.in_place.len())
    }

    proptest::proptest! {
        /// Typed columns read where they lie (strings of any Arrow layout, sliced, in several
        /// batches; ints and floats, a key, a row rule's operands) find what their text copied
        /// into the arena finds: counts, samples, each row's rules in order, keys, null counts —
        /// with and without non-empty null markers; and so does the block checked a batch at a
        /// time. The key and the two-float rule are done whole (`row_whole`); with `pair_only`
        /// that rule is the only one, and the row pass only joins failures. A batch whose
        /// numbers all pass a check settles it by their span (`n`, `v`, and `x` where no value
        /// is a NaN or an infinity).
        #[test]
        fn a_column_read_in_place_finds_what_its_copied_text_finds(
            records in proptest::collection::vec((0usize..12, 0usize..12, 0usize..12, 0i64..4, 0usize..8), 1..120),
            cuts in proptest::collection::vec(0usize..120, 0..3),
            layout_kind in 0usize..3,
            skip in 0usize..3,
            markers in proptest::bool::ANY,
            pair_only in proptest::bool::ANY,
        ) {
            use std::sync::Arc;
            use arrow_array::{ArrayRef, Float64Array, Int64Array, LargeStringArray, RecordBatch,
                StringArray, StringViewArray};
            let null_values = if markers { r#"["", "NA", "NaN"]"# } else { r#"[""]"# };
            let pair = r#"{"name": "x_over_v", "expr": {"type": "binary", "op": "ge",
                "left": {"type": "col", "name": "x"}, "right": {"type": "col", "name": "v"}}}"#;
            let row_rules = if pair_only {
                pair.to_owned()
            } else {
                format!(r#"{{"name": "n_small", "expr": {{"type": "binary", "op": "lt",
                    "left": {{"type": "col", "name": "n"}}, "right": {{"type": "lit", "value": 3}}}}}},
                    {pair},
                    {{"name": "x_within_n", "expr": {{"type": "binary", "op": "le",
                    "left": {{"type": "col", "name": "x"}}, "right": {{"type": "col", "name": "n"}}}}}}"#)
            };
            let spec = crate::spec::Spec::from_json(&format!(r#"{{"spec_version": 1,
                "csv": {{"null_values": {null_values}}}, "columns": [
                {{"name": "s", "dtype": "str", "sensitive": true, "checks": [
                    {{"type": "pattern", "pattern": "^[a-c]+$"}}, {{"type": "max_length", "value": 3}}]}},
                {{"name": "t", "dtype": "str", "nullable": true,
                  "checks": [{{"type": "isin", "values": ["a", "abc", "NA"]}}]}},
                {{"name": "k", "dtype": "str", "nullable": true, "checks": [{{"type": "unique"}}]}},
                {{"name": "n", "dtype": "int", "checks": [{{"type": "gt", "value": 0}},
                    {{"type": "isin", "values": [1, 2, 3, 70]}}]}},
                {{"name": "x", "dtype": "float", "nullable": true, "checks": [{{"type": "ge", "value": 0}}]}},
                {{"name": "u", "dtype": "float"}},
                {{"name": "v", "dtype": "float", "nullable": true,
                  "checks": [{{"type": "lt", "value": 2}}]}},
                {{"name": "p", "dtype": "str", "nullable": true, "checks": [
                    {{"type": "pattern", "pattern": "^[a-c]{{3}}$"}}, {{"type": "max_length", "value": 3}},
                    {{"type": "isin", "values": ["abc", "zz", "caf\u00e9", "abcabcabcabcabc"]}}]}}],
                "row_rules": [{row_rules}],
                "dataset_checks": [{{"metric": "mean", "column": "x", "min": 0}}]}}"#))
                .expect("a spec");
            let plan = Plan::compile(spec, &[]).expect("compiles");
            let names = ["s", "t", "k", "n", "x", "u", "v", "p"].map(str::to_owned).to_vec();
            let layout = plan.layout("t.parquet", names).expect("a layout");

            // Short values and long ones (a string view inlines twelve bytes at most).
            let pool = [None, Some(""), Some("NA"), Some("a"), Some("abc"), Some("abcd"),
                Some("caf\u{e9}"), Some("a\0b"), Some("zz"), Some("abcabcabcabcabc"),
                Some("caf\u{e9}caf\u{e9}caf\u{e9}"), Some("abcabcabcabc\0z")];
            // `skip` leading rows are sliced away: the arrays' first offsets are not zero.
            let column = |pick: fn(&(usize, usize, usize, i64, usize)) -> usize| -> Vec<Option<&str>> {
                std::iter::repeat_n(Some("lead"), skip)
                    .chain(records.iter().map(|r| pool[pick(r)]))
                    .collect()
            };
            let strings = |values: Vec<Option<&str>>| -> ArrayRef {
                match layout_kind {
                    0 => Arc::new(StringArray::from(values)),
                    1 => Arc::new(LargeStringArray::from(values)),
                    _ => Arc::new(StringViewArray::from(values)),
                }
            };
            let numbers: Vec<i64> = std::iter::repeat_n(1, skip)
                .chain(records.iter().map(|r| r.3))
                .collect();
            let floats = [None, Some(0.5), Some(-2.0), Some(f64::NAN), Some(f64::INFINITY), Some(3.0), Some(1e300), Some(-0.5)];
            let xs: Vec<Option<f64>> = std::iter::repeat_n(Some(1.0), skip)
                .chain(records.iter().map(|r| floats[r.4]))
                .collect();
            let vs: Vec<Option<f64>> = std::iter::repeat_n(Some(1.0), skip)
                .chain(records.iter().map(|r| floats[(r.4 + r.0) % 8]))
                .collect();
            let whole = RecordBatch::try_from_iter([
                ("s", strings(column(|r| r.0))),
                ("t", strings(column(|r| r.1))),
                ("k", strings(column(|r| r.2))),
                ("n", Arc::new(Int64Array::from(numbers)) as ArrayRef),
                ("x", Arc::new(Float64Array::from(xs.clone())) as ArrayRef),
                // Read by nothing but its type and null rules.
                ("u", Arc::new(Float64Array::from(xs)) as ArrayRef),
                ("v", Arc::new(Float64Array::from(vs)) as ArrayRef),
                // A fixed-shape pattern first: a value it accepts is a `str` by itself.
                ("p", strings(column(|r| (r.0 + r.2) % 12))),
            ])
            .expect("a batch")
            .slice(skip, records.len());
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c % records.len()).collect();
            bounds.extend([0, records.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let batches: Vec<RecordBatch> = bounds
                .windows(2)
                .map(|w| whole.slice(w[0], w[1] - w[0]))
                .collect();

            let (copied, none_in_place) = check_batches(&plan, &layout, &batches, false, false);
            let (read_in_place, parts) = check_batches(&plan, &layout, &batches, true, false);
            proptest::prop_assert_eq!(none_in_place, 0);
            // Every column, the key and the row rules' operands too.
            proptest::prop_assert_eq!(parts, 8 * batches.len());
            let (mut expected, mut found) = (Found::default(), Found::default());
            gather(&mut expected, &copied, 0, 3);
            gather(&mut found, &read_in_place, 0, 3);
            proptest::prop_assert_eq!(read_in_place.rows, records.len() as u64);
            proptest::prop_assert_eq!(&found, &expected);
            // The statistics a dataset check reads (`x`'s sum), value for value.
            let stats = |block: &BlockFindings| format!("{:?}", block.stats);
            proptest::prop_assert_eq!(stats(&read_in_place), stats(&copied));
            // Checked a batch at a time into one block's findings: the same, rows numbered
            // across the batches.
            let (sliced, _) = check_batches(&plan, &layout, &batches, true, true);
            let mut found_sliced = Found::default();
            gather(&mut found_sliced, &sliced, 0, 3);
            proptest::prop_assert_eq!(sliced.rows, records.len() as u64);
            proptest::prop_assert_eq!(found_sliced, expected);
        }
    }

    /// A block of two batches whose date column is read in place in the first and as text in
    /// the second (a date past the year 9999 has no native meaning) finds what the text path
    /// finds for both: the rows outside the in-place array take the text loop, and a key's
    /// text comes from whichever holds its row.
    #[test]
    fn a_column_in_place_in_one_batch_and_text_in_another_finds_what_its_text_finds() {
        use arrow_array::{ArrayRef, Date32Array, RecordBatch};
        use std::sync::Arc;
        let spec = crate::spec::Spec::from_json(
            r#"{"spec_version": 1, "columns": [{"name": "d", "dtype": "date", "nullable": true,
                "checks": [{"type": "ge", "value": "2000-01-01"}, {"type": "unique"}]}]}"#,
        )
        .expect("a spec");
        let plan = Plan::compile(spec, &[]).expect("compiles");
        let layout = plan
            .layout("t.parquet", vec!["d".to_owned()])
            .expect("a layout");
        let batch = |days: Vec<Option<i32>>| {
            RecordBatch::try_from_iter([("d", Arc::new(Date32Array::from(days)) as ArrayRef)])
                .expect("a batch")
        };
        let batches = [
            batch(vec![Some(10_957), Some(0), None, Some(11_000)]),
            batch(vec![Some(2_932_897), Some(10_957), Some(11_001), None]),
        ];
        let (as_text, _) = check_batches(&plan, &layout, &batches, false, false);
        let (mixed, parts) = check_batches(&plan, &layout, &batches, true, false);
        assert_eq!(parts, 1, "only the first batch is read in place");
        let (mut expected, mut found) = (Found::default(), Found::default());
        gather(&mut expected, &as_text, 0, 3);
        gather(&mut found, &mixed, 0, 3);
        assert_eq!(mixed.rows, 8);
        assert_eq!(found, expected);
        // 1970 fails `ge` (in place), the year 10000 fails `type` (text); every other non-null
        // date is a key occurrence, from either read (repeats resolve run-wide, later).
        assert_eq!(found.2.len(), 2, "{:?}", found.2);
        assert_eq!(found.3.len(), 5);
    }

    #[test]
    fn an_inlined_view_is_plain_exactly_when_its_bytes_are_ascii_without_nul() {
        // A long value (or a length no value has) is never inlined.
        for len in [13u128, 16, 255, 256, 1 << 31, u128::from(u32::MAX)] {
            let view = len | u128::from_le_bytes([b'a'; 16]) & !0xFFFF_FFFF;
            assert!(!plain_inlined(view), "{len}");
            assert!(
                !plain_inlined_halves([view as u64, (view >> 64) as u64]),
                "{len}"
            );
        }
        for len in 0..=12usize {
            for at in 0..len.max(1) {
                for byte in [0u8, 1, b'A', 0x7F, 0x80, 0xC3, 0xFF] {
                    let mut bytes = [b'a'; 12];
                    if len > 0 {
                        bytes[at] = byte;
                    }
                    // Whatever lies past the value (a view pads with zeros) decides nothing.
                    for rest in [0u8, 0x80] {
                        let mut inlined = bytes;
                        inlined[len..].fill(rest);
                        let mut view = len as u128;
                        for (i, b) in inlined.iter().enumerate() {
                            view |= u128::from(*b) << (32 + 8 * i);
                        }
                        let plain = len > 0 && bytes[..len].iter().all(|&b| (1..0x80).contains(&b));
                        assert_eq!(plain_inlined(view), plain, "{len} {at} {byte:#x} {rest:#x}");
                        let halves = [view as u64, (view >> 64) as u64];
                        assert_eq!(plain_inlined_halves(halves), plain, "{len} {at} {byte:#x}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Each data buffer's proven span is what every long view pointing there spans, however
        /// the views interleave their buffers (a `take` of a many-buffer array): NUL and
        /// non-ASCII values included, short values and nulls pointing nowhere.
        #[test]
        fn view_spans_cover_each_buffers_long_values(
            texts in proptest::collection::vec(
                proptest::option::of("[a-z\u{0}é]{0,30}"), 1..300),
            block in 16u32..200,
            order in proptest::collection::vec(proptest::num::usize::ANY, 1..300),
        ) {
            let mut builder = arrow_array::builder::StringViewBuilder::new()
                .with_fixed_block_size(block);
            for text in &texts {
                builder.append_option(text.as_deref());
            }
            let built = builder.finish();
            let picks: Vec<u32> =
                order.iter().map(|&i| (i % texts.len()) as u32).collect();
            let taken = arrow_select::take::take(
                &built,
                &arrow_array::UInt32Array::from(picks),
                None,
            )
            .expect("take");
            let strings = taken.as_string_view();
            let mut expected = vec![(usize::MAX, 0usize); strings.data_buffers().len()];
            for &view in strings.views().iter() {
                if let Some((buffer, offset, len)) = long_view(view) {
                    let span = &mut expected[buffer];
                    *span = (span.0.min(offset), span.1.max(offset + len));
                }
            }
            let proven = views_proven(strings);
            if !expected.is_empty() {
                proptest::prop_assert_eq!(proven.len(), expected.len());
            }
            for (proven, (buffer, &(from, end))) in proven.iter().zip(expected.iter().enumerate()) {
                let bytes = strings.data_buffers()[buffer].as_slice();
                let clean = if from < end { CleanPrefix::of(&bytes[from..end]) } else { CleanPrefix::default() };
                let from = if from < end { from } else { 0 };
                proptest::prop_assert_eq!(
                    (proven.from, proven.clean.len(), proven.clean.is_ascii()),
                    (from, clean.len(), clean.is_ascii())
                );
            }
        }
    }
}
