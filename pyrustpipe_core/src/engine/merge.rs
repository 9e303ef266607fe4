//! Pass 1's merge: the checked blocks folded in order into one run-wide state, with the
//! repeated keys and external rules' failures, and the final failure list.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::pipeline::Work;
use crate::check::BlockFindings;
use crate::error::{Error, Position, Result};
use crate::formats::csv::block::{first_longer_than, BlockEnd};
use crate::formats::csv::parser::{Dialect, Parser};
use crate::formats::csv::reader::MAX_RECORD_BYTES;
use crate::formats::Format;
use crate::plan::Plan;
use crate::report::Sample;
use crate::rules::dataset::ColumnStats;
use crate::rules::unique::{FirstSeen, HashTable};
use crate::rules::RuleId;

use super::keys::{self, Grouped, KeyLog};
use super::produce::{check_block, Checked, SourceCtx};
use super::ExternalRuleResult;

pub(super) struct SourceState {
    pub(super) ctx: Arc<SourceCtx>,
    pub(super) row_start: u64,
    pub(super) rows: u64,
    pub(super) blank_lines: u64,
    pub(super) quote_garbage: u64,
    /// 1-based line where the next block starts.
    next_line: u64,
    /// Rows of the object before this run's first (a split's), so rows are numbered globally.
    row_offset: u64,
    /// Columns found in rows that the schema does not name (NDJSON keys).
    pub(super) unknown_columns: std::collections::BTreeSet<String>,
}

/// Per rule, whether the blocks merged so far hold the run's samples of it. The merge takes a
/// rule's first `sample_size` samples in row order, and blocks merge in row order, so a block
/// checked once its rule is full would have its samples dropped: it takes none (a sample's
/// message and texts cost more than the check that failed).
#[derive(Debug)]
pub(super) struct SamplesFull(Vec<AtomicBool>);

impl SamplesFull {
    /// Which rules a block checked now should sample.
    pub(super) fn sampled(&self) -> Vec<bool> {
        self.0
            .iter()
            .map(|full| !full.load(Ordering::Relaxed))
            .collect()
    }
}

/// The merged state of pass 1.
pub(super) struct Merger<'a> {
    plan: &'a Plan,
    pub(super) sample_size: usize,
    /// Set as each rule's samples fill; the workers read it.
    pub(super) samples_full: Arc<SamplesFull>,
    /// Records longer than this are an error (the run's `max_record_bytes`).
    pub(super) max_record_bytes: usize,
    pub(super) counts: Vec<u64>,
    pub(super) samples: Vec<Vec<Sample>>,
    failed_rows: Vec<u64>,
    failure_starts: Vec<usize>,
    failed_rules: Vec<RuleId>,
    /// Failures found while merging (repeated keys, external rules), sorted at the end.
    pub(super) late: Vec<(u64, RuleId)>,
    pub(super) late_samples: Vec<Vec<(u64, Sample)>>,
    /// The blocks' unique-key occurrences, folded when the log is full and after the last block.
    key_log: KeyLog,
    /// Per unique key: each distinct key and where it was first seen (kept for a split).
    first_seen: Vec<Vec<(u128, FirstSeen)>>,
    pub(super) distinct: Vec<HashTable<()>>,
    pub(super) stats: Vec<ColumnStats>,
    pub(super) sources: Vec<SourceState>,
    /// The row-level history checks, loaded before pass 1 (`ledger::row_history`).
    pub(super) row_history: Vec<crate::ledger::row_history::RowCheck>,
    pub(super) total_rows: u64,
    /// A block that ended inside a record: its tail is re-parsed with the next block.
    pub(super) carry: Option<(Vec<u8>, u64)>,
}

impl<'a> Merger<'a> {
    pub(super) fn new(plan: &'a Plan, sample_size: usize, key_fold_at: usize) -> Self {
        Merger {
            plan,
            sample_size,
            samples_full: Arc::new(SamplesFull(
                (plan.rules.iter())
                    .map(|_| AtomicBool::new(sample_size == 0))
                    .collect(),
            )),
            max_record_bytes: MAX_RECORD_BYTES,
            counts: vec![0; plan.rules.len()],
            samples: vec![Vec::new(); plan.rules.len()],
            failed_rows: Vec::new(),
            failure_starts: vec![0],
            failed_rules: Vec::new(),
            late: Vec::new(),
            late_samples: vec![Vec::new(); plan.rules.len()],
            key_log: KeyLog::new(key_fold_at),
            first_seen: Vec::new(),
            distinct: plan
                .distinct_columns
                .iter()
                .map(|_| HashTable::default())
                .collect(),
            stats: vec![ColumnStats::default(); plan.columns.len()],
            sources: Vec::new(),
            row_history: Vec::new(),
            total_rows: 0,
            carry: None,
        }
    }

    /// Per unique key: each distinct key and where it was first seen (a split's side output;
    /// filled by `resolve_keys` when asked).
    pub(super) fn first_seen(&self) -> &[Vec<(u128, FirstSeen)>] {
        &self.first_seen
    }

    /// Take in a checked block; gives back its buffer, spent.
    pub(super) fn merge(&mut self, work: Work<SourceCtx>, checked: Checked) -> Result<Vec<u8>> {
        if let Some(error) = checked.error {
            return Err(error);
        }
        let ctx = work.source.clone();
        if self.sources.last().is_none_or(|s| s.ctx.index != ctx.index) {
            if self.carry.is_some() {
                return Err(Error::Internal(
                    "a record was left incomplete at the end of a source".to_owned(),
                ));
            }
            let next_line = match ctx.split {
                Some(split) => split.first_line,
                None => ctx.header.as_ref().map_or(1, |h| h.next_line),
            };
            self.sources.push(SourceState {
                ctx: ctx.clone(),
                row_start: self.total_rows,
                rows: 0,
                blank_lines: 0,
                quote_garbage: 0,
                next_line,
                row_offset: ctx.split.map_or(0, |s| s.rows_before),
                unknown_columns: std::collections::BTreeSet::new(),
            });
        }
        // The previous block was cut inside a record: this block's result was computed from
        // the wrong start, so parse again from the incomplete record.
        let (buf, offset, checked) = match self.carry.take() {
            None => (work.buf, work.offset, checked),
            Some((mut tail, tail_offset)) => {
                tail.extend_from_slice(&work.buf);
                if tail.len() > self.max_record_bytes + work.buf.len() {
                    let line = self.sources.last().map(|s| s.next_line);
                    return Err(Error::data(
                        "record_too_long",
                        format!(
                            "a record is longer than {} bytes, or a quote is never closed",
                            self.max_record_bytes
                        ),
                        Position {
                            path: Some(ctx.path.clone()),
                            line,
                            byte: Some(tail_offset),
                            column: None,
                        },
                    ));
                }
                let checked = check_block(
                    self.plan,
                    (self.sample_size, &self.samples_full),
                    &ctx,
                    &tail,
                    tail_offset,
                    work.eof,
                );
                (tail, tail_offset, checked)
            }
        };
        if checked.parse.longest_record > self.max_record_bytes {
            return Err(self.record_too_long(&ctx, &buf, offset, work.eof));
        }
        let Checked {
            parse,
            findings,
            keys,
            ..
        } = checked;
        self.absorb(&ctx, findings, keys);
        let source = self
            .sources
            .last_mut()
            .expect("a source was registered above");
        match parse.end {
            BlockEnd::Clean => {}
            BlockEnd::Incomplete { record_start } => {
                self.carry = Some((buf[record_start..].to_vec(), offset + record_start as u64));
            }
            BlockEnd::Unterminated {
                record_start,
                quote_at,
                field_index,
                line_offset,
            } => {
                let column = ctx
                    .layout
                    .as_ref()
                    .and_then(|l| l.names.get(field_index).cloned())
                    .unwrap_or_else(|| format!("field {}", field_index + 1));
                return Err(Error::data(
                    "unterminated_quote",
                    format!(
                        "unterminated quoted field opened at byte {} (the rest of the file would be one field)",
                        offset + quote_at as u64
                    ),
                    Position {
                        path: Some(ctx.path.clone()),
                        line: Some(source.next_line + line_offset),
                        byte: Some(offset + record_start as u64),
                        column: Some(column),
                    },
                ));
            }
        }
        source.next_line += parse.line_breaks;
        source.blank_lines += parse.blank_lines;
        source.quote_garbage += parse.quote_garbage;
        Ok(buf)
    }

    /// The error for the block's first record over `max_record_bytes`, named by its first line
    /// (a file read in one piece never meets the reader's own limit).
    fn record_too_long(&self, ctx: &SourceCtx, buf: &[u8], offset: u64, eof: bool) -> Error {
        let found = match ctx.format {
            Format::Ndjson => crate::formats::ndjson::first_longer_than(buf, self.max_record_bytes),
            _ => first_longer_than(
                &Parser::new(Dialect {
                    delimiter: ctx.delimiter,
                    quote: self.plan.quote,
                }),
                buf,
                eof,
                self.max_record_bytes,
            ),
        };
        let (start, line_offset) = found.unwrap_or((0, 0));
        let first_line = self.sources.last().map_or(1, |s| s.next_line);
        Error::data(
            "record_too_long",
            format!(
                "a record is longer than {} bytes (max_record_bytes)",
                self.max_record_bytes
            ),
            Position {
                path: Some(ctx.path.clone()),
                line: Some(first_line + line_offset),
                byte: Some(offset + start as u64),
                column: None,
            },
        )
    }

    /// Fold one block's findings into the run, placing its rows after everything merged so far.
    fn absorb(&mut self, ctx: &SourceCtx, mut findings: BlockFindings, keys: Vec<Grouped>) {
        let source = self
            .sources
            .last_mut()
            .expect("a source is registered before its blocks");
        let base = self.total_rows;
        let row_in_source = base - source.row_start + source.row_offset;
        let line_base = source.next_line;
        // Where the block's keys are (their rows' lines, for their samples and first sightings).
        let place = keys::BlockPlace {
            base,
            line_base,
            lines: std::mem::take(&mut findings.key_lines),
        };
        for (rule, samples) in findings.samples.iter().enumerate() {
            for sample in samples {
                if self.samples[rule].len() >= self.sample_size {
                    break;
                }
                self.samples[rule].push(Sample {
                    row: row_in_source + sample.row + 1,
                    line: sample.line.map(|l| line_base + l),
                    source: ctx.path.clone(),
                    column: sample.column.clone(),
                    value: sample.value.clone(),
                    message: sample.message.clone(),
                });
            }
            if self.samples[rule].len() >= self.sample_size {
                self.samples_full.0[rule].store(true, Ordering::Relaxed);
            }
        }
        for (total, count) in self.counts.iter_mut().zip(&findings.counts) {
            *total += count;
        }
        for (index, &row) in findings.failed_rows.iter().enumerate() {
            self.failed_rows.push(base + u64::from(row));
            self.failed_rules
                .extend_from_slice(findings.rules_of(index));
            self.failure_starts.push(self.failed_rules.len());
        }
        for (slot, (check, entries)) in self
            .row_history
            .iter_mut()
            .zip(&findings.history_keys)
            .enumerate()
        {
            let column = &self.plan.columns[self.plan.history_keys[slot]];
            let plan = self.plan;
            for entry in entries {
                let text = entry.text_in(&findings.key_text);
                let text = String::from_utf8_lossy(&text);
                #[allow(clippy::cast_possible_truncation)]
                check.observe(
                    place.row(entry),
                    entry.hash as u64,
                    &text,
                    self.sample_size,
                    |value, message| Sample {
                        row: row_in_source + u64::from(entry.row) + 1,
                        line: place.line(entry),
                        source: ctx.path.clone(),
                        column: Some(column.name.clone()),
                        // A sensitive column's value is shown as its token only.
                        value: Some(if column.sensitive {
                            plan.masker.token(value.as_bytes())
                        } else {
                            value
                        }),
                        message,
                    },
                );
            }
        }
        for (slot, hashes) in findings.distinct.iter().enumerate() {
            for &hash in hashes {
                self.distinct[slot].insert(hash, ());
            }
        }
        for (total, stats) in self.stats.iter_mut().zip(&findings.stats) {
            total.merge(stats);
        }
        let source = self.sources.last_mut().expect("checked above");
        source
            .unknown_columns
            .extend(findings.unknown_columns.iter().cloned());
        source.rows += findings.rows;
        self.total_rows += findings.rows;
        if !self.plan.unique_keys.is_empty() {
            let text = std::mem::take(&mut findings.key_text);
            if self.key_log.push(place, keys, text) {
                self.fold_keys(None, false, false);
            }
        }
    }

    /// Finds the repeated unique keys, once every block is in: their rows fail the key's rule
    /// (`late`), counted, with samples; `keep_first_seen` keeps each distinct key (a split's).
    pub(super) fn resolve_keys(&mut self, pool: &rayon::ThreadPool, keep_first_seen: bool) {
        self.fold_keys(Some(pool), true, keep_first_seen);
    }

    /// Folds the logged key occurrences into the key tables (mid-run: on this thread; the `last`
    /// fold on `pool`), counting and sampling the repeats found.
    fn fold_keys(&mut self, pool: Option<&rayon::ThreadPool>, last: bool, keep_first_seen: bool) {
        let plan = self.plan;
        for (index, key) in plan.unique_keys.iter().enumerate() {
            let mut resolved = self
                .key_log
                .resolve(pool, index, key, last, keep_first_seen);
            let rule = key.rule as usize;
            self.counts[rule] += resolved.failures.len() as u64;
            self.late
                .extend(resolved.failures.iter().map(|f| (f.row, key.rule)));
            // A one-column key's samples name the column; a composite key's name none.
            let column = match key.columns.as_slice() {
                [column] => Some(plan.columns[*column].name.clone()),
                _ => None,
            };
            // A key with a sensitive column keeps its whole text here and is masked as one
            // token by the report (after the samples are cut to size, so few are hashed).
            let sensitive = key.columns.iter().any(|&c| plan.columns[c].sensitive);
            for failure in keys::first_rows(&mut resolved.failures, self.sample_size) {
                let text = self.key_log.text(failure);
                let text = String::from_utf8_lossy(&text);
                let shown = if sensitive {
                    text.into_owned()
                } else {
                    text.chars().take(200).collect()
                };
                let at = locate(&self.sources, failure.row);
                push_bounded(
                    &mut self.late_samples[rule],
                    self.sample_size,
                    failure.row,
                    keys::sample(failure, at, column.clone(), shown),
                );
            }
            if last && keep_first_seen {
                self.first_seen.push(resolved.first_seen);
            }
        }
        self.key_log.clear_blocks();
    }
}

/// Keep the `limit` smallest rows; sorting and cutting now and then keeps memory bounded.
fn push_bounded(list: &mut Vec<(u64, Sample)>, limit: usize, row: u64, sample: Sample) {
    list.push((row, sample));
    if list.len() >= 4 * limit.max(1) {
        list.sort_by_key(|(r, _)| *r);
        list.truncate(limit);
    }
}

/// Source path and 1-based row within it of a run-wide row index.
fn locate(sources: &[SourceState], row: u64) -> (String, u64) {
    let index = sources
        .partition_point(|s| s.row_start <= row)
        .saturating_sub(1);
    let source = &sources[index];
    (
        source.ctx.path.clone(),
        row - source.row_start + 1 + source.row_offset,
    )
}

/// The final failure list: run-wide row → failed rules, in row order.
pub(super) struct Failures {
    pub(super) rows: Vec<u64>,
    starts: Vec<usize>,
    rules: Vec<RuleId>,
}

impl Failures {
    pub(super) fn rules_of(&self, index: usize) -> &[RuleId] {
        &self.rules[self.starts[index]..self.starts[index + 1]]
    }
}

pub(super) fn combine(merger: &mut Merger<'_>) -> Failures {
    let mut late = std::mem::take(&mut merger.late);
    late.sort_unstable();
    late.dedup();
    let mut out = Failures {
        rows: Vec::with_capacity(merger.failed_rows.len()),
        starts: vec![0],
        rules: Vec::with_capacity(merger.failed_rules.len() + late.len()),
    };
    let (mut i, mut j) = (0, 0);
    while i < merger.failed_rows.len() || j < late.len() {
        let row_a = merger.failed_rows.get(i).copied().unwrap_or(u64::MAX);
        let row_b = late.get(j).map_or(u64::MAX, |l| l.0);
        let row = row_a.min(row_b);
        if row_a == row {
            out.rules.extend_from_slice(
                &merger.failed_rules[merger.failure_starts[i]..merger.failure_starts[i + 1]],
            );
            i += 1;
        }
        while j < late.len() && late[j].0 == row {
            out.rules.push(late[j].1);
            j += 1;
        }
        out.rows.push(row);
        out.starts.push(out.rules.len());
    }
    out
}

pub(super) fn add_external(merger: &mut Merger<'_>, external: &[ExternalRuleResult]) -> Result<()> {
    for (index, result) in external.iter().enumerate() {
        let rule = merger.plan.external_rules[index];
        for failure in &result.failures {
            let source = merger
                .sources
                .iter()
                .find(|s| s.ctx.path == failure.source)
                .ok_or_else(|| {
                    Error::option(
                        format!("external_rules[{index}]"),
                        format!("unknown source {:?}", failure.source),
                    )
                })?;
            if failure.row == 0 || failure.row > source.rows {
                return Err(Error::option(
                    format!("external_rules[{index}]"),
                    format!(
                        "row {} is outside {:?} ({} rows)",
                        failure.row, failure.source, source.rows
                    ),
                ));
            }
            let global = source.row_start + failure.row - 1;
            let message = if failure.message.is_empty() {
                "row rule is false".to_owned()
            } else if failure.sensitive_values.is_empty() {
                failure.message.clone()
            } else {
                merger
                    .plan
                    .masker
                    .redact(&failure.message, &failure.sensitive_values)
            };
            let sample = Sample {
                row: failure.row,
                line: None,
                source: failure.source.clone(),
                column: None,
                value: None,
                message,
            };
            merger.late.push((global, rule));
            merger.counts[rule as usize] += 1;
            push_bounded(
                &mut merger.late_samples[rule as usize],
                merger.sample_size,
                global,
                sample,
            );
        }
    }
    Ok(())
}
