//! A float64 column checked whole, straight from its values: each value is judged once, then
//! each check is a loop over the floats with its test inlined (no `Value` or `Cell` a value).

use std::borrow::Cow;

use arrow_buffer::NullBuffer;

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
    pub(super) fn check_floats(
        &self,
        (values, nulls): (&[f64], Option<&NullBuffer>),
        (index, first, rows): (usize, usize, std::ops::Range<usize>),
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
        // Rows that are not values (nulls, floats that are not finite): judged one by one as
        // `check_natives` does; no check loop below sees them.
        let mut skipped = vec![0u64; floats.len().div_ceil(64)];
        let mut judge = |i: usize| {
            skipped[i / 64] |= 1 << (i % 64);
            let row = rows.start + i;
            if nulls.is_some_and(|n| n.is_null(at.start + i)) {
                self.null_cell(index, column, (row, &[]), failures, out);
                return;
            }
            // A float that is not finite is never a value: its text (`inf`, `NaN`) is not a
            // number to the text path's parser.
            let x = floats[i];
            debug_assert!(Native::Float(x).value(column.dtype).is_none());
            let text = super::native_text(Native::Float(x));
            self.invalid_cell(column, (row, &text), failures, out);
        };
        let mut valid_words = super::bits::valid_words(nulls, at.start, floats.len());
        let finite = |i: usize| floats[i].is_finite();
        super::bits::each_clear(floats.len(), finite, &mut valid_words, &mut judge);
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
            match check {
                // Each operator its own loop, its compare inlined.
                ColumnCheck::Compare(compare) => match compare.float_bound() {
                    Some(bound @ FloatBound::Gt(_)) => {
                        let passes = |i: usize| bound.passes(floats[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ FloatBound::Ge(_)) => {
                        let passes = |i: usize| bound.passes(floats[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ FloatBound::Lt(_)) => {
                        let passes = |i: usize| bound.passes(floats[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ FloatBound::Le(_)) => {
                        let passes = |i: usize| bound.passes(floats[i]);
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
