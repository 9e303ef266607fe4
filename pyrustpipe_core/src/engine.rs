//! One validation run: pass 1 checks every row of every source in parallel and merges the
//! findings in order; the run's decisions (uniqueness, tolerances, dataset checks) are made on
//! the merged whole; pass 2, only when outputs are asked for, streams the sources again and
//! routes each record to the valid or quarantine output. Outputs are written to temporary names
//! and renamed only after conservation (valid + quarantined = total) has been checked.

use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::arrow::BatchStore;
use crate::check::{check_rows, BlockFindings, Rows};
use crate::csv::block::{parse_records, parse_rows, BlockEnd, BlockParse, RecordBytes};
use crate::csv::parser::{Dialect, Parser};
use crate::csv::reader::{BlockReader, Header, MAX_RECORD_BYTES};
use crate::error::{Error, Position, Result};
use crate::pipeline::{self, Producer, Work};
use crate::plan::{Plan, SourceLayout};
use crate::report::{Outputs, Report, RuleResult, Sample, SourceSummary, REPORT_VERSION};
use crate::rules::dataset::ColumnStats;
use crate::rules::unique::{FirstSeen, HashTable};
use crate::rules::{RuleId, Scope};
use crate::sink::{AtomicFile, CsvSink};
use crate::source::Format;
use crate::spec::{Keep, Severity, Tolerance};
use crate::storage::{SourceObject, Storage};

pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One failure of an external (Python) rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalFailure {
    pub source: String,
    pub row: u64,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRuleResult {
    pub name: String,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub tolerance: Option<Tolerance>,
    #[serde(default)]
    pub failures: Vec<ExternalFailure>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    pub threads: Option<usize>,
    #[serde(default = "default_sample_size")]
    pub sample_size: usize,
    #[serde(default)]
    pub chunk_size: Option<usize>,
    #[serde(default)]
    pub valid_output: Option<String>,
    #[serde(default)]
    pub quarantine: Option<String>,
    #[serde(default)]
    pub metrics_output: Option<String>,
    #[serde(default)]
    pub allow_empty: bool,
    #[serde(default)]
    pub external_rules: Vec<ExternalRuleResult>,
    /// Accepted for the S3 backend; local runs ignore it.
    #[serde(default)]
    pub storage_options: Option<serde_json::Map<String, Json>>,
}

fn default_sample_size() -> usize {
    20
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: None,
            sample_size: default_sample_size(),
            chunk_size: None,
            valid_output: None,
            quarantine: None,
            metrics_output: None,
            allow_empty: false,
            external_rules: Vec::new(),
            storage_options: None,
        }
    }
}

pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;

/// What the workers need to know about the source a block comes from.
pub struct SourceCtx {
    pub index: usize,
    pub path: String,
    pub format: Format,
    pub layout: Option<SourceLayout>,
    pub header: Option<Header>,
    pub bytes: u64,
    /// For Parquet: a local copy of the object (the file itself when it is local).
    pub local: Option<crate::storage::LocalCopy>,
    /// For an in-memory table: its batches, one per unit of work.
    pub batches: Option<BatchStore>,
}

impl SourceCtx {
    /// The local file to read random-access formats from.
    pub fn data_path(&self) -> String {
        self.local
            .as_ref()
            .map_or_else(|| self.path.clone(), |l| l.path.display().to_string())
    }
}

struct SourceProducer<'a> {
    sources: &'a [SourceObject],
    storage: &'a Storage,
    plan: &'a Plan,
    chunk_size: usize,
    allow_empty: bool,
}

/// Marks the unit of work of a Parquet source without row groups.
const NO_ROW_GROUP: u64 = u64::MAX;

impl SourceProducer<'_> {
    /// One unit of work per row group. `false` when the merge stopped early.
    fn produce_parquet(
        &self,
        index: usize,
        path: &str,
        emit: &mut dyn FnMut(Arc<SourceCtx>, Vec<u8>, u64, bool) -> bool,
    ) -> Result<bool> {
        let source = &self.sources[index];
        let bytes = source.size;
        // Parquet needs random access: an S3 object is downloaded once and read locally.
        let local = self.storage.local_copy(source)?;
        let local_path = local.path.display().to_string();
        let (names, temporal, row_groups) = crate::parquet::describe(&local_path)?;
        let mut layout = self.plan.layout(path, names)?;
        for (column, field) in layout.field_of.iter().enumerate() {
            if let Some(field) = field {
                layout.iso_text[column] = temporal[*field];
            }
        }
        let ctx = Arc::new(SourceCtx {
            index,
            path: path.to_owned(),
            format: Format::Parquet,
            layout: Some(layout),
            header: None,
            bytes,
            local: Some(local),
            batches: None,
        });
        if row_groups == 0 {
            return Ok(emit(ctx, Vec::new(), NO_ROW_GROUP, true));
        }
        for row_group in 0..row_groups {
            if !emit(
                ctx.clone(),
                Vec::new(),
                row_group as u64,
                row_group + 1 == row_groups,
            ) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Producer<SourceCtx> for SourceProducer<'_> {
    fn produce(
        &mut self,
        emit: &mut dyn FnMut(Arc<SourceCtx>, Vec<u8>, u64, bool) -> bool,
    ) -> Result<()> {
        let parser = Parser::new(Dialect {
            delimiter: self.plan.delimiter,
            quote: self.plan.quote,
        });
        for (index, source) in self.sources.iter().enumerate() {
            let path = &source.uri;
            let format = Format::of(path);
            if format == Format::Parquet {
                if !self.produce_parquet(index, path, emit)? {
                    return Ok(());
                }
                continue;
            }
            let bytes = source.size;
            let mut reader =
                BlockReader::from_reader(path, self.storage.open(source)?, self.chunk_size);
            let (header, layout) = match format {
                Format::Csv => {
                    let header = reader.header(&parser)?;
                    let layout = match &header {
                        Some(h) => Some(self.plan.layout(path, h.names.clone())?),
                        None => None,
                    };
                    (header, layout)
                }
                // NDJSON rows name their fields: every schema column is looked up by name.
                _ => (None, (bytes > 0).then(|| self.plan.named_layout())),
            };
            if layout.is_none() && !self.allow_empty {
                return Err(Error::data(
                    "empty_input",
                    "the file is empty; pass allow_empty=True to accept empty sources",
                    Position {
                        path: Some(path.clone()),
                        ..Position::default()
                    },
                ));
            }
            let ctx = Arc::new(SourceCtx {
                index,
                path: path.clone(),
                format,
                layout,
                header,
                bytes,
                local: None,
                batches: None,
            });
            let mut sent = false;
            while let Some(block) = reader.next_block()? {
                sent = true;
                if !emit(ctx.clone(), block.buf, block.offset, block.eof) {
                    return Ok(());
                }
            }
            // Every source passes through the merge, even one without data rows.
            if !sent && !emit(ctx.clone(), Vec::new(), bytes, true) {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Produces the units of an in-memory table: its batches, cut into slices.
struct ArrowProducer<'a> {
    source: crate::arrow::ArrowSource,
    plan: &'a Plan,
    /// Keep the batches after checking, for the outputs.
    keep: bool,
}

impl Producer<SourceCtx> for ArrowProducer<'_> {
    fn produce(
        &mut self,
        emit: &mut dyn FnMut(Arc<SourceCtx>, Vec<u8>, u64, bool) -> bool,
    ) -> Result<()> {
        let name = self.source.name.clone();
        let (names, temporal) = crate::arrow::describe_schema(&self.source.reader.schema());
        let mut layout = self.plan.layout(&name, names)?;
        for (column, field) in layout.field_of.iter().enumerate() {
            if let Some(field) = field {
                layout.iso_text[column] = temporal[*field];
            }
        }
        let ctx = Arc::new(SourceCtx {
            index: 0,
            path: name.clone(),
            format: Format::Arrow,
            layout: Some(layout),
            header: None,
            bytes: 0,
            local: None,
            batches: Some(BatchStore::new(self.source.reader.schema(), self.keep)),
        });
        let store = ctx.batches.as_ref().expect("set above");
        let mut sent = false;
        for batch in self.source.reader.by_ref() {
            let batch = batch.map_err(|e| {
                Error::data(
                    "arrow_stream",
                    format!("cannot read the next batch of the table: {e}"),
                    Position {
                        path: Some(name.clone()),
                        ..Position::default()
                    },
                )
            })?;
            for unit in crate::arrow::units(&batch) {
                sent = true;
                let index = store.push(unit);
                if !emit(ctx.clone(), Vec::new(), index, true) {
                    return Ok(());
                }
            }
        }
        // The source passes through the merge even without rows.
        if !sent {
            emit(ctx.clone(), Vec::new(), NO_ROW_GROUP, true);
        }
        Ok(())
    }
}

/// Pass-1 result of one block.
pub struct Checked {
    parse: BlockParse,
    findings: BlockFindings,
    error: Option<Error>,
}

fn check_block(
    plan: &Plan,
    sample_size: usize,
    ctx: &SourceCtx,
    buf: &[u8],
    unit: u64,
    eof: bool,
) -> Checked {
    let mut findings = BlockFindings::new(plan);
    let Some(layout) = &ctx.layout else {
        return Checked {
            parse: BlockParse::clean(),
            findings,
            error: None,
        };
    };
    let parser = Parser::new(Dialect {
        delimiter: plan.delimiter,
        quote: plan.quote,
    });
    // Each worker reuses its row buffers: fresh ones per block cost page faults.
    thread_local! {
        static ROWS: std::cell::RefCell<Rows> = std::cell::RefCell::new(Rows::default());
    }
    ROWS.with(|cell| {
        let mut rows = cell.borrow_mut();
        rows.clear();
        let parse = match ctx.format {
            Format::Ndjson => {
                crate::ndjson::parse_rows(plan, buf, &mut rows, &mut findings.unknown_columns)
            }
            Format::Parquet => {
                if unit != NO_ROW_GROUP {
                    let row_group = usize::try_from(unit).unwrap_or(usize::MAX);
                    if let Err(error) =
                        crate::parquet::parse_rows(&ctx.data_path(), row_group, layout, &mut rows)
                    {
                        return Checked {
                            parse: BlockParse::clean(),
                            findings,
                            error: Some(error),
                        };
                    }
                }
                BlockParse::clean()
            }
            Format::Arrow => {
                let batch = ctx.batches.as_ref().and_then(|store| store.get(unit));
                if let Some(batch) = batch {
                    if let Err(error) =
                        crate::arrow::append_batch(&ctx.path, &batch, layout, |f| f, &mut rows)
                    {
                        return Checked {
                            parse: BlockParse::clean(),
                            findings,
                            error: Some(error),
                        };
                    }
                }
                BlockParse::clean()
            }
            Format::Csv => parse_rows(&parser, layout, buf, eof, &mut rows),
        };
        check_rows(plan, layout, buf, &rows, sample_size, &mut findings);
        Checked {
            parse,
            findings,
            error: None,
        }
    })
}

struct SourceState {
    ctx: Arc<SourceCtx>,
    row_start: u64,
    rows: u64,
    blank_lines: u64,
    quote_garbage: u64,
    /// 1-based line where the next block starts.
    next_line: u64,
    /// Columns found in rows that the schema does not name (NDJSON keys).
    unknown_columns: std::collections::BTreeSet<String>,
}

/// The merged state of pass 1.
struct Merger<'a> {
    plan: &'a Plan,
    sample_size: usize,
    counts: Vec<u64>,
    samples: Vec<Vec<Sample>>,
    failed_rows: Vec<u64>,
    failure_starts: Vec<usize>,
    failed_rules: Vec<RuleId>,
    /// Failures found while merging (repeated keys, external rules), sorted at the end.
    late: Vec<(u64, RuleId)>,
    late_samples: Vec<Vec<(u64, Sample)>>,
    key_tables: Vec<HashTable<FirstSeen>>,
    distinct: Vec<HashTable<()>>,
    stats: Vec<ColumnStats>,
    sources: Vec<SourceState>,
    total_rows: u64,
    /// A block that ended inside a record: its tail is re-parsed with the next block.
    carry: Option<(Vec<u8>, u64)>,
    total_bytes: u64,
    keys_reserved: bool,
}

impl<'a> Merger<'a> {
    fn new(plan: &'a Plan, sample_size: usize, total_bytes: u64) -> Self {
        Merger {
            plan,
            sample_size,
            counts: vec![0; plan.rules.len()],
            samples: vec![Vec::new(); plan.rules.len()],
            failed_rows: Vec::new(),
            failure_starts: vec![0],
            failed_rules: Vec::new(),
            late: Vec::new(),
            late_samples: vec![Vec::new(); plan.rules.len()],
            key_tables: plan
                .unique_keys
                .iter()
                .map(|_| HashTable::default())
                .collect(),
            distinct: plan
                .distinct_columns
                .iter()
                .map(|_| HashTable::default())
                .collect(),
            stats: vec![ColumnStats::default(); plan.columns.len()],
            sources: Vec::new(),
            total_rows: 0,
            carry: None,
            total_bytes,
            keys_reserved: false,
        }
    }

    fn merge(&mut self, work: Work<SourceCtx>, checked: Checked) -> Result<()> {
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
            let next_line = ctx.header.as_ref().map_or(1, |h| h.next_line);
            self.sources.push(SourceState {
                ctx: ctx.clone(),
                row_start: self.total_rows,
                rows: 0,
                blank_lines: 0,
                quote_garbage: 0,
                next_line,
                unknown_columns: std::collections::BTreeSet::new(),
            });
        }
        // The previous block was cut inside a record: this block's result was computed from
        // the wrong start, so parse again from the incomplete record.
        let (buf, offset, checked) = match self.carry.take() {
            None => (work.buf, work.offset, checked),
            Some((mut tail, tail_offset)) => {
                tail.extend_from_slice(&work.buf);
                if tail.len() > MAX_RECORD_BYTES + work.buf.len() {
                    let line = self.sources.last().map(|s| s.next_line);
                    return Err(Error::data(
                        "record_too_long",
                        format!("a record is longer than {MAX_RECORD_BYTES} bytes, or a quote is never closed"),
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
                    self.sample_size,
                    &ctx,
                    &tail,
                    tail_offset,
                    work.eof,
                );
                (tail, tail_offset, checked)
            }
        };
        self.reserve_keys(buf.len(), checked.findings.rows);
        self.absorb(&ctx, &checked.findings);
        let source = self
            .sources
            .last_mut()
            .expect("a source was registered above");
        match checked.parse.end {
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
        source.next_line += checked.parse.line_breaks;
        source.blank_lines += checked.parse.blank_lines;
        source.quote_garbage += checked.parse.quote_garbage;
        Ok(())
    }

    /// Size the key tables once, from the first block's bytes per row and the run's total size:
    /// growing a large table step by step costs rehashing and page faults.
    fn reserve_keys(&mut self, block_bytes: usize, block_rows: u64) {
        if self.keys_reserved || block_rows == 0 || block_bytes == 0 {
            return;
        }
        self.keys_reserved = true;
        let estimate = self.total_bytes.saturating_mul(block_rows) / block_bytes as u64;
        let estimate = usize::try_from(estimate.min(50_000_000)).unwrap_or(0);
        for table in &mut self.key_tables {
            table.reserve(estimate);
        }
    }

    /// Fold one block's findings into the run, placing its rows after everything merged so far.
    fn absorb(&mut self, ctx: &SourceCtx, findings: &BlockFindings) {
        let source = self
            .sources
            .last_mut()
            .expect("a source is registered before its blocks");
        let base = self.total_rows;
        let row_in_source = base - source.row_start;
        let line_base = source.next_line;
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
        for (key_index, entries) in findings.keys.iter().enumerate() {
            let key = &self.plan.unique_keys[key_index];
            let table = &mut self.key_tables[key_index];
            // A one-column key's samples name the column; a composite key's name none.
            let key_column = match key.columns.as_slice() {
                [column] => Some(self.plan.columns[*column].name.clone()),
                _ => None,
            };
            for entry in entries {
                let row = base + u64::from(entry.row);
                match table.entry(entry.hash) {
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(FirstSeen::new(row, entry.line.map(|l| line_base + l)));
                    }
                    std::collections::hash_map::Entry::Occupied(mut slot) => {
                        let first = slot.get_mut();
                        let text = String::from_utf8_lossy(
                            &findings.key_text[entry.text.0 as usize..entry.text.1 as usize],
                        )
                        .into_owned();
                        self.late.push((row, key.rule));
                        self.counts[key.rule as usize] += 1;
                        push_bounded(
                            &mut self.late_samples[key.rule as usize],
                            self.sample_size,
                            row,
                            Sample {
                                row: row_in_source + u64::from(entry.row) + 1,
                                line: entry.line.map(|l| line_base + l),
                                source: ctx.path.clone(),
                                column: key_column.clone(),
                                value: Some(text.chars().take(200).collect()),
                                message: "repeats a key seen before".to_owned(),
                            },
                        );
                        if key.keep == Keep::None && !first.repeated() {
                            first.mark_repeated();
                            self.late.push((first.row(), key.rule));
                            self.counts[key.rule as usize] += 1;
                            let (source_path, source_row) = locate(&self.sources, first.row());
                            push_bounded(
                                &mut self.late_samples[key.rule as usize],
                                self.sample_size,
                                first.row(),
                                Sample {
                                    row: source_row,
                                    line: first.line(),
                                    source: source_path,
                                    column: key_column.clone(),
                                    value: Some(text.chars().take(200).collect()),
                                    message: "key occurs more than once".to_owned(),
                                },
                            );
                        }
                    }
                }
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
    (source.ctx.path.clone(), row - source.row_start + 1)
}

/// The final failure list: run-wide row → failed rules, in row order.
struct Failures {
    rows: Vec<u64>,
    starts: Vec<usize>,
    rules: Vec<RuleId>,
}

impl Failures {
    fn rules_of(&self, index: usize) -> &[RuleId] {
        &self.rules[self.starts[index]..self.starts[index + 1]]
    }
}

fn combine(merger: &mut Merger<'_>) -> Failures {
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

/// Where each output is written locally: the user's path, or a temporary file for an S3 URI
/// that is uploaded and committed at the end.
struct OutputTargets {
    valid: Option<String>,
    quarantine: Option<String>,
    metrics: Option<String>,
    /// `(role, local path, bucket, key)` of every S3 output.
    s3: Vec<crate::storage::commit::PendingOutput>,
    /// The final URIs, as the report names them.
    valid_uri: Option<String>,
    quarantine_uri: Option<String>,
    metrics_uri: Option<String>,
}

impl OutputTargets {
    fn new(options: &Options, extension: &str) -> Result<OutputTargets> {
        let mut s3 = Vec::new();
        let mut resolve = |uri: &Option<String>,
                           role: &'static str,
                           name: String|
         -> Result<(Option<String>, Option<String>)> {
            let Some(uri) = uri else {
                return Ok((None, None));
            };
            if crate::storage::is_s3(uri) {
                let (bucket, key) = crate::storage::commit::output_key(uri, &name)?;
                let local = crate::storage::temp_path(role);
                s3.push(crate::storage::commit::PendingOutput {
                    role,
                    local: local.clone(),
                    bucket: bucket.clone(),
                    key: key.clone(),
                });
                Ok((
                    Some(local.display().to_string()),
                    Some(format!("s3://{bucket}/{key}")),
                ))
            } else {
                let is_dir = uri.ends_with('/') || std::path::Path::new(uri).is_dir();
                let path = if is_dir {
                    format!("{}/{name}", uri.trim_end_matches('/'))
                } else {
                    uri.clone()
                };
                Ok((Some(path.clone()), Some(path)))
            }
        };
        let (valid, valid_uri) =
            resolve(&options.valid_output, "valid", format!("valid.{extension}"))?;
        let (quarantine, quarantine_uri) = resolve(
            &options.quarantine,
            "quarantine",
            format!("quarantine.{extension}"),
        )?;
        let (metrics, metrics_uri) =
            resolve(&options.metrics_output, "metrics", "report.json".to_owned())?;
        Ok(OutputTargets {
            valid,
            quarantine,
            metrics,
            s3,
            valid_uri,
            quarantine_uri,
            metrics_uri,
        })
    }
}

impl OutputTargets {
    /// Pass 2 or the commit reads the input again: in-memory batches must be kept.
    fn reads_input_again(&self) -> bool {
        self.valid.is_some() || self.quarantine.is_some() || !self.s3.is_empty()
    }
}

impl Drop for OutputTargets {
    fn drop(&mut self) {
        for output in &self.s3 {
            let _ = std::fs::remove_file(&output.local);
        }
    }
}

/// What a run reads.
pub enum Input<'a> {
    /// Files or objects, as listed by `Storage::expand`.
    Objects(&'a [SourceObject]),
    /// One in-memory table.
    Arrow(crate::arrow::ArrowSource),
}

impl Input<'_> {
    /// The format of the valid and quarantine outputs: the (first) input's.
    fn output_format(&self) -> Format {
        match self {
            Input::Objects(objects) => objects
                .first()
                .map_or(Format::Csv, |o| Format::of(&o.uri).output()),
            Input::Arrow(_) => Format::Parquet,
        }
    }
}

/// Validate `input` with `plan`.
pub fn run(
    plan: &Arc<Plan>,
    input: Input<'_>,
    options: &Options,
    storage: &Storage,
) -> Result<Report> {
    let started = Instant::now();
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("pyrustpipe-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?;
    let chunk_size = options.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE).max(1);
    let in_flight = threads * 2 + 2;
    let sample_size = options.sample_size;

    let sources: &[SourceObject] = match &input {
        Input::Objects(objects) => objects,
        Input::Arrow(_) => &[],
    };
    let total_bytes = sources.iter().map(|s| s.size).sum();
    let targets = OutputTargets::new(options, input.output_format().name())?;
    let mut merger = Merger::new(plan, sample_size, total_bytes);
    let job = {
        let plan = Arc::clone(plan);
        move |work: &Work<SourceCtx>| {
            check_block(
                &plan,
                sample_size,
                &work.source,
                &work.buf,
                work.offset,
                work.eof,
            )
        }
    };
    let merge = |work, checked| merger.merge(work, checked);
    match input {
        Input::Objects(sources) => {
            let producer = SourceProducer {
                sources,
                storage,
                plan,
                chunk_size,
                allow_empty: options.allow_empty,
            };
            pipeline::run(&pool, in_flight, producer, job, merge)?;
        }
        Input::Arrow(source) => {
            let producer = ArrowProducer {
                source,
                plan,
                keep: targets.reads_input_again(),
            };
            pipeline::run(&pool, in_flight, producer, job, merge)?;
        }
    }
    if merger.carry.is_some() {
        return Err(Error::Internal(
            "a record was left incomplete at the end of the input".to_owned(),
        ));
    }
    add_external(&mut merger, &options.external_rules)?;
    let failures = combine(&mut merger);

    let mut report = build_report(plan, &mut merger, &failures, threads)?;

    let local_options = Options {
        valid_output: targets.valid.clone(),
        quarantine: targets.quarantine.clone(),
        ..options.clone()
    };
    let wants_outputs = targets.valid.is_some() || targets.quarantine.is_some();
    let all_parquet = !merger.sources.is_empty()
        && merger
            .sources
            .iter()
            .all(|s| s.ctx.format.output() == Format::Parquet);
    let any_parquet = merger
        .sources
        .iter()
        .any(|s| s.ctx.format.output() == Format::Parquet);
    if wants_outputs && all_parquet {
        write_batch_outputs(plan, &merger, &failures, &report, &local_options)?;
    } else if wants_outputs && any_parquet {
        return Err(Error::data(
            "mixed_formats",
            "Parquet and text sources cannot share one output file; validate them separately",
            Position::default(),
        ));
    } else if wants_outputs {
        write_outputs(
            plan,
            &merger,
            &failures,
            &report,
            &local_options,
            &pool,
            chunk_size,
            in_flight,
            sources,
            storage,
        )?;
    }
    report.outputs.valid.clone_from(&targets.valid_uri);
    report
        .outputs
        .quarantine
        .clone_from(&targets.quarantine_uri);
    report.outputs.metrics.clone_from(&targets.metrics_uri);
    let elapsed = started.elapsed().as_secs_f64();
    report.duration_s = elapsed;
    #[allow(clippy::cast_precision_loss)]
    {
        report.rows_per_s = if elapsed > 0.0 {
            report.rows as f64 / elapsed
        } else {
            0.0
        };
    }
    if let Some(path) = &targets.metrics {
        let mut file = AtomicFile::create(path)?;
        file.write_all(report.to_json().as_bytes())?;
        file.commit()?;
    }
    if !targets.s3.is_empty() {
        let store = storage.s3()?;
        let counts = (report.rows, report.valid_rows, report.invalid_rows);
        let inputs = match merger.sources.first() {
            Some(source) if source.ctx.format == Format::Arrow => {
                vec![in_memory_input(&source.ctx)?]
            }
            _ => sources.to_vec(),
        };
        let committed = crate::storage::commit::commit(
            &store,
            &targets.s3,
            &inputs,
            &plan.ruleset_hash,
            counts,
        )?;
        report.outputs.manifest = Some(match committed {
            crate::storage::commit::Committed::Now { manifest } => manifest,
            crate::storage::commit::Committed::Already { manifest } => {
                report.outputs.already_committed = true;
                manifest
            }
        });
    }
    Ok(report)
}

/// What the manifest records of an in-memory table: its name and a fingerprint of its content.
fn in_memory_input(ctx: &SourceCtx) -> Result<SourceObject> {
    let store = ctx
        .batches
        .as_ref()
        .expect("an in-memory source has a batch store");
    let etag = crate::arrow::fingerprint(&store.schema(), &store.kept())?;
    Ok(SourceObject {
        uri: ctx.path.clone(),
        size: 0,
        etag,
    })
}

fn add_external(merger: &mut Merger<'_>, external: &[ExternalRuleResult]) -> Result<()> {
    for (index, result) in external.iter().enumerate() {
        let rule = merger.plan.external_rules[index];
        for failure in &result.failures {
            let source = merger
                .sources
                .iter()
                .find(|s| s.ctx.path == failure.source)
                .ok_or_else(|| {
                    Error::schema(
                        format!("external_rules[{index}]"),
                        format!("unknown source {:?}", failure.source),
                    )
                })?;
            if failure.row == 0 || failure.row > source.rows {
                return Err(Error::schema(
                    format!("external_rules[{index}]"),
                    format!(
                        "row {} is outside {:?} ({} rows)",
                        failure.row, failure.source, source.rows
                    ),
                ));
            }
            let global = source.row_start + failure.row - 1;
            let sample = Sample {
                row: failure.row,
                line: None,
                source: failure.source.clone(),
                column: None,
                value: None,
                message: if failure.message.is_empty() {
                    "row rule is false".to_owned()
                } else {
                    failure.message.clone()
                },
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

#[allow(clippy::cast_precision_loss)]
fn build_report(
    plan: &Plan,
    merger: &mut Merger<'_>,
    failures: &Failures,
    threads: usize,
) -> Result<Report> {
    let total = merger.total_rows;
    let severity_error: Vec<bool> = plan
        .rules
        .iter()
        .map(|r| r.severity == Severity::Error)
        .collect();

    // Per-source counts and the invalid-row total.
    let mut per_source_invalid = vec![0u64; merger.sources.len()];
    let mut per_source_failures: Vec<Vec<u64>> =
        vec![vec![0; plan.rules.len()]; merger.sources.len()];
    let mut invalid_rows = 0u64;
    let mut source_index = 0usize;
    for (index, &row) in failures.rows.iter().enumerate() {
        while source_index + 1 < merger.sources.len()
            && merger.sources[source_index + 1].row_start <= row
        {
            source_index += 1;
        }
        let rules = failures.rules_of(index);
        let mut seen_rules: Vec<RuleId> = rules.to_vec();
        seen_rules.sort_unstable();
        seen_rules.dedup();
        for &rule in &seen_rules {
            per_source_failures[source_index][rule as usize] += 1;
        }
        if rules.iter().any(|&r| severity_error[r as usize]) {
            invalid_rows += 1;
            per_source_invalid[source_index] += 1;
        }
    }

    // Schema rules: failed once for each source that breaks them.
    let mut schema_observed: Vec<Vec<Json>> = vec![Vec::new(); plan.rules.len()];
    for (index, source) in merger.sources.iter().enumerate() {
        let Some(layout) = &source.ctx.layout else {
            continue;
        };
        let mut note = |rule: RuleId, detail: Json| {
            schema_observed[rule as usize]
                .push(json!({"source": source.ctx.path, "detail": detail}));
            per_source_failures[index][rule as usize] += 1;
        };
        if !layout.missing.is_empty() {
            note(plan.missing_columns_rule, json!(layout.missing));
        }
        if let Some(rule) = plan.unknown_columns_rule {
            let mut unknown = layout.unknown.clone();
            unknown.extend(source.unknown_columns.iter().cloned());
            if !unknown.is_empty() {
                note(rule, json!(unknown));
            }
        }
        if let Some(rule) = plan.column_order_rule {
            if !layout.in_order {
                note(rule, json!(layout.names));
            }
        }
    }

    let mut dataset_observed: Vec<Option<Option<f64>>> = vec![None; plan.rules.len()];
    for check in &plan.dataset_checks {
        let stats = check.column.map(|c| &merger.stats[c]);
        let distinct_slot = check
            .column
            .and_then(|c| plan.distinct_columns.iter().position(|&d| d == c));
        let distinct_count = distinct_slot.map(|s| merger.distinct[s].len());
        let observed = check.observe(total, stats, distinct_count);
        dataset_observed[check.rule as usize] = Some(observed);
    }

    let mut rules = Vec::with_capacity(plan.rules.len());
    for (id, meta) in plan.rules.iter().enumerate() {
        let mut samples = std::mem::take(&mut merger.samples[id]);
        let mut late = std::mem::take(&mut merger.late_samples[id]);
        if !late.is_empty() {
            late.sort_by_key(|(r, _)| *r);
            late.truncate(merger.sample_size);
            samples = late.into_iter().map(|(_, s)| s).collect();
        }
        let (failed, observed, passed, allowed) = match meta.scope {
            Scope::Schema => {
                let observed = &schema_observed[id];
                let failed = u64::from(!observed.is_empty());
                let value = (!observed.is_empty()).then(|| Json::Array(observed.clone()));
                for item in observed {
                    samples.push(Sample {
                        row: 0,
                        line: Some(1),
                        source: item["source"].as_str().unwrap_or_default().to_owned(),
                        column: None,
                        value: Some(item["detail"].to_string()),
                        message: schema_message(&meta.kind, &item["detail"]),
                    });
                }
                (failed, value, failed == 0, 0)
            }
            Scope::Dataset => {
                let observed = dataset_observed[id].flatten();
                let check = plan
                    .dataset_checks
                    .iter()
                    .find(|c| c.rule as usize == id)
                    .expect("every dataset rule has a check");
                let passed = check.passes(observed);
                if !passed {
                    samples.push(Sample {
                        row: 0,
                        line: None,
                        source: String::new(),
                        column: meta.column.clone(),
                        value: observed.map(|v| v.to_string()),
                        message: match observed {
                            Some(v) => format!(
                                "{} is {v}; expected {}",
                                meta.kind,
                                check.describe_bounds()
                            ),
                            None => format!(
                                "{} is undefined (no values); expected {}",
                                meta.kind,
                                check.describe_bounds()
                            ),
                        },
                    });
                }
                (
                    u64::from(!passed),
                    Some(observed.map_or(Json::Null, |v| json!(v))),
                    passed,
                    0,
                )
            }
            Scope::Column | Scope::Row => {
                let failed = merger.counts[id];
                let allowed = Tolerance::allowed(meta.tolerance, total);
                (failed, None, failed <= allowed, allowed)
            }
        };
        rules.push(RuleResult {
            name: meta.name.clone(),
            kind: meta.kind.clone(),
            scope: meta.scope.name(),
            column: meta.column.clone(),
            severity: meta.severity,
            failed,
            failure_rate: if total == 0 {
                0.0
            } else {
                failed as f64 / total as f64
            },
            tolerance: meta.tolerance,
            allowed_failures: allowed,
            passed,
            observed,
            samples,
        });
    }

    let sources = merger
        .sources
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let mut failure_map = serde_json::Map::new();
            for (rule, &count) in per_source_failures[index].iter().enumerate() {
                if count > 0 {
                    failure_map.insert(plan.rules[rule].name.clone(), json!(count));
                }
            }
            SourceSummary {
                uri: s.ctx.path.clone(),
                format: s.ctx.format.name(),
                bytes: s.ctx.bytes,
                rows: s.rows,
                valid_rows: s.rows - per_source_invalid[index],
                invalid_rows: per_source_invalid[index],
                skipped_blank_lines: s.blank_lines,
                columns: s
                    .ctx
                    .layout
                    .as_ref()
                    .map(|l| l.names.clone())
                    .unwrap_or_default(),
                failures: failure_map,
            }
        })
        .collect::<Vec<_>>();

    if invalid_rows > total {
        return Err(Error::Internal(format!(
            "{invalid_rows} invalid rows out of {total}"
        )));
    }
    let passed = rules
        .iter()
        .all(|r| r.passed || r.severity == Severity::Warn);
    Ok(Report {
        report_version: REPORT_VERSION,
        engine_version: ENGINE_VERSION,
        schema_name: plan.spec.name.clone(),
        ruleset_hash: plan.ruleset_hash.clone(),
        passed,
        rows: total,
        valid_rows: total - invalid_rows,
        invalid_rows,
        skipped_blank_lines: merger.sources.iter().map(|s| s.blank_lines).sum(),
        bytes: merger.sources.iter().map(|s| s.ctx.bytes).sum(),
        duration_s: 0.0,
        rows_per_s: 0.0,
        threads,
        sources,
        rules,
        outputs: Outputs::default(),
    })
}

fn schema_message(kind: &str, detail: &Json) -> String {
    match kind {
        "missing_columns" => format!("missing columns: {detail}"),
        "unknown_columns" => format!("columns not in the schema: {detail}"),
        _ => format!("columns out of the schema's order: {detail}"),
    }
}

/// Routes the batches of pass 2 to the Parquet outputs, following pass 1's failures.
struct BatchRouter<'a> {
    plan: &'a Plan,
    failures: &'a Failures,
    severity_error: Vec<bool>,
    sink: crate::parquet::ParquetSink,
    cursor: usize,
    row: u64,
    valid: u64,
    quarantined: u64,
}

impl BatchRouter<'_> {
    fn route(&mut self, batch: &RecordBatch, source_row: u64, path: &str) -> Result<()> {
        let mut routed = Vec::with_capacity(batch.num_rows());
        for _ in 0..batch.num_rows() {
            let mut bad = None;
            let failures = self.failures;
            if self.cursor < failures.rows.len() && failures.rows[self.cursor] == self.row {
                let rules = failures.rules_of(self.cursor);
                self.cursor += 1;
                if rules.iter().any(|&r| self.severity_error[r as usize]) {
                    let mut names: Vec<&str> = rules
                        .iter()
                        .map(|&r| self.plan.rules[r as usize].name.as_str())
                        .collect();
                    names.dedup();
                    bad = Some(names);
                }
            }
            if bad.is_some() {
                self.quarantined += 1;
            } else {
                self.valid += 1;
            }
            routed.push(bad);
            self.row += 1;
        }
        self.sink.write(batch, &routed, source_row, path)
    }
}

/// Pass 2 for Parquet and in-memory tables: read every batch again (row groups from the file,
/// or the kept batches) and filter it into the two outputs.
fn write_batch_outputs(
    plan: &Plan,
    merger: &Merger<'_>,
    failures: &Failures,
    report: &Report,
    options: &Options,
) -> Result<()> {
    let mut router = BatchRouter {
        plan,
        failures,
        severity_error: plan
            .rules
            .iter()
            .map(|r| r.severity == Severity::Error)
            .collect(),
        sink: crate::parquet::ParquetSink::new(
            options.valid_output.as_deref(),
            options.quarantine.as_deref(),
        ),
        cursor: 0,
        row: 0,
        valid: 0,
        quarantined: 0,
    };
    let mut empty_schema = None;
    for source in &merger.sources {
        let path = &source.ctx.path;
        let mut source_row = 0u64;
        if let Some(store) = &source.ctx.batches {
            empty_schema.get_or_insert(store.schema());
            for batch in store.kept() {
                router.route(&batch, source_row, path)?;
                source_row += batch.num_rows() as u64;
            }
            continue;
        }
        let data_path = source.ctx.data_path();
        empty_schema.get_or_insert(crate::parquet::schema_of(&data_path)?);
        let (_, _, row_groups) = crate::parquet::describe(&data_path)?;
        for row_group in 0..row_groups {
            for batch in crate::parquet::read_row_group(&data_path, row_group)? {
                router.route(&batch, source_row, path)?;
                source_row += batch.num_rows() as u64;
            }
        }
    }
    let (row, valid, quarantined) = (router.row, router.valid, router.quarantined);
    if row != report.rows || valid != report.valid_rows || quarantined != report.invalid_rows {
        return Err(Error::Internal(format!(
            "conservation check failed: read {row} rows (pass 1: {}), routed {valid} valid + {quarantined} quarantined (expected {} + {})",
            report.rows, report.valid_rows, report.invalid_rows
        )));
    }
    router.sink.commit(empty_schema)
}

/// Pass 2: route every record to the valid or quarantine output.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    plan: &Plan,
    merger: &Merger<'_>,
    failures: &Failures,
    report: &Report,
    options: &Options,
    pool: &rayon::ThreadPool,
    chunk_size: usize,
    in_flight: usize,
    sources: &[SourceObject],
    storage: &Storage,
) -> Result<()> {
    let first_header = merger.sources.iter().find_map(|s| s.ctx.header.as_ref());
    for source in &merger.sources {
        if let (Some(first), Some(header)) = (first_header, &source.ctx.header) {
            if first.raw_fields != header.raw_fields {
                return Err(Error::data(
                    "mixed_headers",
                    "sources have different headers, so their rows cannot share one output file; validate them separately",
                    Position {
                        path: Some(source.ctx.path.clone()),
                        line: Some(1),
                        ..Position::default()
                    },
                ));
            }
        }
    }
    let format = merger.sources.first().map_or(Format::Csv, |s| s.ctx.format);
    if let Some(other) = merger.sources.iter().find(|s| s.ctx.format != format) {
        return Err(Error::data(
            "mixed_formats",
            format!(
                "sources are {} and {}, so their rows cannot share one output file; validate them separately",
                format.name(),
                other.ctx.format.name()
            ),
            Position {
                path: Some(other.ctx.path.clone()),
                ..Position::default()
            },
        ));
    }
    let severity_error: Vec<bool> = plan
        .rules
        .iter()
        .map(|r| r.severity == Severity::Error)
        .collect();
    let mut sink = CsvSink::create(
        options.valid_output.as_deref(),
        options.quarantine.as_deref(),
        first_header,
        plan.delimiter,
        format,
    )?;
    let mut cursor = 0usize;
    let mut row = 0u64;
    let mut carry: Option<Vec<u8>> = None;
    let mut current_source = usize::MAX;
    let mut source_row = 0u64;
    let rule_names: Vec<&str> = plan.rules.iter().map(|r| r.name.as_str()).collect();
    let job = {
        let delimiter = plan.delimiter;
        let quote = plan.quote;
        move |work: &Work<SourceCtx>| {
            let mut records = Vec::new();
            let parse = match work.source.format {
                Format::Ndjson => crate::ndjson::parse_records(&work.buf, &mut records),
                _ => parse_records(
                    &Parser::new(Dialect { delimiter, quote }),
                    &work.buf,
                    work.eof,
                    &mut records,
                ),
            };
            (parse, records)
        }
    };
    let producer = SourceProducer {
        sources,
        storage,
        plan,
        chunk_size,
        allow_empty: options.allow_empty,
    };
    pipeline::run(
        pool,
        in_flight,
        producer,
        job,
        |work, (parse, records): (BlockParse, Vec<RecordBytes>)| {
            if work.source.index != current_source {
                current_source = work.source.index;
                source_row = 0;
                sink.start_source();
            }
            let (buf, parse, records) = match carry.take() {
                None => (work.buf, parse, records),
                Some(mut tail) => {
                    tail.extend_from_slice(&work.buf);
                    let parser = Parser::new(Dialect {
                        delimiter: plan.delimiter,
                        quote: plan.quote,
                    });
                    let mut records = Vec::new();
                    let parse = parse_records(&parser, &tail, work.eof, &mut records);
                    (tail, parse, records)
                }
            };
            for record in &records {
                source_row += 1;
                let raw = &buf[record.start as usize..record.next as usize];
                let fields_end = (record.end - record.start) as usize;
                let failed = if cursor < failures.rows.len() && failures.rows[cursor] == row {
                    let rules = failures.rules_of(cursor);
                    cursor += 1;
                    Some(rules)
                } else {
                    None
                };
                match failed {
                    Some(rules) if rules.iter().any(|&r| severity_error[r as usize]) => {
                        sink.quarantine(
                            raw,
                            fields_end,
                            rules.iter().map(|&r| rule_names[r as usize]),
                            source_row,
                            &work.source.path,
                        )?;
                    }
                    _ => sink.valid(raw)?,
                }
                row += 1;
            }
            if let BlockEnd::Incomplete { record_start } = parse.end {
                carry = Some(buf[record_start..].to_vec());
            }
            Ok(())
        },
    )?;
    // Conservation, checked before anything is renamed into place.
    let (valid, quarantined) = sink.counts();
    if row != report.rows
        || valid != report.valid_rows
        || quarantined != report.invalid_rows
        || valid + quarantined != row
    {
        return Err(Error::Internal(format!(
            "conservation check failed: read {row} rows (pass 1: {}), wrote {valid} valid + {quarantined} quarantined (expected {} + {})",
            report.rows, report.valid_rows, report.invalid_rows
        )));
    }
    sink.commit()
}
