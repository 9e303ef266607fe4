//! Dataset checks: aggregates over a column (or the row count) gathered in the same pass as the
//! row checks and compared with bounds at the end.

use crate::spec::{DatasetCheckSpec, Metric};

/// How much a column's statistics gather per value, the least its readers need: each level
/// adds to the one before, and every exact sum costs real time per row (a 1M-row run pays it
/// a million times), so a column pays only for what a check or the ledger reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gather {
    #[default]
    Nothing,
    /// Count, min and max (`min` / `max` checks, a temporal column's ledger profile).
    MinMax,
    /// And the exact sum (`mean` / `sum` checks).
    Sum,
    /// And the exact sum of squares (a numeric column's ledger profile: its stddev).
    Moments,
}

/// Per-column aggregates. Merging two in either order gives the same result, so the outcome does
/// not depend on how the data was split into blocks.
#[derive(Debug, Clone, Default)]
pub struct ColumnStats {
    pub nulls: u64,
    pub values: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub sum: ExactSum,
    /// The sum of squares, for the ledger's standard deviation.
    pub sum_sq: ExactSum,
}

impl ColumnStats {
    /// Add one value, gathering what `level` asks for (never `Nothing`: such a column is not
    /// offered its values).
    pub fn add(&mut self, value: f64, level: Gather) {
        self.values += 1;
        self.min = Some(self.min.map_or(value, |m| m.min(value)));
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
        if level >= Gather::Sum {
            self.sum.add(value);
        }
        if level >= Gather::Moments {
            self.sum_sq.add(value * value);
        }
    }

    pub fn merge(&mut self, other: &ColumnStats) {
        self.nulls += other.nulls;
        self.values += other.values;
        if let Some(v) = other.min {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
        }
        if let Some(v) = other.max {
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
        self.sum.merge(&other.sum);
        self.sum_sq.merge(&other.sum_sq);
    }
}

/// An exactly rounded floating-point sum (Shewchuk's partials, as Python's `math.fsum`): the
/// result is the true sum rounded once, whatever the order of the additions.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    partials: Vec<f64>,
}

impl ExactSum {
    pub fn add(&mut self, mut x: f64) {
        let mut kept = 0;
        for index in 0..self.partials.len() {
            let mut y = self.partials[index];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
    }

    pub fn value(&self) -> f64 {
        let mut n = self.partials.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = self.partials[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = self.partials[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Round half to even across the remaining partials, as fsum does.
        if n > 0
            && ((lo < 0.0 && self.partials[n - 1] < 0.0)
                || (lo > 0.0 && self.partials[n - 1] > 0.0))
        {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
        hi
    }
}

/// A dataset check with its bounds.
#[derive(Debug)]
pub struct DatasetCheck {
    pub rule: super::RuleId,
    pub metric: Metric,
    pub column: Option<usize>,
    pub spec: DatasetCheckSpec,
}

impl DatasetCheck {
    /// The observed value, or `None` when it is undefined (a mean over no values).
    #[allow(clippy::cast_precision_loss)]
    pub fn observe(
        &self,
        rows: u64,
        stats: Option<&ColumnStats>,
        distinct: Option<usize>,
    ) -> Option<f64> {
        let stats = stats.cloned().unwrap_or_default();
        match self.metric {
            Metric::RowCount => Some(rows as f64),
            Metric::NullCount => Some(stats.nulls as f64),
            Metric::NullFraction => Some(if rows == 0 {
                0.0
            } else {
                stats.nulls as f64 / rows as f64
            }),
            Metric::DistinctCount => Some(distinct.unwrap_or(0) as f64),
            Metric::Min => stats.min,
            Metric::Max => stats.max,
            Metric::Sum => Some(stats.sum.value()),
            Metric::Mean => (stats.values > 0).then(|| stats.sum.value() / stats.values as f64),
        }
    }

    pub fn passes(&self, observed: Option<f64>) -> bool {
        let Some(value) = observed else {
            return false;
        };
        let low_ok = match self.spec.min {
            None => true,
            Some(min) if self.spec.min_inclusive => value >= min,
            Some(min) => value > min,
        };
        let high_ok = match self.spec.max {
            None => true,
            Some(max) if self.spec.max_inclusive => value <= max,
            Some(max) => value < max,
        };
        low_ok && high_ok
    }

    pub fn describe_bounds(&self) -> String {
        let low = self
            .spec
            .min
            .map(|m| format!("{} {m}", if self.spec.min_inclusive { ">=" } else { ">" }));
        let high = self
            .spec
            .max
            .map(|m| format!("{} {m}", if self.spec.max_inclusive { "<=" } else { "<" }));
        [low, high]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_order_independent() {
        let values = [1e16, 1.0, -1e16, 0.1, 0.2, 0.3, 1e-10, 3.5];
        let mut forward = ExactSum::default();
        values.iter().for_each(|&v| forward.add(v));
        let mut split_a = ExactSum::default();
        let mut split_b = ExactSum::default();
        values[..3].iter().for_each(|&v| split_a.add(v));
        values[3..].iter().rev().for_each(|&v| split_b.add(v));
        split_b.merge(&split_a);
        assert_eq!(forward.value().to_bits(), split_b.value().to_bits());
        assert!((forward.value() - 5.100_000_000_1).abs() < 1e-12);
    }

    #[test]
    fn each_level_gathers_what_it_names() {
        // (level, sum kept, sum of squares kept)
        let cases = [
            (Gather::MinMax, 0.0, 0.0),
            (Gather::Sum, 6.0, 0.0),
            (Gather::Moments, 6.0, 14.0),
        ];
        for (level, sum, sum_sq) in cases {
            let mut stats = ColumnStats::default();
            [3.0, 1.0, 2.0].iter().for_each(|&v| stats.add(v, level));
            assert_eq!(
                (stats.values, stats.min, stats.max),
                (3, Some(1.0), Some(3.0)),
                "{level:?}"
            );
            assert_eq!(
                (stats.sum.value(), stats.sum_sq.value()),
                (sum, sum_sq),
                "{level:?}"
            );
        }
    }

    fn check(spec: serde_json::Value) -> DatasetCheck {
        let spec: DatasetCheckSpec = serde_json::from_value(spec).expect("a dataset check spec");
        DatasetCheck {
            rule: 0,
            metric: spec.metric,
            column: spec.column.as_ref().map(|_| 0),
            spec,
        }
    }

    fn stats(values: &[f64], nulls: u64) -> ColumnStats {
        let mut stats = ColumnStats {
            nulls,
            ..ColumnStats::default()
        };
        values.iter().for_each(|&v| stats.add(v, Gather::Sum));
        stats
    }

    #[test]
    fn observed_values() {
        // Six rows: four values and two nulls in the column, three distinct values.
        let column = stats(&[2.0, -1.0, 5.0, 2.0], 2);
        let cases: &[(&str, Option<f64>)] = &[
            ("row_count", Some(6.0)),
            ("null_count", Some(2.0)),
            ("null_fraction", Some(2.0 / 6.0)),
            ("distinct_count", Some(3.0)),
            ("min", Some(-1.0)),
            ("max", Some(5.0)),
            ("sum", Some(8.0)),
            ("mean", Some(2.0)),
        ];
        for (metric, want) in cases {
            let check = check(serde_json::json!({"metric": metric, "column": "x"}));
            assert_eq!(check.observe(6, Some(&column), Some(3)), *want, "{metric}");
        }
    }

    #[test]
    fn observed_values_of_an_empty_input() {
        // No rows: counts are zero, the fraction is 0, and min/max/mean are undefined.
        let cases: &[(&str, Option<f64>)] = &[
            ("row_count", Some(0.0)),
            ("null_count", Some(0.0)),
            ("null_fraction", Some(0.0)),
            ("distinct_count", Some(0.0)),
            ("min", None),
            ("max", None),
            ("sum", Some(0.0)),
            ("mean", None),
        ];
        for (metric, want) in cases {
            let check = check(serde_json::json!({"metric": metric, "column": "x"}));
            assert_eq!(check.observe(0, None, None), *want, "{metric}");
        }
    }

    #[test]
    fn bounds_pass_and_fail() {
        // (bounds, observed, passes, described)
        let cases: &[(serde_json::Value, Option<f64>, bool, &str)] = &[
            (serde_json::json!({"min": 1}), Some(1.0), true, ">= 1"),
            (serde_json::json!({"min": 1}), Some(0.5), false, ">= 1"),
            (
                serde_json::json!({"min": 1, "min_inclusive": false}),
                Some(1.0),
                false,
                "> 1",
            ),
            (
                serde_json::json!({"min": 1, "min_inclusive": false}),
                Some(1.5),
                true,
                "> 1",
            ),
            (serde_json::json!({"max": 10}), Some(10.0), true, "<= 10"),
            (serde_json::json!({"max": 10}), Some(10.5), false, "<= 10"),
            (
                serde_json::json!({"max": 10, "max_inclusive": false}),
                Some(10.0),
                false,
                "< 10",
            ),
            (
                serde_json::json!({"min": 0, "max": 0.5}),
                Some(0.25),
                true,
                ">= 0 and <= 0.5",
            ),
            (
                serde_json::json!({"min": 0, "max": 0.5}),
                Some(0.75),
                false,
                ">= 0 and <= 0.5",
            ),
            (serde_json::json!({}), Some(1e300), true, ""),
            // An undefined value (the mean of nothing) never passes.
            (serde_json::json!({}), None, false, ""),
            (serde_json::json!({"min": 0}), None, false, ">= 0"),
        ];
        for (bounds, observed, want, described) in cases {
            let mut spec = bounds.clone();
            spec["metric"] = serde_json::json!("row_count");
            let check = check(spec);
            assert_eq!(check.passes(*observed), *want, "{bounds} on {observed:?}");
            assert_eq!(check.describe_bounds(), *described, "{bounds}");
        }
    }

    #[test]
    fn column_stats_merge_in_either_order() {
        let (a, b) = (stats(&[1.0, 7.0], 1), stats(&[-3.0], 2));
        let (mut ab, mut ba) = (a.clone(), b.clone());
        ab.merge(&b);
        ba.merge(&a);
        for merged in [ab, ba] {
            assert_eq!(
                (
                    merged.nulls,
                    merged.values,
                    merged.min,
                    merged.max,
                    merged.sum.value()
                ),
                (3, 3, Some(-3.0), Some(7.0), 5.0)
            );
        }
    }
}
