//! Pass 2 and where its files go: the local and S3 output targets, and the routing of every
//! record or batch to the valid or quarantine output.

use arrow_array::RecordBatch;

use super::pipeline::{self, Work};
use crate::error::{Error, Position, Result};
use crate::formats::csv::block::{parse_records, BlockEnd, BlockParse, RecordBytes};
use crate::formats::csv::parser::{Dialect, Parser};
use crate::formats::sink::CsvSink;
use crate::formats::{Codec, Format, SourceKind};
use crate::plan::Plan;
use crate::report::Report;
use crate::spec::Severity;
use crate::storage::local::Staged;
use crate::storage::{SourceObject, Storage};

use super::merge::{Failures, Merger};
use super::produce::{SourceCtx, SourceProducer};
use super::Options;

/// Where each output is written locally: the user's path, or a temporary file for an S3 URI
/// that is uploaded and committed at the end.
pub(super) struct OutputTargets {
    pub(super) valid: Option<String>,
    pub(super) quarantine: Option<String>,
    pub(super) metrics: Option<String>,
    /// `(role, local path, bucket, key)` of every S3 output.
    pub(super) s3: Vec<crate::storage::commit::PendingOutput>,
    /// The final URIs, as the report names them.
    pub(super) valid_uri: Option<String>,
    pub(super) quarantine_uri: Option<String>,
    pub(super) metrics_uri: Option<String>,
    /// The codecs the valid and quarantine outputs are written with (from their names).
    pub(super) codecs: (Codec, Codec),
}

/// The codec a text output is written with: the one its name ends with.
fn codec_of(uri: Option<&String>) -> Codec {
    uri.map_or(Codec::None, |u| Codec::from_name(&u.to_ascii_lowercase()).0)
}

impl OutputTargets {
    /// Outputs named after `kind` when a directory is given (`valid.csv.gz` for `.csv.gz` input).
    pub(super) fn new(options: &Options, kind: SourceKind) -> Result<OutputTargets> {
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
            resolve(&options.valid_output, "valid", kind.output_name("valid"))?;
        let (quarantine, quarantine_uri) = resolve(
            &options.quarantine,
            "quarantine",
            kind.output_name("quarantine"),
        )?;
        let (metrics, metrics_uri) =
            resolve(&options.metrics_output, "metrics", "report.json".to_owned())?;
        let codecs = if kind.format.output() == Format::Parquet {
            (Codec::None, Codec::None)
        } else {
            (
                codec_of(valid_uri.as_ref()),
                codec_of(quarantine_uri.as_ref()),
            )
        };
        Ok(OutputTargets {
            valid,
            quarantine,
            metrics,
            s3,
            valid_uri,
            quarantine_uri,
            metrics_uri,
            codecs,
        })
    }
}

impl OutputTargets {
    /// Pass 2 or the commit reads the input again: in-memory batches must be kept.
    pub(super) fn reads_input_again(&self) -> bool {
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

/// What the manifest records of an in-memory table: its name and a fingerprint of its content.
pub(super) fn in_memory_input(ctx: &SourceCtx) -> Result<SourceObject> {
    let store = ctx
        .batches
        .as_ref()
        .expect("an in-memory source has a batch store");
    let etag = crate::formats::arrow::fingerprint(&store.schema(), &store.kept())?;
    Ok(SourceObject {
        uri: ctx.path.clone(),
        size: 0,
        etag,
        last_modified: None,
    })
}

/// Routes the batches of pass 2 to the Parquet outputs, following pass 1's failures.
struct BatchRouter<'a> {
    plan: &'a Plan,
    failures: &'a Failures,
    severity_error: Vec<bool>,
    sink: crate::formats::parquet::ParquetSink,
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
pub(super) fn write_batch_outputs(
    plan: &Plan,
    merger: &Merger<'_>,
    failures: &Failures,
    report: &Report,
    options: &Options,
) -> Result<Vec<Staged>> {
    let mut router = BatchRouter {
        plan,
        failures,
        severity_error: plan
            .rules
            .iter()
            .map(|r| r.severity == Severity::Error)
            .collect(),
        sink: crate::formats::parquet::ParquetSink::new(
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
                options.cancel.check()?;
                router.route(&batch, source_row, path)?;
                source_row += batch.num_rows() as u64;
            }
            continue;
        }
        let data_path = source.ctx.data_path();
        empty_schema.get_or_insert(crate::formats::parquet::schema_of(&data_path)?);
        let (_, _, group_rows) = crate::formats::parquet::describe(&data_path)?;
        for row_group in 0..group_rows.len() {
            options.cancel.check()?;
            for batch in crate::formats::parquet::read_row_group(&data_path, row_group)? {
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
    router.sink.stage(empty_schema)
}

/// Pass 2: route every record to the valid or quarantine output.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_outputs(
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
    codecs: (Codec, Codec),
) -> Result<Vec<Staged>> {
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
            Position::in_source(other.ctx.path.clone()),
        ));
    }
    let severity_error: Vec<bool> = plan
        .rules
        .iter()
        .map(|r| r.severity == Severity::Error)
        .collect();
    let delimiter = merger
        .sources
        .first()
        .map_or(plan.delimiter, |s| s.ctx.delimiter);
    let mut sink = CsvSink::create(
        options.valid_output.as_deref().map(|p| (p, codecs.0)),
        options.quarantine.as_deref().map(|p| (p, codecs.1)),
        first_header,
        delimiter,
        format,
    )?;
    let mut cursor = 0usize;
    let mut row = 0u64;
    let mut carry: Option<Vec<u8>> = None;
    let mut current_source = usize::MAX;
    let mut position = crate::progress::RunPosition::default();
    let mut source_row = 0u64;
    let rule_names: Vec<&str> = plan.rules.iter().map(|r| r.name.as_str()).collect();
    let job = {
        let quote = plan.quote;
        move |work: &Work<SourceCtx>| {
            let mut records = Vec::new();
            let delimiter = work.source.delimiter;
            let parse = match work.source.format {
                Format::Ndjson => crate::formats::ndjson::parse_records(&work.buf, &mut records),
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
    let workers = pool.current_num_threads();
    let producer = SourceProducer::new(sources, storage, plan, chunk_size, workers, options);
    pipeline::run(
        pool,
        in_flight,
        &options.cancel,
        producer,
        job,
        |work, (parse, records): (BlockParse, Vec<RecordBytes>)| {
            if work.source.index != current_source {
                current_source = work.source.index;
                source_row = work.source.split.map_or(0, |s| s.rows_before);
                sink.start_source();
            }
            let reached = position.at(work.source.index, work.source.bytes, work.reached());
            let (buf, parse, records) = match carry.take() {
                None => (work.buf, parse, records),
                Some(mut tail) => {
                    tail.extend_from_slice(&work.buf);
                    let parser = Parser::new(Dialect {
                        delimiter: work.source.delimiter,
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
            if let Some(progress) = &options.progress {
                progress.written(reached);
            }
            Ok(buf)
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
    sink.stage()
}
