//! Dataset checks: aggregates over a column (or the row count) gathered in the same pass as the
//! row checks and compared with bounds at the end.

use crate::ledger::sketch::{hash, mix, Hll, Sketch, TopValues};
use crate::spec::{DatasetCheckSpec, Metric};
use crate::value::Value;

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
    /// The ledger profile's distinct estimate and top values (`ledger::sketch`).
    pub distinct: Hll,
    pub top: TopValues,
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
        self.distinct.merge(&other.distinct);
        self.top.merge(&other.top, &mut self.distinct);
    }

    /// Sketch one parsed value for the ledger profile (never `Sketch::Nothing`).
    pub fn sketch(&mut self, value: &Value<'_>, sketch: Sketch) {
        let hash = match *value {
            Value::Str(text) => {
                let hash = hash(text);
                if sketch == Sketch::DistinctAndTop {
                    self.top.add(hash, text, 1, &mut self.distinct);
                    return;
                }
                hash
            }
            #[allow(clippy::cast_sign_loss)]
            Value::Int(v) | Value::DateTime(v) | Value::Time(v) => mix(v as u64),
            // -0.0 == 0.0: one value.
            Value::Float(v) => mix(if v == 0.0 { 0 } else { v.to_bits() }),
            #[allow(clippy::cast_sign_loss)]
            Value::Date(v) => mix(u64::from(v as u32)),
            Value::Bool(v) => mix(u64::from(v)),
            Value::Decimal(_) => {
                let mut scratch = [0u8; 24];
                hash(value.key_bytes(&mut scratch))
            }
        };
        self.distinct.add(hash);
    }

    /// The distinct values sketched: exact for a small string column, else the estimate.
    pub fn distinct(&self, sketch: Sketch) -> u64 {
        let exact = (sketch == Sketch::DistinctAndTop)
            .then(|| self.top.distinct())
            .flatten();
        exact.unwrap_or_else(|| self.distinct.estimate())
    }
}

/// An exactly rounded floating-point sum, as Python's `math.fsum`: the result is the true sum
/// rounded once, whatever the order of the additions. Every finite double is an integer
/// multiple of 2^-1074 below 2^1024, so the sum is kept exactly as one fixed-point integer of
/// 32-bit limbs (a "superaccumulator"): an addition touches three limbs, with no loop and no
/// branch on the data, where a list of non-overlapping partials (Shewchuk) walked a list that
/// grows to 8-10 entries on decimal data and cost ~200 instructions a value. Carries are left
/// in the 64-bit limbs and propagated only every 2^30 additions, at a merge and at the end.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    /// Limb `k` holds the sum's bits `32k .. 32k + 32` counted from 2^-1074, each limb a signed
    /// count (carries deferred); empty until the first value (most columns never see one).
    limbs: Vec<i64>,
    /// Additions since the limbs were last normalized.
    pending: u32,
    /// The sum of the infinities and NaNs added (they have no fixed-point form).
    nonfinite: Option<f64>,
}

/// 2046 bit positions of a double's lowest mantissa bit, plus its 53 bits, in 32-bit limbs,
/// and one more that only carries take.
const LIMBS: usize = 68;
/// Each addition moves a limb by less than 2^32; normalized limbs are below 2^32: after this
/// many additions a limb is still far from the i64 range.
const NORMALIZE_EVERY: u32 = 1 << 30;

impl ExactSum {
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite = Some(self.nonfinite.map_or(x, |s| s + x));
            return;
        }
        if self.limbs.is_empty() {
            self.limbs = vec![0; LIMBS];
        }
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as usize;
        let fraction = bits & ((1 << 52) - 1);
        // x = mantissa × 2^(position − 1074); subnormals (exponent 0) have no implicit bit.
        let (mantissa, position) = if exponent == 0 {
            (fraction, 0)
        } else {
            (fraction | (1 << 52), exponent - 1)
        };
        let wide = u128::from(mantissa) << (position % 32);
        #[allow(clippy::cast_possible_wrap)]
        let chunks = [
            (wide & 0xffff_ffff) as i64,
            ((wide >> 32) & 0xffff_ffff) as i64,
            (wide >> 64) as i64,
        ];
        let at = position / 32;
        let sign = if x < 0.0 { -1 } else { 1 };
        for (limb, chunk) in self.limbs[at..at + 3].iter_mut().zip(chunks) {
            *limb += sign * chunk;
        }
        self.pending += 1;
        if self.pending == NORMALIZE_EVERY {
            normalize(&mut self.limbs);
            self.pending = 0;
        }
    }

    pub fn merge(&mut self, other: &ExactSum) {
        if let Some(x) = other.nonfinite {
            self.nonfinite = Some(self.nonfinite.map_or(x, |s| s + x));
        }
        if other.limbs.is_empty() {
            return;
        }
        if self.limbs.is_empty() {
            self.limbs = vec![0; LIMBS];
        }
        let mut theirs = other.limbs.clone();
        normalize(&mut theirs);
        normalize(&mut self.limbs);
        for (limb, add) in self.limbs.iter_mut().zip(theirs) {
            *limb += add;
        }
        // Both normalized: each limb is now below 2^33, as after two additions.
        self.pending = 2;
    }

    #[allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]
    pub fn value(&self) -> f64 {
        if let Some(x) = self.nonfinite {
            return x;
        }
        if self.limbs.is_empty() {
            return 0.0;
        }
        let mut limbs = self.limbs.clone();
        normalize(&mut limbs);
        // Normalized, every limb but the top one is in 0..2^32 and the top one carries the
        // sign: a negative sum is rounded as its magnitude.
        let negative = limbs[LIMBS - 1] < 0;
        if negative {
            limbs.iter_mut().for_each(|limb| *limb = -*limb);
            normalize(&mut limbs);
        }
        let Some(top) = limbs.iter().rposition(|&limb| limb != 0) else {
            return 0.0;
        };
        let magnitude = if top < 2 {
            // Below 2^64 × 2^-1074: an integer count of 2^-1074 that is exact as a double
            // whenever the sum is subnormal, and rounded once by the cast otherwise (the
            // scaling to a normal result is exact).
            let count = (limbs[1] as u64) << 32 | limbs[0] as u64;
            scale(count as f64, -1074)
        } else {
            // The top 96 bits, and a sticky bit for anything below them: that bit sits at least
            // 43 places under the rounding position, so the cast rounds (half to even) exactly
            // as the whole sum would.
            let window = (limbs[top] as u128) << 64
                | (limbs[top - 1] as u128) << 32
                | limbs[top - 2] as u128;
            let sticky = u128::from(limbs[..top - 2].iter().any(|&limb| limb != 0));
            #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
            let shift = 32 * (top as i32 - 2) - 1074;
            scale((window | sticky) as f64, shift)
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// Propagate the deferred carries: every limb but the top one into 0..2^32.
fn normalize(limbs: &mut [i64]) {
    for k in 0..limbs.len() - 1 {
        let carry = limbs[k] >> 32;
        limbs[k] -= carry << 32;
        limbs[k + 1] += carry;
    }
}

/// `x × 2^power`, exactly while the result is a normal double (in steps, since 2^power itself
/// may not be one); an overflow gives infinity.
fn scale(mut x: f64, mut power: i32) -> f64 {
    let two_to = |p: i32| f64::from_bits(u64::try_from(1023 + p).unwrap_or(0) << 52);
    while power > 1000 {
        x *= two_to(1000);
        power -= 1000;
    }
    while power < -1000 {
        x *= two_to(-1000);
        power += 1000;
    }
    x * two_to(power)
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

    #[test]
    fn exact_sum_matches_fsum() {
        // (case, values, math.fsum of the values)
        let cases: Vec<(&str, Vec<f64>, f64)> = vec![
            (
                "tenths",
                vec![0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
                1.0,
            ),
            (
                "negative tenths",
                vec![-0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1],
                -1.0,
            ),
            ("cancellation", vec![1e+100, 1.0, -1e+100], 1.0),
            (
                "tiny terms add up",
                vec![1.0, 1e-16, 1e-16],
                1.0000000000000002,
            ),
            ("a tie rounds to even", vec![1.0, 2f64.powi(-53)], 1.0),
            (
                "a sticky bit breaks the tie",
                vec![1.0, 2f64.powi(-53), 2f64.powi(-105)],
                1.0000000000000002,
            ),
            (
                "subnormals",
                vec![5e-324, 5e-324, 2.5e-308],
                2.500000000000001e-308,
            ),
            (
                "mixed signs and scales",
                vec![3.5, -1e-300, 1e+20, -7.25, 1e-20, -1e+20],
                -3.75,
            ),
            (
                "decimals",
                vec![12.34, 0.01, 99.99, 1234.5678, -0.07],
                1346.8378,
            ),
            // math.fsum raises here (an intermediate overflows); the exact sum is 1e308.
            ("no overflow on the way", vec![1e308, 1e308, -1e308], 1e308),
        ];
        for (case, values, want) in cases {
            let mut forward = ExactSum::default();
            values.iter().for_each(|&v| forward.add(v));
            let mut backward = ExactSum::default();
            values.iter().rev().for_each(|&v| backward.add(v));
            assert_eq!(forward.value().to_bits(), want.to_bits(), "{case}");
            assert_eq!(backward.value().to_bits(), want.to_bits(), "{case}");
        }
        let sum = |values: &[f64]| {
            let mut s = ExactSum::default();
            values.iter().for_each(|&v| s.add(v));
            s.value()
        };
        assert_eq!(sum(&[]).to_bits(), 0.0f64.to_bits());
        assert_eq!(sum(&[f64::INFINITY, 1.0]), f64::INFINITY);
        assert!(sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(sum(&[f64::MAX, f64::MAX]), f64::INFINITY);
    }

    #[test]
    fn exact_sum_gives_the_same_bits_for_any_split_and_order() {
        // Values over a wide range of scales and both signs, summed whole and as two parts
        // (one reversed) merged: the same bits every time.
        let mut state: u64 = 7;
        let mut values = Vec::new();
        for _ in 0..5000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let exponent = i32::try_from(state >> 58).unwrap() * 20 - 600;
            let mantissa = f64::from(u32::try_from(state >> 40 & 0xf_ffff).unwrap()) - 500_000.0;
            values.push(mantissa * 2f64.powi(exponent) / 3.0);
        }
        let mut whole = ExactSum::default();
        values.iter().for_each(|&v| whole.add(v));
        for split in [1, 333, 2500, 4999] {
            let mut a = ExactSum::default();
            let mut b = ExactSum::default();
            values[..split].iter().for_each(|&v| a.add(v));
            values[split..].iter().rev().for_each(|&v| b.add(v));
            b.merge(&a);
            assert_eq!(
                b.value().to_bits(),
                whole.value().to_bits(),
                "split {split}"
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
