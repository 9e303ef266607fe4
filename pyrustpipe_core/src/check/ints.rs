//! An integer, date or datetime column checked whole, straight from its values as `i64`s: each
//! check a loop over them with its test inlined (no `Value` or `Cell` a value).

use std::borrow::Cow;

use super::Block;
use crate::formats::typed::Ordinals;
use crate::ledger::sketch::Sketch;
use crate::rules::compare::OrdinalBound;
use crate::rules::dataset::Gather;
use crate::rules::{ColumnCheck, RuleId};

impl<'a> Block<'a> {
    /// `check_natives` for rows `rows` of an integer, date or datetime column (`ordinals`, those
    /// rows' values; the array's first row is block row `first`) with the same outcome, counts, samples and
    /// statistics in row order; its failures in row order, a row's in check order. False,
    /// having done nothing, where it does not apply: null markers besides the empty text (a
    /// value's text could be one), or a sketch.
    pub(super) fn check_ordinals(
        &self,
        ordinals: &Ordinals<'_>,
        (index, first, rows): (usize, usize, std::ops::Range<usize>),
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
        for (w, &word) in skipped.iter().enumerate() {
            let mut nulls = word;
            while nulls != 0 {
                let row = rows.start + 64 * w + nulls.trailing_zeros() as usize;
                self.null_cell(index, column, (row, &[]), failures, out);
                nulls &= nulls - 1;
            }
        }
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
            match check {
                // Each operator its own loop, its compare inlined.
                ColumnCheck::Compare(compare) => match compare.ordinal_bound() {
                    Some(bound @ OrdinalBound::Gt(_)) => {
                        let passes = |i: usize| bound.passes(values[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ OrdinalBound::Ge(_)) => {
                        let passes = |i: usize| bound.passes(values[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ OrdinalBound::Lt(_)) => {
                        let passes = |i: usize| bound.passes(values[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    Some(bound @ OrdinalBound::Le(_)) => {
                        let passes = |i: usize| bound.passes(values[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                    None => {
                        let passes =
                            |i: usize| value_of(values[i]).is_some_and(|v| compare.passes(&v));
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
                },
                ColumnCheck::Membership(membership) => match membership.int_test() {
                    Some(test) => {
                        let passes = |i: usize| test(values[i]);
                        self.fail_unless(check, place, passes, text_of, failures, out);
                    }
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
