//! Row-level history checks (`new_values`, `unique_across`): each row's value or key is compared
//! with what the ledger's earlier partitions kept, loaded before pass 1, and the rows that fail
//! are quarantined like any other rule's (docs/ledger.md "Row-level history checks").

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{json, Value as Json};

use super::history::{HistoryCheck, HistoryKind, PartitionFacts, Status};
use crate::report::Sample;
use crate::rules::RuleId;

/// A `new_values` column keeps at most this many distinct values per entry; over it the entry
/// marks the set incomplete and the check is skipped (a column with that many values is not a
/// category whose new members mean something).
pub const MAX_DISTINCT_VALUES: usize = 10_000;

/// New values named in a report's `observed` (the rows are all quarantined; this is the view).
const SHOWN_VALUES: usize = 20;

/// The distinct values one entry saw in a `new_values` column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueSet {
    pub column: String,
    /// Sorted; empty when `over_cap`.
    pub values: Vec<String>,
    /// More than `MAX_DISTINCT_VALUES` distinct values: the set is not kept.
    pub over_cap: bool,
}

/// The key index one entry kept for a `unique_across` column: xxh3-64 hashes of the keys, never
/// the keys themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyIndex {
    pub column: String,
    /// Sorted and distinct.
    pub hashes: Vec<u64>,
}

/// The hash a `unique_across` key is kept as: xxh3-64 of the parsed value's canonical bytes.
pub fn key_hash(key_bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key_bytes)
}

/// One row-level check during a run: the earlier partitions' values or keys, and what this run
/// sees and flags.
#[derive(Debug)]
pub struct RowCheck {
    pub rule: RuleId,
    pub kind: HistoryKind,
    pub column: String,
    lookback: u32,
    /// Why the check cannot judge this run; rows are still indexed for the ledger.
    skipped: Option<String>,
    /// The earlier partitions used, oldest first.
    points: Vec<String>,
    seen_values: HashSet<String>,
    /// Key hash → the latest earlier partition holding it.
    seen_keys: HashMap<u64, usize>,
    values: BTreeSet<String>,
    over_cap: bool,
    hashes: HashSet<u64>,
    /// Rows flagged so far (run-wide, in order; handed over once), and the first as samples.
    flagged: Vec<u64>,
    samples: Vec<(u64, Sample)>,
    /// New value → rows carrying it; earlier partition → rows repeating its keys.
    found: BTreeMap<String, u64>,
}

impl RowCheck {
    /// Prepare one check from the entries of earlier logical dates (`history`); `None` history
    /// means the run has no ledger.
    pub fn new(check: &HistoryCheck, today: i32, history: Option<&[PartitionFacts]>) -> RowCheck {
        let spec = &check.spec;
        let column = spec.column.clone().unwrap_or_default();
        let mut out = RowCheck {
            rule: check.rule,
            kind: spec.check,
            column: column.clone(),
            lookback: spec.lookback,
            skipped: None,
            points: Vec::new(),
            seen_values: HashSet::new(),
            seen_keys: HashMap::new(),
            values: BTreeSet::new(),
            over_cap: false,
            hashes: HashSet::new(),
            flagged: Vec::new(),
            samples: Vec::new(),
            found: BTreeMap::new(),
        };
        let Some(history) = history else {
            out.skipped =
                Some("no ledger given (--ledger / ledger=), so there is no history".to_owned());
            return out;
        };
        let from = today.saturating_sub(i32::try_from(spec.lookback).unwrap_or(i32::MAX));
        let mut window: Vec<&PartitionFacts> = history
            .iter()
            .filter(|p| p.logical_date >= from && p.logical_date < today)
            .collect();
        window.sort_by(|a, b| (a.logical_date, &a.partition).cmp(&(b.logical_date, &b.partition)));
        for p in window {
            match spec.check {
                HistoryKind::NewValues => {
                    let Some(set) = p.value_sets.iter().find(|s| s.column == column) else {
                        continue;
                    };
                    if set.over_cap && out.skipped.is_none() {
                        out.skipped = Some(format!(
                            "partition {} had more than {MAX_DISTINCT_VALUES} distinct values of {column}, so its set was not kept",
                            p.partition
                        ));
                    }
                    out.seen_values.extend(set.values.iter().cloned());
                }
                _ => {
                    let Some(index) = p.key_indexes.iter().find(|k| k.column == column) else {
                        continue;
                    };
                    let at = out.points.len();
                    for &hash in &index.hashes {
                        out.seen_keys.insert(hash, at);
                    }
                }
            }
            out.points.push(p.partition.clone());
        }
        if out.skipped.is_none() && out.points.len() < spec.min_history as usize {
            out.skipped = Some(format!(
                "{} earlier partition(s) in the last {} days keep {column}; {} needed",
                out.points.len(),
                spec.lookback,
                spec.min_history
            ));
        }
        out
    }

    /// One row's value (its text) and key hash; `sample` builds the sample if one is wanted.
    pub fn observe(
        &mut self,
        row: u64,
        hash: u64,
        text: &str,
        sample_size: usize,
        sample: impl FnOnce(String, String) -> Sample,
    ) {
        let reason = match self.kind {
            HistoryKind::NewValues => {
                if !self.over_cap && !self.values.contains(text) {
                    if self.values.len() >= MAX_DISTINCT_VALUES {
                        self.over_cap = true;
                        self.values.clear();
                    } else {
                        self.values.insert(text.to_owned());
                    }
                }
                if self.skipped.is_some() || self.seen_values.contains(text) {
                    return;
                }
                *self.found.entry(text.to_owned()).or_default() += 1;
                format!("new value: not seen in the last {} days", self.lookback)
            }
            _ => {
                self.hashes.insert(hash);
                if self.skipped.is_some() {
                    return;
                }
                let Some(&at) = self.seen_keys.get(&hash) else {
                    return;
                };
                let earlier = &self.points[at];
                *self.found.entry(earlier.clone()).or_default() += 1;
                format!("key already seen in earlier partition {earlier}")
            }
        };
        self.flagged.push(row);
        if self.samples.len() < sample_size {
            self.samples
                .push((row, sample(text.chars().take(200).collect(), reason)));
        }
    }

    /// The check's status once every row is seen: a set over the cap skips it after all.
    pub fn status(&self) -> Status {
        if self.skipped.is_some() || self.over_cap {
            Status::Skipped
        } else if self.found.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        }
    }

    pub fn reason(&self) -> Option<String> {
        self.skipped.clone().or_else(|| {
            self.over_cap.then(|| {
                format!(
                    "this partition has more than {MAX_DISTINCT_VALUES} distinct values of {}",
                    self.column
                )
            })
        })
    }

    /// The rows to quarantine and their samples (none when the check is skipped).
    pub fn take_failures(&mut self) -> (Vec<u64>, Vec<(u64, Sample)>) {
        if self.status() != Status::Fail {
            return (Vec::new(), Vec::new());
        }
        (
            std::mem::take(&mut self.flagged),
            std::mem::take(&mut self.samples),
        )
    }

    /// The report's `observed`: status, rows flagged, what was found and the partitions used.
    #[allow(clippy::cast_precision_loss)]
    pub fn detail(&self, failed: u64) -> Json {
        let status = self.status();
        let found: Json = match self.kind {
            HistoryKind::NewValues => json!(self
                .found
                .iter()
                .take(SHOWN_VALUES)
                .map(|(v, n)| json!({"value": v, "rows": n}))
                .collect::<Vec<_>>()),
            _ => json!(self
                .found
                .iter()
                .map(|(p, n)| json!({"partition": p, "rows": n}))
                .collect::<Vec<_>>()),
        };
        let key = match self.kind {
            HistoryKind::NewValues => "new_values",
            _ => "earlier_partitions",
        };
        let mut out = json!({
            "status": status.name(),
            "value": if status == Status::Skipped { Json::Null } else { json!(failed as f64) },
            "lookback_days": self.lookback,
            "points": self.points,
        });
        if status != Status::Skipped {
            out[key] = found;
        }
        if let Some(reason) = self.reason() {
            out["reason"] = json!(reason);
        }
        out
    }

    pub fn value_set(&self) -> Option<ValueSet> {
        (self.kind == HistoryKind::NewValues).then(|| ValueSet {
            column: self.column.clone(),
            values: if self.over_cap {
                Vec::new()
            } else {
                self.values.iter().cloned().collect()
            },
            over_cap: self.over_cap,
        })
    }

    pub fn key_index(&self) -> Option<KeyIndex> {
        (self.kind == HistoryKind::UniqueAcross).then(|| {
            let mut hashes: Vec<u64> = self.hashes.iter().copied().collect();
            hashes.sort_unstable();
            KeyIndex {
                column: self.column.clone(),
                hashes,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::history::HistoryCheckSpec;
    use crate::parse::format_date as day;

    fn check(kind: HistoryKind, column: &str, lookback: u32, min_history: u32) -> HistoryCheck {
        let mut spec: HistoryCheckSpec =
            serde_json::from_value(json!({"check": kind.name(), "column": column})).unwrap();
        spec.lookback = lookback;
        spec.min_history = min_history;
        HistoryCheck {
            rule: 3,
            spec,
            column: Some(0),
        }
    }

    fn with_values(date: i32, values: &[&str]) -> PartitionFacts {
        PartitionFacts {
            partition: format!("dt={}", day(date)),
            logical_date: date,
            value_sets: vec![ValueSet {
                column: "currency".into(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
                over_cap: false,
            }],
            ..PartitionFacts::default()
        }
    }

    fn with_keys(date: i32, keys: &[&str]) -> PartitionFacts {
        PartitionFacts {
            partition: format!("dt={}", day(date)),
            logical_date: date,
            key_indexes: vec![KeyIndex {
                column: "id".into(),
                hashes: keys.iter().map(|k| key_hash(k.as_bytes())).collect(),
            }],
            ..PartitionFacts::default()
        }
    }

    fn sample(value: String, message: String) -> Sample {
        Sample {
            row: 0,
            line: None,
            source: String::new(),
            column: None,
            value: Some(value),
            message,
        }
    }

    /// Feed values (row = position) and return (status, flagged rows, sample messages).
    fn run(mut c: RowCheck, values: &[&str]) -> (Status, Vec<u64>, Vec<String>) {
        for (row, v) in values.iter().enumerate() {
            c.observe(row as u64, key_hash(v.as_bytes()), v, 10, sample);
        }
        let status = c.status();
        let (rows, samples) = c.take_failures();
        // The verdict outlives handing the rows over.
        assert_eq!(c.status(), status);
        let messages = samples
            .into_iter()
            .map(|(_, s)| format!("{}: {}", s.value.unwrap(), s.message))
            .collect();
        (status, rows, messages)
    }

    #[test]
    fn new_values_flags_exactly_the_rows_with_a_value_not_seen_in_the_window() {
        let c = check(HistoryKind::NewValues, "currency", 28, 2);
        let history = vec![
            with_values(10, &["EUR", "USD"]),
            with_values(11, &["EUR"]),
            with_values(40, &["JPY"]), // later: never counts
            with_values(41, &["CHF"]), // the run's own date: never counts
        ];
        let cases: &[(&[&str], Status, &[u64])] = &[
            (&["EUR", "USD", "EUR"], Status::Pass, &[]),
            (
                &["EUR", "GBP", "USD", "GBP", "JPY"],
                Status::Fail,
                &[1, 3, 4],
            ),
            (&["CHF"], Status::Fail, &[0]),
        ];
        for (values, status, rows) in cases {
            let (got, flagged, _) = run(RowCheck::new(&c, 20, Some(&history)), values);
            assert_eq!((got, flagged.as_slice()), (*status, *rows), "{values:?}");
        }
        let (_, _, messages) = run(RowCheck::new(&c, 20, Some(&history)), &["GBP"]);
        assert_eq!(messages, ["GBP: new value: not seen in the last 28 days"]);
        // Outside the lookback window: USD on day 10 is forgotten by day 39.
        let c7 = check(HistoryKind::NewValues, "currency", 28, 1);
        let (status, flagged, _) = run(RowCheck::new(&c7, 39, Some(&history)), &["USD", "EUR"]);
        assert_eq!((status, flagged), (Status::Fail, vec![0]));
    }

    #[test]
    fn new_values_skips_short_history_a_missing_ledger_and_sets_over_the_cap() {
        let c = check(HistoryKind::NewValues, "currency", 28, 3);
        let history = vec![with_values(10, &["EUR"]), with_values(11, &["EUR"])];
        let short = RowCheck::new(&c, 20, Some(&history));
        assert!(short.reason().unwrap().contains("2 earlier partition(s)"));
        assert_eq!(run(short, &["GBP"]).0, Status::Skipped);
        assert_eq!(
            run(RowCheck::new(&c, 20, None), &["GBP"]).0,
            Status::Skipped
        );

        let mut over = with_values(12, &[]);
        over.value_sets[0].over_cap = true;
        let c1 = check(HistoryKind::NewValues, "currency", 28, 1);
        let (status, rows, _) = run(RowCheck::new(&c1, 20, Some(&[over])), &["GBP"]);
        assert_eq!((status, rows), (Status::Skipped, vec![]));

        let mut many = RowCheck::new(&c1, 20, Some(&history));
        for n in 0..=MAX_DISTINCT_VALUES {
            let text = n.to_string();
            many.observe(n as u64, 0, &text, 10, sample);
        }
        assert_eq!(many.status(), Status::Skipped);
        assert!(many.take_failures().0.is_empty());
        let set = many.value_set().unwrap();
        assert!(set.over_cap && set.values.is_empty());
    }

    #[test]
    fn unique_across_flags_keys_of_earlier_partitions_and_names_the_latest() {
        let c = check(HistoryKind::UniqueAcross, "id", 7, 1);
        let history = vec![
            with_keys(10, &["a", "b"]),
            with_keys(12, &["b", "c"]),
            with_keys(15, &["z"]), // the run's own date (a re-run): never counts
        ];
        let (status, rows, messages) = run(
            RowCheck::new(&c, 15, Some(&history)),
            &["x", "a", "b", "z", "x"],
        );
        assert_eq!((status, rows), (Status::Fail, vec![1, 2]));
        assert_eq!(
            messages,
            [
                "a: key already seen in earlier partition dt=1970-01-11",
                "b: key already seen in earlier partition dt=1970-01-13",
            ]
        );
        // Day 10 is outside a 3-day window from day 15.
        let c3 = check(HistoryKind::UniqueAcross, "id", 3, 1);
        let (_, rows, _) = run(RowCheck::new(&c3, 15, Some(&history)), &["a", "b"]);
        assert_eq!(rows, vec![1]);
        // The index keeps distinct sorted hashes of every key, flagged or not.
        let mut c = RowCheck::new(&c, 15, Some(&history));
        for v in ["b", "a", "b"] {
            c.observe(0, key_hash(v.as_bytes()), v, 0, sample);
        }
        let mut want = vec![key_hash(b"a"), key_hash(b"b")];
        want.sort_unstable();
        assert_eq!(c.key_index().unwrap().hashes, want);
    }
}
