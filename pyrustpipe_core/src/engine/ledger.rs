//! The run's side of the ledger: its entry as one more output of the run (staged with the
//! local outputs, or committed with the S3 ones), and its history checks judged against the
//! ledger's earlier partitions once pass 1 is merged (docs/ledger.md).

use serde_json::json;

use crate::error::Result;
use crate::formats::sink::AtomicFile;
use crate::formats::Format;
use crate::ledger::history::{judge, PartitionFacts, Status};
use crate::ledger::row_history::RowCheck;
use crate::ledger::{Entry, InputFacts, OutputFacts, ProfileFacts, Resolved, RuleFacts};
use crate::plan::Plan;
use crate::report::{Report, Sample};
use crate::spec::Severity;
use crate::storage::local::Staged;
use crate::storage::{SourceObject, Storage};

use super::merge::Merger;
use super::outputs::OutputTargets;
use super::Options;

/// Where this run's entry goes.
pub(super) struct LedgerRun {
    pub(super) at: Resolved,
    pub(super) uri: String,
    /// The file written: the entry's own path, or a temporary file uploaded at the commit.
    local: String,
}

/// Resolve the ledger options; an S3 entry joins the outputs the commit uploads (last, so the
/// manifest stays beside the first data output when there is one).
pub(super) fn prepare(
    options: &Options,
    plan: &Plan,
    targets: &mut OutputTargets,
) -> Result<Option<LedgerRun>> {
    let Some(ledger) = &options.ledger else {
        return Ok(None);
    };
    let at = ledger.resolve(&plan.spec)?;
    let uri = at.entry_uri();
    let local = if crate::storage::is_s3(&uri) {
        let (bucket, key) = crate::storage::commit::output_key(&uri, &at.file_name())?;
        let local = crate::storage::temp_path("ledger");
        targets.s3.push(crate::storage::commit::PendingOutput {
            role: "ledger",
            local: local.clone(),
            bucket,
            key,
        });
        local.display().to_string()
    } else {
        uri.clone()
    };
    Ok(Some(LedgerRun { at, uri, local }))
}

/// The row-level history checks with the earlier partitions they compare with: read before
/// pass 1, since only earlier logical dates count (so a re-run never meets its own entry).
pub(super) fn load_row_history(
    plan: &Plan,
    run: Option<&LedgerRun>,
    storage: &Storage,
) -> Result<Vec<RowCheck>> {
    let checks: Vec<_> = plan
        .history
        .iter()
        .filter(|c| c.spec.check.row_level())
        .collect();
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let Some(run) = run else {
        return Ok(checks.iter().map(|c| RowCheck::new(c, 0, None)).collect());
    };
    let lookback = checks.iter().map(|c| c.spec.lookback).max().unwrap_or(0);
    let today = run.at.logical_date;
    let from = today.saturating_sub(i32::try_from(lookback).unwrap_or(i32::MAX));
    let history = crate::ledger::read_history(storage, &run.at, from, today)?;
    Ok(checks
        .iter()
        .map(|c| RowCheck::new(c, today, Some(&history)))
        .collect())
}

/// The rows the row-level history checks flagged join the run's failures (a skipped check
/// flags none).
pub(super) fn flag_rows(merger: &mut Merger<'_>) {
    for index in 0..merger.row_history.len() {
        let check = &mut merger.row_history[index];
        let rule = check.rule as usize;
        let (rows, samples) = check.take_failures();
        merger.counts[rule] += rows.len() as u64;
        merger
            .late
            .extend(rows.into_iter().map(|row| (row, check.rule)));
        merger.late_samples[rule].extend(samples);
    }
}

/// `(name, type)` of every column the sources had, in first-seen order: Arrow types for
/// Parquet and in-memory tables, `text` for CSV and NDJSON (their fields carry no type).
fn schema_seen(merger: &Merger<'_>) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for source in &merger.sources {
        let typed = match source.ctx.format {
            Format::Parquet => crate::formats::parquet::schema_of(&source.ctx.data_path()).ok(),
            Format::Arrow => source.ctx.batches.as_ref().map(|b| b.schema()),
            _ => None,
        };
        let mut add = |name: &str, kind: String| {
            if !seen.iter().any(|(n, _)| n == name) {
                seen.push((name.to_owned(), kind));
            }
        };
        match typed {
            Some(schema) => {
                for field in schema.fields() {
                    add(field.name(), field.data_type().to_string());
                }
            }
            None => {
                let names = source.ctx.layout.as_ref().map(|l| l.names.clone());
                for name in names.unwrap_or_default() {
                    add(&name, "text".to_owned());
                }
                for name in &source.unknown_columns {
                    add(name, "text".to_owned());
                }
            }
        }
    }
    seen
}

fn profiles(plan: &Plan, merger: &Merger<'_>) -> Vec<ProfileFacts> {
    plan.columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.declared)
        .map(|(index, c)| {
            crate::ledger::profile_of(
                &c.name,
                c.dtype,
                merger.total_rows,
                &merger.stats[index],
                plan.stats_columns[index],
                plan.sketches[index],
            )
        })
        .collect()
}

/// Judge every history check and put its verdict into the report.
pub(super) fn judge_history(
    plan: &Plan,
    merger: &Merger<'_>,
    report: &mut Report,
    run: Option<&LedgerRun>,
    storage: &Storage,
) -> Result<()> {
    if plan.history.is_empty() {
        return Ok(());
    }
    let history;
    let current;
    match run {
        None => {
            history = Vec::new();
            current = None;
        }
        Some(run) => {
            // The row-level checks read their history before pass 1.
            let lookback = plan
                .history
                .iter()
                .filter(|c| !c.spec.check.row_level())
                .map(|c| c.spec.lookback)
                .max()
                .unwrap_or(0);
            let from = run
                .at
                .logical_date
                .saturating_sub(i32::try_from(lookback).unwrap_or(i32::MAX));
            history = crate::ledger::read_history(storage, &run.at, from, run.at.logical_date)?;
            current = Some(PartitionFacts {
                partition: run.at.partition.clone(),
                logical_date: run.at.logical_date,
                rows: merger.total_rows,
                columns: profiles(plan, merger)
                    .iter()
                    .map(|p| crate::ledger::history::ColumnFacts {
                        name: p.column.clone(),
                        rows: p.rows,
                        nulls: p.nulls,
                        mean: p.mean,
                        max: p.max,
                    })
                    .collect(),
                schema: schema_seen(merger),
                ..PartitionFacts::default()
            });
        }
    }
    for check in &plan.history {
        if check.spec.check.row_level() {
            judge_rows(check.rule, merger, report);
            continue;
        }
        let verdict = match &current {
            Some(current) => judge(check, current, &history),
            None => {
                let reason = "no ledger given (--ledger / ledger=), so there is no history";
                crate::ledger::history::Verdict {
                    status: Status::Skipped,
                    value: None,
                    low: None,
                    high: None,
                    detail: json!({"status": "skipped", "value": null, "reason": reason}),
                    message: reason.to_owned(),
                }
            }
        };
        let result = &mut report.rules[check.rule as usize];
        let failed = verdict.status == Status::Fail;
        result.failed = u64::from(failed);
        result.passed = !failed;
        result.observed = Some(verdict.detail);
        if failed || verdict.status == Status::Skipped {
            result.samples.push(Sample {
                row: 0,
                line: None,
                source: String::new(),
                column: result.column.clone(),
                value: verdict.value.map(|v| v.to_string()),
                message: verdict.message,
            });
        }
    }
    report.passed = report
        .rules
        .iter()
        .all(|r| r.passed || r.severity == Severity::Warn);
    Ok(())
}

/// A row-level check's verdict: its rows are already counted (and quarantined) like any rule's.
fn judge_rows(rule: crate::rules::RuleId, merger: &Merger<'_>, report: &mut Report) {
    let Some(check) = merger.row_history.iter().find(|c| c.rule == rule) else {
        return;
    };
    let result = &mut report.rules[rule as usize];
    result.failed = merger.counts[rule as usize];
    result.observed = Some(check.detail(result.failed));
    result.passed = check.status() != Status::Fail;
    if let Some(reason) = check.reason() {
        result.samples.push(Sample {
            row: 0,
            line: None,
            source: String::new(),
            column: result.column.clone(),
            value: None,
            message: reason,
        });
    }
}

/// Write this run's entry; a local entry is staged to be published with the other outputs.
/// The report's outputs are already their final URIs here; `manifest` is where the S3 commit
/// will put its manifest (none for local outputs).
pub(super) fn stage(
    run: &LedgerRun,
    plan: &Plan,
    merger: &Merger<'_>,
    report: &Report,
    sources: &[SourceObject],
    manifest: Option<String>,
) -> Result<Option<Staged>> {
    let inputs: Vec<InputFacts> = if sources.is_empty() {
        merger
            .sources
            .iter()
            .map(|s| InputFacts {
                uri: s.ctx.path.clone(),
                size: s.ctx.bytes,
                etag: None,
                last_modified: None,
            })
            .collect()
    } else {
        sources
            .iter()
            .map(|s| InputFacts {
                uri: s.uri.clone(),
                size: s.size,
                etag: (!s.etag.is_empty()).then(|| s.etag.clone()),
                last_modified: s.last_modified,
            })
            .collect()
    };
    let rules = report
        .rules
        .iter()
        .map(|r| {
            let observed = r.observed.as_ref();
            let number = |key: &str| observed.and_then(|o| o.get(key)).and_then(|v| v.as_f64());
            let history = r.scope == "history";
            RuleFacts {
                name: r.name.clone(),
                kind: r.kind.clone(),
                scope: r.scope.to_owned(),
                column: r.column.clone(),
                severity: match r.severity {
                    Severity::Error => "error",
                    Severity::Warn => "warn",
                }
                .to_owned(),
                failed: r.failed,
                passed: r.passed,
                status: if history {
                    observed
                        .and_then(|o| o.get("status"))
                        .and_then(|s| s.as_str())
                        .unwrap_or("skipped")
                        .to_owned()
                } else if r.passed {
                    "pass".to_owned()
                } else {
                    "fail".to_owned()
                },
                observed: if history {
                    number("value")
                } else {
                    observed.and_then(serde_json::Value::as_f64)
                },
                expected_low: observed
                    .and_then(|o| o.get("expected"))
                    .and_then(|e| e.get("low"))
                    .and_then(serde_json::Value::as_f64),
                expected_high: observed
                    .and_then(|o| o.get("expected"))
                    .and_then(|e| e.get("high"))
                    .and_then(serde_json::Value::as_f64),
                detail: observed
                    .filter(|o| !o.is_null())
                    .map(serde_json::Value::to_string),
            }
        })
        .collect();
    let entry = Entry {
        dataset: run.at.dataset.clone(),
        partition: run.at.partition.clone(),
        logical_date: run.at.logical_date,
        run_id: crate::storage::commit::new_attempt_id(),
        written_at: crate::storage::micros_since_epoch(std::time::SystemTime::now()).unwrap_or(0),
        rules_hash: plan.ruleset_hash.clone(),
        engine_version: super::ENGINE_VERSION.to_owned(),
        passed: report.passed,
        rows: report.rows,
        valid_rows: report.valid_rows,
        invalid_rows: report.invalid_rows,
        bytes: report.bytes,
        duration_s: report.duration_s,
        inputs,
        rules,
        schema: schema_seen(merger),
        profiles: profiles(plan, merger),
        value_sets: merger
            .row_history
            .iter()
            .filter_map(RowCheck::value_set)
            .collect(),
        key_indexes: merger
            .row_history
            .iter()
            .filter_map(RowCheck::key_index)
            .collect(),
        outputs: OutputFacts {
            valid: report.outputs.valid.clone(),
            quarantine: report.outputs.quarantine.clone(),
            metrics: report.outputs.metrics.clone(),
            manifest,
        },
    };
    let bytes = entry.to_parquet()?;
    if crate::storage::is_s3(&run.uri) {
        std::fs::write(&run.local, bytes)
            .map_err(|e| crate::error::Error::storage("write", &run.local, e))?;
        return Ok(None);
    }
    let mut file = AtomicFile::create(&run.local)?;
    file.write_all(&bytes)?;
    Ok(Some(file.stage()?))
}
