//! History checks: this run's aggregates judged against the ledger's earlier partitions with
//! robust statistics (median and MAD, optionally per weekday), so one odd day in the history
//! does not move the band. Only partitions with an earlier logical date count, so backfills in
//! any order give the same verdicts (docs/ledger.md "History checks").

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::error::{Error, Result};
use crate::parse::{format_date, format_datetime, weekday_from_days};
use crate::plan::ColumnPlan;
use crate::rules::{RuleId, RuleMeta, Scope};
use crate::spec::{DType, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HistoryKind {
    RowCount,
    NullFraction,
    Mean,
    Freshness,
    SchemaDrift,
    /// Row-level: rows whose value no earlier partition in the window had (`row_history`).
    NewValues,
    /// Row-level: rows whose key an earlier partition in the window had (`row_history`).
    UniqueAcross,
}

impl HistoryKind {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Judged row by row during pass 1 (quarantining rows), not on the run's aggregates.
    pub fn row_level(self) -> bool {
        matches!(self, HistoryKind::NewValues | HistoryKind::UniqueAcross)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Seasonality {
    #[default]
    None,
    /// Compare with the same day of the week only.
    Weekday,
}

/// Which side of the band fails: both, only a drop below it, or only a rise above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Both,
    Drop,
    Rise,
}

/// One history check as the spec carries it (docs/spec.md "History checks").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryCheckSpec {
    pub check: HistoryKind,
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default = "default_sigma")]
    pub sigma: f64,
    /// Days of logical dates before this run's that count as history.
    #[serde(default = "default_lookback")]
    pub lookback: u32,
    #[serde(default)]
    pub seasonality: Seasonality,
    /// Fewer earlier points than this: the check is skipped.
    #[serde(default = "default_min_history")]
    pub min_history: u32,
    #[serde(default)]
    pub direction: Direction,
    /// Freshness: the longest lag allowed between the newest value and the end of the logical
    /// date, in seconds.
    #[serde(default)]
    pub max_lag_s: Option<f64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub severity: Severity,
}

fn default_sigma() -> f64 {
    3.0
}
fn default_lookback() -> u32 {
    28
}
fn default_min_history() -> u32 {
    4
}

/// A compiled history check.
#[derive(Debug, Clone)]
pub struct HistoryCheck {
    pub rule: RuleId,
    pub spec: HistoryCheckSpec,
    /// The plan column it reads, if any.
    pub column: Option<usize>,
}

/// Number the history checks as rules (after every other rule) and check their arguments.
pub fn compile(
    spec: &crate::spec::Spec,
    columns: &[ColumnPlan],
    add: &mut dyn FnMut(RuleMeta, &str) -> Result<RuleId>,
) -> Result<Vec<HistoryCheck>> {
    let mut out = Vec::new();
    for (index, check) in spec.history.iter().enumerate() {
        let at = format!("history[{index}] ({})", check.check.name());
        let needs_column = matches!(
            check.check,
            HistoryKind::NullFraction
                | HistoryKind::Mean
                | HistoryKind::Freshness
                | HistoryKind::NewValues
                | HistoryKind::UniqueAcross
        );
        let column = match (&check.column, needs_column) {
            (None, true) => return Err(Error::schema(at, "this history check needs a \"column\"")),
            (Some(_), false) => {
                return Err(Error::schema(at, "this history check takes no \"column\""))
            }
            (None, false) => None,
            (Some(name), true) => {
                let index = columns
                    .iter()
                    .position(|c| c.declared && &c.name == name)
                    .ok_or_else(|| {
                        Error::schema(
                            &at,
                            format!("column {name:?} is not a column of the schema"),
                        )
                    })?;
                let dtype = columns[index].dtype;
                if check.check == HistoryKind::Mean && !dtype.is_numeric() {
                    return Err(Error::schema(
                        &at,
                        format!("mean needs a numeric column; {name:?} is {}", dtype.name()),
                    ));
                }
                if check.check == HistoryKind::Freshness
                    && !matches!(dtype, DType::Date | DType::Datetime)
                {
                    return Err(Error::schema(
                        &at,
                        format!(
                            "freshness needs a date or datetime column; {name:?} is {}",
                            dtype.name()
                        ),
                    ));
                }
                Some(index)
            }
        };
        if !(check.sigma.is_finite() && check.sigma > 0.0) {
            return Err(Error::schema(&at, "sigma must be a positive number"));
        }
        if check.lookback == 0 || check.min_history == 0 {
            return Err(Error::schema(
                &at,
                "lookback and min_history must be at least 1",
            ));
        }
        if check.check == HistoryKind::Freshness
            && !check.max_lag_s.is_some_and(|s| s.is_finite() && s > 0.0)
        {
            return Err(Error::schema(
                &at,
                "freshness needs max_lag_s, a positive number of seconds",
            ));
        }
        let default_name = match &check.column {
            Some(column) => format!("history:{}:{column}", check.check.name()),
            None => format!("history:{}", check.check.name()),
        };
        let rule = add(
            RuleMeta {
                name: check.name.clone().unwrap_or(default_name),
                kind: check.check.name().to_owned(),
                scope: Scope::History,
                column: check.column.clone(),
                columns: check.column.iter().cloned().collect(),
                severity: check.severity,
                tolerance: None,
                description: describe(check),
            },
            &at,
        )?;
        out.push(HistoryCheck {
            rule,
            spec: check.clone(),
            column,
        });
    }
    Ok(out)
}

/// One line for the rule table: what the check compares with what.
fn describe(check: &HistoryCheckSpec) -> String {
    let column = check.column.as_deref().unwrap_or("");
    let band = format!(
        "within median ± {}·MAD of the last {} days",
        check.sigma, check.lookback
    );
    match check.check {
        HistoryKind::RowCount => format!("row count {band}"),
        HistoryKind::NullFraction => format!("null fraction of {column} {band}"),
        HistoryKind::Mean => format!("mean of {column} {band}"),
        HistoryKind::Freshness => format!(
            "newest {column} at most {}s before the logical date's end",
            check.max_lag_s.unwrap_or_default()
        ),
        HistoryKind::SchemaDrift => "the same columns and types as the last run".to_owned(),
        HistoryKind::NewValues => format!(
            "every {column} value was seen in the last {} days",
            check.lookback
        ),
        HistoryKind::UniqueAcross => format!(
            "no {column} key was seen in the last {} days",
            check.lookback
        ),
    }
}

/// What the ledger knows of one column in one partition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnFacts {
    pub name: String,
    pub rows: u64,
    pub nulls: u64,
    pub mean: Option<f64>,
    /// The largest value as a number (`Value::stat_f64`: microseconds for datetimes).
    pub max: Option<f64>,
}

/// One partition as the history checks see it: this run, or an entry read from the ledger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionFacts {
    pub partition: String,
    /// Days since 1970-01-01.
    pub logical_date: i32,
    pub rows: u64,
    pub columns: Vec<ColumnFacts>,
    /// `(name, type)` of every column the sources had.
    pub schema: Vec<(String, String)>,
    /// The distinct values of the `new_values` columns.
    pub value_sets: Vec<super::row_history::ValueSet>,
    /// The key indexes of the `unique_across` columns.
    pub key_indexes: Vec<super::row_history::KeyIndex>,
}

impl PartitionFacts {
    fn column(&self, name: &str) -> Option<&ColumnFacts> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Skipped,
}

impl Status {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A history check's verdict: what it saw, what it expected and why.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub status: Status,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The report's `observed` (value, band, statistics, the points used).
    pub detail: Json,
    pub message: String,
}

impl Verdict {
    fn skipped(reason: impl Into<String>, value: Option<f64>) -> Verdict {
        let reason = reason.into();
        Verdict {
            status: Status::Skipped,
            value,
            low: None,
            high: None,
            detail: json!({"status": "skipped", "value": value, "reason": reason}),
            message: reason,
        }
    }
}

/// MAD of a normal distribution, scaled to its standard deviation.
const MAD_TO_SIGMA: f64 = 1.4826;
/// The band is never narrower than this fraction of the median on either side (times sigma),
/// so a perfectly steady history does not fail a run for a one-row difference.
const MIN_RELATIVE_SPREAD: f64 = 0.01;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The robust band: `median ± sigma × max(1.4826 × MAD, 1% of |median|)`.
pub fn band(points: &[f64], sigma: f64) -> (f64, f64, f64, f64) {
    let mut values = points.to_vec();
    let center = median(&mut values);
    let mut deviations: Vec<f64> = points.iter().map(|v| (v - center).abs()).collect();
    let mad = median(&mut deviations);
    let spread = (MAD_TO_SIGMA * mad).max(MIN_RELATIVE_SPREAD * center.abs());
    (
        center,
        mad,
        center - sigma * spread,
        center + sigma * spread,
    )
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The earlier partitions a check may use: logical dates in `[date - lookback, date - 1]`,
/// same weekday with weekday seasonality, oldest first.
fn window<'a>(
    spec: &HistoryCheckSpec,
    current: &PartitionFacts,
    history: &'a [PartitionFacts],
) -> Vec<&'a PartitionFacts> {
    let from = current
        .logical_date
        .saturating_sub(i32::try_from(spec.lookback).unwrap_or(i32::MAX));
    let mut chosen: Vec<&PartitionFacts> = history
        .iter()
        .filter(|p| p.logical_date < current.logical_date && p.logical_date >= from)
        .filter(|p| {
            spec.seasonality == Seasonality::None
                || weekday_from_days(p.logical_date) == weekday_from_days(current.logical_date)
        })
        .collect();
    chosen.sort_by(|a, b| (a.logical_date, &a.partition).cmp(&(b.logical_date, &b.partition)));
    chosen
}

/// Judge one check. `current` is this run; `history` every entry the ledger holds for the
/// dataset (the window is chosen here).
#[allow(clippy::cast_precision_loss)]
pub fn judge(
    check: &HistoryCheck,
    current: &PartitionFacts,
    history: &[PartitionFacts],
) -> Verdict {
    let spec = &check.spec;
    let column = spec.column.as_deref().unwrap_or_default();
    let metric = |p: &PartitionFacts| -> Option<f64> {
        match spec.check {
            HistoryKind::RowCount => Some(p.rows as f64),
            HistoryKind::NullFraction => {
                let c = p.column(column)?;
                (c.rows > 0).then(|| c.nulls as f64 / c.rows as f64)
            }
            HistoryKind::Mean => p.column(column)?.mean,
            HistoryKind::Freshness
            | HistoryKind::SchemaDrift
            | HistoryKind::NewValues
            | HistoryKind::UniqueAcross => None,
        }
    };
    match spec.check {
        HistoryKind::Freshness => return freshness(spec, column, current),
        HistoryKind::SchemaDrift => return schema_drift(spec, current, history),
        _ => {}
    }
    let value = metric(current);
    let chosen = window(spec, current, history);
    let points: Vec<(&PartitionFacts, f64)> = chosen
        .into_iter()
        .filter_map(|p| metric(p).map(|v| (p, v)))
        .collect();
    let what = match spec.seasonality {
        Seasonality::Weekday => format!(
            "earlier {}s",
            WEEKDAYS[weekday_from_days(current.logical_date) as usize]
        ),
        Seasonality::None => "earlier partitions".to_owned(),
    };
    if points.len() < spec.min_history as usize {
        return Verdict::skipped(
            format!(
                "{} {what} in the last {} days of the ledger; {} needed",
                points.len(),
                spec.lookback,
                spec.min_history
            ),
            value,
        );
    }
    let numbers: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
    let (center, mad, low, high) = band(&numbers, spec.sigma);
    let (low, high) = match spec.direction {
        Direction::Both => (Some(low), Some(high)),
        Direction::Drop => (Some(low), None),
        Direction::Rise => (None, Some(high)),
    };
    let inside = value.is_some_and(|v| low.is_none_or(|l| v >= l) && high.is_none_or(|h| v <= h));
    let status = if inside { Status::Pass } else { Status::Fail };
    let label = match spec.check {
        HistoryKind::NullFraction => format!("null fraction of {column}"),
        HistoryKind::Mean => format!("mean of {column}"),
        _ => "row count".to_owned(),
    };
    let message = match value {
        None => format!("{label} is undefined (no values)"),
        Some(v) => format!(
            "{label} is {}; expected {}..{} (median {} of {} {what}, MAD {}, sigma {})",
            trim(v),
            low.map_or_else(|| "-inf".to_owned(), trim),
            high.map_or_else(|| "inf".to_owned(), trim),
            trim(center),
            points.len(),
            trim(mad),
            spec.sigma
        ),
    };
    let used: Vec<Json> = points
        .iter()
        .map(|(p, v)| {
            json!({"partition": p.partition, "logical_date": format_date(p.logical_date), "value": v})
        })
        .collect();
    Verdict {
        status,
        value,
        low,
        high,
        detail: json!({
            "status": status.name(),
            "value": value,
            "expected": {"low": low, "high": high},
            "median": center,
            "mad": mad,
            "sigma": spec.sigma,
            "seasonality": match spec.seasonality { Seasonality::Weekday => "weekday", Seasonality::None => "none" },
            "history": used,
        }),
        message,
    }
}

/// A number as short text: integers without a fraction, others with up to 6 decimals.
fn trim(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let text = format!("{v:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The newest value against the end of the logical date (its next midnight, UTC).
fn freshness(spec: &HistoryCheckSpec, column: &str, current: &PartitionFacts) -> Verdict {
    let max_lag = spec.max_lag_s.unwrap_or(0.0);
    let end_micros = (i64::from(current.logical_date) + 1) * 86_400_000_000;
    let Some(newest) = current.column(column).and_then(|c| c.max) else {
        return Verdict {
            status: Status::Fail,
            value: None,
            low: None,
            high: Some(max_lag),
            detail: json!({"status": "fail", "value": null, "expected": {"low": null, "high": max_lag}, "newest": null}),
            message: format!("{column} has no values, so the partition's freshness is unknown"),
        };
    };
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let lag_s = (end_micros as f64 - newest) / 1e6;
    #[allow(clippy::cast_possible_truncation)]
    let newest_text = format!("{}Z", format_datetime(newest as i64));
    let status = if lag_s <= max_lag {
        Status::Pass
    } else {
        Status::Fail
    };
    Verdict {
        status,
        value: Some(lag_s),
        low: None,
        high: Some(max_lag),
        detail: json!({
            "status": status.name(),
            "value": lag_s,
            "expected": {"low": null, "high": max_lag},
            "newest": newest_text,
            "logical_date_end": format!("{}Z", format_datetime(end_micros)),
        }),
        message: format!(
            "newest {column} is {newest_text}, {} h before the end of {} (at most {} h allowed)",
            trim(lag_s / 3600.0),
            format_date(current.logical_date),
            trim(max_lag / 3600.0)
        ),
    }
}

/// Columns added, removed or retyped since the latest earlier partition in the window.
fn schema_drift(
    spec: &HistoryCheckSpec,
    current: &PartitionFacts,
    history: &[PartitionFacts],
) -> Verdict {
    let chosen = window(
        &HistoryCheckSpec {
            seasonality: Seasonality::None,
            ..spec.clone()
        },
        current,
        history,
    );
    let Some(last) = chosen.last() else {
        return Verdict::skipped(
            format!(
                "no earlier partition in the last {} days of the ledger",
                spec.lookback
            ),
            None,
        );
    };
    let type_of = |schema: &[(String, String)], name: &str| {
        schema
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    };
    let added: Vec<&str> = current
        .schema
        .iter()
        .filter(|(n, _)| type_of(&last.schema, n).is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    let removed: Vec<&str> = last
        .schema
        .iter()
        .filter(|(n, _)| type_of(&current.schema, n).is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    let retyped: Vec<Json> = current
        .schema
        .iter()
        .filter_map(|(n, t)| {
            let before = type_of(&last.schema, n)?;
            (&before != t).then(|| json!({"column": n, "was": before, "now": t}))
        })
        .collect();
    let changes = added.len() + removed.len() + retyped.len();
    let status = if changes == 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    #[allow(clippy::cast_precision_loss)]
    let value = changes as f64;
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("added {added:?}"));
    }
    if !removed.is_empty() {
        parts.push(format!("removed {removed:?}"));
    }
    for r in &retyped {
        parts.push(format!(
            "{} retyped {} -> {}",
            r["column"], r["was"], r["now"]
        ));
    }
    Verdict {
        status,
        value: Some(value),
        low: None,
        high: Some(0.0),
        detail: json!({
            "status": status.name(),
            "value": value,
            "expected": {"low": null, "high": 0},
            "compared_with": {"partition": last.partition, "logical_date": format_date(last.logical_date)},
            "added": added,
            "removed": removed,
            "retyped": retyped,
        }),
        message: if changes == 0 {
            "same columns and types as the last partition".to_owned()
        } else {
            format!(
                "schema changed since partition {} ({}): {}",
                last.partition,
                format_date(last.logical_date),
                parts.join("; ")
            )
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(check: HistoryKind) -> HistoryCheckSpec {
        serde_json::from_value(json!({"check": check, "seasonality": "weekday"})).unwrap()
    }

    fn day(date: i32, rows: u64) -> PartitionFacts {
        PartitionFacts {
            partition: format!("dt={}", format_date(date)),
            logical_date: date,
            rows,
            ..PartitionFacts::default()
        }
    }

    #[test]
    fn the_band_is_median_and_mad_and_ignores_one_outlier() {
        let (center, mad, low, high) = band(&[100.0, 102.0, 98.0, 1000.0, 101.0], 3.0);
        assert_eq!(center, 101.0);
        assert_eq!(mad, 1.0);
        assert!((low - (101.0 - 3.0 * 1.4826)).abs() < 1e-9);
        assert!((high - (101.0 + 3.0 * 1.4826)).abs() < 1e-9);
        // A steady history: the band is 1% of the median wide (times sigma), never zero.
        let (_, mad, low, high) = band(&[200.0; 4], 2.0);
        assert_eq!((mad, low, high), (0.0, 196.0, 204.0));
    }

    #[test]
    fn row_count_uses_same_weekday_and_skips_short_history() {
        let check = HistoryCheck {
            rule: 0,
            spec: spec(HistoryKind::RowCount),
            column: None,
        };
        // 2026-01-05 is a Monday (days 20458).
        let monday = crate::parse::days_from_civil(2026, 1, 5);
        let mut history: Vec<PartitionFacts> = (1..=35)
            .map(|back| {
                let date = monday - back;
                let rows = if weekday_from_days(date) == 0 {
                    1000
                } else {
                    5000
                };
                day(date, rows)
            })
            .collect();
        let verdict = judge(&check, &day(monday, 990), &history);
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
        assert_eq!(verdict.detail["history"].as_array().unwrap().len(), 4);
        let verdict = judge(&check, &day(monday, 500), &history);
        assert_eq!(verdict.status, Status::Fail);
        assert!(
            verdict.message.contains("earlier Mondays"),
            "{}",
            verdict.message
        );
        // A later partition never counts: backfilling in reverse gives the same verdict.
        history.push(day(monday + 7, 1));
        assert_eq!(
            judge(&check, &day(monday, 500), &history).status,
            Status::Fail
        );
        history.retain(|p| p.logical_date > monday - 14);
        assert_eq!(
            judge(&check, &day(monday, 500), &history).status,
            Status::Skipped
        );
    }

    #[test]
    fn schema_drift_names_added_removed_and_retyped_columns() {
        let check = HistoryCheck {
            rule: 0,
            spec: spec(HistoryKind::SchemaDrift),
            column: None,
        };
        let schema = |cols: &[(&str, &str)]| {
            cols.iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect::<Vec<_>>()
        };
        let mut before = day(10, 1);
        before.schema = schema(&[("a", "Int64"), ("b", "Utf8")]);
        let mut now = day(11, 1);
        now.schema = schema(&[("a", "Utf8"), ("c", "Utf8")]);
        let verdict = judge(&check, &now, &[before]);
        assert_eq!(verdict.status, Status::Fail);
        assert_eq!(verdict.value, Some(3.0));
        assert!(
            verdict.message.contains("added [\"c\"]"),
            "{}",
            verdict.message
        );
        assert_eq!(judge(&check, &now, &[]).status, Status::Skipped);
    }
}
