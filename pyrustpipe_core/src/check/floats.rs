//! A float64 column checked whole, straight from its values: each value is judged once, then
//! each check is a loop over the floats with its test inlined (no `Value` or `Cell` a value).

use std::borrow::Cow;

use arrow_buffer::NullBuffer;
use wide::f64x4;

use super::bits::RowTest;
use super::Block;
use crate::ledger::sketch::Sketch;
use crate::rules::compare::FloatBound;
use crate::rules::dataset::Gather;
use crate::rules::{ColumnCheck, RuleId};
use crate::value::{Native, Value};

impl<'a> Block<'a> {
    /// `check_natives` for rows `rows` of a float64 column (`values`, `nulls`; the array's
    /// first row is block row `first`) with the same outcome, counts, samples and statistics
    /// in row order; its failures in row order, a row's in check order. False, having done
    /// nothing, where it does not apply: null markers besides the empty text, or a sketch.
    #[inline(always)] // into `widest`'s vector build
    pub(super) fn check_floats(
        &self,
        (values, nulls): (&[f64], Option<&NullBuffer>),
        (index, first, rows): (usize, usize, std::ops::Range<usize>),
        vector_build: bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut super::BlockFindings,
    ) -> bool {
        if self.text_nulls || self.plan.sketches[index] != Sketch::Nothing {
            return false;
        }
        let column = &self.plan.columns[index];
        let gather = self.plan.stats_columns[index];
        let failed_before = failures.len();
        let at = rows.start - first..rows.end - first;
        let floats = &values[at.clone()];
        // In the AVX2 build the slice's span comes first, one pass: where both its ends are
        // finite every float is (null rows' slots too), and a bound both ends pass holds for
        // every value, so neither the finiteness loop nor that bound's loop runs. (The
        // baseline build keeps its loops: the span was measured in the AVX2 build only.)
        let span = (vector_build.then(|| float_span(floats)))
            .filter(|(least, most)| least.is_finite() && most.is_finite());
        // Rows that are not values (nulls, floats that are not finite): judged one by one as
        // `check_natives` does; no check loop below sees them.
        let skipped = if span.is_some() {
            let skipped = super::bits::null_words(nulls, at.start, floats.len());
            for i in super::bits::set_rows(&skipped) {
                self.null_cell(index, column, (rows.start + i, &[]), failures, out);
            }
            skipped
        } else {
            let mut skipped = vec![0u64; floats.len().div_ceil(64)];
            let mut judge = |i: usize| {
                skipped[i / 64] |= 1 << (i % 64);
                let row = rows.start + i;
                if nulls.is_some_and(|n| n.is_null(at.start + i)) {
                    self.null_cell(index, column, (row, &[]), failures, out);
                    return;
                }
                // A float that is not finite is never a value: its text (`inf`, `NaN`) is not
                // a number to the text path's parser.
                let x = floats[i];
                debug_assert!(Native::Float(x).value(column.dtype).is_none());
                let text = super::native_text(Native::Float(x));
                self.invalid_cell(column, (row, &text), failures, out);
            };
            let mut valid_words = super::bits::valid_words(nulls, at.start, floats.len());
            let finite = FloatLanes {
                floats,
                one: f64::is_finite,
                four: finite_four,
                vector_build,
            };
            super::bits::each_clear(floats.len(), finite, &mut valid_words, &mut judge);
            skipped
        };
        if gather != Gather::Nothing {
            for (i, &x) in floats.iter().enumerate() {
                if skipped[i / 64] & (1 << (i % 64)) == 0 {
                    out.stats[index].add(x, gather);
                }
            }
        }
        let place = (index, rows.start, floats.len(), &skipped[..]);
        let text_of = |i: usize| Cow::Owned(super::native_text(Native::Float(floats[i])));
        for check in &column.checks {
            if span.is_some_and(|span| holds_across(check, span)) {
                continue;
            }
            match check {
                // Each operator its own loop, its compare inlined.
                ColumnCheck::Compare(compare) => match compare.float_bound() {
                    Some(bound @ FloatBound::Gt(_)) => {
                        let passes = bound_lanes(floats, bound, vector_build);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ FloatBound::Ge(_)) => {
                        let passes = bound_lanes(floats, bound, vector_build);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ FloatBound::Lt(_)) => {
                        let passes = bound_lanes(floats, bound, vector_build);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ FloatBound::Le(_)) => {
                        let passes = bound_lanes(floats, bound, vector_build);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    None => {
                        let passes = |i: usize| compare.passes(&Value::Float(floats[i]));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                },
                _ => {
                    let passes = |i: usize| check.passes(&Value::Float(floats[i]));
                    self.fail_unless(check, place, passes, text_of, failures, out);
                }
            }
        }
        failures[failed_before..].sort_by_key(|&(row, _)| row);
        true
    }
}

/// Whether `check` holds for every float from `least` to `most`: a bound both pass.
fn holds_across(check: &ColumnCheck, (least, most): (f64, f64)) -> bool {
    let ColumnCheck::Compare(compare) = check else {
        return false;
    };
    (compare.float_bound()).is_some_and(|bound| bound.passes(least) && bound.passes(most))
}

/// The least and greatest of `floats` where every one is finite, else NaNs (`floats` empty
/// too). Four lanes at a time: a lane's least is `x < least ? x : least`, which is one `minpd`
/// and passes over a NaN, and `x * 0` (0 for a finite float, NaN for a NaN or an infinity)
/// summed tells whether any was not finite. (A minimum with Rust's NaN rule is not vectorised.)
/// Where -0 and +0 tie either may stand for both: a bound does not tell them apart.
#[inline(always)]
pub(super) fn float_span(floats: &[f64]) -> (f64, f64) {
    let mut least = [f64::INFINITY; 4];
    let mut most = [f64::NEG_INFINITY; 4];
    let mut zero_if_finite = [0.0; 4];
    let mut take = |x: &[f64; 4]| {
        least = std::array::from_fn(|k| if x[k] < least[k] { x[k] } else { least[k] });
        most = std::array::from_fn(|k| if x[k] > most[k] { x[k] } else { most[k] });
        zero_if_finite = std::array::from_fn(|k| zero_if_finite[k] + x[k] * 0.0);
    };
    // Sixteen a step: the loop's own instructions (a quad a step had two register copies)
    // once in four quads.
    let (sixteens, rest) = floats.as_chunks::<16>();
    for sixteen in sixteens {
        sixteen.as_chunks::<4>().0.iter().for_each(&mut take);
    }
    let (quads, rest) = rest.as_chunks::<4>();
    quads.iter().for_each(&mut take);
    rest.iter().for_each(|&x| take(&[x; 4]));
    if floats.is_empty() || zero_if_finite.iter().any(|&sum| sum != 0.0) {
        return (f64::NAN, f64::NAN);
    }
    (
        least.into_iter().fold(f64::INFINITY, f64::min),
        most.into_iter().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Rows of float values under a test in two forms that agree: `one(x)`, and `four(x)` giving
/// four lanes' outcomes as bits (lane 0 lowest). A whole word of rows is sixteen four-lane
/// tests and their masks, where one value at a time each row took a compare and a gather.
pub(super) struct FloatLanes<'f, One, Four> {
    pub(super) floats: &'f [f64],
    pub(super) one: One,
    pub(super) four: Four,
    /// In `widest`'s AVX2 build a word is `one` a value, which the compiler makes four-lane
    /// compares of its own; in the baseline build it does not, and a word is sixteen `four`s.
    pub(super) vector_build: bool,
}

/// `bound` on `floats`, in both forms.
#[inline(always)]
fn bound_lanes(
    floats: &[f64],
    bound: FloatBound,
    vector_build: bool,
) -> FloatLanes<'_, impl Fn(f64) -> bool, impl Fn(f64x4) -> u32> {
    FloatLanes {
        floats,
        one: move |x| bound.passes(x),
        four: move |x| bound.passes_four(x),
        vector_build,
    }
}

impl<One: Fn(f64) -> bool, Four: Fn(f64x4) -> u32> RowTest for FloatLanes<'_, One, Four> {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        (self.one)(self.floats[i])
    }

    #[inline(always)]
    fn word(&self, start: usize) -> u64 {
        let floats: &[f64; 64] = (self.floats[start..start + 64]).try_into().expect("64");
        let mut held = 0u64;
        if self.vector_build {
            for (i, &x) in floats.iter().enumerate() {
                held |= u64::from((self.one)(x)) << i;
            }
        } else {
            for (at, &quad) in floats.as_chunks::<4>().0.iter().enumerate() {
                held |= u64::from((self.four)(f64x4::new(quad))) << (4 * at);
            }
        }
        held
    }
}

/// Whether each of four floats is finite (bit `k` for lane `k`): below infinity in size, which
/// a NaN is not.
#[inline(always)]
pub(super) fn finite_four(x: f64x4) -> u32 {
    x.abs().simd_lt(f64x4::splat(f64::INFINITY)).to_bitmask()
}

#[cfg(test)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A float near the small integers a bound is drawn from, at a sign or size edge, not
    /// finite, or any at all.
    pub(in crate::check) fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-3i8..3).prop_map(f64::from),
            prop::sample::select(vec![
                0.0,
                -0.0,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::MAX,
                f64::MIN,
                f64::MIN_POSITIVE,
            ]),
            any::<f64>(),
        ]
    }

    proptest! {
        /// A span's ends are finite exactly when every float is; then they are floats of the
        /// slice, every float lies between them, and a bound both ends pass every float passes.
        #[test]
        fn a_span_holds_every_float(
            floats in prop::collection::vec(float(), 0..100),
            bound in float(),
            op in 0..4usize,
        ) {
            let bound = [FloatBound::Gt, FloatBound::Ge, FloatBound::Lt, FloatBound::Le][op](bound);
            let (least, most) = float_span(&floats);
            let finite = least.is_finite() && most.is_finite();
            prop_assert_eq!(finite, !floats.is_empty() && floats.iter().all(|x| x.is_finite()));
            if finite {
                prop_assert!(floats.contains(&least) && floats.contains(&most));
                prop_assert!(floats.iter().all(|&x| least <= x && x <= most));
                if bound.passes(least) && bound.passes(most) {
                    prop_assert!(floats.iter().all(|&x| bound.passes(x)));
                }
            }
        }

        /// A word of tests, in either build's form, holds exactly the rows that the one-value
        /// test, gathered row by row, holds: for every operator and for finiteness.
        #[test]
        fn four_lanes_agree_with_one_value_at_a_time(
            floats in prop::collection::vec(float(), 64..200),
            bound in float(),
            op in 0..4usize,
        ) {
            let bound = [FloatBound::Gt, FloatBound::Ge, FloatBound::Lt, FloatBound::Le][op](bound);
            let one_bound = |i: usize| bound.passes(floats[i]);
            let one_finite = |i: usize| floats[i].is_finite();
            for vector_build in [false, true] {
                let lanes = bound_lanes(&floats, bound, vector_build);
                let finite = FloatLanes {
                    floats: &floats,
                    one: f64::is_finite,
                    four: finite_four,
                    vector_build,
                };
                for start in 0..=floats.len() - 64 {
                    prop_assert_eq!(lanes.word(start), one_bound.word(start));
                    prop_assert_eq!(finite.word(start), one_finite.word(start));
                }
            }
        }
    }
}
