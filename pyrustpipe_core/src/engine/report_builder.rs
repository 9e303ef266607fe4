//! The report assembled from pass 1's merged state: per-rule and per-source results and the
//! run's decisions (tolerances, schema and dataset checks).

use serde_json::{json, Value as Json};

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::report::{Io, Outputs, Report, RuleResult, Sample, SourceSummary, REPORT_VERSION};
use crate::rules::{RuleId, Scope};
use crate::spec::{Metric, Severity, Tolerance};

use super::merge::{Failures, Merger};
use super::ENGINE_VERSION;

#[allow(clippy::cast_precision_loss)]
pub(super) fn build_report(
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
    // One buffer for every failing row's distinct rules: a `Vec` of its own was an allocation
    // and a free a failing row, on the one thread that builds the report (266 → 116
    // instructions a failing row, bench/RESULTS.md); a row failing one rule needs none.
    let mut seen_rules: Vec<RuleId> = Vec::new();
    for (index, &row) in failures.rows.iter().enumerate() {
        while source_index + 1 < merger.sources.len()
            && merger.sources[source_index + 1].row_start <= row
        {
            source_index += 1;
        }
        let rules = failures.rules_of(index);
        let distinct = if let [_] = rules {
            rules
        } else {
            seen_rules.clear();
            seen_rules.extend_from_slice(rules);
            seen_rules.sort_unstable();
            seen_rules.dedup();
            &seen_rules
        };
        for &rule in distinct {
            // Schema rules count once per source, below, not once per row they mark.
            if rule != plan.missing_columns_rule {
                per_source_failures[source_index][rule as usize] += 1;
            }
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
        if !layout.missing.is_empty() {
            let mut hints = serde_json::Map::new();
            for name in &layout.missing {
                if let Some(close) = closest(name, &layout.unknown) {
                    hints.insert(name.clone(), json!(close));
                }
            }
            schema_observed[plan.missing_columns_rule as usize].push(json!({
                "source": source.ctx.path,
                "detail": layout.missing,
                "did_you_mean": hints,
            }));
            per_source_failures[index][plan.missing_columns_rule as usize] += 1;
        }
        let mut note = |rule: RuleId, detail: Json| {
            schema_observed[rule as usize]
                .push(json!({"source": source.ctx.path, "detail": detail}));
            per_source_failures[index][rule as usize] += 1;
        };
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
            let sensitive_key = plan.unique_keys.iter().any(|k| {
                k.rule as usize == id && k.columns.iter().any(|&c| plan.columns[c].sensitive)
            });
            if sensitive_key {
                for sample in &mut samples {
                    sample.value = sample
                        .value
                        .as_ref()
                        .map(|v| plan.masker.token(v.as_bytes()));
                }
            }
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
                        message: schema_message(&meta.kind, item),
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
                // The min or max of a sensitive column is one of its values.
                let reveals = matches!(check.metric, Metric::Min | Metric::Max)
                    && check.column.is_some_and(|c| plan.columns[c].sensitive);
                let shown = observed.map(|v| {
                    if reveals {
                        plan.masker.token(v.to_string().as_bytes())
                    } else {
                        v.to_string()
                    }
                });
                if !passed {
                    samples.push(Sample {
                        row: 0,
                        line: None,
                        source: String::new(),
                        column: meta.column.clone(),
                        value: shown.clone(),
                        message: match &shown {
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
                let observed = match (observed, shown) {
                    (Some(_), Some(token)) if reveals => json!(token),
                    (Some(v), _) => json!(v),
                    (None, _) => Json::Null,
                };
                (u64::from(!passed), Some(observed), passed, 0)
            }
            // Judged after the report is built, against the ledger (`ledger::history`).
            Scope::History => (0, None, true, 0),
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
                quote_garbage_records: s.quote_garbage,
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
        io: Io::default(),
        split: None,
    })
}

fn schema_message(kind: &str, item: &Json) -> String {
    let detail = &item["detail"];
    match kind {
        "missing_columns" => {
            let hints: Vec<String> = item["did_you_mean"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(want, have)| format!("{have} for {want:?}"))
                .collect();
            if hints.is_empty() {
                format!("missing columns: {detail}")
            } else {
                format!(
                    "missing columns: {detail} (did you mean {}?)",
                    hints.join(", ")
                )
            }
        }
        "unknown_columns" => format!("columns not in the schema: {detail}"),
        _ => format!("columns out of the schema's order: {detail}"),
    }
}

/// The header name closest to a missing column, when it is close enough to be a typo (at most a
/// third of its characters differ, case aside).
fn closest<'a>(missing: &str, candidates: &'a [String]) -> Option<&'a str> {
    let want: Vec<char> = missing.to_lowercase().chars().collect();
    candidates
        .iter()
        .map(|c| {
            let have: Vec<char> = c.to_lowercase().chars().collect();
            (edit_distance(&want, &have), c.as_str())
        })
        .filter(|(d, c)| *d * 3 <= want.len().max(c.chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![(0..=b.len()).collect::<Vec<usize>>()];
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (rows[i - 1][j] + 1)
                .min(row[j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(rows[i - 2][j - 2] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_in_headers_are_suggested() {
        let header = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let cases = [
            (
                "bill_length_mm",
                header(&["bill_lenght_mm", "species"]),
                Some("bill_lenght_mm"),
            ),
            ("amount", header(&["Amount"]), Some("Amount")),
            ("amount", header(&["currency", "id"]), None),
            ("id", header(&["xy"]), None),
        ];
        for (missing, candidates, expected) in cases {
            assert_eq!(closest(missing, &candidates), expected, "{missing}");
        }
    }
}
