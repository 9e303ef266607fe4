//! One validation run: pass 1 checks every row of every source in parallel and merges the
//! findings in order; the run's decisions (uniqueness, tolerances, dataset checks) are made on
//! the merged whole; pass 2, only when outputs are asked for, streams the sources again and
//! routes each record to the valid or quarantine output. Outputs are written to temporary names
//! and renamed only after conservation (valid + quarantined = total) has been checked. A cancel
//! (`Options::cancel`) before the commit point ends the run with `Error::Cancelled` and nothing
//! published.

mod key_table;
mod keys;
mod ledger;
mod merge;
mod outputs;
mod pipeline;
mod produce;
mod report_builder;
pub mod split;

use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::error::{Error, Position, Result};
use crate::formats::sink::AtomicFile;
use crate::formats::{Format, SourceKind};
use crate::plan::Plan;
use crate::progress::{Cancel, Progress, RunPosition};
use crate::report::Report;
use crate::spec::{Severity, Tolerance};
use crate::storage::{SourceObject, Storage};
use pipeline::Work;

use merge::{add_external, combine, Merger};
use outputs::{in_memory_input, write_batch_outputs, write_outputs, OutputTargets};
use produce::{check_block, ArrowProducer, Checked, SourceCtx, SourceProducer};
use report_builder::build_report;

pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One failure of an external (Python) rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalFailure {
    pub source: String,
    pub row: u64,
    #[serde(default)]
    pub message: String,
    /// The row's values of sensitive columns: the engine masks them in `message`.
    #[serde(default)]
    pub sensitive_values: Vec<String>,
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
    /// Records longer than this many bytes are an error (`record_too_long`); default 64 MiB.
    #[serde(default)]
    pub max_record_bytes: Option<usize>,
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
    /// Key for sensitive columns' tokens (else `$PYRUSTPIPE_MASK_KEY`, else random per run).
    #[serde(default)]
    pub mask_key: Option<crate::mask::MaskKey>,
    /// Live counters for a watcher (not part of the JSON options).
    #[serde(skip)]
    pub progress: Option<Arc<Progress>>,
    /// Append this run to a quality ledger and judge its history checks (docs/ledger.md).
    #[serde(default)]
    pub ledger: Option<crate::ledger::LedgerOptions>,
    /// The run's cancel switch (not part of the JSON options).
    #[serde(skip)]
    pub cancel: Cancel,
    /// Validate only the records starting in this byte range of the one object (docs/splits.md).
    #[serde(default)]
    pub split: Option<split::SplitOptions>,
    /// `split` resolved to record boundaries (set by the run, not part of the JSON options).
    #[serde(skip)]
    pub resolved_split: Option<split::Resolved>,
    /// Fold the unique keys' log every this many occurrences (default 16M, see `engine/keys`):
    /// lets a test fold a small run; not part of the JSON options.
    #[serde(skip)]
    pub key_fold_at: Option<usize>,
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
            max_record_bytes: None,
            valid_output: None,
            quarantine: None,
            metrics_output: None,
            allow_empty: false,
            external_rules: Vec::new(),
            storage_options: None,
            mask_key: None,
            progress: None,
            ledger: None,
            cancel: Cancel::default(),
            split: None,
            resolved_split: None,
            key_fold_at: None,
        }
    }
}

impl Options {
    /// The longest record a source may hold, in bytes (at least 1).
    fn max_record_bytes(&self) -> usize {
        self.max_record_bytes
            .unwrap_or(crate::formats::csv::reader::MAX_RECORD_BYTES)
            .max(1)
    }
}

/// Bytes per block. 1 MiB, not 4: the blocks in flight (and their recycled buffers) are pages a
/// fresh process must fault in, and on the 1M-row benchmark 1 MiB blocks ran the parse floor in
/// 0.133 s against 0.150 s with no loss on the full rules (bench/RESULTS.md, issue 12).
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// What a run reads.
pub enum Input<'a> {
    /// Files or objects, as listed by `Storage::expand`.
    Objects(&'a [SourceObject]),
    /// One in-memory table.
    Arrow(crate::formats::arrow::ArrowSource),
}

impl Input<'_> {
    /// What the valid and quarantine outputs are named after: the (first) input's kind.
    fn output_kind(&self) -> SourceKind {
        match self {
            Input::Objects(objects) => objects.first().map_or(SourceKind::of("input.csv"), |o| {
                crate::formats::detect(&o.uri)
            }),
            Input::Arrow(_) => SourceKind::of("table.parquet"),
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
    match run_once(plan, input, options, storage) {
        // What failed while the run was stopping (a read cut short, an aborted upload) is the
        // cancel itself; the staged files were removed on the way out.
        Err(_) if options.cancel.is_cancelled() => Err(Error::Cancelled),
        other => other,
    }
}

/// The cores this process may use, asked once: `available_parallelism` reads the cgroup's CPU
/// quota from /proc and /sys on every call (~30 µs, a twentieth of a small frame's run).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

fn run_once(
    plan: &Arc<Plan>,
    input: Input<'_>,
    options: &Options,
    storage: &Storage,
) -> Result<Report> {
    let resolved;
    let options = match (&options.split, &input) {
        (None, _) => options,
        (Some(split), Input::Objects([object])) => {
            if options.ledger.is_some() {
                return Err(Error::option(
                    "split",
                    "a split run does not append to the ledger; record the gate's result instead",
                ));
            }
            let chunk_size = options.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE).max(1);
            let range = split::resolve(
                split,
                object,
                storage,
                plan,
                chunk_size,
                options.max_record_bytes(),
            )?;
            resolved = Options {
                resolved_split: Some(range),
                ..options.clone()
            };
            &resolved
        }
        (Some(_), Input::Objects(objects)) => {
            return Err(Error::option(
                "split",
                format!(
                    "a split is a byte range of one object, but the source names {} objects",
                    objects.len()
                ),
            ))
        }
        (Some(_), Input::Arrow(_)) => {
            return Err(Error::option(
                "split",
                "an in-memory table cannot be split by bytes",
            ))
        }
    };
    let cancel = &options.cancel;
    let started = Instant::now();
    let threads = options.threads.unwrap_or_else(cores).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("pyrustpipe-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?;
    let chunk_size = options.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE).max(1);
    let max_record_bytes = options.max_record_bytes();
    let in_flight = threads * 2 + 2;
    let sample_size = options.sample_size;

    let sources: &[SourceObject] = match &input {
        Input::Objects(objects) => objects,
        Input::Arrow(_) => &[],
    };
    let total_bytes = sources.iter().map(|s| s.size).sum();
    let mut targets = OutputTargets::new(options, input.output_kind())?;
    let ledger_run = ledger::prepare(options, plan, &mut targets)?;
    // A previous run killed while publishing these outputs: finish its publish first.
    if let Some(first) = [&targets.valid, &targets.quarantine, &targets.metrics]
        .into_iter()
        .flatten()
        .next()
    {
        crate::storage::local::recover(std::path::Path::new(first))?;
    }
    // A re-run of a committed partition: checked before anything is read, so it uploads
    // nothing (pass 1 still runs, to give the caller this run's report).
    let committed_before = match &input {
        Input::Objects(objects) if !targets.s3.is_empty() => {
            crate::storage::commit::committed_already(
                &storage.s3()?,
                &targets.s3,
                objects,
                &plan.ruleset_hash,
            )?
        }
        _ => None,
    };
    let uploads =
        |role: &str| committed_before.is_none() || !targets.s3.iter().any(|o| o.role == role);
    let fold_at = options.key_fold_at.unwrap_or(keys::FOLD_AT).max(1);
    let mut merger = Merger::new(plan, sample_size, fold_at);
    merger.max_record_bytes = max_record_bytes;
    merger.row_history = ledger::load_row_history(plan, ledger_run.as_ref(), storage)?;
    let job = {
        let plan = Arc::clone(plan);
        let samples_full = Arc::clone(&merger.samples_full);
        move |work: &Work<SourceCtx>| {
            check_block(
                &plan,
                (sample_size, &samples_full),
                &work.source,
                &work.buf,
                work.offset,
                work.eof,
            )
        }
    };
    let progress = options.progress.clone().unwrap_or_default();
    progress.start(total_bytes);
    let mut position = RunPosition::default();
    let merge = |work: Work<SourceCtx>, checked: Checked| {
        let reached = position.at(work.source.index, work.source.bytes, work.reached());
        let rows = checked.findings.rows;
        let spent = merger.merge(work, checked)?;
        progress.checked(reached, rows);
        Ok(spent)
    };
    match input {
        Input::Objects(sources) => {
            let producer =
                SourceProducer::new(sources, storage, plan, chunk_size, threads, options);
            pipeline::run(&pool, in_flight, cancel, producer, job, merge)?;
        }
        Input::Arrow(source) => {
            let producer = ArrowProducer {
                source,
                plan,
                keep: targets.reads_input_again(),
                workers: threads,
            };
            pipeline::run(&pool, in_flight, cancel, producer, job, merge)?;
        }
    }
    if merger.carry.is_some() {
        return Err(Error::Internal(
            "a record was left incomplete at the end of the input".to_owned(),
        ));
    }
    let split_keys = options
        .split
        .as_ref()
        .is_some_and(|split| split.keys_output.is_some());
    merger.resolve_keys(&pool, split_keys);
    add_external(&mut merger, &options.external_rules)?;
    ledger::flag_rows(&mut merger);
    let failures = combine(&mut merger);

    let mut report = build_report(plan, &mut merger, &failures, threads)?;
    if let (Some(split), Some(resolved)) = (&options.split, options.resolved_split) {
        if let Some(path) = &split.keys_output {
            split::write_keys(path, plan, &merger, &failures, &resolved)?;
        }
        report.split = Some(split::SplitSummary {
            start: split.start,
            end: split.end,
            resolved,
            keys_output: split.keys_output.clone(),
        });
    }
    ledger::judge_history(plan, &merger, &mut report, ledger_run.as_ref(), storage)?;

    let local_options = Options {
        valid_output: targets.valid.clone().filter(|_| uploads("valid")),
        quarantine: targets.quarantine.clone().filter(|_| uploads("quarantine")),
        ..options.clone()
    };
    let wants_outputs = local_options.valid_output.is_some() || local_options.quarantine.is_some();
    if wants_outputs {
        progress.start_writing();
    }
    let all_parquet = !merger.sources.is_empty()
        && merger
            .sources
            .iter()
            .all(|s| s.ctx.format.output() == Format::Parquet);
    let any_parquet = merger
        .sources
        .iter()
        .any(|s| s.ctx.format.output() == Format::Parquet);
    let mut staged = Vec::new();
    if wants_outputs && all_parquet {
        staged = write_batch_outputs(plan, &merger, &failures, &report, &local_options)?;
    } else if wants_outputs && any_parquet {
        return Err(Error::data(
            "mixed_formats",
            "Parquet and text sources cannot share one output file; validate them separately",
            Position::default(),
        ));
    } else if wants_outputs {
        staged = write_outputs(
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
            targets.codecs,
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
    report.io.retries = storage.retries();
    if let Some(path) = targets.metrics.as_ref().filter(|_| uploads("metrics")) {
        let mut file = AtomicFile::create(path)?;
        file.write_all(report.to_json().as_bytes())?;
        staged.push(file.stage()?);
    }
    if let Some(run) = ledger_run.as_ref().filter(|_| uploads("ledger")) {
        // The manifest the commit below writes: named from the pending outputs alone.
        let manifest = crate::storage::commit::manifest_location(&targets.s3)
            .map(|(bucket, key)| format!("s3://{bucket}/{key}"));
        staged.extend(ledger::stage(
            run, plan, &merger, &report, sources, manifest,
        )?);
    }
    report.outputs.ledger = ledger_run.as_ref().map(|run| run.uri.clone());
    // Every output is written and synced: only now does any of them appear, as one set. This
    // is the last moment a cancel is honoured for local outputs (the S3 commit checks again).
    cancel.check()?;
    crate::storage::local::publish(staged)?;
    if let Some(manifest) = committed_before {
        report.outputs.already_committed = true;
        report.outputs.manifest = Some(manifest);
    } else if !targets.s3.is_empty() {
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
    report.io.retries = storage.retries();
    Ok(report)
}
