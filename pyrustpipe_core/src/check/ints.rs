//! An integer, date or datetime column checked whole, straight from its values as `i64`s: each
//! check a loop over them with its test inlined (no `Value` or `Cell` a value).

use std::borrow::Cow;

use super::bits::RowTest;
use super::Block;
use crate::formats::typed::Ordinals;
use crate::ledger::sketch::Sketch;
use crate::rules::compare::OrdinalBound;
use crate::rules::dataset::Gather;
use crate::rules::{ColumnCheck, RuleId};

impl<'a> Block<'a> {
    /// `check_natives` for rows `rows` of an integer, date or datetime column (`ordinals`, those
    /// rows' values; the array's first row is block row `first`) with the same outcome, counts,
    /// samples and statistics in row order; its failures in row order, a row's in check order.
    /// False, having done nothing, where it does not apply: null markers besides the empty text
    /// (a value's text could be one), or a sketch.
    #[inline(always)] // into `widest`'s vector build
    pub(super) fn check_ordinals(
        &self,
        ordinals: &Ordinals<'_>,
        (index, first, rows): (usize, usize, std::ops::Range<usize>),
        vector_build: bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut super::BlockFindings,
    ) -> bool {
        if self.text_nulls || self.plan.sketches[index] != Sketch::Nothing {
            return false;
        }
        let column = &self.plan.columns[index];
        let dtype = column.dtype;
        let failed_before = failures.len();
        let values = &ordinals.values[..];
        debug_assert_eq!(
            (ordinals.from, values.len()),
            (rows.start - first, rows.len())
        );
        // Every non-null row is a value; the nulls are judged first, and no check sees them.
        let skipped = super::bits::null_words(ordinals.nulls, ordinals.from, values.len());
        for i in super::bits::set_rows(&skipped) {
            self.null_cell(index, column, (rows.start + i, &[]), failures, out);
        }
        // In the AVX2 build, where the checks it can settle are worth a pass: the least and
        // greatest values (null rows' slots too), and a check that holds for every integer
        // between them has no loop. (The baseline build has no four-lane 64-bit compare.)
        let settled_by_span = |check: &ColumnCheck| match check {
            ColumnCheck::Compare(compare) => usize::from(compare.ordinal_bound().is_some()),
            // A set's loop costs about two of a bound's.
            ColumnCheck::Membership(membership) => 2 * usize::from(membership.int_test().is_some()),
            _ => 0,
        };
        let worth = column.checks.iter().map(settled_by_span).sum::<usize>() >= 2;
        let span = (vector_build && worth)
            .then(|| ordinal_span(values))
            .flatten();
        let is_value = |i: usize| skipped[i / 64] & (1 << (i % 64)) == 0;
        let value_of = |v: i64| ordinals.native(v).value(dtype);
        let gather = self.plan.stats_columns[index];
        if gather != Gather::Nothing {
            for (i, &v) in values.iter().enumerate() {
                if let Some(number) = value_of(v)
                    .filter(|_| is_value(i))
                    .and_then(|v| v.stat_f64())
                {
                    out.stats[index].add(number, gather);
                }
            }
        }
        let place = (index, rows.start, values.len(), &skipped[..]);
        let text_of = |i: usize| Cow::Owned(super::native_text(ordinals.native(values[i])));
        for check in &column.checks {
            if span.is_some_and(|span| holds_across(check, span)) {
                continue;
            }
            match check {
                // Each operator its own loop, its compare inlined.
                ColumnCheck::Compare(compare) => match compare.ordinal_bound() {
                    Some(bound @ OrdinalBound::Gt(_)) => {
                        let passes = OrdinalLanes(values, move |x| bound.passes(x));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ OrdinalBound::Ge(_)) => {
                        let passes = OrdinalLanes(values, move |x| bound.passes(x));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ OrdinalBound::Lt(_)) => {
                        let passes = OrdinalLanes(values, move |x| bound.passes(x));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ OrdinalBound::Le(_)) => {
                        let passes = OrdinalLanes(values, move |x| bound.passes(x));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    None => {
                        let passes =
                            |i: usize| value_of(values[i]).is_some_and(|v| compare.passes(&v));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                },
                ColumnCheck::Membership(membership) => match membership.int_test() {
                    // Each kind of set its own loop, its test inlined.
                    Some(test) => match (test.word_form(), test.two_words_form(), test.bits_form())
                    {
                        (Some(in_word), _, _) => {
                            let passes = OrdinalLanes(values, in_word);
                            self.fail_unless(check, place, passes, text_of, failures, out);
                        }
                        (None, Some(in_two_words), _) => {
                            let passes = OrdinalLanes(values, in_two_words);
                            self.fail_unless(check, place, passes, text_of, failures, out);
                        }
                        (None, None, Some(in_bits)) => {
                            let passes = OrdinalLanes(values, in_bits);
                            self.fail_unless(check, place, passes, text_of, failures, out);
                        }
                        (None, None, None) => {
                            let passes = OrdinalLanes(values, move |x| test.passes(x));
                            self.fail_unless(check, place, passes, text_of, failures, out);
                        }
                    },
                    None => {
                        let passes =
                            |i: usize| value_of(values[i]).is_some_and(|v| check.passes(&v));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                },
                _ => {
                    let passes = |i: usize| value_of(values[i]).is_some_and(|v| check.passes(&v));
                    self.fail_unless(check, place, passes, text_of, failures, out);
                }
            }
        }
        failures[failed_before..].sort_by_key(|&(row, _)| row);
        true
    }
}

/// The least and greatest of `values`, none when empty: a min and a max a value, which the AVX2
/// build does four lanes at a time.
#[inline(always)]
fn ordinal_span(values: &[i64]) -> Option<(i64, i64)> {
    let (mut least, mut most) = (i64::MAX, i64::MIN);
    for &v in values {
        least = least.min(v);
        most = most.max(v);
    }
    (!values.is_empty()).then_some((least, most))
}

/// Whether `check` holds for every value from `least` to `most`: a bound both pass, a set test
/// every integer between them passes (at most 64 of them asked).
fn holds_across(check: &ColumnCheck, (least, most): (i64, i64)) -> bool {
    match check {
        ColumnCheck::Compare(compare) => {
            (compare.ordinal_bound()).is_some_and(|bound| bound.passes(least) && bound.passes(most))
        }
        ColumnCheck::Membership(membership) => {
            let few = most.checked_sub(least).is_some_and(|span| span < 64);
            few && (membership.int_test())
                .is_some_and(|test| (least..=most).all(|v| test.passes(v)))
        }
        _ => false,
    }
}

/// A test of each value, as a row test: a word of rows is a loop over its 64 values with no
/// bounds check a value (an index into `values` has one).
struct OrdinalLanes<'v, Test>(&'v [i64], Test);

impl<Test: Fn(i64) -> bool> RowTest for OrdinalLanes<'_, Test> {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        (self.1)(self.0[i])
    }

    #[inline(always)]
    fn word(&self, start: usize) -> u64 {
        let values: &[i64; 64] = (self.0[start..start + 64]).try_into().expect("64 values");
        // In `widest`'s AVX2 build this loop is four-lane compares and mask moves (SSE2 has no
        // 64-bit compare: there each value is a scalar compare whatever the loop's form).
        let mut word = 0u64;
        for (i, &x) in values.iter().enumerate() {
            word |= u64::from((self.1)(x)) << i;
        }
        word
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A word of integer tests holds exactly the rows the test holds one value at a time,
        /// for every operator and bound, at every start.
        #[test]
        fn a_word_of_values_holds_what_each_value_holds(
            values in prop::collection::vec(
                prop_oneof![-3i64..3, Just(i64::MIN), Just(i64::MAX), any::<i64>()],
                64..150,
            ),
            bound in prop_oneof![-3i64..3, any::<i64>()],
            op in 0..4usize,
        ) {
            let ops = [OrdinalBound::Gt, OrdinalBound::Ge, OrdinalBound::Lt, OrdinalBound::Le];
            let bound = ops[op](bound);
            let lanes = OrdinalLanes(&values, move |x| bound.passes(x));
            let one = |i: usize| bound.passes(values[i]);
            for start in 0..=values.len() - 64 {
                prop_assert_eq!(lanes.word(start), one.word(start));
            }
        }
    }
}
